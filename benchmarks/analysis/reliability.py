"""The soak and the hostile inputs summed up: who survived a killed worker, who answered alike."""

from __future__ import annotations

from typing import NamedTuple

from benchmarks.results.records import ProbeRecord
from benchmarks.results.scaling import Soak


class Soaked(NamedTuple):
    """The soaks together: faults injected and survived, requests sent and failed."""

    faults: int
    survived: int
    requests: int
    failures: int


def survived(held: Soak) -> bool:
    """Return whether the app replaced its killed worker, losing at most one request per
    connection the worker held."""
    return held["worker_replaced"] and held["failures"] <= lost_at_most(held)


def lost_at_most(held: Soak) -> int:
    """Return how many requests the killed worker may take with it: one per connection it held
    (at least one, the request in flight)."""
    return max(1, held.get("connections_killed", 1))


def soaked(soaks: list[Soak]) -> Soaked:
    """Return the soaks' totals."""
    requests, failures = sum(s["requests"] for s in soaks), sum(s["failures"] for s in soaks)
    return Soaked(len(soaks), sum(map(survived, soaks)), requests, failures)


def answered(inputs: list[ProbeRecord]) -> tuple[int, int]:
    """Return how many inputs every app answered alike (status and code), and how many got a 5xx."""
    alike = sum(len({(a["status"], a["code"]) for a in e["answers"].values()}) == 1 for e in inputs)
    errors = sum(any(a["status"] >= 500 for a in e["answers"].values()) for e in inputs)
    return alike, errors
