"""One load phase on a real server: the generator-bound flag, and Locust distributed over
workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import payloads, wrk
from benchmarks.measure import phases
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.serving import gunicorn, processes

pytestmark = pytest.mark.server


def _phase(tmp_path: Path, name: str, cell: Cell, workers: int = 0) -> dict:
    server_cpus, load_cpus = processes.split_cpus()
    setup = Setup(
        tmp_path, server_cpus, load_cpus, workers, payloads.write(tmp_path / "payloads.json")
    )
    plan = Plan("test", warmup_s=1, measure_s=2, cells=[cell])
    env = {"MLAPI_MODEL_VARIANT": cell.variant}
    with gunicorn.start(name, tmp_path / f"{name}.log", env=env, cpus=server_cpus) as server:
        server.wait_ready()
        return phases.run_phase(setup, plan, server, cell, 0)


def test_generator_bound_flag_trips_when_the_generator_is_starved(tmp_path: Path) -> None:
    _, load_cpus = processes.split_cpus()
    # A busy loop on the load generator's CPU leaves Locust too little CPU to send more.
    hog = subprocess.Popen(
        ["taskset", "--cpu-list", str(load_cpus), sys.executable, "-c", "while True: pass"]
    )
    try:
        starved = _phase(tmp_path / "starved", "flask", Cell("heavy", "predict_one", 2, 1))
    finally:
        hog.kill()
        hog.wait()
    assert starved["load_cpus_busy"] >= phases.GENERATOR_BOUND
    assert starved["generator_bound"]


def test_generator_not_bound_when_the_server_is_the_bottleneck(tmp_path: Path) -> None:
    relaxed = _phase(tmp_path / "relaxed", "flask", Cell("heavy", "predict_one", 2, 1))
    assert relaxed["failures"] == 0
    # Locust itself is below its limit against a 3 ms-per-request server (its start and stop
    # fall partly inside this short window, so not far below). The flag also trips when anything
    # else keeps the load CPU busy, which a shared machine may do.
    assert relaxed["generator_cpu_util"] < phases.GENERATOR_BOUND, relaxed
    if relaxed["load_cpus_busy"] < phases.GENERATOR_BOUND:
        assert not relaxed["generator_bound"]


@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_a_v2_scenario_is_loaded_and_checked_like_v1(tmp_path: Path) -> None:
    # Every answer is checked (status 200 and the probabilities' output): by Locust, and by wrk,
    # which counts any other status as an error.
    server_cpus, load_cpus = processes.split_cpus()
    setup = Setup(tmp_path, server_cpus, load_cpus, 0, payloads.write(tmp_path / "payloads.json"))
    cell = Cell("light", "v2_one", 2, 1)
    plan = Plan("test", warmup_s=1, measure_s=2, cells=[cell])
    with gunicorn.start("django", tmp_path / "django.log", cpus=server_cpus) as server:
        server.wait_ready()
        measured = phases.run_phase(setup, plan, server, cell, 0)
        method, path, kind = wrk.SCENARIOS["v2_one"]
        body = payloads.load(setup.payloads_path)[kind or ""][0].encode()
        replayed = wrk.run(server.url + path, method=method, body=body, seconds=1, cpus=load_cpus)
    assert measured["scenario"] == "v2_one"
    assert measured["requests"] > 50
    assert measured["failures"] == 0
    assert measured["model_ms_mean"] is not None  # the apps' Server-Timing, on /v2 as on /v1
    assert replayed.requests > 50
    assert replayed.errors == 0
