"""The claims and the decision rule, on synthetic results with realistic noise.

Timed trials are drawn as a real run would give them: every trial shares a machine drift (the
shared VM is faster or slower for a while), and every target adds its own noise; the A/A twin is
the Flask app again, drawn from Flask's own distribution unless a test slows it.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from benchmarks.analysis import claims, claims_resources, compare, decision, judge
from benchmarks.report import render

TWIN_FACTS = {
    "kind": "twin",
    "framework": "flask",
    "app": "flask",
    "floor": "flask-floor",
    "rung": None,
    "feature": None,
    "extension": None,
}
NOISE = 0.04  # each target's own spread between trials (log scale): about this VM's
DRIFT = 0.08  # the machine's drift from trial to trial, shared by every target of a trial
HEAVY_RPS = 100.0
LIGHT_RPS = 1000.0


def timed_trials(
    rng: np.random.Generator,
    ratio: float,
    variant: str,
    *,
    trials: int = 5,
    twin: float = 1.0,
    bound: bool = False,
) -> list[dict[str, Any]]:
    """Return wrk trials of Flask, its twin and Django: Flask ``ratio`` times Django's req/s."""
    base = LIGHT_RPS if variant == "light" else HEAVY_RPS
    found = []
    for trial in range(trials):
        drift = math.exp(rng.normal(0, DRIFT))
        for target, scale in (("flask", ratio), ("flask-twin", ratio * twin), ("django", 1.0)):
            rps = base * scale * drift * math.exp(rng.normal(0, NOISE))
            found.append(
                {
                    "target": target,
                    "variant": variant,
                    "scenario": "predict_one",
                    "connections": 8,
                    "trial": trial,
                    "rps": rps,
                    "generator_bound": bound,
                }
            )
    return found


def phase(target: str, variant: str, trial: int, memory: float) -> dict[str, Any]:
    """Return one Locust phase with the fields the claims read (memory; req/s is not read)."""
    return {
        "target": target,
        "variant": variant,
        "scenario": "predict_one",
        "users": 8,
        "trial": trial,
        "rps": 500.0,
        "latency_ms": {"p50": 1.0, "p90": 1.0, "p99": 1.0, "p999": 1.0, "max": 1.0},
        "server_cpu_us_per_request": 1000.0,
        "model_ms_mean": 0.4,
        "generator_bound": False,
        "failures": 0,
        "requests": 1500,
        "pss_mib_steady": memory,
        "pss_mib_peak": memory + 10,
        "uss_mib_steady": 60.0,
        "rss_mib_steady": 250.0,
        "pss_mib_master": 50.0,
        "pss_mib_workers": [100.0],
        "generator_cpu_util": 0.5,
        "generator_cpu_util_by_process": {"local": 0.5},
        "load_cpus_busy": 0.5,
    }


def cost_row(target: str, variant: str, total: float, model: float) -> dict[str, Any]:
    return {
        "target": target,
        "variant": variant,
        "scenario": "predict_one",
        "instructions": total,
        "model_instructions": model,
        "rest_instructions": total - model,
    }


def run(
    *,
    seed: int = 2,  # draws an A/A pair not told apart in either cell, as about 19 seeds in 20 do
    ratio: float = 1.2,
    heavy_ratio: float = 1.0,
    twin: float = 1.0,
    trials: int = 5,
    bound: bool = False,
    instructions: tuple[float, float] | None = (2.5e6, 3.1e6),
    heavy: tuple[float, float] = (27.6e6, 28.2e6),
    heavy_model: float = 26.8e6,
    memory: tuple[float, float] = (180.0, 230.0),
    startup_counts: tuple[int, int] | None = (272_000_000, 349_000_000),
    timed: bool = True,
) -> dict[str, Any]:
    """Return results with Flask ``ratio`` times Django's req/s (light) and ``heavy_ratio``
    (heavy), the twin ``twin`` times Flask's."""
    rng = np.random.default_rng(seed)
    results: dict[str, Any] = {
        "command": "run",
        "mode": "default",
        "phases": [
            phase(target, "light", trial, memory[target == "django"])
            for trial in range(3)
            for target in ("flask", "django")
        ],
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
        "targets": {"flask-twin": TWIN_FACTS},
    }
    if timed:
        results["timed"] = [
            *timed_trials(rng, ratio, "light", trials=trials, twin=twin, bound=bound),
            *timed_trials(rng, heavy_ratio, "heavy", trials=trials, twin=twin, bound=bound),
        ]
    if instructions:
        rows = []
        for target, light, big in (
            ("flask", instructions[0], heavy[0]),
            ("django", instructions[1], heavy[1]),
        ):
            rows.append(cost_row(target, "light", light, 1.79e6))
            rows.append(cost_row(target, "heavy", big, heavy_model))
        results["cost"] = {"rows": rows, "startup": {}}
        if startup_counts:
            results["cost"]["startup"] = dict(zip(("flask", "django"), startup_counts, strict=True))
    results["aa"] = claims.aa_check(results)
    return results


