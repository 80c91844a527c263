"""The benchmark against deployments it did not start: the parity gate, then Locust phases.

The targets are base URLs (``flask=http://...``): a cluster's nginx service, two hosts, two
ports. Nothing here starts, pins or watches a server, so the figures are what a client sees:
requests, failures, served req/s and latency percentiles, through whatever lies between (network,
proxies, load balancers). What the local runner reads from the server's processes (CPU per
request, memory) and start-up times cannot be read from here: those fields are null, each with
its reason, never estimated.

The order is the local runner's (``benchmarks.plan``): trial by trial, every cell, every target
in turn, the targets' order from a Williams design (``plan.balanced``). Locust runs locally,
or as a master bound where the user says that starts its users only once the expected workers
have connected: those this command starts and those started on other machines. A master quits
after its phase and its workers with it, so a worker started elsewhere runs in a loop
(``docs/benchmark.md``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.load import locust, payloads
from benchmarks.load.probes import probes
from benchmarks.measure import parity
from benchmarks.measure.phases import GENERATOR_BOUND, counted, window_figures
from benchmarks.plan import Cell, Plan, Setup
from benchmarks.results.remote import Remote, RemotePhase
from benchmarks.results.vocabulary import Parity
from benchmarks.serving.gunicorn import free_port, send

# What the local runner measures on the server's side, and why it cannot be measured from here.
NOT_MEASURED = {
    "server_cpu_us_per_request": "not measurable remotely: the server's processes run on "
    "another machine, whose CPU time this command cannot read",
    "server_memory_mib": "not measurable remotely: the server's memory (RSS, PSS, USS) is read "
    "from /proc on the machine that runs it",
    "startup_s": "not measurable remotely: this command did not start the deployment, so it "
    "cannot time a start",
}
REMOTE_MODEL = "the remote's own: the variant label names the cell, not the deployed model"


def parse_targets(pairs: Sequence[str]) -> dict[str, str]:
    """Return {name: base URL} from ``name=URL`` pairs; refuse a malformed or repeated one."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, _, url = pair.partition("=")
        if not name or not url.startswith(("http://", "https://")):
            raise ValueError(f"--target {pair!r}: expected NAME=http://HOST:PORT")
        if name in found:
            raise ValueError(f"--target {name!r} given twice")
        found[name] = url.rstrip("/")
    if len(found) < 2:
        raise ValueError("give at least two --target NAME=URL: the gate compares their answers")
    return found


def parse_bind(text: str) -> tuple[str, int]:
    """Return (host, port) from ``HOST:PORT``; port 0 picks a free one on this machine."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--master-bind {text!r}: expected HOST:PORT, e.g. 0.0.0.0:5557")
    return host, int(port) or free_port()


def refusals(urls: Mapping[str, str]) -> list[str]:
    """Return each target that does not serve a prediction (say, it refuses this Host name).

    Two deployments that both refuse every request would pass the gate alike.
    """
    probe = next(p for p in probes() if p.name == "predict-one")
    found = []
    for name, url in urls.items():
        status, _, body = send(url, probe.method, probe.path, probe.body, probe.headers, timeout=10)
        if status != 200:
            found.append(f"{name} ({url}) answered a valid prediction {status} {body[:160]!r}")
    return found


def plan(names: Sequence[str], *, users: int, trials: int, seconds: float, warmup_s: float) -> Plan:
    """Return the remote plan: one-row predictions and liveness, every target, ``trials`` each."""
    return Plan(
        "remote",
        warmup_s=warmup_s,
        measure_s=seconds,
        cells=[Cell("light", "predict_one", users, trials), Cell("light", "health", users, trials)],
        targets=tuple(names),
    )


def expected_workers(locust_workers: int, expect_workers: int | None) -> int:
    """Return the workers the master waits for; refuse fewer than those started here."""
    expected = locust_workers if expect_workers is None else expect_workers
    if expected < locust_workers:
        raise ValueError(f"--expect-workers {expected} is below --locust-workers {locust_workers}")
    return expected


def gate(urls: Mapping[str, str]) -> Parity:
    """Return the parity gate's record; raise ``ParityError`` if the targets disagree."""
    differences = refusals(urls) or parity.disagreements(urls)
    if differences:
        raise parity.ParityError("targets disagree:\n" + "\n".join(differences))
    return {"ok": True, "probes": len(probes()), "targets": list(urls), "differences": []}


