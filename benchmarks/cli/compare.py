"""Compare two like runs: which metrics changed beyond their noise (exit 2 if not comparable).

The first line says whether the runs were made alike: the same commit, rule, library versions,
models and gunicorn settings, or which of these differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.cli.common import load_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the two runs to compare."""
    parser.add_argument("a", type=Path, help="the first run (its directory or results.json)")
    parser.add_argument("b", type=Path, help="the second run")


def run(args: argparse.Namespace) -> int:
    """Print what changed between the two runs."""
    from benchmarks.analysis.compare import Incomparable
    from benchmarks.report import text

    a, b = load_run(args.a, "compare"), load_run(args.b, "compare")
    try:
        print(text.compare(a, b))
    except Incomparable as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    return 0
