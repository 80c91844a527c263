"""Run the comparison: servers, parity gate, Locust phases, timed wrk trials, wrk calibration,
start-up times.

One run writes ``reports/<UTC timestamp>/`` (``results.json``, ``report.md``, ``report.html``
and the raw Locust CSVs under ``raw/``) and points ``reports/latest`` at it. Every target runs
under the same gunicorn settings on the same CPUs; Locust, wrk and the runner itself (with its
sampling threads) run on the other CPUs; the targets are interleaved trial by trial so slow drift
of the machine spreads over all of them.
The measurements are in ``benchmarks.measure`` and what surrounds them (the run directory, the
CPUs, the environment, saving, the reports) in ``benchmarks.session``; this module only puts the
measurements in order.
"""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks import REPORTS
from benchmarks.cpus import CpuSet
from benchmarks.load import locust
from benchmarks.load.probes import probes
from benchmarks.measure import (
    calibration,
    capacity,
    cost,
    footprint,
    ladders,
    overhead,
    parity,
    phases,
    security,
    soak,
    startup,
    timed,
    workers,
)
from benchmarks.plan import Plan, build
from benchmarks.progress import Progress
from benchmarks.results.vocabulary import Mode, ScaleMode, Scenario
from benchmarks.serving import gunicorn
from benchmarks.session import Session, session
from benchmarks.targets import AA, APPS

# -- the whole run -----------------------------------------------------------------------------


def run(
    mode: Mode = "default",
    *,
    out: Path = REPORTS,
    cpus: str | None = None,
    locust_workers: int = 0,
    show_progress: bool = True,
    count_instructions: bool = True,
    measure_capacity: bool = True,
    measure_workers: bool = True,
    scenario: Scenario | None = None,
) -> Path:
    """Run the whole comparison; return the run directory.

    ``count_instructions=False`` skips the callgrind step (``--no-cost``), for machines without
    valgrind and for the tests, which count instructions on their own.
    ``measure_capacity=False`` skips the capacity search (``--no-capacity``);
    ``measure_workers=False`` the memory of added workers (``--no-workers``).
    ``scenario`` (``--scenario``, a v2 one) is measured under load beside its /v1 twin
    (``plan.beside``).
    """
    optional = (count_instructions, measure_capacity, measure_workers)
    the_plan = build(mode, scenario)
    if not measure_capacity:
        the_plan = replace(the_plan, capacity="")
    estimate = the_plan.estimate_s() - (0 if count_instructions else the_plan.cost_s)
    estimate -= 0 if measure_workers else the_plan.workers.estimate_s()
    progress = Progress(estimate, sys.stderr if show_progress else io.StringIO())
    with session("run", mode, out=out, cpus=cpus, locust_workers=locust_workers) as started:
        _run(started, the_plan, progress, optional)
    progress.finish()
    return started.run_dir


