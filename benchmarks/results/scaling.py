"""The records of how a server holds up as load and workers grow: open-loop capacity searches,
memory as gunicorn workers are added, and the soak (a worker killed under load)."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

from benchmarks.results.vocabulary import Latency, LocustError, ScaleMode, Scenario, Variant


class CapacityStep(TypedDict):
    """One short open-loop phase at one offered rate (``measure/capacity.py``).

    Latency runs from each request's intended send time (``load/openloop.py``), so queueing at
    the server or in the client counts. CPU is the server's process tree over Locust's window.
    """

    offered_rps: float  # the schedule's rate (Poisson arrivals)
    rps: float  # successful answers per second in the window
    seconds: float
    requests: int
    failures: int  # wrong status or body, timeouts, refused connections
    unanswered: int  # still open when the generator stopped, counted among the failures
    errors: list[str]  # each error in words with its count
    latency_ms: Latency
    send_lag_ms_p99: float  # how late the generator sent, at the 99th percentile: its own health
    most_in_flight: int  # open requests at once, at most
    server_cpu_s: float  # gunicorn's tree (and nginx's, through the proxy) over the window
    cpu_s_per_million: float
    generator_cpu_util: float  # the Locust process's share of one core
    generator_bound: bool
    passed: bool  # p99 within the target, nothing failed or unanswered
    retried: NotRequired[list[CapacityStep]]  # a failed first try whose sends ran late


class CapacitySearch(TypedDict):
    """One search of one app's capacity at one worker count, with its cost at that capacity."""

    app: str
    workers: int
    trial: int  # searches with the same trial number ran back to back, in rotated order
    capacity_rps: float | None  # the highest passing rate (None: not even the lowest passed)
    failed_at_rps: float | None  # the lowest failing rate above it (None: none failed)
    capped: bool  # the search hit its rate or step limit before the bracket closed
    p99_ms_at_capacity: float | None
    cpu_s_per_million: float | None  # server CPU seconds per million requests at the capacity
    usd_per_million: float | None  # that CPU at the price per vCPU-hour
    usd_per_million_held: float | None  # the server's vCPUs held at capacity for a million
    steps: list[CapacityStep]


class TrialCapacity(TypedDict):
    """One open-loop capacity search of one server in a rotated trial (Poisson arrivals), as the
    peers' and the batching commands record it."""

    target: str
    trial: int  # searches with the same trial number ran back to back, in rotated order
    capacity_rps: float | None  # the highest offered rate whose p99 met the target, no failure
    failed_at_rps: float | None
    p99_ms_at_capacity: float | None
    cpu_s_per_million: float | None  # the server tree's CPU at the capacity, per million requests


class CapacityPoint(CapacityStep):
    """A step beside the search: overload (a multiple of the capacity), or through nginx."""

    app: str
    workers: int
    factor: float  # offered load / the capacity found


class CapacityResults(TypedDict):
    """The capacity measurement: searches, overload, nginx, and the settings they followed."""

    mode: ScaleMode
    scenario: Scenario
    variant: Variant
    arrival: str  # "poisson" or "constant"
    latency_ms: float  # the p99 target
    vcpu_hour_usd: float  # the price assumed
    price_source: str  # where the default price comes from, in words
    server_cpus: str
    load_cpus: str
    worker_counts: list[int]
    trials: int  # paired searches at the first worker count
    resolution: float  # a search stops once failing/passing <= 1 + resolution
    growth: float
    step_s: int  # Locust's run time per step, warm-up included
    warmup_s: float
    timeout_s: float  # a request unanswered this long failed
    max_in_flight: int
    searches: list[CapacitySearch]
    overload: list[CapacityPoint]
    proxied: list[CapacityPoint]
    duration_s: float


