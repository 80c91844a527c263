"""The same load measured by wrk, an independent generator, to check Locust's figures against."""

from __future__ import annotations

import functools
import statistics
from typing import cast

from benchmarks.load import payloads, wrk
from benchmarks.plan import Plan, Setup
from benchmarks.results.records import Calibration, Phase
from benchmarks.results.vocabulary import Target, Variant
from benchmarks.serving.gunicorn import Server


def calibrate(
    setup: Setup,
    the_plan: Plan,
    started: dict[str, Server],
    variant: Variant,
    phases: list[Phase],
) -> list[Calibration]:
    """Measure the plan's calibration cells with wrk; compare with Locust's medians."""
    found: list[Calibration] = []
    bodies = payloads.load(setup.payloads_path)
    for cal_variant, scenario, users in the_plan.calibrate:
        if cal_variant != variant or not wrk.available():
            continue
        method, path, kind = wrk.SCENARIOS[scenario]
        body = bodies[kind][0].encode() if kind else None
        for name, server in started.items():
            if name not in the_plan.calibrating(scenario):
                continue  # the baseline does not serve v2
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
                    "target": cast(Target, name),  # a run target, as in phases
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
