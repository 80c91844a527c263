"""GET /metrics: the same series from both apps, and every worker counted under gunicorn."""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.apps import apps
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

import contract
import contract.metrics
from benchmarks import REPO
from benchmarks.load.probes import probes
from benchmarks.serving import gunicorn, processes
from contract.metrics import CONTENT_TYPE, MODEL_BUCKETS, REQUEST_BUCKETS, UNMATCHED, Metrics
from flask_app.metrics import MetricsMiddleware
from model.data import holdout_instances
from tests import metrics_replay
from tests.conftest import Target

FAMILIES = {
    "http_requests",
    "http_request_duration_seconds",
    "http_requests_in_progress",
    "model_prediction_requests",
    "model_predicted_instances",
    "model_prediction_duration_seconds",
    "model_info",
}
JSON = {"Content-Type": "application/json"}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Parse Prometheus' text format into {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(parsed: Samples, name: str, **labels: str) -> float:
    """Return the sum of a sample over every series whose labels include ``labels``."""
    return sum(
        v
        for (sample, sample_labels), v in parsed.items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def buckets(parsed: Samples, name: str, bounds: tuple[float, ...], endpoint: str = "") -> float:
    """Check a histogram's buckets (every bound, cumulative, the last its count); return the
    count. ``endpoint``: the series of that route, summed over its methods."""
    labels = {"endpoint": endpoint} if endpoint else {}
    counts = [
        value(parsed, f"{name}_bucket", le=le, **labels)
        for le in [*(str(float(bound)) for bound in bounds), "+Inf"]
    ]
    assert counts == sorted(counts), counts
    assert counts[-1] == value(parsed, f"{name}_count", **labels)
    return counts[-1]


def install(target: Target, metrics: Metrics | None) -> Metrics | None:
    """Give an app in process other metrics; return the ones it had."""
    if target.name == "flask":
        previous = target.wsgi.extensions["metrics"]
        target.wsgi.extensions["metrics"] = metrics
    else:
        config = apps.get_app_config("api")
        previous, config.metrics = config.metrics, metrics
    return previous


@pytest.fixture
def fresh(target: Target) -> Iterator[Target]:
    """Yield an app whose metrics start from zero; its own come back after the test."""
    previous = install(target, Metrics(target.get_model()))
    yield target
    install(target, previous)


def scrape(target: Target) -> Samples:
    """GET /metrics in process; assert the answer's format and headers; return its samples."""
    response = target.client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == CONTENT_TYPE
    for name, header in contract.RESPONSE_HEADERS.items():
        assert response.headers[name] == header, name
    return samples(response.get_data(as_text=True))


# -- in process, both apps -------------------------------------------------------------------


def test_metrics_are_prometheus_text(fresh: Target) -> None:
    text = fresh.client.get("/metrics").get_data(as_text=True)
    assert {family.name for family in text_string_to_metric_families(text)} == FAMILIES


def test_requests_are_counted_by_route_template_method_and_status(fresh: Target) -> None:
    client = fresh.client
    client.get("/health/live")
    client.get("/health/live")
    client.get("/no/such/path")
    client.delete("/v1/predict")
    client.open("/v1/predict", method="BREW")
    parsed = scrape(fresh)
    count = "http_requests_total"
    assert value(parsed, count, endpoint="/health/live", method="GET", status="200") == 2
    assert value(parsed, count, endpoint=UNMATCHED, method="GET", status="404") == 1
    assert value(parsed, count, endpoint="/v1/predict", method="DELETE", status="405") == 1
    assert value(parsed, count, endpoint="/v1/predict", method="other", status="405") == 1
    assert value(parsed, "http_request_duration_seconds_count", endpoint="/health/live") == 2
    assert value(parsed, "http_request_duration_seconds_sum", endpoint="/health/live") > 0
    # The scrape itself is in progress while it renders.
    assert value(parsed, "http_requests_in_progress") == 1


def test_predictions_instances_and_model_time(fresh: Target) -> None:
    rows = holdout_instances(3)
    for batch in (rows, rows[:1]):
        response = fresh.client.post("/v1/predict", json={"instances": batch})
        assert response.status_code == 200
    fresh.client.post("/v1/predict", json={"instances": []})  # refused: not a prediction
    parsed = scrape(fresh)
    assert value(parsed, "model_prediction_requests_total") == 2
    assert value(parsed, "model_predicted_instances_total") == 4
    assert value(parsed, "model_prediction_duration_seconds_count") == 2
    assert 0 < value(parsed, "model_prediction_duration_seconds_sum") < 10
    assert value(parsed, "http_requests_total", endpoint="/v1/predict", status="422") == 1
    assert buckets(parsed, "model_prediction_duration_seconds", MODEL_BUCKETS) == 2
    assert buckets(parsed, "http_request_duration_seconds", REQUEST_BUCKETS, "/v1/predict") == 3


def test_model_info_carries_the_manifest(fresh: Target) -> None:
    manifest = fresh.get_model().manifest
    info = {labels: v for (name, labels), v in scrape(fresh).items() if name == "model_info"}
    expected = {"name": manifest["name"], "version": manifest["version"]}
    assert info == {tuple(sorted({**expected, "sha256": manifest["sha256"]}.items())): 1.0}


def test_both_apps_expose_the_same_series(both: tuple[Target, Target]) -> None:
    """The same traffic gives the same series names and labels from both apps; values differ."""
    rows = holdout_instances(2)
    previous = [install(target, Metrics(target.get_model())) for target in both]
    try:
        series = []
        for target in both:
            for probe in probes():
                target.client.open(
                    probe.path, method=probe.method, data=probe.body, headers=probe.headers
                )
            target.client.post("/v1/predict", json={"instances": rows})
            target.client.get("/health/live", headers={"Host": "evil.example"})
            target.client.open("/metrics", method="POST")
            series.append(set(scrape(target)))
    finally:
        for target, metrics in zip(both, previous, strict=True):
            install(target, metrics)
    flask, django = series
    assert flask == django
    endpoints = {dict(labels).get("endpoint") for _, labels in flask} - {None}
    assert endpoints == {*contract.openapi_document()["paths"], UNMATCHED}


def test_other_methods_get_the_contract_error(both: tuple[Target, Target]) -> None:
    answers = [target.client.post("/metrics") for target in both]
    assert {(a.status_code, a.get_data()) for a in answers} == {
        (405, (contract.dumps(contract.error_body("method_not_allowed")) + "\n").encode())
    }
    assert {a.headers["Allow"] for a in answers} == {"GET, HEAD"}


def test_switched_off_metrics_answer_404_and_record_nothing(artifacts_root: Path) -> None:
    """In process for Flask; both apps under gunicorn in ``test_switched_off_under_gunicorn``."""
    from flask_app import create_app

    app = create_app({"MODEL_DIR": str(artifacts_root / "light"), "METRICS_ENABLED": "false"})
    assert app.extensions["metrics"] is None
    assert not isinstance(app.wsgi_app, MetricsMiddleware)
    response = app.test_client().get("/metrics")
    assert response.status_code == 404
    assert response.get_json() == contract.error_body("not_found")


# -- the recording, against prometheus_client's own methods ------------------------------------


def assert_replayed(parsed: Samples) -> None:
    """Check a few figures of tests/metrics_replay.py's traffic, so that the comparisons below
    cannot pass by both ways recording nothing."""
    count = "http_requests_total"
    assert value(parsed, count, endpoint="/v2/models/{name}/infer", method="POST") == 2
    assert value(parsed, count, endpoint="/v1/predict", method="other", status="405") == 1
    assert value(parsed, count, endpoint=UNMATCHED, status="404") == 1
    assert buckets(parsed, "http_request_duration_seconds", REQUEST_BUCKETS) == 9
    # 10.0 is the last bound, 12.5 beyond it.
    assert value(parsed, "http_request_duration_seconds_bucket", le="10.0") == 8
    assert value(parsed, "http_request_duration_seconds_bucket", le="0.001") == 3
    assert value(parsed, "http_request_duration_seconds_sum") == pytest.approx(23.238)
    assert value(parsed, "model_prediction_requests_total") == 5
    assert value(parsed, "model_predicted_instances_total") == 112
    assert buckets(parsed, "model_prediction_duration_seconds", MODEL_BUCKETS) == 5
    assert value(parsed, "model_prediction_duration_seconds_sum") == pytest.approx(4.5208)
    assert value(parsed, "http_requests_in_progress") == 1


def test_recording_gives_what_prometheus_clients_own_methods_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In one process: the same traffic, through ``Metrics`` and through ``inc``/``observe``."""
    assert not contract.metrics.multiprocess()
    clock = metrics_replay.Clock()
    monkeypatch.setattr(contract.metrics, "perf_counter", clock)
    recorder = Metrics(metrics_replay.MODEL)  # type: ignore[arg-type]
    metrics_replay.record(recorder, clock)
    reference = contract.metrics._Collectors.create(metrics_replay.MODEL)  # type: ignore[arg-type]
    metrics_replay.record_public(reference)
    assert recorder.exposition() == generate_latest(reference.registry)
    assert_replayed(samples(recorder.exposition().decode()))


def test_recording_gives_what_prometheus_clients_own_methods_give_in_multiprocess_mode(
    tmp_path: Path,
) -> None:
    """As under gunicorn: each way in a process of its own, its files summed as by a scrape."""
    expositions = [replay(way, tmp_path / way) for way in ("metrics", "public")]
    recorded, public = expositions
    # A scrape orders families by the order it lists the files in, which is the directory's.
    assert sorted(recorded.splitlines()) == sorted(public.splitlines())
    assert_replayed(samples(recorded))


def replay(way: str, directory: Path) -> str:
    """Run tests/metrics_replay.py one way in multiprocess mode; return its files' exposition."""
    directory.mkdir()
    subprocess.run(
        [sys.executable, "-m", "tests.metrics_replay", way],
        cwd=REPO,
        env=os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(directory)},
        check=True,
        timeout=120,
    )
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    # The in-progress gauge is labelled with the pid of the process that recorded it.
    return re.sub(r'pid="\d+"', 'pid="-"', generate_latest(registry).decode())


