"""Sections on load: the summary, throughput and latency, calibration, CPU per request (the
Claims section between the summary and throughput is sections_claims's)."""

from __future__ import annotations

from benchmarks.analysis import aggregate, judge
from benchmarks.analysis.aggregate import CellFigures, Measured, Percentile, Run
from benchmarks.report import charts, sections_claims, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Column, Para, Span
from benchmarks.results.records import Calibration, Overhead

NOTHING = "No load was measured in this run."


def _summary(run: Run) -> view.Section:
    # The headline cell and the claims; every other figure is in its section's table.
    bullets: list[view.Inline] = []
    users, here = aggregate.at_users(run.cells, run.targets, "light", "predict_one")
    if here and users is not None:
        figures = ", ".join(f"{f.label(t)} {f.fmt_rps(c['rps'])} req/s" for t, c in here.items())
        trials = f.span((c["trials"] for c in here.values()), "trial")
        bullets.append(
            f"Light model, one-row predictions at {f.plural(users, 'user')}: {figures} "
            f"(median of {trials})."
        )
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
    chart = sections_claims.chart(claims)
    return view.Section("Summary", [*chart, view.Bullets(bullets or [NOTHING])])


def _flag(text: str, raised: bool) -> view.Inline:
    return Span(text, "flag") if raised else ""


def _latency(p: Percentile) -> Column[Measured]:
    return Column(
        f"{f.PERCENTILE_LABELS[p]} ms", lambda m: f.fmt_ms(m.figures["latency_ms"][p]), True
    )


def _range(c: CellFigures) -> str:
    return (
        f"{f.fmt_rps(c['rps_min'])}{f.EN_DASH}{f.fmt_rps(c['rps_max'])}" if c["trials"] > 1 else ""
    )


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
    return view.Section(
        "Throughput and latency",
        [
            *blocks,
            Para((Span(f.GENERATOR_BOUND, "flag"), FLAGGED)),
            view.Heading("The load generator"),
            view.tabulate(GENERATOR_COLUMNS, run.measured()),
        ],
    )


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
            charts.Curve(
                f.label(t),
                f.colour(t),
                [(u, c["rps"]) for u, c in zip(levels, cells, strict=True) if c],
            )
            for t, cells in found.items()
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
    entries = sorted(
        run.results.get("calibration") or [], key=lambda e: aggregate.sort_key(aggregate.cell_of(e))
    )
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
        colours = [f.colour(m.target) for m in split]
        segments = [
            charts.Series("model", f.MODEL_COLOUR, [m.figures["model_us"] for m in split]),
            charts.Series(
                "framework",
                f.OTHER_COLOUR,
                [m.figures["framework_us"] for m in split],
                colours=colours,
            ),
        ]
        legend = [("model", f.MODEL_COLOUR)] + [
            (f"framework: {f.label(t)}", f.colour(t))
            for t in aggregate.ordered(m.target for m in split)
        ]
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
    blocks: list[view.Block] = [
        view.Heading("In process, without server or network"),
        view.tabulate(IN_PROCESS_COLUMNS, [found[name] for name in aggregate.ordered(found)]),
        Para(("Measured by ", view.code("python -m benchmarks overhead"), "; docs/results.md.")),
    ]
    extra = (
        f"{f.label(name)}: {f.fmt_us(split['extra_us'])} µs per prediction over the baseline, "
        f"{f.fmt_us(split['own_code_us'])} µs in its own code and "
        f"{f.fmt_us(split['interference_us'])} µs in the model and its code slowing each other."
        for name, split in aggregate.over_baseline(overhead, facts)
    )
    return [
        *blocks,
        *([view.Bullets([*extra])] if aggregate.over_baseline(overhead, facts) else []),
    ]


SECTIONS = (_summary, sections_claims.section, _throughput, _calibration, _cpu)
