"""Memory as gunicorn workers are added, read from ``results["workers"]``: one rule for each figure.

What one more worker costs is the slope of the server's total PSS over the worker counts, over
anonymous pages where the kernel splits them out (the file pages' share moves with whatever else
runs on the machine), else over all of PSS. The report and the claims read it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.analysis.aggregate import median, rank
from benchmarks.results.vocabulary import TARGET_NAMES, VARIANTS

Fit = Mapping[str, Any]


def fits(workers: Mapping[str, Any]) -> list[Fit]:
    """Return the fits in report order: app, variant, preload on first, freeze off first."""
    return sorted(
        workers.get("fits") or [],
        key=lambda f: (
            rank(TARGET_NAMES, f["app"]),
            rank(VARIANTS, f["variant"]),
            not f["preload"],
            f["freeze"],
        ),
    )


def marginal(fit: Fit, anonymous: bool | None = None) -> float:
    """Return what one more worker costs, MiB: over anonymous pages where measured (or where
    ``anonymous`` says), else over all of PSS."""
    if anonymous is None:
        anonymous = fit.get("marginal_anon_mib") is not None
    return fit["marginal_anon_mib"] if anonymous else fit["marginal_mib"]


def slope_range(fit: Fit) -> float | None:
    """Return how far that slope moved between rounds, max - min (None with one round)."""
    anonymous = fit.get("marginal_anon_mib") is not None
    slopes = fit.get("marginal_anon_mib_rounds" if anonymous else "marginal_mib_rounds")
    return max(slopes) - min(slopes) if slopes and len(slopes) > 1 else None


def freeze_savings(workers: Mapping[str, Any]) -> list[tuple[str, str, float, float | None]]:
    """Return (app, variant, MiB per added worker saved by gc.freeze(), noise MiB) where both
    settings ran preloaded.

    The saving is the difference of the two ``marginal`` slopes; the noise is the larger of the
    two slopes' range between rounds (None with one round): a smaller saving is not told apart
    from chance.
    """
    found = []
    by = {(f["app"], f["variant"], f["preload"], f["freeze"]): f for f in fits(workers)}
    for (app, variant, preload, freeze), off in by.items():
        on = by.get((app, variant, preload, True))
        if freeze or not preload or on is None:
            continue
        ranges = [r for r in (slope_range(off), slope_range(on)) if r is not None]
        found.append((app, variant, marginal(off) - marginal(on), max(ranges, default=None)))
    return found


def worker_uss(workers: Mapping[str, Any], fit: Fit) -> float | None:
    """Return the median USS of one worker at the fit's largest count, over rounds and workers."""
    setting = (fit["app"], fit["variant"], fit["preload"], fit["freeze"], max(fit["counts"]))
    return median(
        uss
        for row in workers.get("rows", [])
        if (row["app"], row["variant"], row["preload"], row["freeze"], row["workers"]) == setting
        for uss in row["worker_uss_mib"]
    )
