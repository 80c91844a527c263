"""Adaptive batching (model/batching.py): what it stacks, what it refuses, and that no answer
depends on the batch a row was predicted in."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import contract
import model
from benchmarks.serving import gunicorn
from model.batching import Batcher, BatchSettings, Closed, Dropped, Overloaded
from model.data import holdout_instances, snake_case

# -- the batcher, with a model call the test controls -------------------------------------------


class Gate:
    """A model call that records its batches and waits until the test opens it."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.entered = threading.Event()
        self.open = threading.Event()

    def __call__(self, X: np.ndarray) -> np.ndarray:
        self.batches.append(len(X))
        self.entered.set()
        assert self.open.wait(10), "the test never opened the gate"
        return np.column_stack([X[:, 0], -X[:, 0]])


def rows(start: int, count: int = 1) -> np.ndarray:
    """Return ``count`` one-column rows numbered from ``start``."""
    return np.arange(start, start + count, dtype=np.float64).reshape(-1, 1)


def wait_queued(batcher: Batcher, count: int) -> None:
    """Wait until ``count`` requests are queued behind the running call."""
    deadline = time.monotonic() + 10
    while batcher._queue.qsize() < count:
        assert time.monotonic() < deadline, "requests never reached the queue"
        time.sleep(0.001)


def test_requests_that_arrive_while_the_model_is_busy_share_one_call() -> None:
    gate = Gate()
    batcher = Batcher(gate, BatchSettings(max_batch_size=8))
    first = batcher.submit(rows(0))
    assert gate.entered.wait(5)
    waiting = [batcher.submit(rows(i, 2)) for i in range(1, 6)]  # 10 rows behind the first
    wait_queued(batcher, 5)
    gate.open.set()
    answers = [first.result(5)] + [w.result(5) for w in waiting]
    # One alone (nothing waited when it came), then 8 rows (4 requests), then the last 2.
    assert gate.batches == [1, 8, 2]
    # Each request gets its own rows' answer, in its own order.
    assert answers[0].tolist() == [[0.0, -0.0]]
    assert [a[:, 0].tolist() for a in answers[1:]] == [[i, i + 1] for i in range(1, 6)]
    assert (batcher.calls, batcher.rows) == (3, 11)
    batcher.close()


def test_a_request_larger_than_the_batch_is_never_split() -> None:
    gate = Gate()
    gate.open.set()
    batcher = Batcher(gate, BatchSettings(max_batch_size=4))
    assert len(batcher.predict_proba(rows(0, 10))) == 10
    assert gate.batches == [10]
    batcher.close()


def test_the_first_request_waits_at_most_max_wait_for_others() -> None:
    gate = Gate()
    gate.open.set()
    batcher = Batcher(gate, BatchSettings(max_batch_size=64, max_wait_ms=300))
    began = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda i: batcher.predict_proba(rows(i)), range(3)))
    took = time.monotonic() - began
    assert gate.batches == [3]  # all three arrived within the first one's wait
    assert [a[0, 0] for a in answers] == [0, 1, 2]
    assert 0.25 <= took < 5
    batcher.close()


def test_a_full_queue_refuses_at_once() -> None:
    gate = Gate()
    batcher = Batcher(gate, BatchSettings(max_batch_size=2, max_queue=2))
    running = batcher.submit(rows(0))
    assert gate.entered.wait(5)
    queued = [batcher.submit(rows(1)), batcher.submit(rows(2))]
    with pytest.raises(Overloaded, match="2 requests are waiting"):
        batcher.submit(rows(3))
    gate.open.set()
    assert [f.result(5)[0, 0] for f in [running, *queued]] == [0, 1, 2]
    batcher.close()


