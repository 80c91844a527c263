"""Honest measurement: the generator flag, the server-CPU window, PSS/USS, served rps, compare."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks import run, session
from benchmarks.analysis import compare
from benchmarks.cpus import CpuSet
from benchmarks.load import locust, payloads
from benchmarks.measure import phases
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.report import text
from benchmarks.serving import gunicorn, processes

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"


def mark(at: float, process_cpu: float, server_cpu: float = 0.0, busy: float = 0.0) -> dict:
    """Return one edge as a Locust process writes it; its load CPUs count ``at`` s each of two."""
    return {
        "time": at,
        "server_cpu_s": server_cpu,
        "process_cpu_s": process_cpu,
        "load_cpus_busy_s": busy,
        "load_cpus_total_s": 2 * at,
    }


def figures(load_cpus: str, edges: dict, requests: int = 1000, failures: int = 0) -> dict:
    """Return the phase record the runner would write from synthetic edges."""
    setup = Setup(
        Path("/run"), CpuSet.parse("0"), CpuSet.parse(load_cpus), 0, Path("/run/payloads.json")
    )
    server = gunicorn.Server("flask", 0, None, Path("/run/server.log"))  # type: ignore[arg-type]
    total = {
        "requests": requests,
        "failures": failures,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 4.0, "max": 5.0},
    }
    summary = {"seconds": 10.0, "total": total, "errors": [], "model_ms": 0.0, "model_count": 0}
    cell = Cell("light", "predict_one", 8, 1)
    return phases.phase_figures(setup, server, cell, 0, [summary], Path("/run/raw/x"), edges, [])


# -- the generator-bound flag -----------------------------------------------------------------


def test_one_locust_process_at_95_percent_of_one_core_is_bound_with_two_load_cpus() -> None:
    # Locust used 9.5 s of CPU in 10 s; the two load CPUs were half busy on average.
    phase = figures("1,2", {"local": (mark(0.0, 0.0), mark(10.0, 9.5, 5.0, busy=10.0))})
    assert phase["generator_cpu_util"] == pytest.approx(0.95)
    assert phase["generator_cpu_util_by_process"] == {"local": pytest.approx(0.95)}
    assert phase["load_cpus_busy"] == pytest.approx(0.5)
    # Divided by both load CPUs, as before, it would read 0.475 and never trip.
    assert phase["generator_bound"]


def test_any_distributed_locust_process_at_the_threshold_makes_the_phase_bound() -> None:
    def phase(worker_cpu: tuple[float, float]) -> dict:
        return figures(
            "1,2,3",
            {
                "master": (mark(0.0, 1.0), mark(10.0, 1.3, busy=6.0)),
                "worker-0": (mark(0.1, 2.0), mark(10.1, 2.0 + worker_cpu[0])),
                "worker-1": (mark(0.1, 3.0), mark(10.1, 3.0 + worker_cpu[1])),
            },
        )

    bound = phase((4.0, 9.2))
    assert bound["generator_cpu_util_by_process"] == pytest.approx(
        {"master": 0.03, "worker-0": 0.4, "worker-1": 0.92}
    )
    assert bound["generator_cpu_util"] == pytest.approx(0.92)
    assert bound["generator_bound"]
    assert not phase((8.0, 8.5))["generator_bound"]


# -- the server-CPU window and served throughput ----------------------------------------------


def test_server_cpu_is_taken_from_the_first_reset_to_the_last_stop() -> None:
    edges = {
        "master": (mark(100.0, 0.0, server_cpu=40.0), mark(110.0, 0.1, server_cpu=40.4)),
        # The last worker stops a little after the master: its users' last requests count.
        "worker-0": (mark(100.01, 0.0, server_cpu=40.001), mark(110.02, 5.0, server_cpu=40.5)),
        "worker-1": (mark(100.02, 0.0, server_cpu=40.002), mark(110.01, 5.0, server_cpu=40.45)),
    }
    phase = figures("1", edges, requests=1000)
    assert phase["server_cpu_us_per_request"] == pytest.approx(500.0)


def test_failed_requests_are_not_counted_as_served_throughput() -> None:
    phase = figures("1", {"local": (mark(0.0, 0.0), mark(10.0, 5.0, 1.0))}, 1000, 250)
    assert (phase["requests"], phase["failures"]) == (1000, 250)
    assert phase["rps"] == pytest.approx(75.0)  # 750 successful requests in 10 s
    # Every answered request cost the server CPU, failed or not.
    assert phase["server_cpu_us_per_request"] == pytest.approx(1000.0)


def fake_locust(tmp_path: Path, count: int) -> locust.Phase:
    """Return a Locust phase whose processes are sleeping stand-ins, for the window's logic."""
    phase = locust.Phase.__new__(locust.Phase)
    phase.label, phase.workdir = "fake", tmp_path
    phase.deadline = time.monotonic() + 30
    phase.processes = [subprocess.Popen(["sleep", "30"]) for _ in range(count)]
    phase.names = ["master", *(f"worker-{i}" for i in range(count - 1))]
    return phase


