"""Memory as gunicorn workers are added: PSS and USS of the master and of every worker.

    python -m benchmarks workers             # both apps, both models, 1, 2 and 4 workers
    python -m benchmarks workers --quick     # the light model, 1 and 2 workers, as configured

For each app, model variant, ``preload_app`` setting and ``gc.freeze()`` setting
(``GUNICORN_PRELOAD`` and ``GUNICORN_GC_FREEZE``, read by the shared gunicorn.conf.py), one server
starts on the server CPUs with the plan's fewest workers and gains the others one at a time
(SIGTTIN, gunicorn's signal for one more worker), so the master, and what it shares, is the same
process at every count. At each count, once every worker has finished booting:

- one-row predictions over twice as many connections as workers, in batches of the plan's
  ``warmup_requests`` per worker, until every worker has served: each worker's CPU time must
  have moved by ``SERVED_CPU_S`` since it settled (an idle worker uses next to none), so no
  worker's memory is read before its requests have touched, and copied, the pages they write
  to (with 300 requests, also past a Django worker's first full garbage collection);
- ``READS`` readings of every process's PSS and USS (psutil's ``memory_full_info``, from
  /proc/PID/smaps_rollup), ``READ_GAP_S`` apart; each process's figure is its median.

Derived per server: the total PSS at each count (master and workers), the memory one more worker
costs (the least-squares slope of the total over the counts) and how many workers a GiB holds
(by the slope over anonymous pages, which only the server's own processes share: the share of
the file pages, the libraries every Python process maps, moves with what else runs).
Memory does not depend on timing, but it is not exact either (a worker's allocator, its caches,
file pages shared with other processes on the machine), so the plan may repeat the whole matrix
(``rounds``) and each fit carries the spread of its totals between rounds.
"""

from __future__ import annotations

import os
import runpy
import signal
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import psutil

from benchmarks.cpus import CpuSet
from benchmarks.load import payloads
from benchmarks.plan import WorkersPlan, rotate
from benchmarks.results.scaling import Workers, WorkersFit, WorkersRow
from benchmarks.results.vocabulary import ScaleMode, Variant
from benchmarks.serving import gunicorn
from benchmarks.serving.processes import ServerMemory, process_cpu_seconds, stop_process
from benchmarks.targets import APPS

SERVED_CPU_S = 0.02  # CPU a worker must have used since it settled to count as having served
SETTLE_S = 0.3  # a worker whose CPU time did not move over this long has finished booting
READS = 3
READ_GAP_S = 0.1
MAX_BATCHES = 8  # warm-up batches before giving up on a worker that never served
HEADERS = {"Content-Type": "application/json"}


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Return the least-squares (slope, intercept) of (x, y) points; slope 0 for a single x."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return 0.0, mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x


def _spread(by_count: dict[int, list[float]]) -> float | None:
    """Return the largest (max - min) / median of a count's values between rounds."""
    repeated = [values for values in by_count.values() if len(values) > 1]
    if not repeated:
        return None
    return max((max(v) - min(v)) / statistics.median(v) for v in repeated)


def _slopes(by_round: dict[int, dict[int, float]]) -> list[float]:
    """Return the least-squares slope of each round's values over the counts."""
    return [fit(sorted(values.items()))[0] for _, values in sorted(by_round.items())]


def summarise(rows: Sequence[WorkersRow]) -> list[WorkersFit]:
    """Return one fit per server setting: total PSS per count, marginal MiB, workers per GiB.

    The total at a count is the median over the rounds; the slope is fitted to those medians,
    and to each round's totals alone (``marginal_mib_rounds``: how far it moves between
    rounds). ``spread`` is the largest (max - min) / median of a count's totals between rounds
    (None with one round). The same figures over anonymous pages only carry ``anon`` in their
    names (None where the kernel does not split PSS).
    """
    groups: dict[tuple[str, Variant, bool, bool], list[WorkersRow]] = {}
    for row in rows:
        key = (row["app"], row["variant"], row["preload"], row["freeze"])
        groups.setdefault(key, []).append(row)
    fits: list[WorkersFit] = []
    for (app, variant, preload, freeze), mine in groups.items():
        figures: dict[str, dict[str, Any]] = {}
        columns: dict[str, list[float | None]] = {
            "total_pss_mib": [r.get("total_pss_mib") for r in mine],
            "total_pss_anon_mib": [r.get("total_pss_anon_mib") for r in mine],
        }
        for field, column in columns.items():
            known = [
                (r["workers"], r["round"], value)
                for r, value in zip(mine, column, strict=True)
                if value is not None
            ]
            if len(known) < len(mine):
                continue
            by_count: dict[int, list[float]] = {}
            by_round: dict[int, dict[int, float]] = {}
            for n, round_, value in known:
                by_count.setdefault(n, []).append(value)
                by_round.setdefault(round_, {})[n] = value
            counts = sorted(by_count)
            totals = [statistics.median(by_count[n]) for n in counts]
            slope, intercept = fit(list(zip(counts, totals, strict=True)))
            figures[field] = {
                "counts": counts,
                "totals": totals,
                "slope": slope,
                "intercept": intercept,
                "slopes": _slopes(by_round),
                "spread": _spread(by_count),
                "rounds": len(by_round),
            }
        pss = figures["total_pss_mib"]
        anon = figures.get("total_pss_anon_mib")
        # What one more worker costs, as far as this machine can tell: over anonymous pages,
        # whose share does not move with the machine's other processes, where measured.
        per_worker = anon["slope"] if anon else pss["slope"]
        fits.append(
            {
                "app": app,
                "variant": variant,
                "preload": preload,
                "freeze": freeze,
                "counts": pss["counts"],
                "total_pss_mib": pss["totals"],
                "marginal_mib": pss["slope"],
                "marginal_mib_rounds": pss["slopes"],
                "base_mib": pss["intercept"],
                "workers_per_gib": 1024 / per_worker if per_worker > 0 else None,
                "total_pss_anon_mib": anon["totals"] if anon else None,
                "marginal_anon_mib": anon["slope"] if anon else None,
                "marginal_anon_mib_rounds": anon["slopes"] if anon else None,
                "rounds": pss["rounds"],
                "spread": pss["spread"],
                "spread_anon": anon["spread"] if anon else None,
            }
        )
    return fits


