"""The benchmark's command line: build the parser from the commands in ``benchmarks.cli``, run one.

Each command is a module of ``benchmarks.cli`` with its arguments and its ``run``; nothing else
lives here.
"""

from __future__ import annotations

import argparse
import inspect
import sys

from benchmarks.cli import COMMANDS

DESCRIPTION = "Measure Flask and Django serving the same scikit-learn model, and report on them."
EPILOG = """\
examples:
  python -m benchmarks run                 the comparison (make bench; about 10 minutes)
  python -m benchmarks run --quick         the same with short phases (about 5 minutes)
  python -m benchmarks judge reports/latest the stored verdicts, derived again
  python -m benchmarks compare A B         what changed between two runs beyond the noise
  python -m benchmarks COMMAND --help      one command's options

docs/benchmark.md describes every command and what it measures."""


def parser() -> argparse.ArgumentParser:
    """Return the parser: one subcommand per command module, named ``args.command``."""
    top = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(
        dest="command", required=True, title="commands", metavar="COMMAND"
    )
    for name, module in COMMANDS.items():
        first_paragraph, _, rest = inspect.cleandoc(module.__doc__ or "").partition("\n\n")
        command = commands.add_parser(
            name,
            # argparse expands % in a help string (not in a description or an epilog).
            help=first_paragraph.splitlines()[0].replace("%", "%%"),
            description=first_paragraph,
            epilog=rest or None,
        )
        module.add_arguments(command)
    return top


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; return its exit status."""
    args = parser().parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
