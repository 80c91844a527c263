"""The benchmark runner end to end: one quick run on real servers writes a complete run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_type_hints

import jsonschema
import pytest

from benchmarks import targets
from benchmarks.analysis import decision, judge
from benchmarks.load.probes import probes
from benchmarks.measure import timed
from benchmarks.measure.soak import USERS as soak_users
from benchmarks.plan import build
from benchmarks.results import records, store, vocabulary

pytestmark = pytest.mark.server


def test_quick_run_writes_a_complete_run(quick_run: Path) -> None:
    for name in ("results.json", "report.md", "report.html", "payloads.json"):
        assert (quick_run / name).stat().st_size > 0, name
    assert (quick_run.parent / "latest").is_symlink()
    saved = json.loads((quick_run / "results.json").read_text())
    # Valid for a reader outside Python (the exported JSON Schema) and for this code (the store).
    jsonschema.validate(saved, json.loads(store.SCHEMA_FILE.read_text()))
    results = store.load(quick_run)
    assert results == saved
    assert judge.judge(results).holds
    assert results["targets"] == targets.facts()
    assert results["rule"] == judge.rule()
    assert results["schema_version"] == store.SCHEMA_VERSION
    assert results["mode"] == "quick"
    assert results["command"] == "run"
    # Optional in the schema, for the other commands' parts; never missing from a run.
    every_run = {"config", "parity", "phases", "calibration", "startup", "overhead", "loc"}
    every_run |= {"dependencies", "framework_footprint", "security", "reliability", "timed"}
    assert every_run <= set(results)
    assert "inputs" in results["reliability"]
    assert results["parity"]["ok"]
    env = results["environment"]
    for key in (
        "cpu_model",
        "cores",
        "server_cpus",
        "load_cpus",
        "os",
        "python",
        "libraries",
        "git_commit",
        "gunicorn",
        "models",
        "lock",
        "date",
    ):
        assert env[key], key
    assert (env["gunicorn"]["worker_class"], env["gunicorn"]["threads"]) == ("gthread", 1)
    assert set(env["models"]) == {"light", "heavy"}
    cells = {(p["target"], p["variant"], p["scenario"]) for p in results["phases"]}
    plan = build("quick")
    assert cells == {(t, c.variant, c.scenario) for c in plan.cells for t in plan.measuring(c)}
    # Run with --no-cost: everything but the instruction counts, which it must leave out.
    assert set(store.json_schema()["required"]) <= set(results)
    assert "cost" not in results
    # Memory as workers are added: every app, every count of the quick plan, every worker.
    found = {(r["app"], r["workers"]) for r in results["workers"]["rows"]}
    assert found == {(a, n) for a in ("flask", "django") for n in plan.workers.counts}
    for reading in results["workers"]["rows"]:
        assert len(reading["worker_pss_mib"]) == reading["workers"]
        assert all(reading["served"])
    for phase in results["phases"]:
        assert set(phase) == set(get_type_hints(records.Phase))
        assert phase["failures"] == 0, phase["errors"]
        assert phase["requests"] > 20
        latency = phase["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        assert phase["server_cpu_us_per_request"] > 0
        assert 20 < phase["pss_mib_steady"] < phase["rss_mib_steady"]
        assert (quick_run / f"{phase['csv_prefix']}_stats.csv").exists()
        if phase["scenario"].startswith("predict"):
            assert phase["model_ms_mean"] > 0
    # Sub-millisecond resolution: some percentile is not a whole number of milliseconds.
    assert any(p["latency_ms"]["p50"] % 1 for p in results["phases"])
    assert {row["target"] for row in results["calibration"]} == set(plan.distinct)
    for row in results["calibration"]:
        assert set(row) == set(get_type_hints(records.Calibration))
    assert set(results["startup"]) == set(plan.distinct)
    assert all(len(s["seconds"]) == plan.startup_samples for s in results["startup"].values())
    assert all(s["median"] > 0 for s in results["startup"].values())
    assert len(results["claims"]) == 9
    assert all(c["interval"] is not None for c in results["claims"])
    assert results["decision_rule"]
    # The A/A pair is measured beside Flask; too few trials give no interval.
    (check,) = [c for c in results["aa"] if c["variant"] == "light"]
    assert check["target"] == "flask-twin"
    assert (check["interval"] is None) == (len(check["ratios"]) < decision.MIN_TRIALS)
    assert [r["target"] for r in results["overhead"]] == list(plan.distinct)
    for row in results["overhead"]:
        assert set(row) == set(get_type_hints(records.Overhead))
        assert row["predict_canned_us"] > 0
        assert row["predict_us"] > 0
    assert "In process, without server or network" in (quick_run / "report.md").read_text()
    reliability = results["reliability"]
    assert [s["app"] for s in reliability["soak"]] == ["flask", "django"]
    for soak in reliability["soak"]:
        assert soak["worker_killed"]
        assert soak["worker_replaced"]
        # A killed worker takes at most one request per connection it held (the default gthread
        # worker keeps its clients' connections alive): counted as it was killed, never more
        # than the users' connections.
        assert 0 <= soak["connections_killed"] <= soak_users
        assert soak["failures"] <= max(1, soak["connections_killed"])
    assert len(reliability["inputs"]) == len(probes())
    for entry in reliability["inputs"]:
        flask, django = entry["answers"]["flask"], entry["answers"]["django"]
        assert flask == django, entry
        assert flask["status"] < 500
    assert {c["verdict"] for c in results["claims"]} <= set(vocabulary.VERDICTS)


def test_quick_run_times_the_apps_and_the_twin_paired_with_wrk_far_from_its_limit(
    quick_run: Path,
) -> None:
    results = store.load(quick_run)
    plan = build("quick")
    config = results["config"]["timed"]
    assert config["targets"] == list(plan.timed_targets)
    assert config["generator_bound_threshold"] == results["config"]["generator_bound_threshold"]
    found = results["timed"]
    assert found, "the quick run times light predict_one"
    cells = {(t["variant"], t["scenario"], t["connections"]) for t in found}
    assert cells == {(c.variant, c.scenario, c.connections) for c in plan.timed}
    # Paired: every trial of every cell holds flask, its twin and django, once each.
    by_trial: dict[tuple[str, str, int, int], list[str]] = {}
    for trial in found:
        key = (trial["variant"], trial["scenario"], trial["connections"], trial["trial"])
        by_trial.setdefault(key, []).append(trial["target"])
    assert len(by_trial) == sum(c.trials for c in plan.timed)
    for targets_ in by_trial.values():
        assert sorted(targets_) == sorted(["flask", "flask-twin", "django"])
    for trial in found:
        assert set(trial) == set(get_type_hints(records.TimedTrial))
        assert trial["errors"] == 0
        assert trial["requests"] > 20
        assert trial["rps"] > 0
        assert 0 < trial["latency_ms_p50"] <= trial["latency_ms_p99"]
        assert trial["server_cpu_us_per_request"] > 0
        assert trial["server_cpu_util"] > 0
        # wrk kept the server's queue full without nearing its own limit: the connections
        # outnumber what the server serves at once, and wrk used a fraction of its CPU.
        assert trial["connections"] >= timed.CONNECTIONS_PER_SLOT * config["server_slots"]
        assert not trial["generator_bound"]
        assert trial["generator_cpu_util"] < config["generator_bound_threshold"] / 2
