"""The section on the ladders: what each production feature adds to a request, per framework."""

from __future__ import annotations

from benchmarks.analysis import ladders
from benchmarks.analysis.ladders import Step
from benchmarks.report import charts
from benchmarks.report.formatting import (
    EN_DASH,
    FRAMEWORK_LABELS,
    MISSING,
    Facts,
    colour,
    fmt_mib,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    fmt_us,
    label,
)
from benchmarks.report.sections_cost import fmt_count
from benchmarks.report.view import Block, Chart, Inline, Para, Run, Section, Table, code
from benchmarks.results.records import Ladders, Results, Throughput
from benchmarks.results.vocabulary import Framework


def fmt_added(value: float | None, below: float | None) -> str:
    """Return what a rung adds: instructions, and the share of the rung below."""
    if value is None:
        return MISSING
    share = f" ({value / below:+.1%})" if below else ""
    return f"{value / 1e6:+,.3f} M{share}"


def _rung_label(step: Step) -> str:
    feature = step["feature"]
    return feature if feature in ("floor", "app") else "+" + feature.replace("_", " ")


def _chart(framework: Framework, found: list[Step]) -> list[Block]:
    mine = [
        (s, n)
        for s in found
        if s["framework"] == framework and (n := s["instructions"]) is not None
    ]
    if not mine:
        return []
    title = f"{FRAMEWORK_LABELS[framework]}'s ladder: instructions per one-row prediction"
    axes = charts.Axes(
        title, "million instructions", "rung (each adds one feature to the one before)", "M"
    )
    labels, counts = [_rung_label(s) for s, _ in mine], [n / 1e6 for _, n in mine]
    svg = charts.bar_chart(axes, labels, counts, [colour(framework)] * len(mine))
    return [Chart(svg, title + ", counted by callgrind (light model).")]


def _features(found: list[Step], built_in: dict[str, dict[str, str]]) -> Table:
    by = {(s["framework"], s["feature"]): s for s in found}
    features = [s["feature"] for s in found if s["feature"] not in ("floor", "app")]
    order = list(
        dict.fromkeys([*features, *built_in.get("django", {}), *built_in.get("flask", {})])
    )
    titles = {s["feature"]: s["title"] for s in found}
    rows: list[list[Inline]] = []
    for feature in order:
        row: list[Inline] = [titles.get(feature, feature)]
        for framework in ("flask", "django"):
            step = by.get((framework, feature))
            if step:
                below = (
                    step["instructions"] - step["added"]
                    if step["instructions"] is not None and step["added"] is not None
                    else None
                )
                way = step["how"] + ("" if step["extension"] else " (built in)")
                row += [way, fmt_added(step["added"], below)]
            elif feature in built_in.get(framework, {}):
                row += [built_in[framework][feature] + " (built in)", "in the app"]
            else:
                row += ["none", MISSING]
        rows.append(row)
    headers = ["Feature", "Flask's way", "Flask: adds", "Django's way", "Django: adds"]
    return Table(headers, rows, frozenset({2, 4}))


def _rungs(found: list[Step]) -> Table:
    rows: list[list[Inline]] = []
    for step in found:
        rows.append(
            [
                code(step["target"]),
                fmt_count(step["instructions"]),
                fmt_added(step["added"], None),
                fmt_count(step["startup_instructions"]),
                ", ".join(step["distributions_added"]) or MISSING,
                f"{step['bytes_added'] / 1e3:,.0f} kB" if step["bytes_added"] else MISSING,
                str(step["lines_added"]) if step["lines_added"] else MISSING,
                fmt_rps(load["rps"] if (load := step["load"]) else None),
                fmt_us(load["cpu_us_per_request"] if load else None),
                fmt_mib(load.get("pss_mib") if load else None),
            ]
        )
    headers = ["Rung", "Instructions", "Adds", "Start-up", "Distributions added", "Installed"]
    headers += ["Lines", "req/s", "CPU us/req", "PSS"]
    return Table(headers, rows, frozenset({1, 2, 3, 5, 6, 7, 8, 9}))


