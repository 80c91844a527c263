"""What a run measured on: the machine, the software, the gunicorn settings, the models."""

from __future__ import annotations

import json
import os
import platform
import runpy
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import REPO
from benchmarks.load import wrk
from benchmarks.plan import Setup
from benchmarks.schema import VARIANTS
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


def gunicorn_settings(server_cpus: str) -> dict[str, Any]:
    """Return the gunicorn settings every target ran with, as the servers resolved them."""
    values = runpy.run_path(str(GUNICORN_CONF))
    if "WEB_CONCURRENCY" not in os.environ:
        values["workers"] = len(server_cpus.split(","))
    keys = (
        "workers",
        "worker_class",
        "threads",
        "keepalive",
        "timeout",
        "graceful_timeout",
        "max_requests",
        "accesslog",
    )
    return {key: values.get(key) for key in keys}


def fingerprint(setup: Setup) -> dict[str, Any]:
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
    models = {}
    for variant in VARIANTS:
        manifest = artifact_dir(variant) / "manifest.json"
        if manifest.exists():
            models[variant] = json.loads(manifest.read_text())["sha256"]
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "server_cpus": setup.server_cpus,
        "load_cpus": setup.load_cpus,
        "locust_workers": setup.locust_workers,
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "wrk": wrk_version,
        "git_commit": commit + ("+uncommitted changes" if dirty else ""),
        "gunicorn": gunicorn_settings(setup.server_cpus),
        "models": models,
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