def _workers(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children()


def settle(pid: int, count: int, timeout: float = 60.0) -> list[psutil.Process]:
    """Wait until the master has ``count`` workers and none of them is still using CPU."""
    deadline = time.monotonic() + timeout
    before: dict[int, float] = {}
    while time.monotonic() < deadline:
        workers = _workers(pid)
        now = {w.pid: process_cpu_seconds(w) for w in workers}
        if len(workers) == count and now == before:
            return workers
        before = now
        time.sleep(SETTLE_S)
    raise gunicorn.ServerError(f"{count} workers of {pid} did not settle in {timeout:.0f} s")


def warm_up(server: gunicorn.Server, bodies: Sequence[str], per_worker: int) -> dict[str, Any]:
    """Send one-row predictions until every worker has served; return requests and who served."""
    workers = settle(server.pid, _count(server))
    start = {w.pid: process_cpu_seconds(w) for w in workers}
    connections = 2 * len(workers)
    sent = 0
    body = cycle(bodies)

    def predict(payload: str) -> None:
        status, _, answer = gunicorn.request(
            server.port, "POST", "/v1/predict", payload.encode(), HEADERS, timeout=30.0
        )
        if status != 200:
            raise gunicorn.ServerError(f"{server.name}: {status} {answer[:200]!r}")

    served: dict[int, bool] = {}
    with ThreadPoolExecutor(connections) as pool:
        for _ in range(MAX_BATCHES):
            batch = list(islice(body, per_worker * len(workers)))
            list(pool.map(predict, batch))
            sent += len(batch)
            served = {w.pid: process_cpu_seconds(w) - start[w.pid] >= SERVED_CPU_S for w in workers}
            if all(served.values()):
                break
    return {"requests": sent, "served": served}


def _count(server: gunicorn.Server) -> int:
    return len(_workers(server.pid))


def pss_anon_mib(pid: int) -> float | None:
    """Return a process's PSS of anonymous pages (MiB), from /proc/PID/smaps_rollup.

    Anonymous pages are shared only within the fork family, so unlike file pages (the shared
    libraries every Python process on the machine maps) their share does not move with what
    else runs. None where the kernel does not split PSS (before Linux 5.4).
    """
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in rollup.splitlines():
        if line.startswith("Pss_Anon:"):
            return int(line.split()[1]) / 1024
    return None


def read_memory(pid: int) -> dict[str, Any]:
    """Return the median PSS and USS (MiB) of the master and of each worker over ``READS``."""
    memory = ServerMemory(pid, READ_GAP_S)
    for read in range(READS):
        if read:
            time.sleep(READ_GAP_S)
        memory.sample_round()
    by_pid: dict[int, list] = {}
    for sample in memory.samples:
        by_pid.setdefault(sample.pid, []).append(sample)
    master = by_pid.pop(pid)
    workers = [by_pid[p] for p in sorted(by_pid)]

    def median(samples: list, field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples)

    return {
        "pids": sorted(by_pid),
        "pss_anon_mib": [pss_anon_mib(p) for p in (pid, *sorted(by_pid))],
        "master_pss_mib": median(master, "pss"),
        "master_uss_mib": median(master, "uss"),
        "worker_pss_mib": [median(w, "pss") for w in workers],
        "worker_uss_mib": [median(w, "uss") for w in workers],
    }


def frozen_objects(log: str) -> int | None:
    """Return the object count of the last gc.freeze() line the master logged, if any."""
    lines = [line for line in log.splitlines() if "gc.freeze() before fork:" in line]
    if not lines:
        return None
    return int(lines[-1].split(":")[-1].split()[0])


def configured_freeze() -> bool:
    """Return whether gunicorn.conf.py freezes the master's objects with this environment."""
    return bool(runpy.run_path(str(gunicorn.GUNICORN_CONF))["gc_freeze"])


def measure_server(
    app: str,
    variant: Variant,
    preload: bool,
    freeze: bool | None,
    plan: WorkersPlan,
    *,
    bodies: Sequence[str],
    log_path: Path,
    cpus: CpuSet | None,
    round_: int = 0,
) -> list[WorkersRow]:
    """Serve one app with one setting; return one row per worker count of the plan.

    ``freeze`` None leaves gunicorn.conf.py's default; the rows record the setting in effect.
    """
    counts = sorted(plan.counts)
    env: dict[str, str] = {
        "MLAPI_MODEL_VARIANT": variant,
        "WEB_CONCURRENCY": str(counts[0]),
        "GUNICORN_PRELOAD": "true" if preload else "false",
        # No worker may be recycled while it is measured.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    if freeze is None:
        freeze = configured_freeze()
    else:
        env["GUNICORN_GC_FREEZE"] = "true" if freeze else "false"
    rows: list[WorkersRow] = []
    server = gunicorn.start(app, log_path, env=env, cpus=cpus)
    try:
        server.wait_ready(timeout=60)
        current = counts[0]
        for count in counts:
            for _ in range(count - current):
                os.kill(server.pid, signal.SIGTTIN)
                # gunicorn queues signals, but only five; one at a time is sure to be seen.
                time.sleep(0.05)
            current = count
            settle(server.pid, count)
            warm = warm_up(server, bodies, plan.warmup_requests)
            memory = read_memory(server.pid)
            served = warm["served"]
            total_pss = memory["master_pss_mib"] + sum(memory["worker_pss_mib"])
            total_uss = memory["master_uss_mib"] + sum(memory["worker_uss_mib"])
            anon = memory["pss_anon_mib"]
            rows.append(
                {
                    "app": app,
                    "variant": variant,
                    "workers": count,
                    "preload": preload,
                    "freeze": freeze,
                    "round": round_,
                    "master_pss_mib": memory["master_pss_mib"],
                    "master_uss_mib": memory["master_uss_mib"],
                    "worker_pss_mib": memory["worker_pss_mib"],
                    "worker_uss_mib": memory["worker_uss_mib"],
                    "total_pss_mib": total_pss,
                    "total_uss_mib": total_uss,
                    "total_pss_anon_mib": None if None in anon else sum(anon),
                    "warmup_requests": warm["requests"],
                    "served": [served.get(pid, False) for pid in memory["pids"]],
                    "frozen_objects": frozen_objects(server.log()),
                }
            )
    finally:
        # SIGQUIT, gunicorn's quick shutdown: nothing is in flight, and a graceful stop waits
        # up to a second for each idle worker.
        stop_process(server.process, signal.SIGQUIT, 20.0)
    return rows


def measure(
    plan: WorkersPlan,
    *,
    apps: Sequence[str] = APPS,
    log_dir: Path,
    payloads_path: Path = payloads.DEFAULT_PATH,
    server_cpus: CpuSet | None = None,
    mode: ScaleMode = "default",
) -> Workers:
    """Measure every server setting of the plan, round by round; return rows, fits and timing.

    Each round walks the settings in the plan's order, rotated by one place per round, so no
    setting is always measured first.
    """
    started = time.monotonic()
    bodies = payloads.load(payloads_path)["one"]
    log_dir.mkdir(parents=True, exist_ok=True)
    settings = [
        (app, variant, preload, freeze)
        for app in apps
        for variant in plan.variants
        for preload in plan.preload
        for freeze in plan.freeze
    ]
    rows: list[WorkersRow] = []
    for round_ in range(plan.rounds):
        for app, variant, preload, freeze in rotate(settings, round_):
            frozen = "conf" if freeze is None else int(freeze)
            name = f"{app}-{variant}-preload{int(preload)}-freeze{frozen}-round{round_}"
            rows += measure_server(
                app,
                variant,
                preload,
                freeze,
                plan,
                bodies=bodies,
                log_path=log_dir / f"{name}.log",
                cpus=server_cpus,
                round_=round_,
            )
    return {
        "mode": mode,
        "counts": sorted(plan.counts),
        # What gunicorn.conf.py starts on the server CPUs (one worker per CPU): the count the
        # rest of the run served with, and the one the claims read the total at.
        "default_workers": len(server_cpus) if server_cpus else os.cpu_count() or 1,
        "rounds": plan.rounds,
        "warmup_requests_per_worker": plan.warmup_requests,
        "served_cpu_s": SERVED_CPU_S,
        "server_cpus": None if server_cpus is None else str(server_cpus),
        "rows": rows,
        "fits": summarise(rows),
        "seconds": time.monotonic() - started,
    }