def test_the_window_closes_when_every_locust_process_has_stopped_counting(tmp_path: Path) -> None:
    load = fake_locust(tmp_path, 3)
    written = {}

    def stop_one_by_one() -> None:
        for index, process in enumerate(load.processes):
            (tmp_path / f"measuring-{process.pid}").write_text(json.dumps(mark(index, 0.0)))
        for index, process in enumerate(load.processes):
            time.sleep(0.2)
            written[process.pid] = time.monotonic()
            (tmp_path / f"stopped-{process.pid}").write_text(json.dumps(mark(9 + index, 1.0)))

    try:
        writer = threading.Thread(target=stop_one_by_one)
        writer.start()
        load.wait_stopped()
        noticed = time.monotonic()
        writer.join()
        assert len(written) == 3
        assert 0 <= noticed - max(written.values()) < 0.5
        edges = load.edges()
        assert list(edges) == ["master", "worker-0", "worker-1"]
        assert [stop["time"] for _, stop in edges.values()] == [9, 10, 11]
    finally:
        for process in load.processes:
            process.kill()
            process.wait()


def test_the_window_fails_when_a_locust_process_exits_without_stopping(tmp_path: Path) -> None:
    load = fake_locust(tmp_path, 2)
    load.processes[1].kill()
    load.processes[1].wait()
    (tmp_path / f"stopped-{load.processes[0].pid}").write_text(json.dumps(mark(1.0, 0.0)))
    try:
        with pytest.raises(RuntimeError, match="did not stop counting"):
            load.wait_stopped()
    finally:
        load.processes[0].wait()


# -- memory -----------------------------------------------------------------------------------


def test_memory_figures_total_the_master_and_workers_per_round() -> None:
    sample = processes.MemorySample
    samples = [
        sample(0, 10, "master", 100.0, 40.0, 5.0),
        sample(0, 11, "worker", 110.0, 50.0, 15.0),
        sample(0, 12, "worker", 120.0, 55.0, 20.0),
        sample(1, 10, "master", 100.0, 41.0, 5.0),
        sample(1, 11, "worker", 112.0, 52.0, 16.0),
        sample(1, 12, "worker", 121.0, 56.0, 21.0),
        sample(2, 10, "master", 100.0, 42.0, 5.0),
        sample(2, 11, "worker", 114.0, 60.0, 17.0),
        sample(2, 12, "worker", 122.0, 57.0, 22.0),
    ]
    memory = phases.memory_figures(samples)
    assert memory["pss_mib_steady"] == 149.0  # rounds total 145, 149, 159
    assert memory["pss_mib_peak"] == 159.0
    assert memory["uss_mib_steady"] == 42.0  # 40, 42, 44
    assert memory["rss_mib_steady"] == 333.0  # 330, 333, 336
    assert memory["pss_mib_master"] == 41.0
    assert memory["pss_mib_workers"] == [52.0, 56.0]
    assert phases.memory_figures([])["pss_mib_workers"] == []


def test_pinned_moves_the_caller_and_the_threads_it_starts() -> None:
    available = sorted(os.sched_getaffinity(0))
    target = available[-1]
    seen: dict[str, set[int]] = {}
    thread = threading.Thread(target=lambda: seen.update(thread=os.sched_getaffinity(0)))
    with processes.pinned(CpuSet.of([target])):
        thread.start()
        thread.join()
        seen["caller"] = os.sched_getaffinity(0)
    assert seen == {"caller": {target}, "thread": {target}}
    assert sorted(os.sched_getaffinity(0)) == available


def test_a_cpu_set_reads_taskset_lists_and_writes_the_form_results_record() -> None:
    cpus = CpuSet.parse("4,0,2-3")
    assert list(cpus) == [0, 2, 3, 4]
    assert len(cpus) == 4
    assert str(cpus) == "0,2,3,4"
    assert CpuSet.parse(str(cpus)) == cpus == CpuSet.of([4, 3, 2, 0, 0])
    assert str(CpuSet.parse("0")) == "0"
    assert not CpuSet.parse("")


