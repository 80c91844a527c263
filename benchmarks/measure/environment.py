"""What a run measured on: the machine, the software, the gunicorn settings, the models."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import runpy
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import REPO
from benchmarks.cpus import CpuSet
from benchmarks.load import wrk
from benchmarks.plan import Setup
from benchmarks.results.records import Environment, Gunicorn, Lock
from benchmarks.results.vocabulary import VARIANTS
from benchmarks.serving.gunicorn import GUNICORN_CONF
from model.runtime import artifact_dir

LIBRARIES = (
    "flask",
    "werkzeug",
    "django",
    "djangorestframework",
    "gunicorn",
    "locust",
    "scikit-learn",
    "numpy",
    "joblib",
    "psutil",
    "pygount",
)

# The lock files `make` and the Dockerfile install from, the fullest first: dev.txt holds every pin
# of bench.txt, which holds every pin of runtime.txt (tests/test_lock.py).
LOCKS = ("requirements/dev.txt", "requirements/bench.txt", "requirements/runtime.txt")
# The lock a benchmark needs, the one reported against when the environment matches none.
BENCH_LOCK = "requirements/bench.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def read_lock(path: Path) -> dict[str, str]:
    """Return a lock file's pins: normalized distribution name -> version."""
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in PIN.findall(path.read_text())
    }


def lock(repo: Path = REPO) -> Lock:
    """Return the lock file this environment was installed from, with its sha256.

    That is the fullest lock whose every pin is installed at its version. Where none matches (a
    package installed or upgraded by hand), the bench lock is named with what differs from it.
    """
    present = [name for name in LOCKS if (repo / name).is_file()]
    if not present:
        return {"file": "not found"}
    differences = {name: _differences(read_lock(repo / name)) for name in present}
    matched = [name for name in present if not differences[name]]
    name = matched[0] if matched else (BENCH_LOCK if BENCH_LOCK in present else present[0])
    record: Lock = {
        "file": name,
        "sha256": hashlib.sha256((repo / name).read_bytes()).hexdigest(),
        "matches": bool(matched),
    }
    if not matched:
        record["differs"] = differences[name]
    return record


def _differences(pins: dict[str, str]) -> dict[str, str]:
    """Return the pinned distributions installed at another version, or not at all."""
    return {
        name: f"locked {version}, installed {installed}"
        for name, version in sorted(pins.items())
        if (installed := _version(name)) != version
    }


def gunicorn_settings(server_cpus: CpuSet) -> Gunicorn:
    """Return the gunicorn settings every target ran with, as the servers resolved them."""
    values = runpy.run_path(str(GUNICORN_CONF))
    if "WEB_CONCURRENCY" not in os.environ:
        values["workers"] = len(server_cpus)
    return {
        "workers": values.get("workers"),
        "worker_class": values.get("worker_class"),
        "threads": values.get("threads"),
        "keepalive": values.get("keepalive"),
        "timeout": values.get("timeout"),
        "graceful_timeout": values.get("graceful_timeout"),
        "max_requests": values.get("max_requests"),
        "accesslog": values.get("accesslog"),
        "preload_app": values.get("preload_app"),
        "gc_freeze": values.get("gc_freeze"),
    }


def fingerprint(setup: Setup) -> Environment:
    """Describe the machine and software this run measured on."""
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    commit = _git("rev-parse", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    wrk_version = "not installed"
    if wrk.available():
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk_version = (
            (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
        )
    models: dict[str, str] = {}
    for variant in VARIANTS:
        manifest = artifact_dir(variant) / "manifest.json"
        if manifest.exists():
            models[variant] = json.loads(manifest.read_text())["sha256"]
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "server_cpus": str(setup.server_cpus),
        "load_cpus": str(setup.load_cpus),
        "locust_workers": setup.locust_workers,
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "wrk": wrk_version,
        "git_commit": commit + ("+uncommitted changes" if dirty else ""),
        "gunicorn": gunicorn_settings(setup.server_cpus),
        "models": models,
        "lock": lock(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _git(*args: str) -> str:
    """Return git's output in the repository, or "" where there is no git or no repository."""
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
