"""The section on deployments the runner did not start (``python -m benchmarks remote``).

It reads ``results["remote"]`` alone: the gate, then each target's Locust phases as a client
saw them. What only the server's machine can tell (its CPU, its memory) is said to be not
measurable from here, with the reason, never estimated.
"""

from __future__ import annotations

from benchmarks.analysis.aggregate import Run
from benchmarks.report.formatting import fmt_ms, fmt_rps, prose
from benchmarks.report.view import Block, Inline, Para, Section, Table, code
from benchmarks.results.remote import Remote

UNMEASURED = "not measurable remotely"


def blocks(remote: Remote) -> list[Block]:
    """Return the gate, each target's phases, and what was not measured, and why."""
    config = remote["config"]
    gate = remote["parity"]
    locust = prose("remote.workers" if config["expect_workers"] else "remote.local", c=config)
    rows: list[list[Inline]] = [
        [
            code(phase["target"]),
            code(phase["scenario"]),
            str(phase["trial"] + 1),
            str(phase["users"]),
            fmt_rps(phase["rps"]),
            *(fmt_ms(phase["latency_ms"][p]) for p in ("p50", "p90", "p99")),
            str(phase["failures"]),
            str(phase["workers"]),
            UNMEASURED,
            UNMEASURED,
        ]
        for phase in remote["phases"]
    ]
    headers = ["target", "scenario", "trial", "users", "req/s", "p50 ms", "p90 ms", "p99 ms"]
    headers += ["failures", "workers", "server CPU us/req", "server memory MiB"]
    return [
        Para(f"against deployments this command did not start: {', '.join(remote['targets'])}"),
        Para(
            prose(
                "remote.gate",
                ok="passed" if gate["ok"] else "FAILED",
                gate=gate,
                c=config,
                locust=locust,
            )
        ),
        Table(headers, rows, frozenset(range(2, 10))),
        *(Para(f"{field}: null, {why}") for field, why in remote["not_measured"].items()),
    ]


def _remote(run: Run) -> Section:
    remote = run.results.get("remote")
    return Section("Remote deployments", blocks(remote) if remote else [])


SECTIONS = (_remote,)
