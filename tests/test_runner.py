"""The benchmark runner end to end on real servers, and its safety checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import get_type_hints

import pytest

from benchmarks import schema
from benchmarks.load import locust, payloads
from benchmarks.load.probes import probes
from benchmarks.measure import parity, phases
from benchmarks.plan import Cell, Plan, Setup, build
from benchmarks.serving import gunicorn, processes

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run `python -m benchmarks run --quick` once; return its run directory."""
    out = tmp_path_factory.mktemp("reports")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--quick", "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (out / "latest").resolve()


def test_quick_run_writes_a_complete_run(quick_run: Path) -> None:
    for name in ("results.json", "report.md", "report.html", "payloads.json"):
        assert (quick_run / name).stat().st_size > 0, name
    assert (quick_run.parent / "latest").is_symlink()
    results = json.loads((quick_run / "results.json").read_text())
    assert results["schema_version"] == schema.SCHEMA_VERSION
    assert results["mode"] == "quick"
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
        "date",
    ):
        assert env[key], key
    assert env["gunicorn"]["worker_class"] == "sync"
    assert set(env["models"]) == {"light", "heavy"}
    cells = {(p["target"], p["variant"], p["scenario"]) for p in results["phases"]}
    plan = build("quick")
    assert cells == {(t, c.variant, c.scenario) for t in plan.targets for c in plan.cells}
    assert set(get_type_hints(schema.Results)) <= set(results)
    for phase in results["phases"]:
        assert set(phase) == set(get_type_hints(schema.Phase))
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
    assert {row["target"] for row in results["calibration"]} == set(plan.targets)
    for row in results["calibration"]:
        assert set(row) == set(get_type_hints(schema.Calibration))
    assert set(results["startup"]) == set(plan.targets)
    assert all(s["median"] > 0 for s in results["startup"].values())
    assert len(results["claims"]) == 9
    assert [r["target"] for r in results["overhead"]] == list(plan.targets)
    for row in results["overhead"]:
        assert set(row) == set(get_type_hints(schema.Overhead))
        assert 0 < row["predict_canned_us"] < row["predict_us"]
    assert "In process, without server or network" in (quick_run / "report.md").read_text()
    reliability = results["reliability"]
    assert [s["app"] for s in reliability["soak"]] == ["flask", "django"]
    for soak in reliability["soak"]:
        assert soak["worker_killed"]
        assert soak["worker_replaced"]
        assert soak["failures"] <= 1
    assert len(reliability["inputs"]) == len(probes())
    for entry in reliability["inputs"]:
        flask, django = entry["answers"]["flask"], entry["answers"]["django"]
        assert flask == django, entry
        assert flask["status"] < 500
    assert {c["verdict"] for c in results["claims"]} <= {
        "supported",
        "contradicted",
        "mixed",
        "not measurable here",
    }


def test_report_renders_again_from_results(quick_run: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(quick_run, tmp_path / "run"))
    before = (copy / "report.md").read_text()
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "report", str(copy)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (copy / "report.md").read_text() == before
    assert "<svg" in (copy / "report.html").read_text()


def test_compare_tells_change_from_noise(quick_run: Path, tmp_path: Path) -> None:
    same = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(quick_run)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "CHANGED" not in same
    results = json.loads((quick_run / "results.json").read_text())
    for phase in results["phases"]:
        if phase["target"] == "flask":
            phase["rps"] *= 2
    faster = tmp_path / "results.json"
    faster.write_text(json.dumps(results))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(faster)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    changed = [line for line in out.splitlines() if line.endswith("CHANGED")]
    assert changed
    assert all(line.startswith("flask") and "req/s" in line for line in changed)


def test_parity_gate_catches_a_divergent_target(tmp_path: Path) -> None:
    started = {}
    try:
        started["flask"] = gunicorn.start("flask", tmp_path / "flask.log")
        started["django"] = gunicorn.start(
            "django", tmp_path / "divergent.log", app="tests.divergent_app:application"
        )
        for server in started.values():
            server.wait_ready()
        differences = parity.parity_gate(started)
    finally:
        for server in started.values():
            server.stop()
    # The divergent target answers /health/live its own way, whatever the Host header says.
    assert any(d.startswith("probe 'live'") for d in differences)
    assert differences
    assert all("GET /health/live" in d and "dirty" in d for d in differences)


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
        ["taskset", "--cpu-list", load_cpus, sys.executable, "-c", "while True: pass"]
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


def test_distributed_locust_one_master_two_workers(tmp_path: Path) -> None:
    phase = _phase(tmp_path, "baseline", Cell("light", "predict_one", 4, 1), workers=2)
    assert phase["requests"] > 50
    assert phase["failures"] == 0
    logs = sorted(p.name for p in (tmp_path / "raw").glob("*/*.log"))
    assert logs == ["master.log", "worker-0.log", "worker-1.log"]
    summaries = list((tmp_path / "raw").glob("*/*Runner-*.json"))
    roles = sorted(json.loads(p.read_text())["role"] for p in summaries)
    assert roles == ["MasterRunner", "WorkerRunner", "WorkerRunner"]
    # Model time comes from the workers, which saw the responses.
    assert phase["model_ms_mean"] > 0
    # The server did about as much work as Locust counted: no lost final reports.
    assert phase["server_cpu_us_per_request"] < 5000


def test_split_cpus() -> None:
    assert processes.split_cpus("0/1") == ("0", "1")
    server, load = processes.split_cpus()
    assert not set(server.split(",")) & set(load.split(",")) or len(os.sched_getaffinity(0)) == 1


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
