"""Measure each production feature's rung: what it adds to an app, and the rungs under load.

The figures go to results.json, report.md and report.html in a new run directory under --out,
and --out/latest points at it; wrk's and the servers' logs go to its raw/.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from benchmarks import targets
from benchmarks.cli.common import add_run_directory, finish

if TYPE_CHECKING:
    from benchmarks.results.vocabulary import Mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add how many rungs go under load, the CPUs and where the run directory goes."""
    parser.add_argument("--full", action="store_true", help="every rung under load")
    add_run_directory(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the ladders' rungs and print the table."""
    from benchmarks.measure import ladders as measuring
    from benchmarks.report import text
    from benchmarks.session import session

    mode: Mode = "full" if args.full else "default"
    with session("ladders", mode, out=args.out, cpus=args.cpus) as opened:
        setup = opened.setup
        result = measuring.measure(
            mode,
            workdir=setup.run_dir / "raw",
            cpus=f"{setup.server_cpus}/{setup.load_cpus}",
        )
        opened.results["ladders"] = result
    return finish(text.ladders(result, targets.facts()), opened.run_dir, args.json, result)
