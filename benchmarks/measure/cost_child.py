"""The interpreter callgrind counts (``python -m benchmarks.measure.child cost SPEC.json``).

It imports the shared stack uninstrumented, counts ``Model.predict`` alone, then forks one child
per job (``cost_plan.Job``), one per CPU at a time; each child counts its target's start-up and
requests. ``measure.cost`` starts it and reads the dumps; the method is stated there.

What this module imports is imported before any target's start-up is counted, so a target pays
only for the imports it adds: keep its imports, and those of ``cost_plan``, as they are.
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.measure.cost_plan import SCENARIOS, WARMUP, Spec
from benchmarks.targets import TARGETS


def block(library: Any, name: str, action: Callable[[], object], times: int) -> None:
    """Count ``times`` calls of ``action`` from zero, and dump them under ``name``."""
    library.zero()
    for _ in range(times):
        action()
    library.dump(name.encode())


def model_work(model: Any, body: bytes) -> Callable[[], object]:
    """Return the model runtime's part of a request with this body, on the same rows: /v1's
    ``Model.predict`` of its instances; for a v2 tensor what the v2 path asks of the runtime
    (the tensor checked into an array, its probabilities, their labels)."""
    request = json.loads(body)
    if "instances" in request:
        return partial(model.predict, request["instances"])
    tensor = request["inputs"][0]

    def infer() -> list[str]:
        X = model.tensor_to_array(tensor["data"], tensor["shape"])
        return model.labels(model.predict_proba(X))

    return infer


def worker(spec_path: Path) -> None:
    """Count the model alone, then fork one child per job, at most one per CPU at a time."""
    import gc
    import importlib
    import traceback

    from benchmarks.load import payloads
    from benchmarks.measure.overhead import call, environ
    from model import load
    from model.runtime import artifact_dir

    spec: Spec = json.loads(spec_path.read_text())
    library = ctypes.CDLL(spec["library"])
    requests: dict[str, int] = spec["requests"]
    bodies = {kind: values[0].encode() for kind, values in payloads.build().items()}
    variants = {job[1] for job in spec["jobs"]} | {SCENARIOS[s][0] for s in spec["model"]}
    models = {variant: load(artifact_dir(variant)) for variant in variants}
    # The model's share of each scenario: what the runtime does for the request, on its rows.
    alone = {
        scenario: model_work(models[SCENARIOS[scenario][0]], bodies[SCENARIOS[scenario][3] or ""])
        for scenario in spec["model"]
    }
    for work in alone.values():
        for _ in range(WARMUP):
            work()
    library.instrumentation_on()
    block(library, "shared/-/empty", lambda: None, 0)
    for scenario, work in alone.items():
        block(library, f"shared/-/model-{scenario}", work, requests[scenario])
    library.instrumentation_off()

    def child(target: str, variant: str, scenarios: list[str]) -> None:
        os.environ["MLAPI_MODEL_VARIANT"] = variant
        os.environ.update(TARGETS[target].env)
        name = f"{target}/{variant}"
        module, _, attribute = TARGETS[target].wsgi.partition(":")
        app: list[Any] = []
        if variant == "light" and target in spec["startup"]:
            library.instrumentation_on()

        def start() -> None:
            app.append(getattr(importlib.import_module(module), attribute))

        block(library, f"{name}/startup", start, 1)
        library.instrumentation_off()

        # A header the target needs (the ladders' token rungs), as gunicorn would pass it.
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in TARGETS[target].headers}

        def request(scenario: str) -> int:
            _, method, path, kind, _ = SCENARIOS[scenario]
            status, _, _ = call(
                app[0], environ(method, path, bodies[kind] if kind else b"") | extra
            )
            return int(status.split()[0])

        for scenario in scenarios:
            seen = {request(scenario) for _ in range(WARMUP)}
            if seen != {SCENARIOS[scenario][4]}:
                raise RuntimeError(f"{name} {scenario} answered {sorted(seen)} in the warm-up")
        gc.collect()
        gc.freeze()
        library.instrumentation_on()
        block(library, f"{name}/empty", lambda: None, 0)
        for scenario in scenarios:
            seen = set()
            block(
                library,
                f"{name}/request-{scenario}",
                lambda: seen.add(request(scenario)),  # noqa: B023 (called within this iteration)
                requests[scenario],
            )
            if seen != {SCENARIOS[scenario][4]}:
                raise RuntimeError(f"{name} {scenario} answered {sorted(seen)}")
        library.instrumentation_off()

    running: dict[int, int] = {}  # child's PID -> its CPU
    free, failed = list(spec["cpus"]), []
    for target, variant, scenarios in spec["jobs"]:
        if not free:
            pid, status = os.wait()
            free.append(running.pop(pid))
            failed += [pid] if status else []
        cpu = free.pop(0)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.sched_setaffinity(0, {cpu})
                child(target, variant, scenarios)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        running[pid] = cpu
    while running:
        pid, status = os.wait()
        running.pop(pid)
        failed += [pid] if status else []
    if failed:
        raise SystemExit(f"{len(failed)} counted interpreter(s) failed: see the log above")
