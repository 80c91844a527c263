"""What adaptive batching gains, by the project's rule (``decision``).

A capacity is timed: a configuration's gain over another is the interval of their paired
per-trial capacity ratios (the trials ran back to back, in rotated order), widened by the
search's resolution, and it decides only where the run's own A/A check lets it (the Flask app's
default deployment searched twice in the same trials). The issue's goals: batching on, at least
3x the unbatched capacity for the heavy model and 1.4x for the light one, "unbatched" being the
apps' default deployment (gunicorn.conf.py's gthread worker with one thread; the sync worker in
runs made before it became the default). A goal is met when the whole interval lies at or
above it, missed when the whole interval lies below it, and undecided otherwise.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from benchmarks.analysis import decision
from benchmarks.results.batching import Batching
from benchmarks.results.records import Interval
from benchmarks.results.vocabulary import Variant

GOALS: dict[Variant, float] = {"heavy": 3.0, "light": 1.4}
Status = Literal["met", "missed", "undecided"]


def capacities(batching: Batching, target: str) -> dict[int, float]:
    """Return a configuration's capacities by trial (searches that found none left out)."""
    return {
        c["trial"]: c["capacity_rps"]
        for c in batching["capacity"]
        if c["target"] == target and c["capacity_rps"]
    }


def capacity(batching: Batching, target: str) -> float | None:
    """Return a configuration's median capacity."""
    found = list(capacities(batching, target).values())
    return statistics.median(found) if found else None


def cpu_us(batching: Batching, target: str) -> float | None:
    """Return a configuration's median server CPU per request at its capacity, microseconds."""
    found = [
        c["cpu_s_per_million"]
        for c in batching["capacity"]
        if c["target"] == target and c["cpu_s_per_million"]
    ]
    return statistics.median(found) if found else None


def p50_ms(batching: Batching, target: str) -> float | None:
    """Return a configuration's median latency at one user."""
    found = [r["p50_ms"] for r in batching["low_load"] if r["target"] == target]
    return found[0] if found else None


def configurations(batching: Batching, server: str, variant: Variant) -> list[str]:
    """Return a server's configurations of one variant, twins left out, in measured order."""
    return [
        name
        for name, t in batching["targets"].items()
        if t["server"] == server and t["variant"] == variant and t["twin_of"] is None
    ]


def unbatched(batching: Batching, server: str, variant: Variant) -> str | None:
    """Return the configuration a gain is measured against: an app's default deployment, a
    peer's own setting with batching off."""
    for name in configurations(batching, server, variant):
        t = batching["targets"][name]
        if t["kind"] == "peer" and t["max_batch_size"] == 1:
            return name
        if t["kind"] == "app" and t.get("default", t["worker"] == "sync"):
            return name
    return None


def top(batching: Batching, server: str, variant: Variant) -> str | None:
    """Return a server's configuration with the highest median capacity, batched or not."""
    found = [(capacity(batching, n) or 0.0, n) for n in configurations(batching, server, variant)]
    return max(found)[1] if found else None


def best(batching: Batching, server: str, variant: Variant) -> str | None:
    """Return the batched configuration with the highest median capacity."""
    batched = [
        (capacity(batching, name) or 0.0, name)
        for name in configurations(batching, server, variant)
        if batching["targets"][name]["max_batch_size"] >= 2
    ]
    return max(batched)[1] if batched else None


def ratio_interval(batching: Batching, a: str, b: str) -> Interval | None:
    """Return the interval of a's capacity over b's, trial by trial, widened by the search's
    resolution."""
    mine, theirs = capacities(batching, a), capacities(batching, b)
    ratios = [mine[t] / theirs[t] for t in sorted(set(mine) & set(theirs))]
    return decision.widen(decision.interval(ratios), 1 + batching["config"]["capacity_resolution"])


