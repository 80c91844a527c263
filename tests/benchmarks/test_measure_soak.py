"""The soak command: sustained load at a fraction of capacity, a worker killed halfway."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.analysis import reliability as reliability_of
from benchmarks.load import wrk
from benchmarks.measure import soak
from benchmarks.report import sections_checks, text
from benchmarks.results.records import Results


def test_slope_per_minute() -> None:
    assert soak.slope_per_minute([(0, 100.0), (30, 101.0), (60, 102.0)]) == pytest.approx(2.0)
    assert soak.slope_per_minute([(0, 5.0), (10, 5.0), (20, 5.0)]) == 0.0
    assert soak.slope_per_minute([(0, 1.0)]) == 0.0


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_short_soak_of_one_app(tmp_path: Path, written_run: Callable[[Path, str], Results]) -> None:
    # One app here: every run's soak covers both (tests/benchmarks/test_run.py).
    command = ["soak", "--apps", "django", "--seconds", "5", "--fraction", "0.5"]
    assert main([*command, "--out", str(tmp_path)]) == 0
    results = written_run(tmp_path, "soak")
    reliability = results["reliability"]
    assert (reliability["soak_s"], reliability["soak_fraction"]) == (5.0, 0.5)
    assert "inputs" not in reliability  # the soak command probes no inputs
    for app in reliability["soak"]:
        assert app["worker_killed"]
        assert app["worker_replaced"], app["app"]
        # At most one request lost per connection the killed worker held (at least the one in
        # flight): the rule the command's exit status follows.
        assert reliability_of.survived(app), app["errors"]
        assert app["requests"] > 0
        # Paced, not flat out: the rate asked for is under the capacity measured, and a paced
        # generator never sends faster than asked, however fast the server answers.
        assert app["target_rps"] < app["capacity_rps"]
        assert app["rps"] <= app["target_rps"] * 1.1
        assert app["history"]
        assert len(app["rss_samples"]) >= 10
        assert abs(app["rss_trend_mib_per_min"]) < 50
    assert "✓ replaced" in text.render(sections_checks.soak(reliability["soak"], 5.0, 0.5))
    report = (tmp_path / "latest" / "report.md").read_text()
    assert "✓ replaced" in report
    assert "Hostile and malformed inputs" not in report
