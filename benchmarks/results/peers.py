"""The record of ``python -m benchmarks peers``: the two apps and the serving frameworks (FastAPI,
MLServer, LitServe, BentoML) serving the same model, measured alike (``measure/peers.py``)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from benchmarks.results.scaling import TrialCapacity
from benchmarks.results.vocabulary import Protocol

# One capacity search of one server (``measure.capacity``'s).
PeerCapacity = TrialCapacity


class PeerTarget(TypedDict):
    """One server as measured: what it is, how it was run, and its figures that are not timed."""

    # baseline: no framework, the model alone behind a bare WSGI or ASGI callable
    kind: Literal["app", "peer", "twin", "baseline"]
    protocol: Protocol  # the contract its one-row predictions were sent in
    versions: dict[str, str]  # its framework's distributions as installed in its venv
    server: str  # HTTP server and event loop
    settings: str  # processes, keep-alive, access log, batching
    per_request: str  # what it does per request that the apps do not, and the reverse
    processes: int  # in its process tree once ready
    parity: list[str]  # how its probabilities differed from the model's (empty: passed)
    # Instructions per one-row prediction over the process tree (callgrind, the difference of two
    # counted windows of n1 and n2 requests less an idle pair's); None where not counted (the
    # twin, a run without counting).
    instructions: float | None
    instructions_totals: list[int] | None  # the request windows' totals, n1 and n2 requests
    # The idle windows' totals: one of no time, one as long as the n2 window outlasted n1's.
    instructions_idle: list[int] | None
    # An app's count in one interpreter, as the cost step counts it (its WSGI callable, no
    # server or socket); None for a peer, which is no WSGI app.
    in_process_instructions: float | None
    startup_s: list[float]  # process start to ready, one per round
    pss_anon_mib: list[float]  # anonymous PSS over the process tree, after each trial
    pss_mib: list[float]  # all of PSS over the process tree, after each trial
    loc: int | None  # code lines a user writes to serve the model (pygount); None: the twin
    files: list[str]  # the files counted
    installed_bytes: int | None  # its environment beyond the model stack (numpy, scikit-learn)
    distributions: int | None  # how many distributions that is


class PeerTrial(TypedDict):
    """One wrk measurement of one server: one-row predictions at a fixed concurrency."""

    target: str
    trial: int
    seconds: float
    requests: int
    errors: int
    rps: float  # successful requests per second
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float  # the server's process tree, over wrk's requests
    generator_cpu_util: float  # wrk's CPU over its wall time, as a share of the load CPUs
    generator_bound: bool


class PeerWorkers(TypedDict):
    """One server started with a number of worker processes by its own setting, warmed up."""

    target: str
    round: int
    workers: int  # WEB_CONCURRENCY (gunicorn, uvicorn, LitServe, BentoML), parallel_workers
    processes: int  # in its process tree once warm
    busy: int  # of them, how many used CPU during the warm-up requests
    warmup_requests: int
    pss_anon_mib: float  # anonymous PSS over the process tree, the median of a few reads


class PeersConfig(TypedDict):
    """How the peers' command measured."""

    connections: int
    trials: int
    seconds: float
    warmup_s: float
    startup_rounds: int
    cost_requests: list[int]  # n1 and n2: one-row predictions in the two counted windows
    cost_warmup: int  # requests before the first window
    worker_counts: list[int]  # the worker counts each server was started with for memory
    worker_rounds: int  # how many times each was, rotated
    server_cpus: str
    load_cpus: str
    interleaving: str
    model: str  # the variant served
    capacity_trials: int  # paired searches per server (0: not searched)
    latency_ms: float  # the p99 target of the capacity searches
    capacity_resolution: float  # a search's bracket: a capacity is known within this factor


class Peers(TypedDict):
    """The apps and the peers on the same figures (``python -m benchmarks peers``)."""

    config: PeersConfig
    targets: dict[str, PeerTarget]  # in the order measured: the apps, the peers, the twin
    trials: list[PeerTrial]
    capacity: list[PeerCapacity]
    workers: list[PeerWorkers]  # memory at one worker and at two, for the cost of one more
    workers_refused: dict[str, str]  # a server with no such memory: why (it refused requests)
    skipped: dict[str, str]  # a peer not measured: why (its venv is missing, say)
    duration_s: float
