"""Locust load profiles for the contract, usable alone or driven by the benchmark runner.

Standalone, with the web UI, against any running app::

    locust -f benchmarks/load/locustfile.py --host http://127.0.0.1:8001

Scenarios (``--scenario``): ``health`` (GET /health/live, the framework's floor),
``predict_one`` (one held-out row), ``predict_batch`` (100 rows), ``invalid`` (a body that gets
422, the error path), ``v2_one`` and ``v2_batch`` (the same rows through the Open Inference
Protocol v2, ``POST /v2/models/<name>/infer``: any v2 server serving the model under its name is
a host) and ``mixed`` (70% one row, 10% each of /v1's others). Every response is checked: a wrong
status or body counts as a failure.

For the runner, ``--warmup-seconds`` discards the statistics of the first seconds and
``--summary-dir`` receives a JSON summary per process with sub-millisecond percentiles (Locust's
own CSVs round response times under 100 ms to whole milliseconds). Into the same directory each
process writes the two edges of the window it counts, as JSON: ``measuring-<pid>`` the moment it
reset its statistics after the warm-up, and ``stopped-<pid>`` once its users have stopped and it
counts no more requests. Each edge is read in the same step as the reset or the stop, with no
other greenlet running in between: the time, this process's own CPU seconds, the load CPUs'
busy and total seconds, and, given ``--server-pid``, the CPU seconds of the server's process tree.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import gevent
import locust.stats
from locust import FastHttpUser, constant_throughput, events, task
from locust.runners import MasterRunner, WorkerRunner

from benchmarks.load.payloads import V2_INFER
from benchmarks.load.payloads import load as load_payloads
from benchmarks.results.vocabulary import SCENARIOS
from benchmarks.serving.processes import ProcessTree, cpu_busy_seconds

MIXED_WEIGHTS = {"predict_one": 70, "predict_batch": 10, "health": 10, "invalid": 10}
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999, "max": 1.0}


def fine_bucket(response_time: float) -> float:
    """Keep 10-microsecond resolution under 10 ms and three significant digits above."""
    if response_time < 10:
        return round(response_time, 2)
    if response_time < 100:
        return round(response_time, 1)
    return float(f"{response_time:.3g}")


# Locust documents replacing this module-level function to change its histogram's resolution;
# its annotation says the bucket is an int, but Locust only uses it as a key, and a float key is
# the finer resolution this replacement exists for.
locust.stats.bucket_response_time = fine_bucket  # type: ignore[assignment]


class Window:
    """What this process measured since the warm-up ended."""

    started = time.time()
    stopped: float | None = None
    model_ms = 0.0
    model_count = 0
    environment: Any = None
    server: ProcessTree | None = None

    @classmethod
    def reset(cls) -> None:
        """Start measuring now."""
        cls.started = time.time()
        cls.stopped = None
        cls.model_ms = 0.0
        cls.model_count = 0


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    """Add this file's options (also shown in the web UI)."""
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="mixed",
        include_in_web_ui=True,
        help="traffic profile",
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=0.0,
        help="discard statistics gathered before this many seconds",
    )
    parser.add_argument(
        "--summary-dir", default="", help="write a JSON summary per process into this directory"
    )
    parser.add_argument("--payloads", default="", help="JSON file of request bodies")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="total requests per second to aim for (0: as fast as possible)",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        default=0,
        help="read the CPU time of this process and its children at the window's edges",
    )


@events.test_start.add_listener
def start_warmup(environment: Any, **kwargs: Any) -> None:
    """Reset the statistics once the warm-up is over."""
    warmup = environment.parsed_options.warmup_seconds
    Window.environment = environment
    Window.reset()
    if environment.parsed_options.server_pid:
        # Listed now: listing a process's children scans /proc, too slow for an edge.
        Window.server = ProcessTree(environment.parsed_options.server_pid)
    if warmup > 0:
        gevent.spawn_later(warmup, end_warmup, environment)


def end_warmup(environment: Any) -> None:
    """Discard everything measured so far, and write down the moment the window opens."""
    environment.runner.stats.reset_all()
    Window.reset()
    write_edge(environment, "measuring", Window.started)


@events.test_stop.add_listener
def stop_window(environment: Any, **kwargs: Any) -> None:
    """Write down the moment the window closes; a worker writes its model time now."""
    # test_stop fires once this process's users have stopped: nothing more is counted here.
    Window.stopped = time.time()
    write_edge(environment, "stopped", Window.stopped)
    if isinstance(environment.runner, WorkerRunner):
        write_summary(environment)


