"""The benchmark against deployments it did not start: both apps served apart, reached by URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import REPO
from benchmarks.__main__ import main
from benchmarks.load.locust import LOCUSTFILE
from benchmarks.measure import remote
from benchmarks.measure.parity import ParityError
from benchmarks.plan import Cell, Plan
from benchmarks.report import sections_serving, text
from benchmarks.results.records import Results
from benchmarks.serving import gunicorn

pytestmark = pytest.mark.server

NAMESPACE = f"mlapi-{os.getpid()}"
HOST_SIDE, WORKER_SIDE = f"mlh{os.getpid() % 100000}", f"mlw{os.getpid() % 100000}"
HOST_IP, WORKER_IP = "10.213.77.1", "10.213.77.2"


def ip(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run one ``ip`` command; return what it did."""
    return subprocess.run(["ip", *arguments], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def namespace() -> Iterator[str | None]:
    """Make a network namespace joined to this one by a veth pair; None, with why, if denied."""
    made = ip("netns", "add", NAMESPACE)
    if made.returncode != 0:
        yield None
        return
    steps = [
        ("link", "add", HOST_SIDE, "type", "veth", "peer", "name", WORKER_SIDE),
        ("link", "set", WORKER_SIDE, "netns", NAMESPACE),
        ("addr", "add", f"{HOST_IP}/30", "dev", HOST_SIDE),
        ("link", "set", HOST_SIDE, "up"),
        ("-n", NAMESPACE, "addr", "add", f"{WORKER_IP}/30", "dev", WORKER_SIDE),
        ("-n", NAMESPACE, "link", "set", WORKER_SIDE, "up"),
        ("-n", NAMESPACE, "link", "set", "lo", "up"),
    ]
    try:
        failed = next((done for done in map(lambda s: ip(*s), steps) if done.returncode), None)
        yield None if failed else NAMESPACE
    finally:
        ip("link", "del", HOST_SIDE)  # takes its peer with it
        ip("netns", "del", NAMESPACE)


@pytest.fixture(scope="module")
def apps(
    tmp_path_factory: pytest.TempPathFactory, namespace: str | None
) -> Iterator[dict[str, str]]:
    """Serve Flask, Django and the divergent target apart; return their base URLs."""
    logs = tmp_path_factory.mktemp("remote-apps")
    # Reachable from the namespace too when there is one: the workers there cross the veth.
    host = HOST_IP if namespace else gunicorn.HOST
    started = {}
    try:
        for name, app in (
            ("flask", None),
            ("django", None),
            ("divergent", "tests.divergent_app:application"),
        ):
            port = gunicorn.free_port()
            # Any address with a namespace: ready checks come on 127.0.0.1, workers on the veth.
            binds = f"{'0.0.0.0' if namespace else gunicorn.HOST}:{port}"
            started[name] = gunicorn.start(
                "flask" if app else name,
                logs / f"{name}.log",
                port=port,
                # Both apps validate the Host header: the veth's address is a name they answer.
                env={"GUNICORN_BIND": binds, "MLAPI_ALLOWED_HOSTS": f"{gunicorn.HOST},{host}"},
                app=app,
            )
        for server in started.values():
            server.wait_ready(timeout=60)
        yield {name: f"http://{host}:{server.port}" for name, server in started.items()}
    finally:
        gunicorn.stop_all(started.values())


def tiny_plan(names: list[str], scenarios: tuple[str, ...]) -> Plan:
    """Return a plan of one trial, two users, half a second of warm-up and half measured."""
    cells = [Cell("light", scenario, 2, 1) for scenario in scenarios]
    return Plan("remote", warmup_s=0.5, measure_s=0.5, cells=cells, targets=tuple(names))


def check_phases(result: dict, names: list[str], scenarios: tuple[str, ...], workers: int) -> None:
    """Every target measured in every scenario, without a failure, nothing invented."""
    assert result["parity"]["ok"]
    phases = result["phases"]
    assert {(p["target"], p["scenario"]) for p in phases} == {
        (n, s) for n in names for s in scenarios
    }
    for phase in phases:
        assert phase["requests"] > 0, phase
        assert phase["failures"] == 0, phase["errors"]
        assert phase["rps"] > 0
        assert phase["workers"] == workers  # the master started once they had connected
        assert phase["server_cpu_us_per_request"] is None
        assert phase["server_memory_mib"] is None
    assert result["startup_s"] is None
    assert set(result["not_measured"]) == {
        "server_cpu_us_per_request",
        "server_memory_mib",
        "startup_s",
    }
    assert all("not measurable remotely" in why for why in result["not_measured"].values())
    table = text.render(sections_serving.remote_blocks(result))
    assert "not measurable remotely" in table
    assert all(name in table for name in names)


def test_the_gate_stops_a_divergent_target(apps: dict[str, str], tmp_path: Path) -> None:
    urls = {"flask": apps["flask"], "django": apps["divergent"]}
    with pytest.raises(ParityError, match="probe 'live'"):
        remote.measure(urls, tiny_plan(list(urls), ("health",)), tmp_path)
    assert not (tmp_path / "raw").exists()  # nothing was loaded


def test_the_gate_stops_targets_that_refuse_alike(apps: dict[str, str], tmp_path: Path) -> None:
    # Both apps refuse a Host name they were not given: alike, but nothing would be measured.
    urls = {
        name: apps[name].replace(apps[name].split("/")[2].split(":")[0], "localhost")
        for name in ("flask", "django")
    }
    with pytest.raises(ParityError, match="answered a valid prediction 400"):
        remote.measure(urls, tiny_plan(list(urls), ("health",)), tmp_path)


def test_remote_with_local_workers(apps: dict[str, str], tmp_path: Path) -> None:
    urls = {"flask": apps["flask"], "django": apps["django"]}
    # Predictions only: the namespace test below loads the other scenario, health.
    scenarios = ("predict_one",)
    result = remote.measure(
        urls,
        tiny_plan(list(urls), scenarios),
        tmp_path,
        locust_workers=1,
        master_bind=(gunicorn.HOST, gunicorn.free_port()),
    )
    check_phases(result, list(urls), scenarios, workers=1)
    assert all(p["model_ms_mean"] for p in result["phases"] if p["scenario"] == "predict_one")


def test_remote_with_workers_in_another_namespace(
    apps: dict[str, str], namespace: str | None, tmp_path: Path
) -> None:
    if namespace is None:
        pytest.skip("cannot make a network namespace here (`ip netns add` was denied)")
    port = gunicorn.free_port()
    # As on another machine: the documented worker command, in a loop (a master quits after
    # its phase, and its workers with it).
    worker = f"{sys.executable} -m locust -f {LOCUSTFILE} --worker --master-host {HOST_IP}"
    loop = f"while :; do {worker} --master-port {port}; sleep 0.1; done"
    with (tmp_path / "workers.log").open("wb") as log:
        workers = subprocess.Popen(
            ["ip", "netns", "exec", namespace, "sh", "-c", loop],
            cwd=REPO,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    urls = {"flask": apps["flask"], "django": apps["django"]}
    try:
        result = remote.measure(
            urls,
            tiny_plan(list(urls), ("health",)),
            tmp_path / "run",
            expect_workers=1,
            master_bind=(HOST_IP, port),
        )
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        workers.wait(10)
    check_phases(result, list(urls), ("health",), workers=1)
    assert all(p["workers_elsewhere"] == 1 and p["model_ms_mean"] is None for p in result["phases"])


def test_the_remote_command_writes_its_run_directory(
    apps: dict[str, str], tmp_path: Path, written_run: Callable[[Path, str], Results]
) -> None:
    targets = [f"--target={name}={apps[name]}" for name in ("flask", "django")]
    load = ["--seconds", "1", "--trials", "1", "--users", "2", "--out", str(tmp_path)]
    assert main(["remote", *targets, *load]) == 0
    results = written_run(tmp_path, "remote")
    check_phases(results["remote"], ["flask", "django"], ("predict_one", "health"), workers=0)
    assert "not measurable remotely" in (tmp_path / "latest" / "report.md").read_text()


def test_the_remote_command_leaves_no_run_directory_where_the_gate_fails(
    apps: dict[str, str], tmp_path: Path
) -> None:
    targets = [f"--target=flask={apps['flask']}", f"--target=django={apps['divergent']}"]
    assert main(["remote", *targets, "--out", str(tmp_path / "reports")]) == 2
    assert not (tmp_path / "reports").exists()
