"""Which server is ahead on each figure of the peers' command, by the project's rule.

Every figure of a server is set against Flask's and Django's (``decision``): a deterministic one
(instructions, lines of code, installed bytes) on the minimum effect alone; memory likewise where
each side's samples spread less than the minimum effect; a timed one (requests per second, CPU
per request, start-up) as paired per-trial ratios whose interval must clear the minimum effect
and the noise floor of the A/A twin (Flask measured again in the same trials), and decides
nothing where the twin was told apart from Flask. Never a single run's order.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from benchmarks.analysis import decision
from benchmarks.results.peers import Peers
from benchmarks.results.records import Interval

Kind = Literal["deterministic", "memory", "timed"]
REFERENCES = ("flask", "django")
AA_PAIR = ("flask-twin", "flask")


@dataclass(frozen=True)
class Figure:
    """One figure every server has: where it is read, which way is better, what kind it is."""

    key: str
    label: str
    kind: Kind
    lower_is_better: bool = True


FIGURES = (
    Figure("instructions", "instructions per one-row prediction (process tree)", "deterministic"),
    Figure("cpu_us_per_request", "server CPU per request under wrk, us", "timed"),
    Figure("rps", "requests per second under wrk", "timed", lower_is_better=False),
    Figure("startup_s", "start-up to ready, s", "timed"),
    Figure("capacity_rps", "open-loop capacity at p99 <= 50 ms, req/s", "timed", False),
    Figure("pss_anon_mib", "anonymous PSS at one worker, MiB", "memory"),
    Figure("pss_anon_per_worker_mib", "anonymous PSS per added worker, MiB", "memory"),
    Figure("loc", "lines of code a user writes", "deterministic"),
    Figure("installed_bytes", "installed beyond the model stack, bytes", "deterministic"),
)


@dataclass(frozen=True)
class Comparison:
    """A server against a reference on one figure."""

    ratio: float | None  # the server's figure over the reference's (a geometric mean if timed)
    ahead: decision.Direction  # +1 better, -1 worse, 0 no difference, None undecided
    interval: Interval | None = None  # timed figures only


def samples(peers: Peers, target: str, figure: Figure) -> dict[int, float]:
    """Return a server's samples of a figure by trial (one sample, trial 0, if not timed)."""
    if figure.key in ("rps", "cpu_us_per_request"):
        return {
            t["trial"]: float(t[figure.key])  # type: ignore[literal-required]
            for t in peers["trials"]
            if t["target"] == target and not t["generator_bound"]
        }
    if figure.key == "capacity_rps":
        return {
            c["trial"]: c["capacity_rps"]
            for c in peers.get("capacity", [])
            if c["target"] == target and c["capacity_rps"]
        }
    if figure.key == "pss_anon_per_worker_mib":
        return per_added_worker(peers, target)
    found = peers["targets"][target].get(figure.key)
    if isinstance(found, list):
        return dict(enumerate(float(v) for v in found))
    return {} if found is None else {0: float(found)}  # type: ignore[arg-type]


def per_added_worker(peers: Peers, target: str) -> dict[int, float]:
    """Return, round by round, the anonymous PSS of a server's tree at its most workers less
    that at its fewest, per worker added."""
    by_round: dict[int, dict[int, float]] = {}
    for row in peers["workers"]:
        if row["target"] == target:
            by_round.setdefault(row["round"], {})[row["workers"]] = row["pss_anon_mib"]
    return {
        r: (found[max(found)] - found[min(found)]) / (max(found) - min(found))
        for r, found in sorted(by_round.items())
        if len(found) > 1
    }


def memory_by_workers(peers: Peers) -> dict[str, dict[int, tuple[float, int]]]:
    """Return each server's readings at the fewest and the most workers measured: the median
    anonymous PSS of its tree over the rounds, and the most processes it had."""
    counts = peers["config"]["worker_counts"]
    found: dict[str, dict[int, tuple[float, int]]] = {}
    for name in dict.fromkeys(row["target"] for row in peers["workers"]):
        for count in (min(counts), max(counts)):
            rows = [r for r in peers["workers"] if (r["target"], r["workers"]) == (name, count)]
            mib = statistics.median(r["pss_anon_mib"] for r in rows)
            found.setdefault(name, {})[count] = (mib, max(r["processes"] for r in rows))
    return found


def value(peers: Peers, target: str, figure: Figure) -> float | None:
    """Return a server's figure: its median over the trials, or its one value."""
    found = list(samples(peers, target, figure).values())
    return statistics.median(found) if found else None


def paired(peers: Peers, a: str, b: str, figure: Figure) -> list[float]:
    """Return a's figure over b's, trial by trial (start-up: round by round)."""
    mine, theirs = samples(peers, a, figure), samples(peers, b, figure)
    return [mine[t] / theirs[t] for t in sorted(set(mine) & set(theirs)) if theirs[t] > 0]


def _spread(found: Sequence[float]) -> float:
    return (max(found) - min(found)) / statistics.median(found) if found else float("inf")


def compare(peers: Peers, target: str, reference: str, figure: Figure) -> Comparison:
    """Return how ``target`` stands against ``reference`` on one figure, by the rule."""
    mine, theirs = value(peers, target, figure), value(peers, reference, figure)
    if mine is None or theirs is None or theirs <= 0:
        return Comparison(None, None)
    ratio = mine / theirs
    sign = -1 if figure.lower_is_better else 1
    if figure.kind == "deterministic":
        way = decision.direction(ratio)
        return Comparison(ratio, None if way is None else sign * way)
    if figure.kind == "memory":
        steady = all(
            _spread(list(samples(peers, name, figure).values())) < decision.MIN_EFFECT
            for name in (target, reference)
        )
        way = decision.direction(ratio) if steady else None
        return Comparison(ratio, None if way is None else sign * way)
    found = decision.interval(paired(peers, target, reference, figure))
    aa = decision.interval(paired(peers, *AA_PAIR, figure))
    if figure.key == "capacity_rps":
        # A search knows each capacity only within its last bracket, either way.
        found = decision.widen(found, 1 + peers["config"]["capacity_resolution"])
    way = decision.timed(found, aa)
    estimate = found["estimate"] if found else ratio
    return Comparison(estimate, None if way is None else sign * way, found)


def table(peers: Peers) -> Mapping[str, Mapping[str, Mapping[str, Comparison]]]:
    """Return every server but the twin against each reference, figure by figure:
    ``[figure key][server][reference]``."""
    servers = [name for name, t in peers["targets"].items() if t["kind"] != "twin"]
    return {
        figure.key: {
            server: {
                reference: compare(peers, server, reference, figure)
                for reference in REFERENCES
                if reference != server and reference in peers["targets"]
            }
            for server in servers
        }
        for figure in FIGURES
    }


def aa_gate(peers: Peers, figure: Figure) -> str:
    """Return in words what the A/A twin let a timed figure decide."""
    return decision.gate(decision.interval(paired(peers, *AA_PAIR, figure)))
