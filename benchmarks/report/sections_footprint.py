"""Sections on what each app costs to hold: memory, start-up, lines of code, dependencies."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.analysis.aggregate import Run, memory, ordered
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Block, Inline, Para, Section, Span, Table, code
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
    blocks: list[Block] = []
    if names:
        samples = [startup[n]["seconds"] or [startup[n]["median"]] for n in names]
        chart = charts.bar_chart(
            charts.axes("startup.chart"),
            [f.label(n) for n in names],
            [startup[n]["median"] for n in names],
            [f.colour(n) for n in names],
            [min(s) for s in samples],
            [max(s) for s in samples],
        )
        blocks.append(chart)
    rows: list[list[Inline]] = [
        [
            f.label(n),
            f.fmt_ms(startup[n]["median"]),
            ", ".join(map(f.fmt_ms, startup[n]["seconds"])),
        ]
        for n in names
    ]
    blocks.append(view.or_missing(Table(["Target", "Median s", "Samples s"], rows, frozenset({1}))))
    if rows:
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
    blocks: list[Block] = [
        Para("Code lines of each app's own package, without comments or blank lines."),
        view.Heading("By concern"),
        Table(
            ["Concern", *map(f.label, apps)],
            [*rows, _total(*(str(loc[a]["total"]) for a in apps))],
            frozenset(range(1, len(apps) + 1)),
        ),
    ]
    for app in apps:
        files = sorted(loc[app]["files"].items())
        rows = [[code(name), str(lines)] for name, lines in files]
        blocks += [
            view.Heading(f"{f.label(app)}: by file"),
            Table(["File", "Lines"], [*rows, _total(str(loc[app]["total"]))], frozenset({1})),
        ]
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
    apps = ordered(deps)
    rows: list[list[Inline]] = [
        [
            f.label(a),
            f.fmt_value(deps[a]["direct"]),
            f.fmt_value(deps[a]["extensions"]),
            str(len(deps[a]["distributions"])),
            _mb(deps[a]["total_bytes"]),
        ]
        for a in apps
    ]
    headers = ["App", "Imports", "Framework extensions", "Distributions", "Total MB"]
    blocks: list[Block] = [
        Para(f.prose("dependencies.beyond")),
        Table(headers, rows, frozenset({3, 4})),
    ]
    if alone:
        rows = [
            [
                f.label(fw),
                ", ".join(d["name"] for d in alone[fw]["distributions"]),
                _mb(alone[fw]["total_bytes"]),
            ]
            for fw in ordered(alone)
        ]
        blocks += [
            view.Heading("Each framework alone"),
            Table(["Framework", "Distributions", "Total MB"], rows, frozenset({2})),
        ]
    for app in apps:
        dists = sorted(deps[app]["distributions"], key=lambda d: d["name"].lower())
        rows = [[code(d["name"]), d["version"], _mb(d["size_bytes"])] for d in dists]
        blocks += [
            view.Heading(f"{f.label(app)}: distributions"),
            Table(
                ["Distribution", "Version", "Size MB"],
                [*rows, _total("", _mb(deps[app]["total_bytes"]))],
                frozenset({2}),
            ),
        ]
    return blocks


SECTIONS = (
    _memory,
    _startup,
    view.part("Lines of code", lambda run: run.results.get("loc"), lines_of_code),
    _dependencies,
)
