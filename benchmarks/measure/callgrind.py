"""valgrind's callgrind, driven from outside: compile its client requests, run a program under it,
read the dumps it writes.

The program switches instrumentation on and off, and dumps each block, itself, through the client
requests of ``callgrind_requests.c`` (compiled here, called through ctypes): they work in forked
children, where ``callgrind_control`` cannot reach.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.cpus import CpuSet

REQUESTS_SOURCE = Path(__file__).with_name("callgrind_requests.c")

# (target, variant, block) -> {"total": instructions, "gc": of them in CPython's collector}
Blocks = dict[tuple[str, str, str], dict[str, int]]


def require() -> None:
    """Fail early, and say how to install them, when valgrind or gcc is missing."""
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed; run `bash scripts/system-deps.sh`")


def compile_requests(directory: Path) -> Path:
    """Compile ``callgrind_requests.c`` into a shared library in ``directory``."""
    library = directory / "libcallgrind_requests.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(REQUESTS_SOURCE)],
        check=True,
        capture_output=True,
    )
    return library


def version() -> str:
    """Return valgrind's version string, e.g. ``valgrind-3.19.0``."""
    return subprocess.run(
        ["valgrind", "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()


def run(
    argv: Sequence[str],
    cpus: CpuSet,
    out: Path,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
) -> None:
    """Run ``argv`` under callgrind on ``cpus`` without address randomisation, instrumentation
    off until the program switches it on, its dumps in ``out``."""
    command = ["taskset", "--cpu-list", str(cpus), "setarch", "-R", "valgrind"]
    command += ["--tool=callgrind", "--instr-atstart=no", "--log-file=/dev/null"]
    # One dump per thread: a request's cost is what its own thread executes, not what a
    # background thread (an extension's timer, say) happens to run meanwhile.
    command += ["--separate-threads=yes"]
    command += [f"--callgrind-out-file={out}/callgrind.%p", *argv]
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"counting under callgrind failed:\n{done.stderr[-3000:]}")


def read_trigger(path: Path) -> tuple[str, int]:
    """Return what made callgrind write a dump (``dump LABEL`` for ``callgrind_control
    --dump=LABEL``, ``Program termination``, ...) and the dump's total instructions."""
    trigger, total = "", 0
    with path.open() as handle:
        for line in handle:
            if line.startswith("desc: Trigger: "):
                trigger = line.removeprefix("desc: Trigger: ").strip()
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
                break
    return trigger, total


def read_dump(path: Path) -> tuple[str, int]:
    """Return a callgrind dump's name (given to ``dump()``; "" for a dump not written by it)
    and its total instructions."""
    trigger, total = read_trigger(path)
    request = "Client Request: "  # what a dump() from the program itself is triggered by
    return (trigger.removeprefix(request) if trigger.startswith(request) else ""), total


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


def read_blocks(out: Path) -> Blocks:
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
