"""Start and stop a peer (a server that is not gunicorn) on 127.0.0.1, as the apps are started.

A peer is a command line run by its own venv's interpreter (``benchmarks.targets.peers``), pinned
with ``taskset`` to the same CPUs as the apps, in a process group of its own; ready when its
ready path answers 200 (``Server.wait_ready``, as for gunicorn); stopped by SIGTERM to its
process group, then SIGKILL to the group after a timeout: a peer's children (LitServe's worker,
BentoML's supervised worker) go with it, and nothing else does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from benchmarks import REPO
from benchmarks.cpus import CpuSet
from benchmarks.serving.gunicorn import HOST, Server, ServerError, free_port
from benchmarks.targets.peers import PEERS, mlserver_repository
from model import DEFAULT_VARIANT, artifact_dir

PEER_DIR = REPO / "benchmarks" / "targets" / "peers"
INSTALL_HINT = "run `make peers` to install the peers from requirements/peers/"
# The peers whose own adaptive batching the benchmark turns on (python -m benchmarks batching).
BATCHING_PEERS = ("mlserver", "litserve", "bentoml")
# MLServer turns batching off at a max_batch_time of 0, and LitServe at a batch_timeout of 0
# polls its queue without sleeping: each gets its least wait that batches, 1 ms.
LEAST_WAIT_MS = 1.0
# BentoML's max_latency_ms is a latency budget, not a wait: a request its dispatcher expects to
# finish later is refused (503). The apps have none, so it keeps BentoML's default, which no
# request of the benchmark comes near; a smaller one could only refuse requests, and a refusal
# fails a capacity step.
BENTOML_LATENCY_BUDGET_MS = 60000


def batch_wait_ms(name: str, wait_ms: float) -> float | None:
    """Return the wait a peer's batching gets for the apps' ``wait_ms`` (None: it has no wait
    setting, BentoML's dispatcher learns its wait)."""
    return None if name == "bentoml" else max(wait_ms, LEAST_WAIT_MS)


def batch_settings(name: str, size: int, wait_ms: float | None) -> str:
    """Return a peer's own batching settings as ``start`` sets them, in its own words."""
    if name == "bentoml":
        return (
            f"batchable API (batch_dim 0), max_batch_size {size} rows, max_latency_ms "
            f"{BENTOML_LATENCY_BUDGET_MS} (a latency budget; its wait is learned, no setting)"
        )
    knob = {"mlserver": "max_batch_time", "litserve": "batch_timeout"}[name]
    return f"max_batch_size {size} requests, {knob} {(wait_ms or 0.0) / 1000:g} s"


def command(
    name: str,
    port: int,
    workdir: Path,
    variant: str = DEFAULT_VARIANT,
    workers: int | None = None,
    batch: tuple[int, float] | None = None,
) -> list[str]:
    """Return the command line that serves peer ``name`` on 127.0.0.1:``port`` (MLServer's
    model repository and settings are written into ``workdir``).

    ``workers`` is MLServer's ``parallel_workers`` (None: 0, inference in the server process);
    the other peers read their worker count from WEB_CONCURRENCY (``start``). ``batch``: the
    peer's own adaptive batching, (max_batch_size, its wait in seconds: MLServer's
    max_batch_time, LitServe's batch_timeout; BentoML has none, ``start`` passes its size and
    budget in the environment); None: off.
    """
    peer = PEERS[name]
    python = str(peer.python)
    if peer.uvicorn_app:
        # The module by its own name (--app-dir), so the server imports no benchmark code.
        app = ["-m", "uvicorn", "--app-dir", str(PEER_DIR), peer.uvicorn_app]
        stack = ["--no-access-log", "--loop", "uvloop", "--http", "httptools"]
        return [python, *app, "--host", HOST, "--port", str(port), *stack]
    if name == "litserve":
        line = [python, str(PEER_DIR / "litserve_peer.py"), "--host", HOST, "--port", str(port)]
        if batch is not None:
            line += ["--max-batch-size", str(batch[0]), "--batch-timeout", f"{batch[1]:g}"]
        return line
    if name == "bentoml":
        module = "bentoml_peer" if batch is None else "bentoml_batched_peer"
        service = ["serve", f"{module}:Predictor", "--working-dir", str(PEER_DIR)]
        return [str(peer.python.parent / "bentoml"), *service, "--host", HOST, "--port", str(port)]
    if name == "mlserver":
        repository = workdir / "repository"
        mlserver_repository(artifact_dir(variant), repository, batch)
        grpc_port, metrics_port = free_port(), free_port()
        settings = {
            "host": HOST,
            "http_port": port,
            "grpc_port": grpc_port,
            "metrics_port": metrics_port,
            "parallel_workers": workers or 0,
            "debug": False,
        }
        (repository / "settings.json").write_text(json.dumps(settings, indent=2))
        return [str(peer.python.parent / "mlserver"), "start", str(repository)]
    raise KeyError(f"no peer named {name!r}; the peers are {', '.join(PEERS)}")


@dataclass
class PeerServer(Server):
    """A peer's top process, in a process group of its own."""

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll the peer's ready path (slower to start than the apps); return seconds taken."""
        return super().wait_ready(timeout)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM the process group, SIGKILL it after ``timeout``; return the top's exit code."""
        group = self.process.pid  # start_new_session: the group's ID is the leader's PID
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(5)
        # Children that outlive their parent's exit (a supervisor's workers) are still in the
        # group: end them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        return self.process.returncode


def start(
    name: str,
    log_path: Path,
    *,
    port: int | None = None,
    cpus: CpuSet | None = None,
    env: dict[str, str] | None = None,
    wrap: list[str] | None = None,
    variant: str = DEFAULT_VARIANT,
    workers: int | None = None,
    batch: tuple[int, float] | None = None,
) -> PeerServer:
    """Start peer ``name`` on 127.0.0.1 (pinned to ``cpus``; ``wrap``: a command to run it
    under, such as valgrind), in a process group of its own; not yet ready.

    ``workers``: its worker processes by its own setting (uvicorn's ``--workers``, LitServe's
    ``workers_per_device``, BentoML's ``workers``, each read from WEB_CONCURRENCY; MLServer's
    ``parallel_workers``); None: the one-process setting the benchmark measures. ``batch``: the
    peer's own adaptive batching, where the benchmark knows how to turn it on (``command``).
    """
    peer = PEERS[name]
    if batch is not None and name not in BATCHING_PEERS:
        raise ServerError(f"{name}: the benchmark runs no adaptive batching for it")
    if not peer.installed():
        raise ServerError(f"{name}: {peer.python} is missing; {INSTALL_HINT}")
    port = port or free_port()
    workdir = log_path.parent / f"{log_path.stem}-files"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    argv = [*(wrap or []), *command(name, port, workdir, variant, workers, batch)]
    if cpus:
        argv = ["taskset", "--cpu-list", str(cpus), *argv]
    # The peers import the model runtime (and the contract's bodies) from this work tree; MLServer
    # reads MLSERVER_* variables as settings, so none of the runner's get through.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MLSERVER") and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    environment |= {"PYTHONPATH": str(REPO), "MLAPI_MODEL_VARIANT": variant, **(env or {})}
    if workers is not None:
        environment["WEB_CONCURRENCY"] = str(workers)
    if name == "bentoml" and batch is not None:
        environment["MLAPI_BATCH_MAX_SIZE"] = str(batch[0])
        environment["MLAPI_BATCH_LATENCY_BUDGET_MS"] = str(BENTOML_LATENCY_BUDGET_MS)
    # BentoML keeps its home (models, bentos) under BENTOML_HOME: here, not in ~/bentoml.
    environment.setdefault("BENTOML_HOME", str(workdir / "bentoml-home"))
    log: IO[bytes] = log_path.open("wb")
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return PeerServer(name, port, process, log_path, ready_path=peer.ready_path)
