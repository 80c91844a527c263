"""One fixed traffic, recorded by ``contract.metrics.Metrics`` or by prometheus_client's public
methods on the same collectors: the two expositions must be the same bytes.

``Metrics`` writes its numbers where prometheus_client keeps them instead of calling
``inc``/``observe`` (see contract/metrics.py); this is the check that it records what they would.
prometheus_client picks one process or multiprocess mode when imported, so the multiprocess case
runs here as a script, once per way, with PROMETHEUS_MULTIPROC_DIR set:

    python -m tests.metrics_replay metrics|public|threads
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from contract import metrics
from contract.metrics import OTHER_METHOD, UNMATCHED, Metrics, route_label

# (route template as a framework writes it, method, status, seconds): both frameworks' spellings
# of one template, no route, a method HTTP does not define, durations on a bucket's bound, between
# bounds, zero and above the last bound.
REQUESTS = [
    ("/v1/predict", "POST", 200, 0.0042),
    ("/v1/predict", "POST", 200, 0.001),
    ("/v1/predict", "POST", 422, 0.0025),
    ("/v2/models/<name>/infer", "POST", 200, 0.03),
    ("/v2/models/<str:name>/infer", "POST", 200, 0.0),
    (None, "GET", 404, 0.0003),
    ("/v1/predict", "BREW", 405, 12.5),
    ("/health/live", "GET", 200, 10.0),
    ("/v1/predict", "POST", 200, 0.7),
]
# (instances, the model's seconds)
PREDICTIONS = [(1, 0.0003), (100, 0.0005), (3, 0.02), (1, 1.0), (7, 3.5)]
# A model as far as the metrics read one.
MODEL = SimpleNamespace(name="replayed", version="1.0.0", manifest={"sha256": "0" * 64})


class Clock:
    """``perf_counter`` for ``Metrics``: each request starts at 0 and ends after its seconds."""

    def __init__(self) -> None:
        self.readings: Iterator[float] = iter(())

    def __call__(self) -> float:
        return next(self.readings)


def record(recorder: Metrics, clock: Clock) -> None:
    """Record the traffic through ``Metrics``, one request left in progress."""
    for route, method, status, seconds in REQUESTS:
        clock.readings = iter((0.0, seconds))
        started = recorder.request_started()
        recorder.request_finished(started, route, method, status)
    for instances, seconds in PREDICTIONS:
        recorder.predicted(instances, seconds)
    clock.readings = iter((0.0,))
    recorder.request_started()


def record_public(collectors: Any) -> None:
    """Record the same traffic through prometheus_client's public methods."""
    for route, method, status, seconds in REQUESTS:
        collectors.in_progress.inc()
        endpoint = route_label(route) if route is not None else UNMATCHED
        label = method if method in metrics.METHODS else OTHER_METHOD
        collectors.requests.labels(endpoint, label, str(status)).inc()
        collectors.duration.labels(endpoint, label).observe(seconds)
        collectors.in_progress.dec()
    for instances, seconds in PREDICTIONS:
        collectors.predictions.inc()
        collectors.instances.inc(instances)
        collectors.model_duration.observe(seconds)
    collectors.in_progress.inc()


# Threads, and the two-row predictions each records.
THREADS, EACH = 8, 300


def record_threaded(recorder: Metrics) -> None:
    """Record predictions from several threads at once, as a gthread worker does."""

    def answer() -> None:
        for _ in range(EACH):
            started = recorder.request_started()
            recorder.predicted(2, 0.001)
            recorder.request_finished(started, "/v1/predict", "POST", 200)

    # Switch threads as often as the interpreter can, so that an update two threads make at
    # once would be lost.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=answer) for _ in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)


def main(way: str) -> None:
    """Record the traffic one way in this process (its files, in multiprocess mode)."""
    if way == "metrics":
        clock = Clock()
        metrics.perf_counter = clock  # type: ignore[assignment]
        record(Metrics(MODEL), clock)  # type: ignore[arg-type]
    elif way == "public":
        record_public(metrics._Collectors.create(MODEL))  # type: ignore[arg-type]
    else:
        record_threaded(Metrics(MODEL))  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1])
