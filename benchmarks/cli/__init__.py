"""The benchmark's commands, one module each (after pyperformance's and asv's command lines).

A command module has ``add_arguments(parser)`` and ``run(args) -> int`` (the exit status), and
its docstring is its help: the first line in ``python -m benchmarks --help``, the first paragraph
and then the rest in ``python -m benchmarks COMMAND --help``. A command imports what it measures
or renders only when it runs, so that ``--help`` and a mistyped option answer at once.

The measurements' own child processes have no command here: ``benchmarks.measure.child``.
"""

from types import ModuleType

from benchmarks.cli import (
    batching,
    capacity,
    compare,
    cost,
    footprint,
    judge,
    ladders,
    micro,
    overhead,
    peers,
    remote,
    report,
    run,
    security,
    soak,
    throughput,
    workers,
)

# In the order ``--help`` lists them: the run and what reads runs, then each measurement alone.
COMMANDS: dict[str, ModuleType] = {
    module.__name__.rpartition(".")[2]: module
    for module in (
        run,
        report,
        judge,
        compare,
        soak,
        throughput,
        overhead,
        cost,
        workers,
        ladders,
        capacity,
        remote,
        peers,
        batching,
        micro,
        security,
        footprint,
    )
}
