"""Compare targets' throughput with wrk: the baseline, the apps, and with --floors the floors.

Needs wrk (scripts/system-deps.sh). --floors also measures each framework's smallest app; --proxy
measures each target behind nginx too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks import targets
from benchmarks.cli.common import add_json, write_json
from benchmarks.load.wrk import SCENARIOS as WRK_SCENARIOS
from benchmarks.results.vocabulary import VARIANTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the scenario, its length, the targets and the CPUs."""
    parser.add_argument("--scenario", choices=WRK_SCENARIOS, default="predict_one")
    parser.add_argument("--variant", choices=VARIANTS, default="light")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--targets", default=",".join(targets.RUN))
    chosen.add_argument(
        "--floors",
        action="store_true",
        help="measure every registered target (each framework's smallest app too)",
    )
    parser.add_argument(
        "--proxy", action="store_true", help="also measure each target behind nginx"
    )
    parser.add_argument(
        "--cpus",
        help="server/wrk CPUs, e.g. 0/1 (the default: disjoint halves); 0,1/0,1 shares both, "
        "with one gunicorn worker per server CPU",
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the targets' throughput with wrk and print the table."""
    from benchmarks.load import wrk
    from benchmarks.measure import throughput as measuring
    from benchmarks.report import text

    if not wrk.available():
        print(
            "wrk is not installed: run `bash scripts/system-deps.sh` (Debian package wrk)",
            file=sys.stderr,
        )
        return 2
    chosen = targets.names() if args.floors else tuple(args.targets.split(","))
    with tempfile.TemporaryDirectory(prefix="throughput-") as workdir:
        result = measuring.measure(
            args.scenario,
            variant=args.variant,
            trials=args.trials,
            seconds=args.seconds,
            connections=args.connections,
            targets=chosen,
            workdir=Path(workdir),
            proxied=args.proxy,
            cpus=args.cpus,
        )
    print(text.throughput(result, targets.facts()))
    write_json(args.json, result)
    return 0