def aa(batching: Batching, variant: Variant) -> Interval | None:
    """Return the A/A check of a variant's searches: the twin against what it copies."""
    for name, t in batching["targets"].items():
        if t["variant"] == variant and t["twin_of"]:
            return ratio_interval(batching, name, t["twin_of"])
    return None


@dataclass(frozen=True)
class Gain:
    """Batching's best configuration against the default deployment, for one server and model."""

    server: str
    variant: Variant
    batched: str | None
    against: str | None
    ratio: float | None  # the median capacities' ratio
    interval: Interval | None
    goal: float
    status: Status


def gain(batching: Batching, server: str, variant: Variant) -> Gain:
    """Return what batching gains in capacity, and whether the goal is met by the rule."""
    batched, against = best(batching, server, variant), unbatched(batching, server, variant)
    goal = GOALS[variant]
    if batched is None or against is None:
        return Gain(server, variant, batched, against, None, None, goal, "undecided")
    top, bottom = capacity(batching, batched), capacity(batching, against)
    ratio = top / bottom if top and bottom else None
    found = ratio_interval(batching, batched, against)
    check = aa(batching, variant)
    status: Status = "undecided"
    if found is not None and check is not None and decision.contains_one(check):
        if found["low"] >= goal:
            status = "met"
        elif found["high"] < goal:
            status = "missed"
    return Gain(server, variant, batched, against, ratio, found, goal, status)


def servers(batching: Batching, kind: str | None = None) -> list[str]:
    """Return the servers measured (of one kind: "app" or "peer"), in measured order."""
    return list(
        dict.fromkeys(
            t["server"] for t in batching["targets"].values() if kind in (None, t["kind"])
        )
    )


def gains(batching: Batching) -> list[Gain]:
    """Return the gain of every server that was measured batched, variant by variant."""
    batched = {t["server"] for t in batching["targets"].values() if t["max_batch_size"] >= 2}
    return [
        gain(batching, server, variant)
        for variant in batching["config"]["variants"]
        for server in servers(batching)
        if server in batched
    ]


@dataclass(frozen=True)
class Standing:
    """An app's best configuration against a peer's best, on capacity, for one model."""

    app: str
    peer: str
    variant: Variant
    ours: str | None
    theirs: str | None
    ratio: float | None  # the median capacities' ratio, the app's over the peer's
    interval: Interval | None
    ahead: decision.Direction  # +1 the app ahead, -1 behind, 0 no difference, None undecided


def standings(batching: Batching) -> list[Standing]:
    """Return each app's best configuration against each peer's best, model by model."""
    found = []
    for variant in batching["config"]["variants"]:
        check = aa(batching, variant)
        for app in servers(batching, "app"):
            for peer in servers(batching, "peer"):
                ours, theirs = top(batching, app, variant), top(batching, peer, variant)
                mine = capacity(batching, ours) if ours else None
                other = capacity(batching, theirs) if theirs else None
                interval = ratio_interval(batching, ours, theirs) if ours and theirs else None
                found.append(
                    Standing(
                        app,
                        peer,
                        variant,
                        ours,
                        theirs,
                        mine / other if mine and other else None,
                        interval,
                        decision.timed(interval, check),
                    )
                )
    return found


def waits(batching: Batching) -> list[float]:
    """Return the apps' maximum waits, ms, each measured with every batch size."""
    return batching["config"].get("waits_ms") or [batching["config"]["max_wait_ms"]]


def sweep(
    batching: Batching, server: str, variant: Variant, wait_ms: float = 0.0
) -> list[tuple[int, float]]:
    """Return (maximum batch size, median capacity) on the gthread worker at one maximum wait:
    1 is batching off (the sync worker, measured in earlier runs, left out)."""
    points = []
    for name in configurations(batching, server, variant):
        t = batching["targets"][name]
        found = capacity(batching, name)
        batched_alike = t["max_batch_size"] == 1 or t["max_wait_ms"] == wait_ms
        if t["worker"] != "sync" and found and batched_alike:
            points.append((t["max_batch_size"], found))
    return sorted(points)
