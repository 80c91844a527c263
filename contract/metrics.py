"""The Prometheus metrics both apps export: one set of names, labels and buckets.

Each app only calls this from thin hooks in its request cycle (``flask_app/metrics.py``,
``django_app/middleware.py``), from its predict view and from its ``/metrics`` view, so one
dashboard serves either app. No web framework is imported here.

Under gunicorn, prometheus_client runs in multiprocess mode (``gunicorn.conf.py`` sets
PROMETHEUS_MULTIPROC_DIR): each worker writes its values to files of its own, and a scrape sums
the files of every worker, a dead worker's counters included. In a single process (the tests'
in-process client) the values stay in the app's own registry.
https://prometheus.github.io/client_python/multiprocess/
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from threading import Lock
from time import perf_counter

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from model import Model

# The text format every Prometheus server reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Labels are bounded: a path no route matches, or a method HTTP does not define, gets one value.
UNMATCHED = "unmatched"
OTHER_METHOD = "other"
_PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)
# Seconds. A one-row prediction takes 0.2 ms (light) to 3 ms (heavy) in the model, a few ms over
# HTTP.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MODEL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

# Multiprocess mode exports no *_created series; without them in one process too, an app exports
# the same families however it is served.
disable_created_metrics()


def multiprocess() -> bool:
    """Tell whether values go to files shared by several processes (prometheus_client's test)."""
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


@cache
def route_label(template: str) -> str:
    """Write a route template as OpenAPI does: ``/v2/models/{name}``, whatever the framework.

    Flask writes ``<name>`` and Django ``<str:name>``; the label must not tell them apart.
    """
    return _PLACEHOLDER.sub(r"{\1}", template)


@dataclass
class _Series:
    """The collectors of one process, in a registry of their own."""

    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    in_progress: Gauge
    predictions: Counter
    instances: Counter
    model_duration: Histogram
    model_info: Gauge

    @classmethod
    def create(cls, model: Model) -> _Series:
        """Create every collector, and set the model's info series."""
        registry = CollectorRegistry()
        series = cls(
            registry=registry,
            requests=Counter(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
                ["endpoint", "method", "status"],
                registry=registry,
            ),
            duration=Histogram(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, from the framework's first hook to its last.",
                ["endpoint", "method"],
                buckets=REQUEST_BUCKETS,
                registry=registry,
            ),
            # One series per live worker under gunicorn (a pid label), summed by a dashboard; a
            # worker that dies is dropped from it (gunicorn.conf.py's child_exit).
            in_progress=Gauge(
                "http_requests_in_progress",
                "HTTP requests being answered.",
                multiprocess_mode="liveall",
                registry=registry,
            ),
            predictions=Counter(
                "model_prediction_requests_total",
                "Prediction requests the model answered.",
                registry=registry,
            ),
            instances=Counter(
                "model_predicted_instances_total",
                "Instances the model predicted a class for.",
                registry=registry,
            ),
            model_duration=Histogram(
                "model_prediction_duration_seconds",
                "Time the model took per prediction request (the Server-Timing header's value).",
                buckets=MODEL_BUCKETS,
                registry=registry,
            ),
            # prometheus_client's Info does not work in multiprocess mode; a gauge of 1 with
            # the same labels is what Info exports. livemax: the model the live workers serve.
            model_info=Gauge(
                "model_info",
                "The model served: its name, version and the sha256 of its file (always 1).",
                ["name", "version", "sha256"],
                multiprocess_mode="livemax",
                registry=registry,
            ),
        )
        series.model_info.labels(model.name, model.version, model.manifest["sha256"]).set(1)
        return series


class Metrics:
    """Record one app's requests and predictions, and render them for ``GET /metrics``."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self._series: _Series | None = None
        self._pid = 0
        self._lock = Lock()

    def _current(self) -> _Series:
        # The collectors are made in the process that records, on its first request, not where
        # the app is built: with preload_app the gunicorn master builds the app before its
        # server hooks have prepared the directory, and it never answers a request itself.
        pid = os.getpid()
        if self._series is None or self._pid != pid:
            with self._lock:  # threaded workers: one set of collectors per process
                if self._series is None or self._pid != pid:
                    self._series, self._pid = _Series.create(self._model), pid
        return self._series

    def request_started(self) -> float:
        """Count a request in progress; return the time it started."""
        self._current().in_progress.inc()
        return perf_counter()

    def request_finished(self, started: float, route: str | None, method: str, status: int) -> None:
        """Count an answered request by route template, method and status, with its duration."""
        series = self._current()
        series.in_progress.dec()
        endpoint = route_label(route) if route is not None else UNMATCHED
        method = method if method in METHODS else OTHER_METHOD
        series.requests.labels(endpoint, method, str(status)).inc()
        series.duration.labels(endpoint, method).observe(perf_counter() - started)

    def predicted(self, instances: int, seconds: float) -> None:
        """Count one answered prediction request, its instances and the model's time."""
        series = self._current()
        series.predictions.inc()
        series.instances.inc(instances)
        series.model_duration.observe(seconds)

    def exposition(self) -> bytes:
        """Return every series in Prometheus' text format: all workers' under gunicorn."""
        series = self._current()
        if not multiprocess():
            return generate_latest(series.registry)
        # A fresh registry per scrape, reading every worker's files, as the documentation does.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
