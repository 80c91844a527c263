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

from typing import Any

from benchmarks.analysis.aggregate import group, spread
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


class Incomparable(ValueError):
    """Two runs that did not measure the same way on the same class of machine."""


def check_comparable(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Raise ``Incomparable`` unless both runs can be compared figure by figure."""
    differences = []
    for where, key, name in SAME:
        old = (a.get(where) or {}).get(key) if where else a.get(key)
        new = (b.get(where) or {}).get(key) if where else b.get(key)
        if old != new:
            differences.append(f"{name}: {old!r} in A, {new!r} in B")
    if differences:
        raise Incomparable("the runs are not comparable; " + "; ".join(differences))


def provenance(a: Results, b: Results) -> list[str]:
    """Return what differs between two runs' commit, rule, libraries, models and gunicorn."""
    found = []
    for where, key, name in PROVENANCE:
        old, new = a[where][key], b[where][key]  # type: ignore[literal-required]
        if isinstance(old, dict) and isinstance(new, dict) and old != new:
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


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Return, for every cell both runs measured, each metric's relative change from a to b."""
    check_comparable(a, b)
    before, after = group(a["phases"]), group(b["phases"])
    rows = []
    for key in [cell for cell in before if cell in after]:
        for metric, (label, field) in METRICS.items():
            old, old_spread = spread(before[key], field)
            new, new_spread = spread(after[key], field)
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


def verdicts(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Return each claim's verdict in both runs, and whether it held."""
    before = {c["id"]: c["verdict"] for c in a.get("claims", [])}
    after = {c["id"]: c["verdict"] for c in b.get("claims", [])}
    return [
        {"id": claim, "before": before.get(claim), "after": after.get(claim)}
        | {"held": before.get(claim) == after.get(claim)}
        for claim in dict.fromkeys([*before, *after])
    ]


def counts(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the instruction counts both runs made, with their relative difference."""

    def rows(results: dict[str, Any]) -> dict[tuple[str, str, str], float]:
        cost = results.get("cost") or {}
        found = {
            (r["target"], r["variant"], r["scenario"]): r["instructions"]
            for r in cost.get("rows", [])
        }
        found |= {(t, "light", "start-up"): n for t, n in cost.get("startup", {}).items()}
        return found

    before, after = rows(a), rows(b)
    return [
        {"key": key, "before": before[key], "after": after[key]}
        | {"difference": (after[key] - before[key]) / before[key] if before[key] else 0.0}
        for key in before
        if key in after
    ]
