"""The timed comparison on real servers: a twin that is not the same app closes the A/A gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.analysis import claims
from benchmarks.load import payloads
from benchmarks.measure import timed
from benchmarks.plan import Setup, build
from benchmarks.serving import gunicorn
from benchmarks.serving.processes import split_cpus

pytestmark = pytest.mark.server


def test_a_slowed_twin_makes_the_timed_evidence_decide_nothing(tmp_path: Path) -> None:
    server_cpus, load_cpus = split_cpus()
    setup = Setup(tmp_path, server_cpus, load_cpus, 0, payloads.write(tmp_path / "payloads.json"))
    plan = build("quick")  # three one-second wrk trials of one-row predictions, light model
    # The twin sleeps 2 ms before every answer: what a sleep in its handler would do.
    apps = {"flask": None, targets.AA: "tests.slow_twin_app:app", "django": None}
    started = {
        ("light", name): gunicorn.start(
            name, tmp_path / f"{name}.log", app=app, env={"WEB_CONCURRENCY": "1"}, cpus=server_cpus
        )
        for name, app in apps.items()
    }
    try:
        for server in started.values():
            server.wait_ready(timeout=60)
        trials = timed.measure(setup, plan, started)
    finally:
        gunicorn.stop_all(started.values())
    results = {"phases": [], "timed": trials, "targets": targets.facts(), "mode": "quick"}
    (check,) = claims.aa_check(results)
    assert check["differs"], check
    faster = claims.faster(results)
    # No instruction count here: timing alone would decide, and the gate forbids it.
    assert faster["verdict"] == "inconclusive", faster
    assert "told two copies of Flask apart" in faster["reason"]
    # The Flask/Django figure itself was measured; it is the gate, not a lack of data, that
    # keeps it from deciding.
    assert faster["timed"] is not None
