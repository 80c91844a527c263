"""Sections on how the apps scale: capacity (open-loop req/s at the p99 target, overload, and
cost per million), and memory as gunicorn workers are added (``python -m benchmarks workers``:
one fit per app, model variant, preload and gc.freeze() setting, with the total PSS at each
worker count, the slope, what one more worker costs, and how many workers a GiB holds)."""

from __future__ import annotations

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import workers as fitted
from benchmarks.analysis.aggregate import Run
from benchmarks.cpus import CpuSet
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Column, Para
from benchmarks.results.scaling import CapacityPoint, CapacityResults, Workers, WorkersFit

Summary = tuple[str, int, capacities.Summary]  # app, workers, the medians over its searches


def _usd(value: float | None) -> str:
    return f.MISSING if value is None else f"${value:,.4f}"


def _capped(s: Summary) -> str:
    return f.fmt_rps(s[2]["capacity_rps"]) + (" (capped)" if s[2]["capped"] else "")


COST_COLUMNS: list[Column[Summary]] = [
    Column("App", lambda s: f.label(s[0])),
    Column("Workers", lambda s: str(s[1]), True),
    Column("Capacity, req/s", _capped, True),
    Column("Trials", lambda s: ", ".join(f.fmt_rps(t or None) for t in s[2]["trials"]), True),
    Column("p99 ms there", lambda s: f.fmt_ms(s[2]["p99_ms_at_capacity"]), True),
    Column("CPU-s per million", lambda s: f.fmt_rps(s[2]["cpu_s_per_million"]), True),
    Column("$ per million (CPU used)", lambda s: _usd(s[2]["usd_per_million"]), True),
    Column("$ per million (vCPUs held)", lambda s: _usd(s[2]["usd_per_million_held"]), True),
]
# Each point beside the search, with where it was measured: "overload" or "nginx".
POINT_COLUMNS: list[Column[tuple[str, CapacityPoint]]] = [
    Column("App", lambda w: f.label(w[1]["app"])),
    Column("Where", lambda w: w[0]),
    Column("Offered", lambda w: f"{w[1]['factor']:g}x", True),
    Column("Offered req/s", lambda w: f.fmt_rps(w[1]["offered_rps"]), True),
    Column("Served req/s", lambda w: f.fmt_rps(w[1]["rps"]), True),
    Column("p99 ms", lambda w: f.fmt_ms(w[1]["latency_ms"]["p99"]), True),
    Column("Failed", lambda w: str(w[1]["failures"]), True),
]


def _capacity_chart(capacity: CapacityResults, summary: list[Summary]) -> list[view.Block]:
    first = capacities.first_workers(capacity)
    marks = {app: s["capacity_rps"] for app, workers, s in summary if workers == first}
    curves = [
        charts.Curve(f.label(app), f.colour(app), points, marks.get(app))
        for app in capacities.apps(capacity)
        for points in [capacities.latency_curve(capacity, app, first)]
    ]
    axes = charts.axes("capacity.chart", c=capacity, first=first)
    return [charts.curves(axes, curves, target=capacity["latency_ms"])] if curves else []


def capacity_blocks(capacity: CapacityResults) -> list[view.Block]:
    """Return the latency curves, each app's capacity and cost, and the overload points."""
    by = sorted(capacities.summary(capacity).items(), key=lambda kv: (kv[0][1], kv[0][0]))
    summary = [(app, workers, s) for (app, workers), s in by]
    cpus = len(CpuSet.parse(capacity["server_cpus"]))
    counts = ", ".join(map(str, capacity["worker_counts"]))
    points = [("overload", p) for p in capacity["overload"]]
    points += [("nginx", p) for p in capacity["proxied"]]
    found: list[view.Block] = [
        *_capacity_chart(capacity, summary),
        view.tabulate(COST_COLUMNS, summary),
        Para(f.prose("capacity.rule", c=capacity)),
        Para(f.prose("capacity.where", c=capacity, cpus=cpus, counts=counts)),
    ]
    if points:
        timeout = Para(f"A request unanswered after {capacity['timeout_s']:g} s fails.")
        found += [view.tabulate(POINT_COLUMNS, points), timeout]
    return found


