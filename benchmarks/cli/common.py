"""What several commands share: the --quick/--full pair, --apps, --json, the file of their
result, and reading a stored run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.results.records import Results


def add_modes(parser: argparse.ArgumentParser, *, quick: str, full: str) -> None:
    """Give a command its --quick and --full, which set ``args.mode`` (None: the default)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick", help=quick)
    group.add_argument("--full", action="store_const", dest="mode", const="full", help=full)


def add_apps(parser: argparse.ArgumentParser) -> None:
    """Give a command its --apps, which sets ``args.apps`` to a tuple of app names."""
    from benchmarks import targets

    parser.add_argument(
        "--apps",
        type=_names,
        default=targets.APPS,
        help=f"the apps, comma-separated (default: {','.join(targets.APPS)})",
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


def add_json(parser: argparse.ArgumentParser) -> None:
    """Give a command its --json PATH, the one meaning of --json in every command."""
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the figures here, as JSON"
    )


def add_run_directory(parser: argparse.ArgumentParser, *, cpus: bool = True) -> None:
    """Give a command that writes a run directory its --cpus (if it runs servers), --out and
    --json."""
    from benchmarks import REPORTS

    if cpus:
        parser.add_argument("--cpus", help="server CPUs / load CPUs, e.g. 0/1 (default: halves)")
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports directory")
    add_json(parser)


def finish(table: str, run_dir: Path, json_path: Path | None, result: object) -> int:
    """Print a command's table and where its run directory is, write --json; return 0."""
    print(table)
    print(f"run directory: {run_dir}")
    write_json(json_path, result)
    return 0


def write_json(path: Path | None, result: object) -> None:
    """Write the command's result to ``path`` as JSON, if --json asked for it."""
    if path is not None:
        path.write_text(json.dumps(result, indent=2) + "\n")


def load_run(path: Path, command: str) -> Results:
    """Return a stored run's results; exit 2 after saying on stderr why they cannot be read."""
    from benchmarks.results import store

    try:
        return store.load(path)
    except store.ResultsError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
