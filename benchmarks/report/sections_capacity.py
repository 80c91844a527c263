"""The section on capacity: open-loop req/s at the p99 target, overload, and cost per million."""

from __future__ import annotations

from benchmarks.analysis import capacity as capacities
from benchmarks.cpus import CpuSet
from benchmarks.report import charts
from benchmarks.report.formatting import MISSING, colour, fmt_ms, fmt_rps, label
from benchmarks.report.view import Block, Bullets, Chart, Inline, Para, Run, Section, Table, code
from benchmarks.results.scaling import CapacityResults

Summaries = dict[tuple[str, int], capacities.Summary]
COST_HEADERS = ["App", "Workers", "Capacity, req/s", "Trials", "p99 ms there", "CPU-s per million"]
COST_HEADERS += ["$ per million (CPU used)", "$ per million (vCPUs held)"]


def _usd(value: float | None) -> str:
    return MISSING if value is None else f"${value:,.4f}"


def _chart(capacity: CapacityResults, summary: Summaries) -> list[Block]:
    first = min(capacity["worker_counts"])
    curves = []
    for app in capacities.apps(capacity):
        points = [
            (step["offered_rps"], step["latency_ms"]["p99"])
            for search in capacity["searches"]
            if (search["app"], search["workers"]) == (app, first)
            for step in search["steps"]
        ]
        points += [
            (p["offered_rps"], p["latency_ms"]["p99"])
            for p in capacity["overload"]
            if (p["app"], p["workers"]) == (app, first)
        ]
        mark = found["capacity_rps"] if (found := summary.get((app, first))) else None
        curves.append(charts.Curve(label(app), colour(app), points, mark))
    if not curves:
        return []
    title = (
        f"p99 latency against offered load, open-loop ({capacity['arrival']} arrivals), "
        f"{first} worker(s); dashed: the {capacity['latency_ms']:g} ms target and each app's "
        "capacity"
    )
    axes = charts.Axes(title, "p99 latency, ms (log scale)", "offered load, req/s")
    svg = charts.latency_curves(axes, curves, capacity["latency_ms"])
    return [Chart(svg, title + ". Every step of every search, and the overload steps.")]


def _cost_rows(capacity: CapacityResults, summary: Summaries) -> list[list[Inline]]:
    rows: list[list[Inline]] = []
    for (app, workers), row in sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        trials = ", ".join(fmt_rps(t) if t else MISSING for t in row["trials"])
        rows.append(
            [
                label(app),
                str(workers),
                fmt_rps(row["capacity_rps"]) + (" (capped)" if row["capped"] else ""),
                trials,
                fmt_ms(row["p99_ms_at_capacity"]),
                fmt_rps(row["cpu_s_per_million"]),
                _usd(row["usd_per_million"]),
                _usd(row["usd_per_million_held"]),
            ]
        )
    return rows


def _point_rows(capacity: CapacityResults) -> list[list[Inline]]:
    rows: list[list[Inline]] = []
    for where, points in (("overload", capacity["overload"]), ("nginx", capacity["proxied"])):
        for p in points:
            rows.append(
                [
                    label(p["app"]),
                    where,
                    f"{p['factor']:g}x",
                    fmt_rps(p["offered_rps"]),
                    fmt_rps(p["rps"]),
                    fmt_ms(p["latency_ms"]["p99"]),
                    str(p["failures"]),
                ]
            )
    return rows


def _capacity(run: Run) -> Section:
    title = "Capacity and cost per million"
    capacity = run.results.get("capacity")
    if not capacity or not capacity["searches"]:
        return Section(title, [Para("Not measured in this run.")])
    return Section(title, blocks(capacity))


def blocks(capacity: CapacityResults) -> list[Block]:
    """Return the latency curves, each app's capacity and cost, and the overload points."""
    summary = capacities.summary(capacity)
    cpus = len(CpuSet.parse(capacity["server_cpus"]))
    shown: list[Block] = [
        *_chart(capacity, summary),
        Table(
            COST_HEADERS,
            _cost_rows(capacity, summary),
            frozenset(range(1, 8)),
        ),
        Para(
            (
                "Capacity: the highest offered load whose p99, measured open-loop from each "
                "request's intended send time, stayed within "
                f"{capacity['latency_ms']:g} ms with no failure (",
                code("python -m benchmarks capacity"),
                f"; {capacity['variant']} model, {capacity['scenario']}, "
                f"{capacity['arrival']} arrivals). A search grows the rate "
                f"{capacity['growth']:g}x a step until a step fails, then bisects until the "
                f"passing and failing rates are within {capacity['resolution']:.0%}; each step "
                f"is a {capacity['step_s']} s Locust phase, its first {capacity['warmup_s']:g} s "
                "discarded. The median over the trials is shown; trials ran back to back, the "
                "apps in rotated order. CPU-s per million: the server's process tree over the "
                f"step at the capacity. Money at ${capacity['vcpu_hour_usd']:g} per "
                f"vCPU-hour, {capacity['price_source']}. CPU used prices only the CPU seconds "
                f"consumed; vCPUs held prices the {cpus} server CPU(s) kept at the capacity.",
            )
        ),
        Bullets(
            [
                f"Server CPUs: {capacity['server_cpus']} ({cpus}); load generator on "
                f"{capacity['load_cpus']}. Worker counts measured: "
                + ", ".join(map(str, capacity["worker_counts"]))
                + ".",
                "On a 2-core machine the server has one CPU (the load generator needs the "
                "other), so a second worker shares that CPU: it can hide a stalled request but "
                "cannot add throughput. Scaling with workers needs a machine with more cores; "
                "the same command measures 1, 2, 4... workers up to its server CPUs.",
            ]
        ),
    ]
    points = _point_rows(capacity)
    if points:
        shown.append(
            Table(
                ["App", "Where", "Offered", "Offered req/s", "Served req/s", "p99 ms", "Failed"],
                points,
                frozenset(range(2, 7)),
            )
        )
        shown.append(
            Para(
                "Above the capacity the queue grows for as long as the load lasts, so p99 grows "
                f"with the step's length; a request unanswered after {capacity['timeout_s']:g} s "
                "fails. Through nginx: the same rate as the capacity, nginx on the server's "
                "CPUs and its CPU counted with the server's."
            )
        )
    return shown


SECTIONS = (_capacity,)
