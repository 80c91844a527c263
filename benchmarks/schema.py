"""The shape of ``results.json``: what one benchmark run measured, and on what.

``report.md`` and ``report.html`` are rendered from this alone, so a stored run can be rendered
again (``python -m benchmarks report DIR``) and two runs compared (``python -m benchmarks
compare A B``). Bump ``SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args

SCHEMA_VERSION = 2  # 2: PSS/USS in MiB, per-process generator CPU, successful rps

# The benchmark's vocabulary, each defined here once; the tuples keep the conventional order in
# which reports list them. ``Target`` names what a run's phases measure (the registry in
# ``benchmarks.targets`` tags the same three ``run``; a test holds the two together).
Target = Literal["baseline", "flask", "django", "flask-twin"]
Variant = Literal["light", "heavy"]
Scenario = Literal["health", "predict_one", "predict_batch", "invalid", "mixed"]
Verdict = Literal[
    "supported",
    "contradicted",
    "mixed",
    "inconclusive",
    "inconclusive (quick run)",
    "not measurable here",
]
TARGET_NAMES: tuple[str, ...] = get_args(Target)
VARIANTS: tuple[str, ...] = get_args(Variant)
SCENARIOS: tuple[str, ...] = get_args(Scenario)
VERDICTS: tuple[str, ...] = get_args(Verdict)


class Latency(TypedDict):
    """Response times in milliseconds, with 10-microsecond resolution below 10 ms."""

    p50: float
    p90: float
    p99: float
    p999: float
    max: float


class Phase(TypedDict):
    """One Locust measurement of one target (after a discarded warm-up).

    The window is Locust's: from the reset of its statistics after the warm-up until its users
    stopped; CPU times are read at those two edges in the same step (``measure/phases.py``).
    Memory is in MiB (2**20 bytes), summed over the gunicorn master and its workers.
    """

    target: Target
    variant: Variant
    scenario: Scenario
    users: int
    trial: int
    seconds: float  # the window's length, by Locust's clock
    requests: int  # every request Locust counted in the window, failed or not
    failures: int  # responses that were not what the scenario expects (status or body)
    errors: list[dict]  # Locust's error report: name, error, count
    rps: float  # successful requests (requests - failures) per second: served throughput
    latency_ms: Latency
    server_cpu_us_per_request: float  # CPU of the gunicorn tree over the window / requests
    model_ms_mean: float | None  # mean of Server-Timing model;dur (predict scenarios only)
    generator_cpu_util: float  # the busiest Locust process's CPU, as a share of ONE core
    generator_cpu_util_by_process: dict[str, float]  # "local", or "master" and "worker-N"
    load_cpus_busy: float  # how busy the load generator's CPUs were, by anything
    generator_bound: bool  # either of the two >= 0.9: a floor, not the server's capacity
    pss_mib_steady: float  # median over samples of PSS summed over master and workers
    pss_mib_peak: float  # highest such sum
    uss_mib_steady: float  # median over samples of USS summed over master and workers
    rss_mib_steady: float  # median of RSS summed likewise: shared pages counted per process
    pss_mib_master: float  # median PSS of the gunicorn master
    pss_mib_workers: list[float]  # median PSS of each worker, by PID
    csv_prefix: str  # raw Locust CSVs, relative to the run directory


class Calibration(TypedDict):
    """The same load measured by wrk, to check Locust's figure against."""

    target: Target
    variant: Variant
    scenario: Scenario
    users: int
    wrk_rps: float
    wrk_errors: int
    wrk_latency_ms: Latency
    locust_rps: float  # median of the matching phases
    locust_to_wrk: float
    generator_limited: bool  # locust_to_wrk < 0.9


class Startup(TypedDict):
    """Seconds from starting gunicorn to the first 200 from /health/ready."""

    seconds: list[float]
    median: float


class Overhead(TypedDict):
    """One target's in-process costs, microseconds of CPU per call (benchmarks/overhead.py)."""

    target: Target
    health_us: float
    predict_us: float
    model_in_request_us: float
    model_alone_us: float
    predict_canned_us: float
    envelope_us: float | None  # None for the baseline, which has no envelope check of its own


class CostRow(TypedDict):
    """Instructions one request executes, counted by callgrind (benchmarks/measure/cost.py)."""

    target: str  # any registered target, the floors included
    variant: Variant
    scenario: Scenario
    requests: int  # requests counted (after the warm-up)
    instructions: int  # per request
    model_instructions: int  # Model.predict alone on the same rows (0 when the model is not run)
    rest_instructions: int  # instructions - model_instructions
    gc_instructions: int  # in CPython's cyclic garbage collector, per request


class Cost(TypedDict):
    """The deterministic cost of every target: instructions per request, and start-up."""

    tool: str  # valgrind's version and what is counted
    mode: str  # the cost plan: "quick" or "default"
    requests: dict[str, int]  # requests counted per scenario (predict_one_heavy: heavy model)
    warmup_requests: int
    gc: str  # how garbage collection is accounted
    rows: list[CostRow]
    startup: dict[str, int]  # target -> instructions from the shared stack to the app ready
    seconds: float


