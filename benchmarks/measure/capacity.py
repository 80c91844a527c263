"""Capacity: the highest offered load an app serves with its p99 under a latency target.

    python -m benchmarks capacity                     # both apps, 3 paired trials, 1 and 2 workers
    python -m benchmarks capacity --quick             # one search per app, one worker
    python -m benchmarks capacity --full              # 5 trials; workers 1, 2, 4... <= server CPUs
    python -m benchmarks capacity --latency-ms 100 --vcpu-hour-usd 0.04 --json cap.json

Load is open-loop (``benchmarks.load.openloop``): requests arrive as a Poisson process at the
offered rate and each latency runs from the request's intended send time, so queueing shows. Each
step is one short open-loop phase at one rate; a step passes when its p99 is at most the target
and no request failed or went unanswered. The search starts low and multiplies the rate by
``growth`` while steps pass; once one fails it bisects (geometric midpoints) between the highest
passing and the lowest failing rate until they are within ``resolution`` of each other. The
capacity is the highest passing rate: the true one lies below the lowest failing rate.

Above the capacity, a couple of steps show overload (p99 growth, timeouts, failures); one step
at the capacity goes through nginx. Cost per million predictions at the capacity: the server's
CPU seconds per million requests (its process tree's CPU time over the step's window, read by
Locust at the window's edges), and that in money at a price per vCPU-hour, an assumption the
user sets (``--vcpu-hour-usd``).

The apps are searched trial by trial in rotated order (flask django, django flask, ...), so the
capacities pair up like the run's other timed figures (``benchmarks.analysis.decision``). Where
the trials pair (more than one), the A/A twin (``benchmarks.targets.AA``: the Flask app under a
second name) is searched too, in the same rotation (flask django twin, django twin flask, ...),
at the first worker count: its capacity against Flask's, trial by trial, is the measurement's own
A/A check, the gate under which the claim "scales" lets the Flask/Django capacities decide.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.load import openloop
from benchmarks.measure.capacity_search import cost, search
from benchmarks.measure.phases import GENERATOR_BOUND, window_figures
from benchmarks.plan import Setup, rotate
from benchmarks.results.scaling import CapacityResults, CapacitySearch, CapacityStep
from benchmarks.results.vocabulary import ScaleMode, Scenario, Variant
from benchmarks.serving import gunicorn, nginx
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import cpu_seconds, pinned
from benchmarks.targets import AA, APPS

LATENCY_MS = 50.0  # the default p99 target
# The default price of one vCPU for an hour, in US dollars: an assumption, not a quote. It is
# about the on-demand list price of a general-purpose x86 cloud instance (for example an AWS
# m7i.large, 2 vCPUs, at about $0.10 an hour in us-east-1 on Linux) when this was written; prices
# differ by provider, region, commitment and year. Set your own with --vcpu-hour-usd.
VCPU_HOUR_USD = 0.05
PRICE_SOURCE = (
    "assumed: about the on-demand price of a general-purpose x86 cloud vCPU (e.g. AWS "
    "m7i.large, 2 vCPUs at about $0.10/h in us-east-1); set your own with --vcpu-hour-usd"
)
SCENARIO: Scenario = "predict_one"
VARIANT: Variant = "light"
ARRIVAL = "poisson"


@dataclass(frozen=True)
class Settings:
    """How one mode searches: trials, the search's steps, and what it measures besides."""

    mode: ScaleMode
    trials: int = 3
    start_rps: float = 100.0
    growth: float = 2.0
    resolution: float = 0.10  # stop bisecting once failing/passing <= 1 + resolution
    warmup_s: float = 1.0  # covers Locust's own start, when its sends run late
    step_s: int = 3  # Locust's run time per step, whole seconds (warm-up included)
    max_steps: int = 14
    overload: tuple[float, ...] = (1.5, 2.0)  # offered load as multiples of the capacity
    proxied: bool = True  # one step at the capacity through nginx
    workers: str = "1,2"  # worker counts, or "sweep": 1, 2, 4... up to the server's CPUs
    step_overhead_s: float = 2.0  # starting and stopping Locust, measured here (a loaded machine)
    scenario: Scenario = SCENARIO
    arrival: str = ARRIVAL  # the tests use "constant", whose capacity a fixed sleep bounds

    def searches_twin(self) -> bool:
        """Return whether the A/A twin is searched beside the apps: only paired trials (more
        than one) give its capacities an interval against Flask's."""
        return self.trials > 1

    def measure_share(self) -> float:
        """Return the share of a step's run time that its window counts (after the warm-up)."""
        return (self.step_s - self.warmup_s) / self.step_s

    def step_seconds(self) -> float:
        """Return the expected wall time of one step."""
        return self.step_s + self.step_overhead_s

    def estimate_s(self, apps: int = 2, server_cpus: int = 1) -> float:
        """Return the expected wall time of the whole measurement."""
        first = 6 + math.ceil(math.log2(math.log(2) / math.log(1 + self.resolution)))
        later = 4
        counts = worker_counts(server_cpus, self.workers)
        searches = first + (self.trials - 1) * later + (len(counts) - 1) * later
        extra = len(self.overload) + (1 if self.proxied else 0)
        servers = len(counts) * 3.0
        total = apps * ((searches + extra) * self.step_seconds() + servers)
        if self.searches_twin():
            # The twin is searched at the first worker count only, in the same trials.
            total += (first + (self.trials - 1) * later) * self.step_seconds() + 3.0
        return total


