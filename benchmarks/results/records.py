"""The records a benchmark run is made of, and the vocabulary they share.

Each record is a ``TypedDict``: mypy checks every producer that builds one and every reader that
takes one, pydantic validates a whole file of them (``store``), and the JSON Schema exported from
the same classes documents ``results.json`` for readers outside Python. A record stays a plain
dict of JSON values, so what a run saves is exactly what the report and ``judge`` read back.
"""

from __future__ import annotations

from typing import Literal, NotRequired

# pydantic needs typing_extensions' TypedDict before Python 3.12 to read the classes' fields.
from typing_extensions import TypedDict

from benchmarks.results.batching import Batching
from benchmarks.results.peers import Peers
from benchmarks.results.remote import Remote
from benchmarks.results.scaling import CapacityResults, Soak, Workers
from benchmarks.results.vocabulary import (
    Basis,
    Cell,
    Command,
    Framework,
    Latency,
    LocustError,
    Mode,
    Parity,
    Scenario,
    Target,
    TargetKind,
    Variant,
    Verdict,
)


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
    errors: list[LocustError]
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


class TimedTrial(TypedDict):
    """One trial of the timed comparison: wrk against one target for one cell (measure/timed.py).

    The verdicts' timed evidence: trial t of every target of a cell ran back to back, the A/A
    twin among them, so trials pair; wrk stays far below its own limit where Locust would not.
    """

    target: Target
    variant: Variant
    scenario: Scenario
    connections: int
    trial: int
    seconds: float  # wrk's own measured duration
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    rps: float  # successful requests per second
    latency_ms_p50: float
    latency_ms_p99: float
    server_cpu_us_per_request: float  # CPU of the gunicorn tree over the trial / requests
    server_cpu_util: float  # that CPU over the trial's wall time, per server CPU: ~1 saturated
    generator_cpu_util: float  # wrk's CPU over the trial, as a share of the CPUs it may use
    load_cpus_busy: float  # how busy the load CPUs were, by anything (wrk included)
    generator_bound: bool  # generator_cpu_util at or above the run's threshold (config)


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
    generator_limited: bool  # locust_to_wrk below the run's threshold (config)


class Startup(TypedDict):
    """Seconds from starting gunicorn to the first 200 from /health/ready."""

    seconds: list[float]
    median: float


class Overhead(TypedDict):
    """One target's in-process costs, microseconds of CPU per call (measure/overhead.py)."""

    target: Target
    health_us: float
    predict_us: float
    model_in_request_us: float
    model_alone_us: float
    predict_canned_us: float
    envelope_us: float | None  # None for the baseline, which has no envelope check of its own


class CostRow(TypedDict):
    """Instructions one request executes, counted by callgrind (measure/cost.py)."""

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
    mode: Mode  # the cost plan
    requests: dict[str, int]  # requests counted per scenario (predict_one_heavy: heavy model)
    warmup_requests: int
    gc: str  # how garbage collection is accounted
    metrics: NotRequired[str]  # how the apps' /metrics recording ran (runs after 2026-12-05)
    rows: list[CostRow]
    startup: dict[str, int]  # target -> instructions from the shared stack to the app ready
    seconds: float


class ThroughputTrial(TypedDict):
    """One wrk phase of one target (``measure/throughput.py``)."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float  # the server's process tree (nginx's too, through the proxy)


class ThroughputSummary(TypedDict):
    """A target's medians over its trials, its range, and its memory after them."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: float  # a median: between two counts with an even number of trials
    cpu_us_per_request: float
    rps_min: float
    rps_max: float
    pss_mib: NotRequired[float]  # master and workers, once every trial was served
    pss_mib_workers: NotRequired[list[float]]


class Throughput(TypedDict):
    """wrk against several targets, interleaved trial by trial (``benchmarks throughput``)."""

    scenario: str  # a wrk scenario (load/wrk.py)
    variant: Variant
    trials: int
    seconds: float
    connections: int
    server_cpus: str
    load_cpus: str
    runs: dict[str, list[ThroughputTrial]]  # target (or target+nginx) -> its trials
    summary: dict[str, ThroughputSummary]


