"""Measure adaptive batching: each app with one worker, batching off and on, light and heavy.

Per model, each app is started as its default deployment (gunicorn.conf.py's gthread worker with
one thread, batching off) and with batching on at each maximum batch size; every
configuration's open-loop capacity at p99 <= 50 ms is searched in rotated trials beside an A/A
twin, with its server CPU per request, and its median latency at one user is measured with one
connection. The light model's instructions per request over the process tree, batching off and
on, are counted under callgrind. The figures go to results.json, report.md and report.html in a
new run directory under --out, and --out/latest points at it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from benchmarks.cli.common import add_modes, add_run_directory, finish

if TYPE_CHECKING:
    from benchmarks.results.vocabulary import Mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan, the sizes, the wait, the peers, --no-cost, the CPUs and where the run
    directory goes."""
    add_modes(
        parser,
        quick="the light model only, batch size 16, one search each, no instruction counts",
        full="batch sizes 2 to 64, 5 s at one user",
    )
    parser.add_argument("--sizes", help="maximum batch sizes, comma-separated (e.g. 4,16,32)")
    parser.add_argument("--variants", help="models, comma-separated: light, heavy")
    parser.add_argument(
        "--wait-ms",
        help="how long a batch's first request waits, ms, comma-separated: each wait with every "
        "size (default 0)",
    )
    parser.add_argument(
        "--peers",
        help="peers beside the apps, comma-separated (fastapi, mlserver, litserve, bentoml), "
        "or none",
    )
    parser.add_argument(
        "--trials", type=int, help="capacity searches per configuration, rotated (default 3)"
    )
    parser.add_argument(
        "--resolution",
        type=float,
        help="stop a search's bisection within this share (default 0.15; finer narrows "
        "every interval, for more steps)",
    )
    parser.add_argument(
        "--no-cost", action="store_true", help="without the instruction counts (no valgrind)"
    )
    add_run_directory(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the configurations and print the table."""
    from benchmarks.measure import batching as measuring
    from benchmarks.plan import BATCHING
    from benchmarks.report import text
    from benchmarks.session import session
    from benchmarks.targets.peers import PEERS

    mode: Mode = args.mode or "default"
    plan = BATCHING[mode]
    if args.sizes:
        plan = replace(plan, sizes=tuple(int(size) for size in args.sizes.split(",")))
    if args.variants:
        plan = replace(plan, variants=tuple(args.variants.split(",")))
    if args.wait_ms is not None:
        plan = replace(plan, waits=tuple(float(wait) for wait in args.wait_ms.split(",")))
    if args.peers:
        names = tuple(name for name in args.peers.split(",") if name != "none")
        unknown = [name for name in names if name not in PEERS]
        if unknown:
            print(
                f"no peer named {', '.join(unknown)}; the peers: {', '.join(PEERS)}",
                file=sys.stderr,
            )
            return 2
        plan = replace(plan, peers=names)
    if args.trials:
        plan = replace(plan, trials=args.trials)
    if args.resolution:
        plan = replace(plan, resolution=args.resolution)
    if args.no_cost:
        plan = replace(plan, cost=False)
    with session("batching", mode, out=args.out, cpus=args.cpus) as opened:
        result = measuring.measure(
            plan, opened.setup, progress=lambda line: print(line, file=sys.stderr)
        )
        opened.results["batching"] = result
    return finish(text.batching(result), opened.run_dir, args.json, result)
