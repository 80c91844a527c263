"""Probe what each framework protects by default, and what this project's apps protect.

Four apps (Flask's and Django's defaults, and the two apps) answer the same requests; each but
the default Flask app runs in a fresh interpreter. --app NAME probes one, in this process.
"""

from __future__ import annotations

import argparse

from benchmarks.cli.common import add_json, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the one app to probe, and whether it starts without its secret key."""
    parser.add_argument("--app", help="probe this app alone, in this process")
    parser.add_argument(
        "--without-secret-key", action="store_true", help="with --app: start it without a key"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Probe the apps and print the table."""
    from benchmarks.measure import security as probing

    if args.app is None:
        checks = probing.probe()
    else:
        observed = probing.run(args.app, with_secret_key=not args.without_secret_key)
        checks = probing.checks({args.app: observed})
    # Imported after probing: an app probed in this process starts with no more imported than
    # it has always had.
    from benchmarks.report import sections_checks, text

    print(text.render(sections_checks.security(checks)))
    write_json(args.json, checks)
    return 0