class Rung(TypedDict):
    """One rung of a framework's ladder and what it adds (measure/ladders.py)."""

    framework: Framework
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
    load: Throughput | None  # the rungs under load (``ladders`` command, ``--full`` run)


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
    """One security property probed on every app, and the risk it covers (measure/security.py)."""

    check: str  # e.g. "X-Frame-Options header", "Host header validated"
    # The requirement it verifies (an OWASP ASVS 4.0.3 id or an item of Django's deployment
    # checklist) and the risk in a few words, e.g. "ASVS V14.4.7: framing by another site ..."
    risk: str
    result: dict[str, str]  # app name -> what was observed, e.g. {"flask-default": "absent"}
    passed: dict[str, bool | None]  # None: the check does not apply to that app


class Claim(TypedDict):
    """A common claim about the two frameworks, tested against this run's figures.

    The report's claims table shows the sentence, the verdict, the figure and the interval; the
    question, the rule and the reason go to its methodology.
    """

    id: str
    claim: str  # the claim in a few words, e.g. "Flask is lighter"
    sentence: str  # the article's own words (quoted), or the claim as commonly made
    source: str  # where the sentence is quoted from (a URL); "" where it is not a quotation
    question: str  # what this benchmark measures to answer it
    basis: Basis
    verdict: Verdict
    figure: str  # the figure that decides, in a few words
    # The same as a ratio, the claim's way up: above 1 + the minimum effect the figure points the
    # claim's way (for "a heavy model dominates", within the minimum effect of 1 does); None where
    # the claim has no single deciding ratio.
    ratio: float | None
    ratio_label: str  # what the ratio is, e.g. "Django/Flask instructions, light model"
    interval: str  # its interval in a few words ("" for a deterministic figure)
    timed: Interval | None  # the timed interval beside it, oriented as ``interval`` says
    timed_label: str  # what that interval is a ratio of ("" without one)
    flask: str  # Flask's figures in words
    django: str  # Django's figures in words
    reason: str  # why the figures give this verdict
    rule: str  # the rule that turned them into the verdict


class Interval(TypedDict):
    """A confidence interval of a ratio, from paired trials (analysis/decision.py)."""

    estimate: float
    low: float
    high: float
    trials: int


class AACheck(TypedDict):
    """The Flask app measured twice in one timed cell, as two targets: that cell's noise.

    Timed evidence of the cell decides only when this pair is not told apart (its interval holds
    1), and only beyond how far the interval reaches from 1 (``analysis/decision.py``).
    """

    target: str  # the twin's name
    variant: Variant
    scenario: Scenario
    level: int  # wrk's connections (timed trials) or Locust's users (phases)
    source: Literal["timed", "phases"]  # which measurement the pair comes from
    ratios: list[float]  # flask / twin req/s, trial by trial
    interval: Interval | None  # None below the rule's minimum of paired trials
    noise_floor: float | None  # how far the interval reaches from 1
    differs: bool  # the interval excludes 1: timing decides nothing in this cell


class Rule(TypedDict):
    """The decision rule a run's verdicts followed: its version and its constants (its words are
    ``Results.decision_rule``).

    ``judge`` re-derives every verdict with the current rule and says where it differs; a
    different version or constant explains a changed verdict before any figure does.
    """

    version: int
    constants: dict[str, float]  # name -> value: thresholds, confidence, seed, minimum trials


class TargetFacts(TypedDict):
    """What the registry says of one target (``benchmarks.targets``)."""

    kind: TargetKind
    framework: Framework | None  # None for the bare WSGI baseline
    app: str | None  # the product app it serves or builds on (the twin's, a rung's reference)
    floor: str | None  # an app's framework floor
    rung: int | None  # its place on its framework's ladder, from the floor (0) up
    feature: str | None  # what its rung adds (targets.FEATURES)
    extension: str | None  # the third-party distribution that rung needs, if any


class ProbeAnswer(TypedDict):
    """How one app answered one hostile-input probe."""

    status: int
    code: str  # the contract's error code, "" or "not JSON"


class ProbeRecord(TypedDict):
    """One hostile-input probe and every app's answer (load/probes.py)."""

    probe: str
    method: str
    path: str
    answers: dict[str, ProbeAnswer]


class Reliability(TypedDict):
    """What the run saw of bad input and, where it soaked, of a killed worker."""

    inputs: NotRequired[list[ProbeRecord]]  # absent where only the soak ran (soak)
    soak: list[Soak]
    soak_s: NotRequired[float]
    soak_fraction: NotRequired[float]  # of each app's capacity, where the soak command set it


class Gunicorn(TypedDict):
    """The gunicorn settings every target ran with, as the servers resolved them."""

    workers: int | None
    worker_class: str | None
    threads: int | None
    keepalive: int | None
    timeout: int | None
    graceful_timeout: int | None
    max_requests: int | None
    accesslog: str | None
    preload_app: bool | None
    gc_freeze: bool | None


