"""The load generators: wrk counts requests and errors, Locust's web UI offers the scenarios, and
every generator sends the v2 scenarios' bodies, which both apps answer with the model's figures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.load import locust, payloads, wrk
from benchmarks.measure import cost_plan
from benchmarks.serving import gunicorn
from model import Model
from model.data import holdout_instances
from model.train import MODEL_NAME
from tests.conftest import Target

V2 = ("v2_one", "v2_batch")


@pytest.fixture(scope="module")
def bodies() -> dict[str, list[str]]:
    """Build the request bodies once for the module."""
    return payloads.build()


def test_the_v2_bodies_hold_the_v1_rows_as_fp64_tensors_in_the_manifests_order(
    bodies: dict[str, list[str]], light_model: Model
) -> None:
    assert payloads.V2_INFER.removeprefix("/v2/models/").removesuffix("/infer") == MODEL_NAME
    for v1, v2, rows in (("one", "v2_one", 1), ("batch", "v2_batch", payloads.BATCH)):
        assert len(bodies[v2]) == len(bodies[v1])
        for old, new in zip(bodies[v1], bodies[v2], strict=True):
            instances = json.loads(old)["instances"]
            request = json.loads(new)
            (tensor,) = request["inputs"]
            assert (tensor["datatype"], tensor["shape"]) == ("FP64", [rows, 30])
            assert tensor["data"] == [[row[f] for f in light_model.features] for row in instances]
            # Both outputs named: a v2 server may default to fewer (MLServer: predict alone).
            assert [o["name"] for o in request["outputs"]] == ["predict", "predict_proba"]


@pytest.mark.parametrize("scenario", V2)
def test_both_apps_answer_every_v2_body_with_the_models_probabilities(
    scenario: str, bodies: dict[str, list[str]], target: Target, light_model: Model
) -> None:
    client = target.client
    for body in bodies[scenario]:
        answer = client.post(payloads.V2_INFER, data=body, content_type="application/json")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        outputs = {o["name"]: o for o in answer.get_json()["outputs"]}
        X = np.array(json.loads(body)["inputs"][0]["data"], dtype=np.float64)
        assert outputs["predict_proba"]["data"] == light_model.predict_proba(X).ravel().tolist()
        assert b'"predict_proba"' in answer.get_data()  # what the generators check


def test_every_generator_sends_the_v2_scenarios_to_the_infer_path() -> None:
    for scenario in V2:
        assert wrk.SCENARIOS[scenario] == ("POST", payloads.V2_INFER, scenario)
        assert cost_plan.SCENARIOS[scenario][1:] == ("POST", payloads.V2_INFER, scenario, 200)
    # The open-loop locustfile imports Locust, which patches the interpreter: read it in another.
    code = (
        "from benchmarks.load.openloop_locustfile import REQUESTS; "
        f"print(repr([REQUESTS[s] for s in {V2!r}]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert found.strip() == repr(
        [("POST", payloads.V2_INFER, s, 200, b'"predict_proba"') for s in V2]
    )


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
    # wrk's own CPU, from the kernel when reaped: some, and no more than its one thread's core.
    # wrk times its run with its own clock; the two clocks may differ by a few milliseconds.
    assert ok.wall_s >= ok.seconds - 0.05
    assert ok.cpu_s > 0
    assert 0 < ok.cpu_cores <= 1.05


@pytest.mark.server
def test_locustfile_standalone_web_ui_offers_the_scenarios(tmp_path: Path) -> None:
    port = gunicorn.free_port()
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locust.LOCUSTFILE),
        "--host",
        "http://127.0.0.1:8001",
        "--web-host",
        gunicorn.HOST,
        "--web-port",
        str(port),
    ]
    with (tmp_path / "locust.log").open("wb") as log:
        ui = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = gunicorn.get(port, "/")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "locust.log").read_text()
                time.sleep(0.2)
    finally:
        ui.terminate()
        ui.wait(10)
    assert status == 200
    page = body.decode()
    for scenario in ("health", "predict_one", "predict_batch", "invalid", *V2, "mixed"):
        assert f'"{scenario}"' in page
