"""The section on instructions per request: the deterministic cost counted under callgrind."""

from __future__ import annotations

from typing import Any

from benchmarks.report import charts
from benchmarks.report.formatting import (
    ALL_TARGETS,
    MISSING,
    MODEL_COLOUR,
    colour,
    fmt_ratio,
    label,
    ordered,
)
from benchmarks.report.view import Block, Bullets, Chart, Inline, Para, Run, Section, Table, code


def fmt_count(value: float | None) -> str:
    """Return an instruction count in millions, e.g. 2.53 M."""
    return MISSING if value is None else f"{value / 1e6:,.2f} M"


def _rows(cost: dict[str, Any]) -> list[list[Inline]]:
    base = {(r["variant"], r["scenario"]): r for r in cost["rows"] if r["target"] == "baseline"}
    rows: list[list[Inline]] = []
    # The ladders' rungs have their own section (sections_ladders.py).
    for row in (r for r in cost["rows"] if "+" not in r["target"]):
        reference = base.get((row["variant"], row["scenario"]))
        ratio = row["instructions"] / reference["instructions"] if reference else None
        rows.append(
            [
                label(row["target"]),
                row["variant"],
                code(row["scenario"]),
                fmt_count(row["instructions"]),
                fmt_count(row["model_instructions"]),
                fmt_count(row["rest_instructions"]),
                fmt_count(row["gc_instructions"]),
                fmt_ratio(ratio),
            ]
        )
    return rows


def _chart(cost: dict[str, Any]) -> list[Block]:
    found = {
        r["target"]: r
        for r in cost["rows"]
        if (r["variant"], r["scenario"]) == ("light", "predict_one") and "+" not in r["target"]
    }
    names = ordered(found, ALL_TARGETS)
    if not names:
        return []
    segments = [
        charts.Series("model", MODEL_COLOUR, [found[n]["model_instructions"] / 1e6 for n in names]),
        charts.Series(
            "the rest of the request",
            colour(names[0]),
            [found[n]["rest_instructions"] / 1e6 for n in names],
            colours=[colour(n) for n in names],
        ),
    ]
    title = "Instructions per one-row prediction (light model), split into model and the rest"
    svg = charts.stacked_bars(
        title,
        [label(n) for n in names],
        segments,
        y_label="million instructions",
        x_label="target",
        unit="M",
        legend=[("model", MODEL_COLOUR), *((f"rest: {label(n)}", colour(n)) for n in names)],
    )
    return [Chart(svg, title + ", counted by callgrind.")]


def _cost(run: Run) -> Section:
    cost = run.results.get("cost")
    title = "Instructions per request"
    if not cost:
        return Section(title, [Para("Not counted in this run.")])
    startup = cost.get("startup") or {}
    headers = ["Target", "Variant", "Scenario", "Instructions", "Model", "Rest", "In gc"]
    headers.append("vs baseline")
    blocks: list[Block] = [
        *_chart(cost),
        Table(headers, _rows(cost), frozenset(range(3, 8))),
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
    if startup:
        items: list[Inline] = [
            f"{label(name)}: {fmt_count(startup[name])} instructions"
            for name in ordered((n for n in startup if "+" not in n), ALL_TARGETS)
        ]
        blocks.append(
            Para(
                "Start-up, from an interpreter that has already imported the shared stack "
                "(numpy, scikit-learn, the model runtime) to the WSGI callable ready: importing "
                "the framework and the app, and loading the model."
            )
        )
        blocks.append(Bullets(items))
    return Section(title, blocks)


SECTIONS = (_cost,)