# "run" is the piece ``python -m benchmarks run`` measures on its own servers: three paired
# searches per app and of the twin (the fewest the claim "scales" and its A/A check decide on,
# analysis.decision.MIN_TRIALS). The first starts at half the closed-loop throughput the run
# measured, so its first step passes and its second (the closed-loop throughput itself, offered
# open-loop) fails; three bisections then leave the capacity within 15%, fine enough that the
# claim's widened interval can decide (at 45% it spanned 0.5-2.0x). The later ones start at 0.8
# of the first capacity and grow by 1.25, then bisect once: three or four steps.
SETTINGS: dict[ScaleMode, Settings] = {
    "run": Settings(
        "run",
        trials=3,
        resolution=0.15,
        overload=(),
        proxied=False,
        workers="1",
        # Bounded by the run's 10 minutes; a later search that starts low on a machine grown
        # quieter needs the room to climb (at 6, a default run's third searches were capped).
        max_steps=8,
        warmup_s=0.5,
        step_s=2,
    ),
    "quick": Settings(
        "quick", trials=1, resolution=0.2, overload=(2.0,), proxied=False, workers="1"
    ),
    "default": Settings("default"),
    "full": Settings("full", trials=5, step_s=5, workers="sweep"),
}


def worker_counts(server_cpus: int, workers: str = "sweep") -> list[int]:
    """Return the worker counts to measure: 1, 2, 4... up to the server's CPUs (at least 1, 2).

    Two workers are measured even on one server CPU: that they add nothing there is the point.
    """
    if workers != "sweep":
        return [int(w) for w in workers.split(",")]
    counts, count = [], 1
    while count <= max(server_cpus, 2):
        counts.append(count)
        count *= 2
    return counts


# -- one step ----------------------------------------------------------------------------------


def passes(step: CapacityStep, latency_ms: float) -> bool:
    """Return whether a step met the target: p99 within it, nothing failed or went unanswered."""
    return (
        step["requests"] > 0
        and step["failures"] == 0
        and step["unanswered"] == 0
        and step["latency_ms"]["p99"] <= latency_ms
    )


def late(step: CapacityStep, latency_ms: float) -> bool:
    """Return whether the generator's own sending lag could explain a failed step."""
    return step["failures"] == 0 and step["send_lag_ms_p99"] > latency_ms / 2


def step_figures(
    rate: float,
    summary: dict[str, Any],
    schedule: dict[str, Any],
    window: dict[str, Any],
    latency_ms: float,
) -> CapacityStep:
    """Combine one open-loop phase's Locust summary, schedule and window into a step."""
    total = summary["total"]
    requests, failures = total["requests"], total["failures"]
    utilisation = max(window["generator_cpu_util_by_process"].values(), default=0.0)
    step: CapacityStep = {
        "offered_rps": rate,
        "rps": (requests - failures) / summary["seconds"] if summary["seconds"] else 0.0,
        "seconds": summary["seconds"],
        "requests": requests,
        "failures": failures,
        "unanswered": schedule["unanswered"],
        "errors": [f"{e['error']} ({e['count']})" for e in summary["errors"]],
        "latency_ms": total["latency_ms"],
        "send_lag_ms_p99": schedule["lag_ms_p99"],
        "most_in_flight": schedule["most_in_flight"],
        "server_cpu_s": window["server_cpu_s"],
        "cpu_s_per_million": window["server_cpu_s"] / max(requests, 1) * 1e6,
        "generator_cpu_util": utilisation,
        "generator_bound": max(utilisation, window["load_cpus_busy"]) >= GENERATOR_BOUND,
        "passed": False,
    }
    step["passed"] = passes(step, latency_ms)
    return step


