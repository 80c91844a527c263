"""The measuring tools work: the micro-benchmark, wrk driving, and the throughput comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import micro, servers, throughput, wrk
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
    assert "runtime/raw" in micro.render([result])


def test_per_call_us_reflects_the_cost() -> None:
    cheap = micro.per_call_us(lambda: None, repeats=3, budget_s=0.01)
    costly = micro.per_call_us(lambda: sum(range(20_000)), repeats=3, budget_s=0.01)
    assert 0 < cheap < costly


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_wrk_counts_requests_and_errors(tmp_path: Path, artifacts_root: Path) -> None:
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    with servers.start("baseline", tmp_path / "baseline.log", env=env) as server:
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
    table = throughput.render(result)
    assert "1.00x" in table
    assert "django" in table
