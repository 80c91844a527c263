"""The peers' harness on real servers: FastAPI and MLServer started by their launcher on
127.0.0.1, the parity gate (which refuses a peer serving another model), the FastAPI peer's
answers beside the apps', and `python -m benchmarks peers`' measurement, judged and rendered.

LitServe and BentoML are exercised by `make peers` and the command itself, not here: their venvs
are not part of `make test` (the FastAPI peer's is; MLServer's comes with the protocol's tests).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.analysis import peers as judging
from benchmarks.cpus import CpuSet
from benchmarks.load import payloads, protocols
from benchmarks.load.probes import probes
from benchmarks.measure import parity, peers_memory
from benchmarks.measure import peers as measuring
from benchmarks.measure.parity import ParityError
from benchmarks.plan import PeersPlan, Setup
from benchmarks.report import sections_serving
from benchmarks.report import text as plain
from benchmarks.serving import gunicorn, peers
from benchmarks.serving.gunicorn import send
from benchmarks.targets.peers import PEERS
from model import Model, artifact_dir, load
from model.data import holdout_instances

pytestmark = pytest.mark.server

# The probes whose answers the FastAPI peer gives byte for byte as the apps do: the predictions
# and the model's own refusals (pydantic's, a string for a number, carry pydantic's messages).
IDENTICAL = ("predict-one", "predict-batch", "predict-ints", "missing-feature", "unknown-feature")
TINY = PeersPlan(trials=3, seconds=1.0, warmup_s=1.0, startup_rounds=1, cost_requests=(1, 2),
                 cost_warmup=1, capacity_trials=0, worker_rounds=1, connections=2)  # fmt: skip


def setup(run_dir: Path, server_cpus: CpuSet, load_cpus: CpuSet) -> Setup:
    """Return where a measurement runs: ``run_dir``, the CPUs, the request bodies written."""
    bodies = payloads.write(run_dir / "payloads.json")
    return Setup(run_dir, server_cpus, load_cpus, 0, bodies)


@pytest.fixture(scope="module")
def served() -> Model:
    """Return the model the peers serve: model/artifacts' light variant."""
    return load(artifact_dir("light"))


def require(name: str) -> None:
    """Fail, saying how to install it, when a peer's venv is missing."""
    if not PEERS[name].installed():
        pytest.fail(f"{PEERS[name].python} is missing: {peers.INSTALL_HINT}", pytrace=False)


@pytest.mark.parametrize("name", ["fastapi", "mlserver"])
def test_a_peer_starts_pinned_passes_the_gate_and_stops_with_its_process_group(
    tmp_path: Path, served: Model, name: str
) -> None:
    require(name)
    server = peers.start(name, tmp_path / f"{name}.log", cpus=CpuSet((0,)))
    try:
        assert server.wait_ready(60) > 0
        rows = holdout_instances()
        assert parity.probability_gate(name, server.url, PEERS[name].protocol, served, rows) == []
    finally:
        server.stop()
    assert server.process.poll() is not None


