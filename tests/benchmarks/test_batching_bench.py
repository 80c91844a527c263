"""The batching command's machinery: its configurations, the rule that judges its gains, its
report section, and one tiny measurement on real servers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.analysis import batching as judging
from benchmarks.cpus import CpuSet
from benchmarks.load import payloads
from benchmarks.measure import batching as measuring
from benchmarks.plan import BATCHING, BatchingPlan, Setup
from benchmarks.report import sections_serving
from benchmarks.report import text as plain
from benchmarks.report.render import render_html, render_markdown
from benchmarks.results.batching import Batching
from benchmarks.results.records import Results
from benchmarks.serving import peers
from benchmarks.serving.gunicorn import send
from benchmarks.targets.peers import PEERS
from model.data import holdout_instances

PLAN = BatchingPlan(("light", "heavy"), (4, 16), trials=3, low_load_s=1.0)


def test_every_app_gets_its_default_deployment_and_each_size_and_flask_a_twin() -> None:
    found = measuring.targets(PLAN, ["flask", "django"])
    assert list(found)[:4] == [
        "flask-light-off",
        "flask-light-b4",
        "flask-light-b16",
        "django-light-off",
    ]
    assert found["flask-light-off-twin"]["twin_of"] == "flask-light-off"
    assert found["flask-light-off"]["default"]
    assert not found["flask-light-b4"]["default"]
    assert len(found) == 2 * (2 * 3 + 1)
    # Batching off is gunicorn.conf.py's default deployment: nothing but the worker count set.
    assert measuring.environment(found["flask-heavy-off"]) == {
        "WEB_CONCURRENCY": "1",
        "MLAPI_MODEL_VARIANT": "heavy",
    }
    batched = measuring.environment(found["django-light-b4"])
    assert (batched["MLAPI_BATCH_MAX_SIZE"], batched["MLAPI_BATCH_MAX_WAIT_MS"]) == ("4", "0")
    # gunicorn.conf.py picks the gthread worker with one thread per row of a batch.
    assert "GUNICORN_WORKER_CLASS" not in batched


def test_a_stored_run_of_the_sync_default_measures_its_gain_against_sync() -> None:
    """Runs before gthread became the default marked no configuration: sync was the default,
    the reference of the gain, and the sweep's size 1 is gthread with batching off."""
    rates = {"flask-heavy-sync": STEADY, "flask-heavy-gthread": [120.0, 121.0, 119.0]}
    shown = record({**rates, "flask-heavy-b16": [300.0, 303.0, 297.0]})
    batched = {k: v for k, v in shown["targets"].items() if v["max_batch_size"] > 1}
    for t in batched.values():
        del t["default"]
    gthread = {**batched["flask-heavy-b16"], "max_batch_size": 1, "worker": "gthread, 16 threads"}
    shown["targets"] = {
        "flask-heavy-sync": {**gthread, "worker": "sync"},
        "flask-heavy-gthread": gthread,
        **batched,
    }
    assert judging.unbatched(shown, "flask", "heavy") == "flask-heavy-sync"
    (gain,) = judging.gains(shown)
    assert (gain.against, gain.ratio) == ("flask-heavy-sync", 3.0)
    assert judging.sweep(shown, "flask", "heavy") == [(1, 120.0), (16, 300.0)]


