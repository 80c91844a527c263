"""The benchmark's vocabulary: the names results use, and the small records every room shares.

Each name is defined here once; the tuples keep the conventional order in which reports list them.
"""

from __future__ import annotations

from typing import Literal, get_args

from typing_extensions import TypedDict

# ``Target`` names what a run's phases measure (the registry in
# ``benchmarks.targets`` tags the same three ``run``; a test holds the two together).
Target = Literal["baseline", "flask", "django", "flask-twin"]
Variant = Literal["light", "heavy"]
# v2_one and v2_batch: one row and 100 rows through the Open Inference Protocol v2 (REST), which
# the apps serve beside /v1 (the bare-WSGI baseline and the frameworks' floors do not).
Scenario = Literal[
    "health", "predict_one", "predict_batch", "invalid", "v2_one", "v2_batch", "mixed"
]
Mode = Literal["quick", "default", "full"]
# "no difference": measured, and within the minimum effect (an equivalence, not a lack of data);
# "inconclusive": measured, and the evidence does not decide; "not measured here": no evidence.
Verdict = Literal["supported", "contradicted", "no difference", "inconclusive", "not measured here"]
# What a verdict rests on: a measurement, or a choice this project made (a count of names it
# typed, a model it picked); the report labels the second kind as such.
Basis = Literal["measured", "by design"]
# What a target is, as the registry says (``benchmarks.targets``): results carry it so that no
# reader has to guess a relation from a name.
TargetKind = Literal["baseline", "app", "floor", "twin", "metrics-off", "rung"]
Framework = Literal["flask", "django"]
# "run": the piece of the default run; the others a command's own modes.
ScaleMode = Literal["quick", "run", "default", "full"]
# The command that wrote a run directory: "run" measures everything, each other one its part.
Command = Literal["run", "capacity", "soak", "workers", "ladders", "remote", "peers", "batching"]
# The contract a server's predictions answer: ours (/v1) or the Open Inference Protocol v2.
Protocol = Literal["v1", "v2"]
TARGET_NAMES: tuple[Target, ...] = get_args(Target)
VARIANTS: tuple[Variant, ...] = get_args(Variant)
SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)


class Latency(TypedDict):
    """Response times in milliseconds, with 10-microsecond resolution below 10 ms."""

    p50: float
    p90: float
    p99: float
    p999: float
    max: float


class LocustError(TypedDict):
    """One line of Locust's error report."""

    name: str
    error: str
    count: int


class Cell(TypedDict):
    """One thing the plan measured on every target."""

    variant: Variant
    scenario: Scenario
    users: int
    trials: int


class Parity(TypedDict):
    """The parity gate: every target answered every probe alike before any load."""

    ok: bool
    probes: int
    targets: list[str]
    differences: list[str]
