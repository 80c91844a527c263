"""Render a run's ``results.json`` as ``report.md`` (for a code host) and ``report.html``.

Both formats come from one document built here, a list of sections made of paragraphs, bullet
lists, tables and (HTML only) charts, so they always hold the same sections in the same order.
Every figure is computed from the results; a section the run did not measure says so instead of
failing. The HTML file is self-contained: inline CSS and inline SVG, nothing fetched from anywhere.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from benchmarks.analysis import aggregate
from benchmarks.analysis.aggregate import Cell
from benchmarks.report import charts
from benchmarks.schema import SCENARIOS, SCHEMA_VERSION, TARGET_NAMES, VARIANTS, VERDICTS, Results

TARGET_LABELS = {"baseline": "baseline", "flask": "Flask", "django": "Django"}
TARGET_COLOURS = {"baseline": "#8a939e", "flask": "#2f63c7", "django": "#0b7a55"}
OTHER_COLOUR = "#9b59b6"  # a target this module does not know yet
MODEL_COLOUR = "#e3a33b"
PERCENTILE_LABELS = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9", "max": "max"}
NOT_MEASURED = "Not measured in this run."
MISSING = "\u2013"  # en dash: no figure
EN_DASH = "\u2013"  # ranges such as 1-2 trials, typeset
TIMES = "\u00d7"  # multiplication sign, as in 1.4x
GENERATOR_BOUND = "generator-bound"
GENERATOR_LIMITED = "generator-limited"


# -- formatting -------------------------------------------------------------------------------


def fmt_rps(value: float | None) -> str:
    """Format requests per second: whole numbers, one decimal below 100."""
    if value is None:
        return MISSING
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def fmt_ms(value: float | None) -> str:
    """Format milliseconds with 2 decimals."""
    return MISSING if value is None else f"{value:,.2f}"


def fmt_us(value: float | None, decimals: int = 0) -> str:
    """Format microseconds, as whole numbers unless asked."""
    return MISSING if value is None else f"{value:,.{decimals}f}"


def fmt_mb(value: float | None, decimals: int = 1) -> str:
    """Format megabytes."""
    return MISSING if value is None else f"{value:,.{decimals}f}"


def fmt_ratio(value: float | None) -> str:
    """Format a ratio as a multiplier."""
    return MISSING if value is None else f"{value:.2f}{TIMES}"


def fmt_share(value: float | None) -> str:
    """Format a fraction as a whole percentage."""
    return MISSING if value is None else f"{value:.0%}"


def fmt_seconds(value: float | None) -> str:
    """Format seconds with 2 decimals."""
    return MISSING if value is None else f"{value:.2f}"


def fmt_value(value: Any) -> str:
    """Format a configuration or environment value as plain text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, list | tuple) and all(isinstance(v, list | tuple) for v in value):
        return "; ".join(" ".join(map(str, inner)) for inner in value)  # e.g. [[light, mixed, 8]]
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return str(value)


def label(target: str) -> str:
    """Return the display name of a target."""
    return TARGET_LABELS.get(target, target)


def colour(target: str) -> str:
    """Return the fixed colour of a target in every chart."""
    return TARGET_COLOURS.get(target, OTHER_COLOUR)


def plural(count: int, noun: str) -> str:
    """Return ``count noun`` with an s when count is not one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return (dotted key, value) pairs of a nested mapping, depth first, in its own order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            pairs += flatten(value, name + ".")
        else:
            pairs.append((name, value))
    return pairs


def ordered(names: Iterable[str], order: Sequence[str] = TARGET_NAMES) -> list[str]:
    """Return names without duplicates, known ones in the conventional order first."""
    unique = list(dict.fromkeys(names))
    return sorted(unique, key=lambda name: aggregate.rank(order, name))


# -- the document both formats render ---------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A piece of text with a role each format shows its own way (code, strong, badge...)."""

    text: str
    role: str  # "code", "strong", "verdict", "pass", "fail" or "flag"
    kind: str = ""  # for a verdict: which one, to colour its badge


Inline = str | Span | tuple[str | Span, ...]


@dataclass(frozen=True)
class Para:
    """A paragraph."""

    content: Inline


@dataclass(frozen=True)
class Callout:
    """A paragraph no reader may miss, such as a warning that the data are synthetic."""

    content: Inline


@dataclass(frozen=True)
class Bullets:
    """A bullet list."""

    items: list[Inline]


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table; ``numeric`` holds the indexes of right-aligned columns."""

    headers: list[str]
    rows: list[list[Inline]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart with its caption (HTML only: a code host shows the tables)."""

    svg: str
    caption: str


Block = Para | Callout | Bullets | Heading | Table | Chart


@dataclass
class Section:
    """A titled section of the report."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "-".join(self.title.lower().replace("-", " ").split())


@dataclass
class Document:
    """The whole report: title, lines under it, a prominent note, and the sections."""

    title: str
    meta: list[str]
    note: str | None
    sections: list[Section]


def code(text: object) -> Span:
    """Return text shown as code (names of files, scenarios, keys)."""
    return Span(str(text), "code")


def verdict(text: str) -> Span:
    """Return a claim's verdict, shown as a coloured badge in HTML."""
    return Span(text, "verdict", text.replace(" ", "-"))


