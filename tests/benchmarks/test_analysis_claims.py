"""The claims and the decision rule, on synthetic results built for each case."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.analysis import claims, claims_resources, decision
from benchmarks.analysis.aggregate import cells
from benchmarks.report import render

# Per-trial noise, the same pattern for every target so that only the set ratio differs.
WOBBLE = (1.00, 0.97, 1.03, 0.99, 1.02)


def phase(target: str, variant: str, trial: int, rps: float, **extra: Any) -> dict[str, Any]:
    """Return one phase record with the fields the claims read."""
    return {
        "target": target,
        "variant": variant,
        "scenario": "predict_one",
        "users": 8,
        "trial": trial,
        "rps": rps,
        "latency_ms": {"p50": 8000 / rps, "p90": 1.0, "p99": 1.0, "p999": 1.0, "max": 1.0},
        "server_cpu_us_per_request": 1e6 / rps,
        "model_ms_mean": 0.4,
        "generator_bound": False,
        "failures": 0,
        "requests": int(rps * 3),
        "pss_mib_steady": 150.0,
        "pss_mib_peak": 160.0,
        "uss_mib_steady": 60.0,
        "rss_mib_steady": 250.0,
        "pss_mib_master": 50.0,
        "pss_mib_workers": [100.0],
        "generator_cpu_util": 0.5,
        "generator_cpu_util_by_process": {"local": 0.5},
        "load_cpus_busy": 0.5,
        **extra,
    }


def run(
    flask_rps: list[float],
    django_rps: list[float],
    *,
    instructions: tuple[float, float] | None = (2.5e6, 3.1e6),
    heavy: tuple[float, float] = (27.6e6, 28.2e6),
    twin: list[float] | None = None,
    memory: tuple[float, float] = (180.0, 230.0),
    startup_counts: tuple[int, int] | None = (272_000_000, 349_000_000),
    mode: str = "default",
    **flags: Any,
) -> dict[str, Any]:
    """Return results with the given per-trial req/s for Flask and Django (light and heavy)."""
    phases = []
    for trial, (f, d) in enumerate(zip(flask_rps, django_rps, strict=True)):
        for variant, scale in (("light", 1.0), ("heavy", 0.1)):
            phases.append(
                phase("flask", variant, trial, f * scale, pss_mib_steady=memory[0], **flags)
            )
            phases.append(phase("django", variant, trial, d * scale, pss_mib_steady=memory[1]))
        if twin:
            phases.append(phase(claims.AA_TARGET, "light", trial, twin[trial]))
    results: dict[str, Any] = {
        "mode": mode,
        "phases": phases,
        "environment": {"server_cpus": "0", "gunicorn": {"gc_freeze": None}},
        "startup": {
            "flask": {"seconds": [1.1, 1.2, 1.0, 1.1], "median": 1.1},
            "django": {"seconds": [1.4, 1.3, 1.5, 1.4], "median": 1.4},
        },
        "loc": {"flask": {"total": 135}, "django": {"total": 249}},
        "dependencies": {"flask": {"extensions": []}, "django": {"extensions": ["drf"]}},
        "framework_footprint": {
            "flask": {"total_bytes": 2_200_000, "distributions": [1, 2]},
            "django": {"total_bytes": 23_700_000, "distributions": [1, 2, 3]},
        },
        "security": [],
    }
    if instructions:
        rows = []
        for target, light, big in (
            ("flask", instructions[0], heavy[0]),
            ("django", instructions[1], heavy[1]),
        ):
            rows.append(cost_row(target, "light", light, 1.79e6))
            rows.append(cost_row(target, "heavy", big, 26.8e6))
        results["cost"] = {"rows": rows, "startup": {}}
        if startup_counts:
            results["cost"]["startup"] = dict(zip(("flask", "django"), startup_counts, strict=True))
    return results


def cost_row(target: str, variant: str, total: float, model: float) -> dict[str, Any]:
    return {
        "target": target,
        "variant": variant,
        "scenario": "predict_one",
        "instructions": total,
        "model_instructions": model,
        "rest_instructions": total - model,
    }


def verdict(results: dict[str, Any], claim: str) -> str:
    return next(c for c in claims.evaluate(results) if c["id"] == claim)["verdict"]


def faster_by(ratio: float, trials: int = 5) -> tuple[list[float], list[float]]:
    """Return (Flask, Django) req/s per trial, Flask ``ratio`` times Django, with the same noise."""
    django = [1000 * w for w in WOBBLE[:trials]]
    return [d * ratio for d in django], django


# -- the decision rule --------------------------------------------------------------------------


def test_an_interval_needs_three_paired_trials_and_is_the_same_every_time() -> None:
    assert decision.interval([1.1, 1.2]) is None
    ratios = [1.12, 1.08, 1.15, 1.10, 1.05]
    first, second = decision.interval(ratios), decision.interval(ratios)
    assert first == second
    assert first["low"] < first["estimate"] < first["high"]
    assert first["trials"] == 5


def test_a_direction_needs_the_whole_interval_beyond_the_minimum_effect() -> None:
    clear = decision.interval([1.12, 1.10, 1.14, 1.11, 1.13])
    straddling = decision.interval([1.02, 1.10, 0.99, 1.08, 1.04])
    assert decision.interval_direction(clear) == 1
    assert decision.interval_direction(straddling) == 0
    assert decision.interval_direction(None) is None
    assert decision.direction(1.04) == 0
    assert decision.direction(1 / 1.06) == -1


def test_paired_ratios_skip_generator_bound_trials() -> None:
    phases = [
        phase("flask", "light", 0, 1100),
        phase("django", "light", 0, 1000),
        phase("flask", "light", 1, 1100, generator_bound=True),
        phase("django", "light", 1, 1000),
    ]
    assert decision.paired(phases, "flask", "django", ("light", "predict_one", 8)) == [1.1]


# -- "Flask is faster" ----------------------------------------------------------------------------


def test_a_clear_win_is_supported() -> None:
    assert verdict(run(*faster_by(1.15)), "faster") == "supported"


def test_an_overlap_without_instruction_counts_is_inconclusive() -> None:
    flask = [1000 * r for r in (1.05, 0.96, 1.02, 0.98, 1.01)]
    results = run(flask, [1000.0] * 5, instructions=None)
    assert verdict(results, "faster") == "inconclusive"


def test_a_reversal_is_contradicted() -> None:
    results = run(*faster_by(1 / 1.2), instructions=(3.2e6, 2.5e6))
    assert verdict(results, "faster") == "contradicted"


def test_instructions_and_timings_pointing_different_ways_are_mixed() -> None:
    assert verdict(run(*faster_by(1 / 1.2)), "faster") == "mixed"


def test_generator_bound_trials_leave_the_decision_to_the_instruction_counts() -> None:
    bound = run(*faster_by(1 / 1.3), generator_bound=True)
    assert verdict(bound, "faster") == "supported"
    assert verdict(run(*faster_by(1.3), instructions=None, generator_bound=True), "faster") == (
        "inconclusive"
    )


@pytest.mark.parametrize("ratio", [1.15, 1 / 1.15, 1.02])
@pytest.mark.parametrize("counted", [(2.5e6, 3.1e6), (2.5e6, 2.52e6), None])
def test_a_one_trial_quick_run_never_says_the_opposite_of_a_default_run(
    ratio: float, counted: tuple[float, float] | None
) -> None:
    flask, django = faster_by(ratio)
    full = verdict(run(flask, django, instructions=counted), "faster")
    quick = verdict(run(flask[:1], django[:1], instructions=counted, mode="quick"), "faster")
    opposite = {"supported": "contradicted", "contradicted": "supported"}
    assert quick != opposite.get(full)
    if quick.startswith("inconclusive"):
        # Less sure than the default run is allowed, and says why.
        assert quick == "inconclusive (quick run)" or full.startswith("inconclusive")
    elif full != "mixed":
        assert quick == full
    # A default run is "mixed" where its timings contradict its instruction counts; a quick
    # run has no timed interval and keeps the counts' direction.


# -- the other timed claims ----------------------------------------------------------------------


def test_less_memory_and_fewer_start_up_instructions_make_flask_lighter() -> None:
    assert verdict(run(*faster_by(1.1)), "lighter") == "supported"


def test_more_memory_but_a_faster_start_up_is_mixed() -> None:
    assert verdict(run(*faster_by(1.1), memory=(260.0, 200.0)), "lighter") == "mixed"


def test_the_model_dominates_when_the_heavy_gap_closes() -> None:
    flask, django = faster_by(1.0)
    assert verdict(run(flask, django), "model-dominates") == "supported"
    wide = run(*faster_by(1.2), heavy=(27.6e6, 33.0e6))
    assert verdict(wide, "model-dominates") == "contradicted"
    # The instructions say the framework still matters; equal timings say it does not.
    assert verdict(run(flask, django, heavy=(27.6e6, 33.0e6)), "model-dominates") == "mixed"


def test_deterministic_claims_need_no_interval() -> None:
    results = run(*faster_by(1.0, trials=1), mode="quick")
    assert verdict(results, "fewer-lines") == "supported"
    assert verdict(results, "footprint") == "supported"
    results["loc"]["django"]["total"] = 139
    assert verdict(results, "fewer-lines") == "inconclusive"


# -- the A/A check -------------------------------------------------------------------------------


def test_the_a_a_pair_agrees_when_it_is_the_same_app() -> None:
    flask, django = faster_by(1.1)
    twin = [f * w for f, w in zip(flask, (1.01, 0.99, 1.0, 1.02, 0.98), strict=True)]
    check = claims.aa_check(run(flask, django, twin=twin))
    assert check["differs"] is False
    assert check["interval"]["low"] <= 1 <= check["interval"]["high"]
    assert 0 < check["noise_floor"] < 0.05


def test_an_a_a_pair_that_differs_is_flagged_and_the_report_warns(tmp_path: Any) -> None:
    flask, django = faster_by(1.1)
    results = run(flask, django, twin=[f / 1.2 for f in flask])
    check = claims.aa_check(results)
    assert check["differs"] is True
    results |= {"aa": check, "claims": claims.evaluate(results), "decision_rule": decision.RULE}
    sample = render_sample(results)
    assert "WARNING: the A/A pair differs" in sample
    assert "The decision rule, fixed before the run" in sample


def render_sample(results: dict[str, Any]) -> str:
    """Render the claims section of the report for these results."""
    import json
    from pathlib import Path

    base = json.loads((Path(__file__).parent / "data" / "results-sample.json").read_text())
    base |= {k: results[k] for k in ("aa", "claims", "decision_rule")}
    assert cells(base["phases"])
    return render.render_markdown(base)


# -- compare: verdicts and counts across two runs --------------------------------------------


def test_compare_lists_which_verdicts_held_and_how_far_the_counts_moved() -> None:
    from benchmarks.analysis import compare

    flask, django = faster_by(1.15)
    first = run(flask, django)
    second = run(flask, django, instructions=(2.5e6, 3.1e6 * 1.004))
    reversed_ = run(*faster_by(1 / 1.2), instructions=(3.2e6, 2.5e6))
    for results in (first, second, reversed_):
        results["claims"] = claims.evaluate(results)
    held = {v["id"]: v["held"] for v in compare.verdicts(first, second)}
    assert all(held.values())
    assert not {v["id"]: v["held"] for v in compare.verdicts(first, reversed_)}["faster"]
    moved = {c["key"]: c["difference"] for c in compare.counts(first, second)}
    assert moved["django", "light", "predict_one"] == pytest.approx(0.004)
    assert moved["flask", "light", "predict_one"] == 0
    assert moved["flask", "light", "start-up"] == 0


# -- memory from the workers measurement ---------------------------------------------------------


def workers_fit(app: str, totals: list[float], **extra: Any) -> dict[str, Any]:
    """Return one app's fit of memory over 1, 2 and 4 workers (light model, preloaded)."""
    slope = (totals[-1] - totals[0]) / 3
    return {
        "app": app,
        "variant": "light",
        "preload": True,
        "freeze": False,
        "counts": [1, 2, 4],
        "total_pss_mib": totals,
        "total_pss_anon_mib": [t - 10 for t in totals],
        "marginal_mib": slope,
        "marginal_anon_mib": slope,
        "base_mib": totals[0] - slope,
        "workers_per_gib": 1024 / slope,
        "rounds": 2,
        "spread": 0.1,  # the file pages' share moves with the machine's other processes
        "spread_anon": 0.004,
        **extra,
    }


