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


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    return next((mapping[k] for k in keys if k in mapping), None)


def _is_records(value: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _methodology(run: Run) -> Section:
    config: Mapping[str, Any] = run.results.get("config") or {}
    env = run.results.get("environment") or {}
    facts: list[Inline] = []
    warmup, measure = config.get("warmup_s"), config.get("measure_s")
    if measure is not None:
        line = f"Each measurement lasted {fmt_value(measure)} s"
        after = f", after a discarded warm-up of {fmt_value(warmup)} s." if warmup else "."
        facts.append(line + after)
    elif warmup is not None:
        facts.append(f"Each measurement followed a discarded warm-up of {fmt_value(warmup)} s.")
    observed = sorted({c["trials"] for c in run.cells.values()})
    if observed:
        times = EN_DASH.join(map(str, sorted({observed[0], observed[-1]})))
        line = f"Each cell was measured in {times} trial{'s' if times != '1' else ''}"
        facts.append(f"{line}; tables give the median over trials and the min{EN_DASH}max req/s.")
    interleave = _first(config, "interleaving", "interleaved", "interleave")
    if isinstance(interleave, bool):
        facts.append(
            "Targets were measured in turn within each trial (interleaved)."
            if interleave
            else "Targets were not interleaved: each was measured in one block."
        )
    elif interleave is not None:
        facts.append(f"Interleaving: {fmt_value(interleave)}.")
    server_cpus, load_cpus = env.get("server_cpus"), env.get("load_cpus")
    if server_cpus is not None and load_cpus is not None:
        facts.append(
            f"gunicorn ran pinned to CPUs {fmt_value(server_cpus)} and the load generator to "
            f"CPUs {fmt_value(load_cpus)}."
        )
    if config.get("runner_cpus") is not None:
        interval = config.get("memory_sample_interval_s")
        sampling = f", sampling memory every {fmt_value(interval)} s," if interval else ""
        facts.append(
            f"The runner{sampling} ran pinned to CPUs {fmt_value(config['runner_cpus'])}, off "
            "the server's."
        )
    levels = sorted({c[3] for c in run.cells})
    if levels:
        facts.append(f"Concurrent users measured: {', '.join(map(str, levels))}.")
    if "locust_user" in config:
        facts.append(f"Locust user: {fmt_value(config['locust_user'])}.")
    workers = config.get("locust_workers")
    if workers is not None:
        facts.append(
            f"Locust ran as a master with {workers} worker process{'es' if workers != 1 else ''}."
            if workers
            else "Locust ran in a single process."
        )
    scenarios = ordered((c[2] for c in run.cells), SCENARIOS)
    if scenarios:
        facts.append(("Scenarios: ", *_join([code(s) for s in scenarios]), "."))
    if config.get("calibrate_s") and run.results.get("calibration"):
        facts.append(f"Each wrk calibration ran for {fmt_value(config['calibrate_s'])} s.")
    if config.get("startup_samples") and run.results.get("startup"):
        facts.append(f"Start-up was timed {fmt_value(config['startup_samples'])} times per target.")
    if run.results.get("decision_rule"):
        facts.append(f"Decision rule, fixed before the run: {run.results['decision_rule']}")
    if run.results.get("duration_s"):
        facts.append(f"The whole run took {run.results['duration_s'] / 60:.1f} min.")
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
