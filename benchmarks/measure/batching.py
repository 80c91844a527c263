"""Adaptive batching against none: each app with one worker, on capacity, CPU and low-load latency.

Per model variant, every configuration of each app is started at once, pinned to the server
CPUs, one worker each:

- ``off``: batching off, the apps' default deployment (gunicorn.conf.py's gthread worker with one
  thread, keep-alive on), what a gain is measured against;
- ``b<size>``: batching on (``MLAPI_BATCH_MAX_SIZE=<size>``), on the gthread worker with as many
  threads as the batch holds rows (``-w<ms>``: with that maximum wait).

Runs before the default became gthread measured ``sync`` (then the default) and ``gthread``
(batching off with as many threads as the largest batch) instead of ``off``.

Then, in order: wrk with one connection gives each configuration its latency at one user (what
batching adds when nothing waits); each configuration's open-loop capacity at p99 <= 50 ms is
searched ``trials`` times, the configurations in rotated order each trial (the run's search
settings, the first search from half a short wrk rate); the servers' CPU at each capacity is
the search's. Last, callgrind counts the instructions per one-row prediction over the process
tree (``cost_server``) of the light model's unbatched and largest-batch configurations, requests
sent one at a time: what the batcher costs per request when no two requests meet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.load import protocols, wrk
from benchmarks.measure import capacity, capacity_trials, cost_server
from benchmarks.measure.parity import ParityError, probability_gate
from benchmarks.plan import BatchingPlan, Setup
from benchmarks.results.batching import BatchCapacity, Batching, BatchLowLoad, BatchTarget
from benchmarks.results.vocabulary import Variant
from benchmarks.serving import gunicorn, peers
from benchmarks.serving.gunicorn import Server
from benchmarks.targets import APPS
from benchmarks.targets.peers import PEERS
from model import artifact_dir, load
from model.data import holdout_instances

SEARCH = replace(capacity.SETTINGS["run"], scenario="predict_one")
LATENCY_MS = 50.0
AA_APP = "flask"
FIRST_WRK_S = 2.0
FIRST_WRK_CONNECTIONS = 32  # enough requests at once to fill the largest batches searched
COST_REQUESTS = (10, 110)
COST_WARMUP = 10
GATE_ROWS = 20  # held-out rows each configuration must answer as scikit-learn does, one at a time
COUNTED_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def peer_targets(
    plan: BatchingPlan, variant: Variant, peer_names: Sequence[str]
) -> dict[str, BatchTarget]:
    """Return the configurations of the peers: each unbatched, a batching one also batched."""
    found: dict[str, BatchTarget] = {}
    for name in peer_names:
        peer = PEERS[name]
        base: BatchTarget = {
            "server": name,
            "kind": "peer",
            "variant": variant,
            "max_batch_size": 1,
            "max_wait_ms": 0.0,
            "worker": peer.server,
            "protocol": peer.protocol,
            "twin_of": None,
        }
        found[f"{name}-{variant}-off"] = base
        if name in peers.BATCHING_PEERS:
            wait_ms = peers.batch_wait_ms(name, plan.waits[0])
            found[f"{name}-{variant}-b{plan.peer_size}"] = {
                **base,
                "max_batch_size": plan.peer_size,
                "max_wait_ms": wait_ms,
                "batching": peers.batch_settings(name, plan.peer_size, wait_ms),
            }
    return found


def targets(
    plan: BatchingPlan, apps: Sequence[str], peer_names: Sequence[str] = ()
) -> dict[str, BatchTarget]:
    """Return every configuration the plan measures, by target name, variant by variant, with
    the A/A twin of each variant."""
    found: dict[str, BatchTarget] = {}
    for variant in plan.variants:
        for app in apps:
            base: BatchTarget = {
                "server": app,
                "kind": "app",
                "variant": variant,
                "max_batch_size": 1,
                "max_wait_ms": 0.0,
                "worker": "gthread, 1 thread",
                "protocol": "v1",
                "twin_of": None,
                "default": True,
            }
            found[f"{app}-{variant}-off"] = base
            for size in plan.sizes:
                for wait in plan.waits:
                    found[f"{app}-{variant}-b{size}" + (f"-w{wait:g}" if wait else "")] = {
                        **base,
                        "worker": f"gthread, {size} threads",
                        "max_batch_size": size,
                        "max_wait_ms": wait,
                        "default": False,
                    }
        found |= peer_targets(plan, variant, peer_names)
        if AA_APP in apps:
            # The A/A check of the timed figures: the default deployment again.
            copied = f"{AA_APP}-{variant}-off"
            found[f"{copied}-twin"] = {**found[copied], "twin_of": copied}
    return found


def environment(target: BatchTarget) -> dict[str, str]:
    """Return the environment that starts an app as ``target`` says, one worker: batching off
    is gunicorn.conf.py's default deployment."""
    env = {"WEB_CONCURRENCY": "1", "MLAPI_MODEL_VARIANT": target["variant"]}
    if target["max_batch_size"] >= 2:
        env["MLAPI_BATCH_MAX_SIZE"] = str(target["max_batch_size"])
        env["MLAPI_BATCH_MAX_WAIT_MS"] = f"{target['max_wait_ms']:g}"
    return env


