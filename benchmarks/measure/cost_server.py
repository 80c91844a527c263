"""Instructions per request over a whole server process tree behind a real socket.

The cost step (``measure.cost``) counts a WSGI callable inside one interpreter; a peer is not
a WSGI app, and its work per request spans processes (LitServe's inference worker, BentoML's
supervised worker) and an event loop. So here the server's own command runs under valgrind's
callgrind following every child (``--trace-children=yes``, each process its own dump), with no
address randomisation and ``PYTHONHASHSEED=0``, and the runner sends it requests over TCP:

- the server is started twice, each time from scratch: one run gets ``warmup + n1`` one-row
  predictions, the other ``warmup + n2``, then both stop gracefully (SIGTERM; a process killed
  with SIGKILL would leave no dump); every process's total is summed;
- the difference of the two totals over ``n2 - n1`` is the instructions per request: start-up,
  the warm-up, the readiness polls and the shutdown are common to both runs and cancel;
- requests go one at a time over one connection, opened again whenever the server closes it
  (the gunicorn sync worker closes every one; the peers keep it alive), as wrk sends them.

What does not cancel: work a server does by the clock (an event loop's timers, a supervisor's
polling) grows with the longer run's wall time under valgrind and is counted as per-request
cost; the two runs run at once, one on each of the CPUs given, so their wall times are alike.
"""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.measure import callgrind
from benchmarks.serving.gunicorn import HOST, Server

# A function that starts the target's server under the given command prefix, pinned to ``cpus``,
# its log at ``log``: returns the server, not yet ready.
Starter = Callable[[list[str], CpuSet, Path], Server]
READY_TIMEOUT_S = 600.0  # BentoML's start-up under callgrind takes minutes
STOP_TIMEOUT_S = 300.0


def valgrind(out: Path) -> list[str]:
    """Return the command prefix that counts a server's process tree into ``out``."""
    return [
        "setarch", "-R", "valgrind", "--tool=callgrind", "--trace-children=yes",
        f"--log-file={out}/valgrind.%p.log", f"--callgrind-out-file={out}/callgrind.out.%p",
    ]  # fmt: skip


def send_requests(port: int, path: str, body: bytes, count: int) -> None:
    """Send ``count`` POSTs one at a time, reusing the connection while the server keeps it."""
    connection: http.client.HTTPConnection | None = None
    headers = {"Content-Type": "application/json"}
    for _ in range(count):
        if connection is None:
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"answered {response.status} under callgrind")
        if response.will_close:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()


def total(out: Path) -> int:
    """Return the instructions of every process counted into ``out``."""
    dumps = list(out.glob("callgrind.out.*"))
    if not dumps:
        raise RuntimeError(f"callgrind wrote no dump into {out}")
    return sum(callgrind.read_dump(path)[1] for path in dumps)


def one_run(
    start: Starter, requests: int, out: Path, cpus: CpuSet, path: str, body: bytes
) -> tuple[int, float]:
    """Start the server counted, send ``requests``, stop it; return its instructions and
    seconds under callgrind."""
    out.mkdir(parents=True)
    server = start(valgrind(out), cpus, out / "server.log")
    began = time.monotonic()
    try:
        server.wait_ready(READY_TIMEOUT_S)
        send_requests(server.port, path, body, requests)
    finally:
        stop_gracefully(server)
    return total(out), time.monotonic() - began


def stop_gracefully(server: Server) -> None:
    """Stop a counted server with SIGTERM and wait for every dump (SIGKILL would lose them)."""
    server.stop(STOP_TIMEOUT_S)
    # valgrind writes a child's dump as the child exits, which may be after its parent did.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _valgrind_left(server.pid):
        time.sleep(0.2)


def _valgrind_left(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def per_request(
    start: Starter,
    out: Path,
    cpus: CpuSet,
    path: str,
    body: bytes,
    counts: tuple[int, int],
    warmup: int,
) -> dict[str, float]:
    """Count the server twice at once (``warmup + n1`` and ``warmup + n2`` requests, one run on
    each CPU of ``cpus``, or both on the one); return instructions per request and the runs'
    figures."""
    callgrind.require()
    n1, n2 = counts
    cpu_list = list(cpus)
    places = [CpuSet((cpu_list[i % len(cpu_list)],)) for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda job: one_run(start, warmup + job[0], out / f"n{job[0]}", job[1], path, body),
                [(n1, places[0]), (n2, places[1])],
            )
        )
    (small, small_s), (large, large_s) = runs
    return {
        "instructions": (large - small) / (n2 - n1),
        "total_n1": small,
        "total_n2": large,
        "seconds": max(small_s, large_s),
    }
