"""The section on instructions per request: the deterministic cost counted under callgrind."""

from __future__ import annotations

from benchmarks.analysis.aggregate import Run
from benchmarks.analysis.ladders import light_one, over_cost_baseline
from benchmarks.report import charts, formatting, view
from benchmarks.report.formatting import MISSING, Facts, by_framework, colour, label
from benchmarks.results.records import Cost, CostRow


def fmt_count(value: float | None) -> str:
    """Return an instruction count in millions, e.g. 2.53 M."""
    return MISSING if value is None else f"{value / 1e6:,.2f} M"


def _rung(target: str, facts: Facts) -> bool:
    # The ladders' rungs have their own section (sections_ladders.py).
    return (found := facts.get(target)) is not None and found["kind"] == "rung"


def _table(cost: Cost, facts: Facts, rungs: bool) -> view.Table:
    ratios = over_cost_baseline(cost["rows"], facts)

    def over_base(row: CostRow) -> str:
        return formatting.fmt_ratio(ratios[(row["target"], row["variant"], row["scenario"])])

    columns: list[view.Column[CostRow]] = [
        view.Column("Target", lambda r: label(r["target"], facts)),
        view.Column("Variant", lambda r: r["variant"]),
        view.Column("Scenario", lambda r: view.code(r["scenario"])),
        view.Column("Instructions", lambda r: fmt_count(r["instructions"]), True),
        view.Column("Model", lambda r: fmt_count(r["model_instructions"]), True),
        view.Column("Rest", lambda r: fmt_count(r["rest_instructions"]), True),
        view.Column("In gc", lambda r: fmt_count(r["gc_instructions"]), True),
        view.Column("vs baseline", over_base, True),
    ]
    return view.tabulate(
        columns, (r for r in cost["rows"] if rungs or not _rung(r["target"], facts))
    )


def _chart(cost: Cost, facts: Facts) -> list[view.Block]:
    found = light_one(cost, facts)
    names = by_framework(found, facts)
    if not names:
        return []
    model = [found[n]["model_instructions"] / 1e6 for n in names]
    rest = [found[n]["rest_instructions"] / 1e6 for n in names]
    colours = [colour(n, facts) for n in names]
    segments = [
        charts.Series("model", formatting.MODEL_COLOUR, model),
        charts.Series("the rest of the request", colours[0], rest, colours=colours),
    ]
    legend = [("model", formatting.MODEL_COLOUR)]
    legend += [(f"rest: {label(n, facts)}", c) for n, c in zip(names, colours, strict=True)]
    axes = charts.axes("cost.chart", legend)
    return [charts.bars(axes, [label(n, facts) for n in names], segments, stack=True)]


def blocks(cost: Cost, facts: Facts, rungs: bool = False) -> list[view.Block]:
    """Return the chart, the table of counts (with the ladders' rungs if asked) and start-up;
    ``facts`` (results["targets"]) tell the rungs and the floors."""
    found: list[view.Block] = [
        *_chart(cost, facts),
        _table(cost, facts, rungs),
        view.Para(formatting.prose("cost.counted", cost=cost)),
    ]
    if startup := cost["startup"]:
        names = by_framework((n for n in startup if rungs or not _rung(n, facts)), facts)
        found += [
            view.Para(formatting.prose("cost.startup")),
            view.Bullets(
                [f"{label(n, facts)}: {fmt_count(startup[n])} instructions" for n in names]
            ),
        ]
    return found


def _cost(run: Run) -> view.Section:
    facts = run.results["targets"]
    cost = run.results.get("cost")
    return view.section("Instructions per request", cost, lambda c: blocks(c, facts))


SECTIONS = (_cost,)
