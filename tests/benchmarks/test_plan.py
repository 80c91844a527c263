"""The plans: the order of phases and the time each mode takes."""

from __future__ import annotations

from benchmarks.plan import Cell, build, interleave


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
