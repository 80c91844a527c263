"""The capacity summary and the "scales" claim, on synthetic results (no server, no timing)."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import claims_resources, judge
from benchmarks.report import render, text
from benchmarks.results.records import Results


def _scales(results: Results) -> dict[str, str]:
    return claims_resources.scales(results)


def _set_capacities(results: Results, figures: dict[str, list[float]], workers: int = 1) -> None:
    for search in results["capacity"]["searches"]:
        if search["workers"] == workers:
            search["capacity_rps"] = figures[search["app"]][search["trial"]]


def _default_run_with_one_search_per_app(results: Results) -> None:
    """Make the results a default run's piece: one server CPU, one capacity search per app."""
    results["environment"]["server_cpus"] = "0"
    results["mode"] = "default"
    results["capacity"]["searches"] = [
        s for s in results["capacity"]["searches"] if s["trial"] == 0
    ]


def test_summary_takes_the_median_over_trials(results: Results) -> None:
    """Three trials of each app at one worker: the median, with every trial listed."""
    found = capacities.summary(results["capacity"])
    assert found["flask", 1]["capacity_rps"] == 620
    assert found["flask", 1]["trials"] == [620, 640, 600]
    assert capacities.paired_ratios(results["capacity"], "flask", "django", 1) == pytest.approx(
        [620 / 540, 640 / 560, 600 / 530]
    )


def test_gain_per_worker() -> None:
    """(C(w)/C(1) - 1) / (w - 1): 1.0 when each worker adds a whole worker's capacity."""
    capacity: dict[str, Any] = {
        "searches": [
            {"app": "a", "workers": 1, "capacity_rps": 100.0, "trial": 0, "capped": False},
            {"app": "a", "workers": 4, "capacity_rps": 400.0, "trial": 0, "capped": False},
        ]
    }
    for search in capacity["searches"]:
        search |= {"p99_ms_at_capacity": 1, "cpu_s_per_million": 1}
        search |= {"usd_per_million": 1, "usd_per_million_held": 1}
    assert capacities.gain_per_worker(capacity, "a") == pytest.approx(1.0)
    capacity["searches"][1]["capacity_rps"] = 100.0
    assert capacities.gain_per_worker(capacity, "a") == pytest.approx(0.0)


def test_scales_is_decided_by_the_paired_capacities(results: Results) -> None:
    """Flask ~30% ahead in every paired trial, resolution 10%: the widened interval decides."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})
    claim = _scales(results)
    assert claim["verdict"] == "supported"
    assert "widened by the resolution" in claim["interval"]
    assert "Workers: not measured here" in claim["reason"]  # one server CPU: no workers part


def test_scales_is_inconclusive_within_the_resolution(results: Results) -> None:
    """A ~15% lead in every trial is within the resolution-widened interval: no direction."""
    results["environment"]["server_cpus"] = "0"
    # The synthetic sample's own figures: Flask/Django 1.13-1.15 in each trial.
    assert _scales(results)["verdict"] == "inconclusive"


def test_scales_contradicted_when_django_serves_more(results: Results) -> None:
    """Django ahead well beyond resolution and minimum effect in every trial: contradicted."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [400, 410, 390], "django": [560, 570, 550]})
    del results["workers"]  # the sample's memory per added worker favours Flask
    assert _scales(results)["verdict"] == "contradicted"


def test_scales_needs_three_paired_trials(results: Results) -> None:
    """One trial per app (the default run's piece) gives no interval: inconclusive."""
    _default_run_with_one_search_per_app(results)
    claim = _scales(results)
    assert claim["verdict"] == "inconclusive"
    assert "too few paired trials" in claim["interval"]


def test_scales_with_two_server_cpus_weighs_the_workers_part(results: Results) -> None:
    """With two server CPUs the worker part counts: here both gain alike, so the parts differ."""
    results["environment"]["server_cpus"] = "0,1"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})
    claim = _scales(results)
    assert "Workers: Flask/Django scaling" in claim["reason"]
    assert claim["verdict"] == "inconclusive"  # load says Flask, workers say no difference


