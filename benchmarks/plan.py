"""What a benchmark run measures: the matrix of each mode, and how long it should take.

The default matrix gives every claim in the report its evidence within 10 minutes on two
cores: five paired timed trials (wrk, ``measure/timed.py``) where a verdict's interval comes
from, fewer Locust trials where a figure only needs to exist. ``--full`` measures every /v1
scenario at every concurrency for both variants; ``beside`` adds a v2 scenario to any mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

from benchmarks.cpus import CpuSet
from benchmarks.results.vocabulary import SCENARIOS, VARIANTS, Mode, ScaleMode, Scenario, Variant
from benchmarks.targets import AA, APPS, RUN, serves

LEVELS = (1, 8, 32)
# The vocabulary's tuples hold exactly its Literals' values (get_args) but are typed tuple[str].
T = TypeVar("T")


def interleave(trials: int, items: Sequence[T]) -> list[tuple[int, T]]:
    """Return (trial, item) in run order: every item in turn, trial by trial (A B C A B C)."""
    return [(trial, item) for trial in range(trials) for item in items]


def rotate(items: Sequence[T], by: int) -> list[T]:
    """Return items rotated left ``by`` places (A B C, 1 -> B C A): trial t starts at item t."""
    if not items:
        return []
    by %= len(items)
    return [*items[by:], *items[:by]]


def balanced(items: Sequence[T], trial: int) -> list[T]:
    """Return the order of ``items`` in ``trial`` from a Williams design.

    Over n trials (2n for an odd n) every item comes first once and follows every other item
    exactly once (twice for an odd n): a rotation keeps the same neighbours trial after trial,
    so what one target leaves behind (a warm cache, a draining queue) would always fall on the
    same next target. Trial 0 keeps the given order's first item first.
    """
    n = len(items)
    if not n:
        return []
    sequence, low, high = [0], 1, n - 1
    while len(sequence) < n:
        sequence.append(low)
        low += 1
        if len(sequence) < n:
            sequence.append(high)
            high -= 1
    if n % 2 and (trial // n) % 2:
        sequence.reverse()
    return [items[(index + trial) % n] for index in sequence]


@dataclass(frozen=True)
class Setup:
    """Where things run in this run: its directory, CPUs, Locust processes, request bodies."""

    run_dir: Path
    server_cpus: CpuSet
    load_cpus: CpuSet
    locust_workers: int
    payloads_path: Path


@dataclass(frozen=True)
class Cell:
    """One thing to measure on every target: a variant, a scenario, a number of users."""

    variant: Variant
    scenario: Scenario
    users: int
    trials: int


@dataclass(frozen=True)
class TimedCell:
    """One cell of the timed comparison: wrk with ``connections`` against every timed target."""

    variant: Variant
    scenario: Scenario
    connections: int
    trials: int


@dataclass(frozen=True)
class WorkersPlan:
    """What measure.workers runs: memory of each app as gunicorn workers are added.

    One server per app, variant, preload and freeze setting starts with the fewest workers and
    gains the others one by one (gunicorn's SIGTTIN); ``rounds`` repeats the whole matrix, so the
    figures' spread between rounds says how noisy they are. A freeze setting of None leaves
    ``GUNICORN_GC_FREEZE`` unset: gunicorn.conf.py's default.
    """

    counts: tuple[int, ...]
    variants: tuple[Variant, ...] = VARIANTS
    preload: tuple[bool, ...] = (True,)
    freeze: tuple[bool | None, ...] = (False, True)
    rounds: int = 1
    # One-row predictions per worker and batch, batches until every worker served. A Django
    # worker's first full garbage collection, which copies the master's pages unless they are
    # frozen, came between its 100th and 200th request: 300 reach that steady state; 10 only
    # the first requests (within 1 MiB of 3,000 with gc.freeze(), the configured default).
    warmup_requests: int = 300

    @property
    def servers(self) -> int:
        """Return how many servers the plan starts, over all its rounds."""
        return self.rounds * len(APPS) * len(self.variants) * len(self.preload) * len(self.freeze)

    def estimate_s(self) -> float:
        """Return the expected wall time: start-up, then warming up and reading each count."""
        per_server = 4.0 + 1.5 * len(self.counts)
        # A one-row prediction takes about 4 ms with the light model and 15 ms with the heavy one
        # on one server CPU; every count sends warmup_requests to each of its workers.
        requests = self.warmup_requests * sum(self.counts)
        seconds = sum(per_server + requests * REQUEST_S[v] for v in self.variants)
        return self.rounds * len(APPS) * len(self.preload) * len(self.freeze) * seconds


REQUEST_S = {"light": 0.004, "heavy": 0.015}

# ``python -m benchmarks workers`` runs quick, default or full; ``run`` is the piece of the
# default ``python -m benchmarks run``, which has under 20 s left in its 10 minutes: the light
# model, the server settings as configured, the first requests (the command's plans compare
# the settings at the steady state).
# A mode of the workers and capacity measurements, as their records (Workers, CapacityResults)
# name it: a run's mode, or "run", the piece of the default run.
WORKERS: dict[ScaleMode, WorkersPlan] = {
    "quick": WorkersPlan((1, 2), variants=("light",), freeze=(None,), warmup_requests=10),
    "run": WorkersPlan((1, 2, 4), variants=("light",), freeze=(None,), warmup_requests=10),
    "default": WorkersPlan((1, 2, 4)),
    "full": WorkersPlan((1, 2, 4, 8), preload=(True, False), rounds=2),
}


@dataclass(frozen=True)
class PeersPlan:
    """What measure.peers runs: the apps and the peers, each with one server process.

    wrk loads every server in ``trials`` rounds of ``seconds`` (the order rotated each round, the
    A/A twin among them), after a discarded ``warmup_s`` each; each server is started
    ``startup_rounds`` more times for its start-up; callgrind counts windows of ``cost_requests``
    (n1, n2) one-row predictions after ``cost_warmup`` in one counted run of each server; each
    server's open-loop capacity at the p99 target is searched ``capacity_trials`` times (the
    run's search settings); each server is started ``worker_rounds`` times with one worker and
    with two, for the memory one more worker costs.
    """

    trials: int
    seconds: float
    warmup_s: float
    startup_rounds: int
    cost_requests: tuple[int, int]
    cost_warmup: int
    capacity_trials: int  # open-loop searches per server, paired, the twin among them
    worker_rounds: int = 2
    connections: int = 8


PEERS: dict[Mode, PeersPlan] = {
    "quick": PeersPlan(3, 1.0, 1.0, 3, (5, 25), 5, 0, worker_rounds=1),
    "default": PeersPlan(5, 2.0, 1.0, 3, (10, 110), 10, 3),
    "full": PeersPlan(10, 5.0, 2.0, 5, (20, 220), 20, 5, worker_rounds=3),
}


@dataclass(frozen=True)
class BatchingPlan:
    """What measure.batching runs: each app (and each peer that batches, when installed) with
    one worker, unbatched and with adaptive batching at each of ``sizes`` rows per call.

    Per variant, every configuration is started at once and searched ``trials`` times for its
    open-loop capacity at p99 <= 50 ms, in rotated order (the run's search settings, the first
    search from half a short wrk rate); before the searches, wrk with one connection for
    ``low_load_s`` gives each its median latency at one user. ``cost`` counts instructions per
    one-row prediction over the process tree (light model), batching off and at the largest size.
    """

    variants: tuple[Variant, ...]
    sizes: tuple[int, ...]  # maximum rows per model call, batching on
    trials: int
    low_load_s: float
    # MLAPI_BATCH_MAX_WAIT_MS, each a configuration of every size: 0 stacks only what already
    # waits. The first is the peers' (their least that batches: 1 ms).
    waits: tuple[float, ...] = (0.0,)
    cost: bool = True
    # The peers measured beside the apps, when installed: each unbatched, and those whose own
    # batching the benchmark turns on (MLServer, LitServe, BentoML) also at ``peer_size``.
    peers: tuple[str, ...] = ("fastapi", "mlserver", "litserve", "bentoml")
    peer_size: int = 16
    # The capacity search's resolution, if not the run's own (0.15): a finer one narrows every
    # gain's interval (each end is widened by it) for more steps per search.
    resolution: float | None = None


BATCHING: dict[Mode, BatchingPlan] = {
    "quick": BatchingPlan(("light",), (16,), 1, 1.0, cost=False, peers=()),
    "default": BatchingPlan(("light", "heavy"), (4, 16), 3, 2.0),
    "full": BatchingPlan(("light", "heavy"), (2, 4, 8, 16, 32, 64), 3, 5.0, waits=(0.0, 2.0)),
}


@dataclass(frozen=True)
class Plan:
    """Everything one mode runs."""

    mode: Mode | Literal["remote"]  # "remote": measure/remote.py's, which writes no results.json
    warmup_s: float
    measure_s: float
    cells: list[Cell]
    targets: tuple[str, ...] = (*RUN, AA)  # the run targets, and Flask again for the A/A check
    startup_samples: int = 4  # after one discarded cold start per target
    # The calibration cells: variant, scenario, users.
    calibrate: list[tuple[Variant, Scenario, int]] = field(default_factory=list)
    calibrate_s: float = 5.0
    locust_overhead_s: float = 1.0  # starting Locust and stopping it, measured here
    soak_s: float = 30.0  # per app, at 70% of capacity, one worker killed halfway
    overhead_budget_s: float = 1.0  # per case of measure.overhead (in process, per target)
    cost: Mode = "default"  # the plan of measure.cost (instructions under callgrind)
    cost_s: float = 180.0  # its expected wall time, both CPUs at once
    # The plan of measure.ladders: "static" (what each rung adds to the install and the code;
    # the verdicts use the instruction counts of the cost step), "default" or "full" (rungs
    # under load too), None (not measured).
    ladders: str | None = "static"
    ladders_s: float = 2.0  # its expected wall time
    # The capacity search of each app (measure.capacity, its "run" settings) on the run's own
    # light servers, in paired trials, and of the A/A twin where they pair (more than one):
    # about three short open-loop steps per search in the first, two or three in each later one
    # (they start near the first capacity), each its run time plus Locust's start and stop. ""
    # skips it (--no-capacity).
    capacity: ScaleMode | Literal[""] = "run"
    # Locust's start and stop: 0.7-1.2 s a step in the quick runs of 2026-12-05 (AMD EPYC, load
    # average 6-8 from neighbours); 6 s on a loaded Intel Xeon on 2026-12-01.
    capacity_step_s: float = 2.0 + 1.5
    capacity_steps: int = 3
    capacity_trials: int = 3  # paired searches per app: measure.capacity.SETTINGS["run"]'s
    capacity_later_steps: int = 3
    # The search's resolution, if not its settings' own (0.15, fine enough for the claim's
    # interval): the quick run's one search is a figure without an interval, one bisection.
    capacity_resolution: float | None = None
    workers: WorkersPlan = WORKERS["run"]  # memory as gunicorn workers are added
    # The timed comparison (measure.timed): wrk against the two apps and the A/A twin, paired
    # trial by trial; the verdicts' timed evidence. Not the baseline: no claim compares with it,
    # and the Locust phases and the wrk calibration measure it already.
    timed: list[TimedCell] = field(default_factory=list)
    timed_targets: tuple[str, ...] = (*APPS, AA)
    timed_s: float = 2.0  # wrk's run per trial, whole seconds (wrk's --duration)
    timed_warmup_s: float = 1.0  # once per cell and target, discarded
    # Per wrk call besides its run time: starting it, connecting, reading the CPU times.
    timed_overhead_s: float = 0.1  # measured here: under 0.05 s on a loaded 2-core machine

    @property
    def variants(self) -> list[Variant]:
        """Return the variants measured (by Locust or timed), light first."""
        found = {cell.variant for cell in self.cells} | {cell.variant for cell in self.timed}
        return sorted(found, key=VARIANTS.index)

    def phases(self) -> list[tuple[int, Cell, str]]:
        """Return (trial, cell, target) in run order.

        Trial by trial, every cell in the plan's order (light and heavy cells alternate there),
        every target in turn, the targets in the order of a Williams design (``balanced``), so
        no target always runs first or always follows the same one. The A/A twin
        runs the first cell's variant and scenario (what its check compares), at every number
        of users; the other cells are measured on the distinct targets only.
        """
        return [
            (trial, cell, target)
            for trial, cell in interleave(max(cell.trials for cell in self.cells), self.cells)
            if trial < cell.trials
            for target in balanced(self.measuring(cell), trial)
        ]

    def measuring(self, cell: Cell) -> tuple[str, ...]:
        """Return the targets that measure a cell: those of the run that serve its scenario."""
        first = self.cells[0]
        if (cell.variant, cell.scenario) == (first.variant, first.scenario):
            chosen = self.targets
        else:
            chosen = self.distinct
        return tuple(name for name in chosen if serves(name, cell.scenario))

    def calibrating(self, scenario: str) -> tuple[str, ...]:
        """Return the targets a calibration cell of ``scenario`` measures with wrk."""
        return tuple(name for name in self.distinct if serves(name, scenario))

    @property
    def distinct(self) -> tuple[str, ...]:
        """Return the targets without the A/A twin: what start-up, calibration and the in-process
        split measure."""
        return tuple(name for name in self.targets if name != AA)

    def timed_trials(self) -> list[tuple[int, TimedCell, str]]:
        """Return (trial, timed cell, target) in run order.

        As ``phases``: trial by trial, every timed cell (light and heavy alternate), every timed
        target in the order of a Williams design. Every target, the A/A twin included, measures
        every timed cell, so trial t of each target of a cell ran back to back and the trials pair.
        """
        if not self.timed:
            return []
        return [
            (trial, cell, target)
            for trial, cell in interleave(max(cell.trials for cell in self.timed), self.timed)
            if trial < cell.trials
            for target in balanced(self.timed_targets, trial)
        ]

    def timed_warmups(self) -> list[tuple[TimedCell, str]]:
        """Return (timed cell, target): each target's discarded warm-up, once per cell."""
        return [(cell, name) for cell in self.timed for name in self.timed_targets]

    def timed_estimate_s(self) -> float:
        """Return the expected wall time of the timed comparison: warm-ups, then every trial."""
        warmups = len(self.timed_warmups()) * (self.timed_warmup_s + self.timed_overhead_s)
        return warmups + len(self.timed_trials()) * (self.timed_s + self.timed_overhead_s)

    def phase_seconds(self) -> float:
        """Return the expected wall time of one Locust phase."""
        return self.warmup_s + self.measure_s + self.locust_overhead_s

    def estimate_s(self) -> float:
        """Return the expected wall time of the whole run."""
        phases = len(self.phases())
        calibration = sum(len(self.calibrating(s)) for _, s, _ in self.calibrate) * (
            self.calibrate_s + 1.5
        )
        # Measured here (an Intel Xeon @ 2.00GHz): about 4.5 s a start-up sample, 15 s to start
        # every target's server of one variant.
        startup = (self.startup_samples + 1) * len(self.distinct) * 4.5
        servers = len(self.variants) * 15.0
        return (
            phases * self.phase_seconds()
            + calibration
            + startup
            + servers
            + 10.0
            + self.overhead_estimate_s()
            + self.cost_s
            + (self.ladders_s if self.ladders else 0.0)
            + self.soak_estimate_s()
            + self.capacity_estimate_s()
            + self.workers.estimate_s()
            + self.timed_estimate_s()
        )

    def capacity_estimate_s(self) -> float:
        """Return the expected wall time of the capacity search of both apps and, in paired
        trials, of the A/A twin (0 without it)."""
        if not self.capacity:
            return 0.0
        steps = self.capacity_steps + (self.capacity_trials - 1) * self.capacity_later_steps
        searched = len(APPS) + (1 if self.capacity_trials > 1 else 0)
        return searched * steps * self.capacity_step_s

    def overhead_estimate_s(self) -> float:
        """Return the expected wall time of the in-process cost split of every target."""
        # Five timed cases per target (each its budget plus calibration), and the imports.
        return len(self.distinct) * (5 * (self.overhead_budget_s + 0.3) + 3.0)

    def soak_estimate_s(self) -> float:
        """Return the expected wall time of the soak of both apps (0 s: no soak)."""
        return 2 * (self.soak_s + 8.0) if self.soak_s else 0.0


CALIBRATED: tuple[Scenario, ...] = ("predict_one", "health")  # what --full checks with wrk
# The scenarios a run can be pointed at (``run --scenario``), each with the /v1 scenario it is
# measured beside: the Open Inference Protocol's one row and batch. No mode measures them
# unless asked, --full included (its matrix of /v1 scenarios is over an hour already).
BESIDE: dict[Scenario, Scenario] = {"v2_one": "predict_one", "v2_batch": "predict_batch"}


# Every mode's plan, as data: what ``build`` returns and the progress bar's one estimate reads.
PLANS: dict[str, Plan] = {
    "quick": Plan(
        "quick",
        warmup_s=1.0,
        measure_s=2.0,
        cells=[
            Cell("light", "predict_one", 8, 1),
            Cell("heavy", "predict_one", 8, 1),
            Cell("light", "health", 8, 1),
        ],
        startup_samples=1,
        calibrate=[("light", "predict_one", 8)],
        calibrate_s=1.0,
        # Three trials: the fewest that pair into an interval (analysis.decision.MIN_TRIALS).
        timed=[TimedCell("light", "predict_one", 8, 3)],
        timed_s=1.0,
        soak_s=3.0,
        overhead_budget_s=0.05,
        cost="quick",
        cost_s=90.0,
        ladders="static",  # what each rung adds to the install and the code (no load)
        workers=WORKERS["quick"],
        capacity_trials=1,  # one search per app: a quick run's figure, no interval
        capacity_resolution=0.5,
    ),
    # The two compared cells get five paired timed trials each (the decision rule's intervals),
    # light and heavy alternating. Locust, whose one load CPU bounds what it can send, gives the
    # report its latency and throughput tables and decides nothing: two trials of the compared
    # cells, one of the others.
    "default": Plan(
        "default",
        warmup_s=1.0,
        measure_s=2.0,
        cells=[
            Cell("light", "predict_one", 8, 2),
            Cell("heavy", "predict_one", 8, 2),
            Cell("light", "health", 8, 1),
            Cell("light", "predict_batch", 8, 1),
            Cell("light", "invalid", 8, 1),
        ],
        calibrate=[("light", "predict_one", 8)],
        calibrate_s=4.0,
        timed=[
            TimedCell("light", "predict_one", 8, 5),
            TimedCell("heavy", "predict_one", 8, 5),
        ],
        startup_samples=2,
        # No soak: its own command (python -m benchmarks soak) runs it for minutes, and the
        # run's 10 minutes hold the ladders, the capacity search and the workers instead.
        soak_s=0.0,
        overhead_budget_s=0.2,
        # With the ladders' rungs: 231 s measured on a loaded Intel Xeon (2026-12-01,
        # docs/results.md), 53 s in both default runs of 2026-12-05 (AMD EPYC).
        cost_s=200.0,
    ),
    "full": Plan(
        "full",
        warmup_s=3.0,
        measure_s=10.0,
        cells=[
            Cell(variant, scenario, users, 5)
            for scenario in SCENARIOS
            if scenario not in BESIDE
            for users in LEVELS
            for variant in VARIANTS
        ],
        startup_samples=5,
        soak_s=180.0,
        calibrate=[(v, s, u) for v in VARIANTS for s in CALIBRATED for u in LEVELS],
        calibrate_s=8.0,
        timed=[TimedCell(v, "predict_one", 8, 10) for v in VARIANTS],
        timed_s=5.0,
        overhead_budget_s=3.0,
        ladders="full",
        cost="full",  # the ladders' start-ups counted too
        cost_s=900.0,
        ladders_s=16 * (2 + 5 * 6.5) + 40,
        workers=WORKERS["full"],
    ),
}


def beside(the_plan: Plan, scenario: Scenario) -> Plan:
    """Return the plan with ``scenario`` also measured wherever its /v1 twin is (``BESIDE``).

    Each Locust cell and wrk calibration cell of the twin gets one of ``scenario`` at the same
    variant, users and trials, right after it: the two protocols run back to back, on the same
    servers, on the targets that serve both. The claims read /v1's cells and are unchanged; the
    timed comparison (their paired evidence) is not repeated. A cell the plan has already is not
    added twice.
    """
    twin = BESIDE[scenario]
    cells: list[Cell] = []
    for cell in the_plan.cells:
        cells.append(cell)
        added = replace(cell, scenario=scenario)
        if cell.scenario == twin and added not in the_plan.cells:
            cells.append(added)
    calibrate: list[tuple[Variant, Scenario, int]] = []
    for variant, name, users in the_plan.calibrate:
        calibrate.append((variant, name, users))
        if name == twin and (variant, scenario, users) not in the_plan.calibrate:
            calibrate.append((variant, scenario, users))
    return replace(the_plan, cells=cells, calibrate=calibrate)


def build(mode: str, scenario: Scenario | None = None) -> Plan:
    """Return the plan of a mode: quick, default or full; with ``scenario`` measured beside its
    /v1 twin, if given."""
    if mode not in PLANS:
        raise ValueError(f"unknown mode {mode!r}")
    return beside(PLANS[mode], scenario) if scenario else PLANS[mode]
