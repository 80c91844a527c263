"""Fixtures the benchmark's tests share: the synthetic sample results and one quick run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.results import store
from benchmarks.results.records import Results

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"


@pytest.fixture
def results() -> Results:
    """Load the synthetic sample results afresh (validated), so a test may change them."""
    return store.load(SAMPLE)


# One run for the session: test_run.py and test_cli.py both read it, and it takes minutes.
@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run `python -m benchmarks run --quick` once; return its run directory."""
    out = tmp_path_factory.mktemp("reports")
    # Instructions are counted on their own, in tests/benchmarks/test_measure_cost.py.
    command = [sys.executable, "-m", "benchmarks", "run", "--quick", "--out", str(out)]
    result = subprocess.run(
        [*command, "--no-progress", "--no-cost"],
        capture_output=True,
        text=True,
        timeout=600,  # about 3 minutes on a quiet 2-core machine; a loaded one is slower
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (out / "latest").resolve()
