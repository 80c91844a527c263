"""Measure the PSS and USS of the master and each worker as gunicorn workers are added.

The figures go to results.json, report.md and report.html in a new run directory under --out,
and --out/latest points at it; the servers' logs go to its raw/workers/.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from benchmarks.cli.common import add_apps, add_modes, add_run_directory, finish

if TYPE_CHECKING:
    from benchmarks.results.vocabulary import Mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan, the apps, the CPUs and where the run directory goes."""
    add_modes(
        parser,
        quick="the light model, 1 and 2 workers, the configured gc.freeze() only",
        full="1, 2, 4 and 8 workers, preload on and off, two rounds",
    )
    add_apps(parser)
    add_run_directory(parser)


def run(args: argparse.Namespace) -> int:
    """Measure each app's memory per worker and print the table."""
    from benchmarks.measure import workers as measuring
    from benchmarks.plan import WORKERS
    from benchmarks.report import text
    from benchmarks.session import session

    mode: Mode = args.mode or "default"
    # The servers run on one half of the CPUs, as in a run; the runner (its request threads,
    # its reading of /proc) on the other.
    with session("workers", mode, out=args.out, cpus=args.cpus) as opened:
        result = measuring.measure(
            WORKERS[mode],
            apps=args.apps,
            log_dir=opened.run_dir / "raw" / "workers",
            payloads_path=opened.setup.payloads_path,
            server_cpus=opened.setup.server_cpus,
            mode=mode,
        )
        opened.results["workers"] = result
    return finish(text.workers(result), opened.run_dir, args.json, result)