@pytest.mark.parametrize(
    ("name", "kept"),
    [("asgi-baseline", True), ("baseline-gthread", True), ("baseline", False), ("flask", False)],
)
def test_the_gaps_baselines_start_pass_the_gate_keep_alive_as_stated_and_stop(
    tmp_path: Path, served: Model, name: str, kept: bool
) -> None:
    """The servers the gap to FastAPI is taken apart with (analysis.gap), as the command runs
    them: the bare ASGI app on uvicorn, the bare WSGI app on gthread (kept alive) and sync, and
    an app on sync, named so although gthread is gunicorn.conf.py's default."""
    require("fastapi")
    server = measuring.start(name, tmp_path / f"{name}.log", CpuSet((0,)))
    try:
        server.wait_ready(60)
        assert parity.probability_gate(name, server.url, "v1", served, holdout_instances()) == []
        connection = http.client.HTTPConnection(gunicorn.HOST, server.port, timeout=10)
        connection.request("POST", "/v1/predict", body=protocols.body("v1", holdout_instances(1)),
                           headers={"Content-Type": "application/json"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        connection.close()
        assert (response.status, response.will_close) == (200, not kept)
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_the_gate_refuses_a_peer_that_serves_another_model(tmp_path: Path, served: Model) -> None:
    """The FastAPI peer serving the heavy model: a clear refusal, no load, exit status 1."""
    require("fastapi")
    with pytest.raises(ParityError, match=r"fastapi's probabilities differ .* held-out rows"):
        measuring.measure(
            TINY,
            setup(tmp_path, CpuSet((0,)), CpuSet((0,))),
            peer_names=["fastapi"],
            apps=[],
            count=False,
            progress=lambda _: None,
            # By directory: the suite's environment may name a model directory of its own.
            extra={"fastapi": {"MLAPI_MODEL_DIR": str(artifact_dir("heavy"))}},
        )
    assert not list((tmp_path / "raw" / "peers").glob("startup-*")), "a refused peer was measured"


def test_fastapi_answers_the_v1_predictions_and_the_models_refusals_as_the_apps_do(
    tmp_path: Path,
) -> None:
    require("fastapi")
    flask = gunicorn.start("flask", tmp_path / "flask.log", env={"WEB_CONCURRENCY": "1"})
    fastapi = peers.start("fastapi", tmp_path / "fastapi.log")
    try:
        flask.wait_ready()
        fastapi.wait_ready(60)
        for probe in (p for p in probes() if p.name in IDENTICAL):
            ours = send(flask.url, probe.method, probe.path, probe.body, probe.headers)
            theirs = send(fastapi.url, probe.method, probe.path, probe.body, probe.headers)
            assert (theirs[0], theirs[2]) == (ours[0], ours[2]), probe.name
    finally:
        gunicorn.stop_all([flask, fastapi])


def test_v2_bodies_read_back_in_the_models_class_order(served: Model) -> None:
    rows = holdout_instances(2)
    tensor = json.loads(protocols.body("v2", rows))["inputs"][0]
    assert tensor["shape"] == [2, len(served.features)]
    assert tensor["data"][0] == [rows[0][f] for f in served.features]
    assert protocols.path("v2") == f"/v2/models/{served.name}/infer"
    answer = {"outputs": [{"name": "predict_proba", "shape": [2, 2], "data": [0.1, 0.9, 1, 0]}]}
    assert protocols.probabilities("v2", answer, served.classes) == [[0.1, 0.9], [1, 0]]


def test_the_peers_command_measures_flask_fastapi_and_mlserver_alike(tmp_path: Path) -> None:
    """A tiny plan, without callgrind: every figure there, judged by the rule, rendered."""
    for name in ("fastapi", "mlserver"):
        require(name)
    found = measuring.measure(
        TINY,
        setup(tmp_path, CpuSet((0,)), CpuSet((1,))),
        peer_names=["fastapi", "mlserver"],
        apps=["flask"],
        count=False,
        progress=lambda _: None,
    )
    assert list(found["targets"]) == ["flask", "fastapi", "mlserver", "flask-twin"]
    assert {t["target"] for t in found["trials"]} == set(found["targets"])
    assert len(found["trials"]) == TINY.trials * 4
    assert found["capacity"] == []
    assert all(t["rps"] > 0 and t["errors"] == 0 for t in found["trials"])
    for name, target in found["targets"].items():
        assert target["parity"] == []
        assert len(target["startup_s"]) == TINY.startup_rounds
        assert len(target["pss_anon_mib"]) == TINY.trials
        assert target["instructions"] is None
        if name != "flask-twin":
            assert target["loc"], name
            assert target["installed_bytes"], name
    assert found["targets"]["mlserver"]["protocol"] == "v2"
    assert found["targets"]["flask"]["loc"] > found["targets"]["fastapi"]["loc"]
    # Every server but the twin, with one worker and with two by its own setting, warmed alike.
    # MLServer 1.7's parallel workers die at start under uvloop 0.22 (SeldonIO/MLServer#2286);
    # the server answers ready and then 404: recorded as refused, with no figure, unless fixed.
    refused = "mlserver" in found["workers_refused"]
    measured = ["flask", "fastapi"] + ([] if refused else ["mlserver"])
    assert set(found["workers_refused"]) <= {"mlserver"}
    started = {(row["target"], row["workers"]) for row in found["workers"]}
    assert started == {(n, w) for n in measured for w in (1, 2)}
    for row in found["workers"]:
        assert row["warmup_requests"] % (peers_memory.WARM_PER_WORKER * row["workers"]) == 0
        assert row["pss_anon_mib"] > 0
    by = {(row["target"], row["workers"]): row for row in found["workers"]}
    assert by["flask", 2]["processes"] == by["flask", 1]["processes"] + 1  # one more worker
    # Which worker accepts is the kernel's choice: on a busy machine one may take every request
    # (the record says how many served, and the report shows it).
    assert by["flask", 2]["busy"] in (1, 2)
    assert by["fastapi", 1]["processes"] == 1  # uvicorn alone; with two, its supervisor too
    assert by["fastapi", 2]["processes"] >= 3
    assert by["fastapi", 2]["busy"] >= 2
    standings = judging.table(found)
    assert set(standings["rps"]["fastapi"]) == {"flask"}
    for name in measured:
        assert judging.per_added_worker(found, name), name
    text = plain.render(sections_serving.peers_blocks(found))
    assert all(word in text for word in ("fastapi", "mlserver", "A/A gate"))


def test_mlservers_capacity_is_searched_open_loop_through_the_v2_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's capacity search, cut to two short steps: Locust sends v2 requests to MLServer."""
    require("mlserver")
    short = replace(measuring.CAPACITY, max_steps=2, step_s=1, warmup_s=0.5)
    monkeypatch.setattr(measuring, "CAPACITY", short)
    server = peers.start("mlserver", tmp_path / "mlserver.log", cpus=CpuSet((0,)))
    try:
        server.wait_ready(60)
        (found,) = measuring.capacities(
            {"mlserver": server},
            setup(tmp_path, CpuSet((0,)), CpuSet((1,))),
            1,
            {"mlserver": 100.0},
            measuring.LATENCY_MS,
            lambda _: None,
        )
    finally:
        server.stop()
    assert found["target"] == "mlserver"
    steps = sorted((tmp_path / "raw" / "capacity-mlserver-w1-t0").iterdir())
    assert len(steps) == 2
    # From half the rate given, doubling: 50 and 100 v2 requests a second, a fraction of what
    # MLServer serves within 50 ms.
    assert found["capacity_rps"] == 100.0, found