def table_or_missing(
    headers: list[str], rows: list[list[Inline]], numeric: Iterable[int] = ()
) -> Table | Para:
    """Return the table, or a line saying nothing was measured when it has no rows."""
    return Table(headers, rows, frozenset(numeric)) if rows else Para(NOT_MEASURED)


# -- sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """The results with their cells aggregated once."""

    results: Results
    cells: dict[Cell, dict]

    @property
    def targets(self) -> list[str]:
        return ordered(c[0] for c in self.cells)

    @property
    def variants(self) -> list[str]:
        return ordered((c[1] for c in self.cells), VARIANTS)

    def cell(self, target: str, variant: str, scenario: str, users: int | None) -> dict | None:
        return None if users is None else self.cells.get((target, variant, scenario, users))


def _summary(run: _Run) -> Section:
    bullets: list[Inline] = []
    users = aggregate.common_users(run.cells, "light", "predict_one")
    here = {t: run.cell(t, "light", "predict_one", users) for t in run.targets}
    here = {t: c for t, c in here.items() if c}
    if here:
        trials = sorted({c["trials"] for c in here.values()})
        spread = str(trials[0]) if len(trials) == 1 else f"{trials[0]}{EN_DASH}{trials[-1]}"
        figures = ", ".join(f"{label(t)} {fmt_rps(c['rps'])} req/s" for t, c in here.items())
        bullets.append(
            f"Light model, one-row predictions at {plural(users, 'user')}: {figures} "
            f"(median of {spread} {'trial' if spread == '1' else 'trials'})."
        )
    flask, django, baseline = here.get("flask"), here.get("django"), here.get("baseline")
    if flask and django and django["rps"]:
        line = f"Flask serves {fmt_ratio(flask['rps'] / django['rps'])} Django's throughput there"
        if baseline and baseline["rps"]:
            line += (
                f"; Flask reaches {fmt_share(flask['rps'] / baseline['rps'])} of the bare-WSGI "
                f"baseline and Django {fmt_share(django['rps'] / baseline['rps'])}"
            )
        bullets.append(line + ".")
    if (
        flask
        and django
        and flask["framework_us"] is not None
        and django["framework_us"] is not None
    ):
        bullets.append(
            f"Server CPU per request outside the model (light, one row): Flask "
            f"{fmt_us(flask['framework_us'])} µs, Django {fmt_us(django['framework_us'])} µs"
            + _model_phrase(flask["model_ms_mean"], django["model_ms_mean"])
        )
    heavy_users = aggregate.common_users(run.cells, "heavy", "predict_one")
    heavy = aggregate.ratio(
        run.cells,
        ("flask", "heavy", "predict_one", heavy_users or 0),
        ("django", "heavy", "predict_one", heavy_users or 0),
    )
    if heavy is not None:
        bullets.append(
            f"With the heavy model (one-row predictions, {plural(heavy_users or 0, 'user')}) "
            f"Flask serves {fmt_ratio(heavy)} Django's throughput."
        )
    claims = run.results.get("claims") or []
    if claims:
        counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}
        tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        bullets.append(f"{plural(len(claims), 'claim')} tested against these figures: {tally}.")
    cautions = []
    bound = sum(c["generator_bound"] for c in run.cells.values())
    if bound:
        cautions.append(
            f"{plural(bound, 'cell')} {'was' if bound == 1 else 'were'} {GENERATOR_BOUND} "
            "(the figure is a floor, not the server's capacity)"
        )
    limited = sum(c["generator_limited"] for c in run.results.get("calibration") or [])
    if limited:
        cautions.append(f"wrk calibration flagged {plural(limited, 'cell')} {GENERATOR_LIMITED}")
    failures = sum(c["failures"] for c in run.cells.values())
    if failures:
        cautions.append(f"{plural(failures, 'failed response')} in all")
    parity = run.results.get("parity") or {}
    if parity and not parity.get("ok"):
        cautions.append("the parity gate FAILED: the apps did not answer alike")
    if cautions:
        bullets.append("Caution: " + "; ".join(cautions) + ".")
    if not bullets:
        bullets.append("No load was measured in this run.")
    return Section("Summary", [Bullets(bullets[:6])])


def _model_phrase(flask_ms: float, django_ms: float) -> str:
    flask_us, django_us = fmt_us(flask_ms * 1000), fmt_us(django_ms * 1000)
    if flask_us == django_us:
        return f"; the model itself took {flask_us} µs in both."
    return f"; the model itself took {flask_us} µs under Flask and {django_us} µs under Django."


def _claims(run: _Run) -> Section:
    rows: list[list[Inline]] = [
        [c["claim"], c["metric"], c["flask"], c["django"], verdict(c["verdict"]), c["reason"]]
        for c in run.results.get("claims") or []
    ]
    headers = ["Claim", "Metric", "Flask", "Django", "Verdict", "Reason"]
    return Section("Claims", [table_or_missing(headers, rows)])


