"""The section on instructions per request: the deterministic cost counted under callgrind."""

from __future__ import annotations

from benchmarks.report import charts
from benchmarks.report.formatting import (
    MISSING,
    MODEL_COLOUR,
    Facts,
    by_framework,
    colour,
    fmt_ratio,
    label,
)
from benchmarks.report.view import Block, Bullets, Chart, Inline, Para, Run, Section, Table, code
from benchmarks.results.records import Cost


def fmt_count(value: float | None) -> str:
    """Return an instruction count in millions, e.g. 2.53 M."""
    return MISSING if value is None else f"{value / 1e6:,.2f} M"


def _rung(target: str, facts: Facts) -> bool:
    # The ladders' rungs have their own section (sections_ladders.py).
    found = facts.get(target)
    return found is not None and found["kind"] == "rung"


def _table(cost: Cost, facts: Facts, rungs: bool) -> Table:
    base = {(r["variant"], r["scenario"]): r for r in cost["rows"] if r["target"] == "baseline"}
    rows: list[list[Inline]] = []
    for row in (r for r in cost["rows"] if rungs or not _rung(r["target"], facts)):
        reference = base.get((row["variant"], row["scenario"]))
        rows.append(
            [
                label(row["target"], facts),
                row["variant"],
                code(row["scenario"]),
                *(fmt_count(row[k]) for k in ("instructions", "model_instructions")),
                *(fmt_count(row[k]) for k in ("rest_instructions", "gc_instructions")),
                fmt_ratio(row["instructions"] / reference["instructions"] if reference else None),
            ]
        )
    headers = ["Target", "Variant", "Scenario", "Instructions", "Model", "Rest", "In gc"]
    return Table([*headers, "vs baseline"], rows, frozenset(range(3, 8)))


def _chart(cost: Cost, facts: Facts) -> list[Block]:
    found = {
        r["target"]: r
        for r in cost["rows"]
        if (r["variant"], r["scenario"]) == ("light", "predict_one")
        and not _rung(r["target"], facts)
    }
    names = by_framework(found, facts)
    if not names:
        return []
    segments = [
        charts.Series("model", MODEL_COLOUR, [found[n]["model_instructions"] / 1e6 for n in names]),
        charts.Series(
            "the rest of the request",
            colour(names[0], facts),
            [found[n]["rest_instructions"] / 1e6 for n in names],
            colours=[colour(n, facts) for n in names],
        ),
    ]
    title = "Instructions per one-row prediction (light model), split into model and the rest"
    legend = [
        ("model", MODEL_COLOUR),
        *((f"rest: {label(n, facts)}", colour(n, facts)) for n in names),
    ]
    axes = charts.Axes(title, "million instructions", "target", "M", legend)
    svg = charts.stacked_bars(axes, [label(n, facts) for n in names], segments)
    return [Chart(svg, title + ", counted by callgrind.")]


def blocks(cost: Cost, facts: Facts, rungs: bool = False) -> list[Block]:
    """Return the chart, the table of counts (with the ladders' rungs if asked) and start-up;
    ``facts`` (results["targets"]) tell the rungs and the floors."""
    found: list[Block] = [
        *_chart(cost, facts),
        _table(cost, facts, rungs),
        Para(
            (
                f"Counted by {cost['tool']} (",
                code("python -m benchmarks cost"),
                "): each target's WSGI callable called in process as gunicorn calls it, after "
                f"{cost['warmup_requests']} warm-up requests of each scenario; figures per "
                "request. The count does not depend on the machine's load: two counts of the "
                "same requests in separate interpreters agree within 0.5% (the test suite "
                "checks it), so these are the figures this report's verdicts lean on where "
                "timings are too noisy to decide. Model: "
                "Model.predict alone on the same rows; rest: everything else the request "
                "executes (server interface, framework, app, JSON, the contract). In gc: "
                f"CPython's cyclic garbage collector, {cost['gc']}.",
            )
        ),
    ]
    startup = cost["startup"]
    if startup:
        found.append(
            Para(
                "Start-up, from an interpreter that has already imported the shared stack "
                "(numpy, scikit-learn, the model runtime) to the WSGI callable ready: importing "
                "the framework and the app, and loading the model."
            )
        )
        names = by_framework((n for n in startup if rungs or not _rung(n, facts)), facts)
        found.append(
            Bullets([f"{label(n, facts)}: {fmt_count(startup[n])} instructions" for n in names])
        )
    return found


def _cost(run: Run) -> Section:
    cost = run.results.get("cost")
    title = "Instructions per request"
    if not cost:
        return Section(title, [Para("Not counted in this run.")])
    return Section(title, blocks(cost, run.results["targets"]))


SECTIONS = (_cost,)
