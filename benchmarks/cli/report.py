"""Render a stored run's report.md and report.html again from its results.json."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run directory to render."""
    parser.add_argument("run_dir", type=Path, help="a run's directory, e.g. reports/latest")


def run(args: argparse.Namespace) -> int:
    """Render the run's report again."""
    from benchmarks.analysis.compare import load_results
    from benchmarks.report import write_reports

    md, html = write_reports(load_results(args.run_dir), args.run_dir)
    print(f"{md}\n{html}")
    return 0
