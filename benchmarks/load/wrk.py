"""Drive wrk, an independent C load generator, and read its figures as JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cpus import CpuSet

# The scenarios wrk can replay, each one fixed request: method, path, and which request bodies
# (benchmarks.load.payloads) to take the body from, if any.
SCENARIOS: dict[str, tuple[str, str, str | None]] = {
    "health": ("GET", "/health/live", None),
    "predict_one": ("POST", "/v1/predict", "one"),
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

    @property
    def rps(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds


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
) -> WrkResult:
    """Load ``url`` with one wrk thread and ``connections`` connections for ``seconds``
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
            "1",
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
            command = ["taskset", "--cpu-list", str(cpus), *command]
        out = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    errors = sum(figures[k] for k in figures if k.endswith(("_errors", "timeouts")))
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=errors,
        **{f"{k}_ms": figures[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "p999", "max")},
    )