class Rung(TypedDict):
    """One rung of a framework's ladder and what it adds (benchmarks/measure/ladders.py)."""

    framework: str  # "flask" or "django"
    target: str  # its registered target, e.g. "flask+cors"
    feature: str  # e.g. "cors"
    title: str  # the feature in words
    how: str  # how the framework's community adds it
    extension: str | None  # the third-party distribution it needs, if any
    distributions_added: list[str]  # installed by it, not by the rung below
    bytes_added: int
    lines_added: int  # code lines of the function that adds the feature


class Ladders(TypedDict):
    """The ladders: every rung, the features built in instead, and the rungs under load."""

    rungs: list[Rung]
    built_in: dict[str, dict[str, str]]  # framework -> feature -> where the app has it built in
    load: dict | None  # benchmarks/measure/throughput.py's result for the rungs under load


class WorkersRow(TypedDict):
    """One server's memory at one worker count (benchmarks/measure/workers.py), in MiB.

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

    mode: str  # the plan: "quick", "run" (the default run's piece), "default" or "full"
    counts: list[int]
    default_workers: int  # what gunicorn.conf.py starts on the server CPUs (one per CPU)
    rounds: int
    warmup_requests_per_worker: int  # per worker and batch, batches until every worker served
    served_cpu_s: float  # CPU a worker must have used during the warm-up to count as served
    server_cpus: str | None
    rows: list[WorkersRow]
    fits: list[WorkersFit]
    seconds: float


class LinesOfCode(TypedDict):
    """Code lines (no comments, no blank lines) of one app's own package."""

    files: dict[str, int]  # file name -> code lines
    concerns: dict[str, int]  # concern (see footprint.CONCERNS) -> code lines
    total: int


class Distribution(TypedDict):
    """An installed distribution."""

    name: str
    version: str
    size_bytes: int


class Dependencies(TypedDict):
    """What one app needs beyond the shared core (model, contract, gunicorn)."""

    direct: list[str]  # what the app imports itself, e.g. ["flask"]
    extensions: list[str]  # third-party add-ons of the framework, e.g. ["djangorestframework"]
    distributions: list[Distribution]  # direct + their dependencies, minus the shared core's
    total_bytes: int


class SecurityCheck(TypedDict):
    """One security property probed on one app."""

    check: str  # e.g. "X-Frame-Options header", "Host header validated"
    result: dict[str, str]  # app name -> what was observed, e.g. {"flask-default": "absent"}
    passed: dict[str, bool]


class Claim(TypedDict):
    """A common claim about the two frameworks, tested against this run's figures."""

    id: str
    claim: str
    metric: str
    flask: str
    django: str
    verdict: Verdict
    reason: str
    interval: str  # the timed evidence's paired interval in words ("" where none applies)


class AACheck(TypedDict):
    """The Flask app measured twice, as two targets: the run's noise floor (analysis/claims.py)."""

    target: str  # the twin's name
    users: int
    ratios: list[float]  # flask / twin req/s, trial by trial
    interval: dict | None  # estimate, low, high, trials; None below three paired trials
    noise_floor: float | None  # how far the interval reaches from 1
    differs: bool  # the interval excludes 1: the run's timings are not to be trusted


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


class CapacityPoint(CapacityStep):
    """A step beside the search: overload (a multiple of the capacity), or through nginx."""

    app: str
    workers: int
    factor: float  # offered load / the capacity found


class CapacityResults(TypedDict):
    """The capacity measurement: searches, overload, nginx, and the settings they followed."""

    mode: str
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


class Results(TypedDict):
    """Everything one run measured."""

    schema_version: int
    run_id: str  # UTC timestamp, e.g. 20261125T081500Z
    mode: Literal["quick", "default", "full"]
    environment: dict  # cpu_model, cores, server_cpus, load_cpus, os, python, libraries,
    # git_commit, gunicorn (settings), models (variant -> sha256), lock (the lock file the
    # environment matches, its sha256; benchmarks/measure/environment.py), date
    config: dict  # warmup_s, measure_s, trials, matrix, locust_workers, ...
    parity: dict  # {"ok": bool, "probes": int, "targets": [...], "differences": [...]}
    phases: list[Phase]
    calibration: list[Calibration]
    startup: dict[str, Startup]
    overhead: NotRequired[list[Overhead]]  # absent from runs made before it was measured
    cost: NotRequired[Cost]  # absent from runs made before it was counted
    ladders: NotRequired[Ladders]  # absent from runs made before the ladders were measured
    capacity: NotRequired[CapacityResults]  # absent from runs made before it, or --no-capacity
    workers: NotRequired[Workers]  # absent from runs made before it was measured (--no-workers)
    loc: dict[str, LinesOfCode]
    dependencies: dict[str, Dependencies]
    framework_footprint: dict[str, Dependencies]  # "flask" / "django": the framework alone
    security: list[SecurityCheck]
    claims: list[Claim]
    decision_rule: str  # the rule every verdict followed, in words (analysis/decision.py)
    aa: AACheck | None  # None when the run measured no light predict_one cell
    reliability: dict  # {"inputs": [{probe, method, path, answers: {app: {status, code}}}],
    # "soak_s": float, "soak": [per app: capacity, held rate (successful req/s), requests,
    # failures, latency, worker killed/replaced, rss_mib_start/end, rss_trend_mib_per_min,
    # rss_samples, history] (benchmarks/measure/soak.py)
    duration_s: float
