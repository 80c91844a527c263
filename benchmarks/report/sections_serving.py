"""Sections on serving beside the apps' default deployment, each from its command's results:
the serving frameworks on the apps' figures (``peers``), adaptive batching (``batching``), and
deployments the runner did not start (``remote``: what only their machine can tell is said to be
not measurable from here, never estimated)."""

from collections.abc import Callable

from benchmarks.analysis import batching as batched
from benchmarks.analysis import decision
from benchmarks.analysis import gap as gaps
from benchmarks.analysis import peers as judging
from benchmarks.analysis.aggregate import Run
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Block, Bullets, Column, Inline, Para, Section, Table, code, see
from benchmarks.results.batching import Batching
from benchmarks.results.peers import Peers
from benchmarks.results.records import Interval
from benchmarks.results.remote import Remote

WORDS = {1: "ahead", -1: "behind", 0: "~", None: "undecided"}
_millions = f.fmt("{:.2f} M", 1e6)  # no thousands separator: the peers' table is narrow
FORMAT: dict[str, Callable[[float | None], str]] = {
    "instructions": _millions,
    "cpu_us_per_request": f.fmt_us,
    "rps": f.fmt_rps,
    "startup_s": lambda v: f.fmt_us(v, 2),
    "capacity_rps": f.fmt_rps,
    "pss_anon_mib": f.fmt_mib,
    "pss_anon_per_worker_mib": f.fmt_mib,
    "loc": lambda v: f.fmt_us(v),
    "installed_bytes": f.fmt("{:.1f} MB", 1e6),
}


def peers_blocks(peers: Peers) -> list[Block]:
    """Return the figures, the standings against each app, the settings and the gate."""
    servers = {name: t for name, t in peers["targets"].items() if t["kind"] != "twin"}
    standings, figures = judging.table(peers), judging.FIGURES

    def figure_column(figure: judging.Figure) -> Column[str]:
        def cell(name: str) -> str:
            shown = FORMAT[figure.key](judging.value(peers, name, figure))
            against = standings[figure.key][name]
            marks = [f"{ref[0].upper()} {WORDS[c.ahead]}" for ref, c in against.items()]
            return shown + (f" ({', '.join(marks)})" if marks else "")

        return Column(figure.label, cell, True)

    protocol: Column[str] = Column("protocol", lambda n: servers[n]["protocol"])
    values = view.tabulate(
        [Column("server", code), protocol, *map(figure_column, figures)], servers
    )
    timed = "; ".join(
        f"{x.label}: {judging.aa_gate(peers, x)}" for x in figures if x.kind == "timed"
    )
    counted = {n: t["in_process_instructions"] for n, t in peers["targets"].items()}
    in_process = [f"{n} {_millions(c)}" for n, c in counted.items() if c]
    versions = {n: ", ".join(map(" ".join, t["versions"].items())) for n, t in servers.items()}
    settings: list[Inline] = [
        (code(n), f.prose("peers.server", t=t, versions=versions[n])) for n, t in servers.items()
    ]
    return [
        Para(f.prose("peers.method", c=peers["config"])),
        values,
        *([Para(f.prose("peers.in_process", counted=", ".join(in_process)))] if in_process else []),
        *([Para(workers_text(peers))] if peers["workers"] or peers["workers_refused"] else []),
        *gap_blocks(peers),
        Para(f"A/A gate of the timed figures: {timed}"),
        Bullets(settings),
        *(Para(f"not measured: {name}: {why}") for name, why in peers["skipped"].items()),
        see("The peers: FastAPI and the model servers beside the apps"),
    ]


def gap_blocks(peers: Peers) -> list[Block]:
    """Return each app's gap to FastAPI per request, part by part, counted and timed."""
    both = zip(gaps.decompose(peers), gaps.decompose(peers, "cpu_us_per_request"), strict=True)
    pairs = [(c, t) for c, t in both if c.total is not None or t.total is not None]
    if not pairs:
        return []
    whole = "whole gap (sync worker - FastAPI)"
    rows = [
        (counted.app, *parts)
        for counted, timed in pairs
        for parts in [
            (gaps.Part(whole, counted.total, 1.0), gaps.Part(whole, timed.total, 1.0)),
            *zip(counted.parts, timed.parts, strict=True),
        ]
    ]
    baseline = _millions(pairs[0][0].baseline_connection)
    return [
        Para(f.prose("peers.gap", baseline=baseline)),
        view.tabulate(
            [
                Column("app", lambda row: code(row[0])),
                Column("part", lambda row: row[1].name),
                Column("instructions", lambda row: _millions(row[1].value), True),
                Column("share", lambda row: f.fmt_share(row[1].share), True),
                Column("CPU under wrk, us", lambda row: f.fmt_us(row[2].value), True),
                Column("share", lambda row: f.fmt_share(row[2].share), True),
            ],
            rows,
        ),
    ]


def workers_text(peers: Peers) -> str:
    """Return how the memory per added worker was measured, and each server's readings."""
    config = peers["config"]
    low, high = min(config["worker_counts"]), max(config["worker_counts"])
    shown = "; ".join(
        f"{name} {f.fmt_mib(at[low][0])} MiB ({at[low][1]} processes) / "
        f"{f.fmt_mib(at[high][0])} MiB ({at[high][1]})"
        for name, at in judging.memory_by_workers(peers).items()
    )
    refused = "".join(f" Not measured: {n}: {why}." for n, why in peers["workers_refused"].items())
    return f.prose("peers.workers", c=config, low=low, high=high, shown=shown, refused=refused)


