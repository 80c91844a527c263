"""Reduce a run's phases to one figure per cell: the medians, spreads and sums a report shows.

A cell is one (target, variant, scenario, users) combination; a run measures each cell in one or
more trials. Medians resist the odd disturbed trial, and the min-max spread shows how far the
trials disagreed, so a difference between targets smaller than that spread is not a finding.
Everything here is pure: phases in, numbers out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, get_args

from typing_extensions import TypedDict

from benchmarks.results.records import Calibration, Overhead, Phase, Results, TargetFacts
from benchmarks.results.vocabulary import (
    FRAMEWORKS,
    SCENARIOS,
    TARGET_NAMES,
    VARIANTS,
    Framework,
    Latency,
    TargetKind,
)

Cell = tuple[str, str, str, int]  # (target, variant, scenario, users)
SortKey = tuple[tuple[int, str], tuple[int, str], tuple[int, str], int]
Percentile = Literal["p50", "p90", "p99", "p999", "max"]  # a Latency's keys
PERCENTILES: tuple[Percentile, ...] = ("p50", "p90", "p99", "p999", "max")  # the report's order
MemoryKey = Literal[
    "pss_mib_steady", "uss_mib_steady", "pss_mib_master", "pss_mib_worker", "rss_mib_steady"
]
MEMORY: tuple[MemoryKey, ...] = get_args(MemoryKey)  # the report's memory table, in its order


class CellFigures(TypedDict):
    """One cell's figures over its trials: medians, the range of req/s, sums and worst cases."""

    rps: float
    rps_min: float
    rps_max: float
    latency_ms: Latency
    server_cpu_us_per_request: float | None
    model_ms_mean: float | None
    model_us: float | None
    framework_us: float | None
    framework_share: float | None  # of the server's CPU per request
    pss_mib_steady: float
    pss_mib_peak: float
    uss_mib_steady: float
    rss_mib_steady: float
    pss_mib_master: float
    pss_mib_worker: float | None
    trials: int
    requests: int
    failures: int
    generator_cpu_util: float
    generator_cpu_util_by_process: dict[str, float]
    load_cpus_busy: float
    generator_bound: bool


def rank(order: Sequence[str], name: str) -> tuple[int, str]:
    """Return a sort key that puts known names first, in ``order``, and others after, by name."""
    # Known names first in their conventional order; anything new after them, alphabetically.
    return (order.index(name), "") if name in order else (len(order), name)


def ordered(names: Iterable[str], order: Sequence[str] = TARGET_NAMES) -> list[str]:
    """Return names without duplicates, known ones in the conventional order first."""
    return sorted(dict.fromkeys(names), key=lambda name: rank(order, name))


def sort_key(cell: Cell) -> SortKey:
    """Return a key that orders cells by target, variant, scenario, then users."""
    target, variant, scenario, users = cell
    return (rank(TARGET_NAMES, target), rank(VARIANTS, variant), rank(SCENARIOS, scenario), users)


def cell_of(phase: Phase | Calibration) -> Cell:
    """Return the cell a phase (or a calibration against wrk) measured."""
    return (phase["target"], phase["variant"], phase["scenario"], int(phase["users"]))


def group(phases: Iterable[Phase]) -> dict[Cell, list[Phase]]:
    """Group phases by cell, cells in report order, each cell's trials in trial order."""
    groups: dict[Cell, list[Phase]] = {}
    for phase in phases:
        groups.setdefault(cell_of(phase), []).append(phase)
    return {
        cell: sorted(groups[cell], key=lambda phase: phase["trial"])
        for cell in sorted(groups, key=sort_key)
    }


def value(record: Mapping[str, Any], key: str) -> Any:
    """Return ``record[key]``, where a dotted key such as ``latency_ms.p99`` reaches inside."""
    current: Any = record
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def median(values: Iterable[float | None]) -> float | None:
    """Return the median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def latency(trials: Sequence[Phase]) -> Latency:
    """Return each latency percentile's median over the trials."""
    times = [phase["latency_ms"] for phase in trials]
    return {
        "p50": statistics.median(t["p50"] for t in times),
        "p90": statistics.median(t["p90"] for t in times),
        "p99": statistics.median(t["p99"] for t in times),
        "p999": statistics.median(t["p999"] for t in times),
        "max": statistics.median(t["max"] for t in times),
    }