def assert_threaded(parsed: Samples) -> None:
    """Check that no count of ``metrics_replay.record_threaded`` was lost."""
    total = metrics_replay.THREADS * metrics_replay.EACH
    assert value(parsed, "http_requests_total", endpoint="/v1/predict") == total
    assert buckets(parsed, "http_request_duration_seconds", REQUEST_BUCKETS) == total
    assert value(parsed, "model_prediction_requests_total") == total
    assert value(parsed, "model_predicted_instances_total") == 2 * total
    assert value(parsed, "model_prediction_duration_seconds_bucket", le="0.001") == total
    assert value(parsed, "model_prediction_duration_seconds_sum") == pytest.approx(total * 0.001)
    assert value(parsed, "http_requests_in_progress") == 0


def test_recording_is_exact_under_threads() -> None:
    """gthread workers record from several threads: in one process ..."""
    recorder = Metrics(metrics_replay.MODEL)  # type: ignore[arg-type]
    metrics_replay.record_threaded(recorder)
    assert_threaded(samples(recorder.exposition().decode()))


def test_recording_is_exact_under_threads_in_multiprocess_mode(tmp_path: Path) -> None:
    """... and in multiprocess mode, where a number is also written to the worker's file."""
    assert_threaded(samples(replay("threads", tmp_path / "threads")))


