"""Judge a stored run again: derive every verdict from its figures with the current rule.

Prints each claim's stored and current verdict and how the stored rule (its version and
constants) differs from the current one. Exits 1 where a verdict differs from the stored one,
2 where the run's results.json cannot be read (another schema version, or not valid).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.cli.common import load_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run to judge."""
    parser.add_argument("run_dir", type=Path, help="a run's directory or its results.json")


def run(args: argparse.Namespace) -> int:
    """Print the run's verdicts judged again; fail where one moved."""
    from benchmarks.analysis.judge import judge
    from benchmarks.report import text

    results = load_run(args.run_dir, "judge")
    judged = judge(results)
    print(text.judgement(results, judged))
    return 0 if judged.holds else 1