def summarise(trials: list[Phase]) -> CellFigures:
    """Return the figures of one cell from its trials."""
    rps = [phase["rps"] for phase in trials]
    cpu_us = median(phase["server_cpu_us_per_request"] for phase in trials)
    model_ms = median(phase["model_ms_mean"] for phase in trials)
    framework = None if model_ms is None or cpu_us is None else cpu_us - model_ms * 1000
    return {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "latency_ms": latency(trials),
        "server_cpu_us_per_request": cpu_us,
        "model_ms_mean": model_ms,
        "model_us": None if model_ms is None else model_ms * 1000,
        # What a request costs the server besides the model: parsing, routing, serialising, ...
        "framework_us": framework,
        "framework_share": framework / cpu_us if framework is not None and cpu_us else None,
        # Memory in MiB, summed over the gunicorn master and its workers (PSS: shared pages
        # shared out; USS: private pages only; RSS: shared pages counted once per process).
        "pss_mib_steady": statistics.median(phase["pss_mib_steady"] for phase in trials),
        "pss_mib_peak": max(phase["pss_mib_peak"] for phase in trials),
        "uss_mib_steady": statistics.median(phase["uss_mib_steady"] for phase in trials),
        "rss_mib_steady": statistics.median(phase["rss_mib_steady"] for phase in trials),
        "pss_mib_master": statistics.median(phase["pss_mib_master"] for phase in trials),
        "pss_mib_worker": median(
            statistics.median(phase["pss_mib_workers"]) if phase["pss_mib_workers"] else None
            for phase in trials
        ),
        "trials": len(trials),
        "requests": sum(phase["requests"] for phase in trials),
        "failures": sum(phase["failures"] for phase in trials),
        # The generator's figures are the worst trial's, as the flag is any trial's.
        "generator_cpu_util": max(phase["generator_cpu_util"] for phase in trials),
        "generator_cpu_util_by_process": {
            name: max(p["generator_cpu_util_by_process"].get(name, 0.0) for p in trials)
            for phase in trials
            for name in phase["generator_cpu_util_by_process"]
        },
        "load_cpus_busy": max(phase["load_cpus_busy"] for phase in trials),
        "generator_bound": any(phase["generator_bound"] for phase in trials),
    }


def cells(phases: list[Phase]) -> dict[Cell, CellFigures]:
    """Return the figures of every cell, in report order."""
    return {cell: summarise(trials) for cell, trials in group(phases).items()}


def ratio(cells: Mapping[Cell, CellFigures], a: Cell, b: Cell, key: str = "rps") -> float | None:
    """Return cell ``a``'s figure over cell ``b``'s; None if either is missing or b's is 0."""
    if a not in cells or b not in cells:
        return None
    top, bottom = value(cells[a], key), value(cells[b], key)
    if top is None or bottom is None or bottom == 0:
        return None
    return float(top) / float(bottom)


def relative_spread(low: float, high: float, middle: float) -> float:
    """Return how far trials disagreed, relative to their middle: (high - low) / middle.

    0 when they agree (even at 0); infinite when they disagree around a middle of 0.
    """
    if high == low:
        return 0.0
    return (high - low) / middle if middle else float("inf")


def spread(trials: Iterable[Mapping[str, Any]], key: str = "rps") -> tuple[float | None, float]:
    """Return the median of one metric over a cell's trials and its relative spread, the noise:
    (max - min) / median. (None, 0.0) when no trial has the metric."""
    values = [float(v) for v in (value(trial, key) for trial in trials) if v is not None]
    if not values:
        return None, 0.0
    middle = statistics.median(values)
    return middle, relative_spread(min(values), max(values), middle)


def users_levels(cells: Iterable[Cell], variant: str, scenario: str) -> list[int]:
    """Return the users levels measured for a variant and scenario, ascending."""
    return sorted({c[3] for c in cells if c[1] == variant and c[2] == scenario})


def common_users(
    cells: Mapping[Cell, CellFigures] | Iterable[Cell], variant: str, scenario: str
) -> int | None:
    """Return the users level every measured target has, preferring the most trials.

    The headline level of the report and the claims: the level measured most often (the default
    run repeats 8 users three times); among levels with as many trials, the highest wins.
    """
    trials = (
        {cell: figures["trials"] for cell, figures in cells.items()}
        if isinstance(cells, Mapping)
        else dict.fromkeys(cells, 1)
    )
    targets = {c[0] for c in trials if c[1] == variant and c[2] == scenario}
    levels = [
        users
        for users in users_levels(trials, variant, scenario)
        if all((t, variant, scenario, users) in trials for t in targets)
    ]

    def fewest_trials(users: int) -> int:
        return min(trials[(t, variant, scenario, users)] for t in targets)

    return max(levels, key=lambda users: (fewest_trials(users), users)) if levels else None


def busiest_users(cells: Iterable[Cell], variant: str) -> int | None:
    """Return the users level with the most cells of a variant (the higher level on a tie)."""
    counts: dict[int, int] = {}
    for _, cell_variant, _, users in cells:
        if cell_variant == variant:
            counts[users] = counts.get(users, 0) + 1
    return max(counts, key=lambda users: (counts[users], users)) if counts else None


def of_kind(
    facts: Mapping[str, TargetFacts], kind: TargetKind, framework: Framework | None = None
) -> str | None:
    """Return the target the facts give this kind (and framework), if one is registered."""
    found = (n for n, t in facts.items() if t["kind"] == kind and t["framework"] == framework)
    return next(found, None)