def _throughput(run: _Run) -> Section:
    section = Section("Throughput and latency")
    if not run.cells:
        section.blocks.append(Para(NOT_MEASURED))
        return section
    section.blocks += _throughput_charts(run)
    headers = ["Scenario", "Users", "Target", "req/s median", f"min{EN_DASH}max"]
    headers += [f"{PERCENTILE_LABELS[p]} ms" for p in aggregate.PERCENTILES]
    headers += ["Failures", "Trials", "Flag"]
    for variant in run.variants:
        # Targets side by side within each scenario and users level: the comparison to read.
        keys = sorted(
            (c for c in run.cells if c[1] == variant),
            key=lambda c: (aggregate.sort_key(c)[2], c[3], aggregate.sort_key(c)[0]),
        )
        rows: list[list[Inline]] = []
        for target, _, scenario, users in keys:
            c = run.cells[(target, variant, scenario, users)]
            spread = ""
            if c["trials"] > 1:
                spread = f"{fmt_rps(c['rps_min'])}{EN_DASH}{fmt_rps(c['rps_max'])}"
            latency = [fmt_ms(c["latency_ms"][p]) for p in aggregate.PERCENTILES]
            flag: Inline = Span(GENERATOR_BOUND, "flag") if c["generator_bound"] else ""
            failures = f"{c['failures']:,}"
            row = [code(scenario), str(users), label(target), fmt_rps(c["rps"]), spread, *latency]
            rows.append([*row, failures, str(c["trials"]), flag])
        section.blocks.append(Heading(f"{variant.capitalize()} model"))
        section.blocks.append(Table(headers, rows, frozenset({1, *range(3, 12)})))
    # The runner records the threshold it applied; 0.9 is the schema's definition otherwise.
    threshold = (run.results.get("config") or {}).get("generator_bound_threshold", 0.9)
    section.blocks.append(
        Para(
            (
                Span(GENERATOR_BOUND, "flag"),
                f" marks a cell where the CPUs given to Locust were {fmt_share(threshold)} or more "
                "busy (with Locust or anything else): the load generator, not the server, was "
                "the limit, so that req/s "
                f"figure is a floor of the server's capacity. Min{EN_DASH}max: the lowest and "
                "highest trial, when there were several.",
            )
        )
    )
    return section


def _throughput_charts(run: _Run) -> list[Block]:
    blocks: list[Block] = []
    users = aggregate.busiest_users(run.cells, "light")
    scenarios = ordered((c[2] for c in run.cells if c[1] == "light" and c[3] == users), SCENARIOS)
    if scenarios:
        series = []
        for t in run.targets:
            found = [run.cell(t, "light", s, users) for s in scenarios]
            if any(found):
                series.append(
                    charts.Series(
                        label(t),
                        colour(t),
                        [c and c["rps"] for c in found],
                        [c and c["rps_min"] for c in found],
                        [c and c["rps_max"] for c in found],
                    )
                )
        title = f"Median requests per second by scenario, light model, {plural(users, 'user')}"
        svg = charts.grouped_bars(
            title,
            scenarios,
            series,
            y_label="requests per second",
            x_label="scenario",
            unit="req/s",
        )
        caption = f"{title}. Whiskers span the lowest and highest trial."
        blocks.append(Chart(svg, caption))
    users = aggregate.common_users(run.cells, "light", "predict_one")
    found = {t: run.cell(t, "light", "predict_one", users) for t in run.targets}
    found = {t: c for t, c in found.items() if c}
    if found:
        percentiles = ["p50", "p90", "p99", "p999"]
        series = [
            charts.Series(label(t), colour(t), [c["latency_ms"][p] for p in percentiles])
            for t, c in found.items()
        ]
        title = f"Latency percentiles, light model, one-row predictions, {plural(users, 'user')}"
        svg = charts.grouped_bars(
            title,
            [PERCENTILE_LABELS[p] for p in percentiles],
            series,
            y_label="response time (ms)",
            x_label="percentile",
            unit="ms",
        )
        blocks.append(Chart(svg, f"{title} (medians over trials)."))
    levels = aggregate.users_levels(run.cells, "light", "predict_one")
    if len(levels) > 1:
        series = [
            charts.Series(
                label(t),
                colour(t),
                [(run.cell(t, "light", "predict_one", u) or {}).get("rps") for u in levels],
            )
            for t in run.targets
            if any(run.cell(t, "light", "predict_one", u) for u in levels)
        ]
        title = "Requests per second against concurrent users, light model, one-row predictions"
        svg = charts.line_chart(
            title,
            levels,
            series,
            y_label="requests per second",
            x_label="concurrent users (log scale)",
            unit="req/s",
        )
        blocks.append(Chart(svg, f"{title} (medians over trials)."))
    return blocks


