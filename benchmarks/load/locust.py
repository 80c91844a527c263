"""Run Locust for one phase (local, or a master and N workers) and read back what it counted.

The locustfile writes ``measuring`` into the phase's directory when its warm-up ends,
``stopped-<pid>`` when each process stops counting, and one JSON summary per process; this module
starts the processes, waits for those moments, reads each process's CPU, and returns Locust's own
figures. What the server did meanwhile is the caller's to measure.

Locust runs with a stop timeout: at the end of the run time each user finishes the request it has
in flight, and that request is counted, instead of being killed with its request still queued at
the server. So once every process has written its ``stopped`` marker, the server has been sent no
request that Locust did not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import REPO
from benchmarks.plan import Cell, Setup
from benchmarks.serving.gunicorn import HOST, free_port
from benchmarks.serving.processes import process_cpu_seconds

LOCUSTFILE = REPO / "benchmarks" / "load" / "locustfile.py"
START_GRACE_S = 60  # Locust's own start-up is not part of the run time; give it generous room
STOP_TIMEOUT_S = 10  # how long a user may take to finish its last request; it is then counted
POLL_S = 0.002  # how often the window's edges are looked for, near them (the lag is recorded)


def command(
    setup: Setup,
    url: str,
    cell: Cell,
    workdir: Path,
    timing: tuple[float, int],
    role: str = "local",
    port: int = 0,
) -> list[str]:
    """Return the Locust command line for one phase (local, master or worker).

    ``timing`` is (warm-up seconds, total run seconds).
    """
    warmup, seconds = timing
    line = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    line += ["--scenario", cell.scenario, "--warmup-seconds", str(warmup)]
    line += ["--summary-dir", str(workdir), "--payloads", str(setup.payloads_path)]
    line += ["--loglevel", "WARNING"]
    if role == "worker":
        line += ["--worker", "--master-host", HOST, "--master-port", str(port)]
    else:
        line += ["--host", url, "--users", str(cell.users), "--spawn-rate", str(cell.users)]
        line += ["--run-time", f"{seconds}s", "--csv", str(workdir / "locust")]
        line += ["--only-summary", "--exit-code-on-error", "0"]
        line += ["--stop-timeout", str(STOP_TIMEOUT_S)]
    if role == "master":
        line += ["--master", "--master-bind-host", HOST]
        line += ["--master-bind-port", str(port)]
        line += ["--expect-workers", str(setup.locust_workers)]
    return ["taskset", "--cpu-list", setup.load_cpus, *line]


class Phase:
    """One Locust run against one URL: start it, wait for its window, read its summaries."""

    def __init__(
        self, setup: Setup, url: str, cell: Cell, workdir: Path, timing: tuple[float, int]
    ) -> None:
        self.label = workdir.name
        self.workdir = workdir
        self.deadline = time.monotonic() + timing[1] + START_GRACE_S

        def launch(role: str, log_name: str, port: int = 0) -> subprocess.Popen:
            line = command(setup, url, cell, workdir, timing, role, port)
            with (workdir / log_name).open("wb") as log:
                return subprocess.Popen(line, cwd=REPO, stdout=log, stderr=log)

        if setup.locust_workers:
            port = free_port()
            self.processes = [launch("master", "master.log", port)]
            self.processes += [
                launch("worker", f"worker-{index}.log", port)
                for index in range(setup.locust_workers)
            ]
            self.names = ["master", *(f"worker-{i}" for i in range(setup.locust_workers))]
        else:
            self.processes = [launch("local", "locust.log")]
            self.names = ["local"]

    def process_cpu(self) -> dict[str, float | None]:
        """Return each Locust process's own CPU seconds so far, by name (None if it is gone)."""
        # taskset execs Locust, so each PID is Locust's own interpreter.
        return {
            n: process_cpu_seconds(p.pid) for n, p in zip(self.names, self.processes, strict=True)
        }

    def _fail(self, what: str) -> None:
        for process in self.processes:
            process.kill()
        log = "\n".join(p.read_text() for p in self.workdir.glob("*.log"))
        raise RuntimeError(f"Locust {what} {self.label}:\n{log[-2000:]}")

    def wait_measuring(self) -> float:
        """Wait until the warm-up is over; return when Locust reset its statistics (epoch s)."""
        marker = self.workdir / "measuring"
        while not marker.exists():
            if time.monotonic() > self.deadline or self.processes[0].poll() is not None:
                self._fail("did not start measuring")
            time.sleep(POLL_S)
        return float(marker.read_text())

    def wait_stopped(self, expected_in_s: float) -> float:
        """Wait until every Locust process has stopped counting; return the last one's time.

        Looks for the markers every 20 ms until ``expected_in_s`` from now (less a margin), then
        every ``POLL_S``: the runner, which shares the load CPUs, stays out of Locust's way for
        most of the window and still notices an early end within 20 ms.
        """
        close = time.monotonic() + expected_in_s - 0.3
        markers = [self.workdir / f"stopped-{p.pid}" for p in self.processes]
        while not all(m.exists() for m in markers):
            exited = any(
                p.poll() is not None and not m.exists()
                for p, m in zip(self.processes, markers, strict=True)
            )
            if time.monotonic() > self.deadline or exited:
                self._fail("did not stop counting")
            time.sleep(POLL_S if time.monotonic() > close else 0.02)
        return max(float(m.read_text()) for m in markers)

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
