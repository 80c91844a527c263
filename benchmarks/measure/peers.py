"""The apps and the peers (FastAPI, MLServer, LitServe, BentoML) on the same figures, alike.

Every server runs one process for requests, pinned to the server CPUs, and gets the same one-row
prediction from the held-out rows in its own protocol (``load.protocols``). In order:

1. every server is started and must pass the parity gate: each held-out row sent alone, its
   probabilities equal scikit-learn's ``predict_proba`` of that row bit for bit
   (``measure.parity``); a server that answers differently is refused and nothing is measured;
2. wrk, on the load CPUs: a discarded warm-up per server, then ``trials`` rounds of one-row
   predictions at ``connections`` connections, the servers in rotated order each round and the
   A/A twin (the Flask app again) among them; per trial the server tree's CPU per request and,
   after it, the tree's anonymous PSS (memory at one worker);
3. start-up: each server started ``startup_rounds`` more times, rotated, to its ready answer;
4. memory per added worker (``measure.peers_memory``): each server started ``worker_rounds``
   times, rotated, with one and with two worker processes by its own setting (gunicorn's and
   uvicorn's WEB_CONCURRENCY, LitServe's ``workers_per_device``, BentoML's ``workers``,
   MLServer's ``parallel_workers``), pinned to the server and the load CPUs (two sync workers on
   one CPU leave the second one idle), sent the same one-row predictions per worker, each on a
   new connection, a few at once per worker (so the kernel spreads them over processes that
   share a socket), again while fewer processes than workers used CPU, then the tree's anonymous
   PSS read; one more worker costs the difference of the two, round by round. A server that
   refuses a prediction with more workers is recorded as such, with no figure;
5. instructions per one-row prediction over the whole process tree (``measure.cost_server``);
6. lines of code a user writes to serve the model (pygount, as for the apps) and the installed
   size of each server's environment beyond the model stack.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from importlib import metadata
from pathlib import Path

from benchmarks import REPO
from benchmarks.cpus import CpuSet
from benchmarks.load import protocols, wrk
from benchmarks.measure import capacity, capacity_trials, cost, cost_server, footprint, peers_memory
from benchmarks.measure.parity import ParityError, probability_gate
from benchmarks.measure.peers_memory import tree_memory, worker_memory
from benchmarks.plan import PeersPlan, Setup, rotate
from benchmarks.results.peers import PeerCapacity, Peers, PeerTarget, PeerTrial
from benchmarks.results.vocabulary import Protocol
from benchmarks.serving import gunicorn, peers
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import ProcessTree
from benchmarks.targets import AA, APPS
from benchmarks.targets.peers import APP_SETTINGS, PEERS, SETUPS, SYNC, Peer
from model import DEFAULT_VARIANT, Model, artifact_dir, load
from model.data import holdout_instances

APP_FILES = {app: footprint.package_dir(app) for app in APPS}
# What every server's environment holds for the model itself; the installed size leaves it out.
MODEL_STACK = ("numpy", "scikit-learn", "joblib")
APP_PER_REQUEST = (
    "parses and validates /v1 in the shared contract code, adds the contract's security "
    "headers, a request ID and Server-Timing, records its Prometheus metrics"
)
BASELINE_PER_REQUEST = (
    "no framework: a bare WSGI callable with the apps' bodies, security headers, request ID "
    "and Server-Timing; no metrics"
)
BASELINE_FILE = REPO / "benchmarks" / "targets" / "baseline.py"
CAPACITY = capacity.SETTINGS["run"]
LATENCY_MS = 50.0
IN_PROCESS_REQUESTS = 50  # one-row predictions per app in the cost step's default run
COUNTED_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def start(
    name: str,
    log: Path,
    cpus: CpuSet,
    wrap: list[str] | None = None,
    extra: dict[str, str] | None = None,
    workers: int | None = None,
) -> Server:
    """Start an app (under gunicorn) or a peer (its own command), not yet ready: one worker
    process, or ``workers`` by the server's own setting (``peers.start``)."""
    env = {
        "WEB_CONCURRENCY": str(workers or 1),
        "MLAPI_MODEL_VARIANT": DEFAULT_VARIANT,
        **(extra or {}),
    }
    if name in PEERS:
        return peers.start(name, log, cpus=cpus, wrap=wrap, env=env, workers=workers)
    if name in SETUPS:
        setup = SETUPS[name]
        return gunicorn.start(setup.target, log, cpus=cpus, wrap=wrap, env={**env, **setup.env})
    return gunicorn.start(name, log, cpus=cpus, wrap=wrap, env={**env, **SYNC})


