"""The benchmark's command line: it parses arguments and calls one function per command.

python -m benchmarks run [--quick | --full] [--out reports] [--cpus 0/1] [--locust-workers N]
                         [--no-cost] [--no-capacity] [--no-workers]
python -m benchmarks report reports/latest
python -m benchmarks compare reports/A reports/B
python -m benchmarks soak [--seconds 180]
python -m benchmarks throughput [--floors] [--scenario health] [--cpus 0,1/0,1]
python -m benchmarks cost [--quick | --full] [--targets flask,django]
python -m benchmarks ladders [--full]
python -m benchmarks capacity [--quick | --full] [--apps flask,django] [--latency-ms 50]
                              [--vcpu-hour-usd 0.05] [--json PATH]
python -m benchmarks workers [--quick | --full] [--apps flask,django] [--json PATH]
python -m benchmarks remote --target flask=URL --target django=URL [--locust-workers N]
                           [--expect-workers N] [--master-bind HOST:PORT] [--seconds S]
                           [--users U] [--trials T] [--json PATH]
python -m benchmarks overhead | micro | security | footprint

Each command imports what it needs only when it runs: ``overhead``, ``micro`` and ``security``
also serve as the child processes of their own measurement, where what is imported matters.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks import REPORTS, targets
from benchmarks.load.wrk import SCENARIOS as WRK_SCENARIOS
from benchmarks.schema import VARIANTS


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
    from benchmarks.analysis.compare import load_results
    from benchmarks.report import write_reports

    md, html = write_reports(load_results(args.run_dir), args.run_dir)
    print(f"{md}\n{html}")
    return 0


def compare(args: argparse.Namespace) -> int:
    """Compare two stored runs."""
    from benchmarks.analysis.compare import Incomparable, load_results
    from benchmarks.report import text

    try:
        print(text.compare(load_results(args.a), load_results(args.b)))
    except Incomparable as exc:
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
    mode = "quick" if args.quick else "full" if args.full else "default"
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


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser, one subcommand per function above."""
    top = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    run_ = commands.add_parser("run", help="run the comparison and write a report")
    modes = run_.add_mutually_exclusive_group()
    modes.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="short phases, about 5 minutes (the tests run it with --no-cost)",
    )
    modes.add_argument(
        "--full",
        action="store_const",
        dest="mode",
        const="full",
        help="every scenario at every concurrency, both variants (over an hour)",
    )
    run_.add_argument("--out", type=Path, default=REPORTS, help="reports directory")
    run_.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    run_.add_argument(
        "--locust-workers",
        type=int,
        default=0,
        help="run Locust distributed: one master and N workers",
    )
    run_.add_argument("--no-progress", action="store_true", help="no progress bar")
    run_.add_argument(
        "--no-cost", action="store_true", help="skip the instruction counts (no valgrind here)"
    )
    run_.add_argument(
        "--no-capacity", action="store_true", help="skip the open-loop capacity search"
    )
    run_.add_argument(
        "--no-workers",
        action="store_true",
        help="skip the memory of 1, 2 and 4 gunicorn workers (python -m benchmarks workers)",
    )
    run_.set_defaults(handler=run)

    report_ = commands.add_parser("report", help="render report.md and report.html again")
    report_.add_argument("run_dir", type=Path)
    report_.set_defaults(handler=report)

    soak_ = commands.add_parser("soak", help="hold each app at 70%% of capacity; kill a worker")
    soak_.add_argument("--seconds", type=float, default=180.0, help="per app (default 180)")
    soak_.add_argument("--fraction", type=float, default=0.7, help="of measured capacity")
    soak_.add_argument("--apps", default="flask,django")
    soak_.add_argument("--out", type=Path, default=REPORTS)
    soak_.set_defaults(handler=soak)

    compare_ = commands.add_parser(
        "compare", help="compare two like runs, each metric against its noise"
    )
    compare_.add_argument("a", type=Path)
    compare_.add_argument("b", type=Path)
    compare_.set_defaults(handler=compare)

    wrk_ = commands.add_parser(
        "throughput", help="wrk: baseline, the apps (and with --floors each framework's floor)"
    )
    wrk_.add_argument("--scenario", choices=WRK_SCENARIOS, default="predict_one")
    wrk_.add_argument("--variant", choices=VARIANTS, default="light")
    wrk_.add_argument("--trials", type=int, default=3)
    wrk_.add_argument("--seconds", type=float, default=8.0)
    wrk_.add_argument("--connections", type=int, default=8)
    chosen = wrk_.add_mutually_exclusive_group()
    chosen.add_argument("--targets", default=",".join(targets.RUN))
    chosen.add_argument(
        "--floors",
        action="store_true",
        help="measure every registered target (each framework's smallest app too)",
    )
    wrk_.add_argument("--proxy", action="store_true", help="also measure each target behind nginx")
    wrk_.add_argument(
        "--cpus",
        help="server/wrk CPUs, e.g. 0/1 (the default: disjoint halves); 0,1/0,1 shares both, "
        "with one gunicorn worker per server CPU",
    )
    wrk_.add_argument("--json", type=Path, help="also write the figures here")
    wrk_.set_defaults(handler=throughput)

    overhead_ = commands.add_parser("overhead", help="in process: each target's cost split")
    overhead_.add_argument("--target", choices=[*targets.RUN, "all"], default="all")
    overhead_.add_argument(
        "--budget", type=float, default=2.0, help="seconds spent timing each case"
    )
    overhead_.add_argument("--json", action="store_true", help="print JSON (one target only)")
    overhead_.set_defaults(handler=overhead)

    cost_ = commands.add_parser(
        "cost", help="callgrind: instructions per request of every target (deterministic)"
    )
    sizes = cost_.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="the apps and baseline, one row only")
    sizes.add_argument("--full", action="store_true", help="the ladders' start-ups counted too")
    cost_.add_argument("--targets", help="comma-separated targets (default: every target)")
    cost_.add_argument("--json", type=Path, help="also write the figures here")
    cost_.add_argument("--keep", type=Path, help="keep callgrind's dumps in this directory")
    cost_.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    cost_.set_defaults(handler=cost)

    workers_ = commands.add_parser(
        "workers", help="PSS and USS of the master and each worker as gunicorn workers are added"
    )
    sizes = workers_.add_mutually_exclusive_group()
    sizes.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="the light model, 1 and 2 workers, the configured gc.freeze() only",
    )
    sizes.add_argument(
        "--full",
        action="store_const",
        dest="mode",
        const="full",
        help="1, 2, 4 and 8 workers, preload on and off, two rounds",
    )
    workers_.add_argument("--apps", default=",".join(targets.APPS))
    workers_.add_argument("--json", type=Path, help="also write the figures here")
    workers_.set_defaults(handler=workers)

    ladders_ = commands.add_parser(
        "ladders", help="each production feature's rung: what it adds, and rungs under load"
    )
    ladders_.add_argument("--full", action="store_true", help="every rung under load")
    ladders_.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    ladders_.add_argument("--json", type=Path, help="also write the figures here")
    ladders_.set_defaults(handler=ladders)

    capacity_ = commands.add_parser(
        "capacity", help="open-loop: each app's req/s at a p99 target, and its cost per million"
    )
    sizes = capacity_.add_mutually_exclusive_group()
    sizes.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="one search per app, one worker (about a minute)",
    )
    sizes.add_argument(
        "--full",
        action="store_const",
        dest="mode",
        const="full",
        help="five paired trials; 1, 2, 4... workers up to the server's CPUs",
    )
    capacity_.add_argument("--apps", default="flask,django")
    capacity_.add_argument(
        "--latency-ms", type=float, default=50.0, help="the p99 target (default 50 ms)"
    )
    capacity_.add_argument(
        "--vcpu-hour-usd",
        type=float,
        default=0.05,
        help="price of one vCPU for an hour, USD (default 0.05: an assumed on-demand cloud "
        "price, see docs/benchmark.md; set your own)",
    )
    capacity_.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    capacity_.add_argument("--out", type=Path, default=REPORTS, help="reports directory")
    capacity_.add_argument("--json", type=Path, help="also write the figures here")
    capacity_.set_defaults(handler=capacity)

    remote_ = commands.add_parser(
        "remote", help="the parity gate and Locust against running deployments, by URL"
    )
    remote_.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a deployment's base URL, e.g. flask=http://10.0.0.5:8001 (two or more)",
    )
    remote_.add_argument(
        "--locust-workers", type=int, default=0, help="Locust workers to start on this machine"
    )
    remote_.add_argument(
        "--expect-workers",
        type=int,
        help="workers the master waits for before it starts, those started elsewhere included "
        "(default: --locust-workers)",
    )
    remote_.add_argument(
        "--master-bind",
        default="127.0.0.1:0",
        metavar="HOST:PORT",
        help="where the Locust master listens for workers, e.g. 0.0.0.0:5557 (default: "
        "127.0.0.1, a free port)",
    )
    remote_.add_argument("--seconds", type=float, default=10.0, help="measured per phase")
    remote_.add_argument("--users", type=int, default=8, help="Locust users (closed loop)")
    remote_.add_argument("--trials", type=int, default=3, help="rounds over every target")
    remote_.add_argument("--json", type=Path, help="also write the figures here")
    remote_.set_defaults(handler=remote)

    micro_ = commands.add_parser("micro", help="time the model runtime against scikit-learn")
    micro_.add_argument("--host", choices=("none", "flask", "django", "all"), default="all")
    micro_.add_argument("--json", action="store_true", help="print JSON (one host only)")
    micro_.set_defaults(handler=micro)

    security_ = commands.add_parser("security", help="probe each app's security defaults")
    security_.add_argument("--app", help="probe this app alone, in this process")
    security_.add_argument(
        "--without-secret-key", action="store_true", help="with --app: start it without a key"
    )
    security_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    security_.set_defaults(handler=security)

    footprint_ = commands.add_parser("footprint", help="code lines and dependencies")
    footprint_.set_defaults(handler=footprint)
    return top


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
