"""Capacity figures summarised: per app and worker count, the median over the paired searches.

Reads the ``capacity`` key of the results (``benchmarks.measure.capacity`` wrote it); the report,
the command line's text and the claims all summarise it here, the same way.
"""

from __future__ import annotations

from typing_extensions import TypedDict

from benchmarks.analysis import decision
from benchmarks.analysis.aggregate import median
from benchmarks.results.records import Interval
from benchmarks.results.scaling import CapacityResults, CapacitySearch


class Summary(TypedDict):
    """One app at one worker count: the medians over its searches, and each search's capacity."""

    capacity_rps: float | None
    trials: list[float | None]
    capped: bool
    p99_ms_at_capacity: float | None
    cpu_s_per_million: float | None
    usd_per_million: float | None
    usd_per_million_held: float | None


def summary(capacity: CapacityResults) -> dict[tuple[str, int], Summary]:
    """Return (app, workers) -> median capacity and cost over its searches, and each trial's."""
    grouped: dict[tuple[str, int], list[CapacitySearch]] = {}
    for found in capacity["searches"]:
        grouped.setdefault((found["app"], found["workers"]), []).append(found)
    return {
        key: {
            "capacity_rps": median([s["capacity_rps"] for s in searches]),
            "trials": [s["capacity_rps"] for s in searches],
            "capped": any(s["capped"] for s in searches),
            "p99_ms_at_capacity": median([s["p99_ms_at_capacity"] for s in searches]),
            "cpu_s_per_million": median([s["cpu_s_per_million"] for s in searches]),
            "usd_per_million": median([s["usd_per_million"] for s in searches]),
            "usd_per_million_held": median([s["usd_per_million_held"] for s in searches]),
        }
        for key, searches in grouped.items()
    }


def paired_ratios(capacity: CapacityResults, a: str, b: str, workers: int) -> list[float]:
    """Return capacity(a) / capacity(b) trial by trial at one worker count (searches paired by
    trial number ran back to back); a trial without both capacities, or capped, is left out."""
    found: dict[str, dict[int, CapacitySearch]] = {a: {}, b: {}}
    for search in capacity["searches"]:
        if search["app"] in found and search["workers"] == workers:
            found[search["app"]][search["trial"]] = search
    ratios = []
    for trial in sorted(set(found[a]) & set(found[b])):
        first, second = found[a][trial], found[b][trial]
        if first["capped"] or second["capped"]:
            continue
        top, bottom = first["capacity_rps"], second["capacity_rps"]
        if top and bottom:
            ratios.append(top / bottom)
    return ratios


def first_workers(capacity: CapacityResults) -> int:
    """Return the first worker count measured: the one searched in paired trials."""
    return min(capacity.get("worker_counts") or [1])


def searched(capacity: CapacityResults, app: str) -> bool:
    """Return whether the measurement searched ``app``'s capacity (the A/A twin's, say)."""
    return any(s["app"] == app for s in capacity["searches"])


def ratio_interval(capacity: CapacityResults, a: str, b: str) -> Interval | None:
    """Return the interval of capacity(a) / capacity(b), paired at the first worker count and
    widened at each end by the search's resolution (each capacity is known only within it)."""
    ratios = paired_ratios(capacity, a, b, first_workers(capacity))
    return decision.widen(decision.interval(ratios), 1 + capacity["resolution"])


def gain_per_worker(capacity: CapacityResults, app: str) -> float | None:
    """Return the capacity each added worker brought, as a share of one worker's capacity.

    From the fewest to the most workers measured: (C(w) / C(1) - 1) / (w - 1). 1.0 is perfect
    scaling, 0 none; None without two worker counts.
    """
    figures = {
        w: rps
        for (name, w), s in summary(capacity).items()
        if name == app and (rps := s["capacity_rps"])
    }
    counts = sorted(figures)
    if len(counts) < 2:
        return None
    low, high = counts[0], counts[-1]
    return (figures[high] / figures[low] - 1) / ((high - low) / low)


def apps(capacity: CapacityResults) -> list[str]:
    """Return the apps searched, in the order first searched."""
    return list(dict.fromkeys(s["app"] for s in capacity["searches"]))


def latency_curve(capacity: CapacityResults, app: str, workers: int) -> list[tuple[float, float]]:
    """Return (offered req/s, p99 ms) at every step of an app's searches and its overload points."""
    mine = [f for f in capacity["searches"] if (f["app"], f["workers"]) == (app, workers)]
    steps = [s for f in mine for s in f["steps"]]
    steps += [p for p in capacity["overload"] if (p["app"], p["workers"]) == (app, workers)]
    return [(s["offered_rps"], s["latency_ms"]["p99"]) for s in steps]
