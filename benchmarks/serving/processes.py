"""Processes by PID: stop, pin to CPUs, and sample the CPU time and memory of a process tree.

Memory is counted in MiB (2**20 bytes). A gunicorn master that preloads the app forks workers that
share its pages copy-on-write, so RSS counts each shared page once per process: summed over the
workers it overstates the server's memory, and it leaves the master out. PSS charges each shared
page to its sharers in proportion, so PSS summed over the master and its workers is the memory the
server holds; USS is what each process holds alone (freed if it exited).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import psutil

from benchmarks.cpus import CpuSet

MIB = 2**20


def stop_process(process: subprocess.Popen, sig: int, timeout: float) -> int:
    """Send ``sig`` to a process by PID, SIGKILL it after ``timeout``; return its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


@contextlib.contextmanager
def pinned(cpus: CpuSet) -> Iterator[None]:
    """Run the calling thread, and the threads and children it starts meanwhile, on ``cpus``.

    Linux's affinity is per thread and inherited at creation, so a sampler thread started inside
    stays off the server's CPUs; the previous affinity is restored on leaving.
    """
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def split_cpus(spec: str | None = None) -> tuple[CpuSet, CpuSet]:
    """Return (server CPUs, load CPUs) from 'S/L' (e.g. '0/1'), or disjoint halves by default."""
    if spec:
        server, load = spec.split("/")
        return CpuSet.parse(server), CpuSet.parse(load)
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return CpuSet.of(available), CpuSet.of(available)
    half = len(available) // 2
    return CpuSet.of(available[:half]), CpuSet.of(available[half:])


def open_connections(pid: int) -> int:
    """Return how many TCP connections a process holds established (its listening socket not
    counted): a worker's clients, kept alive or in flight."""
    try:
        found = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0
    return sum(c.status == psutil.CONN_ESTABLISHED for c in found)


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds used so far by a process and all its descendants."""
    try:
        return ProcessTree(pid).cpu_seconds()
    except psutil.NoSuchProcess:
        return 0.0


class ProcessTree:
    """A process and its descendants, listed once so that their CPU time reads fast.

    Listing descendants scans all of /proc (milliseconds on a busy machine); reading the CPU
    time of known processes takes microseconds each, which is what a sample at a precise moment
    needs. ``changed`` tells whether the family is still the one listed.
    """

    def __init__(self, pid: int) -> None:
        parent = psutil.Process(pid)
        self.processes = [parent, *parent.children(recursive=True)]

    def cpu_seconds(self) -> float:
        """Return the CPU seconds the listed processes have used so far (the gone count 0)."""
        return sum(map(process_cpu_seconds, self.processes), 0.0)

    def changed(self) -> bool:
        """Return whether a process of the family exited or a new one joined since listing."""
        try:
            now = ProcessTree(self.processes[0].pid).processes
        except psutil.NoSuchProcess:
            return True
        return {p.pid for p in now} != {p.pid for p in self.processes}


def process_cpu_seconds(process: psutil.Process) -> float:
    """Return the CPU seconds (user and system) a process has used so far, 0 once it is gone."""
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def worker_pids(pid: int) -> set[int]:
    """Return the PIDs of the children (gunicorn workers) of ``pid``."""
    try:
        return {child.pid for child in psutil.Process(pid).children()}
    except psutil.NoSuchProcess:
        return set()


def process_rss_mib(pid: int) -> float:
    """Return a process's resident memory in MiB (0 if it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / MIB
    except psutil.NoSuchProcess:
        return 0.0


def cpu_seconds(pids: Iterable[int]) -> float:
    """Return the CPU seconds used so far by several process trees together."""
    return sum(tree_cpu_seconds(pid) for pid in pids)


def cpu_busy_seconds(cpus: Iterable[int]) -> tuple[float, float]:
    """Return the seconds the given CPUs have been busy, and in all, since boot."""
    times = psutil.cpu_times(percpu=True)
    busy = total = 0.0
    for index in cpus:
        spent = times[index]._asdict()
        # Linux counts guest time inside user time already.
        counted = sum(spent.values()) - spent.get("guest", 0.0) - spent.get("guest_nice", 0.0)
        total += counted
        busy += counted - spent.get("idle", 0.0) - spent.get("iowait", 0.0)
    return busy, total


class WorkerMemory:
    """Sample the RSS of every child (gunicorn worker) of a process, in a thread, until stopped.

    ``samples`` holds (seconds since start, worker PID, RSS in MiB).
    """

    def __init__(self, pid: int, interval_s: float) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            now = time.monotonic() - self._started
            for worker in worker_pids(self.pid):
                rss = process_rss_mib(worker)
                if rss:
                    self.samples.append((now, worker, rss))

    def __enter__(self) -> WorkerMemory:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def rss_mib(self) -> list[float]:
        """Return every RSS sample, in MiB."""
        return [rss for _, _, rss in self.samples]


class MemorySample(NamedTuple):
    """One process's memory at one sampling round, in MiB."""

    round: int
    pid: int
    role: str  # "master" or "worker"
    rss: float
    pss: float
    uss: float


class ServerMemory:
    """Sample RSS, PSS and USS of a gunicorn master and each of its workers, in a thread.

    One round reads every process (``memory_full_info``, /proc/PID/smaps_rollup: slower than RSS
    alone, about a millisecond per process); the first round is taken on entering, so even a
    short window has one. Start it on the load generator's CPUs (``pinned``): the thread inherits
    its creator's affinity and must not take CPU from the server it measures.
    """

    def __init__(self, pid: int, interval_s: float) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[MemorySample] = []
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def sample_round(self) -> None:
        """Read the memory of the master and of every worker once."""
        try:
            master = psutil.Process(self.pid)
            family = [(master, "master")] + [(c, "worker") for c in master.children()]
        except psutil.NoSuchProcess:
            return
        for process, role in family:
            try:
                info = process.memory_full_info()
            except psutil.NoSuchProcess:
                continue
            sizes = (info.rss / MIB, info.pss / MIB, info.uss / MIB)
            self.samples.append(MemorySample(self.rounds, process.pid, role, *sizes))
        self.rounds += 1

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample_round()

    def __enter__(self) -> ServerMemory:
        self.sample_round()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