def worker_start(name: str, log: Path, cpus: CpuSet, workers: int) -> Server:
    """Start a server with ``workers`` worker processes by its own setting, not yet ready."""
    return start(name, log, cpus, workers=workers)


def counted_start(name: str, wrap: list[str], cpus: CpuSet, log: Path) -> Server:
    """Start a server under ``wrap`` (callgrind), with a fixed hash seed and one BLAS thread."""
    return start(name, log, cpus, wrap, COUNTED_ENV)


def protocol(name: str) -> Protocol:
    """Return the protocol a server's predictions are sent in."""
    return PEERS[name].protocol if name in PEERS else "v1"


def gate(started: dict[str, Server], model: Model) -> dict[str, list[str]]:
    """Run the parity gate on every server; return each one's differences (empty: passed)."""
    rows = holdout_instances()
    return {
        name: probability_gate(name, server.url, protocol(name), model, rows)
        for name, server in started.items()
    }


def load_trials(
    started: dict[str, Server],
    plan: PeersPlan,
    bodies: dict[str, tuple[str, bytes]],
    load_cpus: CpuSet,
    memory: dict[str, list[tuple[float, float]]],
    progress: Callable[[str], None],
) -> list[PeerTrial]:
    """Warm every server up, then run the trials, rotating the order each round."""
    names = list(started)
    for name in names:
        path, body = bodies[name]
        wrk.run(started[name].url + path, method="POST", body=body, seconds=plan.warmup_s,
                connections=plan.connections, cpus=load_cpus)  # fmt: skip
    trials: list[PeerTrial] = []
    for trial in range(plan.trials):
        for name in rotate(names, trial):
            progress(f"wrk trial {trial + 1}/{plan.trials}: {name}")
            server, (path, body) = started[name], bodies[name]
            tree = ProcessTree(server.pid)
            before = tree.cpu_seconds()
            result = wrk.run(
                server.url + path,
                method="POST",
                body=body,
                seconds=plan.seconds,
                connections=plan.connections,
                cpus=load_cpus,
            )
            cpu_s = tree.cpu_seconds() - before
            share = result.cpu_cores / max(1, len(load_cpus))
            trials.append(
                {
                    "target": name,
                    "trial": trial,
                    "seconds": result.seconds,
                    "requests": result.requests,
                    "errors": result.errors,
                    "rps": (result.requests - result.errors) / result.seconds,
                    "p50_ms": result.p50_ms,
                    "p99_ms": result.p99_ms,
                    "cpu_us_per_request": cpu_s / max(1, result.requests) * 1e6,
                    "generator_cpu_util": share,
                    "generator_bound": share >= 0.9,
                }
            )
            memory[name].append(tree_memory(server.pid))
    return trials


def capacities(
    started: dict[str, Server],
    setup: Setup,
    trials: int,
    first_rps: dict[str, float],
    latency_ms: float,
    progress: Callable[[str], None],
) -> list[PeerCapacity]:
    """Search every server's open-loop capacity ``trials`` times, rotated, as a run searches the
    apps' (``capacity.SETTINGS["run"]``): the first search from half its wrk rate, the later ones
    from 0.8 of the first capacity, growing by 1.25."""

    def settings(name: str) -> capacity.Settings:
        return replace(CAPACITY, scenario=protocols.SCENARIO[protocol(name)])

    return capacity_trials.rotated_searches(
        setup, started, trials, settings, lambda name: first_rps[name] / 2, latency_ms, progress
    )


def startup_rounds(
    names: Sequence[str], rounds: int, log_dir: Path, cpus: CpuSet
) -> dict[str, list[float]]:
    """Start each server ``rounds`` times, rotated; return the seconds to ready of each start."""
    found: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in rotate(names, r):
            server = start(name, log_dir / f"startup-{name}-{r}.log", cpus)
            try:
                found[name].append(server.wait_ready(120))
            finally:
                server.stop()
    return found