def claim(results: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in claims.evaluate(results) if c["id"] == name)


def verdict(results: dict[str, Any], name: str) -> str:
    return claim(results, name)["verdict"]


# -- the interval and its coverage ----------------------------------------------------------------


def test_an_interval_needs_three_paired_trials_and_is_the_same_every_time() -> None:
    assert decision.interval([1.1, 1.2]) is None
    ratios = [1.12, 1.08, 1.15, 1.10, 1.05]
    first, second = decision.interval(ratios), decision.interval(ratios)
    assert first == second
    assert first["low"] < first["estimate"] < first["high"]
    assert first["trials"] == 5


@pytest.mark.parametrize("trials", [3, 5])
def test_the_interval_covers_the_true_ratio_at_the_runs_trial_counts(trials: int) -> None:
    # Log-ratios of paired trials, drawn around a true ratio of 1.15 with this VM's noise.
    rng = np.random.default_rng(20261205)
    runs, truth = 4000, 1.15
    covered = 0
    for _ in range(runs):
        ratios = np.exp(rng.normal(math.log(truth), 2 * NOISE, trials))
        found = decision.interval(list(ratios))
        covered += found["low"] <= truth <= found["high"]
    # At least 93% at a nominal 95%, with room for the simulation's own error (about 0.3%).
    assert covered / runs >= 0.93


def test_a_twin_told_apart_from_flask_happens_at_the_nominal_rate() -> None:
    # Pure noise: the A/A check must call "differs" about 5% of the time, not 16%.
    rng = np.random.default_rng(7)
    runs = 3000
    differs = sum(
        claims.aa_check(
            {
                "phases": [],
                "timed": timed_trials(rng, 1.0, "light"),
                "targets": {"flask-twin": TWIN_FACTS},
            }
        )[0]["differs"]
        for _ in range(runs)
    )
    rate = differs / runs
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)


def test_the_whole_rule_rarely_finds_a_difference_that_is_not_there() -> None:
    # A/A through the whole rule: Flask, twin and Django all one app. The timed part of
    # "faster" (no instruction counts) must decide a direction at most 5% of the time.
    runs = 1000
    found = [
        verdict(run(seed=seed, ratio=1.0, heavy_ratio=1.0, instructions=None), "faster")
        for seed in range(runs)
    ]
    wrong = sum(v in ("supported", "contradicted") for v in found) / runs
    assert wrong <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)


def test_a_real_difference_is_found_and_covered() -> None:
    runs = 400
    found = [verdict(run(seed=s, ratio=1.3, instructions=None), "faster") for s in range(runs)]
    assert found.count("supported") / runs >= 0.8
    assert "contradicted" not in found


# -- the A/A gate -------------------------------------------------------------------------------


def test_a_slowed_twin_makes_every_timed_part_inconclusive() -> None:
    # As if the twin's handler slept: two copies of one app told apart, so no timing decides.
    slowed = run(seed=2, ratio=1.3, heavy_ratio=1.0, twin=0.75, instructions=None)
    assert all(check["differs"] for check in slowed["aa"])
    assert verdict(slowed, "faster") == "inconclusive"
    assert verdict(slowed, "model-dominates") == "not measured here" or (
        verdict(slowed, "model-dominates") == "inconclusive"
    )
    assert "told two copies of Flask apart" in claim(slowed, "faster")["reason"]
    healthy = run(seed=2, ratio=1.3, heavy_ratio=1.0, instructions=None)
    assert not any(check["differs"] for check in healthy["aa"])
    assert verdict(healthy, "faster") == "supported"


def test_a_difference_within_the_noise_floor_decides_nothing() -> None:
    noise_floor_wide = decision.interval([1.0, 1.12, 0.9, 1.1, 0.88])
    effect = decision.interval([1.12, 1.08, 1.15, 1.10, 1.13])
    assert decision.beyond(effect, decision.MIN_EFFECT) == 1
    assert decision.noise_floor(noise_floor_wide) > effect["low"] - 1
    assert decision.timed(effect, noise_floor_wide) is None
    assert decision.timed(effect, decision.interval([1.0, 1.01, 0.99, 1.0, 1.01])) == 1


