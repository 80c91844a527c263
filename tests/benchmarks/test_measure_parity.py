"""The parity gate: it catches a target that answers differently, before any load."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.measure import parity
from benchmarks.serving import gunicorn

pytestmark = pytest.mark.server


def test_parity_gate_catches_a_divergent_target(tmp_path: Path) -> None:
    started = {}
    try:
        started["flask"] = gunicorn.start("flask", tmp_path / "flask.log")
        started["django"] = gunicorn.start(
            "django", tmp_path / "divergent.log", app="tests.divergent_app:application"
        )
        for server in started.values():
            server.wait_ready()
        differences = parity.parity_gate(started)
    finally:
        for server in started.values():
            server.stop()
    # The divergent target answers /health/live its own way, whatever the Host header says.
    assert any(d.startswith("probe 'live'") for d in differences)
    assert differences
    assert all("GET /health/live" in d and "dirty" in d for d in differences)
