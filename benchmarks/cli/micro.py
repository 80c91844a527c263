"""Time the model runtime against raw scikit-learn, with each app's modules imported.

By default flask and django, each timed in a fresh interpreter of its own; --host NAME times one
host (none: no app's modules) in this process.
"""

from __future__ import annotations

import argparse

from benchmarks.cli.common import add_json, write_json

HOSTS = ("none", "flask", "django")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the host whose modules are imported."""
    parser.add_argument(
        "--host",
        choices=(*HOSTS, "all"),
        default="all",
        help="time this host alone, in this process (default: all)",
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Time the model runtime and print the table."""
    from benchmarks.measure import micro as measuring

    if args.host == "all":
        results = [measuring.run_in_subprocess(host) for host in ("flask", "django")]
    else:
        results = [measuring.measure(args.host)]
    # Imported after timing: a host timed in this process runs with no more imported than it
    # has always had.
    from benchmarks.report import text

    print(text.micro(results))
    write_json(args.json, results)
    return 0