class WorkersRow(TypedDict):
    """One server's memory at one worker count (measure/workers.py), in MiB.

    Each process's figure is the median of three readings taken after every worker served
    one-row predictions; the lists hold one entry per worker, by PID.
    """

    app: str  # "flask" or "django"
    variant: Variant
    workers: int
    preload: bool  # GUNICORN_PRELOAD: the app loaded in the master before forking
    freeze: bool  # GUNICORN_GC_FREEZE: gc.collect() and gc.freeze() in the master before a fork
    round: int
    master_pss_mib: float
    master_uss_mib: float
    worker_pss_mib: list[float]
    worker_uss_mib: list[float]
    total_pss_mib: float  # the master's PSS plus every worker's
    total_uss_mib: float
    total_pss_anon_mib: float | None  # the same sum over anonymous pages only (Pss_Anon)
    warmup_requests: int  # one-row predictions sent at this count before the reading
    served: list[bool]  # per worker: its CPU time moved during the warm-up
    frozen_objects: int | None  # the count the master logged at its last gc.freeze()


class WorkersFit(TypedDict):
    """One server setting's memory against its worker count, fitted over the counts."""

    app: str
    variant: Variant
    preload: bool
    freeze: bool
    counts: list[int]
    total_pss_mib: list[float]  # per count: the median over rounds of the total PSS
    marginal_mib: float  # least-squares slope of the total PSS: MiB one more worker costs
    marginal_mib_rounds: list[float]  # the same slope fitted to each round alone
    base_mib: float  # the fit's intercept: the master and the pages every worker shares
    workers_per_gib: float | None  # 1024 / marginal_anon_mib (marginal_mib where not split);
    # None when the slope is not positive
    total_pss_anon_mib: list[float] | None  # per count: the same over anonymous pages only
    marginal_anon_mib: float | None  # the slope of the anonymous pages' PSS alone
    marginal_anon_mib_rounds: list[float] | None
    rounds: int
    spread: float | None  # largest (max - min) / median of a count's totals between rounds
    spread_anon: float | None  # the same over anonymous pages only


class Workers(TypedDict):
    """Memory as gunicorn workers are added (``python -m benchmarks workers``)."""

    mode: ScaleMode
    counts: list[int]
    default_workers: int  # what gunicorn.conf.py starts on the server CPUs (one per CPU)
    rounds: int
    warmup_requests_per_worker: int  # per worker and batch, batches until every worker served
    served_cpu_s: float  # CPU a worker must have used during the warm-up to count as served
    server_cpus: str | None
    rows: list[WorkersRow]
    fits: list[WorkersFit]
    seconds: float


class RssSample(TypedDict):
    """One worker's resident memory at one moment of a soak."""

    t: float  # seconds since the soak started
    pid: int
    rss_mib: float


class SoakHistory(TypedDict):
    """One row of Locust's stats history during a soak."""

    t: float  # Unix time
    rps: float
    failures_per_s: float
    p50_ms: float
    p99_ms: float


class Soak(TypedDict):
    """One app held at a share of its capacity with a worker killed halfway (measure/soak.py)."""

    app: str
    seconds: float
    capacity_rps: float
    target_rps: float
    requests: int
    failures: int
    rps: float  # successful requests per second
    latency_ms: Latency
    errors: list[LocustError]
    worker_killed: bool
    # TCP connections the killed worker held open when it was killed: each can lose one request
    # (the one in flight, or the next a client sends on it before it sees the reset). On a
    # keep-alive worker (gthread) that is its clients' connections; absent in runs before
    # 2026-12-06, on the sync worker, where it was the one request in flight.
    connections_killed: NotRequired[int]
    worker_replaced: bool
    rss_mib_start: float
    rss_mib_end: float
    rss_trend_mib_per_min: float
    rss_samples: list[RssSample]
    history: list[SoakHistory]


class SoakRun(TypedDict):
    """``python -m benchmarks soak``: every app soaked in turn."""

    seconds: float
    fraction: float  # of each app's capacity
    apps: list[Soak]
