"""The section on capacity: open-loop req/s at the p99 target, overload, and cost per million."""

from __future__ import annotations

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis.aggregate import Run
from benchmarks.cpus import CpuSet
from benchmarks.report import charts, view
from benchmarks.report.formatting import MISSING, colour, fmt_ms, fmt_rps, label, prose
from benchmarks.results.scaling import CapacityPoint, CapacityResults

Summary = tuple[str, int, capacities.Summary]  # app, workers, the medians over its searches


def _usd(value: float | None) -> str:
    return MISSING if value is None else f"${value:,.4f}"


COST_COLUMNS: list[view.Column[Summary]] = [
    view.Column("App", lambda s: label(s[0])),
    view.Column("Workers", lambda s: str(s[1]), True),
    view.Column(
        "Capacity, req/s",
        lambda s: fmt_rps(s[2]["capacity_rps"]) + (" (capped)" if s[2]["capped"] else ""),
        True,
    ),
    view.Column("Trials", lambda s: ", ".join(fmt_rps(t or None) for t in s[2]["trials"]), True),
    view.Column("p99 ms there", lambda s: fmt_ms(s[2]["p99_ms_at_capacity"]), True),
    view.Column("CPU-s per million", lambda s: fmt_rps(s[2]["cpu_s_per_million"]), True),
    view.Column("$ per million (CPU used)", lambda s: _usd(s[2]["usd_per_million"]), True),
    view.Column("$ per million (vCPUs held)", lambda s: _usd(s[2]["usd_per_million_held"]), True),
]
# Each point beside the search, with where it was measured: "overload" or "nginx".
POINT_COLUMNS: list[view.Column[tuple[str, CapacityPoint]]] = [
    view.Column("App", lambda w: label(w[1]["app"])),
    view.Column("Where", lambda w: w[0]),
    view.Column("Offered", lambda w: f"{w[1]['factor']:g}x", True),
    view.Column("Offered req/s", lambda w: fmt_rps(w[1]["offered_rps"]), True),
    view.Column("Served req/s", lambda w: fmt_rps(w[1]["rps"]), True),
    view.Column("p99 ms", lambda w: fmt_ms(w[1]["latency_ms"]["p99"]), True),
    view.Column("Failed", lambda w: str(w[1]["failures"]), True),
]


def _chart(capacity: CapacityResults, summary: list[Summary]) -> list[view.Block]:
    first = capacities.first_workers(capacity)
    marks = {app: s["capacity_rps"] for app, workers, s in summary if workers == first}
    curves = [
        charts.Curve(label(app), colour(app), points, marks.get(app))
        for app in capacities.apps(capacity)
        for points in [capacities.latency_curve(capacity, app, first)]
    ]
    if not curves:
        return []
    axes = charts.axes("capacity.chart", c=capacity, first=first)
    return [charts.curves(axes, curves, target=capacity["latency_ms"])]


def blocks(capacity: CapacityResults) -> list[view.Block]:
    """Return the latency curves, each app's capacity and cost, and the overload points."""
    by = sorted(capacities.summary(capacity).items(), key=lambda kv: (kv[0][1], kv[0][0]))
    summary = [(app, workers, s) for (app, workers), s in by]
    cpus = len(CpuSet.parse(capacity["server_cpus"]))
    counts = ", ".join(map(str, capacity["worker_counts"]))
    points = [("overload", p) for p in capacity["overload"]]
    points += [("nginx", p) for p in capacity["proxied"]]
    found: list[view.Block] = [
        *_chart(capacity, summary),
        view.tabulate(COST_COLUMNS, summary),
        view.Para(prose("capacity.rule", c=capacity)),
        view.Para(prose("capacity.where", c=capacity, cpus=cpus, counts=counts)),
    ]
    if points:
        found += [
            view.tabulate(POINT_COLUMNS, points),
            view.Para(f"A request unanswered after {capacity['timeout_s']:g} s fails."),
        ]
    return found


def _searched(run: Run) -> CapacityResults | None:
    return found if (found := run.results.get("capacity")) and found["searches"] else None


SECTIONS = (view.part("Capacity and cost per million", _searched, blocks),)
