"""The section on memory as gunicorn workers are added (``python -m benchmarks workers``).

It reads ``results["workers"]`` alone: one fit per app, model variant, preload and gc.freeze()
setting, with the total PSS at each worker count, the slope (what one more worker costs) and how
many workers a GiB holds. ``text`` prints the same blocks for the terminal.
"""

from __future__ import annotations

from benchmarks.analysis.workers import fits, freeze_savings, worker_uss
from benchmarks.report import charts, plain
from benchmarks.report.formatting import (
    NOT_MEASURED,
    TINTS,
    colour,
    fmt_mib,
    fmt_share,
    label,
    ordered,
)
from benchmarks.report.view import Block, Chart, Inline, Para, Run, Section, Table, code
from benchmarks.results.scaling import Workers, WorkersFit
from benchmarks.results.vocabulary import VARIANTS

# Each app's colour for the light model with gc.freeze(), its framework's tint for the heavy one,
# and other hues without the freeze; the legend names every line.
FREEZE_OFF_COLOURS = {
    ("flask", "light"): "#c0392b",
    ("flask", "heavy"): "#e59866",
    ("django", "light"): "#7d3c98",
    ("django", "heavy"): "#c39bd3",
}


def _colour(fit: WorkersFit) -> str:
    if not fit["freeze"]:
        return FREEZE_OFF_COLOURS.get((fit["app"], fit["variant"]), colour(fit["app"]))
    if fit["variant"] == "heavy":
        return TINTS.get(fit["app"], colour(fit["app"]))
    return colour(fit["app"])


def _freeze(fit: WorkersFit) -> str:
    return "gc.freeze()" if fit["freeze"] else "no freeze"


def _spread(fit: WorkersFit) -> str:
    anon = fit["spread_anon"]
    return fmt_share(fit["spread"]) + ("" if anon is None else f"; {anon:.1%}")


def _chart(workers: Workers) -> list[Block]:
    """Return one chart per model variant: a line per app and gc.freeze() setting, preloaded.

    The servers without preload (``--full``) are in the table only: one chart keeps to four
    lines, so its legend fits on one row.
    """
    blocks: list[Block] = []
    for variant in ordered({f["variant"] for f in fits(workers)}, VARIANTS):
        shown = [f for f in fits(workers) if f["variant"] == variant and f["preload"]]
        counts = sorted({n for f in shown for n in f["counts"]})
        if len(counts) < 2:
            continue
        series = [
            charts.Series(
                f"{label(f['app'])}, {_freeze(f)}",
                _colour(f),
                [dict(zip(f["counts"], f["total_pss_mib"], strict=True)).get(n) for n in counts],
            )
            for f in shown
        ]
        title = f"Total PSS of the server against gunicorn workers ({variant} model, preloaded)"
        axes = charts.Axes(title, "MiB (master and workers)", "gunicorn workers", "MiB")
        svg = charts.line_chart(axes, counts, series, log_x=False)
        blocks.append(Chart(svg, title + "; the slope of each line is what one more worker costs."))
    return blocks


def _table(workers: Workers) -> Table:
    shown = fits(workers)
    counts = sorted({n for f in shown for n in f["counts"]})
    headers = ["App", "Variant", "Setting", *(f"PSS {n} w MiB" for n in counts)]
    headers += ["MiB per added worker", "Anonymous MiB per added worker", "Workers per GiB"]
    headers += ["USS per worker MiB", "Spread between rounds"]
    rows: list[list[Inline]] = []
    for f in shown:
        totals = dict(zip(f["counts"], f["total_pss_mib"], strict=True))
        setting = f"{'preload' if f['preload'] else 'no preload'}, {_freeze(f)}"
        rows.append(
            [
                label(f["app"]),
                f["variant"],
                setting,
                *(fmt_mib(totals.get(n)) for n in counts),
                fmt_mib(f["marginal_mib"]),
                fmt_mib(f["marginal_anon_mib"]),
                fmt_mib(f["workers_per_gib"], 0),
                fmt_mib(worker_uss(workers, f)),
                _spread(f),
            ]
        )
    return Table(headers, rows, frozenset(range(3, len(headers))))


def blocks(workers: Workers) -> list[Block]:
    """Return the charts, the table of fits, how they were measured and what gc.freeze() saves."""
    found: list[Block] = [
        *_chart(workers),
        _table(workers),
        Para(
            (
                "Measured by ",
                code("python -m benchmarks workers"),
                f" ({workers['mode']} plan, {workers['rounds']} round(s)): each app served by "
                "gunicorn on the server CPUs, starting with the fewest workers and given one "
                "more at a time (SIGTTIN), the master unchanged. At each count every worker "
                "first served one-row predictions (batches of "
                f"{workers['warmup_requests_per_worker']} per worker until each worker's CPU "
                "time had moved), then the PSS and USS of "
                "the master and of every worker were read three times and their medians kept. "
                "PSS at n workers is the sum over the master and the workers; MiB per added "
                "worker is the least-squares slope of that sum over the counts. Anonymous: "
                "the same slope over anonymous pages only (Pss_Anon), which only the server's "
                "own processes share; the file pages (the shared libraries) are shared with "
                "every process on the machine that maps them, so their share, and the total "
                "PSS, moves with what else runs. Workers per GiB is 1024 divided by the "
                "anonymous slope. USS per "
                "worker is what one worker holds alone at the largest count. The spread is the "
                "largest (max - min) / median of a total between rounds (PSS; anonymous).",
            )
        ),
    ]
    savings = [
        f"{label(app)} {variant} {saved:+.2f} MiB ("
        + ("one round: no noise figure" if noise is None else f"noise {noise:.2f} MiB")
        + ")"
        for app, variant, saved, noise in freeze_savings(workers)
    ]
    if savings:
        found.append(
            Para(
                "gc.freeze() before forking (GUNICORN_GC_FREEZE) saves, per added worker "
                "(anonymous pages; the noise is the slope's range between rounds): "
                + "; ".join(savings)
                + "."
            )
        )
    unserved = sum(not all(row["served"]) for row in workers["rows"])
    if unserved:
        found.append(
            Para(f"{unserved} reading(s) include a worker whose CPU time never moved: not served.")
        )
    return found


def _workers(run: Run) -> Section:
    workers = run.results.get("workers")
    if not workers or not workers.get("fits"):
        return Section("Memory per worker", [Para(NOT_MEASURED)])
    return Section("Memory per worker", blocks(workers))


def text(workers: Workers) -> str:
    """Return the figures as plain text for the terminal."""
    heading = (
        f"{workers['mode']} plan, {workers['rounds']} round(s), servers on CPU "
        f"{workers['server_cpus']}, {workers['seconds']:.0f} s"
    )
    return plain.render([Para(heading), *blocks(workers)])


SECTIONS = (_workers,)
