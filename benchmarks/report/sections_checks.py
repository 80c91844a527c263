"""Sections on how each app behaves: the soak with a killed worker, hostile inputs, security
defaults and the parity gate."""

from benchmarks.analysis.aggregate import Run
from benchmarks.analysis.reliability import answered, soaked, survived
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Block, Column, Inline, Para, Section, Span, Table, code
from benchmarks.results.records import SecurityCheck
from benchmarks.results.scaling import Soak
from benchmarks.results.vocabulary import Parity

APPS = ("flask", "django")  # the hostile inputs' table has a column for each


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


SECURITY = view.part("Security defaults", lambda run: run.results.get("security"), security)
PARITY = view.part("Parity gate", lambda run: run.results.get("parity"), _gate)
SECTIONS = (reliability, SECURITY, PARITY)
