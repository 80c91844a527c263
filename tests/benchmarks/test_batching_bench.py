"""The batching command's machinery: its configurations, the rule that judges its gains, its
report section, and one tiny measurement on real servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.analysis import batching as judging
from benchmarks.cpus import CpuSet
from benchmarks.load import payloads
from benchmarks.measure import batching as measuring
from benchmarks.plan import BATCHING, BatchingPlan, Setup
from benchmarks.report import text as plain
from benchmarks.report.render import render_html, render_markdown
from benchmarks.results.batching import Batching
from benchmarks.results.records import Results

PLAN = BatchingPlan(("light", "heavy"), (4, 16), trials=3, low_load_s=1.0)


def test_every_app_gets_its_default_deployment_gthread_and_each_size_and_flask_a_twin() -> None:
    found = measuring.targets(PLAN, ["flask", "django"])
    assert list(found)[:5] == [
        "flask-light-sync",
        "flask-light-gthread",
        "flask-light-b4",
        "flask-light-b16",
        "django-light-sync",
    ]
    assert found["flask-light-sync-twin"]["twin_of"] == "flask-light-sync"
    assert len(found) == 2 * (2 * 4 + 1)
    assert measuring.environment(found["flask-heavy-sync"], 16) == {
        "WEB_CONCURRENCY": "1",
        "MLAPI_MODEL_VARIANT": "heavy",
    }
    gthread = measuring.environment(found["django-light-gthread"], 16)
    assert (gthread["GUNICORN_WORKER_CLASS"], gthread["GUNICORN_THREADS"]) == ("gthread", "16")
    assert "MLAPI_BATCH_MAX_SIZE" not in gthread
    batched = measuring.environment(found["django-light-b4"], 16)
    assert (batched["MLAPI_BATCH_MAX_SIZE"], batched["MLAPI_BATCH_MAX_WAIT_MS"]) == ("4", "0")
    # gunicorn.conf.py picks the gthread worker with one thread per row of a batch.
    assert "GUNICORN_WORKER_CLASS" not in batched


def record(
    capacities: dict[str, list[float]],
    variants: tuple[str, ...] = ("heavy",),
    peers: tuple[str, ...] = (),
) -> Batching:
    """Return a batching record of Flask (and ``peers``) with the given capacities."""
    plan = replace(PLAN, variants=variants, sizes=(16,))  # type: ignore[arg-type]
    configured = measuring.targets(plan, ["flask"], peers)
    return {
        "config": {
            "variants": list(plan.variants),
            "sizes": [16],
            "max_wait_ms": 0.0,
            "trials": 3,
            "low_load_s": 1.0,
            "latency_ms": 50.0,
            "capacity_resolution": 0.15,
            "server_cpus": "0",
            "load_cpus": "1",
            "cost_requests": [],
        },
        "targets": configured,
        "capacity": [
            {
                "target": name,
                "trial": trial,
                "capacity_rps": rps,
                "failed_at_rps": rps * 1.15,
                "p99_ms_at_capacity": 30.0,
                "cpu_s_per_million": 1e6 / rps,
            }
            for name, values in capacities.items()
            for trial, rps in enumerate(values)
        ],
        "low_load": [
            {"target": name, "requests": 100, "p50_ms": 2.0, "p99_ms": 4.0} for name in configured
        ],
        "instructions": {},
        "skipped": {},
        "duration_s": 1.0,
    }


STEADY = [100.0, 101.0, 99.0]


@pytest.mark.parametrize(
    ("batched", "status"),
    [
        ([400.0, 404.0, 396.0], "met"),  # 4x, the whole interval above 3x
        ([200.0, 202.0, 198.0], "missed"),  # 2x, the whole interval below 3x
        ([300.0, 200.0, 420.0], "undecided"),  # straddles 3x
    ],
)
def test_the_goal_is_met_missed_or_undecided_by_the_whole_interval(
    batched: list[float], status: str
) -> None:
    found = record(
        {
            "flask-heavy-sync": STEADY,
            "flask-heavy-sync-twin": STEADY,
            "flask-heavy-gthread": STEADY,
            "flask-heavy-b16": batched,
        }
    )
    (gain,) = judging.gains(found)
    assert (gain.batched, gain.against, gain.goal) == ("flask-heavy-b16", "flask-heavy-sync", 3.0)
    assert gain.status == status
    assert judging.sweep(found, "flask", "heavy") == [(1, 100.0), (16, sorted(batched)[1])]


def test_a_twin_told_apart_decides_nothing() -> None:
    found = record(
        {
            "flask-heavy-sync": STEADY,
            "flask-heavy-sync-twin": [200.0, 202.0, 198.0],
            "flask-heavy-gthread": STEADY,
            "flask-heavy-b16": [400.0, 404.0, 396.0],
        }
    )
    (gain,) = judging.gains(found)
    assert gain.status == "undecided"


def test_the_peers_run_off_and_mlserver_also_batched_in_their_own_protocol() -> None:
    found = measuring.targets(PLAN, ["flask"], ["fastapi", "mlserver"])
    assert [n for n in found if n.startswith(("fastapi-light", "mlserver-light"))] == [
        "fastapi-light-off",
        "mlserver-light-off",
        "mlserver-light-b16",
    ]
    assert found["mlserver-light-b16"]["protocol"] == "v2"
    assert found["mlserver-light-b16"]["max_batch_size"] == 16
    assert found["mlserver-light-b16"]["max_wait_ms"] == 1.0  # MLServer batches nothing at 0
    assert found["fastapi-light-off"]["kind"] == "peer"


def test_an_app_is_ahead_of_a_peer_only_beyond_the_noise() -> None:
    found = record(
        {
            "flask-heavy-sync": STEADY,
            "flask-heavy-sync-twin": STEADY,
            "flask-heavy-gthread": STEADY,
            "flask-heavy-b16": [400.0, 404.0, 396.0],
            "mlserver-heavy-off": [90.0, 91.0, 89.0],
            "mlserver-heavy-b16": [300.0, 303.0, 297.0],
            "fastapi-heavy-off": [398.0, 402.0, 400.0],
        },
        peers=("fastapi", "mlserver"),
    )
    standing = {s.peer: s for s in judging.standings(found)}
    assert (standing["mlserver"].ours, standing["mlserver"].theirs) == (
        "flask-heavy-b16",
        "mlserver-heavy-b16",
    )
    assert standing["mlserver"].ahead == 1
    assert standing["fastapi"].ahead is None  # 1.00x: within the search's resolution
    gains = {g.server: g for g in judging.gains(found)}
    assert set(gains) == {"flask", "mlserver"}  # FastAPI does not batch
    assert gains["mlserver"].against == "mlserver-heavy-off"


def test_the_section_renders_the_gains_the_figures_and_the_chart(results: Results) -> None:
    found = record(
        {
            "flask-heavy-sync": STEADY,
            "flask-heavy-sync-twin": STEADY,
            "flask-heavy-gthread": STEADY,
            "flask-heavy-b16": [400.0, 404.0, 396.0],
        }
    )
    results["batching"] = found
    results["command"] = "batching"
    shown = render_markdown(results)
    assert "## Adaptive batching" in shown
    assert "| `flask` | heavy | `flask-heavy-b16` | 4.00x" in shown
    assert "| met |" in shown
    assert "<svg" in render_html(results)
    assert "flask-heavy-gthread" in plain.batching(found)


def test_default_plan_fits_its_budget_in_configurations() -> None:
    """The default plan: both models, sync, gthread and two sizes, three trials."""
    plan = BATCHING["default"]
    assert plan.variants == ("light", "heavy")
    assert plan.trials >= 3  # the rule's fewest paired trials for an interval


@pytest.mark.server
def test_a_tiny_measurement_on_real_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written_run: Callable[[Path, str], Results]
) -> None:
    """Flask's four configurations, one short search each: every figure there, and valid."""
    monkeypatch.setattr(measuring, "FIRST_WRK_S", 0.5)
    monkeypatch.setattr(measuring, "SEARCH", replace(measuring.SEARCH, max_steps=1))
    plan = BatchingPlan(("light",), (4,), trials=1, low_load_s=0.5, cost=False, peers=())
    setup = Setup(tmp_path, CpuSet((0,)), CpuSet((1,)), 0, payloads.write(tmp_path / "p.json"))
    found = measuring.measure(plan, setup, apps=["flask"], progress=lambda _: None)
    names = ["flask-light-sync", "flask-light-gthread", "flask-light-b4", "flask-light-sync-twin"]
    assert list(found["targets"]) == names
    assert sorted(c["target"] for c in found["capacity"]) == sorted(names)
    assert all(r["requests"] > 0 and r["p50_ms"] > 0 for r in found["low_load"])
    assert found["instructions"] == {}
    json.dumps(found)  # plain data, as results.json holds it
