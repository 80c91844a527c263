"""Start and stop the apps under gunicorn on 127.0.0.1, the same way for every app.

Used by the test suite and by every measurement: one gunicorn settings file
(``gunicorn.conf.py``), the targets' WSGI paths from the registry (``benchmarks.targets``), one
way to wait for readiness, and processes stopped by PID.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from benchmarks import REPO
from benchmarks.cpus import CpuSet
from benchmarks.serving.processes import worker_pids
from benchmarks.targets import TARGETS

GUNICORN_CONF = REPO / "gunicorn.conf.py"
HOST = "127.0.0.1"
RESIGNAL_S = 1.0  # see Server.stop


class ServerError(RuntimeError):
    """A server did not become ready, or did not stop."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Make one GET request to 127.0.0.1 and return status, headers and body."""
    return request(port, "GET", path, timeout=timeout)


def request(
    port: int, method: str, path: str, *rest: Any, **options: Any
) -> tuple[int, dict[str, str], bytes]:
    """Make one HTTP request to 127.0.0.1 and return status, headers and body (body, headers
    and timeout as ``send`` takes them)."""
    return send(f"http://{HOST}:{port}", method, path, *rest, **options)


def send(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    """Make one HTTP request to the server at base URL ``url``; return status, headers, body."""
    parts = urllib.parse.urlsplit(url)
    https = parts.scheme == "https"
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = kind(parts.hostname or HOST, parts.port, timeout=timeout)
    try:
        # Connect first: a refused or reset connection is the caller's error to see. (Suppressed
        # below, a reset at connect time, as a server shutting down gives, left no socket to
        # read from and surfaced as an AttributeError inside http.client.)
        connection.connect()
        # The server may answer (say, 413) and close before reading the whole body; its answer
        # is still waiting to be read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                method, parts.path.rstrip("/") + path, body=body, headers=headers or {}
            )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@dataclass
class Server:
    """A gunicorn master process serving one app."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    started_at: float = field(default_factory=time.perf_counter)
    ready_path: str = "/health/ready"  # answers 200 once the model is loaded

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """Return the gunicorn master's PID."""
        return self.process.pid

    def log(self) -> str:
        """Return what the server has logged so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Poll the ready path until it answers 200; return seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with {self.process.returncode} before it was ready:\n"
                    + self.log()[-3000:]
                )
            try:
                status, _, _ = get(self.port, self.ready_path, timeout=1.0)
            except OSError:
                status = 0
            if status == 200:
                return time.perf_counter() - self.started_at
            time.sleep(0.02)
        self.stop()
        raise ServerError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = 20.0) -> int:
        """Stop gracefully with SIGTERM (SIGKILL after ``timeout``); return the exit code.

        A worker forked as the master's SIGTERM arrives can lose the master's signal to it: the
        signal lands in the copy of the master's handler, and the worker then installs its own
        handlers. The master would wait its graceful timeout (30 s) for that worker; so after
        ``RESIGNAL_S`` the workers still running are sent SIGTERM themselves, by PID.

        The master gets one SIGTERM only: a second one can land after its clean shutdown, once
        Python has restored the default action on its way out, and kill it (exit code -15).
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(RESIGNAL_S)
            except subprocess.TimeoutExpired:
                for pid in worker_pids(self.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
        try:
            self.process.wait(max(timeout - RESIGNAL_S, 1.0))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all(servers: Iterable[Server], timeout: float = 20.0) -> None:
    """Stop several servers at once: each drains in parallel instead of in turn."""
    servers = list(servers)
    if servers:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.stop(timeout), servers))


def start(
    name: str,
    log_path: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cpus: CpuSet | None = None,
    app: str | None = None,
    wrap: list[str] | None = None,
) -> Server:
    """Start one app under gunicorn on 127.0.0.1 (optionally pinned to ``cpus``).

    ``app`` overrides the WSGI path of ``name`` (the tests use it for a divergent target);
    ``wrap`` is a command to run gunicorn under (valgrind, for the peers' instruction counts).
    """
    port = port or free_port()
    environment = {
        **os.environ,
        "GUNICORN_BIND": f"{HOST}:{port}",
        "DJANGO_ENV": os.environ.get("DJANGO_ENV", "local"),
        **dict(TARGETS[name].env if name in TARGETS else ()),
        **(env or {}),
    }
    command = [
        *(wrap or []),
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(GUNICORN_CONF),
        app or TARGETS[name].wsgi,
    ]
    if cpus:
        command = ["taskset", "--cpu-list", str(cpus), *command]
    log: IO[bytes] = log_path.open("wb")
    process = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    return Server(name, port, process, log_path)