def test_the_run_splits_the_cpus_before_pinning_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Every command's session splits and pins alike; the run's is the one checked here.
    seen = {}

    def record(opened: session.Session, *args: object) -> None:
        setup = opened.setup
        seen.update(cpus=(setup.server_cpus, setup.load_cpus), affinity=os.sched_getaffinity(0))

    monkeypatch.setattr(run, "_run", record)
    monkeypatch.setattr(session, "_close", lambda *args: None)  # nothing measured to save
    run.run("quick", out=tmp_path, show_progress=False)
    server_cpus, load_cpus = processes.split_cpus()
    assert seen == {"cpus": (server_cpus, load_cpus), "affinity": set(load_cpus)}
    if len(os.sched_getaffinity(0)) > 1:
        assert not set(server_cpus) & set(load_cpus)


@pytest.mark.server
def test_pss_and_uss_of_a_preloading_server_include_the_master(tmp_path: Path) -> None:
    env = {"WEB_CONCURRENCY": "2", "GUNICORN_PRELOAD": "true"}
    with gunicorn.start("flask", tmp_path / "flask.log", env=env) as server:
        server.wait_ready()
        deadline = time.monotonic() + 10
        while len(processes.worker_pids(server.pid)) < 2:  # one worker may answer before both run
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        with processes.ServerMemory(server.pid, interval_s=0.1) as memory:
            time.sleep(0.5)
        workers = processes.worker_pids(server.pid)
    assert memory.rounds >= 3
    for index in range(memory.rounds):
        found = [s for s in memory.samples if s.round == index]
        assert sorted(s.role for s in found) == ["master", "worker", "worker"]
        assert {s.pid for s in found} == {server.pid, *workers}
        for s in found:
            assert 0 < s.uss <= s.pss <= s.rss
        # The workers share the pages the master loaded before forking: RSS counts them thrice.
        assert sum(s.pss for s in found) < 0.8 * sum(s.rss for s in found)
    figures_ = phases.memory_figures(memory.samples)
    assert figures_["uss_mib_steady"] < figures_["pss_mib_steady"] < figures_["rss_mib_steady"]
    assert len(figures_["pss_mib_workers"]) == 2
    assert figures_["pss_mib_master"] > 10


@pytest.mark.server
def test_the_server_is_idle_once_locust_stops_counting(tmp_path: Path) -> None:
    """The users finish their requests in flight: none is left queued at the server uncounted."""
    server_cpus, load_cpus = processes.split_cpus()
    setup = Setup(tmp_path, server_cpus, load_cpus, 0, payloads.write(tmp_path / "payloads.json"))
    # Eight users on one worker of one thread keep seven requests queued at every moment; 100-row
    # batches make each cost many of the 10 ms ticks the kernel counts CPU time in.
    cell = Cell("heavy", "predict_batch", 8, 1)
    env = {"MLAPI_MODEL_VARIANT": "heavy", "WEB_CONCURRENCY": "1"}
    (tmp_path / "raw").mkdir()
    with gunicorn.start("flask", tmp_path / "flask.log", env=env, cpus=server_cpus) as server:
        server.wait_ready()
        tree = processes.ProcessTree(server.pid)
        with processes.pinned(load_cpus):
            load = locust.Phase(setup, server.url, cell, tmp_path / "raw", (1.0, 3), server.pid)
            load.wait_measuring()
            load.wait_stopped()
            load.wait_done()
        after = tree.cpu_seconds()
    ((opened, closed),) = load.edges().values()
    requests = load.summaries()[0]["total"]["requests"]
    per_request = (closed["server_cpu_s"] - opened["server_cpu_s"]) / requests
    assert requests > 8
    # Without the stop timeout, the seven queued requests were served after the window closed.
    drained = after - closed["server_cpu_s"]
    assert drained < max(per_request, 0.03), (drained, per_request)


@pytest.mark.server
def test_a_distributed_phase_records_each_locust_process(tmp_path: Path) -> None:
    server_cpus, load_cpus = processes.split_cpus()
    setup = Setup(tmp_path, server_cpus, load_cpus, 2, payloads.write(tmp_path / "payloads.json"))
    cell = Cell("light", "predict_one", 4, 1)
    plan = Plan("test", warmup_s=1, measure_s=2, cells=[cell])
    with gunicorn.start("flask", tmp_path / "flask.log", cpus=server_cpus) as server:
        server.wait_ready()
        phase = phases.run_phase(setup, plan, server, cell, 0)
    assert set(phase["generator_cpu_util_by_process"]) == {"master", "worker-0", "worker-1"}
    assert phase["generator_cpu_util"] == max(phase["generator_cpu_util_by_process"].values())
    assert 0 < phase["generator_cpu_util"] < 1.2
    (workdir,) = (tmp_path / "raw").iterdir()
    assert len(list(workdir.glob("measuring-*"))) == len(list(workdir.glob("stopped-*"))) == 3
    assert phase["rps"] == pytest.approx((phase["requests"] - phase["failures"]) / phase["seconds"])
    assert 0 < phase["server_cpu_us_per_request"] < 1e5
    assert 0 < phase["pss_mib_steady"] < phase["rss_mib_steady"]
    assert phase["requests"] > 0
    assert phase["failures"] == 0
    logs = sorted(p.name for p in workdir.glob("*.log"))
    assert logs == ["master.log", "worker-0.log", "worker-1.log"]
    roles = sorted(json.loads(p.read_text())["role"] for p in workdir.glob("*Runner-*.json"))
    assert roles == ["MasterRunner", "WorkerRunner", "WorkerRunner"]
    # Model time comes from the workers, which saw the responses.
    assert phase["model_ms_mean"] > 0


