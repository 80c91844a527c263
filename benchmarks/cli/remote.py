"""Gate and load deployments this command did not start, by their URLs: parity, then Locust.

Give two or more --target NAME=URL; Locust workers started elsewhere can join the master.
Once the gate has passed, the figures go to results.json, report.md and report.html in a new run
directory under --out, and --out/latest points at it.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.cli.common import add_run_directory, finish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the deployments, the Locust workers and the load."""
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a deployment's base URL, e.g. flask=http://10.0.0.5:8001 (two or more)",
    )
    parser.add_argument(
        "--locust-workers", type=int, default=0, help="Locust workers to start on this machine"
    )
    parser.add_argument(
        "--expect-workers",
        type=int,
        help="workers the master waits for before it starts, those started elsewhere included "
        "(default: --locust-workers)",
    )
    parser.add_argument(
        "--master-bind",
        default="127.0.0.1:0",
        metavar="HOST:PORT",
        help="where the Locust master listens for workers, e.g. 0.0.0.0:5557 (default: "
        "127.0.0.1, a free port)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per phase")
    parser.add_argument("--users", type=int, default=8, help="Locust users (closed loop)")
    parser.add_argument("--trials", type=int, default=3, help="rounds over every target")
    add_run_directory(parser, cpus=False)


def run(args: argparse.Namespace) -> int:
    """Gate and load the deployments and print the table; return 2 if they cannot be compared."""
    from benchmarks.measure import remote as measuring
    from benchmarks.measure.parity import ParityError
    from benchmarks.report import sections_serving, text
    from benchmarks.session import session

    try:
        urls = measuring.parse_targets(args.target)
        bind = measuring.parse_bind(args.master_bind)
    except ValueError as exc:
        print(f"remote: {exc}", file=sys.stderr)
        return 2
    the_plan = measuring.plan(
        list(urls), users=args.users, trials=args.trials, seconds=args.seconds, warmup_s=1.0
    )
    try:
        measuring.expected_workers(args.locust_workers, args.expect_workers)
        # Gate before the run directory exists: targets that cannot be compared leave none.
        passed = measuring.gate(urls)
    except (ParityError, ValueError) as exc:
        print(f"remote: {exc}", file=sys.stderr)
        return 2
    # No server runs here: the load may use every CPU this process may, unpinned.
    with session("remote", out=args.out, locust_workers=args.locust_workers, pin=False) as opened:
        result = measuring.measure(
            urls,
            the_plan,
            opened.run_dir,
            locust_workers=args.locust_workers,
            expect_workers=args.expect_workers,
            master_bind=bind,
            passed=passed,
        )
        opened.results["remote"] = result
    return finish(
        text.render(sections_serving.remote_blocks(result)), opened.run_dir, args.json, result
    )
