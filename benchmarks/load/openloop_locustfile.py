"""Open-loop Locust load: one user sends each request at its intended time (``openloop.py``).

    locust -f benchmarks/load/openloop_locustfile.py --headless --host http://127.0.0.1:8001 \\
        --users 1 --scenario predict_one --rate 200 --arrival poisson --schedule-seconds 10 \\
        --run-time 10s

It shares the closed-loop locustfile's options, warm-up and window edges (importing that module
registers them) and reports each request through Locust's request event, so Locust's statistics
and the JSON summary read as usual, with one difference: a response time runs from the request's
intended send time, not from the moment it left.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any, ClassVar

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, constant, events, task

from benchmarks.load import locustfile as shared
from benchmarks.load.openloop import ARRIVALS, MAX_IN_FLIGHT, TIMEOUT_S, arrivals
from benchmarks.load.payloads import V2_INFER
from benchmarks.load.payloads import load as load_payloads

# scenario -> (method, path, kind of body, expected status, marker in the expected body)
REQUESTS = {
    "health": ("GET", "/health/live", None, 200, b'"ok"'),
    "predict_one": ("POST", "/v1/predict", "one", 200, b'"predictions"'),
    "predict_batch": ("POST", "/v1/predict", "batch", 200, b'"predictions"'),
    "invalid": ("POST", "/v1/predict", "invalid", 422, b'"validation_error"'),
    "v2_one": ("POST", V2_INFER, "v2_one", 200, b'"predict_proba"'),
    "v2_batch": ("POST", V2_INFER, "v2_batch", 200, b'"predict_proba"'),
}


class Schedule:
    """What the scheduling user saw of its own sending, for the summary."""

    scheduled = 0
    lag_ms: ClassVar[list[float]] = []  # how late each request left after its intended time
    most_in_flight = 0
    unanswered = 0  # still open when the user was stopped: reported as failures


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    """Add the open-loop options (the rate is the shared ``--rate``)."""
    parser.add_argument("--arrival", choices=ARRIVALS, default="constant", help="arrival process")
    parser.add_argument(
        "--schedule-seconds", type=float, default=10.0, help="how long the schedule runs"
    )


@events.quit.add_listener
def write_schedule(exit_code: int, **kwargs: Any) -> None:
    """Write the generator's own figures beside the summary."""
    environment = shared.Window.environment
    if environment is None or not environment.parsed_options.summary_dir:
        return
    lags = sorted(Schedule.lag_ms)
    figures = {
        "scheduled": Schedule.scheduled,
        "sent": len(lags),
        "lag_ms_p50": statistics.median(lags) if lags else 0.0,
        "lag_ms_p99": lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else 0.0,
        "lag_ms_max": lags[-1] if lags else 0.0,
        "most_in_flight": Schedule.most_in_flight,
        "unanswered": Schedule.unanswered,
    }
    path = Path(environment.parsed_options.summary_dir, f"openloop-{os.getpid()}.json")
    path.write_text(json.dumps(figures))


class OpenLoopUser(FastHttpUser):
    """One user that sends a scenario's requests on a schedule, each from its own greenlet."""

    concurrency = MAX_IN_FLIGHT
    network_timeout = TIMEOUT_S
    connection_timeout = TIMEOUT_S
    wait_time = constant(3600)  # the schedule is one task; after it the user only waits

    def on_start(self) -> None:
        """Draw the schedule and load the request bodies."""
        options = self.environment.parsed_options
        self.bodies = load_payloads(Path(options.payloads)) if options.payloads else load_payloads()
        self.method, self.path, kind, self.status, self.marker = REQUESTS[options.scenario]
        self.choices = self.bodies[kind] if kind else [None]
        self.name = options.scenario
        self.times = arrivals(options.rate, options.schedule_seconds, options.arrival)
        self.random = random.Random(len(self.times))
        self.pool = Pool(MAX_IN_FLIGHT)
        self.open: dict[int, float] = {}  # greenlet id -> intended send time (perf_counter)
        Schedule.scheduled = len(self.times)

    @task
    def follow_schedule(self) -> None:
        """Send every request at its intended time, then wait for the last answers."""
        start = time.perf_counter()
        for offset in self.times:
            intended = start + offset
            delay = intended - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            # Blocks only while MAX_IN_FLIGHT requests are open; the wait counts in the latency.
            self.pool.spawn(self.send, intended, self.random.choice(self.choices))
        self.pool.join()

    def send(self, intended: float, body: str | None) -> None:
        """Send one request and report its latency from its intended send time."""
        key = id(gevent.getcurrent())
        self.open[key] = intended
        Schedule.lag_ms.append((time.perf_counter() - intended) * 1000)
        Schedule.most_in_flight = max(Schedule.most_in_flight, len(self.open))
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            with self.client.request(
                self.method,
                self.path,
                data=body,
                headers=headers,
                name=self.name,
                catch_response=True,
            ) as response:
                if response.status_code != self.status:
                    response.failure(f"status {response.status_code}, expected {self.status}")
                elif self.marker not in (response.content or b""):
                    response.failure(f"body without {self.marker.decode()}")
                else:
                    response.success()
                response.request_meta["response_time"] = (time.perf_counter() - intended) * 1000
                response.request_meta["start_time"] = time.time() - (time.perf_counter() - intended)
        finally:
            self.open.pop(key, None)

    def on_stop(self) -> None:
        """Report every request still open as failed, with its wait so far, then drop it."""
        pending = list(self.open.values())
        self.pool.kill(block=True)
        now = time.perf_counter()
        for intended in pending:
            Schedule.unanswered += 1
            self.environment.events.request.fire(
                request_type=self.method,
                name=self.name,
                response_time=(now - intended) * 1000,
                response_length=0,
                exception=RuntimeError("no answer before the generator stopped"),
                context={},
                start_time=time.time() - (now - intended),
                url=self.path,
                response=None,
            )
