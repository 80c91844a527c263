"""Search each app's capacity at a p99 target, open-loop, and its cost per million predictions.

The figures go to results.json, report.md and report.html in a new run directory under --out,
and --out/latest points at it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import REPORTS
from benchmarks.cli.common import add_json, add_modes, write_json

if TYPE_CHECKING:
    from benchmarks.results.vocabulary import Mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan, the apps, the latency target, the price and the CPUs."""
    add_modes(
        parser,
        quick="one search per app, one worker (about a minute)",
        full="five paired trials; 1, 2, 4... workers up to the server's CPUs",
    )
    parser.add_argument("--apps", default="flask,django")
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
    parser.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports directory")
    add_json(parser)


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
            apps=tuple(args.apps.split(",")),
            latency_ms=args.latency_ms,
            vcpu_hour_usd=args.vcpu_hour_usd,
        )
        opened.results["capacity"] = results
    print(text.capacity(results))
    print(f"run directory: {opened.run_dir}")
    write_json(args.json, results)
    return 0
