"""Run nginx (deploy/nginx.conf, rendered by deploy.nginx) in front of an app on 127.0.0.1."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.serving.gunicorn import HOST, ServerError, free_port, get
from benchmarks.serving.processes import stop_process
from deploy.nginx import render


def available() -> bool:
    """Return whether nginx is installed."""
    return shutil.which("nginx") is not None


@dataclass
class Proxy:
    """An nginx master process."""

    port: int
    process: subprocess.Popen
    log_path: Path

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until nginx accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"nginx exited: {self.log_path.read_text()}")
            try:
                get(self.port, "/health/live", timeout=1.0)
                return
            except OSError:
                time.sleep(0.05)
        raise ServerError(f"nginx was not ready: {self.log_path.read_text()}")

    def stop(self) -> int:
        """Stop nginx gracefully (SIGQUIT), by PID."""
        return stop_process(self.process, signal.SIGQUIT, 10)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    upstream_port: int, workdir: Path, port: int | None = None, cpus: CpuSet | None = None
) -> Proxy:
    """Start nginx on 127.0.0.1:``port`` proxying to 127.0.0.1:``upstream_port``."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "nginx.conf"
    config.write_text(render(f"{HOST}:{port}", f"{HOST}:{upstream_port}", workdir))
    command = ["nginx", "-p", str(workdir), "-c", str(config)]
    if cpus:
        command = ["taskset", "--cpu-list", str(cpus), *command]
    log_path = workdir / "nginx.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    return Proxy(port, process, log_path)
