"""One Locust phase against one target: Locust's figures plus the server's CPU and memory.

The window. Locust counts the requests that complete between two moments: the reset of its
statistics when the warm-up ends (the locustfile writes ``measuring``) and the moment its users
have stopped (each Locust process writes ``stopped-<pid>``). Its users finish the request they have
in flight before stopping (``benchmarks.load.locust``), so the server is sent nothing Locust does
not count. The runner polls for the two markers and samples, at each, the server's CPU (the
gunicorn process tree), each Locust process's CPU and the load CPUs' busy time. Server CPU per
request is the difference over exactly that window divided by the requests Locust counted in it.
What is left inexact, and recorded: the runner samples a few milliseconds after each marker
(``window_lag_ms``), and the requests in flight when the window opens are counted whole although
part of their work came before it (at most one per user: under 0.2% of a default phase).

The generator. Locust is one gevent loop per process, so it can use one core, however many load
CPUs it has: each Locust process's CPU over the window is taken as its share of one core, and the
phase is generator-bound when any process (the local one, or the master or any worker) reached
the threshold, or when the load CPUs were that busy by anything.

Memory. RSS, PSS and USS of the gunicorn master and of every worker, sampled from a thread of the
runner twice a second over the window. Totals are over the master and its workers; steady is the
median over the samples. The runner, thread included, runs pinned to the load CPUs meanwhile.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from benchmarks.load import locust
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.schema import Phase
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import (
    MemorySample,
    ProcessTree,
    ServerMemory,
    busy_fraction,
    pinned,
)

GENERATOR_BOUND = 0.9  # a Locust process this busy (share of one core) is measuring itself
MEMORY_INTERVAL_S = 0.5  # memory_full_info reads smaps_rollup: about 1 ms per process


@dataclass(frozen=True)
class Edge:
    """What the runner read at one edge of the measured window."""

    wall: float  # time.monotonic()
    lag_s: float  # how long after Locust's marker the runner read it
    server_cpu_s: float  # the gunicorn process tree
    locust_cpu_s: Mapping[str, float | None]  # each Locust process's own CPU, by name
    cpu_times: Sequence[Any]  # psutil.cpu_times(percpu=True)

    @classmethod
    def read(cls, server: ProcessTree, load: locust.Phase, marked_at: float) -> Edge:
        """Read the server's and Locust's CPU now, Locust's marker being ``marked_at``."""
        server_cpu = server.cpu_seconds()  # first: the edge is for the server's CPU
        return cls(
            wall=time.monotonic(),
            lag_s=max(time.time() - marked_at, 0.0),
            server_cpu_s=server_cpu,
            locust_cpu_s=load.process_cpu(),
            cpu_times=psutil.cpu_times(percpu=True),
        )


def run_phase(setup: Setup, the_plan: Plan, server: Server, cell: Cell, trial: int) -> Phase:
    """Load one target with one cell's traffic and return the phase's figures."""
    label = f"{cell.variant}-{cell.scenario}-u{cell.users}-{server.name}-t{trial}"
    workdir = setup.run_dir / "raw" / label
    workdir.mkdir(parents=True)
    run_time = round(the_plan.warmup_s + the_plan.measure_s)
    # The runner's polling and the memory thread must not take CPU from the server.
    with pinned(setup.load_cpus):
        tree = ProcessTree(server.pid)
        load = locust.Phase(setup, server.url, cell, workdir, (the_plan.warmup_s, run_time))
        started = load.wait_measuring()
        start = Edge.read(tree, load, started)
        with ServerMemory(server.pid, interval_s=MEMORY_INTERVAL_S) as memory:
            stopped = load.wait_stopped(started + run_time - the_plan.warmup_s - time.time())
            end = Edge.read(tree, load, stopped)
        load.wait_done()
    if tree.changed():
        raise RuntimeError(
            f"{server.name}'s gunicorn workers changed during {label}:\n{server.log()[-2000:]}"
        )
    return phase_figures(
        setup, server, cell, trial, load.summaries(), workdir, (start, end), memory.samples
    )