def test_scales_without_capacity_is_not_measured(results: Results) -> None:
    """A run with --no-capacity (or from before it) says so."""
    del results["capacity"]
    assert _scales(results)["verdict"] == "not measured here"


def test_the_claim_states_its_rule(results: Results) -> None:
    """The rule is written down in the claim itself, fixed before any measurement."""
    assert _scales(copy.deepcopy(results))["rule"] == claims_resources.SCALES_RULE


def test_the_load_part_decides_only_under_the_runs_a_a_check(results: Results) -> None:
    """A twin told apart from Flask leaves the capacity part undecided, however clear."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})
    for trial in results["timed"]:
        if trial["target"] == "flask-twin":
            trial["rps"] *= 0.7
    claim = _scales(results)
    assert claim["verdict"] == "inconclusive"
    assert "told two copies of Flask apart" in claim["reason"]


def _with_memory_per_worker(results: Results, flask: float, django: float, spread: float) -> None:
    """Give the results a workers measurement: each app's MiB per added worker."""
    results["workers"] = {
        "default_workers": 1,
        "fits": [
            {
                "app": app,
                "variant": "light",
                "preload": True,
                "freeze": True,
                "total_pss_mib": [100.0 + per],
                "total_pss_anon_mib": [90.0 + per],
                "marginal_mib": per,
                "marginal_anon_mib": per,
                "spread": 0.2,  # the file pages' share: not what decides
                "spread_anon": spread,
            }
            for app, per in (("flask", flask), ("django", django))
        ],
    }
    results["environment"]["gunicorn"]["gc_freeze"] = True


def test_scales_weighs_the_memory_each_added_worker_costs(results: Results) -> None:
    """Load and memory per added worker both favour Flask: supported; memory against: the
    parts disagree, inconclusive."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})
    _with_memory_per_worker(results, flask=11.5, django=29.4, spread=0.01)
    claim = _scales(results)
    assert claim["verdict"] == "supported"
    assert "Memory per added worker: 11.5 vs 29.4 MiB anonymous PSS" in claim["reason"]
    _with_memory_per_worker(results, flask=29.4, django=11.5, spread=0.01)
    assert _scales(results)["verdict"] == "inconclusive"


def test_memory_alone_does_not_decide_scales(results: Results) -> None:
    """One trial per app leaves the load part undecided: memory alone gives no verdict."""
    _default_run_with_one_search_per_app(results)
    _with_memory_per_worker(results, flask=11.5, django=29.4, spread=0.01)
    assert _scales(results)["verdict"] == "inconclusive"


def test_noisy_memory_rounds_leave_the_memory_part_out(results: Results) -> None:
    """Rounds that spread beyond the minimum effect: the part is named but does not count, so
    memory pointing against the load part does not turn the verdict."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})
    _with_memory_per_worker(results, flask=29.4, django=11.5, spread=0.2)
    claim = _scales(results)
    assert claim["verdict"] == "supported"
    assert "rounds spread beyond the minimum effect" in claim["reason"]


def _with_twin(results: Results, figures: list[float]) -> None:
    """Search the A/A twin too, in the same trials at the first worker count, like Flask."""
    capacity = results["capacity"]
    flask = [s for s in capacity["searches"] if (s["app"], s["workers"]) == ("flask", 1)]
    for search in flask:
        twin = copy.deepcopy(search)
        twin["app"] = "flask-twin"
        twin["capacity_rps"] = figures[search["trial"]]
        capacity["searches"].append(twin)


def _clear_lead(results: Results) -> None:
    """Flask ~30% ahead of Django in every paired trial, on one server CPU."""
    results["environment"]["server_cpus"] = "0"
    _set_capacities(results, {"flask": [700, 720, 690], "django": [540, 560, 530]})


