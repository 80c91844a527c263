"""The capacity search itself: the highest passing rate, found by growing then bisecting, and
the money per million predictions at it. Pure functions; ``capacity`` runs the steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypedDict

from benchmarks.results.scaling import CapacityStep

MAX_RPS = 4000.0  # one Locust process's open-loop ceiling here; a search reaching it is capped


class Found(TypedDict):
    """What a search found (the fields of a ``CapacitySearch`` it fills)."""

    capacity_rps: float | None
    failed_at_rps: float | None
    capped: bool
    steps: list[CapacityStep]


class Price(TypedDict):
    """The money per million predictions (the fields of a ``CapacitySearch`` it fills)."""

    usd_per_million: float | None
    usd_per_million_held: float | None


def search(
    measure: Callable[[float], CapacityStep],
    *,
    start_rps: float,
    growth: float,
    resolution: float,
    max_steps: int,
    max_rps: float = MAX_RPS,
    min_rps: float = 1.0,
) -> Found:
    """Find the highest passing rate: grow by ``growth`` until a step fails, then bisect.

    Returns the steps in order, the capacity (the highest passing rate, None if none passed),
    the lowest failing rate above it (None if none failed) and whether the search was capped
    (it reached ``max_rps`` still passing, or ``max_steps`` before the bracket closed).
    """
    steps: list[CapacityStep] = []
    passing: float | None = None
    failing: float | None = None
    rate = min(start_rps, max_rps)
    capped = False
    while True:
        if len(steps) >= max_steps:
            capped = True
            break
        step = measure(rate)
        steps.append(step)
        if step["passed"]:
            passing = rate if passing is None else max(passing, rate)
        else:
            failing = rate if failing is None else min(failing, rate)
        if failing is None:
            if rate >= max_rps:
                capped = True
                break
            rate = min(rate * growth, max_rps)
        elif passing is None:
            if rate <= min_rps:
                break
            rate = max(rate / growth, min_rps)
        elif failing / passing <= 1 + resolution:
            break
        else:
            rate = math.sqrt(passing * failing)
    return {"capacity_rps": passing, "failed_at_rps": failing, "capped": capped, "steps": steps}


def cost(
    cpu_s_per_million: float | None,
    capacity_rps: float | None,
    server_cpus: int,
    vcpu_hour_usd: float,
) -> Price:
    """Return the money per million predictions: CPU consumed, and vCPUs held at capacity.

    Consumed: the server's CPU seconds per million requests, priced per vCPU-second. Held: a
    server of ``server_cpus`` vCPUs kept at its capacity for the million requests' duration.
    """
    per_second = vcpu_hour_usd / 3600
    consumed = None if cpu_s_per_million is None else cpu_s_per_million * per_second
    held = None if not capacity_rps else server_cpus * (1e6 / capacity_rps) * per_second
    return {"usd_per_million": consumed, "usd_per_million_held": held}
