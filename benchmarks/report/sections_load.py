"""Sections on load and the claims it decides: the summary (opening with the chart of each
claim's deciding figure), the claims, throughput and latency, calibration, CPU per request."""

from operator import itemgetter

from benchmarks.analysis import aggregate, decision, judge
from benchmarks.analysis.aggregate import CellFigures, Measured, Percentile, Run
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Column, Para, Span
from benchmarks.results.records import Calibration, Claim, Overhead
from benchmarks.results.vocabulary import VERDICTS


def _summary(run: Run) -> view.Section:
    # The headline cell and the claims; every other figure is in its section's table.
    bullets: list[view.Inline] = []
    users, here = aggregate.at_users(run.cells, run.targets, "light", "predict_one")
    if here and users is not None:
        figures = ", ".join(f"{f.label(t)} {f.fmt_rps(c['rps'])} req/s" for t, c in here.items())
        trials = f.span((c["trials"] for c in here.values()), "trial")
        at = f.plural(users, "user")
        bullets.append(f.prose("summary.headline", at=at, figures=figures, trials=trials))
    cell = ("light", "predict_one", users or 0)
    flask, django = ((a or "", *cell) for a in aggregate.apps(run.results["targets"]))
    if (ratio := aggregate.ratio(run.cells, flask, django)) is not None:
        bullets.append(f"Flask serves {f.fmt_ratio(ratio)} Django's throughput there.")
    if claims := run.results.get("claims") or []:
        tally = ", ".join(f"{n} {v}" for v, n in judge.tally(claims).items() if n)
        bullets.append(f"{f.plural(len(claims), 'claim')} tested against these figures: {tally}.")
    (bound, failed), parity = run.cautions(), run.results.get("parity")
    cautions = [
        f"{f.plural(bound, 'cell')} {f.GENERATOR_BOUND}" if bound else "",
        f.plural(failed, "failed response") if failed else "",
        "the parity gate FAILED" if parity and not parity["ok"] else "",
    ]
    if any(cautions):
        bullets.append("Caution: " + "; ".join(filter(None, cautions)) + ".")
    nothing = "No load was measured in this run."
    return view.Section("Summary", [*chart(claims), view.Bullets(bullets or [nothing])])


def _by_design(claim: Claim) -> str:
    return " (by design)" if claim["basis"] == "by design" else ""


# At a glance: the claim as made, the verdict, what decided it. How, in the table after it.
CLAIM_COLUMNS: list[Column[Claim]] = [
    Column("The claim, as made", lambda c: c["sentence"] + (" [1]" if c["source"] else "")),
    Column("Verdict", lambda c: view.verdict(c["verdict"])),
    Column("Deciding figure", lambda c: c["figure"] + _by_design(c)),
    Column("Timed interval", lambda c: c["interval"] or f.EN_DASH),
]
HOW_COLUMNS: list[Column[Claim]] = [
    Column(key.capitalize(), itemgetter(key))
    for key in ("claim", "question", "basis", "rule", "reason", "flask", "django")
]


# What each claim's ratio is, and its timed interval where it has one, both the claim's way up
# (analysis/claims.py and claims_resources.py): the chart names them on the claim's row.
def _ratio(claim: Claim) -> charts.Ratio:
    dot, whisker = claim["ratio_label"] or claim["figure"], claim["timed_label"]
    timed, ratio = claim["timed"], claim["ratio"] or 0.0
    interval = (timed["estimate"], timed["low"], timed["high"]) if timed else None
    if interval is None:
        notes = [dot]
    elif interval[0] == ratio:
        notes = [dot, "whisker: its timed 95% CI"]
    else:
        notes = [f"dot: {dot}", f"whisker: {whisker} (95% CI)"]
    colour = f.VERDICT_COLOURS.get(claim["verdict"], f.OTHER_COLOUR)
    hollow = bool(_by_design(claim))
    return charts.Ratio(claim["claim"] + _by_design(claim), notes, ratio, colour, interval, hollow)


