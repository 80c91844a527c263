"""Measure the apps beside FastAPI, MLServer, LitServe and BentoML serving the same model.

Each peer runs from its own venv (`make peers`); a peer whose venv is missing is skipped and
named. Every server must pass the parity gate (each held-out row sent alone, its probabilities
scikit-learn's predict_proba of that row, bit for bit) before any load; one that answers
differently is refused and the command exits 1. The figures go to results.json, report.md and
report.html in a new run directory under --out, and --out/latest points at it; the servers' logs
go to its raw/peers/.
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
    """Add the plan, the peers, --no-cost, the CPUs and where the run directory goes."""
    add_modes(
        parser,
        quick="3 wrk trials of 1 s, 3 start-ups, 20 requests' difference under callgrind, "
        "no capacity search",
        full="10 wrk trials of 5 s, 5 start-ups, 200 requests' difference under callgrind, "
        "5 capacity searches per server",
    )
    parser.add_argument(
        "--peers",
        default="fastapi,asgi-baseline,mlserver,litserve,bentoml",
        help="the peers to measure (asgi-baseline: a bare ASGI app on the FastAPI peer's uvicorn)",
    )
    parser.add_argument(
        "--setups",
        default="flask-gthread,django-gthread,baseline,baseline-gthread",
        help="the apps and the bare-WSGI baseline on other gunicorn settings (the gap to "
        "FastAPI taken apart: benchmarks.targets.peers.SETUPS); empty for none",
    )
    parser.add_argument(
        "--no-cost", action="store_true", help="without the instruction counts (no valgrind)"
    )
    parser.add_argument(
        "--no-capacity", action="store_true", help="without the open-loop capacity searches"
    )
    add_run_directory(parser)


def run(args: argparse.Namespace) -> int:
    """Measure the apps and the peers and print the table."""
    from benchmarks.measure import peers as measuring
    from benchmarks.measure.parity import ParityError
    from benchmarks.plan import PEERS
    from benchmarks.report import sections_serving, text
    from benchmarks.session import session

    mode: Mode = args.mode or "default"
    try:
        with session("peers", mode, out=args.out, cpus=args.cpus) as opened:
            plan = PEERS[mode]
            if args.no_capacity:
                plan = replace(plan, capacity_trials=0)
            result = measuring.measure(
                plan,
                opened.setup,
                peer_names=[name for name in args.peers.split(",") if name],
                setups=[name for name in args.setups.split(",") if name],
                count=not args.no_cost,
                progress=lambda line: print(line, file=sys.stderr),
            )
            opened.results["peers"] = result
    except ParityError as exc:
        print(f"peers: {exc}", file=sys.stderr)
        return 1
    return finish(
        text.render(sections_serving.peers_blocks(result)), opened.run_dir, args.json, result
    )
