"""Fixtures the benchmark's tests share: the synthetic sample results and one quick run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
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


@pytest.fixture
def written_run() -> Callable[[Path, str], Results]:
    """Return a check that ``out/latest`` is a command's run directory: results and reports."""

    def check(out: Path, command: str) -> Results:
        run_dir = (out / "latest").resolve()
        assert run_dir.parent == out.resolve()
        text = (run_dir / store.FILE).read_text()
        jsonschema.validate(json.loads(text), json.loads(store.SCHEMA_FILE.read_text()))
        results = store.load(run_dir)
        assert results["command"] == command
        if command == "capacity":  # the evidence of one claim, "scales"
            assert [c["id"] for c in results["claims"]] == ["scales"]
        elif command != "run":  # one command's part: no claim's evidence
            assert (results["claims"], results["aa"]) == ([], [])
        markdown = (run_dir / "report.md").read_text()
        assert f": {command} {results['run_id']}" in markdown
        assert "<html" in (run_dir / "report.html").read_text()
        return results

    return check
