"""The benchmark's command line: run, report, compare.

python -m benchmarks run [--quick | --full] [--out reports] [--cpus 0/1] [--locust-workers N]
python -m benchmarks report reports/latest
python -m benchmarks compare reports/A reports/B
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import compare, runner


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and do what it says."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the comparison and write a report")
    modes = run.add_mutually_exclusive_group()
    modes.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="short phases, under 2 minutes (what the tests run)",
    )
    modes.add_argument(
        "--full",
        action="store_const",
        dest="mode",
        const="full",
        help="every scenario at every concurrency, both variants (over an hour)",
    )
    run.add_argument("--out", type=Path, default=runner.REPORTS, help="reports directory")
    run.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    run.add_argument(
        "--locust-workers",
        type=int,
        default=0,
        help="run Locust distributed: one master and N workers",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    report = commands.add_parser("report", help="render report.md and report.html again")
    report.add_argument("run_dir", type=Path)
    soak = commands.add_parser("soak", help="hold each app at 70%% of capacity; kill a worker")
    soak.add_argument("--seconds", type=float, default=180.0, help="per app (default 180)")
    soak.add_argument("--fraction", type=float, default=0.7, help="of measured capacity")
    soak.add_argument("--apps", default="flask,django")
    soak.add_argument("--out", type=Path, default=runner.REPORTS)
    diff = commands.add_parser("compare", help="compare two runs against their noise")
    diff.add_argument("a", type=Path)
    diff.add_argument("b", type=Path)
    args = parser.parse_args(argv)

    if args.command == "run":
        try:
            run_dir = runner.run(
                args.mode or "default",
                out=args.out,
                cpus=args.cpus,
                locust_workers=args.locust_workers,
                show_progress=not args.no_progress,
            )
        except runner.ParityError as exc:
            print(f"parity gate failed, nothing was measured: {exc}", file=sys.stderr)
            return 2
        print(f"report: {run_dir / 'report.md'}\n        {run_dir / 'report.html'}")
        return 0
    if args.command == "soak":
        from benchmarks import soak as soaking

        results = soaking.run(tuple(args.apps.split(",")), args.seconds, args.fraction, args.out)
        print(soaking.render(results))
        print(f"figures: {results['run_dir']}/soak.json")
        bad = [a for a in results["apps"] if a["failures"] > 1 or not a["worker_replaced"]]
        return 1 if bad else 0
    if args.command == "report":
        from benchmarks import report as render

        results = compare.load_results(args.run_dir)
        md, html = render.write_reports(results, args.run_dir)
        print(f"{md}\n{html}")
        return 0
    print(compare.render(compare.load_results(args.a), compare.load_results(args.b)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
