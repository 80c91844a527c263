"""The entry points of the measurements' own child processes: a protocol, not a command for people.

    python -m benchmarks.measure.child cost SPEC.json          # the interpreter callgrind counts
    python -m benchmarks.measure.child overhead TARGET BUDGET_S # one target's split, JSON out
    python -m benchmarks.measure.child micro HOST               # one host's timings, JSON out
    python -m benchmarks.measure.child security APP [--without-secret-key]   # its observations

Only the measurement that starts a child runs these (``measure.cost``, ``measure.overhead``,
``measure.micro``, ``measure.security``), so the public command line (``benchmarks.cli``) can
change for its readers without breaking a measurement, and no child flag shows in its ``--help``.

What a child has imported is part of what it measures: the callgrind interpreter's targets pay
only for the imports it has not made already, and the timed children run with whatever modules and
warning filters their imports brought. So this module imports nothing at its top but ``sys``, reads
its arguments without argparse, and imports the one measurement it runs; the path that reaches it
(``benchmarks``, ``benchmarks.measure``) imports ``pathlib`` only.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m benchmarks.measure.child {cost SPEC | overhead TARGET BUDGET_S | "
USAGE += "micro HOST | security APP [--without-secret-key]}"


def main(argv: list[str]) -> int:
    """Run the child named by ``argv[0]``; print its figures as JSON where its parent reads them."""
    match argv:
        case ["cost", spec]:
            from pathlib import Path

            from benchmarks.measure import cost_child

            cost_child.worker(Path(spec))
        case ["overhead", target, budget_s]:
            import json

            from benchmarks.measure import overhead

            print(json.dumps(overhead.measure(target, float(budget_s))))
        case ["micro", host]:
            import json

            from benchmarks.measure import micro

            print(json.dumps(micro.measure(host)))
        case ["security", app, *flags] if flags in ([], ["--without-secret-key"]):
            import json

            from benchmarks.measure import security

            # The form the parent reads back: check -> [result, passed].
            print(json.dumps(security.run(app, with_secret_key=not flags)))
        case _:
            print(USAGE, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