# -- compare ----------------------------------------------------------------------------------


@pytest.fixture
def run_a() -> dict:
    """Load the synthetic sample as run A."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("where", "key", "value", "named"),
    [
        (None, "schema_version", 1, "schema version"),
        (None, "mode", "default", "mode"),
        ("environment", "cpu_model", "Other CPU", "CPU model"),
        ("environment", "cores", 2, "core count"),
        ("environment", "server_cpus", "0", "server CPUs"),
        ("environment", "load_cpus", "1", "load CPUs"),
    ],
)
def test_compare_refuses_runs_that_did_not_measure_alike(
    run_a: dict, tmp_path: Path, where: str | None, key: str, value: object, named: str
) -> None:
    run_b = copy.deepcopy(run_a)
    (run_b[where] if where else run_b)[key] = value
    with pytest.raises(compare.Incomparable, match=named):
        compare.changes(run_a, run_b)
    (tmp_path / "a.json").write_text(json.dumps(run_a))
    (tmp_path / "b.json").write_text(json.dumps(run_b))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "compare",
            str(tmp_path / "a.json"),
            str(tmp_path / "b.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert not result.stdout


def test_compare_refuses_two_runs_of_an_older_schema(run_a: dict, tmp_path: Path) -> None:
    run_a["schema_version"] = 1
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(run_a))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "compare",
            *(str(tmp_path / n) for n in ("a.json", "b.json")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "schema version 1; this code reads" in result.stderr
    assert not result.stdout


@pytest.mark.parametrize(
    ("where", "key", "change", "named"),
    [
        ("environment", "git_commit", "0123456789ab", "commit"),
        ("rule", "version", 99, "rule version"),
        ("environment", "libraries", {"flask": "9.9.9"}, "library versions: flask"),
        ("environment", "models", {"light": "f" * 64}, "model sha256: light"),
        ("environment", "gunicorn", {"keepalive": 75}, "gunicorn settings: keepalive"),
    ],
)
def test_compare_says_first_where_two_runs_were_not_made_alike(
    run_a: dict, where: str, key: str, change: object, named: str
) -> None:
    assert text.compare(run_a, copy.deepcopy(run_a)).startswith("Like for like")
    run_b = copy.deepcopy(run_a)
    if isinstance(change, dict):
        run_b[where][key] = {**run_b[where][key], **change}
    else:
        run_b[where][key] = change
    first = text.compare(run_a, run_b).splitlines()[0]
    assert first.startswith("NOT LIKE FOR LIKE")
    assert named in first


def test_compare_judges_each_metric_against_its_own_noise(run_a: dict) -> None:
    cell = ("flask", "light", "predict_one", 8)
    trials = [
        p for p in run_a["phases"] if (p["target"], p["variant"], p["scenario"], p["users"]) == cell
    ]
    assert len(trials) == 2
    # Throughput spreads 40% between A's trials; p99 does not spread at all.
    for trial, rps in zip(trials, (1000.0, 1400.0), strict=True):
        trial["rps"] = rps
        trial["latency_ms"]["p99"] = 10.0
    run_b = copy.deepcopy(run_a)
    for phase in run_b["phases"]:
        if (phase["target"], phase["variant"], phase["scenario"], phase["users"]) == cell:
            phase["rps"] *= 1.1
            phase["latency_ms"]["p99"] *= 1.1
    rows = {row["metric"]: row for row in compare.changes(run_a, run_b) if row["cell"] == cell}
    assert rows["rps"]["change"] == pytest.approx(0.1)
    assert rows["rps"]["noise"] == pytest.approx(400 / 1200)
    assert not rows["rps"]["significant"]
    assert rows["p99"]["change"] == pytest.approx(0.1)
    assert rows["p99"]["noise"] == compare.MIN_EFFECT
    assert rows["p99"]["significant"]
    assert not rows["cpu"]["significant"]
    assert {row["metric"] for row in compare.changes(run_a, run_b)} == set(compare.METRICS)