def _calibration(run: _Run) -> Section:
    entries = sorted(
        run.results.get("calibration") or [],
        key=lambda e: aggregate.sort_key(aggregate.cell_of(e)),
    )
    rows: list[list[Inline]] = [
        [
            label(e["target"]),
            e["variant"],
            code(e["scenario"]),
            str(e["users"]),
            fmt_rps(e["locust_rps"]),
            fmt_rps(e["wrk_rps"]),
            f"{e['locust_to_wrk']:.2f}",
            fmt_ms(e["wrk_latency_ms"]["p50"]),
            fmt_ms(e["wrk_latency_ms"]["p99"]),
            Span(GENERATOR_LIMITED, "flag") if e["generator_limited"] else "",
        ]
        for e in entries
    ]
    headers = ["Target", "Variant", "Scenario", "Users", "Locust req/s", "wrk req/s"]
    headers += ["Locust/wrk", "wrk p50 ms", "wrk p99 ms", "Flag"]
    blocks: list[Block] = [table_or_missing(headers, rows, range(3, 9))]
    if rows:
        blocks.append(
            Para(
                (
                    "wrk, a load generator written in C, drove the same load to check Locust's "
                    "figure. ",
                    Span(GENERATOR_LIMITED, "flag"),
                    " marks a Locust/wrk ratio below 0.90: there Locust could not produce the "
                    "load the server could take, so compare targets on wrk's figure.",
                )
            )
        )
    return Section("Calibration against wrk", blocks)


def _at_common_users(run: _Run, scenario: str) -> list[tuple[str, str, int, dict]]:
    # One users level per variant, the highest every target reached, so targets compare alike.
    found = []
    for variant in run.variants:
        users = aggregate.common_users(run.cells, variant, scenario)
        for target in run.targets:
            c = run.cell(target, variant, scenario, users)
            if c and users is not None:
                found.append((target, variant, users, c))
    return found


def _cpu(run: _Run) -> Section:
    found = _at_common_users(run, "predict_one")
    rows: list[list[Inline]] = []
    for target, variant, users, c in found:
        model_us = None if c["model_ms_mean"] is None else c["model_ms_mean"] * 1000
        cpu = c["server_cpu_us_per_request"]
        share = c["framework_us"] / cpu if c["framework_us"] is not None and cpu else None
        row = [label(target), variant, str(users), fmt_us(cpu), fmt_us(model_us)]
        rows.append([*row, fmt_us(c["framework_us"]), fmt_share(share)])
    headers = ["Target", "Variant", "Users", "CPU µs/request", "Model µs", "Framework µs"]
    headers.append("Framework share")
    blocks: list[Block] = []
    stacked = [(t, v, c) for t, v, _, c in found if c["framework_us"] is not None]
    if stacked:
        categories = [f"{label(t)} · {v}" for t, v, _ in stacked]
        segments = [
            charts.Series(
                "model", MODEL_COLOUR, [c["model_ms_mean"] * 1000 for _, _, c in stacked]
            ),
            charts.Series(
                "framework",
                OTHER_COLOUR,
                [c["framework_us"] for _, _, c in stacked],
                colours=[colour(t) for t, _, _ in stacked],
            ),
        ]
        legend = [("model", MODEL_COLOUR)] + [
            (f"framework: {label(t)}", colour(t)) for t in ordered(t for t, _, _ in stacked)
        ]
        title = "Server CPU per one-row prediction, split into model and framework"
        svg = charts.stacked_bars(
            title,
            categories,
            segments,
            y_label="CPU per request (µs)",
            x_label="target and model variant",
            unit="µs",
            legend=legend,
        )
        blocks.append(Chart(svg, f"{title} (medians over trials)."))
    blocks.append(table_or_missing(headers, rows, range(2, 7)))
    if rows:
        blocks.append(
            Para(
                "CPU is the CPU time of the whole gunicorn process tree divided by the requests "
                "served; the model's share is the mean model duration each app reports in its "
                "Server-Timing header; the framework's share is the rest: everything a request "
                "costs the server outside the model. Users: the level every target was measured "
                "at with the most trials (the highest on a tie)."
            )
        )
    return Section("CPU per request", [*blocks, *_in_process(run)])


def _in_process(run: _Run) -> list[Block]:
    found = {r["target"]: r for r in run.results.get("overhead") or []}
    if not found:
        return []
    names = ordered(found)
    rows: list[list[Inline]] = [
        [
            label(name),
            fmt_us(found[name]["health_us"]),
            fmt_us(found[name]["predict_us"]),
            fmt_us(found[name]["predict_canned_us"]),
            fmt_us(found[name]["model_in_request_us"]),
            fmt_us(found[name]["model_alone_us"]),
            # Flask's envelope check takes well under a microsecond: one decimal, not zero.
            fmt_us(found[name]["envelope_us"], 1),
        ]
        for name in names
    ]
    headers = ["Target", "Health µs", "Predict µs", "Canned µs", "Model in request µs"]
    headers += ["Model alone µs", "Envelope µs"]
    blocks: list[Block] = [
        Heading("In process, without server or network"),
        Table(headers, rows, frozenset(range(1, 7))),
        Para(
            (
                "Each target's WSGI callable called directly, in its own interpreter on one "
                "server CPU (",
                code("python -m benchmarks overhead"),
                "), process CPU per call, the fastest of 7 loops; one-row light-model "
                "predictions. Health: GET /health/live, the framework's floor. Canned: the "
                "prediction with the model's answer computed beforehand, so only the request's "
                "own code runs. Model in request: the median Server-Timing figure; model alone: "
                "Model.predict outside any request in the same process. Envelope: the app's "
                "own check of the request envelope.",
            )
        ),
    ]
    base = found.get("baseline")
    if base:
        items: list[Inline] = []
        for name in names:
            if name != "baseline":
                split = aggregate.split_over_baseline(found[name], base)
                items.append(
                    f"{label(name)}: {fmt_us(split['extra_us'])} µs per prediction over the "
                    f"baseline, {fmt_us(split['own_code_us'])} µs in its own code and "
                    f"{fmt_us(split['interference_us'])} µs in the model and its code slowing "
                    "each other."
                )
        blocks.append(Bullets(items))
    return blocks


