"""The deterministic cost step: instructions per request counted by callgrind."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.analysis import ladders
from benchmarks.cpus import CpuSet
from benchmarks.load import payloads
from benchmarks.measure import callgrind, cost, cost_child, cost_plan
from benchmarks.report import render
from benchmarks.targets import TARGETS
from model import Model

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("gcc") is None,
    reason="valgrind and gcc come from scripts/system-deps.sh",
)


def test_a_floor_is_not_asked_for_the_contracts_error_path_nor_it_or_the_baseline_for_v2() -> None:
    every = tuple(cost_plan.SCENARIOS)
    v2 = ["v2_one", "v2_batch"]
    for floor in ("flask-floor", "django-floor"):
        assert cost_plan.scenarios_of(floor, every) == [
            s for s in every if s not in ("invalid", *v2)
        ]
    assert cost_plan.scenarios_of("baseline", every) == [s for s in every if s not in v2]
    for app in ("flask", "django", "flask-twin", "flask-no-metrics"):
        assert cost_plan.scenarios_of(app, every) == list(every)


def test_every_mode_counts_a_one_row_v2_inference_for_both_apps_only() -> None:
    for mode in ("quick", "default"):
        counted = {
            target
            for target, variant, scenarios in cost_plan.jobs(cost_plan.plan(mode))
            if "v2_one" in scenarios
        }
        assert counted == {"flask", "django"}
        assert "v2_one" in cost_plan.model_scenarios(cost_plan.plan(mode))


def test_the_models_share_of_a_v2_request_is_the_runtimes_work_on_the_same_rows(
    light_model: Model,
) -> None:
    bodies = payloads.build()
    for v1, v2 in (("one", "v2_one"), ("batch", "v2_batch")):
        rows = json.loads(bodies[v1][0])["instances"]
        labels = [p["label"] for p in cost_child.model_work(light_model, bodies[v1][0])()]
        assert cost_child.model_work(light_model, bodies[v2][0])() == labels
        assert len(labels) == len(rows)


def test_every_mode_counts_every_scenario_it_names() -> None:
    for mode in ("quick", "default"):
        the_plan = cost_plan.plan(mode)
        assert set(the_plan["requests"]) == set(the_plan["scenarios"])
        assert set(the_plan["targets"]) <= set(TARGETS)
        assert all(n > 0 for n in the_plan["requests"].values())


def test_a_floors_heavy_count_only_when_named_and_the_rungs_only_in_a_whole_run() -> None:
    the_plan = cost_plan.plan("default")
    every = cost_plan.jobs(the_plan)
    heavy = {target for target, variant, _ in every if variant == "heavy"}
    assert "flask" in heavy
    assert "flask-floor" not in heavy
    assert set(the_plan["ladders"]) <= {target for target, _, _ in every}
    assert every[0][1] == "heavy"  # the slowest children first, so the CPUs finish together
    named = cost_plan.jobs(the_plan, ("flask-floor",))
    assert [(t, v) for t, v, _ in named] == [("flask-floor", "heavy"), ("flask-floor", "light")]
    # The rungs' start-ups are counted in "full" only.
    assert not set(the_plan["ladders"]) & set(cost_plan.startups(the_plan, every))


def test_rows_subtract_the_empty_block_and_split_off_the_model() -> None:
    blocks = {
        ("shared", "-", "empty"): {"total": 1_000, "gc": 0},
        ("shared", "-", "model-predict_one"): {"total": 1_000 + 4 * 600, "gc": 0},
        ("flask", "light", "empty"): {"total": 2_000, "gc": 0},
        ("flask", "light", "request-predict_one"): {"total": 2_000 + 4 * 2_500, "gc": 400},
        ("flask", "light", "request-invalid"): {"total": 2_000 + 4 * 1_500, "gc": 0},
    }
    jobs = [("flask", "light", ["predict_one", "invalid"])]
    rows = cost.rows(blocks, jobs, {"predict_one": 4, "invalid": 4})
    one, invalid = rows
    assert (one["instructions"], one["model_instructions"], one["rest_instructions"]) == (
        2_500,
        600,
        1_900,
    )
    assert one["gc_instructions"] == 100
    # The error path never reaches the model: all of it is the rest.
    assert (invalid["instructions"], invalid["model_instructions"]) == (1_500, 0)


def test_a_dump_is_read_by_its_name_and_total(tmp_path: Path) -> None:
    dump = tmp_path / "callgrind.1.3"
    dump.write_text(
        "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n"
        "desc: Trigger: Client Request: flask/light/request-predict_one\n"
        "events: Ir\nsummary: 123456\n\nfn=(1) main\n0 123456\n\ntotals: 123456\n"
    )
    assert callgrind.read_dump(dump) == ("flask/light/request-predict_one", 123456)


def test_the_report_shows_each_count_against_the_baseline(tmp_path: Path) -> None:
    results = render_sample_with_cost()
    md, _ = render.write_reports(results, tmp_path)
    text = md.read_text()
    assert "## Instructions per request" in text
    assert "2.53 M" in text  # Flask's one-row prediction
    assert "1.25\u00d7" in text  # over the baseline's 2.02 M
    assert "Flask: 272.00 M instructions" in text  # its start-up


def render_sample_with_cost() -> dict:
    import json

    sample = Path(__file__).parent / "data" / "results-sample.json"
    results = json.loads(sample.read_text())
    row = {"variant": "light", "scenario": "predict_one", "requests": 10, "gc_instructions": 0}
    results["cost"] = {
        "tool": "valgrind-3.19.0 callgrind, instructions executed (Ir)",
        "mode": "quick",
        "requests": {"predict_one": 10},
        "warmup_requests": 50,
        "gc": "frozen after warm-up",
        "rows": [
            {**row, "target": "baseline", "instructions": 2_024_000}
            | {"model_instructions": 1_795_000, "rest_instructions": 229_000},
            {**row, "target": "flask", "instructions": 2_530_000}
            | {"model_instructions": 1_795_000, "rest_instructions": 735_000},
        ],
        "startup": {"flask": 272_000_000},
        "seconds": 60.0,
    }
    return results


@needs_valgrind
def test_two_counts_of_the_same_requests_agree_within_half_a_percent() -> None:
    # Two independent interpreters, one per CPU, each counting five one-row predictions.
    def once(cpu: str) -> dict:
        return cost.measure(
            "quick", cpus=CpuSet.parse(cpu), targets=("baseline",), requests={"predict_one": 5}
        )

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(once, ("0", "1"))
    (a,), (b,) = first["rows"], second["rows"]
    assert a["target"] == "baseline"
    assert a["scenario"] == "predict_one"
    # A one-row prediction executes millions of instructions, most of them in the model.
    assert 1_000_000 < a["instructions"] < 20_000_000
    assert 0 < a["model_instructions"] < a["instructions"]
    assert abs(a["instructions"] - b["instructions"]) / a["instructions"] < 0.005
    assert abs(a["model_instructions"] - b["model_instructions"]) / a["model_instructions"] < 0.005
    assert first["startup"]["baseline"] > 0
    assert (
        abs(first["startup"]["baseline"] - second["startup"]["baseline"])
        / first["startup"]["baseline"]
        < 0.005
    )


@needs_valgrind
def test_the_cost_step_counts_what_each_apps_own_metrics_recording_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each app against itself with ``/metrics`` off, in multiprocess mode as under gunicorn."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    apps = ("flask", "flask-no-metrics", "django", "django-no-metrics")
    counted = cost.measure("quick", targets=apps, requests={"predict_one": 5}, keep=tmp_path)
    recording = ladders.metrics_cost({"cost": counted, "targets": targets.facts()})
    assert set(recording) == {"flask", "django"}
    rest = {row["target"]: row["rest_instructions"] for row in counted["rows"]}
    for app, (added, share) in recording.items():
        # What recording adds is part of what the app adds to the model's work.
        assert 0 < added < rest[app], (app, added)
        assert share > 0, (app, share)
    # Unasked, the counted interpreters wrote their metrics to files: multiprocess mode.
    assert list((tmp_path / "metrics").glob("counter_*.db"))
    assert "multiprocess" in counted["metrics"]
