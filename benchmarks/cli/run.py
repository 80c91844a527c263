"""Run the comparison and write its report (make bench runs the default).

Gate both apps on parity, then measure every target under load, count instructions, measure
memory and capacity, judge the claims, and write report.md and report.html under --out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import REPORTS
from benchmarks.cli.common import add_modes
from benchmarks.plan import BESIDE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run's mode, output and the parts it can skip."""
    add_modes(
        parser,
        quick="short phases, about 5 minutes (the tests run it with --no-cost)",
        full="every /v1 scenario at every concurrency, both variants (over an hour)",
    )
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports directory")
    parser.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    parser.add_argument(
        "--locust-workers",
        type=int,
        default=0,
        help="run Locust distributed: one master and N workers",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-cost", action="store_true", help="skip the instruction counts (no valgrind here)"
    )
    parser.add_argument(
        "--no-capacity", action="store_true", help="skip the open-loop capacity search"
    )
    parser.add_argument(
        "--no-workers",
        action="store_true",
        help="skip the memory of 1, 2 and 4 gunicorn workers (python -m benchmarks workers)",
    )
    parser.add_argument(
        "--scenario",
        choices=BESIDE,
        help="also load the apps with this Open Inference Protocol v2 scenario, beside its /v1 "
        "twin (v2_one beside predict_one, v2_batch beside predict_batch): Locust and the wrk "
        "calibration, the same cells; the claims still read /v1",
    )


def run(args: argparse.Namespace) -> int:
    """Run the comparison and write its report."""
    from benchmarks import run as runner
    from benchmarks.measure.parity import ParityError

    try:
        run_dir = runner.run(
            args.mode or "default",
            out=args.out,
            cpus=args.cpus,
            locust_workers=args.locust_workers,
            show_progress=not args.no_progress,
            count_instructions=not args.no_cost,
            measure_capacity=not args.no_capacity,
            measure_workers=not args.no_workers,
            scenario=args.scenario,
        )
    except ParityError as exc:
        print(f"parity gate failed, nothing was measured: {exc}", file=sys.stderr)
        return 2
    print(f"report: {run_dir / 'report.md'}\n        {run_dir / 'report.html'}")
    return 0
