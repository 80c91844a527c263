"""Processes by PID: stop, pin to CPUs, and sample the CPU time and memory of a process tree."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterable

import psutil


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


def split_cpus(spec: str | None = None) -> tuple[str, str]:
    """Return (server CPUs, load CPUs) from 'S/L' (e.g. '0/1'), or disjoint halves by default."""
    if spec:
        server, load = spec.split("/")
        return server, load
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return str(available[0]), str(available[0])
    half = len(available) // 2
    return ",".join(map(str, available[:half])), ",".join(map(str, available[half:]))


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds used so far by a process and all its descendants."""
    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in family:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def worker_pids(pid: int) -> set[int]:
    """Return the PIDs of the children (gunicorn workers) of ``pid``."""
    try:
        return {child.pid for child in psutil.Process(pid).children()}
    except psutil.NoSuchProcess:
        return set()


def process_rss_mb(pid: int) -> float:
    """Return a process's resident memory in MiB (0 if it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def worker_rss_mb(pid: int) -> list[float]:
    """Return the resident memory of each child (gunicorn worker) of ``pid``, in MiB."""
    return [rss for rss in map(process_rss_mb, worker_pids(pid)) if rss]


def cpu_seconds(pids: Iterable[int]) -> float:
    """Return the CPU seconds used so far by several process trees together."""
    return sum(tree_cpu_seconds(pid) for pid in pids)


def busy_fraction(before: list, after: list, cpus: str) -> float:
    """Return how busy the given CPUs were between two ``psutil.cpu_times(percpu=True)``."""
    busy = total = 0.0
    for index in (int(cpu) for cpu in cpus.split(",")):
        spent = {
            field: getattr(after[index], field) - getattr(before[index], field)
            for field in after[index]._fields
        }
        # Linux counts guest time inside user time already.
        counted = sum(spent.values()) - spent.get("guest", 0.0) - spent.get("guest_nice", 0.0)
        total += counted
        busy += counted - spent.get("idle", 0.0) - spent.get("iowait", 0.0)
    return busy / total if total else 0.0


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
                rss = process_rss_mb(worker)
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
    def rss_mb(self) -> list[float]:
        """Return every RSS sample, in MiB."""
        return [rss for _, _, rss in self.samples]
