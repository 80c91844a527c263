"""Micro-benchmark the model runtime against scikit-learn's own predict_proba.

For each variant and batch size (1 and 100 rows) it times, in microseconds per call:

- ``raw``: the estimator's ``predict_proba`` on a prepared float64 array (scikit-learn alone);
- ``runtime``: ``Model.predict`` on the same rows given as request dicts (validation, array
  building, prediction and the response structure).

Each host is measured in its own process with one app's modules imported (``flask_app.wsgi`` or
``django_app.wsgi``), because what a process has imported can change what the model costs.

    python -m benchmarks micro                 # both hosts, both variants
    python -m benchmarks micro --host flask    # one host, in this process
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model import Model

HOSTS = {"none": None, "flask": "flask_app.wsgi", "django": "django_app.wsgi"}
BATCHES = (1, 100)


def per_call_us(
    fn: Callable[[], object],
    repeats: int = 7,
    budget_s: float = 0.25,
    *,
    clock: Callable[[], float] = time.perf_counter,
    pick: Callable[[list[float]], float] = statistics.median,
) -> float:
    """Return the time of one call in microseconds: ``pick`` of ``repeats`` timed loops.

    Each loop lasts about ``budget_s``; ``clock`` is wall time unless given (e.g. process CPU).
    """
    timer = timeit.Timer(fn, timer=clock)
    # Find a loop long enough to time (a fifth of the budget, at most 0.2 s), then size the
    # loops to the budget.
    number, elapsed = 1, timer.timeit(1)
    while elapsed < min(0.2, budget_s / 5):
        number *= 2
        elapsed = timer.timeit(number)
    number = max(1, int(number * budget_s / max(elapsed, 1e-9)))
    return pick([t / number for t in timer.repeat(repeats, number)]) * 1e6


def _predict_first(model: Model, instances: list[dict[str, float]], rows: int) -> object:
    """Predict the first ``rows`` of ``instances``, slicing them on every call."""
    return model.predict(instances[:rows])


def measure(host: str, budget_s: float = 0.25) -> dict[str, Any]:
    """Import the host's modules, then time raw and runtime prediction for every case."""
    module = HOSTS[host]
    if module:
        os.environ.setdefault("DJANGO_SECRET_KEY", "micro-benchmark-only")
        importlib.import_module(module)
    import model
    from model.data import holdout_instances

    instances = holdout_instances(max(BATCHES))
    rows = []
    for variant in model.VARIANTS:
        loaded = model.load(model.artifact_dir(variant))
        for batch in BATCHES:
            X = loaded.to_array(instances[:batch])
            raw = per_call_us(partial(loaded.estimator.predict_proba, X), budget_s=budget_s)
            runtime = per_call_us(
                partial(_predict_first, loaded, instances, batch), budget_s=budget_s
            )
            rows.append({"variant": variant, "rows": batch, "raw_us": raw, "runtime_us": runtime})
    return {"host": host, "warning_filters": len(warnings.filters), "cases": rows}


def run_in_subprocess(host: str) -> dict[str, Any]:
    """Measure one host in a fresh interpreter so hosts cannot affect each other."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure.child", "micro", host],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)
