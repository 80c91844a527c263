"""The timed comparison: wrk against the apps and the A/A twin, paired trial by trial.

What it measures. For each timed cell of the plan (a variant, a scenario, a number of wrk
connections), trial by trial, every timed target in the order of a Williams design
(``plan.balanced``): so trial t of Flask, of its twin and of Django run back to back and pair,
and no target always runs first or always follows the same one. Each server gets one short
discarded warm-up before its first trial.

Why wrk. Locust is one gevent loop per process: on the one load CPU of a 2-core machine it
read 0.80-0.83 of what the server takes (the wrk calibration), and six cells of a default run
were generator-bound, so its req/s were partly Locust's own limit. wrk is an event loop in C:
one thread keeps the server's one worker busy using a fraction of a core.

Why these settings. One wrk thread: a thread is one event loop, and the load generator has one
CPU here; a second thread would only share it. ``CONNECTIONS_PER_SLOT`` connections or more per
request the server handles at once (its workers times threads): a gunicorn worker of one thread
(gthread, the default, or sync) answers one request at a time, so the others wait queued (in
gthread's queue of ready connections, or sync's listen backlog) and the worker never waits for
the next one. wrk's own CPU shows it stays far from its limit (``generator_cpu_util``).

Each trial records:

- rps: successful requests (wrk's requests less its errors) per second of wrk's own duration;
- errors: socket errors (connect, read, write), timeouts and non-2xx/3xx answers, as wrk counts;
- p50 and p99 latency from wrk's histogram;
- server CPU per request: CPU seconds of the gunicorn process tree (master and workers, listed
  before the trial) from just before wrk starts to just after it exits, over wrk's requests; and
  the same CPU over that wall time as a share of the server's CPUs (near 1: saturated);
- wrk's CPU: user and system seconds of all its threads from start to exit, returned by the
  kernel when the runner reaps it (``os.wait4``, see ``load/wrk.py``), over its wall time, as a
  share of the CPUs it may use (its threads, at most the load CPUs); at or above
  ``GENERATOR_BOUND`` the trial is generator-bound. How busy the load CPUs were with anything
  (``load_cpus_busy``) is recorded beside it, for a neighbour taking wrk's CPU.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import cast

from benchmarks.cpus import CpuSet
from benchmarks.load import payloads, wrk
from benchmarks.measure.phases import GENERATOR_BOUND
from benchmarks.plan import Plan, Setup, TimedCell
from benchmarks.results.records import TimedConfig, TimedTrial
from benchmarks.results.vocabulary import Target, Variant
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import ProcessTree, cpu_busy_seconds

THREADS = 1  # wrk threads: one event loop per load CPU, and the load generator has one here
CONNECTIONS_PER_SLOT = 4  # connections per request the server serves at once, at least


def generator_cpus(threads: int, load_cpus: CpuSet) -> int:
    """Return how many CPUs wrk may use: one per thread, at most the load CPUs."""
    return min(threads, len(load_cpus))


def config(the_plan: Plan, setup: Setup, server_slots: int) -> TimedConfig:
    """Return how the run's timed comparison measures, as results.json records it."""
    return {
        "tool": f"wrk, {THREADS} thread(s), closed loop, pinned to the load CPUs",
        "targets": list(the_plan.timed_targets),
        "cells": [
            {
                "variant": cell.variant,
                "scenario": cell.scenario,
                "connections": cell.connections,
                "trials": cell.trials,
            }
            for cell in the_plan.timed
        ],
        "seconds": the_plan.timed_s,
        "warmup_s": the_plan.timed_warmup_s,
        "threads": THREADS,
        "generator_cpus": generator_cpus(THREADS, setup.load_cpus),
        "server_slots": server_slots,
        "generator_bound_threshold": GENERATOR_BOUND,
        "interleaving": "trial by trial, light and heavy cells alternating, every timed target "
        "in turn, the targets' order from a Williams design (plan.balanced)",
    }


