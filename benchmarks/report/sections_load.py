"""Sections on load: the summary, claims, throughput and latency, calibration, CPU per request."""

from __future__ import annotations

from typing import Literal

from benchmarks.analysis import aggregate
from benchmarks.analysis.aggregate import CellFigures
from benchmarks.report import charts
from benchmarks.report.formatting import (
    EN_DASH,
    GENERATOR_BOUND,
    GENERATOR_LIMITED,
    MISSING,
    MODEL_COLOUR,
    NOT_MEASURED,
    OTHER_COLOUR,
    PERCENTILE_LABELS,
    colour,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    fmt_share,
    fmt_us,
    label,
    ordered,
    plural,
)
from benchmarks.report.view import (
    Block,
    Bullets,
    Callout,
    Chart,
    Heading,
    Inline,
    Para,
    Run,
    Section,
    Span,
    Table,
    code,
    table_or_missing,
    verdict,
)
from benchmarks.results.records import Overhead
from benchmarks.results.vocabulary import SCENARIOS, VERDICTS


def _summary(run: Run) -> Section:
    bullets: list[Inline] = []
    users = aggregate.common_users(run.cells, "light", "predict_one")
    here = {t: c for t in run.targets if (c := run.cell(t, "light", "predict_one", users))}
    if here and users is not None:
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
    # A cell has a framework figure exactly where it has the model's (aggregate.summarise).
    flask_ms, django_ms = (c["model_ms_mean"] if c else None for c in (flask, django))
    if flask and django and flask_ms is not None and django_ms is not None:
        bullets.append(
            f"Server CPU per request outside the model (light, one row): Flask "
            f"{fmt_us(flask['framework_us'])} µs, Django {fmt_us(django['framework_us'])} µs"
            + _model_phrase(flask_ms, django_ms)
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


def _claims(run: Run) -> Section:
    rows: list[list[Inline]] = [
        [
            c["claim"],
            c["metric"],
            c["flask"],
            c["django"],
            verdict(c["verdict"]),
            c["reason"],
            c.get("interval") or EN_DASH,
        ]
        for c in run.results.get("claims") or []
    ]
    headers = ["Claim", "Metric", "Flask", "Django", "Verdict", "Reason", "Interval"]
    blocks: list[Block] = [table_or_missing(headers, rows)]
    rule = run.results.get("decision_rule")
    if rule:
        blocks.append(Para(("The decision rule, fixed before the run: ", rule)))
    aa = run.results.get("aa")
    if aa and (found := aa["interval"]):
        line = (
            f"A/A check: Flask measured twice, as {aa['target']}, through the same pipeline "
            f"({found['trials']:.0f} paired trials at {plural(aa['users'], 'user')}): "
            f"ratio {found['estimate']:.3f} (95% CI {found['low']:.3f}-{found['high']:.3f}). "
            f"Noise floor of this run: {aa['noise_floor']:.1%}; a timed difference smaller "
            "than that is not a finding."
        )
        if aa["differs"]:
            blocks.append(
                Callout(
                    "WARNING: the A/A pair differs: the same app measured twice gave an "
                    "interval that excludes 1. The timed figures of this run are not to be "
                    "trusted; the deterministic ones still are. " + line
                )
            )
        else:
            blocks.append(Para(line))
    elif aa:
        blocks.append(
            Para(
                f"A/A check: Flask measured twice, as {aa['target']}; "
                f"{plural(len(aa['ratios']), 'usable paired trial')}, too few for an interval, "
                "so this run has no measured noise floor."
            )
        )
    return Section("Claims", blocks)


def _throughput(run: Run) -> Section:
    section = Section("Throughput and latency")
    if not run.cells:
        section.blocks.append(Para(NOT_MEASURED))
        return section
    section.blocks += _throughput_charts(run)
    headers = ["Scenario", "Users", "Target", "Successful req/s median", f"min{EN_DASH}max"]
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
            row: list[Inline] = [code(scenario), str(users), label(target), fmt_rps(c["rps"])]
            row += [spread, *latency]
            rows.append([*row, failures, str(c["trials"]), flag])
        section.blocks.append(Heading(f"{variant.capitalize()} model"))
        section.blocks.append(Table(headers, rows, frozenset({1, *range(3, 12)})))
    # The runner records the threshold it applied; 0.9 is the schema's definition otherwise.
    threshold = (run.results.get("config") or {}).get("generator_bound_threshold", 0.9)
    section.blocks.append(
        Para(
            (
                "Successful req/s counts only the responses that were what the scenario "
                "expects, per second of the measured window; failures are counted apart. ",
                Span(GENERATOR_BOUND, "flag"),
                f" marks a cell where, in some trial, a Locust process used {fmt_share(threshold)} "
                "or more of one core (each Locust process is a single gevent loop: one core is "
                "all it can use, however many CPUs it was given), or where the CPUs given to "
                "Locust were that busy with anything: the load generator, not the server, was "
                "the limit, so that req/s "
                f"figure is a floor of the server's capacity. Min{EN_DASH}max: the lowest and "
                "highest trial, when there were several.",
            )
        )
    )
    section.blocks += _generator(run)
    return section


def _generator(run: Run) -> list[Block]:
    rows: list[list[Inline]] = []
    for (target, variant, scenario, users), c in run.cells.items():
        shares = ", ".join(
            f"{name} {fmt_share(share)}"
            for name, share in c["generator_cpu_util_by_process"].items()
        )
        flag: Inline = Span(GENERATOR_BOUND, "flag") if c["generator_bound"] else ""
        row: list[Inline] = [label(target), variant, code(scenario), str(users), shares or MISSING]
        rows.append([*row, fmt_share(c["load_cpus_busy"]), flag])
    if not rows:
        return []
    headers = ["Target", "Variant", "Scenario", "Users", "Locust CPU by process (of one core)"]
    headers += ["Load CPUs busy", "Flag"]
    note = (
        "Each Locust process's CPU time over the measured window divided by the window's "
        "length: its share of one core (local: a single process; master and worker-N: "
        "distributed Locust). Load CPUs busy: how busy all the CPUs given to the load "
        "generator and the runner were, with anything. Both are the busiest trial's."
    )
    return [Heading("The load generator"), Table(headers, rows, frozenset({3, 5})), Para(note)]


def _throughput_charts(run: Run) -> list[Block]:
    blocks: list[Block] = []
    users = aggregate.busiest_users(run.cells, "light")
    scenarios = ordered((c[2] for c in run.cells if c[1] == "light" and c[3] == users), SCENARIOS)
    if scenarios and users is not None:
        series = []
        for t in run.targets:
            found = [run.cell(t, "light", s, users) for s in scenarios]
            if any(found):
                series.append(
                    charts.Series(
                        label(t),
                        colour(t),
                        [_figure(c, "rps") for c in found],
                        [_figure(c, "rps_min") for c in found],
                        [_figure(c, "rps_max") for c in found],
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
    at = {t: c for t in run.targets if (c := run.cell(t, "light", "predict_one", users))}
    if at and users is not None:
        percentiles = aggregate.PERCENTILES[:-1]
        series = [
            charts.Series(label(t), colour(t), [c["latency_ms"][p] for p in percentiles])
            for t, c in at.items()
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
                [_figure(run.cell(t, "light", "predict_one", u), "rps") for u in levels],
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


def _figure(cell: CellFigures | None, key: Literal["rps", "rps_min", "rps_max"]) -> float | None:
    return cell[key] if cell else None


def _calibration(run: Run) -> Section:
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


def _at_common_users(run: Run, scenario: str) -> list[tuple[str, str, int, CellFigures]]:
    # One users level per variant, the highest every target reached, so targets compare alike.
    found = []
    for variant in run.variants:
        users = aggregate.common_users(run.cells, variant, scenario)
        for target in run.targets:
            c = run.cell(target, variant, scenario, users)
            if c and users is not None:
                found.append((target, variant, users, c))
    return found


def _cpu(run: Run) -> Section:
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
    stacked = [
        (t, v, model_ms * 1000, framework_us)
        for t, v, _, c in found
        if (model_ms := c["model_ms_mean"]) is not None
        and (framework_us := c["framework_us"]) is not None
    ]
    if stacked:
        categories = [f"{label(t)} · {v}" for t, v, _, _ in stacked]
        segments = [
            charts.Series("model", MODEL_COLOUR, [m for _, _, m, _ in stacked]),
            charts.Series(
                "framework",
                OTHER_COLOUR,
                [f for _, _, _, f in stacked],
                colours=[colour(t) for t, _, _, _ in stacked],
            ),
        ]
        legend = [("model", MODEL_COLOUR)] + [
            (f"framework: {label(t)}", colour(t)) for t in ordered(t for t, _, _, _ in stacked)
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
                "CPU is the CPU time of the whole gunicorn process tree over Locust's measured "
                "window (read by Locust itself as it reset its statistics after the warm-up and "
                "as its users, having finished the requests they had in flight, stopped) divided "
                "by the requests Locust counted in that window, failed or not; the model's "
                "share is the mean model duration each app reports in its Server-Timing "
                "header; the framework's share is the rest: everything a request costs the "
                "server outside the model. Users: the level every target was measured at with "
                "the most trials (the highest on a tie)."
            )
        )
    return Section("CPU per request", [*blocks, *in_process(run.results.get("overhead") or [])])


def in_process(overhead: list[Overhead]) -> list[Block]:
    """Return each target's cost per call in process, and each app's extra over the baseline."""
    found: dict[str, Overhead] = {r["target"]: r for r in overhead}
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


SECTIONS = (_summary, _claims, _throughput, _calibration, _cpu)
