"""Run Locust for one phase (local, or a master and N workers) and read back what it counted.

Each Locust process writes into the phase's directory the two edges of the window it counts
(``measuring-<pid>`` when its warm-up ends and it resets its statistics, ``stopped-<pid>`` when its
users have stopped) and one JSON summary; this module starts the processes, waits for those
moments, and returns Locust's own figures and edges. Each edge holds what the Locust process read
in the same step as its reset or stop: the time, its own CPU seconds, the load CPUs' busy time
and, given the server's PID, the server's CPU seconds. So the edges are exact to that step, however
late this runner, which shares the load CPUs, gets to look at them.

Locust runs with a stop timeout: at the end of the run time each user finishes the request it has
in flight, and that request is counted, instead of being killed with its request still queued at
the server. So once every process has written its ``stopped`` edge, the server has been sent no
request that Locust did not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import REPO
from benchmarks.plan import Cell, Setup
from benchmarks.serving.gunicorn import HOST, free_port

LOCUSTFILE = REPO / "benchmarks" / "load" / "locustfile.py"
START_GRACE_S = 60  # Locust's own start-up is not part of the run time; give it generous room
STOP_TIMEOUT_S = 10  # how long a user may take to finish its last request; it is then counted
POLL_S = 0.02  # how often the runner looks for the edges: they carry their own readings
# A master bound to any address is found on 127.0.0.1 from this machine (compared, not bound).
ANY_ADDRESS = ("0.0.0.0", "*", "")  # noqa: S104


@dataclass(frozen=True)
class Master:
    """Where a distributed Locust master listens, and how many workers it waits for.

    The master starts its users only once ``expect_workers`` workers have connected: those this
    runner starts and any started on other machines (``docs/benchmark.md``).
    """

    bind_host: str
    bind_port: int
    expect_workers: int

    @property
    def local_host(self) -> str:
        """Return the address a worker on this machine connects to."""
        return HOST if self.bind_host in ANY_ADDRESS else self.bind_host


def command(
    setup: Setup,
    url: str,
    cell: Cell,
    workdir: Path,
    timing: tuple[float, int],
    role: str = "local",
    master: Master | None = None,
    server_pid: int = 0,
) -> list[str]:
    """Return the Locust command line for one phase (local, master or worker).

    ``timing`` is (warm-up seconds, total run seconds); ``master`` is required by the master and
    worker roles; ``server_pid``, if given, is the process whose tree's CPU time the edges of the
    window record.
    """
    warmup, seconds = timing
    line = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    line += ["--scenario", cell.scenario, "--warmup-seconds", str(warmup)]
    line += ["--summary-dir", str(workdir), "--payloads", str(setup.payloads_path)]
    line += ["--loglevel", "WARNING", "--server-pid", str(server_pid)]
    if role == "worker" and master:
        line += ["--worker", "--master-host", master.local_host]
        line += ["--master-port", str(master.bind_port)]
    else:
        line += ["--host", url, "--users", str(cell.users), "--spawn-rate", str(cell.users)]
        line += ["--run-time", f"{seconds}s", "--csv", str(workdir / "locust")]
        line += ["--only-summary", "--exit-code-on-error", "0"]
        line += ["--stop-timeout", str(STOP_TIMEOUT_S)]
    if role == "master" and master:
        line += ["--master", "--master-bind-host", master.bind_host]
        line += ["--master-bind-port", str(master.bind_port)]
        line += ["--expect-workers", str(master.expect_workers)]
    return ["taskset", "--cpu-list", str(setup.load_cpus), *line]


class Phase:
    """One Locust run against one server: start it, wait for its window, read what it wrote.

    Distributed when the set-up asks for local workers or when ``master`` is given (it may wait
    for workers this runner does not start); the local workers connect to that master.
    """

    def __init__(
        self,
        setup: Setup,
        url: str,
        cell: Cell,
        workdir: Path,
        timing: tuple[float, int],
        server_pid: int = 0,
        master: Master | None = None,
    ) -> None:
        self.label = workdir.name
        self.workdir = workdir
        self.deadline = time.monotonic() + timing[1] + START_GRACE_S
        if master is None and setup.locust_workers:
            master = Master(HOST, free_port(), setup.locust_workers)

        def launch(role: str, log_name: str) -> subprocess.Popen:
            line = command(setup, url, cell, workdir, timing, role, master, server_pid)
            with (workdir / log_name).open("wb") as log:
                return subprocess.Popen(line, cwd=REPO, stdout=log, stderr=log)

        if master:
            self.processes = [launch("master", "master.log")]
            self.processes += [
                launch("worker", f"worker-{index}.log") for index in range(setup.locust_workers)
            ]
            self.names = ["master", *(f"worker-{i}" for i in range(setup.locust_workers))]
        else:
            self.processes = [launch("local", "locust.log")]
            self.names = ["local"]

    def _fail(self, what: str) -> None:
        for process in self.processes:
            process.kill()
        log = "\n".join(p.read_text() for p in self.workdir.glob("*.log"))
        raise RuntimeError(f"Locust {what} {self.label}:\n{log[-2000:]}")

    def _wait_for(self, edge: str, processes: list[subprocess.Popen], what: str) -> None:
        # taskset execs Locust, so each PID is the Locust interpreter that writes the file.
        markers = [self.workdir / f"{edge}-{p.pid}" for p in processes]
        while not all(m.exists() for m in markers):
            exited = any(
                p.poll() is not None and not m.exists()
                for p, m in zip(processes, markers, strict=True)
            )
            if time.monotonic() > self.deadline or exited:
                self._fail(what)
            time.sleep(POLL_S)

    def wait_measuring(self) -> None:
        """Wait until the warm-up is over (the local or master process has opened its window)."""
        self._wait_for("measuring", self.processes[:1], "did not start measuring")

    def wait_stopped(self) -> None:
        """Wait until every Locust process has stopped counting."""
        self._wait_for("stopped", self.processes, "did not stop counting")

    def edges(self) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """Return each process's window edges (opened, closed), by name; local or master first."""

        def read(edge: str, pid: int) -> dict[str, Any]:
            return json.loads((self.workdir / f"{edge}-{pid}").read_text())

        return {
            name: (read("measuring", p.pid), read("stopped", p.pid))
            for name, p in zip(self.names, self.processes, strict=True)
        }

    def wait_done(self) -> None:
        """Wait for every Locust process to exit (after writing its summary)."""
        for process in self.processes:
            try:
                process.wait(max(self.deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                raise RuntimeError(f"Locust did not stop in time for {self.label}") from None

    def summaries(self) -> list[dict[str, Any]]:
        """Return the JSON summary each Locust process wrote."""
        return [json.loads(p.read_text()) for p in self.workdir.glob("*Runner-*.json")]
