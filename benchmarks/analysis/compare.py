"""Compare two benchmark runs metric by metric, each against its own noise measured in the runs.

Two runs compare only when they measured the same way on the same class of machine: the same
schema version (this code's), the same mode, and the same CPU model, core count and split of
CPUs between server and load generator; otherwise ``Incomparable`` says why. Two runs that
measured alike but under a different commit, rule, library, model or gunicorn setting compare, and
``provenance`` names every such difference for the first line of the comparison: a verdict that
"held" across them held across that change too.

A metric's noise in a cell is how far that metric spread over the cell's trials, (max - min) /
median, in whichever run spread more, and at least ``MIN_EFFECT``; its change counts only when
larger. Latency percentiles and CPU per request spread differently from throughput, so each is
judged against its own spread. A cell measured once has no spread: only the floor applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from typing_extensions import TypedDict

from benchmarks.analysis.aggregate import Cell, group, spread
from benchmarks.analysis.decision import MIN_EFFECT
from benchmarks.results.records import Results

# metric -> (label, the phase's field: a dotted key reaches inside)
METRICS = {
    "rps": ("req/s", "rps"),
    "p50": ("p50 ms", "latency_ms.p50"),
    "p99": ("p99 ms", "latency_ms.p99"),
    "cpu": ("CPU us/req", "server_cpu_us_per_request"),
    "pss": ("PSS MiB", "pss_mib_steady"),
}
# What must match for two runs' figures to mean the same thing: (where, key, name).
SAME = (
    (None, "schema_version", "schema version"),
    (None, "mode", "mode"),
    ("environment", "cpu_model", "CPU model"),
    ("environment", "cores", "core count"),
    ("environment", "server_cpus", "server CPUs"),
    ("environment", "load_cpus", "load CPUs"),
)
# What may differ between two comparable runs, but must be said first: (where, key, name).
PROVENANCE = (
    ("environment", "git_commit", "commit"),
    ("rule", "version", "rule version"),
    ("rule", "constants", "rule constants"),
    ("environment", "libraries", "library versions"),
    ("environment", "models", "model sha256"),
    ("environment", "gunicorn", "gunicorn settings"),
)
UNCOMMITTED = "+uncommitted changes"


class Change(TypedDict):
    """One metric of one cell in both runs, against its noise."""

    cell: Cell
    metric: str
    label: str
    before: float
    after: float
    change: float  # relative, from before to after
    noise: float
    trials: tuple[int, int]
    significant: bool  # the change exceeds the noise


class Held(TypedDict):
    """One claim's verdict in both runs (None: the run has no such claim)."""

    id: str
    before: str | None
    after: str | None
    held: bool


class Count(TypedDict):
    """One instruction count in both runs."""

    key: tuple[str, str, str]  # target, variant, scenario ("start-up" for start-up)
    before: int
    after: int
    difference: float  # relative


class Incomparable(ValueError):
    """Two runs that did not measure the same way on the same class of machine."""


def field(results: Mapping[str, object], where: str | None, key: str) -> object:
    """Return ``results[key]``, or ``results[where][key]``; None where either is missing."""
    record = results.get(where) if where else results
    return record.get(key) if isinstance(record, Mapping) else None


def check_comparable(a: Results, b: Results) -> None:
    """Raise ``Incomparable`` unless both runs can be compared figure by figure."""
    differences = []
    for where, key, name in SAME:
        old, new = field(a, where, key), field(b, where, key)
        if old != new:
            differences.append(f"{name}: {old!r} in A, {new!r} in B")
    if differences:
        raise Incomparable("the runs are not comparable; " + "; ".join(differences))


def provenance(a: Results, b: Results) -> list[str]:
    """Return what differs between two runs' commit, rule, libraries, models and gunicorn."""
    found = []
    for where, key, name in PROVENANCE:
        old, new = field(a, where, key), field(b, where, key)
        if isinstance(old, Mapping) and isinstance(new, Mapping) and old != new:
            keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
            found.append(
                f"{name}: " + ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys)
            )
        elif old != new:
            found.append(f"{name}: {old!r} -> {new!r}")
    commits = (a["environment"]["git_commit"], b["environment"]["git_commit"])
    if any(commit.endswith(UNCOMMITTED) for commit in commits):
        found.append("uncommitted changes: the code of a run is not its commit's")
    return found


def changes(a: Results, b: Results) -> list[Change]:
    """Return, for every cell both runs measured, each metric's relative change from a to b."""
    check_comparable(a, b)
    before, after = group(a["phases"]), group(b["phases"])
    rows: list[Change] = []
    for key in [cell for cell in before if cell in after]:
        for metric, (label, name) in METRICS.items():
            old, old_spread = spread(before[key], name)
            new, new_spread = spread(after[key], name)
            if old is None or new is None:
                continue
            noise = max(old_spread, new_spread, MIN_EFFECT)
            change = (new - old) / old if old else 0.0
            rows.append(
                {
                    "cell": key,
                    "metric": metric,
                    "label": label,
                    "before": old,
                    "after": new,
                    "change": change,
                    "noise": noise,
                    "trials": (len(before[key]), len(after[key])),
                    "significant": abs(change) > noise,
                }
            )
    return rows


def verdicts(a: Results, b: Results) -> list[Held]:
    """Return each claim's verdict in both runs, and whether it held."""
    before: dict[str, str] = {c["id"]: c["verdict"] for c in a["claims"]}
    after: dict[str, str] = {c["id"]: c["verdict"] for c in b["claims"]}
    return [
        {
            "id": claim,
            "before": before.get(claim),
            "after": after.get(claim),
            "held": before.get(claim) == after.get(claim),
        }
        for claim in dict.fromkeys([*before, *after])
    ]


def instruction_counts(results: Results) -> dict[tuple[str, str, str], int]:
    """Return a run's instruction counts: (target, variant, scenario) -> per request, and
    (target, "light", "start-up") -> to start."""
    cost = results.get("cost")
    if not cost:
        return {}
    found = {(r["target"], r["variant"], r["scenario"]): r["instructions"] for r in cost["rows"]}
    return found | {(t, "light", "start-up"): n for t, n in cost["startup"].items()}


def counts(a: Results, b: Results) -> list[Count]:
    """Return the instruction counts both runs made, with their relative difference."""
    before, after = instruction_counts(a), instruction_counts(b)
    return [
        {
            "key": key,
            "before": before[key],
            "after": after[key],
            "difference": (after[key] - before[key]) / before[key] if before[key] else 0.0,
        }
        for key in before
        if key in after
    ]


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: how their making differs, each figure's change, each verdict."""

    provenance: list[str]
    changes: list[Change]
    verdicts: list[Held]
    counts: list[Count]

    @property
    def changed(self) -> int:
        """Return how many figures changed by more than their noise."""
        return sum(row["significant"] for row in self.changes)

    @property
    def held(self) -> int:
        """Return how many verdicts held."""
        return sum(verdict["held"] for verdict in self.verdicts)

    @property
    def largest(self) -> Count | None:
        """Return the instruction count that moved most, either way."""
        return max(self.counts, key=lambda count: abs(count["difference"]), default=None)


def compare(a: Results, b: Results) -> Comparison:
    """Compare two runs; raise ``Incomparable`` when they did not measure alike."""
    found = changes(a, b)
    return Comparison(provenance(a, b), found, verdicts(a, b), counts(a, b))
