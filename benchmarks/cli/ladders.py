"""Measure each production feature's rung: what it adds to an app, and the rungs under load."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import targets
from benchmarks.cli.common import add_json, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add how many rungs go under load, and the CPUs."""
    parser.add_argument("--full", action="store_true", help="every rung under load")
    parser.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the ladders' rungs and print the table."""
    from benchmarks.measure import ladders as measuring
    from benchmarks.report import text

    with tempfile.TemporaryDirectory(prefix="ladders-") as scratch:
        result = measuring.measure(
            "full" if args.full else "default", workdir=Path(scratch), cpus=args.cpus
        )
    print(text.ladders(result, targets.facts()))
    write_json(args.json, result)
    return 0
