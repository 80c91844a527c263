"""Capacity searches of servers already started, one worker each, in rotated trials: how the
peers' and the batching commands search every server they compare (``capacity.search_app``, the
run's steps), so that their capacities pair up trial by trial."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from benchmarks.measure import capacity
from benchmarks.plan import Setup, rotate
from benchmarks.results.scaling import TrialCapacity
from benchmarks.serving.gunicorn import Server


def rotated_searches(
    setup: Setup,
    started: Mapping[str, Server],
    trials: int,
    settings: Callable[[str], capacity.Settings],
    first_rate: Callable[[str], float],
    latency_ms: float,
    progress: Callable[[str], None],
) -> list[TrialCapacity]:
    """Search every server's capacity at one worker ``trials`` times, the servers in rotated
    order each trial, as a run searches the apps': until a search finds a capacity, from
    ``first_rate(name)`` (asked just before it) growing by 2; after, from 0.8 of the first
    capacity found, growing by 1.25. ``settings(name)`` gives a server's search settings."""
    first: dict[str, float] = {}
    found: list[TrialCapacity] = []
    for trial in range(trials):
        for name in rotate(list(started), trial):
            progress(f"capacity search {trial + 1}/{trials}: {name}")
            start = (0.8 * first[name], 1.25) if name in first else (first_rate(name), 2.0)
            searched = capacity.search_app(
                setup, started[name], name, 1, trial, settings(name), latency_ms, 0.0, *start
            )
            if searched["capacity_rps"] and name not in first:
                first[name] = searched["capacity_rps"]
            found.append(
                {
                    "target": name,
                    "trial": trial,
                    "capacity_rps": searched["capacity_rps"],
                    "failed_at_rps": searched["failed_at_rps"],
                    "p99_ms_at_capacity": searched["p99_ms_at_capacity"],
                    "cpu_s_per_million": searched["cpu_s_per_million"],
                }
            )
    return found