def _memory(run: _Run) -> Section:
    rows: list[list[Inline]] = []
    for target in run.targets:
        for variant in run.variants:
            mine = [c for k, c in run.cells.items() if k[0] == target and k[1] == variant]
            if mine:
                steady = statistics.median(c["rss_mb_steady"] for c in mine)
                peak = max(c["rss_mb_peak"] for c in mine)
                rows.append([label(target), variant, fmt_mb(steady), fmt_mb(peak)])
    headers = ["Target", "Variant", "Steady RSS per worker (MB)", "Peak RSS of a worker (MB)"]
    blocks: list[Block] = [table_or_missing(headers, rows, (2, 3))]
    if rows:
        blocks.append(
            Para(
                "Steady: the median over this target's cells of each cell's median RSS per "
                "worker while measuring. Peak: the highest RSS any worker reached in any cell."
            )
        )
    return Section("Memory", blocks)


def _startup(run: _Run) -> Section:
    startup = run.results.get("startup") or {}
    names = ordered(startup)
    rows: list[list[Inline]] = [
        [
            label(n),
            fmt_seconds(startup[n]["median"]),
            ", ".join(fmt_seconds(s) for s in startup[n]["seconds"]),
        ]
        for n in names
    ]
    blocks: list[Block] = []
    if rows:
        title = "Start-up time: from starting gunicorn to the first ready response"
        samples = [startup[n]["seconds"] or [startup[n]["median"]] for n in names]
        svg = charts.bar_chart(
            title,
            [label(n) for n in names],
            [startup[n]["median"] for n in names],
            [colour(n) for n in names],
            y_label="seconds",
            x_label="target",
            unit="s",
            low=[min(s) for s in samples],
            high=[max(s) for s in samples],
        )
        blocks.append(Chart(svg, f"{title}. Bars: median; whiskers: fastest and slowest."))
    blocks.append(table_or_missing(["Target", "Median s", "Samples s"], rows, (1,)))
    if rows:
        blocks.append(Para("Seconds from starting gunicorn to the first 200 from /health/ready."))
    return Section("Start-up", blocks)


def _loc(run: _Run) -> Section:
    loc = run.results.get("loc") or {}
    apps = ordered(loc)
    if not apps:
        return Section("Lines of code", [Para(NOT_MEASURED)])
    blocks: list[Block] = [
        Para("Code lines of each app's own package, without comments or blank lines.")
    ]
    concerns = list(dict.fromkeys(c for a in apps for c in loc[a]["concerns"]))
    rows: list[list[Inline]] = [
        [concern, *(str(loc[a]["concerns"].get(concern, MISSING)) for a in apps)]
        for concern in concerns
    ]
    rows.append([Span("total", "strong"), *(Span(str(loc[a]["total"]), "strong") for a in apps)])
    numeric = frozenset(range(1, len(apps) + 1))
    blocks += [Heading("By concern"), Table(["Concern", *map(label, apps)], rows, numeric)]
    for app in apps:
        files = loc[app]["files"]
        rows = [[code(name), str(lines)] for name, lines in sorted(files.items())]
        rows.append([Span("total", "strong"), Span(str(loc[app]["total"]), "strong")])
        blocks += [
            Heading(f"{label(app)}: by file"),
            Table(["File", "Lines"], rows, frozenset({1})),
        ]
    return Section("Lines of code", blocks)


def _dependencies(run: _Run) -> Section:
    deps = run.results.get("dependencies") or {}
    apps = ordered(deps)
    if not apps:
        return Section("Dependencies", [Para(NOT_MEASURED)])
    rows: list[list[Inline]] = [
        [
            label(a),
            fmt_value(deps[a]["direct"]),
            fmt_value(deps[a]["extensions"]),
            str(len(deps[a]["distributions"])),
            fmt_mb(deps[a]["total_bytes"] / 1e6, 2),
        ]
        for a in apps
    ]
    headers = ["App", "Imports", "Framework extensions", "Distributions", "Total MB"]
    blocks: list[Block] = [
        Para(
            "What each app installs beyond the shared core (model runtime, contract, gunicorn): "
            "the distributions it imports, and theirs."
        ),
        Table(headers, rows, frozenset({3, 4})),
    ]
    # Written by the runner beside the schema's keys: each framework on its own, so a reader
    # can tell the framework's weight from what the app adds to it.
    alone = run.results.get("framework_footprint") or {}
    if alone:
        rows = [
            [
                label(fw),
                ", ".join(d["name"] for d in alone[fw]["distributions"]),
                fmt_mb(alone[fw]["total_bytes"] / 1e6, 2),
            ]
            for fw in ordered(alone)
        ]
        blocks += [
            Heading("Each framework alone"),
            Table(["Framework", "Distributions", "Total MB"], rows, frozenset({2})),
        ]
    for app in apps:
        dists = sorted(deps[app]["distributions"], key=lambda d: d["name"].lower())
        rows = [[code(d["name"]), d["version"], fmt_mb(d["size_bytes"] / 1e6, 2)] for d in dists]
        total = Span(fmt_mb(deps[app]["total_bytes"] / 1e6, 2), "strong")
        rows.append([Span("total", "strong"), "", total])
        blocks += [
            Heading(f"{label(app)}: distributions"),
            Table(["Distribution", "Version", "Size MB"], rows, frozenset({2})),
        ]
    return Section("Dependencies", blocks)


