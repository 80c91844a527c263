"""The analysis, which reads results only: aggregation by hand-checked examples and the
in-process overhead split."""

from __future__ import annotations

import pytest

from benchmarks.analysis import aggregate, judge, ladders, reliability
from benchmarks.results.records import Results


def phase(rps: float, trial: int = 1, **changes: object) -> dict:
    """Return one Flask light predict_one phase at 8 users, with ``changes`` applied."""
    base = {
        "target": "flask",
        "variant": "light",
        "scenario": "predict_one",
        "users": 8,
        "trial": trial,
        "seconds": 5.0,
        "requests": 1000,
        "failures": 0,
        "rps": rps,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 4.0, "max": 5.0},
        "server_cpu_us_per_request": 300.0,
        "model_ms_mean": 0.1,
        "generator_cpu_util": 0.5,
        "generator_cpu_util_by_process": {"local": 0.5},
        "load_cpus_busy": 0.5,
        "generator_bound": False,
        "pss_mib_steady": 100.0,
        "pss_mib_peak": 110.0,
        "uss_mib_steady": 60.0,
        "rss_mib_steady": 180.0,
        "pss_mib_master": 30.0,
        "pss_mib_workers": [70.0],
        "csv_prefix": f"locust/t{trial}",
    }
    return base | changes


def test_cells_take_medians_extremes_and_sums_over_trials() -> None:
    trials = [
        phase(100.0, 1, requests=500, failures=1, model_ms_mean=0.1, pss_mib_peak=120.0),
        phase(120.0, 2, requests=600, server_cpu_us_per_request=340.0, model_ms_mean=None),
        phase(
            90.0,
            3,
            requests=450,
            failures=2,
            server_cpu_us_per_request=320.0,
            model_ms_mean=0.2,
            generator_bound=True,
            pss_mib_steady=104.0,
            latency_ms={"p50": 1.4, "p90": 2.2, "p99": 9.0, "p999": 9.5, "max": 12.0},
        ),
    ]
    (cell,) = aggregate.cells(trials).values()
    assert cell["rps"] == 100.0
    assert (cell["rps_min"], cell["rps_max"]) == (90.0, 120.0)
    assert cell["latency_ms"] == {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 4.0, "max": 5.0}
    assert cell["server_cpu_us_per_request"] == 320.0
    assert cell["model_ms_mean"] == pytest.approx(0.15)  # the trial without a figure is left out
    assert cell["framework_us"] == pytest.approx(320.0 - 150.0)
    assert cell["model_us"] == pytest.approx(150.0)
    assert cell["framework_share"] == pytest.approx((320.0 - 150.0) / 320.0)
    assert cell["pss_mib_steady"] == 100.0
    assert cell["pss_mib_peak"] == 120.0
    assert cell["trials"] == 3
    assert cell["requests"] == 1550
    assert cell["failures"] == 3
    assert cell["generator_bound"] is True


def test_cells_without_model_timing_have_no_framework_share() -> None:
    trials = [
        phase(50.0, 1, scenario="health", model_ms_mean=None),
        phase(70.0, 2, scenario="health", model_ms_mean=None),
    ]
    cell = aggregate.cells(trials)[("flask", "light", "health", 8)]
    assert cell["rps"] == 60.0
    assert cell["model_ms_mean"] is None
    assert cell["framework_us"] is None
    assert cell["model_us"] is None
    assert cell["framework_share"] is None
    assert cell["generator_bound"] is False


def test_cells_are_grouped_by_cell_and_ordered() -> None:
    trials = [
        phase(10.0, target="django"),
        phase(30.0, users=32),
        phase(20.0),
        phase(40.0, target="baseline", variant="heavy"),
        phase(50.0, target="baseline"),
    ]
    assert list(aggregate.cells(trials)) == [
        ("baseline", "light", "predict_one", 8),
        ("baseline", "heavy", "predict_one", 8),
        ("flask", "light", "predict_one", 8),
        ("flask", "light", "predict_one", 32),
        ("django", "light", "predict_one", 8),
    ]


def test_ratio_divides_two_cells_and_refuses_what_is_missing() -> None:
    table = aggregate.cells([phase(300.0), phase(200.0, target="django"), phase(0.0, users=1)])
    flask, django = ("flask", "light", "predict_one", 8), ("django", "light", "predict_one", 8)
    assert aggregate.ratio(table, flask, django) == 1.5
    assert aggregate.ratio(table, flask, django, key="latency_ms.p99") == 1.0
    assert aggregate.ratio(table, flask, ("django", "heavy", "predict_one", 8)) is None
    assert aggregate.ratio(table, flask, ("flask", "light", "predict_one", 1)) is None


