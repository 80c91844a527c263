"""The section on the ladders: what each production feature adds to a request, per framework."""

from __future__ import annotations

from benchmarks.analysis import ladders
from benchmarks.analysis.aggregate import Run
from benchmarks.analysis.ladders import Step
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.sections_cost import fmt_count
from benchmarks.results.records import Ladders, Results, Throughput, ThroughputSummary
from benchmarks.results.vocabulary import FRAMEWORKS, Framework


def fmt_added(value: float | None, share: float | None = None) -> str:
    """Return what a rung adds: instructions, and its share of the rung below where given."""
    if value is None:
        return f.MISSING
    return f"{value / 1e6:+,.3f} M" + (f" ({share:+.1%})" if share is not None else "")


def _chart(framework: Framework, found: list[Step]) -> list[view.Block]:
    mine = [(s, n) for s in found if s["framework"] == framework and (n := s["instructions"])]
    if not mine:
        return []
    axes = charts.axes("ladders.chart", framework=f.FRAMEWORK_LABELS[framework])
    labels = [
        x if (x := s["feature"]) in ("floor", "app") else "+" + x.replace("_", " ") for s, _ in mine
    ]
    return [
        charts.bar_chart(
            axes, labels, [n / 1e6 for _, n in mine], [f.colour(framework)] * len(mine)
        )
    ]


def _features(found: list[Step], built_in: dict[str, dict[str, str]]) -> view.Table:
    by = {(s["framework"], s["feature"]): s for s in found}
    titles = {s["feature"]: s["title"] for s in found}
    features = [s["feature"] for s in found if s["feature"] not in ("floor", "app")]
    order = dict.fromkeys([*features, *built_in.get("django", {}), *built_in.get("flask", {})])

    def way(feature: str, framework: Framework) -> list[view.Inline]:
        if step := by.get((framework, feature)):
            how = step["how"] + ("" if step["extension"] else " (built in)")
            return [how, fmt_added(step["added"], step["share"])]
        if feature in built_in.get(framework, {}):
            return [built_in[framework][feature] + " (built in)", "in the app"]
        return ["none", f.MISSING]

    rows = [[titles.get(n, n), *way(n, "flask"), *way(n, "django")] for n in order]
    headers = ["Feature", "Flask's way", "Flask: adds", "Django's way", "Django: adds"]
    return view.Table(headers, rows, frozenset({2, 4}))


def _load(step: Step) -> ThroughputSummary | dict[str, None]:
    return step["load"] or {}


RUNG_COLUMNS: list[view.Column[Step]] = [
    view.Column("Rung", lambda s: view.code(s["target"])),
    view.Column("Instructions", lambda s: fmt_count(s["instructions"]), True),
    view.Column("Adds", lambda s: fmt_added(s["added"]), True),
    view.Column("Start-up", lambda s: fmt_count(s["startup_instructions"]), True),
    view.Column("Distributions added", lambda s: ", ".join(s["distributions_added"]) or f.MISSING),
    view.Column(
        "Installed", lambda s: f"{b / 1e3:,.0f} kB" if (b := s["bytes_added"]) else f.MISSING, True
    ),
    view.Column("Lines", lambda s: str(s["lines_added"] or f.MISSING), True),
    view.Column("req/s", lambda s: f.fmt_rps(_load(s).get("rps")), True),
    view.Column("CPU us/req", lambda s: f.fmt_us(_load(s).get("cpu_us_per_request")), True),
    view.Column("PSS", lambda s: f.fmt_mib(_load(s).get("pss_mib")), True),
]


def throughput(result: Throughput, facts: f.Facts) -> view.Table:
    """Return wrk's figures per target (``python -m benchmarks throughput``, the ladders' load)
    with each one's ratio to the baseline, and to its floor where the facts name one that ran."""
    summary, ratios = result["summary"], ladders.over_baseline_and_floor(result, facts)

    columns: list[view.Column[str]] = [
        view.Column("Target", view.code),
        view.Column("req/s", lambda n: f.fmt_rps(summary[n]["rps"]), True),
        view.Column(
            f"min{f.EN_DASH}max",
            lambda n: (
                f"{f.fmt_rps(summary[n]['rps_min'])}{f.EN_DASH}{f.fmt_rps(summary[n]['rps_max'])}"
            ),
            True,
        ),
        view.Column("vs baseline", lambda n: f.fmt_ratio(ratios[n][0]), True),
        view.Column("vs floor", lambda n: f.fmt_ratio(ratios[n][1]), True),
        view.Column("p50 ms", lambda n: f.fmt_ms(summary[n]["p50_ms"]), True),
        view.Column("p99 ms", lambda n: f.fmt_ms(summary[n]["p99_ms"]), True),
        view.Column("CPU us/req", lambda n: f.fmt_us(summary[n]["cpu_us_per_request"]), True),
        view.Column("Errors", lambda n: f"{summary[n]['errors']:,.0f}", True),
    ]
    return view.tabulate(columns, summary)


def blocks(data: Ladders, found: list[Step]) -> list[view.Block]:
    """Return the ladders' charts, what each feature adds, and the rungs' figures."""
    load = data["load"]
    where = f.prose("ladders.load", load=load) if load else " (not measured in this run)"
    return [
        view.see("The ladders: what each production feature costs"),
        *(c for fw in FRAMEWORKS for c in _chart(fw, found)),
        _features(found, data["built_in"]),
        view.tabulate(RUNG_COLUMNS, found),
        view.Para(f"req/s, CPU us/req and PSS: wrk against the rungs{where}."),
    ]


def _recording(results: Results) -> list[view.Block]:
    if not (recording := ladders.metrics_cost(results)):
        return []
    costs = "; ".join(f"{f.label(a)} {fmt_added(*added)}" for a, added in recording.items())
    return [
        view.Para(
            (
                "What the apps' built-in ",
                view.code("/metrics"),
                " recording costs a request (docs/metrics.md), the app against itself with ",
                view.code("MLAPI_METRICS_ENABLED=false"),
                f": {costs}.",
            )
        )
    ]


def _ladders(run: Run) -> view.Section:
    return view.section(
        "Extensions and batteries, priced",
        run.results.get("ladders"),
        lambda data: [*blocks(data, ladders.steps(run.results)), *_recording(run.results)],
    )


SECTIONS = (_ladders,)
