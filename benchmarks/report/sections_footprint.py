"""Sections on what each app costs to hold: memory, start-up, lines of code, dependencies."""

from collections.abc import Mapping

from benchmarks.analysis.aggregate import Run, memory, ordered
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Block, Column, Inline, Para, Section, Span, Table, code
from benchmarks.results.records import Dependencies, LinesOfCode

# The memory figures' headers, in aggregate.MEMORY's order: medians over a target's cells.
MEMORY_HEADERS = ["PSS MiB", "USS MiB", "Master PSS MiB", "PSS per worker MiB", "Summed RSS MiB"]


def _mb(size: int) -> str:
    return f.fmt_us(size / 1e6, 2)


def _total(*cells: str) -> list[Inline]:
    """Return a table's last row: "total" and the totals in bold ("" leaves a cell empty)."""
    return [Span("total", "strong"), *(Span(cell, "strong") if cell else "" for cell in cells)]


def _memory(run: Run) -> Section:
    rows: list[list[Inline]] = [
        [f.label(target), variant, *map(f.fmt_mib, medians.values()), f.fmt_mib(peak)]
        for target, variant, medians, peak in memory(run.cells, run.targets, run.variants)
    ]
    headers = ["Target", "Variant", *MEMORY_HEADERS, "Peak PSS MiB"]
    blocks: list[Block] = [view.or_missing(Table(headers, rows, frozenset(range(2, 8))))]
    return Section("Memory", [*blocks, view.see("A run, in order")] if rows else blocks)


def _startup(run: Run) -> Section:
    startup = run.results.get("startup") or {}
    names = ordered(startup)
    samples = [startup[n]["seconds"] or [startup[n]["median"]] for n in names]
    blocks: list[Block] = []
    if names:
        medians, colours = [startup[n]["median"] for n in names], [*map(f.colour, names)]
        lows, highs = [*map(min, samples)], [*map(max, samples)]
        axes, labels = charts.axes("startup.chart"), [*map(f.label, names)]
        blocks.append(charts.bar_chart(axes, labels, medians, colours, lows, highs))
    columns: list[Column[str]] = [
        Column("Target", f.label),
        Column("Median s", lambda n: f.fmt_ms(startup[n]["median"]), True),
        Column("Samples s", lambda n: ", ".join(map(f.fmt_ms, startup[n]["seconds"]))),
    ]
    blocks.append(view.or_missing(view.tabulate(columns, names)))
    if names:
        blocks.append(Para("Seconds from starting gunicorn to the first 200 from /health/ready."))
    return Section("Start-up", blocks)


def lines_of_code(loc: Mapping[str, LinesOfCode]) -> list[Block]:
    """Return each app's code lines by concern, then by file."""
    apps = ordered(loc)
    concerns = list(dict.fromkeys(c for a in apps for c in loc[a]["concerns"]))
    rows: list[list[Inline]] = [
        [concern, *(str(loc[a]["concerns"].get(concern, f.MISSING)) for a in apps)]
        for concern in concerns
    ]
    rows.append(_total(*(str(loc[a]["total"]) for a in apps)))
    blocks: list[Block] = [
        Para("Code lines of each app's own package, without comments or blank lines."),
        view.Heading("By concern"),
        Table(["Concern", *map(f.label, apps)], rows, frozenset(range(1, len(apps) + 1))),
    ]
    for app in apps:
        rows = [[code(name), str(lines)] for name, lines in sorted(loc[app]["files"].items())]
        rows.append(_total(str(loc[app]["total"])))
        table = Table(["File", "Lines"], rows, frozenset({1}))
        blocks += [view.Heading(f"{f.label(app)}: by file"), table]
    return blocks


def _dependencies(run: Run) -> Section:
    # Written by the runner beside the schema's keys: each framework on its own, so a reader
    # can tell the framework's weight from what the app adds to it.
    alone = run.results.get("framework_footprint") or {}
    deps = run.results.get("dependencies")
    return view.section("Dependencies", deps, lambda found: dependencies(found, alone))


def dependencies(
    deps: Mapping[str, Dependencies], alone: Mapping[str, Dependencies]
) -> list[Block]:
    """Return what each app installs beyond the shared core, and each framework alone."""
    columns: list[Column[str]] = [
        Column("App", f.label),
        Column("Imports", lambda a: f.fmt_value(deps[a]["direct"])),
        Column("Framework extensions", lambda a: f.fmt_value(deps[a]["extensions"])),
        Column("Distributions", lambda a: str(len(deps[a]["distributions"])), True),
        Column("Total MB", lambda a: _mb(deps[a]["total_bytes"]), True),
    ]
    beyond = Para(f.prose("dependencies.beyond"))
    blocks: list[Block] = [beyond, view.tabulate(columns, ordered(deps))]
    if alone:
        listed = {w: ", ".join(d["name"] for d in alone[w]["distributions"]) for w in alone}
        columns = [
            Column("Framework", f.label),
            Column("Distributions", lambda w: listed[w]),
            Column("Total MB", lambda w: _mb(alone[w]["total_bytes"]), True),
        ]
        blocks += [view.Heading("Each framework alone"), view.tabulate(columns, ordered(alone))]
    rows: list[list[Inline]]
    for app in ordered(deps):
        dists = sorted(deps[app]["distributions"], key=lambda d: d["name"].lower())
        rows = [[code(d["name"]), d["version"], _mb(d["size_bytes"])] for d in dists]
        rows.append(_total("", _mb(deps[app]["total_bytes"])))
        table = Table(["Distribution", "Version", "Size MB"], rows, frozenset({2}))
        blocks += [view.Heading(f"{f.label(app)}: distributions"), table]
    return blocks


LOC = view.part("Lines of code", lambda run: run.results.get("loc"), lines_of_code)
SECTIONS = (_memory, _startup, LOC, _dependencies)