def generator_utilisation(start: Edge, end: Edge) -> dict[str, float]:
    """Return each Locust process's CPU over the window as a share of one core."""
    wall = max(end.wall - start.wall, 1e-9)
    shares = {}
    for name, before in start.locust_cpu_s.items():
        after = end.locust_cpu_s.get(name)
        shares[name] = (after - before) / wall if before is not None and after is not None else 0.0
    return shares


def memory_figures(samples: Sequence[MemorySample]) -> dict[str, Any]:
    """Return the server's memory over the window, in MiB, from every sampling round."""
    rounds: dict[int, list[MemorySample]] = {}
    for sample in samples:
        rounds.setdefault(sample.round, []).append(sample)
    if not rounds:
        return {
            "pss_mib_steady": 0.0,
            "pss_mib_peak": 0.0,
            "uss_mib_steady": 0.0,
            "rss_mib_steady": 0.0,
            "pss_mib_master": 0.0,
            "pss_mib_workers": [],
        }
    totals = {
        field: [sum(getattr(s, field) for s in found) for found in rounds.values()]
        for field in ("rss", "pss", "uss")
    }
    workers: dict[int, list[float]] = {}
    for sample in samples:
        if sample.role == "worker":
            workers.setdefault(sample.pid, []).append(sample.pss)
    master = [s.pss for s in samples if s.role == "master"]
    return {
        "pss_mib_steady": statistics.median(totals["pss"]),
        "pss_mib_peak": max(totals["pss"]),
        "uss_mib_steady": statistics.median(totals["uss"]),
        "rss_mib_steady": statistics.median(totals["rss"]),
        "pss_mib_master": statistics.median(master) if master else 0.0,
        "pss_mib_workers": [statistics.median(workers[pid]) for pid in sorted(workers)],
    }


def phase_figures(
    setup: Setup,
    server: Server,
    cell: Cell,
    trial: int,
    summaries: list[dict[str, Any]],
    workdir: Path,
    window: tuple[Edge, Edge],
    memory: Sequence[MemorySample],
) -> Phase:
    """Combine Locust's summaries with the runner's own samples into one phase record."""
    main = next(s for s in summaries if "total" in s)
    total = main["total"]
    start, end = window
    model_count = sum(s["model_count"] for s in summaries)
    model_ms = sum(s["model_ms"] for s in summaries)
    by_process = generator_utilisation(start, end)
    utilisation = max(by_process.values(), default=0.0)
    load_cpus_busy = busy_fraction(start.cpu_times, end.cpu_times, setup.load_cpus)
    server_cpu = end.server_cpu_s - start.server_cpu_s
    return {
        "target": server.name,
        "variant": cell.variant,
        "scenario": cell.scenario,
        "users": cell.users,
        "trial": trial,
        "seconds": main["seconds"],
        "requests": total["requests"],
        "failures": total["failures"],
        "errors": main["errors"],
        # Served throughput: a failed request (wrong status or body, or no answer) is not served.
        "rps": (total["requests"] - total["failures"]) / main["seconds"],
        "latency_ms": total["latency_ms"],
        "server_cpu_us_per_request": server_cpu / max(total["requests"], 1) * 1e6,
        "window_lag_ms": max(start.lag_s, end.lag_s) * 1000,
        "model_ms_mean": model_ms / model_count if model_count else None,
        "generator_cpu_util": utilisation,
        "generator_cpu_util_by_process": by_process,
        "load_cpus_busy": load_cpus_busy,
        # Bound when a Locust process was saturated, or when its CPUs were busy with anything
        # else: either way Locust could not have sent more, so this is a floor.
        "generator_bound": max(utilisation, load_cpus_busy) >= GENERATOR_BOUND,
        **memory_figures(memory),
        "csv_prefix": str((workdir / "locust").relative_to(setup.run_dir)),
    }