# Each app's colour for the light model with gc.freeze(), its framework's tint for the heavy one,
# and other hues without the freeze; the legend names every line.
FREEZE_OFF_COLOURS = {
    ("flask", "light"): "#c0392b",
    ("flask", "heavy"): "#e59866",
    ("django", "light"): "#7d3c98",
    ("django", "heavy"): "#c39bd3",
}


def _colour(fit: WorkersFit) -> str:
    app, own = fit["app"], f.colour(fit["app"])
    if not fit["freeze"]:
        return FREEZE_OFF_COLOURS.get((app, fit["variant"]), own)
    return f.TINTS.get(app, own) if fit["variant"] == "heavy" else own


def _freeze(fit: WorkersFit) -> str:
    return "gc.freeze()" if fit["freeze"] else "no freeze"


def _curve(fit: WorkersFit) -> charts.Curve:
    return charts.Curve(f"{f.label(fit['app'])}, {_freeze(fit)}", _colour(fit), fitted.totals(fit))


def _spread(fit: WorkersFit) -> str:
    anon = fit["spread_anon"]
    return f.fmt_share(fit["spread"]) + ("" if anon is None else f"; {anon:.1%}")


def _fits(workers: Workers) -> view.Table:
    def pss(n: int) -> Column[WorkersFit]:
        return Column(f"PSS {n} w MiB", lambda w: f.fmt_mib(dict(fitted.totals(w)).get(n)), True)

    columns: list[Column[WorkersFit]] = [
        Column("App", lambda w: f.label(w["app"])),
        Column("Variant", lambda w: w["variant"]),
        Column("Setting", lambda w: f"{'' if w['preload'] else 'no '}preload, {_freeze(w)}"),
        *map(pss, sorted({n for w in fitted.fits(workers) for n in w["counts"]})),
        Column("MiB per added worker", lambda w: f.fmt_mib(w["marginal_mib"]), True),
        Column("Anonymous MiB per added worker", lambda w: f.fmt_mib(w["marginal_anon_mib"]), True),
        Column("Workers per GiB", lambda w: f.fmt_us(w["workers_per_gib"]), True),
        Column("USS per worker MiB", lambda w: f.fmt_mib(fitted.worker_uss(workers, w)), True),
        Column("Spread between rounds", _spread, True),
    ]
    return view.tabulate(columns, fitted.fits(workers))


def workers_blocks(workers: Workers) -> list[view.Block]:
    """Return one chart per model variant (a line per app and gc.freeze() setting, preloaded),
    the table of fits, how they were measured and what gc.freeze() saves."""
    found: list[view.Block] = [
        charts.curves(charts.axes("workers.chart", variant=variant), [*map(_curve, shown)])
        for variant, shown in fitted.charted(workers).items()
    ]
    found += [_fits(workers), Para(f.prose("workers.plan", w=workers))]
    if savings := fitted.freeze_savings(workers):
        saved = "; ".join(
            f"{f.label(app)} {variant} {mib:+.2f} MiB ("
            + ("one round: no noise figure" if noise is None else f"noise {noise:.2f} MiB")
            + ")"
            for app, variant, mib, noise in savings
        )
        found.append(Para(f.prose("workers.freeze", saved=saved)))
    if unserved := sum(not all(row["served"]) for row in workers["rows"]):
        found.append(Para(f.prose("workers.unserved", unserved=unserved)))
    return found


def _searched(run: Run) -> CapacityResults | None:
    return found if (found := run.results.get("capacity")) and found["searches"] else None


def _fitted(run: Run) -> Workers | None:
    return found if (found := run.results.get("workers")) and found["fits"] else None


CAPACITY = view.part("Capacity and cost per million", _searched, capacity_blocks)
WORKERS = view.part("Memory per worker", _fitted, workers_blocks)
