"""The plain-text exporter: view-model blocks as text (tables padded, charts skipped), and the
printers that add to a section's blocks what only the terminal shows."""

import itertools
import textwrap
from collections.abc import Iterable
from typing import Any

from benchmarks.analysis import compare as comparison
from benchmarks.analysis import decision, judge
from benchmarks.analysis import ladders as climbing
from benchmarks.report import sections_cost as costs
from benchmarks.report import sections_serving as serving
from benchmarks.report.formatting import MISSING, Facts, fmt_us, prose
from benchmarks.report.view import Block, Bullets, Heading, Inline, Para, Span, Table, code
from benchmarks.results import records as r
from benchmarks.results.batching import Batching
from benchmarks.results.scaling import CapacityResults, Workers

WIDTH = 100  # prose wraps here; table rows are as wide as their columns


def inline(content: Inline) -> str:
    """Return a span's text without its role."""
    if isinstance(content, str):
        return content
    return content.text if isinstance(content, Span) else "".join(map(inline, content))


def table(found: Table) -> list[str]:
    """Return the table's lines: the header, then one a row, numeric columns right-aligned."""
    rows = [found.headers, *([inline(c) for c in row] for row in found.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(found.headers))]

    def pad(i: int, cell: str) -> str:
        return cell.rjust(widths[i]) if i in found.numeric else cell.ljust(widths[i])

    return ["  ".join(pad(i, cell) for i, cell in enumerate(row)).rstrip() for row in rows]


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


def render(*parts: str | Iterable[Block]) -> str:
    """Return blocks, and lines given as strings, as plain text, a blank line between them."""
    found = [[Para(p)] if isinstance(p, str) else p for p in parts]
    return "\n\n".join(text for text in map(block, itertools.chain(*found)) if text)


def cost(result: r.Cost, facts: Facts) -> str:
    """Return the instructions per request, the ladders' rungs included, and start-up."""
    return render(costs.blocks(result, facts, rungs=True), f"Counted in {result['seconds']:.0f} s.")


def throughput(result: r.Throughput, facts: Facts) -> str:
    """Return wrk's figures per target and their ratios to the baseline and the floors."""
    return render(prose("terminal.throughput", r=result), [costs.throughput(result, facts)])


def ladders(result: r.Ladders, facts: Facts) -> str:
    """Return the rungs' table, and the rungs measured under load."""
    load = [costs.throughput(result["load"], facts)] if result["load"] else []
    return render(costs.ladder_blocks(result, climbing.climb(result, None)), load)


def micro(results: list[dict[str, Any]]) -> str:
    """Return every host's cases (plain dicts: no results record holds them)."""
    rows: list[list[Inline]] = [
        [
            *(res["host"], str(res["warning_filters"]), case["variant"], str(case["rows"])),
            *(fmt_us(case["raw_us"], 1), fmt_us(case["runtime_us"], 1)),
            f"{case['runtime_us'] / case['raw_us']:.2f}",
        ]
        for res in results
        for case in res["cases"]
    ]
    headers = ["host", "filters", "variant", "rows", "raw us", "runtime us", "runtime/raw"]
    return render([Table(headers, rows, frozenset({1, 3, 4, 5, 6}))])


def judgement(results: r.Results, judged: judge.Judgement) -> str:
    """Return a stored run's verdicts judged again, and what moved them."""
    rows: list[list[Inline]] = [
        [v.id, v.stored or MISSING, v.now or MISSING, "DIFFERS" if v.differs else ""]
        for v in judged.verdicts
    ]
    now, held = judge.rule()["version"], "terminal.held" if judged.holds else "terminal.moved"
    return render(
        prose("terminal.judged", run=results, now=now),
        [Para(f"Rule changed: {change}.") for change in judged.rule_changes],
        [Table(["claim", "stored", "now", ""], rows)],
        prose(held, n=len(judged.claims), moved=len(judged.changes)),
    )


def compare(a: r.Results, b: r.Results) -> str:
    """Return the changes, each against its noise; raise ``Incomparable`` for unlike runs."""
    found = comparison.compare(a, b)
    changed: list[list[Inline]] = [
        [
            *(code(part) if i == 2 else str(part) for i, part in enumerate(row["cell"])),
            *(row["label"], f"{row['before']:,.2f}", f"{row['after']:,.2f}"),
            *(f"{row['change']:+.1%}", f"{row['noise']:.1%}"),
            "CHANGED" if row["significant"] else "within noise",
        ]
        for row in found.changes
    ]
    headers = ["target", "variant", "scenario", "users", "metric", "A", "B", "change", "noise"]
    held: list[list[Inline]] = [
        [v["id"], v["before"] or MISSING, v["after"] or MISSING, "yes" if v["held"] else "NO"]
        for v in found.verdicts
    ]
    worst, differ = found.largest, "; ".join(found.provenance)
    tally = Para(f"{found.held} of {len(held)} verdicts held.")
    verdicts: list[Block] = [Table(["claim", "A", "B", "held"], held), tally] if held else []
    return render(
        prose("terminal.differ", differ=differ) if differ else prose("terminal.alike"),
        *(
            prose("terminal.run", name=n, run=x, commit=x["environment"]["git_commit"][:12])
            for n, x in (("A", a), ("B", b))
        ),
        [Table([*headers, "verdict"], changed, frozenset({3, 5, 6, 7, 8}))]
        if changed
        else "The two runs share no measured cell.",
        prose("terminal.changed", n=found.changed, of=len(changed), effect=decision.MIN_EFFECT),
        verdicts,
        prose("terminal.counts", n=len(found.counts), worst=worst, key=" ".join(worst["key"]))
        if worst
        else [],
    )


def capacity(results: CapacityResults) -> str:
    """Return each app's capacity at the p99 target and its cost per million."""
    return render(costs.capacity_blocks(results), f"Searched in {results['duration_s']:.0f} s.")


def batching(results: Batching) -> str:
    """Return batching's gains against the goals and every configuration's figures."""
    return render(serving.batching_blocks(results), f"Measured in {results['duration_s']:.0f} s.")


def workers(result: Workers) -> str:
    """Return the memory per worker: how it was measured, the table, what gc.freeze() saves."""
    return render(prose("terminal.workers", r=result), costs.workers_blocks(result))
