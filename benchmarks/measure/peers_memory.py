"""The memory one more worker costs, for the apps and the peers alike (``measure.peers``, step 4).

Each server is started with one and with two workers by its own setting, warmed up alike, and
its process tree's anonymous PSS read; how, and why so, is in ``measure.peers``' docstring.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.measure import cost_server
from benchmarks.measure.workers import SERVED_CPU_S, pss_anon_mib
from benchmarks.plan import rotate
from benchmarks.results.peers import PeerWorkers
from benchmarks.serving.gunicorn import Server
from benchmarks.serving.processes import MIB, ProcessTree, process_cpu_seconds

WORKER_COUNTS = (1, 2)
WARM_PER_WORKER = 200  # one-row predictions per worker before its memory is read
WARM_CONNECTIONS_PER_WORKER = 2
MAX_WARM_BATCHES = 4
READS, READ_GAP_S = 3, 0.1


def tree_memory(pid: int) -> tuple[float, float]:
    """Return the anonymous PSS and all of PSS of a process tree, MiB."""
    anonymous = total = 0.0
    for process in ProcessTree(pid).processes:
        anonymous += pss_anon_mib(process.pid) or 0.0
        total += process.memory_full_info().pss / MIB
    return anonymous, total


def warm(server: Server, path: str, body: bytes, workers: int, connections: int) -> tuple[int, int]:
    """Send batches of ``WARM_PER_WORKER`` one-row predictions per worker, ``connections`` at
    once, each on a connection of its own, until at least ``workers`` processes of the tree
    used CPU meanwhile (a second sync worker may lose every accept to the first) or
    ``MAX_WARM_BATCHES`` were sent; return the requests sent and the processes that used CPU."""
    processes = ProcessTree(server.pid).processes
    before = [process_cpu_seconds(p) for p in processes]
    sent = busy = 0

    def one(_: int) -> None:
        cost_server.send_requests(server.port, path, body, 1)

    with ThreadPoolExecutor(connections) as pool:
        for _ in range(MAX_WARM_BATCHES):
            batch = WARM_PER_WORKER * workers
            list(pool.map(one, range(batch)))
            sent += batch
            moved = zip(processes, before, strict=True)
            busy = sum(process_cpu_seconds(p) - b >= SERVED_CPU_S for p, b in moved)
            if busy >= workers:
                break
    return sent, busy


def worker_memory(
    names: Sequence[str],
    rounds: int,
    bodies: dict[str, tuple[str, bytes]],
    log_dir: Path,
    cpus: CpuSet,
    progress: Callable[[str], None],
    start: Callable[[str, Path, CpuSet, int], Server],
) -> tuple[list[PeerWorkers], dict[str, str]]:
    """Start each server with each of ``WORKER_COUNTS`` workers, ``rounds`` times, rotated; warm
    it up alike and read its tree's anonymous PSS. Return the readings and, for a server that
    refused a prediction with some count, why (it has no reading then)."""
    found: list[PeerWorkers] = []
    refused: dict[str, str] = {}
    for r in range(rounds):
        for name in rotate(names, r):
            path, body = bodies[name]
            for count in WORKER_COUNTS:
                if name in refused:
                    break
                progress(f"memory with {count} workers {r + 1}/{rounds}: {name}")
                log = log_dir / f"workers-{name}-{count}-{r}.log"
                server = start(name, log, cpus, count)
                try:
                    server.wait_ready(120)
                    connections = WARM_CONNECTIONS_PER_WORKER * count
                    try:
                        requests, busy = warm(server, path, body, count, connections)
                    except cost_server.Refused as exc:
                        # MLServer 1.7's parallel workers die at start with uvloop 0.22 while
                        # the server answers ready (SeldonIO/MLServer#2286): no figure, a reason.
                        refused[name] = f"with {count} workers it {exc} (log: {log.name})"
                        continue
                    reads = []
                    for read in range(READS):
                        if read:
                            time.sleep(READ_GAP_S)
                        reads.append(tree_memory(server.pid)[0])
                    processes = len(ProcessTree(server.pid).processes)
                finally:
                    server.stop()
                found.append(
                    {
                        "target": name,
                        "round": r,
                        "workers": count,
                        "processes": processes,
                        "busy": busy,
                        "warmup_requests": requests,
                        "pss_anon_mib": statistics.median(reads),
                    }
                )
    return [row for row in found if row["target"] not in refused], refused
