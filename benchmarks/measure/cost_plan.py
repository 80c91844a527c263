"""What the cost step counts, as data: its scenarios, each mode's plan, and the jobs it forks.

``measure.cost`` turns a plan into a ``Spec``; the counted interpreter (``measure.cost_child``)
reads it back from JSON. Both read ``SCENARIOS`` and ``WARMUP`` from here, so what is counted and
how it is checked is stated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from benchmarks.load.payloads import V2_INFER
from benchmarks.results.vocabulary import Mode, Variant
from benchmarks.targets import TARGETS, ladder, names, serves

# scenario -> (variant, method, path, body kind in benchmarks.load.payloads, expected status)
SCENARIOS: dict[str, tuple[Variant, str, str, str | None, int]] = {
    "health": ("light", "GET", "/health/live", None, 200),
    "predict_one": ("light", "POST", "/v1/predict", "one", 200),
    "predict_batch": ("light", "POST", "/v1/predict", "batch", 200),
    "invalid": ("light", "POST", "/v1/predict", "invalid", 422),
    "v2_one": ("light", "POST", V2_INFER, "v2_one", 200),
    "v2_batch": ("light", "POST", V2_INFER, "v2_batch", 200),
    "predict_one_heavy": ("heavy", "POST", "/v1/predict", "one", 200),
}
WARMUP = 20  # requests of each scenario before counting: the caches a request fills are full
# The body kinds that reach the model: /v1's instances, v2's tensors.
PREDICTING = ("one", "batch", "v2_one", "v2_batch")

# One forked child of the counted interpreter: a target, its model variant, the scenarios it counts.
Job = tuple[str, Variant, list[str]]


class CostPlan(TypedDict):
    """What a mode of the cost step counts."""

    targets: tuple[str, ...]
    scenarios: tuple[str, ...]  # of SCENARIOS
    requests: dict[str, int]  # scenario -> requests counted
    ladders: tuple[str, ...]  # the rungs, counted on one-row predictions only
    ladder_startup: bool  # the rungs' start-ups counted too


class Spec(TypedDict):
    """What the counted interpreter is asked to count (spec.json, written by ``measure.cost``)."""

    library: str  # the compiled callgrind_requests.c
    cpus: list[int]  # one child per CPU at a time
    requests: dict[str, int]  # scenario -> requests counted
    model: list[str]  # the scenarios whose ``Model.predict`` is counted alone
    jobs: list[Job]
    startup: list[str]  # the targets whose start-up is counted


def plan(mode: Mode) -> CostPlan:
    """Return what a mode counts: targets, scenarios and requests per scenario, and the
    ladders' rungs (one-row predictions only: what a feature adds to the same request)."""
    if mode == "quick":
        return {
            "targets": names("run"),
            "scenarios": ("predict_one", "v2_one", "predict_one_heavy"),
            "requests": {"predict_one": 10, "v2_one": 10, "predict_one_heavy": 5},
            "ladders": (),
            "ladder_startup": False,
        }
    return {
        "targets": names(),
        "scenarios": tuple(SCENARIOS),
        "requests": {
            # Cheap requests get more: a count moves by a few hundred instructions a request
            # (request IDs, dates), a larger share of a health check than of a prediction.
            "health": 150,
            "predict_one": 50,
            "predict_batch": 5,
            "invalid": 60,
            "v2_one": 50,
            "v2_batch": 5,
            "predict_one_heavy": 10,
        },
        # The floors and the apps are counted above; the ladders add their rungs. Counting a
        # start-up is the slow part (every import instrumented): the rungs' only in "full".
        "ladders": (
            *(name for name in ladder() if name not in names()),
            *names("metrics-off"),
        ),
        "ladder_startup": mode == "full",
    }


def scenarios_of(target: str, scenarios: Sequence[str]) -> list[str]:
    """Return the scenarios a target serves (``targets.serves``: a floor not the contract's error
    path, neither a floor nor the baseline v2), in ``SCENARIOS`` order."""
    return [
        name
        for name in SCENARIOS
        if name in scenarios and serves(target, name.removesuffix("_heavy"))
    ]


def jobs(the_plan: CostPlan, targets: Sequence[str] | None = None) -> list[Job]:
    """Return the children to fork: the plan's targets (or ``targets``), heavy model first."""
    scenarios = {
        target: tuple(
            s
            for s in the_plan["scenarios"]
            # The heavy model's count of a floor repeats what the apps show (the model is 96%
            # of it); its interpreter is the slowest to count, so a named target only.
            if targets or s != "predict_one_heavy" or "floor" not in TARGETS[target].tags
        )
        for target in targets or the_plan["targets"]
    }
    if targets is None and "predict_one" in the_plan["requests"]:
        scenarios |= {rung: ("predict_one",) for rung in the_plan["ladders"]}
    slowest_first: tuple[Variant, ...] = ("heavy", "light")  # so the CPUs finish together
    return [
        (target, variant, chosen)
        for variant in slowest_first
        for target, wanted in scenarios.items()
        if (chosen := [s for s in scenarios_of(target, wanted) if SCENARIOS[s][0] == variant])
    ]


def startups(the_plan: CostPlan, jobs: Sequence[Job]) -> list[str]:
    """Return the targets whose start-up is counted: light children, the rungs' in "full" only."""
    return [
        target
        for target, variant, _ in jobs
        if variant == "light" and (target not in the_plan["ladders"] or the_plan["ladder_startup"])
    ]


def model_scenarios(the_plan: CostPlan) -> list[str]:
    """Return the scenarios whose model work is counted alone: those that predict."""
    return [s for s in the_plan["scenarios"] if SCENARIOS[s][3] in PREDICTING]
