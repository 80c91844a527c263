"""The section on adaptive batching (``python -m benchmarks batching``): capacity against maximum
batch size, the gain over the default deployment against the goals, and what batching costs at
low load. It reads ``results["batching"]`` alone."""

from __future__ import annotations

from benchmarks.analysis import batching as judging
from benchmarks.analysis import decision
from benchmarks.report import charts
from benchmarks.report.formatting import (
    MISSING,
    OTHER_COLOUR,
    colour,
    fmt_ms,
    fmt_rps,
    fmt_us,
    prose,
)
from benchmarks.report.view import Block, Column, Para, code, part, see
from benchmarks.report.view import tabulate as tab
from benchmarks.results.batching import Batching
from benchmarks.results.records import Interval

WORDS = {1: "ahead", -1: "behind", 0: "~ (within 5%)", None: "undecided"}
# The heavy model's line in a lighter tint of its server's colour.
HEAVY_TINTS = {"flask": "#8fb0ec", "django": "#6cc4a4"}


def _ratio(ratio: float | None, found: Interval | None) -> str:
    """Return a capacity ratio with its interval, as the tables show it."""
    if ratio is None:
        return MISSING
    return f"{ratio:.2f}x" + (f" ({found['low']:.2f}-{found['high']:.2f})" if found else "")


def chart(batching: Batching) -> charts.Chart:
    """Return capacity against maximum batch size, one line per server, model and wait."""
    waits = judging.waits(batching)
    lines = [
        charts.Curve(
            f"{server} · {variant}" + (f" · wait {wait:g} ms" if len(waits) > 1 else ""),
            HEAVY_TINTS.get(server, OTHER_COLOUR) if variant == "heavy" else colour(server),
            [(float(size), rps) for size, rps in judging.sweep(batching, server, variant, wait)],
        )
        for variant in batching["config"]["variants"]
        for server in judging.servers(batching, "app")
        for wait in waits
    ]
    return charts.curves(charts.axes("batching.chart"), [c for c in lines if c.points], log_x=True)


def blocks(batching: Batching) -> list[Block]:
    """Return the gains against the goals, the configurations' figures and the chart."""
    config = batching["config"]
    gains = tab(
        [
            Column("server", lambda g: code(g.server)),
            Column("model", lambda g: g.variant),
            Column("best batched", lambda g: code(g.batched or MISSING)),
            Column(
                "capacity gain over sync (95%)",
                lambda g: _ratio(g.ratio, g.interval),
                numeric=True,
            ),
            Column("goal", lambda g: f"{g.goal:g}x", numeric=True),
            Column("goal met", lambda g: g.status),
        ],
        judging.gains(batching),
    )
    names = [n for n, t in batching["targets"].items() if t["twin_of"] is None]
    columns: list[Column[str]] = [
        Column("configuration", code),
        Column("worker", lambda n: batching["targets"][n]["worker"]),
        Column("capacity, req/s", lambda n: fmt_rps(judging.capacity(batching, n)), numeric=True),
        Column(
            "CPU per request at capacity, us",
            lambda n: fmt_us(judging.cpu_us(batching, n)),
            numeric=True,
        ),
        Column("p50 at one user, ms", lambda n: fmt_ms(judging.p50_ms(batching, n)), numeric=True),
        Column(
            "instructions per request, one at a time",
            lambda n: (
                f"{batching['instructions'][n] / 1e6:.2f} M"
                if n in batching["instructions"]
                else MISSING
            ),
            numeric=True,
        ),
    ]
    figures = tab(columns, names)
    versus = tab(
        [
            Column("model", lambda v: v.variant),
            Column("app, best", lambda v: code(v.ours or MISSING)),
            Column("peer, best", lambda v: code(v.theirs or MISSING)),
            Column("capacity ratio (95%)", lambda v: _ratio(v.ratio, v.interval), numeric=True),
            Column("the app is", lambda v: WORDS[v.ahead]),
        ],
        judging.standings(batching),
    )
    checks = "; ".join(
        f"{variant}: {decision.gate(judging.aa(batching, variant))}"
        for variant in config["variants"]
    )
    waits = ", ".join(f"{wait:g}" for wait in judging.waits(batching))
    return [
        Para(prose("batching.method", c=config, waits=waits)),
        gains,
        figures,
        *([versus] if versus.rows else []),
        chart(batching),
        Para("A/A check (Flask's sync configuration searched twice): " + checks),
        *(
            Para(f"{name}: its own batching, {t['batching']}")
            for name, t in batching["targets"].items()
            if "batching" in t
        ),
        *(Para(f"not measured: {name}: {why}") for name, why in batching["skipped"].items()),
        see("Adaptive batching"),
    ]


SECTIONS = (part("Adaptive batching", lambda run: run.results.get("batching"), blocks),)
