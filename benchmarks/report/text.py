"""The plain-text exporter, and what each command prints: the report's own blocks, as text.

Markdown and HTML are rendered by templates (``render.py``); a terminal needs columns padded to
their widest cell, which is simpler in Python. Charts are for the HTML page and are skipped.
Every table is the view model's ``Table``, built by the section that shows it in report.md and
report.html, or here when only the terminal shows it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from benchmarks.analysis import compare as comparison
from benchmarks.analysis import decision, judge
from benchmarks.analysis import ladders as climbing
from benchmarks.analysis.judge import Judgement
from benchmarks.report import (
    sections_batching,
    sections_capacity,
    sections_checks,
    sections_cost,
    sections_footprint,
    sections_ladders,
    sections_load,
    sections_peers,
    sections_remote,
    sections_workers,
)
from benchmarks.report.formatting import MISSING, Facts, fmt_us
from benchmarks.report.view import Block, Bullets, Heading, Inline, Para, Span, Table, code
from benchmarks.results.batching import Batching
from benchmarks.results.peers import Peers
from benchmarks.results.records import (
    Cost,
    Dependencies,
    Ladders,
    LinesOfCode,
    Overhead,
    Results,
    SecurityCheck,
    Throughput,
)
from benchmarks.results.remote import Remote
from benchmarks.results.scaling import CapacityResults, SoakRun, Workers

WIDTH = 100  # prose wraps here; table rows are as wide as their columns


def inline(content: Inline) -> str:
    """Return a span's text without its role."""
    if isinstance(content, str):
        return content
    return content.text if isinstance(content, Span) else "".join(map(inline, content))


