"""The command line: report and compare read a run's results again; throughput measures the
floors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.__main__ import main
from benchmarks.load import wrk
from benchmarks.report import formatting, text


@pytest.mark.server
def test_report_renders_again_from_results(quick_run: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(quick_run, tmp_path / "run"))
    before = (copy / "report.md").read_text()
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "report", str(copy)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (copy / "report.md").read_text() == before
    assert "<svg" in (copy / "report.html").read_text()


@pytest.mark.server
def test_compare_tells_change_from_noise(quick_run: Path, tmp_path: Path) -> None:
    same = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(quick_run)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "CHANGED" not in same
    results = json.loads((quick_run / "results.json").read_text())
    for phase in results["phases"]:
        if phase["target"] == "flask":
            phase["rps"] *= 2
    faster = tmp_path / "results.json"
    faster.write_text(json.dumps(results))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(faster)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    changed = [line for line in out.splitlines() if line.endswith("CHANGED")]
    assert changed
    assert all(line.startswith("flask") and "req/s" in line for line in changed)


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_throughput_cli_measures_the_floors(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    main(
        [
            "throughput",
            "--scenario",
            "health",
            "--floors",
            "--trials",
            "1",
            "--seconds",
            "1",
            "--json",
            str(figures),
        ]
    )
    result = json.loads(figures.read_text())
    summary = result["summary"]
    assert list(summary) == list(targets.names())
    for row in summary.values():
        assert row["errors"] == 0
        assert row["rps"] > 50
        assert row["cpu_us_per_request"] > 0
    table = text.throughput(result)
    assert f"1.00{formatting.TIMES}" in table  # the baseline against itself
    assert "django-floor" in table


def test_workers_command_takes_a_plan_and_apps() -> None:
    from benchmarks.__main__ import COMMANDS, parser

    args = parser().parse_args(["workers", "--quick", "--apps", "flask"])
    assert (args.mode, args.apps, COMMANDS[args.command].__name__) == ("quick", "flask", "workers")
    assert parser().parse_args(["run", "--no-workers"]).no_workers
