"""Start-up time: from starting gunicorn to the first 200 from /health/ready."""

from __future__ import annotations

import statistics

from benchmarks.plan import Setup, rotate
from benchmarks.results.records import Startup
from benchmarks.serving import gunicorn


def measure_startup(setup: Setup, targets: tuple[str, ...], samples: int) -> dict[str, Startup]:
    """Start each target ``samples`` times; time start to first ready answer.

    Round by round, every target in turn, the order rotated by one place per round; a first
    round pays for cold caches and is discarded. Sample i of every target comes from round i,
    so the samples pair up for the decision rule.
    """
    seconds: dict[str, list[float]] = {name: [] for name in targets}
    logs = setup.run_dir / "raw" / "startup"
    logs.mkdir(parents=True, exist_ok=True)
    for sample in range(-1, samples):
        for name in rotate(targets, sample + 1):
            log = logs / f"{name}-{'cold' if sample < 0 else sample}.log"
            with gunicorn.start(name, log, cpus=setup.server_cpus) as s:
                ready = s.wait_ready(timeout=60)
            if sample >= 0:
                seconds[name].append(ready)
    return {
        name: {"seconds": values, "median": statistics.median(values)}
        for name, values in seconds.items()
    }
