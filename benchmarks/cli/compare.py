"""Compare two like runs: which metrics changed beyond their noise (exit 2 if not comparable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the two runs to compare."""
    parser.add_argument("a", type=Path, help="the first run (its directory or results.json)")
    parser.add_argument("b", type=Path, help="the second run")


def run(args: argparse.Namespace) -> int:
    """Print what changed between the two runs."""
    from benchmarks.analysis.compare import Incomparable, load_results
    from benchmarks.report import text

    try:
        print(text.compare(load_results(args.a), load_results(args.b)))
    except Incomparable as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    return 0
