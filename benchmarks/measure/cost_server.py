"""Instructions per request over a whole server process tree behind a real socket.

The cost step (``measure.cost``) counts a WSGI callable inside one interpreter; a peer is not
a WSGI app, and its work per request spans processes (LitServe's inference worker, BentoML's
supervised worker) and an event loop. So here the server's own command runs under valgrind's
callgrind following every child (``--trace-children=yes``), with no address randomisation and
``PYTHONHASHSEED=0``, and the runner sends it requests over TCP, one at a time over one
connection, opened again whenever the server closes it (the gunicorn sync worker closes every
one; the peers keep it alive), as wrk sends them.

Only windows of the server's life are counted, never its start-up or its shutdown: once the
server is ready and warm (``warmup`` requests), the runner zeroes the counters of every counted
process of the tree (``callgrind_control --zero PID...``, through valgrind's gdbserver, which
reaches forked children too), does one thing, and has every process dump what it executed
since (``callgrind_control --dump=LABEL PID...``). Four windows, in this order:

- ``n1`` one-row predictions, then ``n2`` (the plan's ``cost_requests``);
- nothing for no time, then nothing for as long as the ``n2`` window outlasted the ``n1`` one.

The instructions per request are ``((W(n2) - W(n1)) - (I(d) - I(0))) / (n2 - n1)``: what a
window costs whatever it holds (the zeroing and dumping themselves, the first request's
connection) cancels in each difference, and the idle pair takes out the work a server does by
the clock rather than by request (an event loop's timers, a supervisor's polling, gunicorn's
one-second master loop) over the extra wall time the longer window took under valgrind.

Why windows: counting whole runs (start, ``n`` requests, SIGTERM, sum of every process's dump)
moved by up to 8% between repetitions for Django, LitServe and BentoML. In Django's gunicorn
worker the difference was its interpreter's shutdown, not its requests: ``Py_FinalizeEx`` ran
39 M instructions in one run and 61 M in another (whether it cleared the interned strings, and
how much its last collections freed, depends on when the SIGTERM lands), where 100 requests
cost about 390 M; and work done by the clock grew with each run's wall time on a shared machine.

What does not cancel: clock work that runs less while requests are served than while idle (a
loop that polls a queue with a timeout, and finds work at once when busy) is subtracted at its
idle rate, a slight under-count; the windows report their totals and the idle correction, so a
reader sees its size. A process that starts or ends inside a window is not counted.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

import psutil

from benchmarks.cpus import CpuSet
from benchmarks.measure import callgrind
from benchmarks.serving.gunicorn import HOST, Server
from benchmarks.serving.processes import ProcessTree

# A function that starts the target's server under the given command prefix, pinned to ``cpus``,
# its log at ``log``: returns the server, not yet ready.
Starter = Callable[[list[str], CpuSet, Path], Server]
READY_TIMEOUT_S = 600.0  # BentoML's start-up under callgrind takes minutes
STOP_TIMEOUT_S = 300.0
CONTROL_TIMEOUT_S = 120.0
# The windows, in the order counted: the two request counts, then the idle pair.
IDLE_NONE, IDLE_SPAN = "idle-0", "idle-span"


class Refused(RuntimeError):
    """The server answered a one-row prediction with another status than 200."""


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
    try:
        for _ in range(count):
            if connection is None:
                connection = http.client.HTTPConnection(HOST, port, timeout=120)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise Refused(f"answered {response.status} to {path}")
            if response.will_close:
                connection.close()
                connection = None
    finally:
        if connection is not None:
            connection.close()


def counted_pids(top: int) -> list[int]:
    """Return the processes of ``top``'s tree that run under callgrind."""
    found = []
    for process in ProcessTree(top).processes:
        try:
            if "--tool=callgrind" in process.cmdline():
                found.append(process.pid)
        except psutil.NoSuchProcess:
            continue
    return sorted(found)


def answered(stdout: str) -> set[int]:
    """Return the PIDs that ``callgrind_control`` reports as having done what it asked."""
    return {int(pid) for pid in re.findall(r"^PID (\d+): .*\n\s+OK\.", stdout, re.MULTILINE)}