def check_saturating(the_plan: Plan, server_slots: int) -> None:
    """Refuse a plan whose wrk connections could leave the server's workers waiting."""
    for cell in the_plan.timed:
        if cell.connections < CONNECTIONS_PER_SLOT * server_slots:
            raise ValueError(
                f"{cell}: {cell.connections} connections for {server_slots} request(s) at once; "
                f"the server is only kept busy with {CONNECTIONS_PER_SLOT} per request or more"
            )


def measure(
    setup: Setup,
    the_plan: Plan,
    started: dict[tuple[Variant, str], Server],
    *,
    start: Callable[[str], None] = lambda step: None,
    advance: Callable[[float], None] = lambda planned_s: None,
) -> list[TimedTrial]:
    """Warm each timed server once, then run every timed trial in the plan's order.

    ``start(step)`` and ``advance(planned seconds)`` surround each wrk run, for the run's
    progress; the planned seconds are those of ``Plan.timed_estimate_s``.
    """
    bodies = payloads.load(setup.payloads_path)
    for cell, name in the_plan.timed_warmups():
        start(f"timed (wrk): {name} {cell.variant} {cell.scenario} warm-up")
        _load(setup, started[cell.variant, name], cell, bodies, the_plan.timed_warmup_s)
        advance(the_plan.timed_warmup_s + the_plan.timed_overhead_s)
    found: list[TimedTrial] = []
    for trial, cell, name in the_plan.timed_trials():
        start(
            f"timed (wrk): {name} {cell.variant} {cell.scenario} connections={cell.connections} "
            f"trial {trial + 1}/{cell.trials}"
        )
        server = started[cell.variant, name]
        found.append(trial_figures(setup, the_plan, server, cell, trial, bodies))
        advance(the_plan.timed_s + the_plan.timed_overhead_s)
    return found


def _load(
    setup: Setup, server: Server, cell: TimedCell, bodies: dict[str, list[str]], seconds: float
) -> wrk.WrkResult:
    method, path, kind = wrk.SCENARIOS[cell.scenario]
    run = functools.partial(
        wrk.run,
        server.url + path,
        method=method,
        body=bodies[kind][0].encode() if kind else None,
        connections=cell.connections,
        threads=THREADS,
        cpus=setup.load_cpus,
    )
    return run(seconds=seconds)


def trial_figures(
    setup: Setup,
    the_plan: Plan,
    server: Server,
    cell: TimedCell,
    trial: int,
    bodies: dict[str, list[str]],
) -> TimedTrial:
    """Run one timed trial of one target and return its figures."""
    family = ProcessTree(server.pid)  # listed before: reading known PIDs takes microseconds
    load_cpus = list(setup.load_cpus)
    server_cpus = len(setup.server_cpus)
    busy_before, total_before = cpu_busy_seconds(load_cpus)
    cpu_before = family.cpu_seconds()
    result = _load(setup, server, cell, bodies, the_plan.timed_s)
    server_cpu_s = family.cpu_seconds() - cpu_before
    busy_after, total_after = cpu_busy_seconds(load_cpus)
    if family.changed():
        # A worker that died mid-trial took its CPU time with it: the figure would be wrong.
        raise RuntimeError(f"{server.name}'s workers changed during a timed trial:\n{server.log()}")
    share = result.cpu_cores / generator_cpus(THREADS, setup.load_cpus)
    total = total_after - total_before
    return {
        # A run measures its run targets only, which the vocabulary's Target names.
        "target": cast(Target, server.name),
        "variant": cell.variant,
        "scenario": cell.scenario,
        "connections": cell.connections,
        "trial": trial,
        "seconds": result.seconds,
        "requests": result.requests,
        "errors": result.errors,
        "rps": max(result.requests - result.errors, 0) / result.seconds,
        "latency_ms_p50": result.p50_ms,
        "latency_ms_p99": result.p99_ms,
        "server_cpu_us_per_request": server_cpu_s / max(result.requests, 1) * 1e6,
        "server_cpu_util": server_cpu_s / result.wall_s / server_cpus,
        "generator_cpu_util": share,
        "load_cpus_busy": (busy_after - busy_before) / total if total > 0 else 0.0,
        "generator_bound": share >= GENERATOR_BOUND,
    }