STANDING = {1: "ahead", -1: "behind", 0: "~ (within 5%)", None: "undecided"}
# The heavy model's line in a lighter tint of its server's colour.
HEAVY_TINTS = {"flask": "#8fb0ec", "django": "#6cc4a4"}


def _ratio(ratio: float | None, found: Interval | None) -> str:
    """Return a capacity ratio with its interval, as the tables show it."""
    interval = f" ({found['low']:.2f}-{found['high']:.2f})" if found else ""
    return f.MISSING if ratio is None else f"{ratio:.2f}x{interval}"


def batching_chart(batching: Batching) -> charts.Chart:
    """Return capacity against maximum batch size, one line per server, model and wait."""
    waits = batched.waits(batching)
    lines = [
        charts.Curve(
            f"{server} · {variant}" + (f" · wait {wait:g} ms" if len(waits) > 1 else ""),
            HEAVY_TINTS.get(server, f.OTHER_COLOUR) if variant == "heavy" else f.colour(server),
            [(float(size), rps) for size, rps in batched.sweep(batching, server, variant, wait)],
        )
        for variant in batching["config"]["variants"]
        for server in batched.servers(batching, "app")
        for wait in waits
    ]
    return charts.curves(charts.axes("batching.chart"), [c for c in lines if c.points], log_x=True)


def batching_blocks(batching: Batching) -> list[Block]:
    """Return the gains against the goals, the configurations' figures and the chart."""
    config, targets = batching["config"], batching["targets"].items()
    found = batched.gains(batching)
    gains = view.tabulate(
        [
            Column("server", lambda g: code(g.server)),
            Column("model", lambda g: g.variant),
            Column("best batched", lambda g: code(g.batched or f.MISSING)),
            Column("gain over the default (95%)", lambda g: _ratio(g.ratio, g.interval), True),
            Column("goal", lambda g: f"{g.goal:g}x", True),
            Column("goal met", lambda g: g.status),
        ],
        found,
    )
    names = [n for n, t in batching["targets"].items() if t["twin_of"] is None]
    counts = batching["instructions"]
    columns: list[Column[str]] = [
        Column("configuration", code),
        Column("worker", lambda n: batching["targets"][n]["worker"]),
        Column("capacity, req/s", lambda n: f.fmt_rps(batched.capacity(batching, n)), True),
        Column(
            "CPU per request at capacity, us", lambda n: f.fmt_us(batched.cpu_us(batching, n)), True
        ),
        Column("p50 at one user, ms", lambda n: f.fmt_ms(batched.p50_ms(batching, n)), True),
        Column("instructions per request, one at a time", lambda n: _millions(counts.get(n)), True),
    ]
    figures = view.tabulate(columns, names)
    versus = view.tabulate(
        [
            Column("model", lambda v: v.variant),
            Column("app, best", lambda v: code(v.ours or f.MISSING)),
            Column("peer, best", lambda v: code(v.theirs or f.MISSING)),
            Column("capacity ratio (95%)", lambda v: _ratio(v.ratio, v.interval), True),
            Column("the app is", lambda v: STANDING[v.ahead]),
        ],
        batched.standings(batching),
    )
    checks = "; ".join(f"{v}: {decision.gate(batched.aa(batching, v))}" for v in config["variants"])
    waits = ", ".join(f"{wait:g}" for wait in batched.waits(batching))
    apps = [batching["targets"][g.against] for g in found if g.against]
    workers = {t["worker"] for t in apps if t["kind"] == "app"}
    reference = "; ".join(sorted(workers)) or f.MISSING
    return [
        Para(f.prose("batching.method", c=config, waits=waits, reference=reference)),
        gains,
        figures,
        *([versus] if versus.rows else []),
        batching_chart(batching),
        Para("A/A check (Flask's default deployment searched twice): " + checks),
        *(Para(f"{n}: its own batching, {t['batching']}") for n, t in targets if "batching" in t),
        *(Para(f"not measured: {name}: {why}") for name, why in batching["skipped"].items()),
        see("Adaptive batching"),
    ]


UNMEASURED = "not measurable remotely"


def remote_blocks(remote: Remote) -> list[Block]:
    """Return the gate, each target's phases, and what was not measured, and why."""
    config, gate = remote["config"], remote["parity"]
    ok = "passed" if gate["ok"] else "FAILED"
    locust = f.prose("remote.workers" if config["expect_workers"] else "remote.local", c=config)
    rows: list[list[Inline]] = [
        [
            *(code(phase["target"]), code(phase["scenario"]), str(phase["trial"] + 1)),
            *(str(phase["users"]), f.fmt_rps(phase["rps"])),
            *(f.fmt_ms(phase["latency_ms"][p]) for p in ("p50", "p90", "p99")),
            *(str(phase["failures"]), str(phase["workers"]), UNMEASURED, UNMEASURED),
        ]
        for phase in remote["phases"]
    ]
    headers = ["target", "scenario", "trial", "users", "req/s", "p50 ms", "p90 ms", "p99 ms"]
    headers += ["failures", "workers", "server CPU us/req", "server memory MiB"]
    return [
        Para(f"against deployments this command did not start: {', '.join(remote['targets'])}"),
        Para(f.prose("remote.gate", ok=ok, gate=gate, c=config, locust=locust)),
        Table(headers, rows, frozenset(range(2, 10))),
        *(Para(f"{field}: null, {why}") for field, why in remote["not_measured"].items()),
    ]


def remote_section(run: Run) -> Section:
    remote = run.results.get("remote")
    return Section("Remote deployments", remote_blocks(remote) if remote else [])


PEERS = view.part("Serving frameworks", lambda run: run.results.get("peers"), peers_blocks)
BATCHING = view.part("Adaptive batching", lambda run: run.results.get("batching"), batching_blocks)
