"""Sustained load: each app at about 70% of its measured capacity, with a worker killed halfway.

    python -m benchmarks soak                  # 3 minutes per app
    python -m benchmarks soak --seconds 20     # a short one

For each app: wrk measures its capacity for one-row predictions (3 s), then Locust holds
``--fraction`` of it for ``--seconds`` while the runner samples every worker's RSS each second.
Halfway through, one worker is killed with SIGKILL (the master must replace it). The result:
requests, failures, latency over time, RSS over time and its trend (least squares, MiB per
minute, over the second half). Target: no failure beyond the requests on the killed worker's
connections (counted as it is killed: on the gthread worker its clients' kept-alive
connections, each of which can lose the request in flight or the next one sent on it; on the
sync worker the one request in flight), and no upward RSS trend beyond noise.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks import REPO
from benchmarks.load import locust, payloads, wrk
from benchmarks.plan import Cell, Setup
from benchmarks.results.scaling import Soak, SoakHistory, SoakRun
from benchmarks.serving import gunicorn
from benchmarks.serving.processes import WorkerMemory, open_connections, worker_pids
from benchmarks.targets import APPS

WARMUP_S = 2.0
USERS = 8  # Locust users, paced to the held rate


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Return the least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 3:
        return 0.0
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread * 60


def history(csv_path: Path) -> list[SoakHistory]:
    """Return Locust's per-second aggregate history: t, rps, failures/s, p50 and p99 (ms)."""
    if not csv_path.exists():
        return []
    rows: list[SoakHistory] = []
    with csv_path.open() as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") != "Aggregated":
                continue
            rows.append(
                {
                    "t": float(row["Timestamp"]),
                    "rps": float(row["Requests/s"] or 0),
                    "failures_per_s": float(row["Failures/s"] or 0),
                    "p50_ms": float(row["50%"] or 0) if row["50%"] != "N/A" else 0.0,
                    "p99_ms": float(row["99%"] or 0) if row["99%"] != "N/A" else 0.0,
                }
            )
    start = rows[0]["t"] if rows else 0.0
    for point in rows:
        point["t"] -= start
    return rows


def soak_app(
    setup: Setup, name: str, seconds: float, fraction: float, capacity_s: float = 3.0
) -> Soak:
    """Soak one app; return its figures."""
    workdir = setup.run_dir / f"soak-{name}"
    workdir.mkdir(parents=True)
    env = {"WEB_CONCURRENCY": "2"}
    server = gunicorn.start(name, workdir / "server.log", env=env, cpus=setup.server_cpus)
    memory = WorkerMemory(server.pid, interval_s=1.0)
    try:
        server.wait_ready()
        method, path, kind = wrk.SCENARIOS["predict_one"]
        assert kind is not None  # a prediction has a body
        body = payloads.load(setup.payloads_path)[kind][0].encode()
        capacity = wrk.run(
            server.url + path,
            method=method,
            body=body,
            connections=8,
            seconds=capacity_s,
            cpus=setup.load_cpus,
        ).rps
        rate = capacity * fraction
        cell = Cell("light", "predict_one", USERS, 1)
        command = locust.command(
            setup, server.url, cell, workdir, (WARMUP_S, round(WARMUP_S + seconds))
        )
        command += ["--rate", f"{rate:.1f}", "--csv-full-history"]
        with (workdir / "locust.log").open("wb") as log:
            generator = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log)
        with memory:
            time.sleep(WARMUP_S + seconds / 2)
            victims = sorted(worker_pids(server.pid))
            killed, held = None, 0
            if victims:
                killed = victims[0]
                held = open_connections(killed)
                os.kill(killed, signal.SIGKILL)
            generator.wait(seconds + 90)
        replaced = killed is not None and killed not in worker_pids(server.pid)
        workers_after = len(worker_pids(server.pid))
    finally:
        server.stop()
    samples = memory.samples  # seconds, worker PID, RSS MiB
    summary = next(json.loads(p.read_text()) for p in workdir.glob("LocalRunner-*.json"))
    total = summary["total"]
    # Per worker: the replacement starts smaller than the worker it replaced, so mixing workers
    # would read as a trend. The steepest worker over the second half is reported.
    second_half: dict[int, list[tuple[float, float]]] = {}
    for t, pid, rss in samples:
        if t > WARMUP_S + seconds / 2 + 2:
            second_half.setdefault(pid, []).append((t, rss))
    slopes = [slope_per_minute(points) for points in second_half.values() if len(points) >= 3]
    trend = max(slopes, default=0.0)
    rss_values = memory.rss_mib
    return {
        "app": name,
        "seconds": summary["seconds"],
        "capacity_rps": capacity,
        "target_rps": rate,
        "requests": total["requests"],
        "failures": total["failures"],
        "rps": (total["requests"] - total["failures"]) / summary["seconds"],
        "latency_ms": total["latency_ms"],
        "errors": summary["errors"],
        "worker_killed": killed is not None,
        "connections_killed": held,
        "worker_replaced": replaced and workers_after == 2,
        "rss_mib_start": rss_values[0] if rss_values else 0.0,
        "rss_mib_end": rss_values[-1] if rss_values else 0.0,
        "rss_trend_mib_per_min": trend,
        "rss_samples": [{"t": t, "pid": pid, "rss_mib": rss} for t, pid, rss in samples],
        "history": history(workdir / "locust_stats_history.csv"),
    }


def measure(
    setup: Setup, apps: tuple[str, ...] = APPS, seconds: float = 180.0, fraction: float = 0.7
) -> SoakRun:
    """Soak every app in turn, from the load CPUs; return the figures."""
    soaked = [soak_app(setup, name, seconds, fraction) for name in apps]
    return {"seconds": seconds, "fraction": fraction, "apps": soaked}