def test_a_request_whose_client_left_costs_no_model_call() -> None:
    gate = Gate()
    batcher = Batcher(gate, BatchSettings(max_batch_size=8))
    running = batcher.submit(rows(0))
    assert gate.entered.wait(5)
    gone = batcher.submit(rows(1), alive=lambda: False)
    given_up = batcher.submit(rows(2))
    given_up.cancel()  # its waiter stopped waiting
    kept = batcher.submit(rows(3), alive=lambda: True)
    wait_queued(batcher, 3)
    gate.open.set()
    assert kept.result(5)[0, 0] == 3
    assert running.result(5)[0, 0] == 0
    with pytest.raises(CancelledError):
        gone.result(5)
    assert gate.batches == [1, 1]  # rows 1 and 2 never reached the model
    assert batcher.dropped == 2
    batcher.close()


def test_a_dropped_request_raises_the_contracts_refusal_not_a_crash() -> None:
    gate = Gate()
    batcher = Batcher(gate, BatchSettings(max_batch_size=8))
    running = batcher.submit(rows(0))
    assert gate.entered.wait(5)
    with ThreadPoolExecutor(1) as pool:
        gone = pool.submit(batcher.predict_proba, rows(1), lambda: False)
        wait_queued(batcher, 1)
        gate.open.set()
        with pytest.raises(Dropped, match="went away"):
            gone.result(5)
    assert running.result(5)[0, 0] == 0
    assert isinstance(Dropped("x"), Overloaded)  # answered as the contract's 503
    batcher.close()


def test_a_failing_call_fails_its_batch_and_the_dispatcher_goes_on() -> None:
    calls: list[int] = []

    def predict(X: np.ndarray) -> np.ndarray:
        calls.append(len(X))
        if len(calls) == 1:
            raise ValueError("model broke")
        return X

    batcher = Batcher(predict, BatchSettings(max_batch_size=4))
    with pytest.raises(ValueError, match="model broke"):
        batcher.predict_proba(rows(0))
    assert batcher.predict_proba(rows(5))[0, 0] == 5
    batcher.close()


def test_close_answers_what_is_queued_and_refuses_what_comes_after() -> None:
    gate = Gate()
    batcher = Batcher(gate, BatchSettings(max_batch_size=2))
    running = batcher.submit(rows(0))
    assert gate.entered.wait(5)
    queued = [batcher.submit(rows(i)) for i in range(1, 5)]
    closing = threading.Thread(target=batcher.close)
    closing.start()
    deadline = time.monotonic() + 5
    while not batcher._closed:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    with pytest.raises(Closed):
        batcher.submit(rows(9))
    gate.open.set()
    closing.join(5)
    assert not closing.is_alive()
    assert [f.result(0)[0, 0] for f in [running, *queued]] == [0, 1, 2, 3, 4]
    assert gate.batches == [1, 2, 2]


