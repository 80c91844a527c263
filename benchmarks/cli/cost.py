"""Count instructions per request under callgrind, for every target: a cost noise cannot move.

Needs valgrind and gcc (scripts/system-deps.sh); the default takes some 100 s on two CPUs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import targets
from benchmarks.cli.common import add_json, add_modes, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mode, the targets and where to keep callgrind's dumps."""
    add_modes(
        parser,
        quick="the apps and baseline, one row only",
        full="the ladders' start-ups counted too",
    )
    parser.add_argument("--targets", help="comma-separated targets (default: every target)")
    add_json(parser)
    parser.add_argument("--keep", type=Path, help="keep callgrind's dumps in this directory")


def run(args: argparse.Namespace) -> int:
    """Count the instructions per request and print the table."""
    from benchmarks.measure import cost as counting
    from benchmarks.report import text

    chosen = args.targets.split(",") if args.targets else None
    result = counting.measure(args.mode or "default", targets=chosen, keep=args.keep)
    print(text.cost(result, targets.facts()))
    write_json(args.json, result)
    return 0
