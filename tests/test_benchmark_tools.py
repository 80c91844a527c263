"""The measuring tools work: the micro-benchmark, the in-process overhead split, wrk driving, and
the throughput comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.__main__ import main
from benchmarks.analysis import aggregate
from benchmarks.load import wrk
from benchmarks.measure import micro, overhead, throughput
from benchmarks.report import text
from benchmarks.serving import gunicorn
from contract import predict_body
from model import Model
from model.data import holdout_instances


def test_micro_benchmark_measures_every_case() -> None:
    result = micro.measure("none", budget_s=0.01)
    cases = {(c["variant"], c["rows"]) for c in result["cases"]}
    assert cases == {(v, r) for v in ("light", "heavy") for r in micro.BATCHES}
    for case in result["cases"]:
        assert case["raw_us"] > 0
        assert case["runtime_us"] > 0
    heavy = next(c for c in result["cases"] if c["variant"] == "heavy" and c["rows"] == 1)
    light = next(c for c in result["cases"] if c["variant"] == "light" and c["rows"] == 1)
    assert heavy["runtime_us"] > light["runtime_us"]  # the forest is the expensive model
    assert "runtime/raw" in text.micro([result])


def test_per_call_us_reflects_the_cost() -> None:
    cheap = micro.per_call_us(lambda: None, repeats=3, budget_s=0.01)
    costly = micro.per_call_us(lambda: sum(range(20_000)), repeats=3, budget_s=0.01)
    assert 0 < cheap < costly


def test_overhead_measures_every_target_in_its_own_process() -> None:
    results = [overhead.run_in_subprocess(name, budget_s=0.2) for name in overhead.TARGETS]
    assert [r["target"] for r in results] == list(overhead.TARGETS)
    for r in results:
        # Every case was timed, and the figures hang together.
        assert 0 < r["health_us"] < r["predict_us"]
        assert 0 < r["model_in_request_us"] < r["predict_us"]
        assert r["model_alone_us"] > 0
        # With the model's answer computed beforehand, most of a prediction's cost is gone.
        assert 0 < r["predict_canned_us"] < r["predict_us"] - r["model_alone_us"] / 2
    baseline, flask, django = results
    assert baseline["envelope_us"] is None  # the baseline has no envelope check of its own
    assert flask["envelope_us"] > 0
    assert django["envelope_us"] > 0
    table = text.overhead(results)
    assert "flask: +" in table
    assert "django: +" in table


def test_overhead_split_adds_up() -> None:
    base = {"predict_us": 300.0, "predict_canned_us": 20.0}
    app = {"predict_us": 450.0, "predict_canned_us": 110.0}
    assert aggregate.split_over_baseline(app, base) == {
        "extra_us": 150.0,
        "own_code_us": 90.0,
        "interference_us": 60.0,
    }


def test_overhead_refuses_a_target_that_does_not_answer_200(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b"{}"]

    monkeypatch.setattr(overhead, "load_target", lambda name: (broken, None, None))
    with pytest.raises(RuntimeError, match="answered 404"):
        overhead.measure("baseline", budget_s=0.01)


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_wrk_counts_requests_and_errors(tmp_path: Path, artifacts_root: Path) -> None:
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    with gunicorn.start("baseline", tmp_path / "baseline.log", env=env) as server:
        server.wait_ready()
        body = json.dumps({"instances": holdout_instances(1)}).encode()
        ok = wrk.run(server.url + "/v1/predict", method="POST", body=body, seconds=1)
        bad = wrk.run(server.url + "/v1/predict", method="POST", body=b"{", seconds=1)
    assert ok.requests > 50
    assert ok.errors == 0
    assert 0 < ok.p50_ms <= ok.p99_ms <= ok.max_ms
    assert bad.requests > 50
    assert bad.errors == bad.requests  # every 400 answer is counted as a failure


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_throughput_comparison_end_to_end(tmp_path: Path) -> None:
    result = throughput.measure("health", trials=1, seconds=1, workdir=tmp_path)
    assert set(result["summary"]) == {"baseline", "flask", "django"}
    for row in result["summary"].values():
        assert row["rps"] > 50
        assert row["errors"] == 0
        assert row["cpu_us_per_request"] > 0
    table = text.throughput(result)
    assert "1.00x" in table
    assert "django" in table


@pytest.mark.server
@pytest.mark.parametrize("floor", ["flask-floor", "django-floor"])
def test_floor_apps_serve_the_same_predictions(
    floor: str, tmp_path: Path, artifacts_root: Path, light_model: Model, instances: list
) -> None:
    # A floor is only a fair bound if it does the same work: same model, same answer, sent with
    # a Content-Length (not chunked) like every other target.
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    body = json.dumps({"instances": instances[:3]}).encode()
    with gunicorn.start(floor, tmp_path / f"{floor}.log", env=env) as server:
        server.wait_ready()
        status, headers, answer = gunicorn.request(
            server.port, "POST", "/v1/predict", body, {"Content-Type": "application/json"}
        )
    assert status == 200
    assert int(headers["Content-Length"]) == len(answer)
    assert json.loads(answer) == predict_body(light_model, light_model.predict(instances[:3]))


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_throughput_cli_measures_the_floors(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    main(
        [
            "throughput",
            "--scenario",
            "health",
            "--floors",
            "--trials",
            "1",
            "--seconds",
            "1",
            "--json",
            str(figures),
        ]
    )
    summary = json.loads(figures.read_text())["summary"]
    assert list(summary) == list(targets.names())
    assert all(row["errors"] == 0 and row["rps"] > 50 for row in summary.values())


def test_throughput_table_gives_each_app_its_ratio_to_its_floor() -> None:
    def row(rps: float) -> dict[str, float]:
        return dict.fromkeys(("p50_ms", "p99_ms", "cpu_us_per_request", "errors"), 1.0) | {
            "rps": rps,
            "rps_min": rps,
            "rps_max": rps,
        }

    result = {
        "scenario": "predict_one",
        "variant": "light",
        "trials": 1,
        "seconds": 1.0,
        "connections": 8,
        "server_cpus": "0",
        "load_cpus": "1",
        "summary": {"baseline": row(2000), "flask-floor": row(1600), "flask": row(1200)},
    }
    lines = {line.split()[0]: line.split() for line in text.throughput(result).splitlines()[2:]}
    assert lines["flask"][3:5] == ["0.60x", "0.75x"]  # 1200/2000 and 1200/1600
    assert lines["flask-floor"][3:5] == ["0.80x", "-"]
    assert lines["baseline"][3:5] == ["1.00x", "-"]
