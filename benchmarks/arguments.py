"""The benchmark's command line: every command and its arguments (``__main__`` runs them).

python -m benchmarks run [--quick | --full] [--out reports] [--cpus 0/1] [--locust-workers N]
                         [--no-cost] [--no-capacity] [--no-workers]
python -m benchmarks report reports/latest
python -m benchmarks judge reports/latest
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
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import REPORTS, targets
from benchmarks.load.wrk import SCENARIOS as WRK_SCENARIOS
from benchmarks.results.vocabulary import VARIANTS


def modes(command: argparse.ArgumentParser, *, quick: str, full: str) -> None:
    """Give a command its --quick and --full, which set ``args.mode`` (None: the default)."""
    group = command.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick", help=quick)
    group.add_argument("--full", action="store_const", dest="mode", const="full", help=full)


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser: one subcommand per command, named ``args.command``."""
    top = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    run_ = commands.add_parser("run", help="run the comparison and write a report")
    modes(
        run_,
        quick="short phases, about 5 minutes (the tests run it with --no-cost)",
        full="every scenario at every concurrency, both variants (over an hour)",
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

    report_ = commands.add_parser("report", help="render report.md and report.html again")
    report_.add_argument("run_dir", type=Path)

    judge_ = commands.add_parser(
        "judge",
        help="derive a stored run's verdicts again with the current rule; exit 1 where one "
        "differs from the stored verdict",
    )
    judge_.add_argument("run_dir", type=Path, help="a run directory or its results.json")

    soak_ = commands.add_parser("soak", help="hold each app at 70%% of capacity; kill a worker")
    soak_.add_argument("--seconds", type=float, default=180.0, help="per app (default 180)")
    soak_.add_argument("--fraction", type=float, default=0.7, help="of measured capacity")
    soak_.add_argument("--apps", default="flask,django")
    soak_.add_argument("--out", type=Path, default=REPORTS)

    compare_ = commands.add_parser(
        "compare", help="compare two like runs, each metric against its noise"
    )
    compare_.add_argument("a", type=Path)
    compare_.add_argument("b", type=Path)

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

    overhead_ = commands.add_parser("overhead", help="in process: each target's cost split")
    overhead_.add_argument("--target", choices=[*targets.RUN, "all"], default="all")
    overhead_.add_argument(
        "--budget", type=float, default=2.0, help="seconds spent timing each case"
    )
    overhead_.add_argument("--json", action="store_true", help="print JSON (one target only)")

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

    workers_ = commands.add_parser(
        "workers", help="PSS and USS of the master and each worker as gunicorn workers are added"
    )
    modes(
        workers_,
        quick="the light model, 1 and 2 workers, the configured gc.freeze() only",
        full="1, 2, 4 and 8 workers, preload on and off, two rounds",
    )
    workers_.add_argument("--apps", default=",".join(targets.APPS))
    workers_.add_argument("--json", type=Path, help="also write the figures here")

    ladders_ = commands.add_parser(
        "ladders", help="each production feature's rung: what it adds, and rungs under load"
    )
    ladders_.add_argument("--full", action="store_true", help="every rung under load")
    ladders_.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    ladders_.add_argument("--json", type=Path, help="also write the figures here")

    capacity_ = commands.add_parser(
        "capacity", help="open-loop: each app's req/s at a p99 target, and its cost per million"
    )
    modes(
        capacity_,
        quick="one search per app, one worker (about a minute)",
        full="five paired trials; 1, 2, 4... workers up to the server's CPUs",
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

    micro_ = commands.add_parser("micro", help="time the model runtime against scikit-learn")
    micro_.add_argument("--host", choices=("none", "flask", "django", "all"), default="all")
    micro_.add_argument("--json", action="store_true", help="print JSON (one host only)")

    security_ = commands.add_parser("security", help="probe each app's security defaults")
    security_.add_argument("--app", help="probe this app alone, in this process")
    security_.add_argument(
        "--without-secret-key", action="store_true", help="with --app: start it without a key"
    )
    security_.add_argument("--json", action="store_true", help="print JSON instead of a table")

    commands.add_parser("footprint", help="code lines and dependencies")
    return top
