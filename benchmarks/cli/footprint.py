"""Count both apps' code lines by concern, and what each app and framework depends on."""

from __future__ import annotations

import argparse

from benchmarks.cli.common import add_json, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --json; the footprint takes nothing else."""
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Count the footprint and print the table."""
    from benchmarks.measure import footprint as counting
    from benchmarks.report import text
    from benchmarks.report.sections_footprint import dependencies as needs
    from benchmarks.report.sections_footprint import lines_of_code

    apps = counting.PACKAGES
    loc = {app: counting.lines_of_code(app) for app in apps}
    dependencies = {app: counting.dependencies(app) for app in apps}
    frameworks = {fw: counting.framework_footprint(fw) for fw in counting.FRAMEWORKS}
    print(text.render(lines_of_code(loc), needs(dependencies, frameworks)))
    # The keys results.json gives the same figures.
    result = {"loc": loc, "dependencies": dependencies, "framework_footprint": frameworks}
    write_json(args.json, result)
    return 0
