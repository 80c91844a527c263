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
- the model's share: ``Model.predict`` on the same instances, ``n`` times, in the shared
  interpreter before it forks (the same model and input for every target);
- garbage collection stays on: the collections that fall among the requests are part of their
  cost, and their share (callgrind's inclusive cost of CPython's ``gc_collect_main``) is reported.

    python -m benchmarks cost [--quick] [--targets flask,django] [--json FILE]
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypedDict, cast

from benchmarks import REPO
from benchmarks.results.records import Cost, CostRow
from benchmarks.results.vocabulary import Mode, Scenario, Variant
from benchmarks.targets import TARGETS, ladder, names

# scenario -> (variant, method, path, body kind in benchmarks.load.payloads, expected status)
SCENARIOS: dict[str, tuple[Variant, str, str, str | None, int]] = {
    "health": ("light", "GET", "/health/live", None, 200),
    "predict_one": ("light", "POST", "/v1/predict", "one", 200),
    "predict_batch": ("light", "POST", "/v1/predict", "batch", 200),
    "invalid": ("light", "POST", "/v1/predict", "invalid", 422),
    "predict_one_heavy": ("heavy", "POST", "/v1/predict", "one", 200),
}
# A framework's floor answers well-formed requests only; the error path is the contract's.
CONTRACT_ONLY = frozenset({"invalid"})
WARMUP = 20  # requests of each scenario before counting: the caches a request fills are full
ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ENV |= {"MKL_NUM_THREADS": "1", "DJANGO_SECRET_KEY": "cost-benchmark-only"}
REQUESTS_SOURCE = Path(__file__).with_name("callgrind_requests.c")


class CostPlan(TypedDict):
    """What a mode of the cost step counts."""

    targets: tuple[str, ...]
    scenarios: tuple[str, ...]  # of SCENARIOS
    requests: dict[str, int]  # scenario -> requests counted
    ladders: tuple[str, ...]  # the rungs, counted on one-row predictions only
    ladder_startup: bool  # the rungs' start-ups counted too


def plan(mode: Mode) -> CostPlan:
    """Return what a mode counts: targets, scenarios and requests per scenario, and the
    ladders' rungs (one-row predictions only: what a feature adds to the same request)."""
    if mode == "quick":
        return {
            "targets": names("run"),
            "scenarios": ("predict_one", "predict_one_heavy"),
            "requests": {"predict_one": 10, "predict_one_heavy": 5},
            "ladders": (),
            "ladder_startup": False,
        }
    return {
        "targets": names(),
        "scenarios": tuple(SCENARIOS),
        "requests": {
            # Cheap requests get more: a count moves by a few hundred instructions a request
            # (request IDs, dates), a larger share of a health check than of a prediction.
            "health": 150,
            "predict_one": 50,
            "predict_batch": 5,
            "invalid": 60,
            "predict_one_heavy": 10,
        },
        # The floors and the apps are counted above; the ladders add their rungs. Counting a
        # start-up is the slow part (every import instrumented): the rungs' only in "full".
        "ladders": (
            *(name for name in ladder() if name not in names()),
            *names("metrics-off"),
        ),
        "ladder_startup": mode == "full",
    }


def scenarios_of(target: str, scenarios: Sequence[str]) -> list[str]:
    """Return the scenarios a target serves, in ``SCENARIOS`` order."""
    floor = "floor" in TARGETS[target].tags
    return [
        name for name in SCENARIOS if name in scenarios and not (floor and name in CONTRACT_ONLY)
    ]


# -- inside the interpreter that callgrind runs ----------------------------------------------------


def block(library: Any, name: str, action: Callable[[], object], times: int) -> None:
    """Count ``times`` calls of ``action`` from zero, and dump them under ``name``."""
    library.zero()
    for _ in range(times):
        action()
    library.dump(name.encode())


def worker(spec_path: Path) -> None:
    """Count the model alone, then fork one child per job, at most one per CPU at a time."""
    import gc
    import importlib
    import traceback

    from benchmarks.load import payloads
    from benchmarks.measure.overhead import call, environ
    from model import load
    from model.runtime import artifact_dir

    spec = json.loads(spec_path.read_text())
    library = ctypes.CDLL(spec["library"])
    requests: dict[str, int] = spec["requests"]
    bodies = {kind: values[0].encode() for kind, values in payloads.build().items()}
    instances = {kind: json.loads(body)["instances"] for kind, body in bodies.items()}
    variants = {job[1] for job in spec["jobs"]} | {SCENARIOS[s][0] for s in spec["model"]}
    models = {variant: load(artifact_dir(variant)) for variant in variants}
    for scenario in spec["model"]:
        for _ in range(WARMUP):
            models[SCENARIOS[scenario][0]].predict(instances[SCENARIOS[scenario][3] or ""])
    library.instrumentation_on()
    block(library, "shared/-/empty", lambda: None, 0)
    for scenario in spec["model"]:
        model, rows = models[SCENARIOS[scenario][0]], instances[SCENARIOS[scenario][3] or ""]
        block(
            library, f"shared/-/model-{scenario}", partial(model.predict, rows), requests[scenario]
        )
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

    running: dict[int, str] = {}  # child's PID -> its CPU
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
                os.sched_setaffinity(0, {int(cpu)})
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


# -- the driver ----------------------------------------------------------------------------------


