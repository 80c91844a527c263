"""The plans: the order of phases and the time each mode takes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from itertools import pairwise

import pytest

from benchmarks.analysis.decision import MIN_TRIALS
from benchmarks.measure import capacity, timed
from benchmarks.plan import BESIDE, Cell, TimedCell, balanced, beside, build, interleave, rotate
from benchmarks.targets import AA, APPS


def test_interleave_takes_every_item_in_turn_trial_by_trial() -> None:
    assert interleave(2, "ab") == [(0, "a"), (0, "b"), (1, "a"), (1, "b")]
    assert interleave(0, "ab") == []


def test_phases_interleave_targets_within_each_trial_and_rotate_them() -> None:
    plan = build("default")
    order = plan.phases()
    width = len(plan.targets)
    first = [target for _, _, target in order[:width]]
    second = [target for _, _, target in order[width : width + len(plan.distinct)]]
    assert first == balanced(plan.targets, 0)
    # The next cell of the same trial is measured on the distinct targets (the A/A twin
    # measures the first cell's kind only), in the design's order for them.
    assert second == balanced(plan.distinct, 0)
    trial_one = [t for trial, cell, t in order if trial == 1 and cell == plan.cells[0]]
    assert trial_one == balanced(plan.targets, 1)
    assert trial_one[0] != first[0]


def test_light_and_heavy_cells_alternate_and_each_compared_cell_gets_repeated_trials() -> None:
    plan = build("default")
    order = plan.phases()
    variants = [cell.variant for _, cell, _ in order[:: len(plan.targets)]][:2]
    assert variants == ["light", "heavy"]
    for cell in plan.cells:
        runs = [t for _, c, t in order if c == cell]
        if cell.trials > 1:
            # Locust's figures feed the report's tables; the timed comparison decides.
            assert cell.trials >= 2
            assert sorted(runs) == sorted(list(plan.measuring(cell)) * cell.trials)
            # The twin measures what its check compares (the first cell's kind) and no more.
            twin = (cell.variant, cell.scenario) == ("light", "predict_one")
            assert (AA in runs) == twin
        elif cell != plan.cells[0]:
            # A cell measured once is not measured again, nor on the A/A twin.
            assert AA not in runs
            assert len(runs) == len(plan.targets) - 1
    # Every mode measures the A/A twin on the cell its check compares.
    for mode in ("quick", "default"):
        plan = build(mode)
        first = plan.cells[0]
        assert (first.variant, first.scenario, first.users) == ("light", "predict_one", 8)
        assert AA in [t for _, c, t in plan.phases() if c == plan.cells[0]]


def test_balanced_order_puts_every_item_first_once_and_after_every_other_alike() -> None:
    for items, trials, times in (("abcd", 4, 1), ("abc", 6, 2), ("abcde", 10, 2), ("ab", 2, 1)):
        orders = [balanced(items, trial) for trial in range(trials)]
        assert all(sorted(order) == sorted(items) for order in orders)
        assert Counter(order[0] for order in orders) == {item: times for item in items}
        follows = Counter(pair for order in orders for pair in pairwise(order))
        assert follows == {(a, b): times for a in items for b in items if a != b}
    assert balanced("abcd", 0)[0] == "a"
    assert balanced("", 3) == []


def test_rotate_moves_the_first_items_to_the_end() -> None:
    assert rotate("abc", 0) == list("abc")
    assert rotate("abc", 1) == list("bca")
    assert rotate("abc", 4) == list("bca")
    assert rotate("", 3) == []


def test_the_modes_fit_their_time_budgets() -> None:
    # The promises the README makes: --quick in about 5 minutes, the default run within 10.
    assert build("quick").estimate_s() < 330
    assert build("default").estimate_s() < 600


def test_the_timed_cells_of_each_mode() -> None:
    def cells(mode: str) -> list[tuple[str, str, int]]:
        return [(c.variant, c.scenario, c.trials) for c in build(mode).timed]

    assert cells("default") == [("light", "predict_one", 5), ("heavy", "predict_one", 5)]
    assert cells("quick") == [("light", "predict_one", 3)]
    assert build("quick").timed_s < build("default").timed_s <= build("full").timed_s
    assert all(trials > 5 for _, _, trials in cells("full"))
    for mode in ("quick", "default", "full"):
        plan = build(mode)
        assert all(c.trials >= MIN_TRIALS for c in plan.timed)
        # The apps and the A/A twin, each one of the run's servers; not the baseline.
        assert sorted(plan.timed_targets) == sorted((*APPS, AA))
        assert set(plan.timed_targets) <= set(plan.targets)
        assert {c.variant for c in plan.timed} <= set(plan.variants)


def test_every_timed_trial_holds_every_target_the_twin_included_in_a_williams_order() -> None:
    for mode in ("quick", "default", "full"):
        plan = build(mode)
        order = plan.timed_trials()
        assert len(order) == sum(c.trials for c in plan.timed) * len(plan.timed_targets)
        for cell in plan.timed:
            for trial in range(cell.trials):
                found = [t for n, c, t in order if (n, c) == (trial, cell)]
                # Trial t of every target of a cell, back to back: they pair, and the twin is
                # beside every cell that decides a claim.
                assert found == balanced(plan.timed_targets, trial)
                assert AA in found
                start = order.index((trial, cell, found[0]))
                assert order[start : start + len(found)] == [(trial, cell, t) for t in found]
    # Light and heavy alternate trial by trial, so the machine's drift spreads over both.
    plan = build("default")
    width = len(plan.timed_targets)
    assert [c.variant for _, c, _ in plan.timed_trials()[::width]][:4] == [
        "light",
        "heavy",
        "light",
        "heavy",
    ]
    assert plan.timed_warmups() == [(c, t) for c in plan.timed for t in plan.timed_targets]


def test_the_timed_comparison_is_in_the_plans_one_estimate() -> None:
    plan = build("default")
    trials = len(plan.timed_trials()) * (plan.timed_s + plan.timed_overhead_s)
    warmups = len(plan.timed_warmups()) * (plan.timed_warmup_s + plan.timed_overhead_s)
    assert plan.timed_estimate_s() == trials + warmups
    untimed = replace(plan, timed=[])
    assert plan.estimate_s() - untimed.estimate_s() == pytest.approx(trials + warmups)
    assert untimed.timed_trials() == []
    assert untimed.timed_estimate_s() == 0


def test_the_timed_connections_keep_the_server_busy_and_are_checked() -> None:
    plan = build("default")
    timed.check_saturating(plan, server_slots=1)
    # Two server CPUs (two workers) would need twice the connections; the run refuses less.
    with pytest.raises(ValueError, match="connections"):
        timed.check_saturating(plan, server_slots=plan.timed[0].connections)
    thin = replace(plan, timed=[TimedCell("light", "predict_one", 1, 5)])
    with pytest.raises(ValueError, match="connections"):
        timed.check_saturating(thin, server_slots=1)


def test_the_default_run_searches_each_apps_capacity_in_enough_paired_trials() -> None:
    plan = build("default")
    # The claim "scales" decides its load part from MIN_TRIALS paired searches or more.
    assert plan.capacity == "run"
    assert plan.capacity_trials == capacity.SETTINGS["run"].trials >= MIN_TRIALS
    assert build("quick").capacity_trials == 1
    # Paired trials search the A/A twin too (the capacity's own A/A check); one trial does not.
    one = replace(plan, capacity_trials=1)
    assert one.capacity_estimate_s() == 2 * plan.capacity_steps * plan.capacity_step_s
    steps = plan.capacity_steps + 2 * plan.capacity_later_steps
    assert plan.capacity_estimate_s() == 3 * steps * plan.capacity_step_s


def test_a_v2_scenario_is_measured_beside_its_v1_twin_on_the_targets_that_serve_it() -> None:
    plan = build("default")
    # No mode measures v2 under load unless asked: the default run's time stays what it was.
    for mode in ("quick", "default", "full"):
        assert not {c.scenario for c in build(mode).cells} & set(BESIDE)
    pointed = build("default", "v2_one")
    twins = [c for c in plan.cells if c.scenario == "predict_one"]
    added = [c for c in pointed.cells if c.scenario == "v2_one"]
    assert added == [replace(c, scenario="v2_one") for c in twins]
    # Each right after its twin: the two protocols back to back, the claims' cells unchanged.
    for cell in twins:
        assert pointed.cells[pointed.cells.index(cell) + 1] == replace(cell, scenario="v2_one")
    assert [c for c in pointed.cells if c.scenario != "v2_one"] == plan.cells
    assert pointed.timed == plan.timed
    assert pointed.calibrate == [*plan.calibrate, ("light", "v2_one", 8)]
    # The apps serve v2; the baseline does not, and the A/A twin measures /v1's first cell only.
    for cell in added:
        assert pointed.measuring(cell) == APPS
    assert pointed.calibrating("v2_one") == APPS
    assert pointed.calibrating("predict_one") == plan.distinct
    phases = len(pointed.phases()) - len(plan.phases())
    assert phases == sum(c.trials for c in added) * len(APPS)
    extra = pointed.estimate_s() - plan.estimate_s()
    assert extra == pytest.approx(
        phases * plan.phase_seconds() + len(APPS) * (plan.calibrate_s + 1.5)
    )
    assert build("default", "v2_batch").cells[-1] == Cell("light", "invalid", 8, 1)
    assert Cell("light", "v2_batch", 8, 1) in build("default", "v2_batch").cells
    # Asked twice, a cell is not measured twice.
    assert beside(pointed, "v2_one") == pointed
