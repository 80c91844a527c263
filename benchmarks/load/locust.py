"""Run Locust for one phase (local, or a master and N workers) and read back what it counted.

The locustfile writes ``measuring`` into the phase's directory when its warm-up ends, and one JSON
summary per process when it stops; this module starts the processes, waits for both moments, and
returns Locust's own figures. What the server did meanwhile is the caller's to measure.
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
from benchmarks.serving.processes import cpu_seconds

LOCUSTFILE = REPO / "benchmarks" / "load" / "locustfile.py"
START_GRACE_S = 60  # Locust's own start-up is not part of the run time; give it generous room


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
        else:
            self.processes = [launch("local", "locust.log")]

    def cpu_seconds(self) -> float:
        """Return the CPU seconds the Locust processes have used so far."""
        return cpu_seconds(p.pid for p in self.processes)

    def wait_measuring(self) -> None:
        """Wait until the warm-up is over and the measured window has begun."""
        marker = self.workdir / "measuring"
        while not marker.exists():
            if time.monotonic() > self.deadline or self.processes[0].poll() is not None:
                for process in self.processes:
                    process.kill()
                log = "\n".join(p.read_text() for p in self.workdir.glob("*.log"))
                raise RuntimeError(f"Locust did not start measuring {self.label}:\n{log[-2000:]}")
            time.sleep(0.01)

    def wait_done(self) -> float:
        """Wait for every Locust process to exit; return their CPU seconds at the last sample."""
        used = self.cpu_seconds()
        for process in self.processes:
            # Sample the generator's CPU just before it exits, while its processes still exist.
            while process.poll() is None and time.monotonic() < self.deadline:
                used = max(used, self.cpu_seconds())
                time.sleep(0.1)
            if process.poll() is None:
                process.kill()
                raise RuntimeError(f"Locust did not stop in time for {self.label}")
        return used

    def summaries(self) -> list[dict[str, Any]]:
        """Return the JSON summary each Locust process wrote."""
        return [json.loads(p.read_text()) for p in self.workdir.glob("*Runner-*.json")]