def compile_requests(directory: Path) -> Path:
    """Compile ``callgrind_requests.c`` into a shared library in ``directory``."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is not installed; run `bash scripts/system-deps.sh`")
    library = directory / "libcallgrind_requests.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(REQUESTS_SOURCE)],
        check=True,
        capture_output=True,
    )
    return library


def read_dump(path: Path) -> tuple[str, int]:
    """Return a callgrind dump's name (given to ``dump()``) and its total instructions."""
    name, total = "", 0
    with path.open() as handle:
        for line in handle:
            if line.startswith("desc: Trigger: Client Request: "):
                name = line.removeprefix("desc: Trigger: Client Request: ").strip()
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
                break
    return name, total


def inclusive(path: Path, function: str) -> int:
    """Return a C function's inclusive instructions in a dump: the cost of every call to it.

    In callgrind's format a ``calls=`` line is followed by the inclusive cost of that call, and
    ``cfn=`` names the function called (``(id) name`` the first time, ``(id)`` after that).
    """
    names: dict[str, str] = {}
    called, counting, total = "", False, 0
    with path.open() as handle:
        for line in handle:
            if counting:
                total += int(line.split()[1])
                counting = False
            elif line.startswith(("fn=", "cfn=")):
                ref = line.partition("=")[2].strip()
                number, _, name = ref.partition(" ")
                if number.startswith("(") and name:
                    names[number] = name
                if line.startswith("cfn="):
                    called = names.get(number, name) if number.startswith("(") else ref
            elif line.startswith("calls="):
                counting = called.split("'")[0] == function
    return total


def read_blocks(out: Path) -> dict[tuple[str, str, str], dict[str, int]]:
    """Return every dumped block by (target, variant, block): instructions, and in collections."""
    blocks = {}
    for path in out.glob("callgrind.*.*"):
        # The thread that forked each counted child and serves its requests is thread 1.
        if "-" in path.name and not path.name.endswith("-01"):
            continue
        name, total = read_dump(path)
        if name.count("/") == 2:
            target, variant, what = name.split("/")
            gc = inclusive(path, "gc_collect_main") if what.startswith("request-") else 0
            blocks[target, variant, what] = {"total": total, "gc": gc}
    return blocks


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


def valgrind_version() -> str:
    """Return valgrind's version string, e.g. ``valgrind-3.19.0``."""
    return subprocess.run(
        ["valgrind", "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()


def measure(
    mode: Mode = "default",
    cpus: Sequence[str] = ("0", "1"),
    targets: Sequence[str] | None = None,
    keep: Path | None = None,
    requests: dict[str, int] | None = None,
) -> Cost:
    """Count every target and scenario of a mode (``requests`` narrows and resizes its plan)."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed; run `bash scripts/system-deps.sh`")
    the_plan = plan(mode)
    if requests:
        the_plan |= {"scenarios": tuple(requests), "requests": requests}
    requests = the_plan["requests"]
    scenarios = {
        target: tuple(
            s
            for s in the_plan["scenarios"]
            # The heavy model's count of a floor repeats what the apps show (the model is 96%
            # of it); its interpreter is the slowest to count, so a named target only.
            if targets or s != "predict_one_heavy" or "floor" not in TARGETS[target].tags
        )
        for target in targets or the_plan["targets"]
    }
    if targets is None and "predict_one" in requests:
        scenarios |= {rung: ("predict_one",) for rung in the_plan["ladders"]}
    slowest_first: tuple[Variant, ...] = ("heavy", "light")  # so the CPUs finish together
    jobs = [
        (target, variant, chosen)
        for variant in slowest_first
        for target, wanted in scenarios.items()
        if (chosen := [s for s in scenarios_of(target, wanted) if SCENARIOS[s][0] == variant])
    ]
    counted_startup = [
        target
        for target, variant, _ in jobs
        if variant == "light" and (target not in the_plan["ladders"] or the_plan["ladder_startup"])
    ]
    calls_model = [s for s in the_plan["scenarios"] if SCENARIOS[s][3] in ("one", "batch")]
    for target, _, _ in jobs:
        prepare(target)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        spec = {
            "library": str(compile_requests(out)),
            "cpus": list(cpus),
            "requests": requests,
            "model": calls_model,
            "jobs": jobs,
            "startup": counted_startup,
        }
        (out / "spec.json").write_text(json.dumps(spec))
        command = ["taskset", "--cpu-list", ",".join(cpus), "setarch", "-R", "valgrind"]
        command += ["--tool=callgrind", "--instr-atstart=no", "--log-file=/dev/null"]
        # One dump per thread: a request's cost is what its own thread executes, not what a
        # background thread (an extension's timer, say) happens to run meanwhile.
        command += ["--separate-threads=yes"]
        command += [f"--callgrind-out-file={out}/callgrind.%p"]
        command += [sys.executable, "-m", "benchmarks.measure.child", "cost"]
        command += [str(out / "spec.json")]
        done = subprocess.run(
            command, cwd=REPO, env=os.environ | ENV, capture_output=True, text=True, timeout=1800
        )
        if done.returncode:
            raise RuntimeError(f"counting under callgrind failed:\n{done.stderr[-3000:]}")
        blocks = read_blocks(out)
    return {
        "tool": valgrind_version() + " callgrind, instructions executed (Ir)",
        "mode": mode,
        "requests": requests,
        "warmup_requests": WARMUP,
        "gc": "frozen after warm-up; collections among the requests counted in their cost",
        "rows": rows(blocks, jobs, requests),
        "startup": {
            target: blocks[target, "light", "startup"]["total"]
            - blocks[target, "light", "empty"]["total"]
            for target in counted_startup
        },
        "seconds": round(time.monotonic() - started, 1),
    }


def rows(
    blocks: dict[tuple[str, str, str], dict[str, int]],
    jobs: list[tuple[str, Variant, list[str]]],
    requests: dict[str, int],
) -> list[CostRow]:
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