def test_flag_reads_on_off_settings() -> None:
    assert [contract.flag(v) for v in (True, "1", "true", "Yes", " on ")] == [True] * 5
    assert [contract.flag(v) for v in (False, 0, "0", "FALSE", "no", "off")] == [False] * 6
    with pytest.raises(ValueError, match="not an on/off setting"):
        contract.flag("maybe")


def test_reading_the_gunicorn_config_creates_nothing(tmp_path: Path) -> None:
    """The benchmark reads gunicorn.conf.py in its own process: reading it must not act."""
    values = runpy.run_path(str(gunicorn.GUNICORN_CONF))
    (setting,) = values["raw_env"]
    name, _, directory = setting.partition("=")
    assert name == "PROMETHEUS_MULTIPROC_DIR"
    assert directory == os.environ.get("PROMETHEUS_MULTIPROC_DIR", values["_OWN_METRICS_DIR"])
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert not Path(values["_OWN_METRICS_DIR"]).exists()


# -- under gunicorn --------------------------------------------------------------------------


def http_samples(port: int) -> Samples:
    """GET /metrics over HTTP and return its samples."""
    status, headers, body = gunicorn.get(port, "/metrics")
    assert status == 200, body
    assert headers["Content-Type"] == CONTENT_TYPE
    return samples(body.decode())


def live_pids(parsed: Samples) -> set[int]:
    """Return the pids of the workers with a live in-progress gauge."""
    return {
        int(dict(labels)["pid"])
        for name, labels in parsed
        if name == "http_requests_in_progress" and "pid" in dict(labels)
    }


def predict(port: int, body: bytes) -> None:
    """Send one prediction request on a connection of its own."""
    status, _, answer = gunicorn.request(port, "POST", "/v1/predict", body, JSON)
    assert status == 200, answer


