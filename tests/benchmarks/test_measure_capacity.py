"""Open-loop load and the capacity search, against targets whose behaviour is known.

The server-level tests use test-only WSGI targets (``tests/stalled_app.py``): one that stalls
once for a second, one that sleeps a fixed 20 ms per request. Their assertions are structural
(a stall of one second seen by the requests scheduled during it; a capacity no worker of one thread
can exceed), not thresholds on this machine's speed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.load import openloop, payloads
from benchmarks.measure import capacity, capacity_search, phases
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.results.records import Results
from benchmarks.serving import gunicorn
from benchmarks.serving.processes import split_cpus

STALL_S = 1.0
SLEEP_MS = 20.0


def _setup(tmp_path: Path) -> Setup:
    server_cpus, load_cpus = split_cpus()
    (tmp_path / "raw").mkdir()
    return Setup(tmp_path, server_cpus, load_cpus, 0, payloads.write(tmp_path / "payloads.json"))


def _serve(setup: Setup, app: str, name: str, **env: str) -> gunicorn.Server:
    server = gunicorn.start(
        "flask",
        setup.run_dir / f"{name}.log",
        app=app,
        env={"WEB_CONCURRENCY": "1", **env},
        cpus=setup.server_cpus,
    )
    server.wait_ready()
    return server


def test_open_loop_shows_a_stall_that_closed_loop_hides(tmp_path: Path) -> None:
    """A 1 s stall: in closed-loop p99 it hides behind a few requests, in open-loop it shows."""
    setup = _setup(tmp_path)
    threshold_ms = STALL_S * 1000 / 2
    env = {"MLAPI_STALL_S": str(STALL_S), "MLAPI_STALL_AFTER_S": "1.0"}
    users = 4
    with _serve(setup, "tests.stalled_app:application", "closed", **env) as server:
        plan = Plan("test", warmup_s=0.2, measure_s=2.8, cells=[Cell("light", "health", users, 1)])
        closed = phases.run_phase(setup, plan, server, plan.cells[0], 0)
    with _serve(setup, "tests.stalled_app:application", "open", **env) as server:
        settings = capacity.Settings("test", scenario="health", warmup_s=0.2, step_s=3)
        opened = capacity.run_step(
            setup, server.url, server.pid, 100.0, tmp_path / "open", settings, 50.0
        )
    # Both saw the stall: the slowest request of each waited for most of it.
    assert closed["latency_ms"]["max"] >= threshold_ms
    assert opened["latency_ms"]["max"] >= threshold_ms
    # Closed loop: only the requests in flight when it stalled (one per user) waited, so once
    # there are more than 100 requests per user the stall is under 1% of them.
    assert closed["requests"] > 100 * users, closed
    assert closed["latency_ms"]["p99"] < threshold_ms
    # Open loop: about half the ~100 requests scheduled during the stall wait more than half of
    # it, out of ~280 in the window: far more than 1%, so p99 (and p90) carry the stall.
    assert opened["failures"] == 0
    assert opened["unanswered"] == 0
    assert opened["latency_ms"]["p99"] >= threshold_ms
    assert opened["latency_ms"]["p90"] >= threshold_ms


def test_search_finds_the_capacity_a_fixed_sleep_allows(tmp_path: Path) -> None:
    """One worker of one thread sleeping 20 ms per request cannot serve over 50 req/s; the
    search agrees.

    The target is 250 ms, not 50: on a loaded machine the generator and the server are late by
    up to ~100 ms now and then, which a 50 ms target would read as overload. It still tells
    overload apart: offered x above what the worker serves, the queue grows by x seconds of
    work per second, so after a 2 s step the last requests wait 2x: 250 ms of waiting is reached
    from x = 12%, under the search's 20% resolution.
    """
    setup = _setup(tmp_path)
    bound = 1000 / SLEEP_MS
    settings = capacity.Settings(
        "test", scenario="health", arrival="constant", resolution=0.2, warmup_s=0.5, step_s=2
    )
    with _serve(setup, "tests.stalled_app:slow", "slow", MLAPI_SLEEP_MS=str(SLEEP_MS)) as server:
        found = capacity.search_app(
            setup, server, "slow", 1, 0, settings, 250.0, 0.05, start_rps=16.0, growth=2.0
        )
    assert found["capacity_rps"] is not None
    assert found["failed_at_rps"] is not None
    # No search can pass a rate the worker cannot serve, beyond the bisection's resolution;
    # what the machine adds to each request (and its noise) only lowers the capacity.
    assert found["capacity_rps"] < bound * (1 + settings.resolution)
    assert found["capacity_rps"] > bound / 2
    assert found["failed_at_rps"] / found["capacity_rps"] <= 1 + settings.resolution


def _step(rate: float, passed: bool) -> dict:
    return {"offered_rps": rate, "passed": passed}


@pytest.mark.parametrize("true_capacity", [7.0, 130.0, 900.0, 3500.0])
def test_search_brackets_the_capacity_within_its_resolution(true_capacity: float) -> None:
    """On a model whose steps pass up to a known rate, the bracket closes around it."""
    found = capacity_search.search(
        lambda rate: _step(rate, rate <= true_capacity),
        start_rps=50.0,
        growth=2.0,
        resolution=0.1,
        max_steps=20,
    )
    assert found["capacity_rps"] <= true_capacity < found["failed_at_rps"]
    assert found["failed_at_rps"] / found["capacity_rps"] <= 1.1
    assert not found["capped"]
    assert len(found["steps"]) <= 12


def test_search_reports_a_capped_search() -> None:
    """A search still passing at the generator's ceiling says so instead of naming a capacity."""
    found = capacity_search.search(
        lambda rate: _step(rate, True), start_rps=50, growth=2, resolution=0.1, max_steps=20
    )
    assert found["capped"]
    assert found["failed_at_rps"] is None
    assert found["capacity_rps"] == capacity_search.MAX_RPS
    nothing = capacity_search.search(
        lambda rate: _step(rate, False), start_rps=4, growth=2, resolution=0.1, max_steps=20
    )
    assert nothing["capacity_rps"] is None


