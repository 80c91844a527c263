"""Hold each app at 70% of its capacity and kill a worker; fail if it lost more than one request.

The figures go to results.json, report.md and report.html in a new run directory under --out,
and --out/latest points at it (docs/reliability.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import REPORTS
from benchmarks.cli.common import add_apps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the soak's length, load and apps."""
    parser.add_argument("--seconds", type=float, default=180.0, help="per app (default 180)")
    parser.add_argument("--fraction", type=float, default=0.7, help="of measured capacity")
    add_apps(parser)
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports directory")


def run(args: argparse.Namespace) -> int:
    """Soak each app; return 1 if one lost more than the requests on the killed worker's
    connections, or did not replace it."""
    from benchmarks.analysis.reliability import survived
    from benchmarks.measure import soak as soaking
    from benchmarks.report import sections_checks, text
    from benchmarks.session import session

    with session("soak", out=args.out) as opened:
        results = soaking.measure(opened.setup, args.apps, args.seconds, args.fraction)
        opened.results["reliability"] = {
            "soak": results["apps"],
            "soak_s": results["seconds"],
            "soak_fraction": results["fraction"],
        }
    print(
        text.render(sections_checks.soak(results["apps"], results["seconds"], results["fraction"]))
    )
    print(f"run directory: {opened.run_dir}")
    return 0 if all(map(survived, results["apps"])) else 1