def test_noise_is_the_relative_spread_of_each_cell() -> None:
    trials = [phase(100.0, 1), phase(120.0, 2), phase(90.0, 3), phase(80.0, 1, users=1)]
    spread = {cell: aggregate.spread(t)[1] for cell, t in aggregate.group(trials).items()}
    assert spread[("flask", "light", "predict_one", 8)] == pytest.approx(0.3)
    assert spread[("flask", "light", "predict_one", 1)] == 0.0
    latency = [phase(1.0, 1), phase(1.0, 2, latency_ms={"p99": 5.0}), phase(1.0, 3)]
    ((cell, found),) = aggregate.group(latency).items()
    assert cell == ("flask", "light", "predict_one", 8)
    assert aggregate.spread(found, key="latency_ms.p99") == (3.0, pytest.approx((5.0 - 3.0) / 3.0))


def test_users_helpers_pick_the_levels_the_report_compares(results: Results) -> None:
    table = aggregate.cells(results["phases"])
    assert aggregate.users_levels(table, "light", "predict_one") == [1, 8, 32]
    assert aggregate.common_users(table, "light", "predict_one") == 32
    assert aggregate.busiest_users(table, "light") == 8
    assert aggregate.common_users(table, "light", "no such scenario") is None


def test_overhead_split_adds_up() -> None:
    base = {"predict_us": 300.0, "predict_canned_us": 20.0}
    app = {"predict_us": 450.0, "predict_canned_us": 110.0}
    assert aggregate.split_over_baseline(app, base) == {
        "extra_us": 150.0,
        "own_code_us": 90.0,
        "interference_us": 60.0,
    }


def test_the_baseline_and_the_apps_are_the_ones_the_facts_name() -> None:
    def facts(kind: str, framework: str | None) -> dict:
        keys = ("app", "floor", "rung", "feature", "extension")
        return {"kind": kind, "framework": framework, **dict.fromkeys(keys)}

    named = {
        "bare": facts("baseline", None),
        "f": facts("app", "flask"),
        "d": facts("app", "django"),
    }
    assert aggregate.apps(named) == ("f", "d")
    rows = [
        {"target": t, "variant": "light", "scenario": "health", "instructions": n}
        for t, n in (("bare", 100), ("f", 250), ("baseline", 50))
    ]
    ratios = ladders.over_cost_baseline(rows, named)
    assert ratios["f", "light", "health"] == 2.5
    assert ratios["baseline", "light", "health"] == 0.5  # a name alone makes no baseline
    overhead = [
        {"target": "bare", "predict_us": 300.0, "predict_canned_us": 20.0},
        {"target": "f", "predict_us": 450.0, "predict_canned_us": 110.0},
    ]
    assert aggregate.over_baseline(overhead, named) == [
        ("f", {"extra_us": 150.0, "own_code_us": 90.0, "interference_us": 60.0})
    ]
    assert aggregate.over_baseline(overhead[1:], named) == []
    summary = {"bare": {"rps": 1000.0}, "f": {"rps": 500.0}}
    result = {"summary": summary}
    assert ladders.over_baseline_and_floor(result, named)["f"] == (0.5, None)


def test_the_charts_leave_out_the_rungs_and_ratios_a_log_axis_cannot_show() -> None:
    facts = {"flask+cors": {"kind": "rung"}, "flask": {"kind": "app"}}
    rows = [
        {"target": t, "variant": v, "scenario": s}
        for t, v, s in [
            ("flask", "light", "predict_one"),
            ("flask+cors", "light", "predict_one"),
            ("unregistered", "light", "predict_one"),
            ("flask", "heavy", "predict_one"),
            ("flask", "light", "health"),
        ]
    ]
    assert list(ladders.light_one({"rows": rows}, facts)) == ["flask", "unregistered"]
    claims = [{"id": i, "ratio": r} for i, r in enumerate([1.5, None, 0.0, 0.8])]
    assert [c["id"] for c in judge.charted(claims)] == [0, 3]


def test_the_soak_survives_a_killed_worker_losing_one_request_per_connection_at_most() -> None:
    def soak(replaced: bool, failures: int, held: int | None = None) -> dict:
        found = {"worker_replaced": replaced, "failures": failures, "requests": 100}
        return found if held is None else {**found, "connections_killed": held}

    # Runs before connections were counted (sync): the one request in flight.
    soaks = [soak(True, 1), soak(True, 2), soak(False, 0)]
    assert [reliability.survived(s) for s in soaks] == [True, False, False]  # type: ignore[arg-type]
    assert reliability.soaked(soaks) == (3, 1, 300, 3)  # type: ignore[arg-type]
    # Kept-alive connections: one request each, and the one in flight even with none counted.
    held = [soak(True, 8, 8), soak(True, 9, 8), soak(True, 1, 0), soak(False, 0, 8)]
    assert [reliability.survived(s) for s in held] == [True, False, True, False]  # type: ignore[arg-type]


def test_hostile_inputs_count_those_answered_alike_and_those_answered_5xx() -> None:
    def probe(*answers: tuple[int, str]) -> dict:
        return {
            "answers": {f"app{i}": {"status": s, "code": c} for i, (s, c) in enumerate(answers)}
        }

    inputs = [
        probe((400, "x"), (400, "x")),
        probe((400, "x"), (400, "y")),
        probe((500, ""), (500, "")),
    ]
    assert reliability.answered(inputs) == (2, 1)  # type: ignore[arg-type]
