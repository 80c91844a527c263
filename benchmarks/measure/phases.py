"""One Locust phase against one target: Locust's figures plus the server's CPU and memory.

The window. Locust counts the requests that complete between two moments: the reset of its
statistics when the warm-up ends and the moment its users have stopped. Its users finish the
request they have in flight before stopping (``benchmarks.load.locust``), so the server is sent
nothing Locust does not count. At each of the two moments, in the same step as the reset or the
stop, each Locust process writes down the time, its own CPU seconds, the load CPUs' busy time and
the CPU seconds of the gunicorn process tree. Server CPU per request is the tree's CPU between the
local (or master) process's reset and the last process's stop, divided by the requests Locust
counted in that window: the same window, read by the process that opens and closes it rather
than by this runner some milliseconds later. What is left inexact: the requests in flight when
the window opens are counted whole although part of their work came before it (at most one per
user: under 0.2% of a default phase), and distributed workers reset a few milliseconds apart.

The generator. Locust is one gevent loop per process, so it can use one core, however many load
CPUs it has: each Locust process's CPU over its own window is taken as its share of one core, and
the phase is generator-bound when any process (the local one, or the master or any worker)
reached the threshold, or when the load CPUs were that busy by anything.

Memory. RSS, PSS and USS of the gunicorn master and of every worker, sampled from a thread of the
runner twice a second over the window. Totals are over the master and its workers; steady is the
median over the samples. The runner, thread included, runs pinned to the load CPUs meanwhile.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, cast

from benchmarks.load import locust
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.results.records import Phase
from benchmarks.results.vocabulary import Latency, LocustError, Target
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import (
    MemorySample,
    ProcessTree,
    ServerMemory,
    pinned,
)

GENERATOR_BOUND = 0.9  # a Locust process this busy (share of one core) is measuring itself
MEMORY_INTERVAL_S = 0.5  # memory_full_info reads smaps_rollup: about 1 ms per process


def run_phase(setup: Setup, the_plan: Plan, server: Server, cell: Cell, trial: int) -> Phase:
    """Load one target with one cell's traffic and return the phase's figures."""
    label = f"{cell.variant}-{cell.scenario}-u{cell.users}-{server.name}-t{trial}"
    workdir = setup.run_dir / "raw" / label
    workdir.mkdir(parents=True)
    timing = (the_plan.warmup_s, round(the_plan.warmup_s + the_plan.measure_s))
    # The runner's polling and the memory thread must not take CPU from the server.
    with pinned(setup.load_cpus):
        family = ProcessTree(server.pid)
        load = locust.Phase(setup, server.url, cell, workdir, timing, server_pid=server.pid)
        load.wait_measuring()
        with ServerMemory(server.pid, interval_s=MEMORY_INTERVAL_S) as memory:
            load.wait_stopped()
        load.wait_done()
    if family.changed():
        # A worker that died mid-window took its CPU time with it: the figure would be wrong.
        raise RuntimeError(
            f"{server.name}'s workers changed during {label}:\n{server.log()[-2000:]}"
        )
    return phase_figures(
        setup, server, cell, trial, load.summaries(), workdir, load.edges(), memory.samples
    )


Edges = Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]]  # name -> (opened, closed)


def window_figures(edges: Edges) -> dict[str, Any]:
    """Return server CPU seconds, each Locust's share of a core and the load CPUs' busy share."""
    # The window opens with the first process's reset and closes with the last process's stop.
    opened = next(iter(edges.values()))[0]  # local or master: it reset the counted statistics
    closed = max((stop for _, stop in edges.values()), key=lambda edge: edge["time"])
    shares = {
        name: (stop["process_cpu_s"] - start["process_cpu_s"])
        / max(stop["time"] - start["time"], 1e-9)
        for name, (start, stop) in edges.items()
    }
    total = closed["load_cpus_total_s"] - opened["load_cpus_total_s"]
    busy = closed["load_cpus_busy_s"] - opened["load_cpus_busy_s"]
    return {
        # None when no server process was given to read (a deployment on another machine).
        "server_cpu_s": None
        if opened["server_cpu_s"] is None
        else closed["server_cpu_s"] - opened["server_cpu_s"],
        "generator_cpu_util_by_process": shares,
        "load_cpus_busy": busy / total if total > 0 else 0.0,
    }


class Counted(TypedDict):
    """What Locust counted in a phase's window, every phase's first figures."""

    seconds: float
    requests: int
    failures: int
    errors: list[LocustError]
    rps: float  # served: a failed request (wrong status or body, or no answer) is not served
    latency_ms: Latency


def counted(main: Mapping[str, Any]) -> Counted:
    """Return a phase's counts from its main Locust summary (the one with the totals)."""
    total = main["total"]
    return {
        "seconds": main["seconds"],
        "requests": total["requests"],
        "failures": total["failures"],
        "errors": main["errors"],
        "rps": (total["requests"] - total["failures"]) / main["seconds"],
        "latency_ms": total["latency_ms"],
    }


class MemoryFigures(TypedDict):
    """The memory fields of a ``Phase``, in MiB."""

    pss_mib_steady: float
    pss_mib_peak: float
    uss_mib_steady: float
    rss_mib_steady: float
    pss_mib_master: float
    pss_mib_workers: list[float]


def memory_figures(samples: Sequence[MemorySample]) -> MemoryFigures:
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
    edges: Edges,
    memory: Sequence[MemorySample],
) -> Phase:
    """Combine Locust's summaries and edges with the runner's memory samples into one record."""
    main = next(s for s in summaries if "total" in s)
    total = main["total"]
    model_count = sum(s["model_count"] for s in summaries)
    model_ms = sum(s["model_ms"] for s in summaries)
    window = window_figures(edges)
    by_process = window["generator_cpu_util_by_process"]
    utilisation = max(by_process.values(), default=0.0)
    load_cpus_busy = window["load_cpus_busy"]
    return {
        # A run measures its run targets only, which the vocabulary's Target names.
        "target": cast(Target, server.name),
        "variant": cell.variant,
        "scenario": cell.scenario,
        "users": cell.users,
        "trial": trial,
        **counted(main),
        "server_cpu_us_per_request": window["server_cpu_s"] / max(total["requests"], 1) * 1e6,
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
