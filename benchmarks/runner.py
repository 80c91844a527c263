"""Run the comparison: servers, parity gate, Locust phases, wrk calibration, start-up times.

One run writes ``reports/<UTC timestamp>/`` (``results.json``, ``report.md``, ``report.html``
and the raw Locust CSVs under ``raw/``) and points ``reports/latest`` at it. Every target runs
under the same gunicorn settings on the same CPUs; Locust and wrk run on the other CPUs; the
targets are interleaved trial by trial so slow drift of the machine spreads over all of them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import platform
import runpy
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from benchmarks import payloads, plan, servers, wrk
from benchmarks.plan import Cell, Plan
from benchmarks.probes import probes
from benchmarks.progress import Progress
from benchmarks.schema import SCHEMA_VERSION
from benchmarks.servers import split_cpus
from model.runtime import artifact_dir

LOCUSTFILE = servers.REPO / "benchmarks" / "locustfile.py"
REPORTS = servers.REPO / "reports"
GENERATOR_BOUND = 0.9  # Locust busier than this is measuring itself, not the server
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


class ParityError(RuntimeError):
    """Two targets answered a probe differently: nothing measured would be comparable."""


@dataclass(frozen=True)
class Setup:
    """Where things run in this run."""

    run_dir: Path
    server_cpus: str
    load_cpus: str
    locust_workers: int
    payloads_path: Path

    @property
    def load_cpu_count(self) -> int:
        """Return how many CPUs the load generator may use."""
        return len(self.load_cpus.split(","))


# -- the parity gate --------------------------------------------------------------------------


def parity_gate(started: dict[str, servers.Server]) -> list[str]:
    """Send every probe to every target; return a description of each disagreement."""
    differences = []
    for probe in probes():
        answers = {
            name: servers.request(
                server.port, probe.method, probe.path, probe.body, probe.headers, timeout=10
            )
            for name, server in started.items()
            if probe.baseline or name != "baseline"
        }
        reference_name, (status, _, body) = next(iter(answers.items()))
        for name, (other_status, _, other_body) in answers.items():
            if (other_status, other_body) != (status, body):
                differences.append(
                    f"probe {probe.name!r} ({probe.method} {probe.path}): {reference_name} "
                    f"answered {status} {body[:160]!r}, {name} answered {other_status} "
                    f"{other_body[:160]!r}"
                )
    return differences


# -- one Locust phase --------------------------------------------------------------------------


def probe_answers(started: dict[str, servers.Server]) -> list[dict[str, Any]]:
    """Send every probe to each app; return how each was answered (status and error code)."""
    found = []
    for probe in probes():
        answers = {}
        for name, server in started.items():
            if name == "baseline":
                continue
            status, _, body = servers.request(
                server.port, probe.method, probe.path, probe.body, probe.headers, timeout=10
            )
            try:
                code = json.loads(body).get("error", {}).get("code", "")
            except (ValueError, AttributeError):
                code = "not JSON"
            answers[name] = {"status": status, "code": code}
        found.append(
            {"probe": probe.name, "method": probe.method, "path": probe.path, "answers": answers}
        )
    return found


def locust_command(
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
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--scenario", cell.scenario, "--warmup-seconds", str(warmup)]
    command += ["--summary-dir", str(workdir), "--payloads", str(setup.payloads_path)]
    command += ["--loglevel", "WARNING"]
    if role == "worker":
        command += ["--worker", "--master-host", servers.HOST, "--master-port", str(port)]
    else:
        command += ["--host", url, "--users", str(cell.users), "--spawn-rate", str(cell.users)]
        command += ["--run-time", f"{seconds}s", "--csv", str(workdir / "locust")]
        command += ["--only-summary", "--exit-code-on-error", "0"]
    if role == "master":
        command += ["--master", "--master-bind-host", servers.HOST]
        command += ["--master-bind-port", str(port)]
        command += ["--expect-workers", str(setup.locust_workers)]
    return ["taskset", "--cpu-list", setup.load_cpus, *command]


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


def sample_rss(pid: int, stop: threading.Event, samples: list[float]) -> None:
    """Append every worker's RSS every quarter second until ``stop`` is set."""
    while not stop.wait(0.25):
        samples.extend(servers.worker_rss_mb(pid))


