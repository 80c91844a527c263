"""The benchmark's command line: it parses arguments (``benchmarks.arguments``, where every
command is listed) and calls one function per command.

Each command imports what it needs only when it runs: ``overhead``, ``micro`` and ``security``
also serve as the child processes of their own measurement, where what is imported matters.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks import targets
from benchmarks.arguments import parser
from benchmarks.results.vocabulary import Mode


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
        )
    except ParityError as exc:
        print(f"parity gate failed, nothing was measured: {exc}", file=sys.stderr)
        return 2
    print(f"report: {run_dir / 'report.md'}\n        {run_dir / 'report.html'}")
    return 0


def report(args: argparse.Namespace) -> int:
    """Render a stored run's report again."""
    from benchmarks.report import write_reports
    from benchmarks.results import store

    try:
        results = store.load(args.run_dir)
    except store.ResultsError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    md, html = write_reports(results, args.run_dir)
    print(f"{md}\n{html}")
    return 0


def judge(args: argparse.Namespace) -> int:
    """Judge a stored run again with the current rule; fail where a verdict differs."""
    from benchmarks.analysis.judge import judge as judging
    from benchmarks.report import text
    from benchmarks.results import store

    try:
        results = store.load(args.run_dir)
    except store.ResultsError as exc:
        print(f"judge: {exc}", file=sys.stderr)
        return 2
    judgement = judging(results)
    print(text.judgement(results, judgement))
    return 0 if judgement.holds else 1


def compare(args: argparse.Namespace) -> int:
    """Compare two stored runs."""
    from benchmarks.analysis.compare import Incomparable
    from benchmarks.report import text
    from benchmarks.results import store

    try:
        print(text.compare(store.load(args.a), store.load(args.b)))
    except (Incomparable, store.ResultsError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    return 0


def soak(args: argparse.Namespace) -> int:
    """Soak each app; fail if one lost more than the killed worker's request."""
    from benchmarks.measure import soak as soaking
    from benchmarks.report import text

    results = soaking.run(tuple(args.apps.split(",")), args.seconds, args.fraction, args.out)
    print(text.soak(results))
    print(f"figures: {results['run_dir']}/soak.json")
    bad = [a for a in results["apps"] if a["failures"] > 1 or not a["worker_replaced"]]
    return 1 if bad else 0


def throughput(args: argparse.Namespace) -> int:
    """Compare targets' throughput with wrk."""
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
    print(text.throughput(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def overhead(args: argparse.Namespace) -> int:
    """Split each target's cost per request, in process."""
    from benchmarks.measure import overhead as measuring

    if args.target == "all":
        from benchmarks.report import text

        print(text.overhead([measuring.run_in_subprocess(n, args.budget) for n in targets.RUN]))
        return 0
    result = measuring.measure(args.target, args.budget)
    if args.json:
        print(json.dumps(result))
    else:
        from benchmarks.report import text

        print(text.overhead([result]))
    return 0


def cost(args: argparse.Namespace) -> int:
    """Count instructions per request under callgrind (or serve as the counted interpreter)."""
    from benchmarks.measure import cost as counting

    if args.worker:
        counting.worker(args.worker)
        return 0
    from benchmarks.report import text

    chosen = args.targets.split(",") if args.targets else None
    mode: Mode = "quick" if args.quick else "full" if args.full else "default"
    result = counting.measure(mode, targets=chosen, keep=args.keep)
    print(text.cost(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def ladders(args: argparse.Namespace) -> int:
    """Measure the ladders' rungs: what they add, and the chosen rungs under load."""
    from benchmarks.measure import ladders as measuring
    from benchmarks.report import text

    with tempfile.TemporaryDirectory(prefix="ladders-") as scratch:
        result = measuring.measure(
            "full" if args.full else "default", workdir=Path(scratch), cpus=args.cpus
        )
    print(text.ladders(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def capacity(args: argparse.Namespace) -> int:
    """Search each app's capacity under a p99 target, open-loop, and its cost per million."""
    from benchmarks.measure import capacity as searching
    from benchmarks.report import text

    results, path = searching.run(
        args.mode or "default",
        apps=tuple(args.apps.split(",")),
        latency_ms=args.latency_ms,
        vcpu_hour_usd=args.vcpu_hour_usd,
        out=args.out,
        cpus=args.cpus,
    )
    print(text.capacity(results))
    print(f"figures: {path}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def workers(args: argparse.Namespace) -> int:
    """Measure each app's memory as gunicorn workers are added."""
    from benchmarks.measure import workers as measuring
    from benchmarks.report import sections_workers

    result = measuring.run(args.mode or "default", apps=tuple(args.apps.split(",")))
    print(sections_workers.text(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def remote(args: argparse.Namespace) -> int:
    """Gate and load deployments this command did not start, from their URLs."""
    from benchmarks.measure import remote as measuring
    from benchmarks.measure.parity import ParityError
    from benchmarks.report import text

    try:
        urls = measuring.parse_targets(args.target)
        bind = measuring.parse_bind(args.master_bind)
    except ValueError as exc:
        print(f"remote: {exc}", file=sys.stderr)
        return 2
    the_plan = measuring.plan(
        list(urls), users=args.users, trials=args.trials, seconds=args.seconds, warmup_s=1.0
    )
    with tempfile.TemporaryDirectory(prefix="remote-") as scratch:
        try:
            result = measuring.measure(
                urls,
                the_plan,
                Path(scratch),
                locust_workers=args.locust_workers,
                expect_workers=args.expect_workers,
                master_bind=bind,
            )
        except (ParityError, ValueError) as exc:
            print(f"remote: {exc}", file=sys.stderr)
            return 2
    print(text.remote(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def micro(args: argparse.Namespace) -> int:
    """Time the model runtime against raw scikit-learn."""
    from benchmarks.measure import micro as measuring

    if args.host == "all":
        from benchmarks.report import text

        print(text.micro([measuring.run_in_subprocess(host) for host in ("flask", "django")]))
        return 0
    result = measuring.measure(args.host)
    if args.json:
        print(json.dumps(result))
    else:
        from benchmarks.report import text

        print(text.micro([result]))
    return 0


def security(args: argparse.Namespace) -> int:
    """Probe each app's security defaults."""
    from benchmarks.measure import security as probing

    if args.app is None:
        checks = probing.probe()
    else:
        observed = probing.run(args.app, with_secret_key=not args.without_secret_key)
        if args.json:
            # The form a parent process reads back: check -> [result, passed].
            print(json.dumps(observed))
            return 0
        checks = probing.checks({args.app: observed})
    if args.json:
        print(json.dumps(checks, indent=2))
    else:
        from benchmarks.report import text

        print(text.security(checks))
    return 0


def footprint(args: argparse.Namespace) -> int:
    """Print both apps' code lines and dependencies."""
    from benchmarks.measure import footprint as counting
    from benchmarks.report import text

    apps = counting.PACKAGES
    print(
        text.footprint(
            {app: counting.lines_of_code(app) for app in apps},
            apps,
            {app: counting.dependencies(app) for app in apps},
            {fw: counting.framework_footprint(fw) for fw in counting.FRAMEWORKS},
        )
    )
    return 0


COMMANDS = {
    "run": run,
    "report": report,
    "judge": judge,
    "soak": soak,
    "compare": compare,
    "throughput": throughput,
    "overhead": overhead,
    "cost": cost,
    "workers": workers,
    "ladders": ladders,
    "capacity": capacity,
    "remote": remote,
    "micro": micro,
    "security": security,
    "footprint": footprint,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
