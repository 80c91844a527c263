"""Measure the PSS and USS of the master and each worker as gunicorn workers are added."""

from __future__ import annotations

import argparse

from benchmarks import targets
from benchmarks.cli.common import add_json, add_modes, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan and the apps."""
    add_modes(
        parser,
        quick="the light model, 1 and 2 workers, the configured gc.freeze() only",
        full="1, 2, 4 and 8 workers, preload on and off, two rounds",
    )
    parser.add_argument("--apps", default=",".join(targets.APPS))
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Measure each app's memory per worker and print the table."""
    from benchmarks.measure import workers as measuring
    from benchmarks.report import sections_workers

    result = measuring.run(args.mode or "default", apps=tuple(args.apps.split(",")))
    print(sections_workers.text(result))
    write_json(args.json, result)
    return 0