def start(
    name: str,
    target: BatchTarget,
    log: Path,
    cpus: CpuSet,
    wrap: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> Server:
    """Start one configuration, not yet ready."""
    if target["kind"] == "peer":
        batch = target["max_batch_size"]
        return peers.start(
            target["server"],
            log,
            cpus=cpus,
            wrap=wrap,
            env=extra,
            variant=target["variant"],
            batch=(batch, (target["max_wait_ms"] or 0.0) / 1000) if batch >= 2 else None,
        )
    env = {**environment(target), **(extra or {})}
    return gunicorn.start(target["server"], log, cpus=cpus, wrap=wrap, env=env)


def request(target: BatchTarget) -> tuple[str, bytes]:
    """Return the path and body of a one-row prediction in a configuration's protocol."""
    protocol = target["protocol"]
    return protocols.path(protocol), protocols.body(protocol, holdout_instances(1))


def low_load(
    started: dict[str, Server],
    configured: dict[str, BatchTarget],
    seconds: float,
    load_cpus: CpuSet,
) -> list[BatchLowLoad]:
    """Return each configuration's latency with one connection, one request at a time."""
    found: list[BatchLowLoad] = []
    for name, server in started.items():
        path, body = request(configured[name])
        result = wrk.run(
            server.url + path,
            method="POST",
            body=body,
            seconds=seconds,
            connections=1,
            cpus=load_cpus,
        )
        found.append(
            {
                "target": name,
                "requests": result.requests,
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
            }
        )
    return found


def capacities(
    started: dict[str, Server],
    configured: dict[str, BatchTarget],
    setup: Setup,
    search: capacity.Settings,
    progress: Callable[[str], None],
) -> list[BatchCapacity]:
    """Search every configuration's capacity ``search.trials`` times, rotated: the first search
    from half its rate under a short wrk, the later ones from 0.8 of the first capacity."""

    def settings(name: str) -> capacity.Settings:
        return replace(search, scenario=protocols.SCENARIO[configured[name]["protocol"]])

    def first_rate(name: str) -> float:
        path, body = request(configured[name])
        rate = wrk.run(
            started[name].url + path,
            method="POST",
            body=body,
            seconds=FIRST_WRK_S,
            connections=FIRST_WRK_CONNECTIONS,
            cpus=setup.load_cpus,
        ).rps
        return max(rate / 2, 10.0)

    return capacity_trials.rotated_searches(
        setup, started, search.trials, settings, first_rate, LATENCY_MS, progress
    )


def count(
    configured: dict[str, BatchTarget],
    setup: Setup,
    progress: Callable[[str], None],
) -> dict[str, float]:
    """Count instructions per one-row prediction over the process tree of the light model's
    unbatched configuration and its largest batch, each app."""
    sizes = [t["max_batch_size"] for t in configured.values()]
    wanted = [
        name
        for name, t in configured.items()
        if t["variant"] == "light"
        and t["kind"] == "app"
        and t["twin_of"] is None
        and t["max_batch_size"] in (1, max(sizes))
    ]
    found: dict[str, float] = {}
    for name in wanted:
        progress(f"counting {name} under callgrind")

        def counted(wrap: list[str], cpus: CpuSet, log: Path, name: str = name) -> Server:
            return start(name, configured[name], log, cpus, wrap, COUNTED_ENV)

        path, body = request(configured[name])
        figures = cost_server.per_request(
            counted,
            setup.run_dir / "raw" / "batching" / f"callgrind-{name}",
            CpuSet.of([*setup.server_cpus, *setup.load_cpus]),
            path,
            body,
            COST_REQUESTS,
            COST_WARMUP,
        )
        found[name] = figures["instructions"]
    return found


def gate(
    started: dict[str, Server], configured: dict[str, BatchTarget], variant: Variant
) -> list[str]:
    """Run the parity gate on every configuration (each held-out row alone, its probabilities
    scikit-learn's); return the differences (empty: every one passed)."""
    model = load(artifact_dir(variant))
    rows = holdout_instances(GATE_ROWS)
    return [
        line
        for name, server in started.items()
        for line in probability_gate(name, server.url, configured[name]["protocol"], model, rows)
    ]


def measure(
    plan: BatchingPlan,
    setup: Setup,
    *,
    apps: Sequence[str] = APPS,
    progress: Callable[[str], None] = print,
) -> Batching:
    """Measure every configuration of the plan, variant by variant."""
    began = time.monotonic()
    skipped = {
        name: f"{PEERS[name].python} is missing: {peers.INSTALL_HINT}"
        for name in plan.peers
        if not PEERS[name].installed()
    }
    configured = targets(plan, apps, [name for name in plan.peers if name not in skipped])
    search = replace(SEARCH, trials=plan.trials)
    if plan.resolution is not None:
        search = replace(search, resolution=plan.resolution)
    log_dir = setup.run_dir / "raw" / "batching"
    log_dir.mkdir(parents=True, exist_ok=True)
    low: list[BatchLowLoad] = []
    found: list[BatchCapacity] = []
    for variant in plan.variants:
        names = [name for name, t in configured.items() if t["variant"] == variant]
        started: dict[str, Server] = {}
        try:
            for name in names:
                progress(f"starting {name}")
                started[name] = start(
                    name, configured[name], log_dir / f"{name}.log", setup.server_cpus
                )
            for server in started.values():
                server.wait_ready(60)
            refused = gate(started, configured, variant)
            if refused:
                raise ParityError("refused before any load: " + "; ".join(refused))
            low.extend(low_load(started, configured, plan.low_load_s, setup.load_cpus))
            found.extend(capacities(started, configured, setup, search, progress))
        finally:
            gunicorn.stop_all(started.values())
    instructions = count(configured, setup, progress) if plan.cost else {}
    return {
        "config": {
            "variants": list(plan.variants),
            "sizes": list(plan.sizes),
            "max_wait_ms": plan.waits[0],
            "waits_ms": list(plan.waits),
            "trials": plan.trials,
            "low_load_s": plan.low_load_s,
            "latency_ms": LATENCY_MS,
            "capacity_resolution": search.resolution,
            "server_cpus": str(setup.server_cpus),
            "load_cpus": str(setup.load_cpus),
            "cost_requests": list(COST_REQUESTS) if plan.cost else [],
        },
        "targets": configured,
        "capacity": found,
        "low_load": low,
        "instructions": instructions,
        "skipped": skipped,
        "duration_s": round(time.monotonic() - began, 1),
    }
