"""One Locust phase against one target: Locust's figures plus the server's CPU and memory.

The server's CPU is counted over the measured window (from the end of Locust's warm-up until
Locust exits); every worker's RSS is sampled each quarter second meanwhile.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.load import locust
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.schema import Phase
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import WorkerMemory, busy_fraction, tree_cpu_seconds

GENERATOR_BOUND = 0.9  # Locust busier than this is measuring itself, not the server


def run_phase(setup: Setup, the_plan: Plan, server: Server, cell: Cell, trial: int) -> Phase:
    """Load one target with one cell's traffic and return the phase's figures."""
    label = f"{cell.variant}-{cell.scenario}-u{cell.users}-{server.name}-t{trial}"
    workdir = setup.run_dir / "raw" / label
    workdir.mkdir(parents=True)
    timing = (the_plan.warmup_s, round(the_plan.warmup_s + the_plan.measure_s))
    load = locust.Phase(setup, server.url, cell, workdir, timing)
    load.wait_measuring()
    server_cpu = tree_cpu_seconds(server.pid)
    load_cpu = load.cpu_seconds()
    cpus_before = psutil.cpu_times(percpu=True)
    window_start = time.monotonic()
    with WorkerMemory(server.pid, interval_s=0.25) as memory:
        load_cpu_end = load.wait_done()
        wall = time.monotonic() - window_start
        busy = busy_fraction(cpus_before, psutil.cpu_times(percpu=True), setup.load_cpus)
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu
    generator = (load_cpu_end - load_cpu) / max(wall, 1e-9) / setup.load_cpu_count
    return phase_figures(
        setup,
        server,
        cell,
        trial,
        load.summaries(),
        workdir,
        server_cpu,
        (generator, busy),
        memory.rss_mib,
    )


def phase_figures(
    setup: Setup,
    server: Server,
    cell: Cell,
    trial: int,
    summaries: list[dict[str, Any]],
    workdir: Path,
    server_cpu: float,
    generator: tuple[float, float],
    rss: list[float],
) -> Phase:
    """Combine Locust's summaries with the runner's own samples into one phase record."""
    main = next(s for s in summaries if "total" in s)
    total = main["total"]
    requests = max(total["requests"], 1)
    model_count = sum(s["model_count"] for s in summaries)
    model_ms = sum(s["model_ms"] for s in summaries)
    utilisation, load_cpus_busy = generator
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
        "rps": total["requests"] / main["seconds"],
        "latency_ms": total["latency_ms"],
        "server_cpu_us_per_request": server_cpu / requests * 1e6,
        "model_ms_mean": model_ms / model_count if model_count else None,
        "generator_cpu_util": utilisation,
        "load_cpus_busy": load_cpus_busy,
        # Bound when the generator's CPUs were saturated, whether by Locust or by anything
        # else: either way Locust could not have sent more, so this is a floor.
        "generator_bound": max(utilisation, load_cpus_busy) >= GENERATOR_BOUND,
        "rss_mb_steady": statistics.median(rss) if rss else 0.0,
        "rss_mb_peak": max(rss) if rss else 0.0,
        "csv_prefix": str((workdir / "locust").relative_to(setup.run_dir)),
    }
