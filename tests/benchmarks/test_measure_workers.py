"""Memory as gunicorn workers are added: the fit, the gc.freeze() hook and one small server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import get_type_hints

import pytest

from benchmarks.__main__ import main
from benchmarks.measure import workers
from benchmarks.plan import WORKERS, WorkersPlan
from benchmarks.results import scaling, vocabulary
from benchmarks.results.records import Results
from benchmarks.serving import gunicorn


def row(app: str, count: int, total: float, round_: int = 0, **extra: object) -> dict:
    """Return a reading with the fields the summary reads."""
    return {
        "app": app,
        "variant": "light",
        "preload": True,
        "freeze": False,
        "workers": count,
        "round": round_,
        "total_pss_mib": total,
        "total_pss_anon_mib": total - 10,
        **extra,
    }


def test_fit_recovers_a_straight_line() -> None:
    slope, intercept = workers.fit([(1, 112.0), (2, 124.0), (4, 148.0), (8, 196.0)])
    assert slope == pytest.approx(12.0)
    assert intercept == pytest.approx(100.0)
    # One count: no slope to fit, the line is flat through the mean.
    assert workers.fit([(2, 50.0), (2, 52.0)]) == (0.0, 51.0)


def test_marginal_cost_is_the_least_squares_slope_of_the_median_totals() -> None:
    rows = [
        row("flask", 1, 110.0),
        row("flask", 2, 121.0),
        row("flask", 4, 139.0),
        # A second round: the totals per count are medians over the rounds.
        row("flask", 1, 112.0, round_=1),
        row("flask", 2, 121.0, round_=1),
        row("flask", 4, 141.0, round_=1),
    ]
    (fit,) = workers.summarise(rows)
    assert fit["counts"] == [1, 2, 4]
    assert fit["total_pss_mib"] == [111.0, 121.0, 140.0]
    # Least squares over (1, 111), (2, 121), (4, 140): mean x 7/3, mean y 124,
    # Sxy = 52/3 + 1 + 80/3 = 45, Sxx = 14/3, so the slope is 135/14 MiB per worker.
    assert fit["marginal_mib"] == pytest.approx(135 / 14)
    assert fit["base_mib"] == pytest.approx(124 - 135 / 14 * 7 / 3)
    assert fit["workers_per_gib"] == pytest.approx(1024 / (135 / 14))
    assert fit["marginal_anon_mib"] == pytest.approx(135 / 14)
    assert fit["total_pss_anon_mib"] == [101.0, 111.0, 130.0]
    assert fit["rounds"] == 2
    assert fit["spread"] == pytest.approx(2 / 111)
    assert set(fit) == set(get_type_hints(scaling.WorkersFit))


def test_one_round_has_no_spread_and_a_flat_line_no_workers_per_gib() -> None:
    (fit,) = workers.summarise([row("django", 1, 150.0), row("django", 2, 150.0)])
    assert fit["spread"] is None
    assert fit["marginal_mib"] == 0.0
    assert fit["workers_per_gib"] is None


def test_the_logged_freeze_count_is_read_back() -> None:
    log = (
        "[INFO] Booting worker with pid: 7\n"
        "[INFO] gc.freeze() before fork: 100 objects frozen\n"
        "[INFO] gc.freeze() before fork: 112 objects frozen\n"
    )
    assert workers.frozen_objects(log) == 112
    assert workers.frozen_objects("[INFO] Booting worker with pid: 7\n") is None


def test_every_plan_measures_known_variants_and_at_least_two_counts() -> None:
    for plan in WORKERS.values():
        assert set(plan.variants) <= set(vocabulary.VARIANTS)
        assert len(set(plan.counts)) >= 2
    assert max(WORKERS["full"].counts) == 8


@pytest.mark.server
@pytest.mark.parametrize("freeze", [True, False])
def test_the_freeze_hook_runs_in_the_master_before_each_fork(freeze: bool, tmp_path: Path) -> None:
    env = {"WEB_CONCURRENCY": "1", "GUNICORN_GC_FREEZE": "true" if freeze else "false"}
    log = tmp_path / "probe.log"
    with gunicorn.start("flask", log, env=env, app="tests.freeze_probe_app:application") as server:
        server.wait_ready()
        _, _, body = gunicorn.get(server.port, "/")
    frozen = int(body)
    if freeze:
        assert frozen > 0
        # The worker's count only falls after the fork, as frozen objects it drops are freed.
        assert workers.frozen_objects(log.read_text()) >= frozen
    else:
        assert frozen == 0
        assert workers.frozen_objects(log.read_text()) is None


@pytest.mark.server
def test_memory_of_every_process_at_every_worker_count(tmp_path: Path) -> None:
    plan = WorkersPlan((1, 2), variants=("light",), freeze=(True,), warmup_requests=10)
    result = workers.measure(plan, apps=("flask",), log_dir=tmp_path)
    rows = result["rows"]
    assert [r["workers"] for r in rows] == [1, 2]
    for reading in rows:
        assert set(reading) == set(get_type_hints(scaling.WorkersRow))
        assert (
            len(reading["worker_pss_mib"]) == len(reading["worker_uss_mib"]) == reading["workers"]
        )
        assert all(reading["served"])
        assert len(reading["served"]) == reading["workers"]
        assert reading["master_pss_mib"] > 0
        assert reading["master_uss_mib"] > 0
        assert all(
            pss >= uss > 0
            for pss, uss in zip(reading["worker_pss_mib"], reading["worker_uss_mib"], strict=True)
        )
        expected = reading["master_pss_mib"] + sum(reading["worker_pss_mib"])
        assert reading["total_pss_mib"] == pytest.approx(expected)
        assert reading["frozen_objects"] > 0
    (fit,) = result["fits"]
    # One more worker costs memory, but less than a whole server: it shares the master's pages.
    assert 0 < fit["marginal_mib"] < rows[0]["total_pss_mib"]
    assert set(result) == set(get_type_hints(scaling.Workers))


@pytest.mark.server
def test_the_workers_command_writes_its_run_directory(
    tmp_path: Path, written_run: Callable[[Path, str], Results]
) -> None:
    assert main(["workers", "--quick", "--apps", "flask", "--out", str(tmp_path)]) == 0
    results = written_run(tmp_path, "workers")
    assert {row["app"] for row in results["workers"]["rows"]} == {"flask"}
    assert "phases" not in results  # one command's part, not a run
    report = (tmp_path / "latest" / "report.md").read_text()
    # The part this command measured and the environment, not a run's every section.
    assert "Memory per worker" in report
    assert "Parity gate" not in report
    logs = list((tmp_path / "latest" / "raw" / "workers").glob("flask-*.log"))
    assert logs
