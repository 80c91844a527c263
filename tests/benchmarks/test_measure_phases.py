"""One load phase on a real server: the generator-bound flag, and Locust distributed over
workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import payloads
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