def chart(claims: list[Claim]) -> list[view.Block]:
    """Return the chart of each claim's deciding figure as a ratio (none without a ratio)."""
    if not (shown := judge.charted(claims)):
        return []
    band = 1 + decision.MIN_EFFECT
    verdicts = aggregate.ordered((c["verdict"] for c in shown), VERDICTS)
    legend = [(v, f.VERDICT_COLOURS.get(v, f.OTHER_COLOUR)) for v in verdicts]
    axes = charts.axes("claims.chart", legend, effect=decision.MIN_EFFECT, times=f.TIMES)
    return [charts.ratio_rows(axes, [_ratio(c) for c in shown], band)]


def claims_section(run: Run) -> view.Section:
    """Return the Claims section: the table at a glance, how each was decided, the A/A checks."""
    claims = run.results.get("claims") or []
    blocks: list[view.Block] = [view.or_missing(view.tabulate(CLAIM_COLUMNS, claims))]
    if sources := sorted({c["source"] for c in claims if c["source"]}):
        blocks.append(view.Para(f.prose("claims.source", sources=", ".join(sources))))
    if claims:
        blocks += [view.Heading("How each claim was decided"), view.tabulate(HOW_COLUMNS, claims)]
    if rule := run.results.get("decision_rule"):
        blocks.append(view.Para(("The decision rule, fixed before the run: ", rule)))
    for aa in run.results.get("aa") or []:
        if (found := aa["interval"]) is None:
            trials = f.plural(len(aa["ratios"]), "usable paired trial")
            blocks.append(view.Para(f.prose("claims.aa_too_few", aa=aa, trials=trials)))
        else:
            line = f.prose("claims.aa", aa=aa, found=found)
            warning = f.prose("claims.aa_warning") if aa["differs"] else ""
            blocks.append(view.Para(warning + line, callout=bool(warning)))
    return view.Section("Claims", blocks)


def _flag(text: str, raised: bool) -> view.Inline:
    return Span(text, "flag") if raised else ""


def _latency(p: Percentile) -> Column[Measured]:
    label = f.PERCENTILE_LABELS[p]
    return Column(f"{label} ms", lambda m: f.fmt_ms(m.figures["latency_ms"][p]), True)


def _range(c: CellFigures) -> str:
    return f.fmt_range(c) if c["trials"] > 1 else ""


def _by_process(c: CellFigures) -> str:
    shares = c["generator_cpu_util_by_process"].items()
    return ", ".join(f"{name} {f.fmt_share(share)}" for name, share in shares) or f.MISSING


# The columns naming a cell, shared by the tables of cells.
TARGET: Column[Measured] = Column("Target", lambda m: f.label(m.target))
VARIANT: Column[Measured] = Column("Variant", lambda m: m.variant)
SCENARIO: Column[Measured] = Column("Scenario", lambda m: view.code(m.scenario))
USERS: Column[Measured] = Column("Users", lambda m: str(m.users), True)
BOUND: Column[Measured] = Column(
    "Flag", lambda m: _flag(f.GENERATOR_BOUND, m.figures["generator_bound"])
)
THROUGHPUT_COLUMNS: list[Column[Measured]] = [
    *(SCENARIO, USERS, TARGET),
    Column("Successful req/s median", lambda m: f.fmt_rps(m.figures["rps"]), True),
    Column(f"min{f.EN_DASH}max", lambda m: _range(m.figures), True),
    *map(_latency, aggregate.PERCENTILES),
    Column("Failures", lambda m: f"{m.figures['failures']:,}", True),
    Column("Trials", lambda m: str(m.figures["trials"]), True),
    BOUND,
]
GENERATOR_COLUMNS: list[Column[Measured]] = [
    *(TARGET, VARIANT, SCENARIO, USERS),
    Column("Locust CPU by process (of one core)", lambda m: _by_process(m.figures)),
    Column("Load CPUs busy", lambda m: f.fmt_share(m.figures["load_cpus_busy"]), True),
    BOUND,
]
FLAGGED = ': the req/s is a floor of the server\'s capacity (docs/benchmark.md, "A run, in order").'


