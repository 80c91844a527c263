"""Open-loop load on Locust: requests leave on a schedule, not when the previous answer came back.

A closed-loop generator (Locust's users with no wait time, wrk) sends a user's next request only
once its last one was answered, so when the server stalls the generator stalls with it: the
requests that would have arrived meanwhile are never sent, and the stall shows in a handful of
samples (coordinated omission). Here every request has an intended send time drawn in advance,
at a constant rate or as a Poisson process, and its latency runs from that intended time to the
answer: a request that waited behind a stall, in the client or at the server, carries the wait.

One Locust user per process (``openloop_locustfile.py``) holds the schedule and sends each request
from its own greenlet, so a slow answer never delays the next send; up to ``MAX_IN_FLIGHT``
requests are open at once, over as many connections. Past that the next send waits for a free
slot, and its latency still counts from its intended time. The user records how late each send
left (the generator's own lag, a health check of the generator) and, at the stop, reports any
request still unanswered as a failure rather than dropping it.

This module holds the schedule and the command line; it imports neither Locust nor gevent.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import REPO
from benchmarks.load import locust
from benchmarks.plan import Setup

LOCUSTFILE = REPO / "benchmarks" / "load" / "openloop_locustfile.py"
ARRIVALS = ("constant", "poisson")
MAX_IN_FLIGHT = 512  # open requests (and connections) at once; the listen backlog is 2048
TIMEOUT_S = 2.0  # a request unanswered this long failed (a timeout), as an overloaded server's do
SEED = 20_261_213  # fixed: the same rate gives the same Poisson schedule


def arrivals(
    rate: float, seconds: float, arrival: str = "constant", seed: int = SEED
) -> list[float]:
    """Return the intended send times, in seconds from the start, of ``rate`` requests a second.

    ``constant``: evenly spaced. ``poisson``: exponential gaps of mean ``1/rate``, drawn from a
    seeded generator, so bursts and lulls come as they would from many independent clients.
    """
    if rate <= 0 or seconds <= 0:
        return []
    if arrival == "constant":
        return [i / rate for i in range(int(seconds * rate))]
    if arrival != "poisson":
        raise ValueError(f"unknown arrival process {arrival!r}; one of {ARRIVALS}")
    draw = random.Random(seed)
    times, now = [], draw.expovariate(rate)
    while now < seconds:
        times.append(now)
        now += draw.expovariate(rate)
    return times


def command(
    setup: Setup,
    url: str,
    scenario: str,
    workdir: Path,
    timing: tuple[float, int],
    rate: float,
    *,
    arrival: str = "constant",
    server_pid: int = 0,
) -> list[str]:
    """Return the command line of one open-loop Locust phase: one process, one scheduling user.

    ``timing`` is (warm-up seconds, total run seconds); the schedule fills the run time.
    """
    warmup, seconds = timing
    line = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    line += ["--scenario", scenario, "--warmup-seconds", str(warmup)]
    line += ["--summary-dir", str(workdir), "--payloads", str(setup.payloads_path)]
    line += ["--loglevel", "WARNING", "--server-pid", str(server_pid)]
    line += ["--rate", f"{rate:.3f}", "--arrival", arrival, "--schedule-seconds", str(seconds)]
    line += ["--host", url, "--users", "1", "--spawn-rate", "1"]
    line += ["--run-time", f"{seconds}s", "--only-summary", "--exit-code-on-error", "0"]
    # The user drains its open requests before it stops; each ends within TIMEOUT_S.
    line += ["--stop-timeout", str(int(TIMEOUT_S) + locust.STOP_TIMEOUT_S)]
    return ["taskset", "--cpu-list", str(setup.load_cpus), *line]


class Phase(locust.Phase):
    """One open-loop Locust run against one server: its window and summaries as a closed one's."""

    def __init__(self, line: list[str], workdir: Path, run_s: int) -> None:
        """Start the phase ``command`` gave, which writes into ``workdir`` and runs ``run_s``."""
        self.label = workdir.name
        self.workdir = workdir
        self.deadline = time.monotonic() + run_s + locust.START_GRACE_S + TIMEOUT_S
        with (workdir / "locust.log").open("wb") as log:
            self.processes = [subprocess.Popen(line, cwd=REPO, stdout=log, stderr=log)]
        self.names = ["local"]