def installed(name: str) -> tuple[int, int]:
    """Return the bytes and the number of distributions a server's environment holds beyond
    the model stack (numpy, scikit-learn, joblib and what they need) and pip."""
    stack = footprint.closure(MODEL_STACK) | {"pip", "setuptools", "wheel"}
    if name in PEERS:
        site = [str(p) for p in (REPO / PEERS[name].venv).glob("lib/python3*/site-packages")]
        dists = list(metadata.distributions(path=site))
    else:
        dists = [metadata.distribution(n) for n in footprint.closure(on_gunicorn(name))]
    beyond = {
        footprint.normalize(d.metadata["Name"]): d
        for d in dists
        if footprint.normalize(d.metadata["Name"]) not in stack
    }
    return sum(footprint.size_bytes(d) for d in beyond.values()), len(beyond)


def versions(name: str) -> dict[str, str]:
    """Return the versions of a server's framework distributions, as installed."""
    if name not in PEERS:
        return {n: metadata.version(n) for n in on_gunicorn(name)}
    site = [str(p) for p in (REPO / PEERS[name].venv).glob("lib/python3*/site-packages")]
    found = {
        footprint.normalize(d.metadata["Name"]): d.version
        for d in metadata.distributions(path=site)
    }
    return {n: found[n] for n in PEERS[name].distributions if n in found}


def user_code(name: str) -> tuple[int, list[str]]:
    """Return the code lines a user writes to serve the model, and the files counted."""
    target = SETUPS[name].target if name in SETUPS else name
    if name in PEERS:
        files = [REPO / f for f in PEERS[name].files]
    elif target in APP_FILES:
        files = [APP_FILES[target] / f for f in footprint.package_files(target)]
    else:
        files = [BASELINE_FILE]
    paths = [str(f.relative_to(REPO)) for f in files]
    return sum(footprint.code_lines(f) for f in files), paths


def on_gunicorn(name: str) -> list[str]:
    """Return the distributions a server on gunicorn imports: its framework's, gunicorn."""
    target = SETUPS[name].target if name in SETUPS else name
    if target not in footprint.FRAMEWORKS:  # the bare-WSGI baseline
        return ["gunicorn"]
    return [footprint.FRAMEWORKS[target], *footprint.EXTENSIONS[target], "gunicorn"]


def describe(name: str, processes: int, differences: list[str]) -> PeerTarget:
    """Return what is known of a server before its timed figures."""
    peer: Peer | None = PEERS.get(name)
    setup = SETUPS.get(name)
    twin = name == AA  # the Flask app again: its code and install are Flask's
    loc, files = (None, []) if twin else user_code(name)
    size, count = (None, None) if twin else installed(name)
    worker = (setup.env if setup else SYNC)["GUNICORN_WORKER_CLASS"]
    kind = peer.kind if peer else setup.kind if setup else "app"
    if peer:
        server, settings, per_request = peer.server, peer.settings, peer.per_request
    else:
        server = f"gunicorn, {worker} worker"
        settings = setup.settings if setup else APP_SETTINGS
        per_request = BASELINE_PER_REQUEST if kind == "baseline" else APP_PER_REQUEST
    return {
        "kind": "twin" if twin else kind,
        "protocol": protocol(name),
        "versions": versions("flask" if twin else name),
        "server": server,
        "settings": settings,
        "per_request": per_request,
        "processes": processes,
        "parity": differences,
        "instructions": None,
        "instructions_totals": None,
        "instructions_idle": None,
        "in_process_instructions": None,
        "startup_s": [],
        "pss_anon_mib": [],
        "pss_mib": [],
        "loc": loc,
        "files": files,
        "installed_bytes": size,
        "distributions": count,
    }