def run_step(
    setup: Setup,
    url: str,
    server_pid: int,
    rate: float,
    workdir: Path,
    settings: Settings,
    latency_ms: float,
    extra_pids: Sequence[int] = (),
) -> CapacityStep:
    """Offer ``rate`` requests a second, open-loop, for one short phase; return the step.

    ``extra_pids`` (nginx) have their CPU read by the runner around the phase and added.
    """
    workdir.mkdir(parents=True)
    timing = (settings.warmup_s, settings.step_s)
    with pinned(setup.load_cpus):
        before = cpu_seconds(extra_pids)
        line = openloop.command(
            setup,
            url,
            settings.scenario,
            workdir,
            timing,
            rate,
            arrival=settings.arrival,
            server_pid=server_pid,
        )
        phase = openloop.Phase(line, workdir, timing[1])
        phase.wait_measuring()
        phase.wait_stopped()
        phase.wait_done()
        extra = cpu_seconds(extra_pids) - before
    summary = next(s for s in phase.summaries() if "total" in s)
    schedule = json.loads(next(workdir.glob("openloop-*.json")).read_text())
    window = window_figures(phase.edges())
    if extra_pids:
        # Read around the whole phase, warm-up included: scaled to the window's share of it.
        window["server_cpu_s"] += extra * settings.measure_share()
    return step_figures(rate, summary, schedule, window, latency_ms)


def search_app(
    setup: Setup,
    server: Server,
    app: str,
    workers: int,
    trial: int,
    settings: Settings,
    latency_ms: float,
    vcpu_hour_usd: float,
    start_rps: float,
    growth: float,
) -> CapacitySearch:
    """Search one app's capacity once; return it with its cost."""
    label = f"capacity-{app}-w{workers}-t{trial}"
    count = [0]

    def measure(rate: float) -> CapacityStep:
        count[0] += 1
        workdir = setup.run_dir / "raw" / label / f"step{count[0]:02d}-{rate:.0f}"
        step = run_step(setup, server.url, server.pid, rate, workdir, settings, latency_ms)
        if not step["passed"] and late(step, latency_ms):
            # The generator itself sent late (its CPU was taken): not the server's doing. The
            # step is measured once more and the second figure stands, the first kept beside it.
            again = run_step(
                setup, server.url, server.pid, rate, workdir / "again", settings, latency_ms
            )
            again["retried"] = [step]
            return again
        return step

    found = search(
        measure,
        start_rps=start_rps,
        growth=growth,
        resolution=settings.resolution,
        max_steps=settings.max_steps,
    )
    at = [s for s in found["steps"] if s["passed"] and s["offered_rps"] == found["capacity_rps"]]
    best = at[-1] if at else None
    server_cpus = len(setup.server_cpus)
    per_million = best["cpu_s_per_million"] if best else None
    return {
        "app": app,
        "workers": workers,
        "trial": trial,
        "capacity_rps": found["capacity_rps"],
        "failed_at_rps": found["failed_at_rps"],
        "capped": found["capped"],
        "p99_ms_at_capacity": best["latency_ms"]["p99"] if best else None,
        "cpu_s_per_million": per_million,
        **cost(per_million, found["capacity_rps"], server_cpus, vcpu_hour_usd),
        "steps": found["steps"],
    }


# -- a whole measurement -----------------------------------------------------------------------


