"""Memory as gunicorn workers are added, read from ``results["workers"]``: one rule for each figure.

What one more worker costs is the slope of the server's total PSS over the worker counts, over
anonymous pages where the kernel splits them out (the file pages' share moves with whatever else
runs on the machine), else over all of PSS. The report and the claims read it here.
"""

from __future__ import annotations

from benchmarks.analysis.aggregate import median, ordered, rank
from benchmarks.results.scaling import Workers, WorkersFit
from benchmarks.results.vocabulary import TARGET_NAMES, VARIANTS


def fits(workers: Workers) -> list[WorkersFit]:
    """Return the fits in report order: app, variant, preload on first, freeze off first."""
    return sorted(
        workers["fits"],
        key=lambda f: (
            rank(TARGET_NAMES, f["app"]),
            rank(VARIANTS, f["variant"]),
            not f["preload"],
            f["freeze"],
        ),
    )


def charted(workers: Workers) -> dict[str, list[WorkersFit]]:
    """Return each model variant's preloaded fits, where they span two worker counts or more
    (the servers without preload, ``--full``, are in the table only: four lines a chart)."""
    variants = ordered({f["variant"] for f in workers["fits"]}, VARIANTS)
    by = {v: [f for f in fits(workers) if f["variant"] == v and f["preload"]] for v in variants}
    return {v: shown for v, shown in by.items() if len({n for f in shown for n in f["counts"]}) > 1}


def totals(fit: WorkersFit) -> list[tuple[int, float]]:
    """Return the server's total PSS, MiB, at each worker count of the fit."""
    return list(zip(fit["counts"], fit["total_pss_mib"], strict=True))


def marginal(fit: WorkersFit, anonymous: bool | None = None) -> float:
    """Return what one more worker costs, MiB: over anonymous pages where measured (and where
    ``anonymous`` does not say otherwise), else over all of PSS."""
    anon = fit["marginal_anon_mib"]
    return anon if anon is not None and anonymous is not False else fit["marginal_mib"]


def slope_range(fit: WorkersFit) -> float | None:
    """Return how far that slope moved between rounds, max - min (None with one round)."""
    anonymous = fit["marginal_anon_mib"] is not None
    slopes = fit["marginal_anon_mib_rounds"] if anonymous else fit["marginal_mib_rounds"]
    return max(slopes) - min(slopes) if slopes and len(slopes) > 1 else None


def freeze_savings(workers: Workers) -> list[tuple[str, str, float, float | None]]:
    """Return (app, variant, MiB per added worker saved by gc.freeze(), noise MiB) where both
    settings ran preloaded.

    The saving is the difference of the two ``marginal`` slopes; the noise is the larger of the
    two slopes' range between rounds (None with one round): a smaller saving is not told apart
    from chance.
    """
    found: list[tuple[str, str, float, float | None]] = []
    by = {(f["app"], f["variant"], f["preload"], f["freeze"]): f for f in fits(workers)}
    for (app, variant, preload, freeze), off in by.items():
        on = by.get((app, variant, preload, True))
        if freeze or not preload or on is None:
            continue
        ranges = [r for r in (slope_range(off), slope_range(on)) if r is not None]
        found.append((app, variant, marginal(off) - marginal(on), max(ranges, default=None)))
    return found


def worker_uss(workers: Workers, fit: WorkersFit) -> float | None:
    """Return the median USS of one worker at the fit's largest count, over rounds and workers."""
    setting = (fit["app"], fit["variant"], fit["preload"], fit["freeze"], max(fit["counts"]))
    return median(
        uss
        for row in workers["rows"]
        if (row["app"], row["variant"], row["preload"], row["freeze"], row["workers"]) == setting
        for uss in row["worker_uss_mib"]
    )