def table(found: Table) -> list[str]:
    """Return the table's lines: the header, then one line a row, numeric columns right-aligned."""
    rows = [found.headers, *([inline(c) for c in row] for row in found.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(found.headers))]
    return [
        "  ".join(
            cell.rjust(width) if i in found.numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def block(found: Block) -> str:
    """Return one block as plain text: wrapped prose, a padded table, a list; "" for a chart."""
    if isinstance(found, Table):
        return "\n".join(table(found))
    if isinstance(found, Bullets):
        items = (f"- {inline(item)}" for item in found.items)
        return "\n".join(textwrap.fill(item, WIDTH, subsequent_indent="  ") for item in items)
    if isinstance(found, Heading):
        return found.text
    return textwrap.fill(inline(found.content), WIDTH) if isinstance(found, Para) else ""


def render(blocks: Iterable[Block]) -> str:
    """Return the blocks as plain text, a blank line between them."""
    return "\n\n".join(text for text in map(block, blocks) if text)


def throughput(result: Throughput, facts: Facts) -> str:
    """Return a plain-text table of the medians and ratios to the baseline (and to the floors)."""
    caption = (
        f"{result['scenario']} ({result['variant']} model), {result['trials']} trials x "
        f"{result['seconds']:.0f} s, {result['connections']} connections, server on CPU "
        f"{result['server_cpus']}, wrk on CPU {result['load_cpus']}"
    )
    return render([Para(caption), sections_ladders.throughput(result, facts)])


def overhead(results: list[Overhead]) -> str:
    """Return a plain-text table, and each app's extra cost over the baseline when measured."""
    return render(sections_load.in_process(results))


def cost(result: Cost, facts: Facts) -> str:
    """Return a plain-text table of instructions per request, and each target's start-up."""
    found = sections_cost.blocks(result, facts, rungs=True)
    return render([*found, Para(f"Counted in {result['seconds']:.0f} s.")])


def ladders(result: Ladders, facts: Facts) -> str:
    """Return a plain-text table of the rungs, and the rungs measured under load."""
    found = sections_ladders.blocks(result, climbing.climb(result, None))
    load = [sections_ladders.throughput(result["load"], facts)] if result["load"] else []
    return render([*found, *load])


def micro(results: list[dict[str, Any]]) -> str:
    """Return a plain-text table of every host's cases."""
    # measure/micro.py and measure/remote.py return plain dicts: no results record holds them.
    rows = [
        [
            result["host"],
            str(result["warning_filters"]),
            case["variant"],
            str(case["rows"]),
            fmt_us(case["raw_us"], 1),
            fmt_us(case["runtime_us"], 1),
            f"{case['runtime_us'] / case['raw_us']:.2f}",
        ]
        for result in results
        for case in result["cases"]
    ]
    headers = ["host", "filters", "variant", "rows", "raw us", "runtime us", "runtime/raw"]
    return render([Table(headers, rows, frozenset({1, 3, 4, 5, 6}))])


def soak(results: SoakRun) -> str:
    """Return a plain-text summary."""
    return render(sections_checks.soak(results["apps"], results["seconds"], results["fraction"]))


def security(checks: list[SecurityCheck]) -> str:
    """Return every check with each app's result, pass or FAIL."""
    return render(sections_checks.security(checks))


def judgement(results: Results, judged: Judgement) -> str:
    """Return a stored run's verdicts judged again, and what moved them."""
    before = {claim["id"]: claim["verdict"] for claim in results["claims"]}
    moved = {change.id for change in judged.changes}
    rows: list[list[Inline]] = [
        [c["id"], before.get(c["id"], MISSING), c["verdict"], "DIFFERS" if c["id"] in moved else ""]
        for c in judged.claims
    ]
    rows += [[c.id, c.stored or MISSING, MISSING, "DIFFERS"] for c in judged.changes if not c.now]
    held = len(judged.claims)
    return render(
        [
            Para(
                f"{results['run_id']}: stored under rule version {results['rule']['version']}, "
                f"judged with version {judge.rule()['version']}."
            ),
            *(Para(f"Rule changed: {change}.") for change in judged.rule_changes),
            Table(["claim", "stored", "now", ""], rows),
            Para(
                f"All {held} verdicts hold."
                if judged.holds
                else f"{len(judged.changes)} of {held} verdicts differ from the stored ones."
            ),
        ]
    )


def compare(a: Results, b: Results) -> str:
    """Return a plain-text table of the changes, marking those beyond each metric's noise.

    Raises ``compare.Incomparable`` when the runs did not measure alike.
    """
    rows = comparison.changes(a, b)
    differs = comparison.provenance(a, b)
    found: list[Block] = [
        Para(
            "NOT LIKE FOR LIKE: the runs differ in " + "; ".join(differs)
            if differs
            else "Like for like: the same commit, rule, libraries, models and gunicorn settings."
        ),
        *(
            Para(f"{name}: {r['run_id']} ({r['mode']}, {r['environment']['git_commit'][:12]})")
            for name, r in (("A", a), ("B", b))
        ),
    ]
    changed: list[list[Inline]] = [
        [
            *(code(part) if i == 2 else str(part) for i, part in enumerate(row["cell"])),
            row["label"],
            f"{row['before']:,.2f}",
            f"{row['after']:,.2f}",
            f"{row['change']:+.1%}",
            f"{row['noise']:.1%}",
            "CHANGED" if row["significant"] else "within noise",
        ]
        for row in rows
    ]
    headers = ["target", "variant", "scenario", "users", "metric", "A", "B", "change", "noise"]
    found += [
        Table([*headers, "verdict"], changed, frozenset({3, 5, 6, 7, 8}))
        if rows
        else Para("The two runs share no measured cell."),
        Para(
            f"{sum(row['significant'] for row in rows)} of {len(rows)} figures changed by more "
            "than the noise (the wider (max - min) / median of the two runs, at least "
            f"{decision.MIN_EFFECT:.0%})."
        ),
    ]
    if held := comparison.verdicts(a, b):
        verdicts: list[list[Inline]] = [
            [v["id"], v["before"] or MISSING, v["after"] or MISSING, "yes" if v["held"] else "NO"]
            for v in held
        ]
        found.append(Table(["claim", "A", "B", "held"], verdicts))
        found.append(Para(f"{sum(v['held'] for v in held)} of {len(held)} verdicts held."))
    if counted := comparison.counts(a, b):
        worst = max(counted, key=lambda c: abs(c["difference"]))
        found.append(
            Para(
                f"Instruction counts (callgrind): {len(counted)} figures in both runs; the largest "
                f"difference {worst['difference']:+.3%} ({' '.join(worst['key'])})."
            )
        )
    return render(found)


def footprint(
    loc: Mapping[str, LinesOfCode],
    dependencies: Mapping[str, Dependencies],
    frameworks: Mapping[str, Dependencies],
) -> str:
    """Return the apps' code lines by concern and file, then what each app and framework needs."""
    return render(
        [
            *sections_footprint.lines_of_code(loc),
            *sections_footprint.dependencies(dependencies, frameworks),
        ]
    )


def capacity(results: CapacityResults) -> str:
    """Return each app's capacity at the p99 target and its cost per million, one line each."""
    found = sections_capacity.blocks(results)
    return render([*found, Para(f"Searched in {results['duration_s']:.0f} s.")])


def peers(results: Peers) -> str:
    """Return the apps and the peers on every figure, who is ahead by the rule, and the settings."""
    return render(sections_peers.blocks(results))


def batching(results: Batching) -> str:
    """Return batching's gains against the goals and every configuration's figures."""
    return render(
        [*sections_batching.blocks(results), Para(f"Measured in {results['duration_s']:.0f} s.")]
    )


def remote(results: Remote) -> str:
    """Return a plain-text table of each target's phases, and what was not measured, and why."""
    return render(sections_remote.blocks(results))


def workers(result: Workers) -> str:
    """Return the memory per worker: how it was measured, the table and what gc.freeze() saves."""
    heading = (
        f"{result['mode']} plan, {result['rounds']} round(s), servers on CPU "
        f"{result['server_cpus']}, {result['seconds']:.0f} s"
    )
    return render([Para(heading), *sections_workers.blocks(result)])
