"""The record of ``python -m benchmarks remote``: deployments the runner did not start.

A client's view only: what the local runner reads from the server's processes (CPU, memory) and
start-up times are null here, each with its reason, never estimated.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from benchmarks.results.vocabulary import Cell, Latency, LocustError, Parity, Scenario, Variant


class RemotePhase(TypedDict):
    """One Locust phase against a deployment the runner did not start (``measure/remote.py``).

    The server's side (CPU, memory) cannot be read from here: those fields are always null.
    """

    target: str  # the name given with --target
    url: str
    variant: Variant  # a label of the cell: the remote serves its own model
    scenario: Scenario
    users: int
    trial: int
    seconds: float
    requests: int
    failures: int
    errors: list[LocustError]
    rps: float  # successful requests per second
    latency_ms: Latency
    model_ms_mean: float | None  # None where a worker elsewhere kept part of the sum
    workers: int  # Locust workers connected when the window opened
    workers_elsewhere: int
    generator_cpu_util: float  # this machine's Locust processes only
    generator_cpu_util_by_process: dict[str, float]
    load_cpus_busy: float
    generator_bound: bool
    server_cpu_us_per_request: None
    server_memory_mib: None
    csv_prefix: str  # raw Locust CSVs, relative to the run directory


class RemoteConfig(TypedDict):
    """How ``python -m benchmarks remote`` loaded the deployments."""

    warmup_s: float
    measure_s: float
    cells: list[Cell]
    model: str  # what the variant label means here, in words
    locust_workers: int  # started on this machine
    expect_workers: int  # the master waited for these, those started elsewhere included
    master_bind: str | None  # None: Locust ran as one local process
    load_cpus: str
    locust_user: str
    interleaving: str


class Remote(TypedDict):
    """The gate and the load against deployments given by their URLs (``remote``)."""

    kind: Literal["remote"]
    targets: dict[str, str]  # name: base URL
    config: RemoteConfig
    parity: Parity
    phases: list[RemotePhase]
    startup_s: None  # this command did not start the deployments
    not_measured: dict[str, str]  # field: why it cannot be measured from here
    duration_s: float
