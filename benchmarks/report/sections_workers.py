"""The section on memory as gunicorn workers are added (``python -m benchmarks workers``).

It reads ``results["workers"]`` alone: one fit per app, model variant, preload and gc.freeze()
setting, with the total PSS at each worker count, the slope (what one more worker costs) and how
many workers a GiB holds. ``text`` is the same table for the terminal.
"""

from __future__ import annotations

from typing import Any

from benchmarks.analysis.workers import fits, freeze_savings, worker_uss
from benchmarks.report import charts
from benchmarks.report.formatting import (
    MISSING,
    NOT_MEASURED,
    colour,
    fmt_mib,
    fmt_share,
    label,
    ordered,
)
from benchmarks.report.view import Block, Chart, Inline, Para, Run, Section, Table, code
from benchmarks.schema import VARIANTS

# Each app's colour for the light model with gc.freeze(), a lighter tint for the heavy one, and
# other hues without the freeze; the legend names every line.
HEAVY_COLOURS = {"flask": "#8fb0ea", "django": "#7cc4a6"}
FREEZE_OFF_COLOURS = {
    ("flask", "light"): "#c0392b",
    ("flask", "heavy"): "#e59866",
    ("django", "light"): "#7d3c98",
    ("django", "heavy"): "#c39bd3",
}


def setting(fit: dict[str, Any]) -> str:
    """Return a fit's server setting in words, e.g. ``preload, gc.freeze()``."""
    preload = "preload" if fit["preload"] else "no preload"
    return f"{preload}, {'gc.freeze()' if fit['freeze'] else 'no freeze'}"


def name(fit: dict[str, Any]) -> str:
    """Return a fit's line name, e.g. ``Flask light, preload, gc.freeze()``."""
    return f"{label(fit['app'])} {fit['variant']}, {setting(fit)}"


def _colour(fit: dict[str, Any]) -> str:
    if not fit["freeze"]:
        return FREEZE_OFF_COLOURS.get((fit["app"], fit["variant"]), colour(fit["app"]))
    if fit["variant"] == "heavy":
        return HEAVY_COLOURS.get(fit["app"], colour(fit["app"]))
    return colour(fit["app"])