def _security(run: _Run) -> Section:
    checks = run.results.get("security") or []
    apps = list(dict.fromkeys(a for c in checks for a in (*c["result"], *c["passed"])))
    rows: list[list[Inline]] = []
    for check in checks:
        row: list[Inline] = [check["check"]]
        for app in apps:
            observed = check["result"].get(app, MISSING)
            passed = check["passed"].get(app)
            if passed is None:
                row.append(observed)
            else:
                row.append(
                    Span(f"{'✓' if passed else '✗'} {observed}", "pass" if passed else "fail")
                )
        rows.append(row)
    blocks: list[Block] = [table_or_missing(["Check", *map(label, apps)], rows)]
    if rows:
        blocks.append(Para("✓: the app passed the check as configured; ✗: it did not."))
    return Section("Security defaults", blocks)


def _reliability(run: _Run) -> Section:
    reliability = run.results.get("reliability") or {}
    soaks = reliability.get("soak") or []
    inputs = reliability.get("inputs") or []
    blocks: list[Block] = [Heading("Sustained load, with a worker killed")]
    if soaks:
        seconds = reliability.get("soak_s") or soaks[0].get("seconds")
        blocks.append(
            Para(
                f"Each app was held at 70% of the capacity wrk measured for it, for "
                f"{seconds:.0f} s; halfway through, one of its two workers was killed "
                "with SIGKILL. RSS trend: the steepest least-squares slope of any worker over "
                "the second half, in MiB per minute."
            )
        )
        rows: list[list[Inline]] = []
        for soak in soaks:
            survived = soak["worker_replaced"] and soak["failures"] <= 1
            rows.append(
                [
                    label(soak["app"]),
                    fmt_rps(soak["capacity_rps"]),
                    fmt_rps(soak["rps"]),
                    f"{soak['requests']:,}",
                    str(soak["failures"]),
                    fmt_ms(soak["latency_ms"]["p50"]),
                    fmt_ms(soak["latency_ms"]["p99"]),
                    Span(
                        "✓ replaced" if survived else "✗ not survived",
                        "pass" if survived else "fail",
                    ),
                    f"{fmt_mb(soak['rss_mb_start'])} → {fmt_mb(soak['rss_mb_end'])}",
                    f"{soak['rss_trend_mb_per_min']:+.2f}",
                ]
            )
        blocks.append(
            table_or_missing(
                [
                    "App",
                    "Capacity req/s",
                    "Held req/s",
                    "Requests",
                    "Failures",
                    "p50 ms",
                    "p99 ms",
                    "Killed worker",
                    "RSS per worker MiB",
                    "RSS trend MiB/min",
                ],
                rows,
                numeric=range(1, 7),
            )
        )
        injected = len(soaks)
        survived_count = sum(s["worker_replaced"] and s["failures"] <= 1 for s in soaks)
        blocks.append(
            Para(
                f"Faults injected: {injected}; survived: {survived_count}. Requests "
                f"sent: {sum(s['requests'] for s in soaks):,}; failures: "
                f"{sum(s['failures'] for s in soaks)}."
            )
        )
        series = [
            charts.Series(label(s["app"]), colour(s["app"]), [h["p99_ms"] for h in s["history"]])
            for s in soaks
            if s.get("history")
        ]
        length = min((len(x.values) for x in series), default=0)
        if length > 2:
            series = [charts.Series(x.name, x.colour, list(x.values[:length])) for x in series]
            blocks.append(
                Chart(
                    charts.line_chart(
                        "p99 latency over the soak",
                        list(range(length)),
                        series,
                        y_label="p99 (ms, Locust's whole-ms buckets)",
                        x_label="seconds",
                        log_x=False,
                    ),
                    "p99 latency, second by second, while each app was held at 70% of capacity "
                    "(the spike is the killed worker).",
                )
            )
    else:
        blocks.append(Para(NOT_MEASURED))
    blocks.append(Heading("Hostile and malformed inputs"))
    rows = []
    for entry in inputs:
        answers = entry["answers"]
        rows.append(
            [
                code(entry["probe"]),
                code(f"{entry['method']} {entry['path']}"),
                *(
                    f"{answers[a]['status']} {answers[a]['code']}".strip()
                    for a in ("flask", "django")
                    if a in answers
                ),
            ]
        )
    blocks.append(table_or_missing(["Input", "Request", "Flask", "Django"], rows))
    if rows:
        alike = sum(
            len({(a["status"], a["code"]) for a in e["answers"].values()}) == 1 for e in inputs
        )
        errors = sum(any(a["status"] >= 500 for a in e["answers"].values()) for e in inputs)
        blocks.append(
            Para(
                f"{len(inputs)} inputs, answered alike by both apps: {alike}; "
                f"answered with a 5xx: {errors}. The parity gate also compares the "
                "bodies byte for byte."
            )
        )
    return Section("Reliability and security", blocks)


