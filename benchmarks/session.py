"""The run directory every measuring command writes, and everything around the measurement.

``run``, ``capacity``, ``soak``, ``workers``, ``ladders`` and ``remote`` each measure their own
part; what comes before and after is the same for all of them and lives here once:

- the run directory ``<out>/<UTC timestamp>/`` and the request bodies (``payloads.json``);
- the CPUs split between the servers and the load, and the runner pinned to the load's half
  (``remote`` starts no server: it keeps the CPUs it was given and pins nothing);
- the environment fingerprint and the registry's facts about every target;
- at the end: the verdicts (``analysis.judge``; a command other than ``run`` has no claims),
  ``results.json`` validated and written by the store, ``report.md`` and ``report.html``, and
  ``<out>/latest`` pointed at the directory.

A measurement that raises leaves its directory (the servers' logs are in it) without
``results.json`` and ``latest`` where it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from benchmarks import REPORTS, report
from benchmarks.analysis import judge
from benchmarks.cpus import CpuSet
from benchmarks.load import payloads
from benchmarks.measure import environment
from benchmarks.plan import Setup
from benchmarks.results import store
from benchmarks.results.records import Results
from benchmarks.results.vocabulary import Command, Mode
from benchmarks.serving.processes import pinned, split_cpus
from benchmarks.targets import facts


@dataclass
class Session:
    """One command's run directory, its CPUs, and the results its measurement adds to."""

    setup: Setup
    results: dict[str, Any]  # the keys every run has; the command adds its own
    started_at: float = field(default_factory=time.monotonic)
    judged: Results | None = None  # as saved, once the session has ended

    @property
    def run_dir(self) -> Path:
        """Return the run directory."""
        return self.setup.run_dir


@contextlib.contextmanager
def session(
    command: Command,
    mode: Mode = "default",
    *,
    out: Path = REPORTS,
    cpus: str | None = None,
    locust_workers: int = 0,
    pin: bool = True,
) -> Iterator[Session]:
    """Open a run directory for ``command``; save, judge, report and point latest at the end.

    ``cpus`` is "server CPUs/load CPUs" (default: halves); with ``pin=False`` (no local server)
    the load may use every CPU this process may.
    """
    if pin:
        # Split before pinning: the default split halves the CPUs this thread may use.
        server_cpus, load_cpus = split_cpus(cpus)
    else:
        server_cpus, load_cpus = CpuSet.of([]), CpuSet.of(os.sched_getaffinity(0))
    # The runner and every thread and child it starts run on the load CPUs unless pinned
    # elsewhere (gunicorn is, to the server's): its sampling must not take the server's CPU.
    with pinned(load_cpus) if pin else contextlib.nullcontext():
        started = _open(command, mode, out, (server_cpus, load_cpus), locust_workers)
        yield started
        _close(started, out)


def _open(
    command: Command, mode: Mode, out: Path, cpus: tuple[CpuSet, CpuSet], locust_workers: int
) -> Session:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = out / run_id
    run_dir.mkdir(parents=True)
    server_cpus, load_cpus = cpus
    setup = Setup(
        run_dir, server_cpus, load_cpus, locust_workers, payloads.write(run_dir / "payloads.json")
    )
    started = Session(setup, {})
    started.results.update(
        schema_version=store.SCHEMA_VERSION,
        run_id=run_id,
        command=command,
        mode=mode,
        environment=environment.fingerprint(setup),
        targets=facts(),
    )
    return started


def _close(started: Session, out: Path) -> None:
    started.results["duration_s"] = time.monotonic() - started.started_at
    # Judge and render exactly what results.json holds, so `judge DIR` and `report DIR` agree.
    unjudged = cast(Results, json.loads(json.dumps(started.results)))
    started.judged = store.load(store.save(judge.apply(unjudged), started.run_dir))
    report.write_reports(started.judged, started.run_dir)
    point_latest(out, started.run_dir)


def point_latest(out: Path, run_dir: Path) -> None:
    """Point ``out/latest`` at the run directory (a relative symlink)."""
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