def throughput(result: Throughput, facts: Facts) -> Table:
    """Return wrk's figures per target (``python -m benchmarks throughput``, the ladders' load)
    with each one's ratio to the baseline, and to its floor where the facts name one that ran."""
    summary = result["summary"]
    base = summary["baseline"]["rps"] if "baseline" in summary else None
    rows: list[list[Inline]] = []
    for name, row in summary.items():
        below = found["floor"] if (found := facts.get(name)) else None
        floor = summary[below]["rps"] if below in summary else None
        rows.append(
            [
                code(name),
                fmt_rps(row["rps"]),
                f"{fmt_rps(row['rps_min'])}{EN_DASH}{fmt_rps(row['rps_max'])}",
                fmt_ratio(row["rps"] / base if base else None),
                fmt_ratio(row["rps"] / floor if floor else None),
                fmt_ms(row["p50_ms"]),
                fmt_ms(row["p99_ms"]),
                fmt_us(row["cpu_us_per_request"]),
                f"{row['errors']:,.0f}",
            ]
        )
    headers = ["Target", "req/s", f"min{EN_DASH}max", "vs baseline", "vs floor", "p50 ms"]
    return Table([*headers, "p99 ms", "CPU us/req", "Errors"], rows, frozenset(range(1, 9)))


def _ladders(run: Run) -> Section:
    title = "Extensions and batteries, priced"
    data = run.results.get("ladders")
    if not data:
        return Section(title, [Para("Not measured in this run.")])
    return Section(title, [*blocks(data, ladders.steps(run.results)), *_recording(run.results)])


def blocks(data: Ladders, found: list[Step]) -> list[Block]:
    """Return the ladders' charts, what each feature adds, and the rungs' figures."""
    load = data["load"]
    shown: list[Block] = [
        Para(
            (
                "Each framework's ladder starts at its floor and the reference app, then adds "
                "one production feature per rung, the way its community adds it (",
                code("benchmarks/targets/ladder_flask.py"),
                ", ",
                code("benchmarks/targets/ladder_django.py"),
                "). Every rung answers the same one-row prediction with the same body. A "
                "rung's cost is what it adds to the rung below it, in instructions per request "
                "counted by callgrind (deterministic; ",
                code("python -m benchmarks cost"),
                ").",
            )
        ),
        *_chart("flask", found),
        *_chart("django", found),
        _features(found, data["built_in"]),
        _rungs(found),
        Para(
            (
                "Start-up: instructions from the shared stack to the rung's WSGI callable. "
                "Distributions added, installed size and lines: what the rung's extension "
                "installs beyond the rung below, and the code lines of the function that adds "
                "the feature. req/s, CPU us/req and PSS (master and workers, after the load): "
                "wrk against the rungs the claims need",
                (
                    f", {load['trials']} interleaved trials of {load['seconds']:.0f} s, "
                    f"{load['connections']} connections, server on CPU {load['server_cpus']}"
                    if load
                    else " (not measured in this run)"
                ),
                " (",
                code("python -m benchmarks ladders"),
                "; timed, so as noisy as this machine: the verdicts use the instruction counts).",
            )
        ),
    ]
    return shown


def _recording(results: Results) -> list[Block]:
    recording = ladders.metrics_cost(results)
    if not recording:
        return []
    counted = ladders.instructions(results)
    return [
        Para(
            (
                "Every rung keeps the reference apps' own ",
                code("/metrics"),
                " (docs/metrics.md); the metrics rung adds each community's exporter besides. "
                "What the built-in recording costs a request, the app against itself with ",
                code("MLAPI_METRICS_ENABLED=false"),
                ": "
                + "; ".join(
                    f"{label(app)} {fmt_added(value, counted[app] - value)}"
                    for app, value in recording.items()
                )
                + ".",
            )
        )
    ]


SECTIONS = (_ladders,)