def _throughput(run: Run) -> view.Section:
    if not run.cells:
        return view.Section("Throughput and latency", [Para(f.NOT_MEASURED)])
    blocks = _throughput_charts(run)
    for variant in run.variants:
        table = view.tabulate(THROUGHPUT_COLUMNS, run.side_by_side(variant))
        blocks += [view.Heading(f"{variant.capitalize()} model"), table]
    blocks += [Para((Span(f.GENERATOR_BOUND, "flag"), FLAGGED)), view.Heading("The load generator")]
    blocks.append(view.tabulate(GENERATOR_COLUMNS, run.measured()))
    return view.Section("Throughput and latency", blocks)


def _rps(found: dict[str, list[CellFigures | None]]) -> list[charts.Series]:
    """Return each target's req/s in its cells, whiskers at its lowest and highest trial."""

    def pick(cells: list[CellFigures | None], key: str) -> list[float | None]:
        return [aggregate.value(c, key) if c else None for c in cells]

    return [
        charts.Series(
            f.label(t), f.colour(t), pick(c, "rps"), pick(c, "rps_min"), pick(c, "rps_max")
        )
        for t, c in found.items()
    ]


def _throughput_charts(run: Run) -> list[view.Block]:
    blocks: list[view.Block] = []
    users = aggregate.busiest_users(run.cells, "light")
    if (scenarios := run.scenarios("light", users)) and users is not None:
        series = _rps(run.across("light", [(s, users) for s in scenarios]))
        axes = charts.axes("throughput.by_scenario", users=f.plural(users, "user"))
        blocks.append(charts.bars(axes, scenarios, series))
    users, at = aggregate.at_users(run.cells, run.targets, "light", "predict_one")
    if at and users is not None:
        percentiles = aggregate.PERCENTILES[:-1]
        series = [
            charts.Series(f.label(t), f.colour(t), [c["latency_ms"][p] for p in percentiles])
            for t, c in at.items()
        ]
        axes = charts.axes("throughput.latency", users=f.plural(users, "user"))
        blocks.append(charts.bars(axes, [f.PERCENTILE_LABELS[p] for p in percentiles], series))
    if len(levels := aggregate.users_levels(run.cells, "light", "predict_one")) > 1:
        found = run.across("light", [("predict_one", u) for u in levels])
        lines = [
            charts.Curve(f.label(t), f.colour(t), [(u, c["rps"]) for u, c in at_levels if c])
            for t, cells in found.items()
            for at_levels in [zip(levels, cells, strict=True)]
        ]
        blocks.append(charts.curves(charts.axes("throughput.by_users"), lines, log_x=True))
    return blocks


CALIBRATION_COLUMNS: list[Column[Calibration]] = [
    Column("Target", lambda e: f.label(e["target"])),
    Column("Variant", lambda e: e["variant"]),
    Column("Scenario", lambda e: view.code(e["scenario"])),
    Column("Users", lambda e: str(e["users"]), True),
    Column("Locust req/s", lambda e: f.fmt_rps(e["locust_rps"]), True),
    Column("wrk req/s", lambda e: f.fmt_rps(e["wrk_rps"]), True),
    Column("Locust/wrk", lambda e: f"{e['locust_to_wrk']:.2f}", True),
    Column("wrk p50 ms", lambda e: f.fmt_ms(e["wrk_latency_ms"]["p50"]), True),
    Column("wrk p99 ms", lambda e: f.fmt_ms(e["wrk_latency_ms"]["p99"]), True),
    Column("Flag", lambda e: _flag(f.GENERATOR_LIMITED, e["generator_limited"])),
]
CHECKED = (
    "wrk (in C) drove the same load to check Locust's figure. ",
    Span(f.GENERATOR_LIMITED, "flag"),
    ": Locust/wrk below 0.90, so compare targets on wrk's figure.",
)


