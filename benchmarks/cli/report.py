"""Render a stored run's report.md and report.html again from its results.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run directory to render."""
    parser.add_argument("run_dir", type=Path, help="a run's directory, e.g. reports/latest")


def run(args: argparse.Namespace) -> int:
    """Render the run's report again (exit 2 where its results cannot be read)."""
    from benchmarks.report import write_reports
    from benchmarks.results import store

    try:
        results = store.load(args.run_dir)
    except store.ResultsError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    md, html = write_reports(results, args.run_dir)
    print(f"{md}\n{html}")
    return 0