def run_phase(
    setup: Setup, the_plan: Plan, server: servers.Server, cell: Cell, trial: int
) -> dict[str, Any]:
    """Load one target with one cell's traffic and return the phase's figures."""
    label = f"{cell.variant}-{cell.scenario}-u{cell.users}-{server.name}-t{trial}"
    workdir = setup.run_dir / "raw" / label
    workdir.mkdir(parents=True)
    seconds = round(the_plan.warmup_s + the_plan.measure_s)
    timing = (the_plan.warmup_s, seconds)
    # Locust's own start-up is not part of the run time; give it generous room.
    deadline = time.monotonic() + seconds + 60

    def launch(role: str, log_name: str, port: int = 0) -> subprocess.Popen:
        command = locust_command(setup, server.url, cell, workdir, timing, role, port)
        with (workdir / log_name).open("wb") as log:
            return subprocess.Popen(command, cwd=servers.REPO, stdout=log, stderr=log)

    if setup.locust_workers:
        port = servers.free_port()
        processes = [launch("master", "master.log", port)]
        processes += [
            launch("worker", f"worker-{index}.log", port) for index in range(setup.locust_workers)
        ]
    else:
        processes = [launch("local", "locust.log")]
    marker = workdir / "measuring"
    while not marker.exists():
        if time.monotonic() > deadline or processes[0].poll() is not None:
            for process in processes:
                process.kill()
            log = "\n".join(p.read_text() for p in workdir.glob("*.log"))
            raise RuntimeError(f"Locust did not start measuring {label}:\n{log[-2000:]}")
        time.sleep(0.01)
    server_cpu = servers.tree_cpu_seconds(server.pid)
    load_cpu = sum(servers.tree_cpu_seconds(p.pid) for p in processes)
    cpus_before = psutil.cpu_times(percpu=True)
    window_start = time.monotonic()
    stop, rss = threading.Event(), []
    sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, rss), daemon=True)
    sampler.start()
    load_cpu_end = load_cpu
    for process in processes:
        # Sample the generator's CPU just before it exits, while its processes still exist.
        while process.poll() is None and time.monotonic() < deadline:
            load_cpu_end = max(
                load_cpu_end, sum(servers.tree_cpu_seconds(p.pid) for p in processes)
            )
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            raise RuntimeError(f"Locust did not stop in time for {label}")
    wall = time.monotonic() - window_start
    busy = busy_fraction(cpus_before, psutil.cpu_times(percpu=True), setup.load_cpus)
    server_cpu = servers.tree_cpu_seconds(server.pid) - server_cpu
    stop.set()
    sampler.join()
    generator = (load_cpu_end - load_cpu) / max(wall, 1e-9) / setup.load_cpu_count
    return phase_figures(setup, server, cell, trial, workdir, server_cpu, (generator, busy), rss)


def phase_figures(
    setup: Setup,
    server: servers.Server,
    cell: Cell,
    trial: int,
    workdir: Path,
    server_cpu: float,
    generator: tuple[float, float],
    rss: list[float],
) -> dict[str, Any]:
    """Combine Locust's summaries with the runner's own samples into one phase record."""
    summaries = [json.loads(p.read_text()) for p in workdir.glob("*Runner-*.json")]
    main = next(s for s in summaries if "total" in s)
    total = main["total"]
    requests = max(total["requests"], 1)
    model_count = sum(s["model_count"] for s in summaries)
    model_ms = sum(s["model_ms"] for s in summaries)
    utilisation, load_cpus_busy = generator
    return {
        "target": server.name,
        "variant": cell.variant,
        "scenario": cell.scenario,
        "users": cell.users,
        "trial": trial,
        "seconds": main["seconds"],
        "requests": total["requests"],
        "failures": total["failures"],
        "errors": main["errors"],
        "rps": total["requests"] / main["seconds"],
        "latency_ms": total["latency_ms"],
        "server_cpu_us_per_request": server_cpu / requests * 1e6,
        "model_ms_mean": model_ms / model_count if model_count else None,
        "generator_cpu_util": utilisation,
        "load_cpus_busy": load_cpus_busy,
        # Bound when the generator's CPUs were saturated, whether by Locust or by anything
        # else: either way Locust could not have sent more, so this is a floor.
        "generator_bound": max(utilisation, load_cpus_busy) >= GENERATOR_BOUND,
        "rss_mb_steady": statistics.median(rss) if rss else 0.0,
        "rss_mb_peak": max(rss) if rss else 0.0,
        "csv_prefix": str((workdir / "locust").relative_to(setup.run_dir)),
    }