def measure(
    urls: Mapping[str, str],
    the_plan: Plan,
    workdir: Path,
    *,
    locust_workers: int = 0,
    expect_workers: int | None = None,
    master_bind: tuple[str, int] = ("127.0.0.1", 0),
    passed: Parity | None = None,
) -> Remote:
    """Gate, then load every target; return the figures (``ParityError`` if the gate fails).

    ``expect_workers`` (by default ``locust_workers``) counts every worker the master waits
    for, those started elsewhere included; with none, Locust runs as one local process.
    ``passed`` is the gate's record where the caller already gated the targets.
    """
    expected = expected_workers(locust_workers, expect_workers)
    started_at = time.monotonic()
    checked = passed or gate(urls)
    workdir.mkdir(parents=True, exist_ok=True)
    load_cpus = CpuSet.of(os.sched_getaffinity(0))
    setup = Setup(
        workdir, CpuSet(()), load_cpus, locust_workers, payloads.write(workdir / "payloads.json")
    )
    host, port = master_bind
    master = locust.Master(host, port or free_port(), expected) if expected else None
    phases = [
        run_phase(setup, the_plan, (name, urls[name]), cell, trial, master=master)
        for trial, cell, name in the_plan.phases()
    ]
    return {
        "kind": "remote",
        "targets": dict(urls),
        "config": {
            "warmup_s": the_plan.warmup_s,
            "measure_s": the_plan.measure_s,
            "cells": [
                {"variant": c.variant, "scenario": c.scenario, "users": c.users, "trials": c.trials}
                for c in the_plan.cells
            ],
            "model": REMOTE_MODEL,
            "locust_workers": locust_workers,
            "expect_workers": expected,
            "master_bind": f"{master.bind_host}:{master.bind_port}" if master else None,
            "load_cpus": str(load_cpus),
            "locust_user": "FastHttpUser, no wait time (closed loop)",
            "interleaving": "trial by trial, every cell, every target in turn, the targets' "
            "order from a Williams design (plan.balanced)",
        },
        "parity": checked,
        "phases": phases,
        "startup_s": None,
        "not_measured": NOT_MEASURED,
        "duration_s": time.monotonic() - started_at,
    }


def run_phase(
    setup: Setup,
    the_plan: Plan,
    target: tuple[str, str],
    cell: Cell,
    trial: int,
    *,
    master: locust.Master | None,
) -> RemotePhase:
    """Load one target (name, base URL) with one cell's traffic; return what Locust counted."""
    name, url = target
    label = f"{cell.variant}-{cell.scenario}-u{cell.users}-{name}-t{trial}"
    workdir = setup.run_dir / "raw" / label
    workdir.mkdir(parents=True)
    timing = (the_plan.warmup_s, round(the_plan.warmup_s + the_plan.measure_s))
    load = locust.Phase(setup, url, cell, workdir, timing, master=master)
    load.wait_measuring()
    load.wait_stopped()
    load.wait_done()
    edges = load.edges()
    summaries = load.summaries()
    main = next(s for s in summaries if "total" in s)
    window = window_figures(edges)
    by_process = window["generator_cpu_util_by_process"]
    utilisation = max(by_process.values(), default=0.0)
    opened = next(iter(edges.values()))[0]
    elsewhere = (master.expect_workers if master else 0) - setup.locust_workers
    model_count = sum(s["model_count"] for s in summaries)
    model_ms = sum(s["model_ms"] for s in summaries)
    return {
        "target": name,
        "url": url,
        "variant": cell.variant,
        "scenario": cell.scenario,
        "users": cell.users,
        "trial": trial,
        **counted(main),
        # The model's time comes back in each answer's Server-Timing, but a worker elsewhere
        # keeps its sum: with one, the mean here would be a part taken for the whole.
        "model_ms_mean": model_ms / model_count if model_count and not elsewhere else None,
        "workers": opened.get("workers", 0),  # connected when the window opened
        "workers_elsewhere": elsewhere,
        # This machine's Locust processes only: a worker elsewhere is not watched.
        "generator_cpu_util": utilisation,
        "generator_cpu_util_by_process": by_process,
        "load_cpus_busy": window["load_cpus_busy"],
        "generator_bound": max(utilisation, window["load_cpus_busy"]) >= GENERATOR_BOUND,
        "server_cpu_us_per_request": None,
        "server_memory_mib": None,
        "csv_prefix": str((workdir / "locust").relative_to(setup.run_dir)),
    }