def test_a_twin_told_apart_in_the_capacity_search_leaves_the_load_part_undecided(
    results: Results,
) -> None:
    """The capacity's own A/A check gates the load part: Flask's twin searched ~30% below
    Flask closes it, however clear the Flask/Django lead and however quiet the timed check."""
    _clear_lead(results)
    _with_twin(results, [540, 550, 530])
    claim = _scales(results)
    assert claim["verdict"] == "inconclusive"
    assert "the capacity's own A/A check, Flask/flask-twin" in claim["reason"]
    assert "told two copies of Flask apart" in claim["reason"]


def test_a_quiet_twin_in_the_capacity_search_lets_the_load_part_decide(
    results: Results,
) -> None:
    """A twin within a percent of Flask in each trial: the load part decides on the capacity's
    own gate (its noise floor includes the resolution), not on the run's timed A/A check."""
    _clear_lead(results)
    _with_twin(results, [705, 715, 695])
    for trial in results["timed"]:  # the run's timed check tells the twin apart: not read here
        if trial["target"] == "flask-twin":
            trial["rps"] *= 0.7
    claim = _scales(results)
    assert claim["verdict"] == "supported"
    assert "Load: Flask ahead" in claim["reason"]
    assert "the capacity's own A/A check" in claim["reason"]
    assert "noise floor" in claim["reason"]


def test_a_twin_searched_once_gives_no_gate(results: Results) -> None:
    """The twin searched, but in fewer paired trials than an interval needs: no A/A interval,
    so the load part decides nothing (the run's timed check does not stand in for it)."""
    _clear_lead(results)
    _with_twin(results, [705, 715, 695])
    results["capacity"]["searches"] = [
        s for s in results["capacity"]["searches"] if s["app"] != "flask-twin" or s["trial"] == 0
    ]
    claim = _scales(results)
    assert claim["verdict"] == "inconclusive"
    assert "no A/A check" in claim["reason"]


def test_without_twin_searches_the_runs_timed_a_a_check_gates(results: Results) -> None:
    """A capacity record without the twin (an older run, or --quick): the run's timed check."""
    _clear_lead(results)
    claim = _scales(results)
    assert claim["verdict"] == "supported"
    assert "the run's timed light one-row A/A check" in claim["reason"]


def _capacity_command(results: Results) -> Results:
    """Return what ``python -m benchmarks capacity`` writes: the capacity alone, no timed cells."""
    kept = ("schema_version", "run_id", "mode", "environment", "targets", "capacity")
    found = {key: copy.deepcopy(results[key]) for key in kept}  # type: ignore[literal-required]
    return cast(Results, {**found, "command": "capacity", "duration_s": 250.0})


def test_a_capacity_run_is_judged_for_scales_alone(results: Results) -> None:
    """A capacity run holds one claim's evidence: "scales", gated by the capacity's own A/A
    check, and its report shows the Claims section with that claim."""
    _clear_lead(results)
    _with_twin(results, [705, 715, 695])
    capacity_run = judge.apply(_capacity_command(results))
    assert capacity_run["aa"] == []
    assert [(c["id"], c["verdict"]) for c in capacity_run["claims"]] == [("scales", "supported")]
    assert "the capacity's own A/A check" in capacity_run["claims"][0]["reason"]
    sections = {s.title: s for s in render.document(capacity_run).sections}
    assert "Claims" in sections
    assert "Flask scales more easily" in text.render(sections["Claims"].blocks)


def test_a_capacity_run_without_the_twin_decides_nothing(results: Results) -> None:
    """No twin searched and no timed cells: no gate at all, so the load part is undecided."""
    _clear_lead(results)
    _, found = judge.verdicts(_capacity_command(results))
    assert [(c["id"], c["verdict"]) for c in found] == [("scales", "inconclusive")]
    assert "no A/A check" in found[0]["reason"]


def test_other_commands_than_run_and_capacity_have_no_claims(results: Results) -> None:
    for command in ("workers", "soak", "ladders"):
        assert judge.verdicts({**results, "command": command}) == ([], [])  # type: ignore[typeddict-item]
    assert len(judge.verdicts(results)[1]) > 1  # a run: every claim
