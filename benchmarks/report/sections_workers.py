"""The section on memory as gunicorn workers are added (``python -m benchmarks workers``).

It reads ``results["workers"]`` alone: one fit per app, model variant, preload and gc.freeze()
setting, with the total PSS at each worker count, the slope (what one more worker costs) and how
many workers a GiB holds. ``text.workers`` prints the same blocks for the terminal.
"""

from __future__ import annotations

from benchmarks.analysis.aggregate import Run
from benchmarks.analysis.workers import charted, fits, freeze_savings, totals, worker_uss
from benchmarks.report import charts, view
from benchmarks.report.formatting import TINTS, colour, fmt_mib, fmt_share, fmt_us, label, prose
from benchmarks.results.scaling import Workers, WorkersFit

# Each app's colour for the light model with gc.freeze(), its framework's tint for the heavy one,
# and other hues without the freeze; the legend names every line.
FREEZE_OFF_COLOURS = {
    ("flask", "light"): "#c0392b",
    ("flask", "heavy"): "#e59866",
    ("django", "light"): "#7d3c98",
    ("django", "heavy"): "#c39bd3",
}


def _colour(fit: WorkersFit) -> str:
    app, own = fit["app"], colour(fit["app"])
    if not fit["freeze"]:
        return FREEZE_OFF_COLOURS.get((app, fit["variant"]), own)
    return TINTS.get(app, own) if fit["variant"] == "heavy" else own


def _freeze(fit: WorkersFit) -> str:
    return "gc.freeze()" if fit["freeze"] else "no freeze"


def _chart(workers: Workers) -> list[view.Block]:
    """Return one chart per model variant: a line per app and gc.freeze() setting, preloaded."""
    return [
        charts.curves(charts.axes("workers.chart", variant=variant), [*map(_curve, shown)])
        for variant, shown in charted(workers).items()
    ]


def _curve(fit: WorkersFit) -> charts.Curve:
    return charts.Curve(f"{label(fit['app'])}, {_freeze(fit)}", _colour(fit), totals(fit))


def _table(workers: Workers) -> view.Table:
    counts = sorted({n for f in fits(workers) for n in f["counts"]})

    def pss(n: int) -> view.Column[WorkersFit]:
        return view.Column(f"PSS {n} w MiB", lambda f: fmt_mib(dict(totals(f)).get(n)), True)

    def spread(fit: WorkersFit) -> str:
        anon = fit["spread_anon"]
        return fmt_share(fit["spread"]) + ("" if anon is None else f"; {anon:.1%}")

    columns: list[view.Column[WorkersFit]] = [
        view.Column("App", lambda f: label(f["app"])),
        view.Column("Variant", lambda f: f["variant"]),
        view.Column("Setting", lambda f: f"{'' if f['preload'] else 'no '}preload, {_freeze(f)}"),
        *map(pss, counts),
        view.Column("MiB per added worker", lambda f: fmt_mib(f["marginal_mib"]), True),
        view.Column(
            "Anonymous MiB per added worker", lambda f: fmt_mib(f["marginal_anon_mib"]), True
        ),
        view.Column("Workers per GiB", lambda f: fmt_us(f["workers_per_gib"]), True),
        view.Column("USS per worker MiB", lambda f: fmt_mib(worker_uss(workers, f)), True),
        view.Column("Spread between rounds", spread, True),
    ]
    return view.tabulate(columns, fits(workers))


def blocks(workers: Workers) -> list[view.Block]:
    """Return the charts, the table of fits, how they were measured and what gc.freeze() saves."""
    found: list[view.Block] = [
        *_chart(workers),
        _table(workers),
        view.Para(prose("workers.plan", w=workers)),
    ]
    if savings := freeze_savings(workers):
        saved = "; ".join(
            f"{label(app)} {variant} {mib:+.2f} MiB ("
            + ("one round: no noise figure" if noise is None else f"noise {noise:.2f} MiB")
            + ")"
            for app, variant, mib, noise in savings
        )
        found.append(view.Para(prose("workers.freeze", saved=saved)))
    if unserved := sum(not all(row["served"]) for row in workers["rows"]):
        found.append(view.Para(prose("workers.unserved", unserved=unserved)))
    return found


def _fitted(run: Run) -> Workers | None:
    return found if (found := run.results.get("workers")) and found["fits"] else None


SECTIONS = (view.part("Memory per worker", _fitted, blocks),)