@pytest.mark.parametrize(
    ("values", "problem"),
    [(("-1", 0, 8), "max_batch_size"), ((8, "-5", 8), "max_wait_ms"), ((8, 0, 0), "max_queue")],
)
def test_settings_refuse_what_cannot_work(values: tuple, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        BatchSettings.parse(*values)


def test_settings_read_strings_as_the_environment_gives_them() -> None:
    settings = BatchSettings.parse("16", "2.5", "100")
    assert settings == BatchSettings(16, 2.5, 100)
    assert settings.enabled
    assert not BatchSettings.parse("1", "0", "100").enabled
    with pytest.raises(ValueError, match="invalid batching setting"):
        BatchSettings.parse("sixteen", "0", "100")


# -- batch invariance: a row's answer does not depend on its neighbours -------------------------


def every_row() -> np.ndarray:
    """Return every row of the dataset the model was trained on, train and test alike."""
    return load_breast_cancer().data


def random_batches(count: int, rng: np.random.Generator, largest: int = 100) -> list[np.ndarray]:
    """Split the indices 0..count-1, shuffled, into batches of random sizes from 1 to
    ``largest``."""
    order = rng.permutation(count)
    cuts = np.cumsum(rng.integers(1, largest + 1, size=count))
    return [part for part in np.split(order, cuts[cuts < count]) if len(part)]


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_every_row_gets_the_same_bits_alone_and_in_any_batch(
    variant: str, artifacts_root: Path
) -> None:
    loaded = model.load(artifacts_root / variant)
    X = every_row()
    alone = np.vstack([loaded.compute_proba(X[i : i + 1]) for i in range(len(X))])
    # What scikit-learn itself answers for each row alone, bit for bit (every tenth row: the
    # forest's own predict_proba takes 10 ms a call).
    sampled = range(0, len(X), 10)
    assert np.array_equal(
        alone[sampled], np.vstack([loaded.estimator.predict_proba(X[i : i + 1]) for i in sampled])
    )
    assert np.array_equal(loaded.compute_proba(X), alone)
    rng = np.random.default_rng(20261205)
    for _ in range(3):
        for batch in random_batches(len(X), rng):
            assert np.array_equal(loaded.compute_proba(X[batch]), alone[batch]), batch


def test_the_light_models_plain_batch_would_differ(artifacts_root: Path) -> None:
    """The trap the row-wise computation avoids: scikit-learn's own batch moves last bits."""
    loaded = model.load(artifacts_root / "light")
    X = every_row()
    alone = np.vstack([loaded.estimator.predict_proba(X[i : i + 1]) for i in range(len(X))])
    assert not np.array_equal(loaded.estimator.predict_proba(X), alone)


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_concurrent_requests_through_the_batcher_get_their_rows_alone_bits(
    variant: str, artifacts_root: Path
) -> None:
    settings = BatchSettings(max_batch_size=32, max_wait_ms=2)
    loaded = model.load(artifacts_root / variant, batching=settings)
    assert loaded.batcher is not None
    X = every_row()
    alone = np.vstack([loaded.compute_proba(X[i : i + 1]) for i in range(len(X))])
    rng = np.random.default_rng(7)
    batches = random_batches(len(X), rng, largest=8)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda b: loaded.predict_proba(X[b]), batches))
    for batch, answer in zip(batches, answers, strict=True):
        assert np.array_equal(answer, alone[batch])
    # The threads' requests were stacked: fewer model calls than requests.
    assert loaded.batcher.calls < len(batches)
    loaded.batcher.close()


# -- both apps under gunicorn's gthread worker, batching on -------------------------------------


def predict_bytes(port: int, rows: list[dict[str, float]]) -> tuple[int, dict[str, str], bytes]:
    """POST one /v1 prediction; return its status, headers and body."""
    body = json.dumps({"instances": rows}).encode()
    return gunicorn.request(
        port, "POST", "/v1/predict", body, {"Content-Type": "application/json"}, timeout=30
    )


def start_batching(name: str, log: Path, model_dir: Path, **settings: str) -> gunicorn.Server:
    """Start one app, one worker, with batching on (and the given MLAPI_BATCH_* settings)."""
    env = {
        "MLAPI_MODEL_DIR": str(model_dir),
        "WEB_CONCURRENCY": "1",
        "MLAPI_BATCH_MAX_SIZE": "16",
        "MLAPI_BATCH_MAX_WAIT_MS": "2",
        **{f"MLAPI_BATCH_{key.upper()}": value for key, value in settings.items()},
    }
    server = gunicorn.start(name, log, env=env)
    server.wait_ready()
    return server


