"""The benchmark's vocabulary (schema) agrees with the targets, the plans, the model and the
load tools."""

from __future__ import annotations

import model
from benchmarks import schema, targets
from benchmarks.load import wrk
from benchmarks.plan import build


def test_the_run_targets_are_the_ones_results_may_name() -> None:
    assert (*targets.RUN, targets.AA) == schema.TARGET_NAMES
    assert build("default").targets == (*targets.RUN, targets.AA)


def test_the_vocabulary_matches_the_model_and_the_load_tools() -> None:
    assert schema.VARIANTS == model.VARIANTS
    assert set(wrk.SCENARIOS) <= set(schema.SCENARIOS)
