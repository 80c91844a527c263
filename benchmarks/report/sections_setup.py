"""Sections on how the run was set up: methodology and environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from benchmarks.report import view
from benchmarks.report.formatting import (
    EN_DASH,
    MISSING,
    NOT_MEASURED,
    flatten,
    fmt_value,
    ordered,
)
from benchmarks.report.view import Block, Inline, Para, Run, Section, Span, Table, code
from benchmarks.results.vocabulary import SCENARIOS


def _is_records(value: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _methodology(run: Run) -> Section:
    # The settings are in the tables below and the method in the docs: here, what the cells hold.
    config: Mapping[str, Any] = run.results.get("config") or {}
    facts: list[Inline] = []
    observed = sorted({c["trials"] for c in run.cells.values()})
    if observed:
        times = EN_DASH.join(map(str, sorted({observed[0], observed[-1]})))
        line = f"Each cell was measured in {times} trial{'s' if times != '1' else ''}"
        facts.append(f"{line}; tables give the median over trials and the min{EN_DASH}max req/s.")
        facts.append(
            f"Concurrent users measured: {', '.join(map(str, sorted({c[3] for c in run.cells})))}."
        )
        scenarios = [code(s) for s in ordered((c[2] for c in run.cells), SCENARIOS)]
        facts.append(("Scenarios: ", *_join(scenarios), "."))
        facts.append(view.see("A run, in order").content)
    blocks: list[Block] = [view.Bullets(facts) if facts else Para(NOT_MEASURED)]
    settings = {k: v for k, v in config.items() if not _is_records(v)}
    rows: list[list[Inline]] = [[code(k), fmt_value(v)] for k, v in flatten(settings)]
    if rows:
        blocks += [view.Heading("Configuration"), Table(["Setting", "Value"], rows)]
    for key, records in config.items():
        if _is_records(records):
            # A list of records, such as the planned cells, reads best as its own table.
            columns = list(dict.fromkeys(k for record in records for k in record))
            table_rows: list[list[Inline]] = [
                [fmt_value(record.get(column, MISSING)) for column in columns] for record in records
            ]
            blocks += [view.Heading(f"Configuration: {key}"), Table(columns, table_rows)]
    return Section("Methodology", blocks)


def _join(parts: list[Span]) -> list[str | Span]:
    joined: list[str | Span] = []
    for i, part in enumerate(parts):
        joined += [", ", part] if i else [part]
    return joined


def environment(run: Run) -> Section:
    """Return the environment fingerprint, key by key."""
    rows: list[list[Inline]] = [
        [code(k), fmt_value(v)] for k, v in flatten(run.results.get("environment") or {})
    ]
    return Section("Environment", [view.or_missing(Table(["Key", "Value"], rows))])


SECTIONS = (_methodology, environment)
