"""Compare the throughput of the bare-WSGI baseline, Flask and Django on one endpoint.

Every target runs under the same gunicorn settings, pinned to the same CPU; wrk runs pinned to
another CPU. Targets are measured in turn, trial after trial (A B C A B C ...), and the report
gives medians, each app's ratio to the baseline and the server's CPU time per request.

    python -m benchmarks throughput                      # light model, one-row predictions
    python -m benchmarks throughput --scenario health --trials 5 --seconds 10
    python -m benchmarks throughput --cpus 0,1/0,1       # server and wrk share both CPUs
    python -m benchmarks throughput --floors             # with each framework's smallest app

``--floors`` adds ``flask-floor`` and ``django-floor`` (``targets/floor_flask.py``,
``targets/floor_django.py``): the smallest app each framework needs to answer the same request,
without the contract's headers, request ID, envelope check or error mapping, on the framework's
defaults. Their ratio to the baseline is about the most an app in that framework's idiom can reach
on this machine (not a strict bound: DRF's defaults do work an app may skip).
"""

from __future__ import annotations

import statistics
from pathlib import Path

from benchmarks import targets as registry
from benchmarks.load import payloads, wrk
from benchmarks.measure.phases import MemoryFigures, memory_figures
from benchmarks.plan import interleave
from benchmarks.results.records import Throughput, ThroughputSummary, ThroughputTrial
from benchmarks.results.vocabulary import Variant
from benchmarks.serving import gunicorn, nginx
from benchmarks.serving.processes import ServerMemory, cpu_seconds, split_cpus


def measure(
    scenario: str,
    *,
    variant: Variant = "light",
    trials: int = 3,
    seconds: float = 8.0,
    connections: int = 8,
    targets: tuple[str, ...] = registry.RUN,
    workdir: Path,
    proxied: bool = False,
    cpus: str | None = None,
) -> Throughput:
    """Run the interleaved trials and return every figure (of the ``targets`` that serve the
    scenario: neither the baseline nor a floor speaks v2)."""
    method, path, kind = wrk.SCENARIOS[scenario]
    body = payloads.build()[kind][0].encode() if kind else None
    targets = tuple(name for name in targets if registry.serves(name, scenario))
    server_cpus, load_cpus = split_cpus(cpus)
    env: dict[str, str] = {"MLAPI_MODEL_VARIANT": variant}
    started = {
        name: gunicorn.start(name, workdir / f"{name}.log", env=env, cpus=server_cpus)
        for name in targets
    }
    # name -> (base URL, PIDs whose CPU counts as the server's)
    entries: dict[str, tuple[str, list[int]]] = {
        name: (server.url, [server.pid]) for name, server in started.items()
    }
    proxies = []
    runs: dict[str, list[ThroughputTrial]] = {}
    memory: dict[str, MemoryFigures] = {}

    def load(url: str, seconds: float, name: str) -> wrk.WrkResult:
        return wrk.run(
            url,
            method=method,
            body=body,
            connections=connections,
            seconds=seconds,
            cpus=load_cpus,
            headers=registry.TARGETS[name.removesuffix("+nginx")].headers,
        )

    try:
        for name, server in started.items():
            # Every target starts at once on the server CPUs: more targets, longer to be ready.
            server.wait_ready(timeout=max(30.0, 8.0 * len(started)))
            if proxied:
                # The proxy is part of the server side: it runs on the server's CPUs.
                front = nginx.start(server.port, workdir / f"nginx-{name}", cpus=server_cpus)
                proxies.append(front)
                front.wait_ready()
                entries[f"{name}+nginx"] = (
                    f"http://{gunicorn.HOST}:{front.port}",
                    [server.pid, front.process.pid],
                )
        runs = {name: [] for name in entries}
        for name, (url, _) in entries.items():
            # Warm-up, discarded: imports, first requests, CPU frequency.
            load(url + path, seconds=2, name=name)
        for _, name in interleave(trials, list(entries)):
            url, pids = entries[name]
            before = cpu_seconds(pids)
            result = load(url + path, seconds=seconds, name=name)
            used = cpu_seconds(pids) - before
            runs[name].append(
                {
                    "rps": result.rps,
                    "p50_ms": result.p50_ms,
                    "p99_ms": result.p99_ms,
                    "errors": result.errors,
                    "cpu_us_per_request": used / max(result.requests, 1) * 1e6,
                }
            )
        # Each server's memory once it has served every trial: master and workers, PSS.
        for name, server in started.items():
            sampler = ServerMemory(server.pid, interval_s=1.0)
            sampler.sample_round()
            memory[name] = memory_figures(sampler.samples)
    finally:
        for front in proxies:
            front.stop()
        gunicorn.stop_all(started.values())
    summary = {name: summarise(trials_) for name, trials_ in runs.items()}
    for name, figures in memory.items():
        summary[name] |= {
            "pss_mib": figures["pss_mib_steady"],
            "pss_mib_workers": figures["pss_mib_workers"],
        }
    return {
        "scenario": scenario,
        "variant": variant,
        "trials": trials,
        "seconds": seconds,
        "connections": connections,
        "server_cpus": str(server_cpus),
        "load_cpus": str(load_cpus),
        "runs": runs,
        "summary": summary,
    }


def summarise(trials: list[ThroughputTrial]) -> ThroughputSummary:
    """Return the medians of a target's trials and the range of its throughput."""
    return {
        "rps": statistics.median(trial["rps"] for trial in trials),
        "p50_ms": statistics.median(trial["p50_ms"] for trial in trials),
        "p99_ms": statistics.median(trial["p99_ms"] for trial in trials),
        # The record says int (ThroughputTrial's), but the median of an even number of trials
        # is a float: the record is to follow this figure.
        "errors": statistics.median(trial["errors"] for trial in trials),
        "cpu_us_per_request": statistics.median(trial["cpu_us_per_request"] for trial in trials),
        "rps_min": min(trial["rps"] for trial in trials),
        "rps_max": max(trial["rps"] for trial in trials),
    }
