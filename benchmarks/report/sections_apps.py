"""Sections on each app beyond its speed: what it costs to hold (memory, start-up, lines of code,
dependencies) and how it behaves (reliability, security defaults, the parity gate)."""

from collections.abc import Mapping

from benchmarks.analysis.aggregate import Run, memory, ordered
from benchmarks.analysis.reliability import answered, soaked, survived
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Block, Column, Inline, Para, Section, Span, Table, code
from benchmarks.results.records import Dependencies, LinesOfCode, SecurityCheck
from benchmarks.results.scaling import Soak
from benchmarks.results.vocabulary import Parity

# The memory figures' headers, in aggregate.MEMORY's order: medians over a target's cells.
MEMORY_HEADERS = ["PSS MiB", "USS MiB", "Master PSS MiB", "PSS per worker MiB", "Summed RSS MiB"]
APPS = ("flask", "django")  # the hostile inputs' table has a column for each


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


def _outcome(ok: bool, text: str) -> Span:
    return Span(text, "pass" if ok else "fail")


SOAK_COLUMNS: list[Column[Soak]] = [
    Column("App", lambda s: f.label(s["app"])),
    Column("Capacity req/s", lambda s: f.fmt_rps(s["capacity_rps"]), True),
    Column("Held req/s", lambda s: f.fmt_rps(s["rps"]), True),
    Column("Requests", lambda s: f"{s['requests']:,}", True),
    Column("Failures", lambda s: str(s["failures"]), True),
    Column("Its connections", lambda s: str(s.get("connections_killed", f.MISSING)), True),
    Column("p50 ms", lambda s: f.fmt_ms(s["latency_ms"]["p50"]), True),
    Column("p99 ms", lambda s: f.fmt_ms(s["latency_ms"]["p99"]), True),
    Column(
        "Killed worker",
        lambda s: _outcome(ok := survived(s), "✓ replaced" if ok else "✗ not survived"),
    ),
    Column(
        "RSS per worker MiB",
        lambda s: f"{f.fmt_mib(s['rss_mib_start'])} → {f.fmt_mib(s['rss_mib_end'])}",
    ),
    Column("RSS trend MiB/min", lambda s: f"{s['rss_trend_mib_per_min']:+.2f}"),
]


def security(checks: list[SecurityCheck]) -> list[Block]:
    """Return every check with each app's result, passed or not."""
    apps = list(dict.fromkeys(a for c in checks for a in (*c["result"], *c["passed"])))

    def result(check: SecurityCheck, app: str) -> Inline:
        observed, passed = check["result"].get(app, f.MISSING), check["passed"].get(app)
        mark = "✓" if passed else "✗"
        return observed if passed is None else _outcome(bool(passed), f"{mark} {observed}")

    rows = [[check["check"], *(result(check, app) for app in apps)] for check in checks]
    table = view.or_missing(Table(["Check", *map(f.label, apps)], rows))
    return [table, Para(f.prose("security.marks"))] if rows else [table]


def reliability(run: Run) -> Section:
    """Return the soak and, where the run probed them, the answers to hostile inputs."""
    found = run.results.get("reliability")
    soaks = found["soak"] if found else []
    blocks: list[Block] = [view.Heading("Sustained load, with a worker killed")]
    if found and soaks:
        seconds = found.get("soak_s") or soaks[0]["seconds"]
        blocks += soak(soaks, seconds, found.get("soak_fraction", 0.7))
    else:
        blocks.append(Para(view.words("reliability.unmeasured")))
    if not found or "inputs" not in found:
        # The soak command soaks only; a run always probes the inputs.
        return Section("Reliability and security", blocks)
    inputs = found["inputs"]
    rows: list[list[Inline]] = [
        [
            *(code(e["probe"]), code(f"{e['method']} {e['path']}")),
            *(f"{a['status']} {a['code']}".strip() for a in map(e["answers"].get, APPS) if a),
        ]
        for e in inputs
    ]
    blocks.append(view.Heading("Hostile and malformed inputs"))
    blocks.append(view.or_missing(Table(["Input", "Request", "Flask", "Django"], rows)))
    if inputs:
        alike, errors = answered(inputs)
        said = f.prose("reliability.inputs", n=len(inputs), alike=alike, errors=errors)
        blocks.append(Para(said))
    return Section("Reliability and security", blocks)


def _gate(parity: Parity) -> list[Block]:
    ok, differences = parity["ok"], parity["differences"]
    result = f.prose("parity.passed" if ok else "parity.failed")
    items: list[Inline] = [
        ("Result: ", _outcome(ok, "passed" if ok else "FAILED"), result),
        f"Probes: {parity['probes']}",
        f"Targets: {', '.join(map(f.label, parity['targets'])) or f.MISSING}",
        f"Differences: {len(differences) or 'none'}",
    ]
    listed: list[Inline] = [code(f.fmt_value(d)) for d in differences]
    return [view.Bullets(items), *([view.Bullets(listed)] if differences else [])]


def soak(soaks: list[Soak], seconds: float, fraction: float = 0.7) -> list[Block]:
    """Return each app's soak: the load held, the killed worker, memory, p99 second by second."""
    blocks: list[Block] = [
        Para(f.prose("reliability.soak", fraction=fraction, seconds=seconds)),
        view.or_missing(view.tabulate(SOAK_COLUMNS, soaks)),
        Para(f.prose("reliability.faults", total=soaked(soaks))),
    ]
    histories = [s for s in soaks if s.get("history")]
    if (length := min((len(s["history"]) for s in histories), default=0)) > 2:
        lines = [
            charts.Curve(f.label(s["app"]), f.colour(s["app"]), [*enumerate(p99s)])
            for s in histories
            for p99s in [[h["p99_ms"] for h in s["history"][:length]]]
        ]
        blocks.append(charts.curves(charts.axes("reliability.chart", fraction=fraction), lines))
    return blocks


LOC = view.part("Lines of code", lambda run: run.results.get("loc"), lines_of_code)
SECURITY = view.part("Security defaults", lambda run: run.results.get("security"), security)
PARITY = view.part("Parity gate", lambda run: run.results.get("parity"), _gate)
SECTIONS, CHECKS = (_memory, _startup, LOC, _dependencies), (reliability, SECURITY, PARITY)