def test_each_wait_is_a_configuration_of_every_size_and_the_sweep_reads_one_wait() -> None:
    plan = replace(PLAN, variants=("light",), sizes=(4, 16), waits=(0.0, 2.0))
    found = measuring.targets(plan, ["flask"])
    batched = [name for name, t in found.items() if t["max_batch_size"] > 1]
    assert batched == [
        "flask-light-b4",
        "flask-light-b4-w2",
        "flask-light-b16",
        "flask-light-b16-w2",
    ]
    waited = measuring.environment(found["flask-light-b16-w2"])
    assert (waited["MLAPI_BATCH_MAX_SIZE"], waited["MLAPI_BATCH_MAX_WAIT_MS"]) == ("16", "2")
    rates = {"flask-light-off": 100.0, "flask-light-b4": 150.0, "flask-light-b16": 200.0}
    rates |= {"flask-light-b4-w2": 160.0, "flask-light-b16-w2": 240.0}
    shown = record({name: [rps] * 3 for name, rps in rates.items()}, ("light",))
    shown["targets"] = found
    shown["config"]["waits_ms"] = [0.0, 2.0]
    assert judging.waits(shown) == [0.0, 2.0]
    assert judging.sweep(shown, "flask", "light") == [(1, 100.0), (4, 150.0), (16, 200.0)]
    assert judging.sweep(shown, "flask", "light", 2.0) == [(1, 100.0), (4, 160.0), (16, 240.0)]
    assert judging.best(shown, "flask", "light") == "flask-light-b16-w2"
    labels = [label for _, label, _ in sections_serving.batching_chart(shown).legend]
    assert "flask · light · wait 0 ms" in labels
    assert "flask · light · wait 2 ms" in labels


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
            "flask-heavy-off": STEADY,
            "flask-heavy-off-twin": STEADY,
            "flask-heavy-b16": batched,
        }
    )
    (gain,) = judging.gains(found)
    assert (gain.batched, gain.against, gain.goal) == ("flask-heavy-b16", "flask-heavy-off", 3.0)
    assert gain.status == status
    assert judging.sweep(found, "flask", "heavy") == [(1, 100.0), (16, sorted(batched)[1])]


def test_a_twin_told_apart_decides_nothing() -> None:
    found = record(
        {
            "flask-heavy-off": STEADY,
            "flask-heavy-off-twin": [200.0, 202.0, 198.0],
            "flask-heavy-b16": [400.0, 404.0, 396.0],
        }
    )
    (gain,) = judging.gains(found)
    assert gain.status == "undecided"


def test_the_peers_run_off_and_those_that_batch_also_batched_in_their_own_protocol() -> None:
    found = measuring.targets(PLAN, ["flask"], ["fastapi", "mlserver", "litserve", "bentoml"])
    assert [n for n in found if n.split("-")[0] in PEERS and "-light-" in n] == [
        "fastapi-light-off",
        "mlserver-light-off",
        "mlserver-light-b16",
        "litserve-light-off",
        "litserve-light-b16",
        "bentoml-light-off",
        "bentoml-light-b16",
    ]
    assert found["mlserver-light-b16"]["protocol"] == "v2"
    assert found["mlserver-light-b16"]["max_batch_size"] == 16
    # MLServer batches nothing at 0 and LitServe spins on its queue: their least wait.
    assert found["mlserver-light-b16"]["max_wait_ms"] == 1.0
    assert found["litserve-light-b16"]["max_wait_ms"] == 1.0
    assert found["bentoml-light-b16"]["max_wait_ms"] is None  # no wait setting: it learns one
    assert "max_latency_ms 60000" in found["bentoml-light-b16"]["batching"]
    assert found["fastapi-light-off"]["kind"] == "peer"
    assert "batching" not in found["bentoml-light-off"]


def test_an_app_is_ahead_of_a_peer_only_beyond_the_noise() -> None:
    found = record(
        {
            "flask-heavy-off": STEADY,
            "flask-heavy-off-twin": STEADY,
            "flask-heavy-b16": [400.0, 404.0, 396.0],
            "mlserver-heavy-off": [90.0, 91.0, 89.0],
            "mlserver-heavy-b16": [300.0, 303.0, 297.0],
            "fastapi-heavy-off": [398.0, 402.0, 400.0],
            "bentoml-heavy-off": [120.0, 121.0, 119.0],
            "bentoml-heavy-b16": [200.0, 202.0, 198.0],
        },
        peers=("fastapi", "mlserver", "bentoml"),
    )
    standing = {s.peer: s for s in judging.standings(found)}
    assert (standing["bentoml"].theirs, standing["bentoml"].ahead) == ("bentoml-heavy-b16", 1)
    assert (standing["mlserver"].ours, standing["mlserver"].theirs) == (
        "flask-heavy-b16",
        "mlserver-heavy-b16",
    )
    assert standing["mlserver"].ahead == 1
    assert standing["fastapi"].ahead is None  # 1.00x: within the search's resolution
    gains = {g.server: g for g in judging.gains(found)}
    assert set(gains) == {"flask", "mlserver", "bentoml"}  # FastAPI does not batch
    assert gains["mlserver"].against == "mlserver-heavy-off"
    assert gains["bentoml"].against == "bentoml-heavy-off"
    shown = plain.batching(found)
    assert "bentoml-heavy-b16: its own batching, batchable API" in shown
    assert "mlserver-heavy-b16: its own batching, max_batch_size 16 requests" in shown