def _parity(run: _Run) -> Section:
    parity = run.results.get("parity") or {}
    if not parity:
        return Section("Parity gate", [Para(NOT_MEASURED)])
    ok = bool(parity.get("ok"))
    items: list[Inline] = [
        (
            "Result: ",
            Span("passed" if ok else "FAILED", "pass" if ok else "fail"),
            " — every target gave the same answers to the same probes"
            if ok
            else " — the targets did not answer alike; their figures do not compare the same work",
        ),
        f"Probes: {parity.get('probes', MISSING)}",
        f"Targets: {', '.join(label(t) for t in parity.get('targets', [])) or MISSING}",
    ]
    differences = parity.get("differences") or []
    items.append(f"Differences: {len(differences) or 'none'}")
    blocks: list[Block] = [Bullets(items)]
    if differences:
        blocks.append(Bullets([code(fmt_value(d)) for d in differences]))
    return Section("Parity gate", blocks)


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    return next((mapping[k] for k in keys if k in mapping), None)


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _methodology(run: _Run) -> Section:
    config = run.results.get("config") or {}
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
        if "trials" in config:
            line += f" ({fmt_value(config['trials'])} configured)"
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
    if run.results.get("duration_s"):
        facts.append(f"The whole run took {run.results['duration_s'] / 60:.1f} min.")
    blocks: list[Block] = [Bullets(facts) if facts else Para(NOT_MEASURED)]
    settings = {k: v for k, v in config.items() if not _is_records(v)}
    rows: list[list[Inline]] = [[code(k), fmt_value(v)] for k, v in flatten(settings)]
    if rows:
        blocks += [Heading("Configuration"), Table(["Setting", "Value"], rows)]
    for key, records in config.items():
        if _is_records(records):
            # A list of records, such as the planned cells, reads best as its own table.
            columns = list(dict.fromkeys(k for record in records for k in record))
            table_rows: list[list[Inline]] = [
                [fmt_value(record.get(column, MISSING)) for column in columns] for record in records
            ]
            blocks += [Heading(f"Configuration: {key}"), Table(columns, table_rows)]
    return Section("Methodology", blocks)


def _join(parts: list[Span]) -> list[str | Span]:
    joined: list[str | Span] = []
    for i, part in enumerate(parts):
        joined += [", ", part] if i else [part]
    return joined


def _environment(run: _Run) -> Section:
    rows: list[list[Inline]] = [
        [code(k), fmt_value(v)] for k, v in flatten(run.results.get("environment") or {})
    ]
    return Section("Environment", [table_or_missing(["Key", "Value"], rows)])


SECTIONS = (
    _summary,
    _claims,
    _throughput,
    _calibration,
    _cpu,
    _memory,
    _startup,
    _loc,
    _dependencies,
    _reliability,
    _security,
    _parity,
    _methodology,
    _environment,
)


def document(results: Results) -> Document:
    """Build the report's sections from the results."""
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"results schema_version {version!r}; this renderer reads {SCHEMA_VERSION}"
        )
    run = _Run(results, aggregate.cells(results.get("phases") or []))
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


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = "\\`*_[]<>|#"


def md_escape(text: str) -> str:
    """Escape the characters GitHub markdown would read as markup."""
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in text)


def md_inline(content: Inline) -> str:
    """Render inline content as markdown."""
    if isinstance(content, tuple):
        return "".join(md_inline(part) for part in content)
    if isinstance(content, str):
        return md_escape(content)
    if content.role == "code":
        fence = "``" if "`" in content.text else "`"
        # GitHub splits table cells at every unescaped pipe, even inside code.
        return fence + content.text.replace("|", "\\|") + fence
    if content.role in ("strong", "flag", "fail"):
        return f"**{md_escape(content.text)}**"
    return md_escape(content.text)


