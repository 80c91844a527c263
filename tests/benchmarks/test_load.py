"""The load generators: wrk counts requests and errors, Locust's web UI offers the scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.load import locust, wrk
from benchmarks.serving import gunicorn
from model.data import holdout_instances


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
    assert ok.wall_s >= ok.seconds
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
    for scenario in ("health", "predict_one", "predict_batch", "invalid", "mixed"):
        assert f'"{scenario}"' in page
