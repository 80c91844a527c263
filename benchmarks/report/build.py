"""Build the view model of a run's ``results.json``: the one document both report formats render.

Every figure is computed from the results; a section the run did not measure says so instead of
failing. A run written by a command other than ``run`` holds that command's measurement alone:
its report shows that measurement's sections (and, for ``capacity``, the claim it decides) and
the environment, not a wall of "not measured".
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.analysis import aggregate
from benchmarks.analysis.aggregate import Run
from benchmarks.report import (
    sections_batching,
    sections_capacity,
    sections_checks,
    sections_claims,
    sections_cost,
    sections_footprint,
    sections_ladders,
    sections_load,
    sections_peers,
    sections_remote,
    sections_setup,
    sections_workers,
)
from benchmarks.report.formatting import MISSING
from benchmarks.report.view import Document, Section
from benchmarks.results.records import Results
from benchmarks.results.store import SCHEMA_VERSION
from benchmarks.results.vocabulary import Command

SectionOf = Callable[[Run], Section]

SECTIONS: tuple[SectionOf, ...] = (
    *sections_load.SECTIONS,
    *sections_cost.SECTIONS,
    *sections_ladders.SECTIONS,
    *sections_capacity.SECTIONS,
    *sections_footprint.SECTIONS,
    *sections_workers.SECTIONS,
    *sections_checks.SECTIONS,
    *sections_setup.SECTIONS,
)
# The sections of each command's part, in the order of SECTIONS; the environment closes each.
# A capacity run is judged for the one claim its figures decide ("scales"): its Claims section.
PARTS: dict[Command, tuple[SectionOf, ...]] = {
    "run": SECTIONS,
    "capacity": (sections_claims.section, *sections_capacity.SECTIONS),
    "soak": (sections_checks.reliability,),
    "workers": sections_workers.SECTIONS,
    "ladders": sections_ladders.SECTIONS,
    "remote": sections_remote.SECTIONS,
    "peers": sections_peers.SECTIONS,
    "batching": sections_batching.SECTIONS,
}


def document(results: Results) -> Document:
    """Build the report's sections from the results."""
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"results schema_version {version!r}; this renderer reads {SCHEMA_VERSION}"
        )
    run = aggregate.run(results)
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
    command = results.get("command", "run")
    title = f"Flask vs Django REST framework: {command} {run_id} ({mode} mode)"
    sections = PARTS[command]
    if command != "run":
        sections = (*sections, sections_setup.environment)
    # Not part of the schema: only made-up results carry a note, and it must not go unseen.
    note = results.get("note")
    return Document(title, meta, str(note) if note else None, [s(run) for s in sections])