def apps(facts: Mapping[str, TargetFacts]) -> tuple[str | None, str | None]:
    """Return the Flask app and the Django app, as the facts name them."""
    flask, django = (of_kind(facts, "app", framework) for framework in FRAMEWORKS)
    return flask, django


def split_over_baseline(result: Overhead, base: Overhead) -> dict[str, float]:
    """Split an app's extra ``predict`` cost over the baseline: its own code, interference."""
    own = result["predict_canned_us"] - base["predict_canned_us"]
    total = result["predict_us"] - base["predict_us"]
    return {"extra_us": total, "own_code_us": own, "interference_us": total - own}


def over_baseline(
    overhead: Iterable[Overhead], facts: Mapping[str, TargetFacts]
) -> list[tuple[str, dict[str, float]]]:
    """Return each other target's ``split_over_baseline``, in order, where the baseline ran."""
    found: dict[str, Overhead] = {r["target"]: r for r in overhead}
    if (base := found.get(of_kind(facts, "baseline") or "")) is None:
        return []
    return [(n, split_over_baseline(found[n], base)) for n in ordered(found) if found[n] != base]


def at_users(
    cells: Mapping[Cell, CellFigures], targets: Iterable[str], variant: str, scenario: str
) -> tuple[int | None, dict[str, CellFigures]]:
    """Return the level every target has (``common_users``) and each target's cell there."""
    users = common_users(cells, variant, scenario)
    found = {t: c for t in targets if (c := cells.get((t, variant, scenario, users or 0)))}
    return (users, found) if users is not None else (None, {})


def memory(
    cells: Mapping[Cell, CellFigures], targets: Iterable[str], variants: Sequence[str]
) -> list[tuple[str, str, dict[MemoryKey, float | None], float]]:
    """Return each target and variant's memory: each figure's median over its cells (``MEMORY``),
    and the highest peak."""
    found: list[tuple[str, str, dict[MemoryKey, float | None], float]] = []
    for target in targets:
        for variant in variants:
            if mine := [c for k, c in cells.items() if k[:2] == (target, variant)]:
                medians = {key: median(c[key] for c in mine) for key in MEMORY}
                found.append((target, variant, medians, max(c["pss_mib_peak"] for c in mine)))
    return found


class Measured(NamedTuple):
    """One cell of a run and its figures over the trials."""

    target: str
    variant: str
    scenario: str
    users: int
    figures: CellFigures


@dataclass(frozen=True)
class Run:
    """A run's results with their cells aggregated once, and its targets and variants in order."""

    results: Results
    cells: dict[Cell, CellFigures]

    @property
    def targets(self) -> list[str]:
        return ordered(c[0] for c in self.cells)

    @property
    def variants(self) -> list[str]:
        return ordered((c[1] for c in self.cells), VARIANTS)

    def cell(
        self, target: str, variant: str, scenario: str, users: int | None
    ) -> CellFigures | None:
        return None if users is None else self.cells.get((target, variant, scenario, users))

    def measured(self) -> list[Measured]:
        return [Measured(*cell, figures) for cell, figures in self.cells.items()]

    def side_by_side(self, variant: str) -> list[Measured]:
        """Return the variant's cells by scenario, then users level, then target: the targets
        side by side, the comparison to read."""

        def key(m: Measured) -> tuple[tuple[int, str], int, tuple[int, str]]:
            ranks = sort_key(m[:4])
            return ranks[2], m.users, ranks[0]

        return sorted((m for m in self.measured() if m.variant == variant), key=key)

    def across(
        self, variant: str, points: Sequence[tuple[str, int | None]]
    ) -> dict[str, list[CellFigures | None]]:
        """Return each target's cell at each (scenario, users) point, for targets with any."""
        found = {t: [self.cell(t, variant, s, u) for s, u in points] for t in self.targets}
        return {target: cells for target, cells in found.items() if any(cells)}

    def scenarios(self, variant: str, users: int | None) -> list[str]:
        """Return the scenarios measured with the variant at the users level."""
        return ordered((c[2] for c in self.cells if c[1] == variant and c[3] == users), SCENARIOS)

    def at_common_users(self, scenario: str) -> list[Measured]:
        """Return each variant's cells at the users level every target reached (``at_users``)."""
        return [
            Measured(target, variant, scenario, users, figures)
            for variant in self.variants
            for users, at in [at_users(self.cells, self.targets, variant, scenario)]
            for target, figures in at.items()
            if users is not None
        ]

    def cautions(self) -> tuple[int, int]:
        """Return how many cells were generator-bound and how many responses failed."""
        cells = self.cells.values()
        return sum(c["generator_bound"] for c in cells), sum(c["failures"] for c in cells)


def run(results: Results) -> Run:
    """Return the results with their cells aggregated."""
    return Run(results, cells(results.get("phases") or []))