def test_cost_per_million() -> None:
    """CPU seconds priced per vCPU-hour; vCPUs held at capacity for a million requests."""
    # 360 CPU-seconds per million at $0.05 per vCPU-hour: 0.1 h of CPU, half a cent.
    found = capacity_search.cost(360.0, 500.0, 1, 0.05)
    assert math.isclose(found["usd_per_million"], 0.005)
    # A million requests at 500 req/s take 2,000 s on one vCPU: 2000/3600 h at $0.05.
    assert math.isclose(found["usd_per_million_held"], 2000 / 3600 * 0.05)
    assert capacity_search.cost(None, None, 1, 0.05) == {
        "usd_per_million": None,
        "usd_per_million_held": None,
    }


def test_worker_counts_grow_to_the_server_cpus() -> None:
    """1 and 2 on a small machine; powers of two up to the server's CPUs on a bigger one."""
    assert capacity.worker_counts(1) == [1, 2]
    assert capacity.worker_counts(8) == [1, 2, 4, 8]
    assert capacity.worker_counts(12) == [1, 2, 4, 8]
    assert capacity.worker_counts(8, "1,2") == [1, 2]


def test_arrivals_constant_and_poisson() -> None:
    """Constant: evenly spaced; Poisson: seeded, about the rate, with uneven gaps."""
    assert openloop.arrivals(4, 1.0) == [0.0, 0.25, 0.5, 0.75]
    times = openloop.arrivals(1000, 5.0, "poisson")
    assert times == openloop.arrivals(1000, 5.0, "poisson")
    assert 4700 < len(times) < 5300
    assert all(0 <= t < 5.0 for t in times)
    assert times == sorted(times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) > 5 * min(gaps)
    with pytest.raises(ValueError, match="arrival"):
        openloop.arrivals(10, 1, "bursty")


@pytest.mark.server
def test_the_capacity_command_writes_its_run_directory(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    written_run: Callable[[Path, str], Results],
) -> None:
    # The quick plan cut to a few short, coarse steps, in two trials: the search itself is tested
    # above. Paired trials search the A/A twin beside Flask, in the same rotation.
    short = capacity.Settings(
        "quick",
        trials=2,
        resolution=1.0,
        overload=(),
        proxied=False,
        workers="1",
        max_steps=2,
        warmup_s=0.5,
        step_s=1,
    )
    monkeypatch.setitem(capacity.SETTINGS, "quick", short)
    assert main(["capacity", "--quick", "--apps", "flask", "--out", str(tmp_path)]) == 0
    results = written_run(tmp_path, "capacity")
    searched = [(s["app"], s["trial"]) for s in results["capacity"]["searches"]]
    assert searched == [("flask", 0), ("flask-twin", 0), ("flask-twin", 1), ("flask", 1)]
    report = (tmp_path / "latest" / "report.md").read_text()
    assert "Capacity and cost per million" in report
    assert "Flask scales more easily" in report  # the one claim a capacity run is judged for
    assert "Parity gate" not in report
