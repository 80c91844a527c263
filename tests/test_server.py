"""Each app under real gunicorn on 127.0.0.1: readiness, real HTTP, refusal of a bad model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.load.probes import probes
from benchmarks.serving import gunicorn, processes
from model.data import holdout_instances
from tests.conftest import comparable_headers

pytestmark = pytest.mark.server


def test_ready_over_http(server: gunicorn.Server) -> None:
    status, headers, body = gunicorn.get(server.port, "/health/ready")
    assert status == 200
    assert json.loads(body)["status"] == "ready"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_predict_over_http(server: gunicorn.Server) -> None:
    rows = holdout_instances(10)
    status, headers, body = gunicorn.request(
        server.port,
        "POST",
        "/v1/predict",
        json.dumps({"instances": rows}).encode(),
        {"Content-Type": "application/json", "X-Request-ID": "server-test-1"},
    )
    assert status == 200, body
    assert len(json.loads(body)["predictions"]) == 10
    assert headers["X-Request-ID"] == "server-test-1"
    assert headers["Server-Timing"].startswith("model;dur=")


def test_gunicorn_runs_the_configured_workers(server: gunicorn.Server) -> None:
    # Ready means one worker answers; the master may still be forking the other.
    deadline = time.monotonic() + 10
    while len(processes.worker_pids(server.pid)) != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes.worker_pids(server.pid)) == 2


def test_probes_answer_alike_over_http(tmp_path: Path, artifacts_root: Path) -> None:
    """Both apps under gunicorn give the same status, headers and bytes for every probe."""
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
    for name in ("flask", "django"):
        with gunicorn.start(name, tmp_path / f"{name}.log", env=env) as started:
            started.wait_ready()
            answers[name] = []
            for p in probes():
                status, headers, body = gunicorn.request(
                    started.port, p.method, p.path, p.body, p.headers
                )
                answers[name].append((status, comparable_headers(headers.items()), body))
    for probe, flask, django in zip(probes(), answers["flask"], answers["django"], strict=True):
        assert flask == django, probe.name
        assert flask[0] < 500, probe.name
        if probe.path.startswith("/v2") and flask[0] >= 400:
            # The hostile v2 corpus: the protocol's error form, a message and nothing else.
            error = json.loads(flask[2])
            assert list(error) == ["error"], probe.name
            assert isinstance(error["error"], str), probe.name


def test_django_refuses_to_start_without_a_secret_in_production(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", "import django_app.wsgi"],
        env={**env, "DJANGO_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_stop_is_by_pid_and_graceful(tmp_path: Path, artifacts_root: Path) -> None:
    started = gunicorn.start(
        "flask", tmp_path / "flask.log", env={"MLAPI_MODEL_DIR": str(artifacts_root / "light")}
    )
    started.wait_ready()
    assert started.stop() == 0
    assert "Shutting down" in started.log() or "Handling signal: term" in started.log()
    with pytest.raises(ProcessLookupError):
        os.kill(started.pid, 0)