def test_no_timed_evidence_from_a_generator_bound_trial() -> None:
    bound = run(ratio=1.3, bound=True, instructions=None)
    assert verdict(bound, "faster") == "inconclusive"
    assert all(check["interval"] is None for check in bound["aa"])


# -- "Flask answers faster": every verdict --------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "instructions", "expected"),
    [
        (1.2, (2.5e6, 3.1e6), "supported"),  # both kinds agree
        (1.2, None, "supported"),  # timing alone, beyond its noise
        (1 / 1.2, (3.1e6, 2.5e6), "contradicted"),
        (1 / 1.2, None, "contradicted"),
        (1 / 1.3, (2.5e6, 3.1e6), "inconclusive"),  # the two kinds disagree
        (1.0, (2.5e6, 2.55e6), "no difference"),  # within 5% by count, timing finds nothing
        (1.03, None, "inconclusive"),  # an interval straddling the threshold
    ],
)
def test_faster_reaches_every_verdict(
    ratio: float, instructions: tuple[float, float] | None, expected: str
) -> None:
    assert verdict(run(ratio=ratio, instructions=instructions), "faster") == expected


def test_faster_is_not_measured_without_counts_or_timing() -> None:
    results = run(instructions=None, timed=False)
    results["phases"] = []
    assert verdict(results, "faster") == "not measured here"


def test_an_older_run_times_from_its_locust_phases() -> None:
    results = run(instructions=None, timed=False)
    rng = np.random.default_rng(3)
    for record in timed_trials(rng, 1.3, "light"):
        results["phases"].append(
            phase(record["target"], "light", 10 + record["trial"], 200.0)
            | {"rps": record["rps"], "users": 32, "trial": record["trial"]}
        )
    results["aa"] = claims.aa_check(results)
    assert results["aa"][0]["source"] == "phases"
    assert verdict(results, "faster") == "supported"
    assert "Locust" in claim(results, "faster")["interval"]


# -- "a heavy model dominates": every verdict, and the share it needs ---------------------------


@pytest.mark.parametrize(
    ("heavy", "model", "heavy_ratio", "expected"),
    [
        ((27.6e6, 28.2e6), 26.8e6, 1.0, "supported"),
        ((27.6e6, 33.0e6), 26.8e6, 1.2, "contradicted"),  # the gap stays open
        ((27.6e6, 28.2e6), 20.0e6, 1.0, "contradicted"),  # the model is under 90% of it
        ((27.6e6, 28.2e6), 26.8e6, 1.3, "inconclusive"),  # timing finds the gap counts do not
    ],
)
def test_model_dominates_reaches_its_verdicts(
    heavy: tuple[float, float], model: float, heavy_ratio: float, expected: str
) -> None:
    results = run(heavy=heavy, heavy_model=model, heavy_ratio=heavy_ratio)
    assert verdict(results, "model-dominates") == expected
    assert claim(results, "model-dominates")["basis"] == "by design"


@pytest.mark.parametrize("share", [0.85, 0.89, 0.91, 0.97])
def test_model_dominates_needs_the_heavy_share(share: float) -> None:
    results = run(heavy=(27.6e6, 28.2e6), heavy_model=27.6e6 * share)
    expected = "supported" if share >= claims.HEAVY_MODEL_SHARE * 28.2 / 27.6 else "contradicted"
    assert verdict(results, "model-dominates") == expected


# -- deterministic claims -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("django_lines", "expected"),
    [(249, "supported"), (139, "no difference"), (100, "contradicted")],
)
def test_fewer_lines_reaches_every_verdict(django_lines: int, expected: str) -> None:
    results = run()
    results["loc"]["django"]["total"] = django_lines
    found = claim(results, "fewer-lines")
    assert found["verdict"] == expected
    assert found["source"].startswith("https://stackify.com/")
    assert found["interval"] == ""


@pytest.mark.parametrize(
    ("django_bytes", "expected"),
    [(23_700_000, "supported"), (2_250_000, "no difference"), (1_000_000, "contradicted")],
)
def test_footprint_reaches_every_verdict(django_bytes: int, expected: str) -> None:
    results = run()
    results["framework_footprint"]["django"]["total_bytes"] = django_bytes
    assert verdict(results, "footprint") == expected