def write_edge(environment: Any, name: str, moment: float) -> None:
    """Write one edge of this process's window for the runner, whole at once."""
    summary_dir = environment.parsed_options.summary_dir
    # A worker on another machine is sent the master's options, this directory among them,
    # which it does not have: its counts reach the master through Locust's own reports.
    if not summary_dir or not Path(summary_dir).is_dir():
        return
    # The server first: it is what the edge is most precisely for.
    server_cpu_s = Window.server.cpu_seconds() if Window.server else None
    busy_s, total_s = cpu_busy_seconds(os.sched_getaffinity(0))
    edge = {
        "time": moment,
        "server_cpu_s": server_cpu_s,
        "process_cpu_s": time.process_time(),
        "load_cpus_busy_s": busy_s,
        "load_cpus_total_s": total_s,
    }
    if isinstance(environment.runner, MasterRunner):
        # The workers it counts from, wherever they run (it waited for --expect-workers).
        edge["workers"] = environment.runner.worker_count
    partial = Path(summary_dir, f".{name}-{os.getpid()}.partial")
    partial.write_text(json.dumps(edge))
    partial.replace(Path(summary_dir, f"{name}-{os.getpid()}"))


@events.quit.add_listener
def write_final_summary(exit_code: int, **kwargs: Any) -> None:
    """Write the request statistics once a master has received its workers' final reports."""
    if Window.environment is not None and not isinstance(Window.environment.runner, WorkerRunner):
        write_summary(Window.environment)


def write_summary(environment: Any) -> None:
    """Write this process's summary: model time always, request statistics where they live."""
    summary_dir = environment.parsed_options.summary_dir
    if not summary_dir or not Path(summary_dir).is_dir():
        return
    summary: dict[str, Any] = {
        "role": type(environment.runner).__name__,
        "model_ms": Window.model_ms,
        "model_count": Window.model_count,
    }
    if not isinstance(environment.runner, WorkerRunner):
        stats = environment.runner.stats
        summary["seconds"] = (Window.stopped or time.time()) - Window.started
        summary["entries"] = [entry_summary(e) for e in stats.entries.values()]
        summary["total"] = entry_summary(stats.total)
        summary["errors"] = [
            {"name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ]
    path = Path(summary_dir, f"{summary['role']}-{os.getpid()}.json")
    path.write_text(json.dumps(summary))


def entry_summary(entry: Any) -> dict[str, Any]:
    """Return one statistics entry with sub-millisecond percentiles."""
    top = entry.max_response_time or 0.0
    # A percentile is a bucket's value, which above 100 ms is rounded to three digits and may
    # round above the slowest response; no percentile is slower than the slowest response.
    return {
        "name": entry.name,
        "method": entry.method,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "latency_ms": {
            key: (min(entry.get_response_time_percentile(p), top) if entry.num_requests else 0.0)
            for key, p in PERCENTILES.items()
        }
        | {"max": top},
    }


class ContractUser(FastHttpUser):
    """A client that sends one scenario's requests back to back and checks every answer."""

    pace: Any = None

    def wait_time(self) -> float:
        """Wait nothing (closed loop), or pace the users to the total ``--rate``."""
        return self.pace(self) if self.pace else 0.0

    def on_start(self) -> None:
        """Load the request bodies and pick this user's scenario."""
        options = self.environment.parsed_options
        path = Path(options.payloads) if options.payloads else None
        if path and not path.exists() and isinstance(self.environment.runner, WorkerRunner):
            # A worker on another machine is sent the master's path: it builds the same bodies
            # (the same held-out rows) in its own default place.
            path = None
        self.bodies = load_payloads(path) if path else load_payloads()
        self.scenario = options.scenario
        if options.rate > 0:
            self.pace = constant_throughput(options.rate / max(options.num_users or 1, 1))
        self.random = random.Random(hash((os.getpid(), id(self))))

    @task
    def send(self) -> None:
        """Send the next request of the scenario."""
        scenario = self.scenario
        if scenario == "mixed":
            scenario = self.random.choices(
                list(MIXED_WEIGHTS), weights=list(MIXED_WEIGHTS.values())
            )[0]
        if scenario == "health":
            self.check("GET", "/health/live", None, 200, b'"ok"', "health")
        elif scenario == "invalid":
            body = self.random.choice(self.bodies["invalid"])
            self.check("POST", "/v1/predict", body, 422, b'"validation_error"', "invalid")
        elif scenario in ("v2_one", "v2_batch"):
            body = self.random.choice(self.bodies[scenario])
            self.check("POST", V2_INFER, body, 200, b'"predict_proba"', scenario)
        else:
            kind = "one" if scenario == "predict_one" else "batch"
            body = self.random.choice(self.bodies[kind])
            self.check("POST", "/v1/predict", body, 200, b'"predictions"', scenario)

    def check(
        self, method: str, path: str, body: str | None, status: int, marker: bytes, name: str
    ) -> None:
        """Send one request and fail it unless status and body are what the contract says."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self.client.request(
            method, path, data=body, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != status:
                response.failure(f"status {response.status_code}, expected {status}")
            elif marker not in (response.content or b""):
                response.failure(f"body without {marker.decode()}")
            else:
                timing = response.headers.get("Server-Timing", "")
                if timing.startswith("model;dur="):
                    Window.model_ms += float(timing[len("model;dur=") :])
                    Window.model_count += 1
                response.success()
