"""Split each target's cost per request in process: no server, no network, no load generator.

By default every target, each in a fresh interpreter of its own; --target NAME measures one
target in this process.
"""

from __future__ import annotations

import argparse

from benchmarks import targets
from benchmarks.cli.common import add_json, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the target and the time spent on each case."""
    parser.add_argument(
        "--target",
        choices=[*targets.RUN, "all"],
        default="all",
        help="measure this target alone, in this process (default: all)",
    )
    parser.add_argument("--budget", type=float, default=2.0, help="seconds spent timing each case")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the targets' in-process cost and print the table."""
    from benchmarks.measure import overhead as measuring

    if args.target == "all":
        results = [measuring.run_in_subprocess(name, args.budget) for name in targets.RUN]
    else:
        results = [measuring.measure(args.target, args.budget)]
    # Imported after measuring: a target measured in this process runs with no more imported
    # than it has always had.
    from benchmarks.report import sections_load, text

    print(text.render(sections_load.in_process(results, targets.facts())))
    write_json(args.json, results)
    return 0