def measure_apps(
    setup: Setup,
    settings: Settings,
    *,
    apps: Sequence[str] = APPS,
    latency_ms: float = LATENCY_MS,
    vcpu_hour_usd: float = VCPU_HOUR_USD,
    servers: dict[str, Server] | None = None,
    start_rps: dict[str, float] | None = None,
) -> CapacityResults:
    """Search each app's capacity in paired, rotated trials; then overload, nginx and workers.

    Where the trials pair and Flask is among the apps, the A/A twin is searched in the same
    trials at the first worker count (no overload, nginx or other worker counts of its own).
    ``servers`` (app -> a running server, the twin's included where it is searched) are used as
    they are for the first worker count, as the run does with its own servers; otherwise each
    app is started here, on the server CPUs. ``start_rps`` (app -> rate) starts each app's first
    search there instead of at the settings' start, e.g. at half the closed-loop throughput the
    run already measured; the twin, being Flask, starts where Flask does unless given its own.
    """
    started_at = time.monotonic()
    server_cpus = len(setup.server_cpus)
    counts = worker_counts(server_cpus, settings.workers)
    results: CapacityResults = {
        "mode": settings.mode,
        "scenario": SCENARIO,
        "variant": VARIANT,
        "arrival": settings.arrival,
        "latency_ms": latency_ms,
        "vcpu_hour_usd": vcpu_hour_usd,
        "price_source": PRICE_SOURCE,
        "server_cpus": str(setup.server_cpus),
        "load_cpus": str(setup.load_cpus),
        "worker_counts": counts,
        "trials": settings.trials,
        "resolution": settings.resolution,
        "growth": settings.growth,
        "step_s": settings.step_s,
        "warmup_s": settings.warmup_s,
        "timeout_s": openloop.TIMEOUT_S,
        "max_in_flight": openloop.MAX_IN_FLIGHT,
        "searches": [],
        "overload": [],
        "proxied": [],
        "duration_s": 0.0,
    }
    twin = (AA,) if settings.searches_twin() and "flask" in apps else ()
    begin = dict(start_rps or {})
    if twin and "flask" in begin:
        begin.setdefault(AA, begin["flask"])
    first: dict[str, float] = {}
    for workers in counts:
        searched = [*apps, *twin] if workers == counts[0] else list(apps)
        own = _start(setup, searched, workers) if servers is None or workers != counts[0] else {}
        serving = own or dict(servers or {})
        try:
            trials = settings.trials if workers == counts[0] else 1
            for trial in range(trials):
                for app in rotate(searched, trial):
                    if app in first:
                        # Later searches start just under a capacity already found.
                        start, growth = 0.8 * first[app], 1.25
                    else:
                        start = begin.get(app, settings.start_rps)
                        growth = settings.growth
                    found = search_app(
                        setup,
                        serving[app],
                        app,
                        workers,
                        trial,
                        settings,
                        latency_ms,
                        vcpu_hour_usd,
                        start,
                        growth,
                    )
                    results["searches"].append(found)
                    if found["capacity_rps"] and app not in first:
                        first[app] = found["capacity_rps"]
            if workers == counts[0]:
                _beyond(setup, serving, apps, workers, settings, latency_ms, first, results)
        finally:
            for server in own.values():
                server.stop()
    results["duration_s"] = time.monotonic() - started_at
    return results


def _start(setup: Setup, apps: Sequence[str], workers: int) -> dict[str, Server]:
    """Start each app with ``workers`` workers on the server CPUs and wait until ready."""
    env = {"MLAPI_MODEL_VARIANT": VARIANT, "WEB_CONCURRENCY": str(workers)}
    (setup.run_dir / "raw").mkdir(parents=True, exist_ok=True)
    started = {
        app: gunicorn.start(
            app,
            setup.run_dir / "raw" / f"capacity-server-{app}-w{workers}.log",
            env=env,
            cpus=setup.server_cpus,
        )
        for app in apps
    }
    try:
        for server in started.values():
            server.wait_ready(timeout=60)
    except gunicorn.ServerError:
        for server in started.values():
            server.stop()
        raise
    return started


def _beyond(
    setup: Setup,
    serving: dict[str, Server],
    apps: Sequence[str],
    workers: int,
    settings: Settings,
    latency_ms: float,
    capacities: dict[str, float],
    results: CapacityResults,
) -> None:
    """Add the overload steps and the step through nginx at each app's capacity."""
    for app in apps:
        capacity = capacities.get(app)
        if not capacity:
            continue
        server = serving[app]
        for factor in settings.overload:
            workdir = setup.run_dir / "raw" / f"capacity-{app}-w{workers}-overload-{factor:g}"
            step = run_step(
                setup, server.url, server.pid, capacity * factor, workdir, settings, latency_ms
            )
            results["overload"].append({"app": app, "workers": workers, "factor": factor, **step})
        if settings.proxied and nginx.available():
            workdir = setup.run_dir / "raw" / f"capacity-{app}-w{workers}-nginx"
            # The proxy is part of the server side: it runs on the server's CPUs.
            front = nginx.start(server.port, workdir / "nginx", cpus=setup.server_cpus)
            try:
                front.wait_ready()
                url = f"http://{gunicorn.HOST}:{front.port}"
                step = run_step(
                    setup,
                    url,
                    server.pid,
                    capacity,
                    workdir / "load",
                    settings,
                    latency_ms,
                    extra_pids=[front.process.pid],
                )
            finally:
                front.stop()
            results["proxied"].append({"app": app, "workers": workers, "factor": 1.0, **step})


def closed_loop_rps(phases: Sequence[dict[str, Any]], app: str) -> float | None:
    """Return the median served req/s of an app's light one-row closed-loop phases, if any."""
    found = [
        p["rps"]
        for p in phases
        if p["target"] == app
        and (p["variant"], p["scenario"]) == (VARIANT, SCENARIO)
        and p["rps"] > 0
    ]
    return statistics.median(found) if found else None