# -- "Flask is lighter" -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("memory", "startup", "expected"),
    [
        ((180.0, 230.0), (272_000_000, 349_000_000), "supported"),
        ((230.0, 180.0), (349_000_000, 272_000_000), "contradicted"),
        ((200.0, 201.0), (300_000_000, 301_000_000), "no difference"),
        ((260.0, 200.0), (272_000_000, 349_000_000), "inconclusive"),  # the parts disagree
    ],
)
def test_lighter_reaches_every_verdict(
    memory: tuple[float, float], startup: tuple[int, int], expected: str
) -> None:
    assert verdict(run(memory=memory, startup_counts=startup), "lighter") == expected


def test_every_claim_names_its_ratio_and_its_timed_interval() -> None:
    for found in claims.evaluate(run()):
        assert bool(found["ratio_label"]) == (found["ratio"] is not None), found["id"]
        assert bool(found["timed_label"]) == (found["timed"] is not None), found["id"]


# -- stored runs judged again ---------------------------------------------------------------------


def test_a_run_judged_twice_gives_the_same_verdicts() -> None:
    results = run(seed=11)
    first = judge.apply(copy.deepcopy(results) | {"rule": judge.rule(), "claims": []})
    assert [c["verdict"] for c in first["claims"]] == [c["verdict"] for c in claims.evaluate(first)]


def test_compare_lists_which_verdicts_held_and_how_far_the_counts_moved() -> None:
    first = run(seed=2)
    second = run(seed=2, instructions=(2.5e6, 3.1e6 * 1.004))
    reversed_ = run(seed=2, ratio=1 / 1.2, instructions=(3.2e6, 2.5e6))
    for results in (first, second, reversed_):
        results["claims"] = claims.evaluate(results)
    held = {v["id"]: v["held"] for v in compare.verdicts(first, second)}
    assert all(held.values())
    assert not {v["id"]: v["held"] for v in compare.verdicts(first, reversed_)}["faster"]
    moved = {c["key"]: c["difference"] for c in compare.counts(first, second)}
    assert moved["django", "light", "predict_one"] == pytest.approx(0.004)
    assert moved["flask", "light", "predict_one"] == 0
    assert moved["flask", "light", "start-up"] == 0


def test_the_report_warns_where_the_a_a_pair_differs() -> None:
    import json
    from pathlib import Path

    slowed = run(twin=0.75)
    base = json.loads((Path(__file__).parent / "data" / "results-sample.json").read_text())
    base |= {"aa": slowed["aa"], "claims": claims.evaluate(slowed)}
    sample = render.render_markdown(base)
    assert "WARNING: the A/A pair differs" in sample
    assert "The decision rule, fixed before the run" in sample


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
        "marginal_mib_rounds": [slope],
        "marginal_anon_mib_rounds": [slope],
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


def test_the_workers_measurement_decides_memory_when_present() -> None:
    # The phases say Django holds more; the workers measurement says Flask does, and wins.
    results = with_workers(run(), [130.0, 142.0, 166.0], [110.0, 120.0, 140.0])
    found = claim(results, "lighter")
    assert found["verdict"] == "inconclusive"
    assert "120 vs 100 MiB anonymous PSS at 1 worker(s)" in found["reason"]
    assert "measured, not timed" in found["interval"]
    agreeing = with_workers(run(), [110.0, 120.0, 140.0], [130.0, 142.0, 166.0])
    assert verdict(agreeing, "lighter") == "supported"


def test_memory_is_undecided_when_rounds_spread_or_an_added_worker_disagrees() -> None:
    noisy = with_workers(run(), [110.0, 120.0, 140.0], [130.0, 142.0, 166.0], spread_anon=0.08)
    assert verdict(noisy, "lighter") == "inconclusive"
    assert "rounds spread" in claim(noisy, "lighter")["reason"]
    # Django's server is larger, but each added Flask worker costs more than a Django one.
    crossing = with_workers(run(), [110.0, 150.0, 230.0], [130.0, 135.0, 145.0])
    assert verdict(crossing, "lighter") == "inconclusive"


def test_the_default_count_off_the_measured_ones_is_read_on_the_fitted_line() -> None:
    fit = workers_fit("flask", [110.0, 120.0, 140.0])
    assert claims_resources.at_count(fit, 2, anonymous=False) == 120.0
    assert claims_resources.at_count(fit, 8, anonymous=False) == pytest.approx(
        (110 + 120 + 140) / 3 + 10 * (8 - 7 / 3)
    )


def test_without_the_workers_measurement_memory_comes_from_the_phases() -> None:
    results = run()
    assert "workers" not in results
    found = claim(results, "lighter")
    assert "MiB per server" in found["reason"]
    assert found["verdict"] == "supported"
