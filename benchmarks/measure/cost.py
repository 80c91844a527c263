"""Instructions per request counted by valgrind's callgrind: a cost the machine's noise cannot move.

CPython executes the same instructions for the same request, so a count taken this way agrees
from run to run (wall-clock time on a shared VM does not). The method, fixed and stated in the
report:

- one interpreter (``benchmarks.measure.child cost``) run by callgrind with instrumentation
  off, under ``setarch -R`` (no address randomisation), ``PYTHONHASHSEED=0`` and one BLAS/OpenMP
  thread, imports the shared stack uninstrumented (numpy, scikit-learn, the model runtime, both
  model files, the request bodies), then forks one child per target and model variant, one per
  CPU at a time: every target starts from the same state and pays only for its own imports;
- instrumentation is switched on and off, and each block dumped, from inside the interpreter by
  callgrind's client requests (``callgrind_requests.c``, compiled here with gcc and called
  through ctypes): they work in forked children, where ``callgrind_control`` cannot reach;
- start-up: instructions from there to the target's WSGI callable being ready (importing the
  framework and the app, loading the model), light variant only;
- warm-up: ``WARMUP`` requests of every scenario, uninstrumented, each answer checked; then
  ``gc.collect()`` and ``gc.freeze()``, as a preloaded gunicorn worker starts with its start-up
  objects frozen;
- each scenario: ``n`` identical requests through the WSGI callable, called as gunicorn calls it
  (``measure.overhead.call``), counted as one block and dumped on its own; an empty block
  measures the counting's own instructions, subtracted from every block;
- the model's share: ``Model.predict`` on the same instances (for a v2 request the runtime's
  part of its path: the tensor checked, its probabilities and labels), ``n`` times, in the
  shared interpreter before it forks (the same model and input for every target);
- garbage collection stays on: the collections that fall among the requests are part of their
  cost, and their share (callgrind's inclusive cost of CPython's ``gc_collect_main``) is reported.

The pieces: ``cost_plan`` (what each mode counts, as data), ``cost_child`` (the counted
interpreter, started as ``benchmarks.measure.child cost``), ``callgrind`` (compiling the client
requests, running valgrind, reading its dumps); this module runs them and returns the record.

    python -m benchmarks cost [--quick] [--targets flask,django] [--json FILE]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from benchmarks import REPO
from benchmarks.cpus import CpuSet
from benchmarks.measure import callgrind
from benchmarks.measure.callgrind import Blocks
from benchmarks.measure.cost_plan import (
    SCENARIOS,
    WARMUP,
    Job,
    Spec,
    jobs,
    model_scenarios,
    plan,
    startups,
)
from benchmarks.results.records import Cost, CostRow
from benchmarks.results.vocabulary import Mode, Scenario
from benchmarks.targets import TARGETS

ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ENV |= {"MKL_NUM_THREADS": "1", "DJANGO_SECRET_KEY": "cost-benchmark-only"}
FIRST_TWO = CpuSet((0, 1))  # the CPUs counted on unless told: a run passes all of its own


def prepare(target: str) -> None:
    """Run a target's one-off set-up (its migrations, say) in a process of its own, so no count
    depends on whether an earlier run left it done."""
    if not TARGETS[target].prepare:
        return
    module, _, attribute = TARGETS[target].wsgi.partition(":")
    code = f"import {module} as m; m.prepare({attribute!r})"
    subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=os.environ | ENV, check=True, timeout=300
    )


def measure(
    mode: Mode = "default",
    cpus: CpuSet = FIRST_TWO,
    targets: Sequence[str] | None = None,
    keep: Path | None = None,
    requests: dict[str, int] | None = None,
) -> Cost:
    """Count every target and scenario of a mode (``requests`` narrows and resizes its plan)."""
    callgrind.require()
    the_plan = plan(mode)
    if requests:
        the_plan |= {"scenarios": tuple(requests), "requests": requests}
    requests = the_plan["requests"]
    forked = jobs(the_plan, targets)
    counted_startup = startups(the_plan, forked)
    for target, _, _ in forked:
        prepare(target)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        spec: Spec = {
            "library": str(callgrind.compile_requests(out)),
            "cpus": list(cpus),
            "requests": requests,
            "model": model_scenarios(the_plan),
            "jobs": forked,
            "startup": counted_startup,
        }
        (out / "spec.json").write_text(json.dumps(spec))
        # The apps record /metrics as deployed: gunicorn.conf.py always sets the directory of
        # prometheus_client's multiprocess mode, whose writes cost more than one process's.
        metrics_dir = out / "metrics"
        metrics_dir.mkdir(exist_ok=True)
        callgrind.run(
            [sys.executable, "-m", "benchmarks.measure.child", "cost", str(out / "spec.json")],
            cpus,
            out,
            cwd=REPO,
            env=os.environ | ENV | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            timeout=1800,
        )
        blocks = callgrind.read_blocks(out)
    return {
        "tool": callgrind.version() + " callgrind, instructions executed (Ir)",
        "mode": mode,
        "requests": requests,
        "warmup_requests": WARMUP,
        "gc": "frozen after warm-up; collections among the requests counted in their cost",
        "metrics": "prometheus_client's multiprocess mode, as under gunicorn",
        "rows": rows(blocks, forked, requests),
        "startup": {
            target: blocks[target, "light", "startup"]["total"]
            - blocks[target, "light", "empty"]["total"]
            for target in counted_startup
        },
        "seconds": round(time.monotonic() - started, 1),
    }


def rows(blocks: Blocks, jobs: Sequence[Job], requests: dict[str, int]) -> list[CostRow]:
    """Return one row per target, variant and scenario: per request, in total and split."""

    def per_call(target: str, variant: str, what: str, times: int) -> float:
        return (
            blocks[target, variant, what]["total"] - blocks[target, variant, "empty"]["total"]
        ) / times

    found: list[CostRow] = []
    for target, variant, scenarios in jobs:
        for scenario in scenarios:
            n = requests[scenario]
            total = per_call(target, variant, f"request-{scenario}", n)
            model = (
                per_call("shared", "-", f"model-{scenario}", n)
                if ("shared", "-", f"model-{scenario}") in blocks
                else 0.0
            )
            found.append(
                {
                    "target": target,
                    "variant": variant,
                    # The cost step's own SCENARIOS are the vocabulary's plus predict_one_heavy.
                    "scenario": cast(Scenario, scenario.removesuffix("_heavy")),
                    "requests": n,
                    "instructions": round(total),
                    "model_instructions": round(model),
                    "rest_instructions": round(total - model),
                    "gc_instructions": round(
                        blocks[target, variant, f"request-{scenario}"]["gc"] / n
                    ),
                }
            )
    order = {name: index for index, name in enumerate(TARGETS)}
    found.sort(
        key=lambda r: (
            list(SCENARIOS).index(r["scenario"] + ("_heavy" if r["variant"] == "heavy" else "")),
            order[r["target"]],
        )
    )
    return found