def test_the_section_renders_the_gains_the_figures_and_the_chart(results: Results) -> None:
    found = record(
        {
            "flask-heavy-off": STEADY,
            "flask-heavy-off-twin": STEADY,
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
    assert "flask-heavy-off" in plain.batching(found)


def test_default_plan_fits_its_budget_in_configurations() -> None:
    """The default plan: both models, batching off and two sizes, three trials."""
    plan = BATCHING["default"]
    assert plan.variants == ("light", "heavy")
    assert plan.trials >= 3  # the rule's fewest paired trials for an interval


@pytest.mark.server
def test_a_tiny_measurement_on_real_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written_run: Callable[[Path, str], Results]
) -> None:
    """Flask's three configurations, one short search each: every figure there, and valid."""
    monkeypatch.setattr(measuring, "FIRST_WRK_S", 0.5)
    monkeypatch.setattr(measuring, "SEARCH", replace(measuring.SEARCH, max_steps=1))
    plan = BatchingPlan(
        ("light",), (4,), trials=1, low_load_s=0.5, cost=False, peers=(), resolution=0.3
    )
    setup = Setup(tmp_path, CpuSet((0,)), CpuSet((1,)), 0, payloads.write(tmp_path / "p.json"))
    found = measuring.measure(plan, setup, apps=["flask"], progress=lambda _: None)
    names = ["flask-light-off", "flask-light-b4", "flask-light-off-twin"]
    assert list(found["targets"]) == names
    assert sorted(c["target"] for c in found["capacity"]) == sorted(names)
    assert all(r["requests"] > 0 and r["p50_ms"] > 0 for r in found["low_load"])
    assert found["instructions"] == {}
    assert (found["config"]["trials"], found["config"]["capacity_resolution"]) == (1, 0.3)
    json.dumps(found)  # plain data, as results.json holds it


@pytest.mark.server
@pytest.mark.parametrize("name", ["bentoml", "litserve"])
def test_a_peers_own_batching_passes_the_gate_answers_as_alone_and_batches(
    tmp_path: Path, name: str
) -> None:
    """The batched configuration as the command starts it: the parity gate passes, requests
    sent at once get the bytes each gets alone, and the peer's own record shows model calls
    that served more than one request (BentoML's adaptive_batch_size histogram on /metrics,
    LitServe's "N batched requests received" at debug level)."""
    if not PEERS[name].installed():
        pytest.fail(f"{PEERS[name].python} is missing: {peers.INSTALL_HINT}", pytrace=False)
    target = measuring.peer_targets(PLAN, "light", [name])[f"{name}-light-b16"]
    log = tmp_path / f"{name}.log"
    extra = {"MLAPI_PEER_LOG_LEVEL": "DEBUG"} if name == "litserve" else None
    server = measuring.start(name, target, log, CpuSet((0,)), extra=extra)
    rows = holdout_instances(measuring.GATE_ROWS)
    try:
        server.wait_ready(60)
        assert measuring.gate({name: server}, {name: target}, "light") == []

        def answer(row: dict[str, float]) -> bytes:
            body = json.dumps({"instances": [row]}).encode()
            headers = {"Content-Type": "application/json"}
            status, _, raw = send(server.url, "POST", "/v1/predict", body, headers, timeout=30)
            assert status == 200, raw
            return raw

        alone = [answer(row) for row in rows]
        with ThreadPoolExecutor(len(rows)) as pool:
            together = [list(pool.map(answer, rows)) for _ in range(3)]
        metrics = send(server.url, "GET", "/metrics")[2].decode() if name == "bentoml" else ""
    finally:
        server.stop()
    assert all(answers == alone for answers in together)
    # The gate's requests, those sent alone and three rounds at once, each through the batcher.
    if name == "bentoml":
        calls = float(re.search(r"adaptive_batch_size_count\{[^}]*\} (\S+)", metrics)[1])
        served = float(re.search(r"adaptive_batch_size_sum\{[^}]*\} (\S+)", metrics)[1])
        # A call the peer sent again (its session replaced under it) may count twice.
        assert served >= len(rows) * 5, metrics
        assert calls < served, metrics
    else:
        sizes = [int(n) for n in re.findall(r"(\d+) batched requests received", log.read_text())]
        assert sum(sizes) == len(rows) * 5
        assert max(sizes) >= 2, sizes