def with_workers(results: dict[str, Any], flask: list[float], django: list[float], **extra: Any):
    """Return the results with a workers measurement of both apps."""
    results["workers"] = {
        "default_workers": 1,
        "fits": [workers_fit("flask", flask, **extra), workers_fit("django", django, **extra)],
    }
    return results


def lighter_claim(results: dict[str, Any]) -> dict[str, str]:
    return next(c for c in claims.evaluate(results) if c["id"] == "lighter")


def test_the_workers_measurement_decides_memory_when_present() -> None:
    # The phases say Django holds more; the workers measurement says Flask does, and wins.
    results = with_workers(run(*faster_by(1.1)), [130.0, 142.0, 166.0], [110.0, 120.0, 140.0])
    claim = lighter_claim(results)
    assert claim["verdict"] == "mixed"
    assert "120 vs 100 MiB anonymous PSS at 1 worker(s)" in claim["reason"]
    assert "measured, not timed" in claim["interval"]
    agreeing = with_workers(run(*faster_by(1.1)), [110.0, 120.0, 140.0], [130.0, 142.0, 166.0])
    assert verdict(agreeing, "lighter") == "supported"


def test_memory_is_undecided_when_rounds_spread_or_an_added_worker_disagrees() -> None:
    noisy = with_workers(
        run(*faster_by(1.1)), [110.0, 120.0, 140.0], [130.0, 142.0, 166.0], spread_anon=0.08
    )
    assert verdict(noisy, "lighter") == "inconclusive"
    assert "rounds spread" in lighter_claim(noisy)["reason"]
    # Django's server is larger, but each added Flask worker costs more than a Django one.
    crossing = with_workers(run(*faster_by(1.1)), [110.0, 150.0, 230.0], [130.0, 135.0, 145.0])
    assert verdict(crossing, "lighter") == "inconclusive"


def test_the_default_count_off_the_measured_ones_is_read_on_the_fitted_line() -> None:
    fit = workers_fit("flask", [110.0, 120.0, 140.0])
    assert claims_resources.at_count(fit, 2, anonymous=False) == 120.0
    assert claims_resources.at_count(fit, 8, anonymous=False) == pytest.approx(
        (110 + 120 + 140) / 3 + 10 * (8 - 7 / 3)
    )


def test_without_the_workers_measurement_memory_comes_from_the_phases() -> None:
    results = run(*faster_by(1.1))
    assert "workers" not in results
    claim = lighter_claim(results)
    assert "MiB per server" in claim["reason"]
    assert claim["verdict"] == "supported"