def md_table(table: Table) -> str:
    """Render a table as a GitHub markdown table."""
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.headers))]
    lines = [
        "| " + " | ".join(md_escape(h) for h in table.headers) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        cells = [md_inline(c).replace("\n", " ") or " " for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(results: Results) -> str:
    """Render the results as a markdown report."""
    doc = document(results)
    out = [f"# {md_escape(doc.title)}", "", " · ".join(md_escape(m) for m in doc.meta), ""]
    if doc.note:
        out += [f"> **Note: {md_escape(doc.note)}**", ""]
    for section in doc.sections:
        out += [f"## {md_escape(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Chart):
                continue
            if isinstance(block, Heading):
                out.append(f"### {md_escape(block.text)}")
            elif isinstance(block, Para):
                out.append(md_inline(block.content))
            elif isinstance(block, Callout):
                out.append(f"> {md_inline(block.content)}")
            elif isinstance(block, Bullets):
                out += [f"- {md_inline(item)}" for item in block.items]
            else:
                out.append(md_table(block))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- HTML -------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1f2933; --muted: #5b6472; --rule: #dde1e6; --zebra: #f5f7f9; --accent: #2f63c7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fbfcfd;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 32px 28px 64px; background: #fff;
  min-height: 100vh; box-shadow: 0 0 0 1px var(--rule); }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
h2 { font-size: 1.3rem; margin: 44px 0 12px; padding-bottom: 6px;
  border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.02rem; margin: 24px 0 8px; color: var(--muted); }
p, li { max-width: 78ch; }
ul { padding-left: 1.3em; }
li { margin: 4px 0; }
.meta { color: var(--muted); margin: 0 0 18px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #aab1ba; }
.note { border: 2px solid #c0392b; background: #fdf0ee; color: #7b241c; border-radius: 8px;
  padding: 12px 16px; font-weight: 600; margin: 16px 0; }
nav { display: flex; flex-wrap: wrap; gap: 2px 16px; background: var(--zebra);
  border-radius: 8px; padding: 10px 16px; font-size: 0.9rem; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; line-height: 1.9; }
nav a:hover { text-decoration: underline; }
.table-wrap { overflow-x: auto; margin: 10px 0 14px; }
table { border-collapse: collapse; font-size: 0.86rem; min-width: 50%; }
th, td { padding: 6px 8px; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--rule); }
table.dense th, table.dense td { padding: 5px 6px; }
th { background: #eef1f4; font-weight: 600; vertical-align: bottom; }
tbody tr:nth-child(even) { background: var(--zebra); }
th.num { text-align: right; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 0.86em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #eef1f4; padding: 1px 5px; border-radius: 4px; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 0.8rem;
  font-weight: 600; white-space: nowrap; color: #fff; }
.badge.supported { background: #1e8e3e; }
.badge.contradicted { background: #c5221f; }
.badge.mixed { background: #e8a317; color: #3b2a00; }
.badge.not-measurable-here { background: #80868b; }
.flag { display: inline-block; padding: 1px 7px; border-radius: 4px; font-size: 0.78rem;
  font-weight: 600; background: #fff3cd; color: #7a5b00; border: 1px solid #f0d27a;
  white-space: nowrap; }
.pass { color: #1e7e34; font-weight: 600; }
.fail { color: #b3261e; font-weight: 600; }
figure { margin: 18px 0 22px; padding: 14px 14px 8px; border: 1px solid var(--rule);
  border-radius: 10px; background: #fff; }
figure svg { display: block; width: 100%; height: auto; max-width: 760px; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 0.86rem; margin-top: 6px; text-align: center; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.82rem; }
"""


def html_inline(content: Inline) -> str:
    """Render inline content as escaped HTML."""
    if isinstance(content, tuple):
        return "".join(html_inline(part) for part in content)
    if isinstance(content, str):
        return escape(content)
    text = escape(content.text)
    if content.role == "code":
        return f"<code>{text}</code>"
    if content.role == "strong":
        return f"<strong>{text}</strong>"
    if content.role == "verdict":
        return f'<span class="badge {escape(content.kind)}">{text}</span>'
    return f'<span class="{escape(content.role)}">{text}</span>'


def html_table(table: Table) -> str:
    """Render a table as HTML with right-aligned numeric columns."""

    def cls(i: int) -> str:
        return ' class="num"' if i in table.numeric else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(table.headers))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html_inline(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    dense = ' class="dense"' if len(table.headers) > 10 else ""
    return (
        f'<div class="table-wrap"><table{dense}>\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table></div>"
    )


def html_block(block: Block) -> str:
    """Render one block as HTML."""
    if isinstance(block, Chart):
        return f"<figure>\n{block.svg}\n<figcaption>{escape(block.caption)}</figcaption>\n</figure>"
    if isinstance(block, Heading):
        return f"<h3>{escape(block.text)}</h3>"
    if isinstance(block, Para):
        return f"<p>{html_inline(block.content)}</p>"
    if isinstance(block, Callout):
        return f'<p class="note">{html_inline(block.content)}</p>'
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{html_inline(i)}</li>" for i in block.items) + "\n</ul>"
    return html_table(block)


def render_html(results: Results) -> str:
    """Render the results as one self-contained HTML page with inline SVG charts."""
    doc = document(results)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{escape(doc.title)}</h1>",
        '<p class="meta">' + "".join(f"<span>{escape(m)}</span>" for m in doc.meta) + "</p>",
        "</header>",
    ]
    if doc.note:
        out.append(html_block(Callout(f"Note: {doc.note}")))
    links = "".join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in doc.sections)
    out.append(f'<nav aria-label="Sections">{links}</nav>')
    for section in doc.sections:
        out.append(f'<section id="{section.anchor}">')
        out.append(f"<h2>{escape(section.title)}</h2>")
        out += [html_block(block) for block in section.blocks]
        out.append("</section>")
    out += [
        "<footer>Rendered from results.json (schema "
        f"{escape(str(results['schema_version']))}).</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def write_reports(results: Results, run_dir: Path) -> tuple[Path, Path]:
    """Write report.md and report.html into the run directory and return their paths."""
    markdown, html = run_dir / "report.md", run_dir / "report.html"
    markdown.write_text(render_markdown(results), encoding="utf-8")
    html.write_text(render_html(results), encoding="utf-8")
    return markdown, html