def _per_gib(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def _spread(fit: dict[str, Any]) -> str:
    if fit.get("spread") is None:
        return MISSING
    anon = fit.get("spread_anon")
    return fmt_share(fit["spread"]) + ("" if anon is None else f"; {anon:.1%}")


def _noise(noise: float | None) -> str:
    return "one round: no noise figure" if noise is None else f"noise {noise:.2f} MiB"


def _chart(workers: dict[str, Any]) -> list[Block]:
    """Return one chart per model variant: a line per app and gc.freeze() setting, preloaded.

    The servers without preload (``--full``) are in the table only: one chart keeps to four
    lines, so its legend fits on one row.
    """
    blocks: list[Block] = []
    for variant in ordered({f["variant"] for f in fits(workers)}, VARIANTS):
        shown = [f for f in fits(workers) if f["variant"] == variant and f["preload"]]
        counts = sorted({n for f in shown for n in f["counts"]})
        if len(counts) < 2:
            continue
        series = [
            charts.Series(
                f"{label(f['app'])}, {'gc.freeze()' if f['freeze'] else 'no freeze'}",
                _colour(f),
                [dict(zip(f["counts"], f["total_pss_mib"], strict=True)).get(n) for n in counts],
            )
            for f in shown
        ]
        title = f"Total PSS of the server against gunicorn workers ({variant} model, preloaded)"
        svg = charts.line_chart(
            title,
            counts,
            series,
            y_label="MiB (master and workers)",
            x_label="gunicorn workers",
            unit="MiB",
            log_x=False,
        )
        caption = "; the slope of each line is what one more worker costs."
        blocks.append(Chart(svg, title + caption))
    return blocks


def _rows(workers: dict[str, Any]) -> tuple[list[str], list[list[Inline]]]:
    shown = fits(workers)
    counts = sorted({n for f in shown for n in f["counts"]})
    headers = [
        "App",
        "Variant",
        "Setting",
        *(f"PSS {n} w MiB" for n in counts),
        "MiB per added worker",
        "Anonymous MiB per added worker",
        "Workers per GiB",
        "USS per worker MiB",
        "Spread between rounds",
    ]
    rows: list[list[Inline]] = []
    for f in shown:
        totals = dict(zip(f["counts"], f["total_pss_mib"], strict=True))
        rows.append(
            [
                label(f["app"]),
                f["variant"],
                setting(f),
                *(fmt_mib(totals.get(n)) for n in counts),
                fmt_mib(f["marginal_mib"]),
                fmt_mib(f.get("marginal_anon_mib")),
                _per_gib(f["workers_per_gib"]),
                fmt_mib(worker_uss(workers, f)),
                _spread(f),
            ]
        )
    return headers, rows


def _workers(run: Run) -> Section:
    workers = run.results.get("workers")
    title = "Memory per worker"
    if not workers or not workers.get("fits"):
        return Section(title, [Para(NOT_MEASURED)])
    headers, rows = _rows(workers)
    unserved = sum(not all(row["served"]) for row in workers.get("rows", []))
    blocks: list[Block] = [
        *_chart(workers),
        Table(headers, rows, frozenset(range(3, len(headers)))),
        Para(
            (
                "Measured by ",
                code("python -m benchmarks workers"),
                f" ({workers['mode']} plan, {workers['rounds']} round(s)): each app served by "
                "gunicorn on the server CPUs, starting with the fewest workers and given one "
                "more at a time (SIGTTIN), the master unchanged. At each count every worker "
                "first served one-row predictions (batches of "
                f"{workers['warmup_requests_per_worker']} per worker until each worker's CPU "
                "time had moved), then the PSS and USS of "
                "the master and of every worker were read three times and their medians kept. "
                "PSS at n workers is the sum over the master and the workers; MiB per added "
                "worker is the least-squares slope of that sum over the counts. Anonymous: "
                "the same slope over anonymous pages only (Pss_Anon), which only the server's "
                "own processes share; the file pages (the shared libraries) are shared with "
                "every process on the machine that maps them, so their share, and the total "
                "PSS, moves with what else runs. Workers per GiB is 1024 divided by the "
                "anonymous slope. USS per "
                "worker is what one worker holds alone at the largest count. The spread is the "
                "largest (max - min) / median of a total between rounds (PSS; anonymous).",
            )
        ),
    ]
    savings = freeze_savings(workers)
    if savings:
        blocks.append(
            Para(
                "gc.freeze() before forking (GUNICORN_GC_FREEZE) saves, per added worker "
                "(anonymous pages; the noise is the slope's range between rounds): "
                + "; ".join(
                    f"{label(app)} {variant} {saved:+.2f} MiB ({_noise(noise)})"
                    for app, variant, saved, noise in savings
                )
                + "."
            )
        )
    if unserved:
        blocks.append(
            Para(f"{unserved} reading(s) include a worker whose CPU time never moved: not served.")
        )
    return Section(title, blocks)


def text(workers: dict[str, Any]) -> str:
    """Return the figures as a plain-text table for the terminal."""
    headers, rows = _rows(workers)
    cells = [headers, *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        f"{workers['mode']} plan, {workers['rounds']} round(s), servers on CPU "
        f"{workers['server_cpus']}, {workers['seconds']:.0f} s"
    ]
    for row in cells:
        padded = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(padded))
    for app, variant, saved, noise in freeze_savings(workers):
        lines.append(
            f"gc.freeze() saves {label(app)} {variant} {saved:+.2f} MiB per added worker, "
            f"anonymous pages ({_noise(noise)})"
        )
    return "\n".join(lines)


SECTIONS = (_workers,)
