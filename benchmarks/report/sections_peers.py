"""The section on the peers (``python -m benchmarks peers``): the apps and the serving frameworks
on the same figures, which is ahead of Flask and of Django on each by the rule, and how each
server was run. It reads ``results["peers"]`` alone."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.analysis import gap as gaps
from benchmarks.analysis import peers as judging
from benchmarks.analysis.peers import FIGURES, Figure
from benchmarks.report.formatting import MISSING, fmt_mib, fmt_rps, fmt_share, fmt_us, prose
from benchmarks.report.view import Block, Bullets, Column, Para, code, part, see
from benchmarks.report.view import tabulate as tab
from benchmarks.results.peers import Peers

WORDS = {1: "ahead", -1: "behind", 0: "~", None: "undecided"}
FORMAT: dict[str, Callable[[float | None], str]] = {
    "instructions": lambda v: MISSING if v is None else f"{v / 1e6:.2f} M",
    "cpu_us_per_request": fmt_us,
    "rps": fmt_rps,
    "startup_s": lambda v: fmt_us(v, 2),
    "capacity_rps": fmt_rps,
    "pss_anon_mib": fmt_mib,
    "pss_anon_per_worker_mib": fmt_mib,
    "loc": lambda v: fmt_us(v),
    "installed_bytes": lambda v: MISSING if v is None else f"{v / 1e6:.1f} MB",
}


def blocks(peers: Peers) -> list[Block]:
    """Return the figures, the standings against each app, the settings and the gate."""
    servers = [name for name, t in peers["targets"].items() if t["kind"] != "twin"]
    standings = judging.table(peers)

    def figure_column(figure: Figure) -> Column[str]:
        def cell(name: str) -> str:
            shown = FORMAT[figure.key](judging.value(peers, name, figure))
            against = standings[figure.key][name]
            marks = [f"{ref[0].upper()} {WORDS[c.ahead]}" for ref, c in against.items()]
            return shown + (f" ({', '.join(marks)})" if marks else "")

        return Column(figure.label, cell, numeric=True)

    def protocol(name: str) -> str:
        return peers["targets"][name]["protocol"]

    values = tab(
        [Column("server", code), Column("protocol", protocol), *map(figure_column, FIGURES)],
        servers,
    )
    timed = "; ".join(
        f"{f.label}: {judging.aa_gate(peers, f)}" for f in FIGURES if f.kind == "timed"
    )
    in_process = [
        f"{name} {t['in_process_instructions'] / 1e6:.2f} M"
        for name, t in peers["targets"].items()
        if t["in_process_instructions"]
    ]
    return [
        Para(prose("peers.method", c=peers["config"])),
        values,
        *([Para(prose("peers.in_process", counted=", ".join(in_process)))] if in_process else []),
        *([Para(workers_text(peers))] if peers["workers"] or peers["workers_refused"] else []),
        *gap_blocks(peers),
        Para(f"A/A gate of the timed figures: {timed}"),
        Bullets(
            [
                (code(name), prose("peers.server", protocol=protocol(name), versions=versions, t=t))
                for name, t in peers["targets"].items()
                if t["kind"] != "twin"
                for versions in [", ".join(f"{k} {v}" for k, v in t["versions"].items())]
            ]
        ),
        *(Para(f"not measured: {name}: {why}") for name, why in peers["skipped"].items()),
        see("The peers: FastAPI and the model servers beside the apps"),
    ]


def gap_blocks(peers: Peers) -> list[Block]:
    """Return each app's gap to FastAPI per request, part by part, counted and timed."""
    pairs = [
        (counted, timed)
        for counted, timed in zip(
            gaps.decompose(peers), gaps.decompose(peers, "cpu_us_per_request"), strict=True
        )
        if counted.total is not None or timed.total is not None
    ]
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
    baseline = FORMAT["instructions"](pairs[0][0].baseline_connection)
    return [
        Para(prose("peers.gap", baseline=baseline)),
        tab(
            [
                Column("app", lambda row: code(row[0])),
                Column("part", lambda row: row[1].name),
                Column("instructions", lambda row: FORMAT["instructions"](row[1].value), True),
                Column("share", lambda row: fmt_share(row[1].share), True),
                Column("CPU under wrk, us", lambda row: fmt_us(row[2].value), True),
                Column("share", lambda row: fmt_share(row[2].share), True),
            ],
            rows,
        ),
    ]


def workers_text(peers: Peers) -> str:
    """Return how the memory per added worker was measured, and each server's readings."""
    config = peers["config"]
    low, high = min(config["worker_counts"]), max(config["worker_counts"])
    shown = [
        f"{name} {fmt_mib(at[low][0])} MiB ({at[low][1]} processes) / "
        f"{fmt_mib(at[high][0])} MiB ({at[high][1]})"
        for name, at in judging.memory_by_workers(peers).items()
    ]
    refused = "".join(
        f" Not measured: {name}: {why}." for name, why in peers["workers_refused"].items()
    )
    return prose(
        "peers.workers", c=config, low=low, high=high, shown="; ".join(shown), refused=refused
    )


SECTIONS = (part("Serving frameworks", lambda run: run.results.get("peers"), blocks),)
