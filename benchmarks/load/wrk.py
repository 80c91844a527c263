"""Drive wrk, an independent C load generator, and read its figures as JSON.

wrk's own CPU time comes from the kernel when the runner reaps it (``os.wait4``: user and system
time of all its threads, over its whole life), so it is exact and needs no sampling at the
moment wrk stops; over wrk's wall time from start to exit it says how busy wrk kept its CPUs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.load.payloads import V2_INFER

# The scenarios wrk can replay, each one fixed request: method, path, and which request bodies
# (benchmarks.load.payloads) to take the body from, if any (the first of them).
SCENARIOS: dict[str, tuple[str, str, str | None]] = {
    "health": ("GET", "/health/live", None),
    "predict_one": ("POST", "/v1/predict", "one"),
    "predict_batch": ("POST", "/v1/predict", "batch"),
    "v2_one": ("POST", V2_INFER, "v2_one"),
    "v2_batch": ("POST", V2_INFER, "v2_batch"),
}

# wrk calls done() once at the end; latency percentiles are in microseconds.
_SCRIPT = """
local body_path = {body_path}
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
if body_path ~= "" then
  local handle = io.open(body_path, "rb")
  wrk.body = handle:read("*a")
  handle:close()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    cpu_s: float  # wrk's CPU seconds (user + system, every thread) from start to exit
    wall_s: float  # wall seconds from starting wrk to reaping it

    @property
    def rps(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds

    @property
    def cpu_cores(self) -> float:
        """Return how many cores wrk kept busy on average over its life."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def available() -> bool:
    """Return whether wrk is installed."""
    return shutil.which("wrk") is not None


def run(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    connections: int = 8,
    seconds: float = 10.0,
    cpus: CpuSet | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    threads: int = 1,
) -> WrkResult:
    """Load ``url`` with ``threads`` wrk threads and ``connections`` connections for ``seconds``
    (``headers``: sent with every request besides the JSON content type)."""
    with tempfile.TemporaryDirectory(prefix="wrk-") as scratch:
        body_path = ""
        if body is not None:
            body_path = str(Path(scratch) / "body.json")
            Path(body_path).write_bytes(body)
        script = Path(scratch) / "script.lua"
        script.write_text(_SCRIPT.format(body_path=json.dumps(body_path), method=method))
        command = [
            "wrk",
            "--threads",
            str(threads),
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--script",
            str(script),
            *(option for name, value in headers for option in ("--header", f"{name}: {value}")),
            url,
        ]
        if cpus:
            # taskset execs wrk in its own process: the reaped process is wrk.
            command = ["taskset", "--cpu-list", str(cpus), *command]
        stdout, cpu_s, wall_s = _reaped(command, Path(scratch), timeout=seconds + 60)
    figures = json.loads(stdout.strip().splitlines()[-1])
    errors = sum(figures[k] for k in figures if k.endswith(("_errors", "timeouts")))
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=errors,
        **{f"{k}_ms": figures[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "p999", "max")},
        cpu_s=cpu_s,
        wall_s=wall_s,
    )


def _reaped(command: list[str], scratch: Path, timeout: float) -> tuple[str, float, float]:
    """Run ``command`` to its end; return its output, its CPU seconds and its wall seconds.

    Reaped with ``os.wait4``, which returns the child's own resource usage (``subprocess``
    reaps without it). Output goes to files: wrk's is small, but a pipe nobody reads meanwhile
    could fill.
    """
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=err)
    # wrk stops itself after --duration; this only ends a wrk that hangs.
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    wall_s = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(
            process.returncode, command, out_path.read_text(), err_path.read_text()
        )
    return out_path.read_text(), usage.ru_utime + usage.ru_stime, wall_s