def measure(
    plan: PeersPlan,
    setup: Setup,
    *,
    peer_names: Sequence[str],
    apps: Sequence[str] = APPS,
    setups: Sequence[str] = (),
    count: bool = True,
    progress: Callable[[str], None] = print,
    extra: Mapping[str, dict[str, str]] | None = None,
) -> Peers:
    """Measure the apps, the ``setups`` (``targets.peers.SETUPS``: the apps and the baseline on
    other gunicorn settings), the installed peers among ``peer_names`` and the twin; refuse
    (raise ParityError) when any server's probabilities differ from the model's. ``extra`` adds
    environment variables to one server's (the tests serve a wrong model through it)."""
    started_at = time.monotonic()
    log_dir = setup.run_dir / "raw" / "peers"
    server_cpus, load_cpus = setup.server_cpus, setup.load_cpus
    log_dir.mkdir(parents=True, exist_ok=True)
    skipped = {
        name: f"{PEERS[name].python} is missing: {peers.INSTALL_HINT}"
        for name in peer_names
        if not PEERS[name].installed()
    }
    names = [*apps, *setups, *(n for n in peer_names if n not in skipped), AA]
    model = load(artifact_dir(DEFAULT_VARIANT))
    row = holdout_instances(1)
    bodies = {
        name: (
            protocols.path(protocol(name)),
            protocols.body(protocol(name), row),
        )
        for name in names
    }
    started: dict[str, Server] = {}
    try:
        for name in names:
            progress(f"starting {name}")
            settings = (extra or {}).get(name)
            started[name] = start(name, log_dir / f"{name}.log", server_cpus, extra=settings)
            started[name].wait_ready(120)
        differences = gate(started, model)
        refused = {name: found for name, found in differences.items() if found}
        if refused:
            raise ParityError(
                "refused before any load, its probabilities are not the model's: "
                + "; ".join(line for found in refused.values() for line in found)
            )
        targets = {
            name: describe(name, len(ProcessTree(started[name].pid).processes), [])
            for name in names
        }
        memory: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        trials = load_trials(started, plan, bodies, load_cpus, memory, progress)
        wrk_rps = {
            name: statistics.median(t["rps"] for t in trials if t["target"] == name)
            for name in names
        }
        searched = capacities(started, setup, plan.capacity_trials, wrk_rps, LATENCY_MS, progress)
    finally:
        gunicorn.stop_all(started.values())
    for name in names:
        targets[name]["pss_anon_mib"] = [anon for anon, _ in memory[name]]
        targets[name]["pss_mib"] = [pss for _, pss in memory[name]]
    progress("start-up rounds")
    for name, seconds in startup_rounds(names, plan.startup_rounds, log_dir, server_cpus).items():
        targets[name]["startup_s"] = seconds
    measured = [name for name in names if name != AA]
    both = CpuSet.of([*server_cpus, *load_cpus])
    workers, workers_refused = worker_memory(
        measured, plan.worker_rounds, bodies, log_dir, both, progress, worker_start
    )
    if count:
        for name in names:
            if name == AA:
                continue
            progress(f"counting {name} under callgrind")
            path, body = bodies[name]
            counted = cost_server.per_request(
                partial(counted_start, name),
                log_dir / f"callgrind-{name}",
                CpuSet.of([*server_cpus, *load_cpus]),
                path,
                body,
                plan.cost_requests,
                plan.cost_warmup,
            )
            targets[name]["instructions"] = counted["instructions"]
            targets[name]["instructions_totals"] = [
                int(counted["window_n1"]),
                int(counted["window_n2"]),
            ]
            targets[name]["instructions_idle"] = [
                int(counted["idle_none"]),
                int(counted["idle_span"]),
            ]
    if count and apps:
        progress("counting the apps in process (the cost step's way)")
        in_process = cost.measure(
            "default",
            CpuSet.of([*server_cpus, *load_cpus]),
            targets=list(apps),
            requests={"predict_one": IN_PROCESS_REQUESTS},
        )
        for line in in_process["rows"]:
            if line["variant"] == DEFAULT_VARIANT and line["target"] in targets:
                targets[line["target"]]["in_process_instructions"] = float(line["instructions"])
    return {
        "config": {
            "connections": plan.connections,
            "trials": plan.trials,
            "seconds": plan.seconds,
            "warmup_s": plan.warmup_s,
            "startup_rounds": plan.startup_rounds,
            "cost_requests": list(plan.cost_requests),
            "cost_warmup": plan.cost_warmup,
            "worker_counts": list(peers_memory.WORKER_COUNTS),
            "worker_rounds": plan.worker_rounds,
            "server_cpus": str(server_cpus),
            "load_cpus": str(load_cpus),
            "interleaving": "the servers in rotated order each trial, the A/A twin among them",
            "model": DEFAULT_VARIANT,
            "capacity_trials": plan.capacity_trials,
            "latency_ms": LATENCY_MS,
            "capacity_resolution": CAPACITY.resolution,
        },
        "targets": targets,
        "trials": trials,
        "capacity": searched,
        "workers": workers,
        "workers_refused": workers_refused,
        "skipped": skipped,
        "duration_s": round(time.monotonic() - started_at, 1),
    }
