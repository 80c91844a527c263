"""Build the view model of a run's ``results.json``: the one document both report formats render.

Every figure is computed from the results; a section the run did not measure says so instead of
failing.
"""

from __future__ import annotations

from benchmarks.analysis import aggregate
from benchmarks.report import (
    sections_capacity,
    sections_checks,
    sections_cost,
    sections_footprint,
    sections_ladders,
    sections_load,
    sections_setup,
    sections_workers,
)
from benchmarks.report.formatting import MISSING
from benchmarks.report.view import Document, Run
from benchmarks.results.records import Results
from benchmarks.results.store import SCHEMA_VERSION

SECTIONS = (
    *sections_load.SECTIONS,
    *sections_cost.SECTIONS,
    *sections_ladders.SECTIONS,
    *sections_capacity.SECTIONS,
    *sections_footprint.SECTIONS,
    *sections_workers.SECTIONS,
    *sections_checks.SECTIONS,
    *sections_setup.SECTIONS,
)


def document(results: Results) -> Document:
    """Build the report's sections from the results."""
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"results schema_version {version!r}; this renderer reads {SCHEMA_VERSION}"
        )
    run = Run(results, aggregate.cells(results.get("phases") or []))
    env = results.get("environment") or {}
    meta = []
    if env.get("date"):
        meta.append(f"Date: {env['date']}")
    if env.get("git_commit"):
        meta.append(f"Commit: {str(env['git_commit'])[:12]}")
    if results.get("duration_s"):
        meta.append(f"Duration: {results['duration_s'] / 60:.1f} min")
    meta.append(f"Schema: {version}")
    run_id, mode = results.get("run_id", MISSING), results.get("mode", MISSING)
    title = f"Flask vs Django REST framework: run {run_id} ({mode} mode)"
    # Not part of the schema: only made-up results carry a note, and it must not go unseen.
    note = results.get("note")
    return Document(title, meta, str(note) if note else None, [s(run) for s in SECTIONS])
