"""The record of ``python -m benchmarks batching``: each app (and the peers that batch) with one
worker, unbatched and with adaptive batching, on capacity, CPU and latency at low load
(``measure/batching.py``)."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from benchmarks.results.scaling import TrialCapacity
from benchmarks.results.vocabulary import Variant

# One capacity search of one configuration.
BatchCapacity = TrialCapacity


class BatchTarget(TypedDict):
    """One configuration of one server, as started."""

    server: str  # flask, django, or a peer's name
    kind: Literal["app", "peer"]
    variant: Variant
    max_batch_size: int  # 1: batching off
    # None: the server has no wait setting (BentoML's dispatcher learns its wait)
    max_wait_ms: float | None
    worker: str  # "gthread, 1 thread", "gthread, 16 threads", or the peer's own server
    protocol: Literal["v1", "v2"]
    twin_of: str | None  # the A/A twin: the configuration it copies, searched in the same trials
    # An app's default deployment (gunicorn.conf.py's settings, batching off), what its gains are
    # measured against. Absent in runs before the default became gthread: there the sync worker.
    default: NotRequired[bool]
    # A peer's own batching settings as started, in its own words (absent: the apps, batching off)
    batching: NotRequired[str]


class BatchLowLoad(TypedDict):
    """One configuration at one user: wrk with one connection."""

    target: str
    requests: int
    p50_ms: float
    p99_ms: float


class BatchingConfig(TypedDict):
    """How the batching command measured."""

    variants: list[Variant]
    sizes: list[int]
    max_wait_ms: float  # the first of waits_ms: the peers' (at least their own least)
    waits_ms: NotRequired[list[float]]  # the apps' waits, each with every size (runs after 5209ae7)
    trials: int
    low_load_s: float
    latency_ms: float  # the p99 target of the capacity searches
    capacity_resolution: float  # a search's bracket: a capacity is known within this factor
    server_cpus: str
    load_cpus: str
    cost_requests: list[int]  # n1 and n2 of the process-tree counts; empty: not counted


class Batching(TypedDict):
    """Adaptive batching against none, per server and model (``python -m benchmarks batching``)."""

    config: BatchingConfig
    targets: dict[str, BatchTarget]  # by target name: "flask-heavy-b16", "flask-heavy-off"
    capacity: list[BatchCapacity]
    low_load: list[BatchLowLoad]
    # Instructions per one-row prediction over the process tree, requests sent one at a time
    # (so every batch holds one row: what batching costs when nothing waits), by target.
    instructions: dict[str, float]
    skipped: dict[str, str]  # a peer not measured: why
    duration_s: float