def control(option: str, pids: Iterable[int]) -> None:
    """Have ``callgrind_control`` apply ``option`` to each of ``pids`` (and to no other run of
    callgrind on the machine); raise unless every one answered."""
    wanted = sorted(pids)
    done = subprocess.run(
        ["callgrind_control", option, *map(str, wanted)],
        capture_output=True,
        text=True,
        timeout=CONTROL_TIMEOUT_S,
    )
    missing = set(wanted) - answered(done.stdout)
    if done.returncode or missing:
        raise RuntimeError(
            f"callgrind_control {option}: no answer from {sorted(missing)}:\n"
            f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
        )


def window(top: int, label: str, action: Callable[[], None]) -> tuple[list[int], float]:
    """Zero every counted process of the tree, run ``action``, dump them all as ``label``;
    return the processes counted and the seconds ``action`` took."""
    pids = counted_pids(top)
    control("--zero", pids)
    began = time.monotonic()
    action()
    seconds = time.monotonic() - began
    control(f"--dump={label}", pids)
    return pids, seconds


def window_totals(out: Path) -> dict[str, dict[int, int]]:
    """Return each window's instructions by process, from the dumps in ``out``."""
    found: dict[str, dict[int, int]] = {}
    for path in out.glob("callgrind.out.*"):
        trigger, total = callgrind.read_trigger(path)
        if trigger.startswith("dump "):
            pid = int(path.name.split(".")[2])
            found.setdefault(trigger.removeprefix("dump "), {})[pid] = total
    return found


def label(requests: int) -> str:
    """Return the dump label of the window of ``requests`` requests."""
    return f"requests-{requests}"


def derive(
    totals: Mapping[str, Mapping[int, int]],
    counted: Mapping[str, list[int]],
    counts: tuple[int, int],
) -> dict[str, float]:
    """Return the instructions per request from the windows' totals by process: the two
    request windows' difference less the idle pair's, over ``n2 - n1``."""
    summed: dict[str, int] = {}
    for name, pids in counted.items():
        dumped = totals.get(name, {})
        if sorted(dumped) != sorted(pids):
            raise RuntimeError(
                f"window {name}: dumps from {sorted(dumped)}, processes counted {sorted(pids)}"
            )
        summed[name] = sum(dumped.values())
    n1, n2 = counts
    small, large = summed[label(n1)], summed[label(n2)]
    idle = summed[IDLE_SPAN] - summed[IDLE_NONE]
    return {
        "instructions": (large - small - idle) / (n2 - n1),
        "window_n1": small,
        "window_n2": large,
        "idle_none": summed[IDLE_NONE],
        "idle_span": summed[IDLE_SPAN],
    }


def stop_gracefully(server: Server) -> None:
    """Stop a counted server with SIGTERM and wait for valgrind to let go of every process."""
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
    """Start the server once under callgrind on ``cpus``, warm it with ``warmup`` requests,
    count its four windows; return instructions per request and the windows' figures."""
    callgrind.require()
    n1, n2 = counts
    out.mkdir(parents=True)
    began = time.monotonic()
    server = start(valgrind(out), cpus, out / "server.log")
    counted: dict[str, list[int]] = {}
    try:
        server.wait_ready(READY_TIMEOUT_S)
        send_requests(server.port, path, body, warmup)
        seconds: dict[int, float] = {}
        for n in counts:
            send = partial(send_requests, server.port, path, body, n)
            counted[label(n)], seconds[n] = window(server.pid, label(n), send)
        span = max(0.0, seconds[n2] - seconds[n1])
        counted[IDLE_NONE], _ = window(server.pid, IDLE_NONE, lambda: None)
        counted[IDLE_SPAN], _ = window(server.pid, IDLE_SPAN, lambda: time.sleep(span))
    finally:
        stop_gracefully(server)
    figures = derive(window_totals(out), counted, counts)
    return {**figures, "idle_s": span, "seconds": time.monotonic() - began}
