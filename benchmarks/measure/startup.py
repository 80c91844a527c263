"""Start-up time: from starting gunicorn to the first 200 from /health/ready."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.plan import Setup, interleave
from benchmarks.serving import gunicorn


def measure_startup(setup: Setup, targets: tuple[str, ...], samples: int) -> dict[str, Any]:
    """Start each target ``samples`` times (interleaved); time start to first ready answer."""
    seconds: dict[str, list[float]] = {name: [] for name in targets}
    logs = setup.run_dir / "raw" / "startup"
    logs.mkdir(parents=True, exist_ok=True)
    for sample, name in interleave(samples, targets):
        with gunicorn.start(name, logs / f"{name}-{sample}.log", cpus=setup.server_cpus) as s:
            seconds[name].append(s.wait_ready(timeout=60))
    return {
        name: {"seconds": values, "median": statistics.median(values)}
        for name, values in seconds.items()
    }