class Lock(TypedDict):
    """The lock file the environment was installed from (measure/environment.py)."""

    file: str
    sha256: NotRequired[str]
    matches: NotRequired[bool]
    differs: NotRequired[dict[str, str]]  # distribution -> how it differs from the lock


class Environment(TypedDict):
    """The machine and software a run measured on."""

    cpu_model: str
    cores: int | None
    server_cpus: str
    load_cpus: str
    locust_workers: int
    os: str
    python: str
    libraries: dict[str, str]  # distribution -> version ("not installed")
    wrk: str
    git_commit: str  # "+uncommitted changes" appended where the work tree differed
    gunicorn: Gunicorn
    models: dict[str, str]  # variant -> the artifact's sha256
    lock: Lock
    date: str


class CalibrationCell(TypedDict):
    """One cell the plan measured with wrk too."""

    variant: Variant
    scenario: Scenario
    users: int


class TimedCell(TypedDict):
    """One cell of the timed comparison (plan.TimedCell)."""

    variant: Variant
    scenario: Scenario
    connections: int
    trials: int


class TimedConfig(TypedDict):
    """How the timed comparison measured (measure/timed.py)."""

    tool: str
    targets: list[str]  # every one measures every cell, the A/A twin included
    cells: list[TimedCell]
    seconds: float  # wrk's run per trial
    warmup_s: float  # once per cell and target, discarded
    threads: int  # wrk's
    generator_cpus: int  # the CPUs wrk may use: its threads, at most the load CPUs
    server_slots: int  # requests the server serves at once: gunicorn workers x threads
    generator_bound_threshold: float  # of TimedTrial.generator_cpu_util
    interleaving: str


class Config(TypedDict):
    """How the run measured: its plan and the settings of its tools."""

    warmup_s: float
    measure_s: float
    targets: list[str]
    cells: list[Cell]
    calibrate: list[CalibrationCell]  # what wrk measured besides Locust
    calibrate_s: float
    startup_samples: int
    overhead_budget_s: float
    locust_workers: int
    locust_user: str
    interleaving: str
    generator_bound_threshold: float
    locust_stop_timeout_s: float
    memory_sample_interval_s: float
    runner_cpus: str
    timed: NotRequired[TimedConfig]  # absent where the plan times nothing (remote)


class Results(TypedDict):
    """Everything one run measured: all of it (``run``), or one command's part.

    ``command`` says which command wrote the file. Every key a ``run`` writes is there after a
    run; another command writes the keys every run has (its identity, environment, the
    registry's facts, the rule and the verdicts, which are none) and its own measurement.
    """

    schema_version: int
    run_id: str  # UTC timestamp, e.g. 20261125T081500Z
    command: Command
    mode: Mode
    note: NotRequired[str]  # made-up results (tests' samples) say so, and the report shows it
    environment: Environment
    config: NotRequired[Config]  # the run's plan (run only)
    targets: dict[str, TargetFacts]  # every registered target, the run's and the others
    parity: NotRequired[Parity]
    phases: NotRequired[list[Phase]]
    timed: NotRequired[list[TimedTrial]]  # absent where the plan times nothing
    calibration: NotRequired[list[Calibration]]
    startup: NotRequired[dict[str, Startup]]
    overhead: NotRequired[list[Overhead]]  # absent where not measured
    cost: NotRequired[Cost]  # absent with --no-cost
    ladders: NotRequired[Ladders]
    capacity: NotRequired[CapacityResults]  # absent with --no-capacity
    workers: NotRequired[Workers]  # absent with --no-workers
    remote: NotRequired[Remote]  # the remote command's deployments
    peers: NotRequired[Peers]  # the peers command's apps and serving frameworks
    batching: NotRequired[Batching]  # the batching command's configurations
    loc: NotRequired[dict[str, LinesOfCode]]
    dependencies: NotRequired[dict[str, Dependencies]]
    framework_footprint: NotRequired[dict[str, Dependencies]]  # the framework alone
    security: NotRequired[list[SecurityCheck]]
    claims: list[Claim]  # none where the command measured no claim's evidence
    decision_rule: str  # the rule every verdict followed, in words (analysis/decision.py)
    rule: Rule
    aa: list[AACheck]  # one per timed cell with the twin measured beside Flask
    reliability: NotRequired[Reliability]
    duration_s: float
