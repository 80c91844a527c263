"""The throughput comparison under wrk, end to end on real servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load import wrk
from benchmarks.measure import throughput
from benchmarks.report import text


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_throughput_comparison_end_to_end(tmp_path: Path) -> None:
    result = throughput.measure("health", trials=1, seconds=1, workdir=tmp_path)
    assert set(result["summary"]) == {"baseline", "flask", "django"}
    for row in result["summary"].values():
        assert row["rps"] > 50
        assert row["errors"] == 0
        assert row["cpu_us_per_request"] > 0
    table = text.throughput(result)
    assert "1.00x" in table
    assert "django" in table
