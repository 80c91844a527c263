"""The registry of targets, the benchmark's vocabulary and the plans agree with each other."""

from __future__ import annotations

import model
from benchmarks import schema, targets
from benchmarks.load import wrk
from benchmarks.plan import Cell, build, interleave


def test_the_run_targets_are_the_ones_results_may_name() -> None:
    assert targets.RUN == schema.TARGET_NAMES
    assert build("default").targets == targets.RUN


def test_each_app_has_a_registered_floor_and_nothing_else_does() -> None:
    assert targets.APPS == ("flask", "django")
    for app in targets.APPS:
        floor = targets.TARGETS[app].floor
        assert floor in targets.names("floor")
    assert all(targets.TARGETS[n].floor is None for n in targets.names() if n not in targets.APPS)


def test_every_target_names_a_wsgi_callable() -> None:
    for target in targets.TARGETS.values():
        module, _, callable_name = target.wsgi.partition(":")
        assert module, target
        assert callable_name.isidentifier(), target


def test_the_vocabulary_matches_the_model_and_the_load_tools() -> None:
    assert schema.VARIANTS == model.VARIANTS
    assert set(wrk.SCENARIOS) <= set(schema.SCENARIOS)


def test_interleave_takes_every_item_in_turn_trial_by_trial() -> None:
    assert interleave(2, "ab") == [(0, "a"), (0, "b"), (1, "a"), (1, "b")]
    assert interleave(0, "ab") == []


def test_phases_interleave_targets_within_each_trial() -> None:
    plan = build("default")
    order = plan.phases("light")
    first = [target for trial, _, target in order[: len(plan.targets)]]
    assert first == list(plan.targets)
    # A cell measured once is not measured again in later trials.
    once = Cell("light", "predict_one", 1, 1)
    assert sum(cell == once for _, cell, _ in order) == len(plan.targets)


def test_the_modes_fit_their_time_budgets() -> None:
    # The promises the README makes: --quick in about 3 minutes, the default run about 12.
    assert build("quick").estimate_s() < 210
    assert build("default").estimate_s() < 750
