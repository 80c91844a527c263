"""MLServer 1.7 with its scikit-learn runtime, serving an artifact of ours on 127.0.0.1.

MLServer runs from its own venv, ``.venv-mlserver`` (``make mlserver`` installs it from
requirements/mlserver.txt): its dependency tree never meets the apps'. ``start`` writes a model
repository for one artifact (the model.joblib, copied and checked against its manifest's sha256,
with the manifest's name and version) and the server's settings (127.0.0.1, free ports, inference
in the server process), starts ``mlserver start`` in a process group of its own, and waits until
``GET /v2/health/ready`` answers 200. ``infer`` sends one request body to a URL and reads the
answer; the requests themselves are in tests/oip_requests.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from packaging.utils import canonicalize_name

from benchmarks.serving.gunicorn import HOST, send
from benchmarks.serving.processes import stop_process
from model.runtime import sha256_of

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv-mlserver"
MLSERVER = VENV / "bin" / "mlserver"
# What requirements/mlserver.in asks for; the model stack must be the manifest's (below).
VERSIONS = {"mlserver": "1.7.1", "mlserver-sklearn": "1.7.1"}
IMPLEMENTATION = "mlserver_sklearn.SKLearnModel"
INSTALL_HINT = (
    "run `make mlserver` (`make test` runs it) to install it from requirements/mlserver.txt"
)
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 3000


class MLServerError(RuntimeError):
    """MLServer is not installed as locked, or did not become ready."""


class Answer(NamedTuple):
    """A server's answer: status, Content-Type, and the body (parsed when it is JSON)."""

    status: int
    content_type: str
    body: Any


def infer(url: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
    """POST ``body`` to ``url`` as JSON (bytes as they are) and return the answer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, received, raw = send(
        url,
        "POST",
        "",
        data,
        {"Content-Type": "application/json", **(headers or {})},
        timeout=30.0,
    )
    content_type = {k.lower(): v for k, v in received.items()}.get("content-type", "")
    parsed = json.loads(raw) if content_type.startswith("application/json") else raw.decode()
    return Answer(status, content_type, parsed)


def installed_versions(names: list[str]) -> dict[str, str | None]:
    """Return the versions of distributions installed in MLServer's venv (None if absent)."""
    site_packages = list(VENV.glob("lib/python3*/site-packages"))
    found: dict[str, str] = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions(path=[str(path) for path in site_packages])
    }
    return {name: found.get(name) for name in names}


def check_installation(manifest: dict[str, Any]) -> None:
    """Fail unless the venv holds MLServer and the versions the model was built with."""
    if not MLSERVER.exists():
        raise MLServerError(f"MLServer is not installed ({MLSERVER} is missing): {INSTALL_HINT}")
    built_with = {
        name: version for name, version in manifest["libraries"].items() if name != "python"
    }
    wanted = VERSIONS | built_with
    installed = installed_versions(list(wanted))
    differing = {
        name: f"wanted {version}, installed {installed[name]}"
        for name, version in wanted.items()
        if installed[name] != version
    }
    if differing:
        raise MLServerError(f"{VENV} is not what the model needs: {differing}; {INSTALL_HINT}")


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports on 127.0.0.1 that are free right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def write_repository(artifact: Path, root: Path) -> dict[str, Any]:
    """Write an MLServer model repository and settings for ``artifact`` into ``root``.

    Return the settings written (settings.json's keys).
    """
    manifest = json.loads((artifact / "manifest.json").read_text())
    # MLServer unpickles the file without checking it: give it a copy whose bytes are the ones
    # the manifest vouches for.
    folder = root / manifest["name"]
    folder.mkdir(parents=True)
    copy = Path(shutil.copyfile(artifact / manifest["file"], folder / "model.joblib"))
    if sha256_of(copy) != manifest["sha256"]:
        raise MLServerError(f"{artifact / manifest['file']} does not match its manifest's sha256")
    model_settings = {
        "name": manifest["name"],
        "implementation": IMPLEMENTATION,
        "parameters": {"uri": str(copy), "version": manifest["version"]},
    }
    (folder / "model-settings.json").write_text(json.dumps(model_settings, indent=2))
    http_port, grpc_port, metrics_port = free_ports(3)
    settings = {
        "host": HOST,
        "http_port": http_port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        # Inference in the server process: no worker pool to start, and nothing left behind.
        "parallel_workers": 0,
        "debug": False,
    }
    (root / "settings.json").write_text(json.dumps(settings, indent=2))
    return settings


@dataclass
class Server:
    """A running ``mlserver start`` process, serving one model."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Return what the server has logged so far."""
        return self.log_path.read_text(errors="replace")

    def log_tail(self) -> str:
        """Return the end of the log, for a failure message."""
        return self.log()[-LOG_TAIL_CHARS:]

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Poll /v2/health/ready until it answers 200; fail if it exits or times out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MLServerError(
                    f"MLServer exited with {self.process.returncode} before it was ready:\n"
                    + self.log_tail()
                )
            try:
                status, _, _ = send(self.url, "GET", "/v2/health/ready", timeout=1.0)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.05)
        raise MLServerError(f"MLServer was not ready after {timeout:.0f} s:\n" + self.log_tail())

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """Stop it by PID, SIGTERM then SIGKILL after ``timeout``; return its exit code."""
        # With parallel_workers 0 the server is this one process: it has no workers to reap.
        return stop_process(self.process, signal.SIGTERM, timeout)


def start(artifact: Path, root: Path, timeout: float = READY_TIMEOUT_S) -> Server:
    """Serve ``artifact`` with MLServer from a repository written into ``root``, once ready."""
    manifest = json.loads((artifact / "manifest.json").read_text())
    check_installation(manifest)
    settings = write_repository(artifact, root / "repository")
    # MLServer takes MLSERVER_* variables, and a .env file in its working directory, as settings:
    # it starts in the fresh ``root``, without the test run's variables.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MLSERVER") and key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    log_path = root / "mlserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(MLSERVER), "start", str(root / "repository")],
            cwd=root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: a Ctrl-C at the terminal reaches pytest, whose teardown
            # stops the server, not the server itself.
            start_new_session=True,
        )
    server = Server(f"http://{HOST}:{settings['http_port']}", process, log_path)
    try:
        server.wait_ready(timeout)
    except BaseException:
        server.stop()
        raise
    return server