def _calibration(run: Run) -> view.Section:
    found = run.results.get("calibration") or []
    entries = sorted(found, key=lambda e: aggregate.sort_key(aggregate.cell_of(e)))
    table = view.or_missing(view.tabulate(CALIBRATION_COLUMNS, entries))
    return view.Section("Calibration against wrk", [table, *([Para(CHECKED)] if entries else [])])


CPU_COLUMNS: list[Column[Measured]] = [
    *(TARGET, VARIANT, USERS),
    Column("CPU µs/request", lambda m: f.fmt_us(m.figures["server_cpu_us_per_request"]), True),
    Column("Model µs", lambda m: f.fmt_us(m.figures["model_us"]), True),
    Column("Framework µs", lambda m: f.fmt_us(m.figures["framework_us"]), True),
    Column("Framework share", lambda m: f.fmt_share(m.figures["framework_share"]), True),
]


def _cpu(run: Run) -> view.Section:
    # One users level per variant, the highest every target reached, so targets compare alike.
    found = run.at_common_users("predict_one")
    blocks: list[view.Block] = []
    # Where both parts are known (a zero is known): the model's Server-Timing and the rest.
    if split := [
        m for m in found if None not in (m.figures["model_us"], m.figures["framework_us"])
    ]:
        model, rest = ([m.figures[k] for m in split] for k in ("model_us", "framework_us"))
        colours = [f.colour(m.target) for m in split]
        segments = [
            charts.Series("model", f.MODEL_COLOUR, model),
            charts.Series("framework", f.OTHER_COLOUR, rest, colours=colours),
        ]
        targets = aggregate.ordered(m.target for m in split)
        legend = [("model", f.MODEL_COLOUR)]
        legend += [(f"framework: {f.label(t)}", f.colour(t)) for t in targets]
        axes = charts.axes("cpu.chart", legend)
        categories = [f"{f.label(m.target)} · {m.variant}" for m in split]
        blocks.append(charts.bars(axes, categories, segments, stack=True))
    blocks.append(view.or_missing(view.tabulate(CPU_COLUMNS, found)))
    blocks += [view.see("A run, in order")] if found else []
    blocks += in_process(run.results.get("overhead") or [], run.results["targets"])
    return view.Section("CPU per request", blocks)


IN_PROCESS_COLUMNS: list[Column[Overhead]] = [
    Column("Target", lambda r: f.label(r["target"])),
    Column("Health µs", lambda r: f.fmt_us(r["health_us"]), True),
    Column("Predict µs", lambda r: f.fmt_us(r["predict_us"]), True),
    Column("Canned µs", lambda r: f.fmt_us(r["predict_canned_us"]), True),
    Column("Model in request µs", lambda r: f.fmt_us(r["model_in_request_us"]), True),
    Column("Model alone µs", lambda r: f.fmt_us(r["model_alone_us"]), True),
    # Flask's envelope check takes well under a microsecond: one decimal, not zero.
    Column("Envelope µs", lambda r: f.fmt_us(r["envelope_us"], 1), True),
]


def in_process(overhead: list[Overhead], facts: f.Facts) -> list[view.Block]:
    """Return each target's cost per call in process, and each app's extra over the baseline."""
    if not overhead:
        return []
    found: dict[str, Overhead] = {r["target"]: r for r in overhead}
    extra: list[view.Inline] = [
        f.prose("cpu.extra", name=f.label(name), us=split)
        for name, split in aggregate.over_baseline(overhead, facts)
    ]
    return [
        view.Heading("In process, without server or network"),
        view.tabulate(IN_PROCESS_COLUMNS, [found[name] for name in aggregate.ordered(found)]),
        Para(("Measured by ", view.code("python -m benchmarks overhead"), "; docs/results.md.")),
        *([view.Bullets(extra)] if extra else []),
    ]


SECTIONS = (_summary, claims_section, _throughput, _calibration, _cpu)