@pytest.mark.server
@pytest.mark.parametrize("app", ["flask", "django"])
@pytest.mark.parametrize("threads", [1, 4], ids=["sync", "gthread"])
def test_every_worker_is_counted_and_a_dead_ones_counts_stay(
    app: str, threads: int, tmp_path: Path, artifacts_root: Path, light_model
) -> None:
    directory = tmp_path / "metrics"
    env = {
        "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "GUNICORN_WORKER_CLASS": "sync" if threads == 1 else "gthread",
        "GUNICORN_THREADS": str(threads),
    }
    body = json.dumps({"instances": holdout_instances(2)}).encode()
    with gunicorn.start(app, tmp_path / f"{app}.log", env=env) as server:
        server.wait_ready()
        sent = 0
        # Concurrent connections, until each of the two workers has answered some: more than
        # one worker's threads, or a gthread worker may take them all.
        connections = 4 * threads
        with ThreadPoolExecutor(max_workers=connections) as pool:
            for _ in range(100):
                list(pool.map(lambda _: predict(server.port, body), range(2 * connections)))
                sent += 2 * connections
                parsed = http_samples(server.port)
                # Both workers: the second may not be forked yet when the first answers.
                running = processes.worker_pids(server.pid)
                if len(running) == 2 and live_pids(parsed) == running:
                    break
        workers = processes.worker_pids(server.pid)
        assert live_pids(parsed) == workers, server.log()
        assert value(parsed, "http_requests_total", endpoint="/v1/predict", status="200") == sent
        assert value(parsed, "model_prediction_requests_total") == sent
        assert value(parsed, "model_predicted_instances_total") == 2 * sent
        duration = "http_request_duration_seconds"
        assert buckets(parsed, duration, REQUEST_BUCKETS, "/v1/predict") == sent
        assert 0 < value(parsed, f"{duration}_sum", endpoint="/v1/predict") < sent
        assert buckets(parsed, "model_prediction_duration_seconds", MODEL_BUCKETS) == sent
        assert 0 < value(parsed, "model_prediction_duration_seconds_sum") < sent
        # Every scrape so far was answered too; none is in progress but the one that counts.
        scrapes = value(parsed, "http_requests_total", endpoint="/metrics")
        assert buckets(parsed, duration, REQUEST_BUCKETS, "/metrics") == scrapes
        assert value(parsed, "http_requests_in_progress") == 1
        info = {dict(labels)["sha256"] for name, labels in parsed if name == "model_info"}
        assert info == {light_model.manifest["sha256"]}

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = processes.worker_pids(server.pid)
            if killed not in now and len(now) == 2:
                break
            time.sleep(0.05)
        assert killed not in processes.worker_pids(server.pid), server.log()

        after = http_samples(server.port)
        assert value(after, "http_requests_total", endpoint="/v1/predict", status="200") == sent
        assert value(after, "model_prediction_requests_total") == sent
        assert killed not in live_pids(after)
        assert value(after, "model_info", sha256=light_model.manifest["sha256"]) == 1
        left = {path.name for path in directory.iterdir()}
        assert f"counter_{killed}.db" in left
        assert not [name for name in left if re.fullmatch(rf"gauge_live\w+_{killed}\.db", name)]
    assert server.process.returncode == 0, server.log()
    # A directory the user gave is theirs: emptied at the next start, never removed.
    assert directory.is_dir()


def directory_of(server: gunicorn.Server) -> Path:
    """Return the metrics directory a server logged at start-up."""
    match = re.search(r"Metrics directory: (\S+)", server.log())
    assert match, server.log()
    return Path(match.group(1))


@pytest.mark.server
def test_servers_side_by_side_keep_apart(tmp_path: Path, artifacts_root: Path) -> None:
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    body = json.dumps({"instances": holdout_instances(1)}).encode()
    with (
        gunicorn.start("flask", tmp_path / "one.log", env=env) as one,
        gunicorn.start("flask", tmp_path / "two.log", env=env) as two,
    ):
        one.wait_ready()
        two.wait_ready()
        for _ in range(3):
            predict(one.port, body)
        assert value(http_samples(one.port), "model_prediction_requests_total") == 3
        assert value(http_samples(two.port), "model_prediction_requests_total") == 0
        directories = {directory_of(one), directory_of(two)}
        assert len(directories) == 2
        assert all(d.is_dir() for d in directories)
    # A directory the server made is removed when it stops.
    assert not any(d.exists() for d in directories)


@pytest.mark.server
@pytest.mark.parametrize("app", ["flask", "django"])
def test_switched_off_under_gunicorn(app: str, tmp_path: Path, artifacts_root: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")
    env = {
        "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
        "WEB_CONCURRENCY": "1",
        "MLAPI_METRICS_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    with gunicorn.start(app, tmp_path / f"{app}.log", env=env) as server:
        server.wait_ready()
        predict(server.port, json.dumps({"instances": holdout_instances(1)}).encode())
        status, headers, answer = gunicorn.get(server.port, "/metrics")
        assert status == 404
        assert headers["Content-Type"] == "application/json"
        assert json.loads(answer) == contract.error_body("not_found")
        # The earlier run's file is gone, and nothing was recorded in its place.
        assert list(directory.iterdir()) == []
