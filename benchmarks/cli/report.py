"""Render a stored run's report.md and report.html again from its results.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.cli.common import load_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run directory to render."""
    parser.add_argument("run_dir", type=Path, help="a run's directory, e.g. reports/latest")


def run(args: argparse.Namespace) -> int:
    """Render the run's report again (exit 2 where its results cannot be read)."""
    from benchmarks.report import write_reports

    results = load_run(args.run_dir, "report")
    md, html = write_reports(results, args.run_dir)
    print(f"{md}\n{html}")
    return 0
