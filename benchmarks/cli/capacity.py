"""Search each app's capacity at a p99 target, open-loop, and its cost per million predictions.

The figures go to results.json, report.md and report.html in a new run directory under --out,
and --out/latest points at it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from benchmarks.cli.common import add_apps, add_modes, add_run_directory, finish

if TYPE_CHECKING:
    from benchmarks.results.vocabulary import Mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan, the apps, the latency target, the price and the CPUs."""
    add_modes(
        parser,
        quick="one search per app, one worker (about a minute)",
        full="five paired trials; 1, 2, 4... workers up to the server's CPUs",
    )
    add_apps(parser)
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="the p99 target (default 50 ms)"
    )
    parser.add_argument(
        "--vcpu-hour-usd",
        type=float,
        default=0.05,
        help="price of one vCPU for an hour, USD (default 0.05: an assumed on-demand cloud "
        "price, see docs/benchmark.md; set your own)",
    )
    add_run_directory(parser)


def run(args: argparse.Namespace) -> int:
    """Search each app's capacity and print the table."""
    from benchmarks.measure import capacity as searching
    from benchmarks.report import text
    from benchmarks.session import session

    mode: Mode = args.mode or "default"
    with session("capacity", mode, out=args.out, cpus=args.cpus) as opened:
        results = searching.measure_apps(
            opened.setup,
            searching.SETTINGS[mode],
            apps=args.apps,
            latency_ms=args.latency_ms,
            vcpu_hour_usd=args.vcpu_hour_usd,
        )
        opened.results["capacity"] = results
    return finish(text.capacity(results), opened.run_dir, args.json, results)
