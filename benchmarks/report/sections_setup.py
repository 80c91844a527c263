"""The sections that close a report: how the run was measured (its cells and configuration) and
the environment it ran in."""

from collections.abc import Mapping
from typing import Any, TypeGuard

from benchmarks.analysis import aggregate
from benchmarks.analysis.aggregate import Run
from benchmarks.report import formatting as f
from benchmarks.report import view
from benchmarks.report.view import Block, Inline, Para, Section, Table, code
from benchmarks.results.vocabulary import SCENARIOS


def _is_records(value: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def methodology(run: Run) -> Section:
    # The settings are in the tables below and the method in the docs: here, what the cells hold.
    blocks: list[Block] = [Para(f.NOT_MEASURED)]
    if run.cells:
        trials = f.span((c["trials"] for c in run.cells.values()), "trial")
        users = ", ".join(map(str, sorted({c[3] for c in run.cells})))
        scenarios = aggregate.ordered((c[2] for c in run.cells), SCENARIOS)
        listed = [part for s in scenarios for part in (", ", code(s))][1:]
        facts: list[Inline] = [
            f.prose("methodology.cells", trials=trials),
            f"Concurrent users measured: {users}.",
            ("Scenarios: ", *listed, "."),
            view.see("A run, in order").content,
        ]
        blocks = [view.Bullets(facts)]
    config: Mapping[str, Any] = run.results.get("config") or {}
    settings = {k: v for k, v in config.items() if not _is_records(v)}
    if rows := _pairs(settings):
        blocks += [view.Heading("Configuration"), Table(["Setting", "Value"], rows)]
    for key, records in config.items():
        if _is_records(records):
            # A list of records, such as the planned cells, reads best as its own table.
            keys = list(dict.fromkeys(k for record in records for k in record))
            table = Table(keys, [[f.fmt_value(r.get(k, f.MISSING)) for k in keys] for r in records])
            blocks += [view.Heading(f"Configuration: {key}"), table]
    return Section("Methodology", blocks)


def _pairs(mapping: Mapping[str, Any]) -> list[list[Inline]]:
    return [[code(k), f.fmt_value(v)] for k, v in f.flatten(mapping)]


def environment(run: Run) -> Section:
    """Return the environment fingerprint, key by key."""
    rows = _pairs(run.results.get("environment") or {})
    return Section("Environment", [view.or_missing(Table(["Key", "Value"], rows))])