# -- start-up, calibration, environment --------------------------------------------------------


def measure_startup(setup: Setup, targets: tuple[str, ...], samples: int) -> dict[str, Any]:
    """Start each target ``samples`` times (interleaved); time start to first ready answer."""
    seconds: dict[str, list[float]] = {name: [] for name in targets}
    logs = setup.run_dir / "raw" / "startup"
    logs.mkdir(parents=True, exist_ok=True)
    for sample in range(samples):
        for name in targets:
            with servers.start(name, logs / f"{name}-{sample}.log", cpus=setup.server_cpus) as s:
                seconds[name].append(s.wait_ready(timeout=60))
    return {
        name: {"seconds": values, "median": statistics.median(values)}
        for name, values in seconds.items()
    }


def calibrate(
    setup: Setup,
    the_plan: Plan,
    started: dict[str, servers.Server],
    variant: str,
    phases: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Measure the plan's calibration cells with wrk; compare with Locust's medians."""
    found = []
    bodies = payloads.load(setup.payloads_path)
    for cal_variant, scenario, users in the_plan.calibrate:
        if cal_variant != variant or not wrk.available():
            continue
        method, path = ("GET", "/health/live") if scenario == "health" else ("POST", "/v1/predict")
        body = bodies["one"][0].encode() if method == "POST" else None
        for name, server in started.items():
            load = functools.partial(
                wrk.run,
                server.url + path,
                method=method,
                body=body,
                connections=users,
                cpus=setup.load_cpus,
            )
            load(seconds=1)  # warm-up, discarded
            result = load(seconds=the_plan.calibrate_s)
            matching = [
                p["rps"]
                for p in phases
                if (p["target"], p["variant"], p["scenario"], p["users"])
                == (name, variant, scenario, users)
            ]
            locust_rps = statistics.median(matching) if matching else 0.0
            ratio = locust_rps / result.rps if result.rps else 0.0
            found.append(
                {
                    "target": name,
                    "variant": variant,
                    "scenario": scenario,
                    "users": users,
                    "wrk_rps": result.rps,
                    "wrk_errors": result.errors,
                    "wrk_latency_ms": {
                        "p50": result.p50_ms,
                        "p90": result.p90_ms,
                        "p99": result.p99_ms,
                        "p999": result.p999_ms,
                        "max": result.max_ms,
                    },
                    "locust_rps": locust_rps,
                    "locust_to_wrk": ratio,
                    "generator_limited": bool(matching) and ratio < 0.9,
                }
            )
    return found


def gunicorn_settings(server_cpus: str) -> dict[str, Any]:
    """Return the gunicorn settings every target ran with, as the servers resolved them."""
    values = runpy.run_path(str(servers.GUNICORN_CONF))
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
    for variant in ("light", "heavy"):
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
        out = subprocess.run(
            ["git", *args], cwd=servers.REPO, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# -- the whole run -----------------------------------------------------------------------------


def run(
    mode: str = "default",
    *,
    out: Path = REPORTS,
    cpus: str | None = None,
    locust_workers: int = 0,
    show_progress: bool = True,
) -> Path:
    """Run the whole comparison; return the run directory."""
    from benchmarks import claims, footprint, overhead, report, security, soak

    the_plan = plan.build(mode)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = out / run_id
    run_dir.mkdir(parents=True)
    server_cpus, load_cpus = split_cpus(cpus)
    setup = Setup(
        run_dir, server_cpus, load_cpus, locust_workers, payloads.write(run_dir / "payloads.json")
    )
    progress = Progress(the_plan.estimate_s(), sys.stderr if show_progress else io.StringIO())
    started_at = time.monotonic()
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "mode": mode,
        "environment": fingerprint(setup),
        "config": {
            "warmup_s": the_plan.warmup_s,
            "measure_s": the_plan.measure_s,
            "targets": list(the_plan.targets),
            "cells": [vars(cell) for cell in the_plan.cells],
            "calibrate": the_plan.calibrate,
            "calibrate_s": the_plan.calibrate_s,
            "startup_samples": the_plan.startup_samples,
            "overhead_budget_s": the_plan.overhead_budget_s,
            "locust_workers": locust_workers,
            "locust_user": "FastHttpUser, no wait time (closed loop)",
            "interleaving": "targets in turn within each trial (A B C A B C ...)",
            "generator_bound_threshold": GENERATOR_BOUND,
        },
        "parity": {
            "ok": True,
            "probes": len(probes()),
            "targets": list(the_plan.targets),
            "differences": [],
        },
        "phases": [],
        "calibration": [],
        "reliability": {"inputs": [], "soak": []},
    }
    progress.start("lines of code, dependencies and security defaults")
    results["loc"] = {app: footprint.lines_of_code(app) for app in ("flask", "django")}
    results["dependencies"] = {app: footprint.dependencies(app) for app in ("flask", "django")}
    results["framework_footprint"] = {
        fw: footprint.framework_footprint(fw) for fw in ("flask", "django")
    }
    results["security"] = security.probe()
    progress.advance(10.0)

    progress.start("start-up times")
    results["startup"] = measure_startup(setup, the_plan.targets, the_plan.startup_samples)
    progress.advance(the_plan.startup_samples * len(the_plan.targets) * 2.0)

    progress.start("in-process cost split (benchmarks.overhead)")
    # One server CPU: each target's interpreter runs alone on it, as its worker would.
    results["overhead"] = [
        overhead.run_in_subprocess(name, the_plan.overhead_budget_s, cpus=server_cpus.split(",")[0])
        for name in the_plan.targets
    ]
    progress.advance(the_plan.overhead_estimate_s())

    for variant in the_plan.variants:
        progress.start(f"starting servers ({variant} model)")
        env = {"MLAPI_MODEL_VARIANT": variant}
        started = {
            name: servers.start(
                name, run_dir / "raw" / f"server-{variant}-{name}.log", env=env, cpus=server_cpus
            )
            for name in the_plan.targets
        }
        (run_dir / "raw").mkdir(exist_ok=True)
        try:
            for server in started.values():
                server.wait_ready(timeout=60)
            progress.advance(4.0)
            progress.start(f"parity gate ({variant} model)")
            differences = parity_gate(started)
            if differences:
                results["parity"].update(ok=False, differences=differences)
                raise ParityError("targets disagree:\n" + "\n".join(differences))
            if variant == "light":
                results["reliability"]["inputs"] = probe_answers(started)
            for trial, cell, target in the_plan.phases(variant):
                progress.start(
                    f"{target} {cell.variant} {cell.scenario} users={cell.users} "
                    f"trial {trial + 1}/{cell.trials}"
                )
                phase = run_phase(setup, the_plan, started[target], cell, trial)
                results["phases"].append(phase)
                progress.advance(the_plan.phase_seconds())
            progress.start(f"wrk calibration ({variant} model)")
            results["calibration"] += calibrate(
                setup, the_plan, started, variant, results["phases"]
            )
            progress.advance(
                sum(
                    len(the_plan.targets) * (the_plan.calibrate_s + 1.5)
                    for c in the_plan.calibrate
                    if c[0] == variant
                )
            )
        finally:
            for server in started.values():
                server.stop()
    progress.start(f"soak: each app at 70% of capacity for {the_plan.soak_s:.0f} s")
    results["reliability"]["soak_s"] = the_plan.soak_s
    results["reliability"]["soak"] = [
        soak.soak_app(setup, name, the_plan.soak_s, 0.7, capacity_s=min(3.0, the_plan.soak_s))
        for name in ("flask", "django")
    ]
    progress.advance(the_plan.soak_estimate_s())
    results["duration_s"] = time.monotonic() - started_at
    # Render from exactly what results.json holds, so `report DIR` gives the same bytes later.
    results = json.loads(json.dumps(results))
    results["claims"] = claims.evaluate(results)
    save(results, run_dir)
    report.write_reports(results, run_dir)
    point_latest(out, run_dir)
    progress.finish()
    return run_dir


def save(results: dict[str, Any], run_dir: Path) -> Path:
    """Write results.json."""
    path = run_dir / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def point_latest(out: Path, run_dir: Path) -> None:
    """Point ``out/latest`` at the run directory (a relative symlink)."""
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
