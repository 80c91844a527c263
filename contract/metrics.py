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

import math
import os
import re
import struct
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from os import getpid
from threading import Lock
from time import perf_counter
from typing import Any

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
class _Collectors:
    """prometheus_client's collectors of one process, in a registry of their own."""

    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    in_progress: Gauge
    predictions: Counter
    instances: Counter
    model_duration: Histogram
    model_info: Gauge

    @classmethod
    def create(cls, model: Model) -> _Collectors:
        """Create every collector, and set the model's info series."""
        registry = CollectorRegistry()
        collectors = cls(
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
        collectors.model_info.labels(model.name, model.version, model.manifest["sha256"]).set(1)
        return collectors


# -- Recording: each number written where prometheus_client keeps it ---------------------------
# Counter.inc, Gauge.inc and Histogram.observe each check their collector and take a lock, and in
# multiprocess mode also look up the process id and the value's key before they write 16 bytes:
# the nine such calls of a prediction cost more than the rest of its recording (issue 22). Here
# each number a request changes is resolved once per process, under ``Metrics``' one lock, to
# where prometheus_client keeps it, and written there directly: the float of its value object,
# and under gunicorn also the value's record in the worker's memory-mapped file, at the offset
# prometheus_client gave it, in the layout it reads back (two doubles, the value and a timestamp
# of 0.0) and with one slice assignment, as its own ``MmapedDict.write_value`` does. Every write
# still lands in the file at once (a scrape by another worker, or after this one is killed,
# counts it); scrapes still go through prometheus_client alone.
#
# This reads private attributes of prometheus_client (0.26): a collector's ``_value``, ``_sum``
# and ``_buckets``; a value's ``_value``, ``_multiprocess``, ``_file`` and ``_key``; the file's
# ``_positions`` and ``_m``. tests/test_metrics.py records the same calls through here and
# through prometheus_client's public methods, in one process and in multiprocess mode, and fails
# when the two expositions differ or an attribute read here is gone.
_RECORD = struct.Struct("dd").pack


class _Number:
    """One number of one series, as prometheus_client stores it, that only grows or shrinks."""

    __slots__ = ("_file", "_record", "_value")

    def __init__(self, value: Any) -> None:
        self._value = value
        self._file = value._file if value._multiprocess else None
        offset = self._file._positions[value._key] if self._file is not None else 0
        self._record = slice(offset, offset + 16)

    def add(self, amount: float) -> None:
        """Add ``amount``, where a scrape reads it (the caller holds ``Metrics``' lock)."""
        value = self._value
        value._value += amount
        if self._file is not None:
            # ``_m`` is read each time: a new series that makes the file grow maps it anew.
            self._file._m[self._record] = _RECORD(value._value, 0.0)


class _Histogram:
    """One histogram series: its sum and its buckets (not cumulative, as prometheus_client
    stores them: each counts the observations above the bucket below)."""

    __slots__ = ("_bounds", "_buckets", "_sum")

    def __init__(self, histogram: Histogram, bounds: tuple[float, ...]) -> None:
        self._bounds = (*bounds, math.inf)
        self._sum = _Number(histogram._sum)
        self._buckets = [_Number(bucket) for bucket in histogram._buckets]

    def observe(self, amount: float) -> None:
        """Add one observation: to the sum, and to the first bucket whose bound it is within."""
        self._sum.add(amount)
        self._buckets[bisect_left(self._bounds, amount)].add(1.0)


@dataclass
class _Series:
    """The numbers one process records into, each resolved once from its collectors."""

    collectors: _Collectors
    in_progress: _Number
    predictions: _Number
    instances: _Number
    model_duration: _Histogram
    # (route template as the framework writes it, method, status) -> the request counter's
    # number and the duration histogram of that route and method
    answered: dict[tuple[str | None, str, int], tuple[_Number, _Histogram]]
    durations: dict[tuple[str, str], _Histogram]

    @classmethod
    def create(cls, model: Model) -> _Series:
        """Create the collectors and resolve the numbers every request changes."""
        collectors = _Collectors.create(model)
        return cls(
            collectors=collectors,
            in_progress=_Number(collectors.in_progress._value),
            predictions=_Number(collectors.predictions._value),
            instances=_Number(collectors.instances._value),
            model_duration=_Histogram(collectors.model_duration, MODEL_BUCKETS),
            answered={},
            durations={},
        )

    def answer(self, route: str | None, method: str, status: int) -> tuple[_Number, _Histogram]:
        """Create and resolve the series of a route, method and status seen the first time."""
        endpoint = route_label(route) if route is not None else UNMATCHED
        count = _Number(self.collectors.requests.labels(endpoint, method, str(status))._value)
        duration = self.durations.get((endpoint, method))
        if duration is None:
            child = self.collectors.duration.labels(endpoint, method)
            duration = self.durations[endpoint, method] = _Histogram(child, REQUEST_BUCKETS)
        self.answered[route, method, status] = count, duration
        return count, duration


class Metrics:
    """Record one app's requests and predictions, and render them for ``GET /metrics``."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self._series: _Series | None = None
        self._pid = 0
        # One lock per process for everything it records: gthread workers answer requests on
        # several threads, and a number here is read, added to and written back.
        self._lock = Lock()

    def _created(self) -> _Series:
        # The collectors are made in the process that records, on its first request, not where
        # the app is built: with preload_app the gunicorn master builds the app before its
        # server hooks have prepared the directory, and it never answers a request itself.
        pid = getpid()
        with self._lock:  # threaded workers: one set of collectors per process
            if self._series is None or self._pid != pid:
                self._series, self._pid = _Series.create(self._model), pid
            return self._series

    def request_started(self) -> float:
        """Count a request in progress; return the time it started."""
        series = self._series
        if series is None or self._pid != getpid():
            series = self._created()
        self._lock.acquire()  # not `with`: it costs twice the instructions
        try:
            series.in_progress.add(1.0)
        finally:
            self._lock.release()
        return perf_counter()

    def request_finished(self, started: float, route: str | None, method: str, status: int) -> None:
        """Count an answered request by route template, method and status, with its duration."""
        elapsed = perf_counter() - started
        series = self._series
        if series is None or self._pid != getpid():
            series = self._created()
        if method not in METHODS:
            method = OTHER_METHOD
        self._lock.acquire()
        try:
            series.in_progress.add(-1.0)
            answered = series.answered.get((route, method, status))
            if answered is None:
                answered = series.answer(route, method, status)
            count, duration = answered
            count.add(1.0)
            duration.observe(elapsed)
        finally:
            self._lock.release()

    def predicted(self, instances: int, seconds: float) -> None:
        """Count one answered prediction request, its instances and the model's time."""
        series = self._series
        if series is None or self._pid != getpid():
            series = self._created()
        self._lock.acquire()
        try:
            series.predictions.add(1.0)
            series.instances.add(instances)
            series.model_duration.observe(seconds)
        finally:
            self._lock.release()

    def exposition(self) -> bytes:
        """Return every series in Prometheus' text format: all workers' under gunicorn."""
        series = self._series
        if series is None or self._pid != getpid():
            series = self._created()
        if not multiprocess():
            return generate_latest(series.collectors.registry)
        # A fresh registry per scrape, reading every worker's files, as the documentation does.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