def _run(
    opened: Session,
    the_plan: Plan,
    progress: Progress,
    optional: tuple[bool, bool, bool],
) -> None:
    """Run the whole comparison from the load CPUs into the session's results.

    ``optional`` says whether to count instructions, search the capacity and measure the
    memory of added workers.
    """
    count_instructions, _, measure_workers = optional
    setup, results = opened.setup, opened.results
    mode: Mode = results["mode"]
    run_dir, server_cpus, load_cpus = setup.run_dir, setup.server_cpus, setup.load_cpus
    locust_workers = setup.locust_workers
    fingerprint = results["environment"]
    server_slots = (fingerprint["gunicorn"]["workers"] or 1) * (
        fingerprint["gunicorn"]["threads"] or 1
    )
    timed.check_saturating(the_plan, server_slots)
    timing = {"timed": timed.config(the_plan, setup, server_slots)} if the_plan.timed else {}
    results.update(
        {
            "config": {
                "warmup_s": the_plan.warmup_s,
                "measure_s": the_plan.measure_s,
                "targets": list(the_plan.targets),
                "cells": [vars(cell) for cell in the_plan.cells],
                "calibrate": [
                    {"variant": v, "scenario": s, "users": u} for v, s, u in the_plan.calibrate
                ],
                "calibrate_s": the_plan.calibrate_s,
                "startup_samples": the_plan.startup_samples,
                "overhead_budget_s": the_plan.overhead_budget_s,
                "locust_workers": locust_workers,
                "locust_user": "FastHttpUser, no wait time (closed loop)",
                "interleaving": "trial by trial, light and heavy cells alternating, every target "
                "in turn, the targets' order from a Williams design (plan.balanced)",
                "generator_bound_threshold": phases.GENERATOR_BOUND,
                "locust_stop_timeout_s": locust.STOP_TIMEOUT_S,
                "memory_sample_interval_s": phases.MEMORY_INTERVAL_S,
                "runner_cpus": str(load_cpus),
                **timing,
            },
            "parity": {
                "ok": True,
                "probes": len(probes()),
                "targets": list(the_plan.targets),
                "differences": [],
            },
            "phases": [],
            "calibration": [],
            "reliability": {"inputs": [], "soak": []},
        }
    )
    progress.start("lines of code, dependencies and security defaults")
    results["loc"] = {app: footprint.lines_of_code(app) for app in APPS}
    results["dependencies"] = {app: footprint.dependencies(app) for app in APPS}
    results["framework_footprint"] = {
        fw: footprint.framework_footprint(fw) for fw in footprint.FRAMEWORKS
    }
    results["security"] = security.probe()
    progress.advance(10.0)

    if count_instructions:
        progress.start("instructions per request under callgrind (python -m benchmarks cost)")
        # Counts do not depend on contention: both CPUs at once, before any server runs.
        every_cpu = CpuSet.of([*server_cpus, *load_cpus])
        results["cost"] = cost.measure(the_plan.cost, cpus=every_cpu)
        progress.advance(the_plan.cost_s)

    progress.start("start-up times")
    results["startup"] = startup.measure_startup(setup, the_plan.distinct, the_plan.startup_samples)
    progress.advance((the_plan.startup_samples + 1) * len(the_plan.distinct) * 2.0)

    if measure_workers:
        progress.start("memory as gunicorn workers are added (python -m benchmarks workers)")
        # The default run measures its own piece of the workers' plans.
        piece: ScaleMode = "run" if mode == "default" else mode
        results["workers"] = workers.measure(
            the_plan.workers,
            log_dir=run_dir / "raw" / "workers",
            payloads_path=setup.payloads_path,
            server_cpus=server_cpus,
            mode=piece,
        )
        progress.advance(the_plan.workers.estimate_s())

    progress.start("in-process cost split (python -m benchmarks overhead)")
    # One server CPU: each target's interpreter runs alone on it, as its worker would.
    results["overhead"] = [
        overhead.run_in_subprocess(
            name, the_plan.overhead_budget_s, cpus=CpuSet(server_cpus.cpus[:1])
        )
        for name in the_plan.distinct
    ]
    progress.advance(the_plan.overhead_estimate_s())

    # Every target of every variant serves at once, so light and heavy cells can alternate.
    progress.start("starting servers")
    (run_dir / "raw").mkdir(exist_ok=True)
    started = {
        (variant, name): gunicorn.start(
            name,
            run_dir / "raw" / f"server-{variant}-{name}.log",
            env={"MLAPI_MODEL_VARIANT": variant},
            cpus=server_cpus,
        )
        for variant in the_plan.variants
        for name in the_plan.targets
    }
    try:
        for server in started.values():
            server.wait_ready(timeout=60)
        progress.advance(4.0 * len(the_plan.variants))
        for variant in the_plan.variants:
            progress.start(f"parity gate ({variant} model)")
            serving = {name: started[variant, name] for name in the_plan.targets}
            differences = parity.parity_gate(serving)
            if differences:
                results["parity"].update(ok=False, differences=differences)
                raise parity.ParityError("targets disagree:\n" + "\n".join(differences))
            if variant == "light":
                results["reliability"]["inputs"] = parity.probe_answers(serving)
        for trial, cell, target in the_plan.phases():
            progress.start(
                f"{target} {cell.variant} {cell.scenario} users={cell.users} "
                f"trial {trial + 1}/{cell.trials}"
            )
            server = started[cell.variant, target]
            results["phases"].append(phases.run_phase(setup, the_plan, server, cell, trial))
            progress.advance(the_plan.phase_seconds())
        if the_plan.timed:
            results["timed"] = timed.measure(
                setup, the_plan, started, start=progress.start, advance=progress.advance
            )
        for variant in the_plan.variants:
            progress.start(f"wrk calibration ({variant} model)")
            serving = {name: started[variant, name] for name in the_plan.distinct}
            results["calibration"] += calibration.calibrate(
                setup, the_plan, serving, variant, results["phases"]
            )
            progress.advance(
                sum(
                    len(the_plan.calibrating(c[1])) * (the_plan.calibrate_s + 1.5)
                    for c in the_plan.calibrate
                    if c[0] == variant
                )
            )
        if the_plan.capacity and "light" in the_plan.variants:
            progress.start(
                f"capacity: open-loop search of each app's rate at p99 <= 50 ms, "
                f"{the_plan.capacity_trials} paired trial(s)"
            )
            settings = replace(
                capacity.SETTINGS[the_plan.capacity],
                workers=str(len(server_cpus)),
                trials=the_plan.capacity_trials,
            )
            if the_plan.capacity_resolution is not None:
                settings = replace(settings, resolution=the_plan.capacity_resolution)
            closed = {app: capacity.closed_loop_rps(results["phases"], app) for app in APPS}
            results["capacity"] = capacity.measure_apps(
                setup,
                settings,
                # The A/A twin too: with paired trials its searches are the capacity's own
                # A/A check (it starts where Flask does).
                servers={app: started["light", app] for app in (*APPS, AA)},
                # Half the closed-loop throughput: the search's first step passes, its second
                # (the whole closed-loop throughput, offered open-loop) fails.
                start_rps={app: rps / 2 for app, rps in closed.items() if rps},
            )
            progress.advance(the_plan.capacity_estimate_s())
    finally:
        gunicorn.stop_all(started.values())
    if the_plan.ladders:
        progress.start(f"the ladders ({the_plan.ladders})")
        results["ladders"] = ladders.measure(
            the_plan.ladders, workdir=run_dir / "raw", cpus=f"{server_cpus}/{load_cpus}"
        )
        progress.advance(the_plan.ladders_s)
    if the_plan.soak_s:
        progress.start(f"soak: each app at 70% of capacity for {the_plan.soak_s:.0f} s")
        results["reliability"]["soak_s"] = the_plan.soak_s
        results["reliability"]["soak"] = [
            soak.soak_app(setup, name, the_plan.soak_s, 0.7, capacity_s=min(3.0, the_plan.soak_s))
            for name in APPS
        ]
        progress.advance(the_plan.soak_estimate_s())