@pytest.mark.server
# Each app with one model under a server (both models are checked row by row in process above).
@pytest.mark.parametrize(("name", "variant"), [("flask", "heavy"), ("django", "light")])
def test_a_rows_answer_is_the_same_bytes_alone_in_a_batch_and_batched_by_the_server(
    name: str, variant: str, artifacts_root: Path, tmp_path: Path
) -> None:
    features = load_breast_cancer().feature_names
    everything = [
        dict(zip(map(snake_case, features), map(float, row), strict=True)) for row in every_row()
    ]
    rng = np.random.default_rng(11)
    picked = rng.choice(len(everything), size=64, replace=False).tolist()
    server = start_batching(name, tmp_path / "server.log", artifacts_root / variant)
    try:
        alone = {}
        for i in picked:
            status, _, body = predict_bytes(server.port, [everything[i]])
            assert status == 200, body
            alone[i] = body
        # The same rows at once from 16 clients: the worker stacks them into shared calls.
        with ThreadPoolExecutor(16) as pool:
            together = list(pool.map(lambda i: predict_bytes(server.port, [everything[i]]), picked))
        for i, (status, _, body) in zip(picked, together, strict=True):
            assert (status, body) == (200, alone[i])
        # Inside /v1 batches of random sizes, sent at once too: each row's prediction is the
        # one it gets alone, byte for byte.
        groups = [picked[a : a + s] for a, s in ((0, 1), (1, 7), (8, 24), (32, 32))]
        with ThreadPoolExecutor(4) as pool:
            batched = list(
                pool.map(lambda g: predict_bytes(server.port, [everything[i] for i in g]), groups)
            )
        for group, (status, _, body) in zip(groups, batched, strict=True):
            assert status == 200
            for i, prediction in zip(group, json.loads(body)["predictions"], strict=True):
                assert contract.dumps(prediction) == contract.dumps(
                    json.loads(alone[i])["predictions"][0]
                )
    finally:
        assert server.stop() == 0, server.log()


@pytest.mark.server
@pytest.mark.parametrize("name", ["flask", "django"])
def test_a_full_queue_answers_503_and_stopping_answers_what_is_in_flight(
    name: str, artifacts_root: Path, tmp_path: Path
) -> None:
    server = start_batching(
        name, tmp_path / "server.log", artifacts_root / "heavy", max_size="2", max_queue="1"
    )
    row = holdout_instances(1)
    try:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: predict_bytes(server.port, row), range(48)))
        refused = [(headers, body) for status, headers, body in answers if status == 503]
        assert refused, "48 requests at once never filled a queue of one"
        assert all(status in (200, 503) for status, _, _ in answers)
        headers, body = refused[0]
        assert headers["Retry-After"] == "1"
        assert json.loads(body)["error"]["code"] == "overloaded"
        # Requests in flight when the server is told to stop: each answered in full (a batch
        # of 100 rows is never split, so none waits in the queue of one), none cut or a 500.
        rows = holdout_instances(100)
        with ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(predict_bytes, server.port, rows) for _ in range(4)]
            time.sleep(0.05)
            code = server.stop()
            statuses = [future.result()[0] for future in sent]
        assert code == 0, server.log()
        assert all(status in (200, 503) for status in statuses)
        assert 200 in statuses
    finally:
        server.stop()


@pytest.mark.server
def test_gunicorn_refuses_batching_on_the_sync_worker(artifacts_root: Path, tmp_path: Path) -> None:
    """gunicorn.conf.py refuses before it loads any app: one app shows it for both."""
    name = "flask"
    env = {
        "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
        "MLAPI_BATCH_MAX_SIZE": "8",
        "GUNICORN_WORKER_CLASS": "sync",
    }
    server = gunicorn.start(name, tmp_path / "server.log", env=env)
    with pytest.raises(gunicorn.ServerError):
        server.wait_ready(30)
    assert server.process.wait(10) != 0
    assert "needs GUNICORN_WORKER_CLASS=gthread" in server.log()


def test_client_alive_reads_the_socket() -> None:
    ours, theirs = socket.socketpair()
    alive = contract.client_alive({"gunicorn.socket": ours})
    assert alive is not None
    assert alive()
    theirs.sendall(b"GET /next HTTP/1.1\r\n")  # a pipelined request: still there
    assert alive()
    theirs.close()
    ours.recv(100)
    assert not alive()
    ours.close()
    assert not alive()
    assert contract.client_alive({}) is None
