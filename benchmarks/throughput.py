"""Compare the throughput of the bare-WSGI baseline, Flask and Django on one endpoint.

Every target runs under the same gunicorn settings, pinned to the same CPU; wrk runs pinned to
another CPU. Targets are measured in turn, trial after trial (A B C A B C ...), and the report
gives medians, each app's ratio to the baseline and the server's CPU time per request.

    python -m benchmarks.throughput                      # light model, one-row predictions
    python -m benchmarks.throughput --scenario health --trials 5 --seconds 10
    python -m benchmarks.throughput --cpus 0,1/0,1       # server and wrk share both CPUs
    python -m benchmarks.throughput --floors             # with each framework's smallest app

``--floors`` adds ``flask-floor`` and ``django-floor`` (``benchmarks/floor_flask.py``,
``benchmarks/floor_django.py``): the smallest app each framework needs to answer the same request,
without the contract's headers, request ID, envelope check or error mapping, on the framework's
defaults. Their ratio to the baseline is about the most an app in that framework's idiom can reach
on this machine (not a strict bound: DRF's defaults do work an app may skip).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from benchmarks import proxy, servers, wrk
from model.data import holdout_instances

TARGETS = ("baseline", "flask", "django")
WITH_FLOORS = ("baseline", "flask-floor", "flask", "django-floor", "django")
SCENARIOS = {
    "predict_one": ("POST", "/v1/predict"),
    "health": ("GET", "/health/live"),
}


def measure(
    scenario: str,
    *,
    variant: str = "light",
    trials: int = 3,
    seconds: float = 8.0,
    connections: int = 8,
    targets: tuple[str, ...] = TARGETS,
    workdir: Path,
    proxied: bool = False,
    cpus: str | None = None,
) -> dict:
    """Run the interleaved trials and return every figure."""
    method, path = SCENARIOS[scenario]
    body = json.dumps({"instances": holdout_instances(1)}).encode() if method == "POST" else None
    server_cpus, load_cpus = servers.split_cpus(cpus)
    env = {"MLAPI_MODEL_VARIANT": variant}
    started = {
        name: servers.start(name, workdir / f"{name}.log", env=env, cpus=server_cpus)
        for name in targets
    }
    # name -> (base URL, PIDs whose CPU counts as the server's)
    entries: dict[str, tuple[str, list[int]]] = {
        name: (server.url, [server.pid]) for name, server in started.items()
    }
    proxies = []
    runs: dict[str, list[dict]] = {}

    def load(url: str, seconds: float) -> wrk.WrkResult:
        return wrk.run(
            url, method=method, body=body, connections=connections, seconds=seconds, cpus=load_cpus
        )

    try:
        for name, server in started.items():
            server.wait_ready()
            if proxied:
                # The proxy is part of the server side: it runs on the server's CPUs.
                front = proxy.start(server.port, workdir / f"nginx-{name}", cpus=server_cpus)
                proxies.append(front)
                front.wait_ready()
                entries[f"{name}+nginx"] = (
                    f"http://{servers.HOST}:{front.port}",
                    [server.pid, front.process.pid],
                )
        runs = {name: [] for name in entries}
        for url, _ in entries.values():
            # Warm-up, discarded: imports, first requests, CPU frequency.
            load(url + path, seconds=2)
        for _ in range(trials):
            for name, (url, pids) in entries.items():
                before = sum(servers.tree_cpu_seconds(pid) for pid in pids)
                result = load(url + path, seconds=seconds)
                used = sum(servers.tree_cpu_seconds(pid) for pid in pids) - before
                runs[name].append(
                    {
                        "rps": result.rps,
                        "p50_ms": result.p50_ms,
                        "p99_ms": result.p99_ms,
                        "errors": result.errors,
                        "cpu_us_per_request": used / max(result.requests, 1) * 1e6,
                    }
                )
    finally:
        for front in proxies:
            front.stop()
        for server in started.values():
            server.stop()
    summary = {
        name: {key: statistics.median(run[key] for run in trials_) for key in trials_[0]}
        | {"rps_min": min(r["rps"] for r in trials_), "rps_max": max(r["rps"] for r in trials_)}
        for name, trials_ in runs.items()
    }
    return {
        "scenario": scenario,
        "variant": variant,
        "trials": trials,
        "seconds": seconds,
        "connections": connections,
        "server_cpus": server_cpus,
        "load_cpus": load_cpus,
        "runs": runs,
        "summary": summary,
    }


def render(result: dict) -> str:
    """Return a plain-text table of the medians and ratios to the baseline (and to the floors)."""
    summary = result["summary"]
    base = summary.get("baseline", {}).get("rps")
    lines = [
        f"{result['scenario']} ({result['variant']} model), {result['trials']} trials x "
        f"{result['seconds']:.0f} s, {result['connections']} connections, server on CPU "
        f"{result['server_cpus']}, wrk on CPU {result['load_cpus']}",
        f"{'target':<13} {'req/s':>8} {'(min-max)':>15} {'vs base':>8} {'vs floor':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'errors':>6}",
    ]
    for name, row in summary.items():
        ratio = f"{row['rps'] / base:.2f}x" if base else "-"
        floor = summary.get(f"{name}-floor", {}).get("rps")
        to_floor = f"{row['rps'] / floor:.2f}x" if floor else "-"
        spread = f"{row['rps_min']:.0f}-{row['rps_max']:.0f}"
        lines.append(
            f"{name:<13} {row['rps']:>8.0f} {spread:>15} {ratio:>8} {to_floor:>8} "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['cpu_us_per_request']:>10.0f} "
            f"{row['errors']:>6.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, measure, print the table (and write JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="predict_one")
    parser.add_argument("--variant", choices=("light", "heavy"), default="light")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--targets", default=",".join(TARGETS))
    chosen.add_argument(
        "--floors",
        action="store_true",
        help="measure " + ",".join(WITH_FLOORS) + " (each framework's smallest app too)",
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="also measure each target behind nginx (deploy/nginx.conf)",
    )
    parser.add_argument(
        "--cpus",
        help="server/wrk CPUs, e.g. 0/1 (the default: disjoint halves); 0,1/0,1 shares both, "
        "with one gunicorn worker per server CPU",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not wrk.available():
        parser.error("wrk is not installed: run `bash scripts/system-deps.sh` (Debian package wrk)")
    with tempfile.TemporaryDirectory(prefix="throughput-") as workdir:
        result = measure(
            args.scenario,
            variant=args.variant,
            trials=args.trials,
            seconds=args.seconds,
            connections=args.connections,
            targets=WITH_FLOORS if args.floors else tuple(args.targets.split(",")),
            workdir=Path(workdir),
            proxied=args.proxy,
            cpus=args.cpus,
        )
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
