"""Sections on what a request, a feature and a worker cost: instructions per request (each
target, then the ladders' features), capacity and cost per million, memory per added worker."""

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import ladders
from benchmarks.analysis import workers as fitted
from benchmarks.analysis.aggregate import Run
from benchmarks.cpus import CpuSet
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Column, Para
from benchmarks.results.records import Cost, CostRow, Ladders, Throughput, ThroughputSummary
from benchmarks.results.scaling import CapacityPoint, CapacityResults, Workers, WorkersFit
from benchmarks.results.vocabulary import FRAMEWORKS, Framework


def _rung(target: str, facts: f.Facts) -> bool:
    # The ladders' rungs have their own section.
    return (found := facts.get(target)) is not None and found["kind"] == "rung"


def _table(cost: Cost, facts: f.Facts, rungs: bool) -> view.Table:
    ratios = ladders.over_cost_baseline(cost["rows"], facts)

    def over_base(row: CostRow) -> str:
        return f.fmt_ratio(ratios[(row["target"], row["variant"], row["scenario"])])

    columns: list[Column[CostRow]] = [
        Column("Target", lambda r: f.label(r["target"], facts)),
        Column("Variant", lambda r: r["variant"]),
        Column("Scenario", lambda r: view.code(r["scenario"])),
        Column("Instructions", lambda r: f.fmt_count(r["instructions"]), True),
        Column("Model", lambda r: f.fmt_count(r["model_instructions"]), True),
        Column("Rest", lambda r: f.fmt_count(r["rest_instructions"]), True),
        Column("In gc", lambda r: f.fmt_count(r["gc_instructions"]), True),
        Column("vs baseline", over_base, True),
    ]
    rows = (r for r in cost["rows"] if rungs or not _rung(r["target"], facts))
    return view.tabulate(columns, rows)


def _chart(cost: Cost, facts: f.Facts) -> list[view.Block]:
    found = ladders.light_one(cost, facts)
    if not (names := f.by_framework(found, facts)):
        return []
    model = [found[n]["model_instructions"] / 1e6 for n in names]
    rest = [found[n]["rest_instructions"] / 1e6 for n in names]
    colours = [f.colour(n, facts) for n in names]
    segments = [
        charts.Series("model", f.MODEL_COLOUR, model),
        charts.Series("the rest of the request", colours[0], rest, colours=colours),
    ]
    legend = [("model", f.MODEL_COLOUR)]
    legend += [(f"rest: {f.label(n, facts)}", c) for n, c in zip(names, colours, strict=True)]
    labels = [f.label(n, facts) for n in names]
    return [charts.bars(charts.axes("cost.chart", legend), labels, segments, stack=True)]


def blocks(cost: Cost, facts: f.Facts, rungs: bool = False) -> list[view.Block]:
    """Return the chart, the counts (the ladders' rungs if asked; the facts tell) and start-up."""
    found = [*_chart(cost, facts), _table(cost, facts, rungs)]
    found.append(Para(f.prose("cost.counted", cost=cost)))
    if startup := cost["startup"]:
        names = f.by_framework((n for n in startup if rungs or not _rung(n, facts)), facts)
        counts: list[view.Inline] = [
            f"{f.label(n, facts)}: {f.fmt_count(startup[n])} instructions" for n in names
        ]
        found += [Para(f.prose("cost.startup")), view.Bullets(counts)]
    return found


def fmt_added(value: float | None, share: float | None = None) -> str:
    """Return what a rung adds: instructions, and its share of the rung below where given."""
    of = "" if share is None else f" ({share:+.1%})"
    return f.MISSING if value is None else f"{value / 1e6:+,.3f} M{of}"


def _ladder(framework: Framework, found: list[ladders.Step]) -> list[view.Block]:
    mine = [(s, n) for s in found if s["framework"] == framework and (n := s["instructions"])]
    if not mine:
        return []
    axes = charts.axes("ladders.chart", framework=f.FRAMEWORK_LABELS[framework])
    labels = [
        x if (x := s["feature"]) in ("floor", "app") else "+" + x.replace("_", " ") for s, _ in mine
    ]
    counts, colours = [n / 1e6 for _, n in mine], [f.colour(framework)] * len(mine)
    return [charts.bar_chart(axes, labels, counts, colours)]


def _features(found: list[ladders.Step], built_in: dict[str, dict[str, str]]) -> view.Table:
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


def _load(step: ladders.Step) -> ThroughputSummary | dict[str, None]:
    return step["load"] or {}


RUNG_COLUMNS: list[Column[ladders.Step]] = [
    Column("Rung", lambda s: view.code(s["target"])),
    Column("Instructions", lambda s: f.fmt_count(s["instructions"]), True),
    Column("Adds", lambda s: fmt_added(s["added"]), True),
    Column("Start-up", lambda s: f.fmt_count(s["startup_instructions"]), True),
    Column("Distributions added", lambda s: ", ".join(s["distributions_added"]) or f.MISSING),
    Column(
        "Installed", lambda s: f"{b / 1e3:,.0f} kB" if (b := s["bytes_added"]) else f.MISSING, True
    ),
    Column("Lines", lambda s: str(s["lines_added"] or f.MISSING), True),
    Column("req/s", lambda s: f.fmt_rps(_load(s).get("rps")), True),
    Column("CPU us/req", lambda s: f.fmt_us(_load(s).get("cpu_us_per_request")), True),
    Column("PSS", lambda s: f.fmt_mib(_load(s).get("pss_mib")), True),
]


def throughput(result: Throughput, facts: f.Facts) -> view.Table:
    """Return wrk's figures per target with its ratio to the baseline and, if it ran, its floor."""
    summary, ratios = result["summary"], ladders.over_baseline_and_floor(result, facts)
    columns: list[Column[str]] = [
        Column("Target", view.code),
        Column("req/s", lambda n: f.fmt_rps(summary[n]["rps"]), True),
        Column(f"min{f.EN_DASH}max", lambda n: f.fmt_range(summary[n]), True),
        Column("vs baseline", lambda n: f.fmt_ratio(ratios[n][0]), True),
        Column("vs floor", lambda n: f.fmt_ratio(ratios[n][1]), True),
        Column("p50 ms", lambda n: f.fmt_ms(summary[n]["p50_ms"]), True),
        Column("p99 ms", lambda n: f.fmt_ms(summary[n]["p99_ms"]), True),
        Column("CPU us/req", lambda n: f.fmt_us(summary[n]["cpu_us_per_request"]), True),
        Column("Errors", lambda n: f"{summary[n]['errors']:,.0f}", True),
    ]
    return view.tabulate(columns, summary)


def ladder_blocks(data: Ladders, found: list[ladders.Step]) -> list[view.Block]:
    """Return the ladders' charts, what each feature adds, and the rungs' figures."""
    load = data["load"]
    where = f.prose("ladders.load", load=load) if load else " (not measured in this run)"
    return [
        view.see("The ladders: what each production feature costs"),
        *(c for fw in FRAMEWORKS for c in _ladder(fw, found)),
        _features(found, data["built_in"]),
        view.tabulate(RUNG_COLUMNS, found),
        Para(f"req/s, CPU us/req and PSS: wrk against the rungs{where}."),
    ]


def cost_section(run: Run) -> view.Section:
    facts, cost = run.results["targets"], run.results.get("cost")
    return view.section("Instructions per request", cost, lambda found: blocks(found, facts))


def ladders_section(run: Run) -> view.Section:
    def build(data: Ladders) -> list[view.Block]:
        found = ladder_blocks(data, ladders.steps(run.results))
        if recording := ladders.metrics_cost(run.results):
            costs = "; ".join(f"{f.label(a)} {fmt_added(*added)}" for a, added in recording.items())
            found.append(Para(view.words("ladders.metrics", costs=costs)))
        return found

    return view.section("Extensions and batteries, priced", run.results.get("ladders"), build)


Summary = tuple[str, int, capacities.Summary]  # app, workers, the medians over its searches


_usd = f.fmt("${:,.4f}")


def _capped(s: Summary) -> str:
    return f.fmt_rps(s[2]["capacity_rps"]) + (" (capped)" if s[2]["capped"] else "")


COST_COLUMNS: list[Column[Summary]] = [
    Column("App", lambda s: f.label(s[0])),
    Column("Workers", lambda s: str(s[1]), True),
    Column("Capacity, req/s", _capped, True),
    Column("Trials", lambda s: ", ".join(f.fmt_rps(t or None) for t in s[2]["trials"]), True),
    Column("p99 ms there", lambda s: f.fmt_ms(s[2]["p99_ms_at_capacity"]), True),
    Column("CPU-s per million", lambda s: f.fmt_rps(s[2]["cpu_s_per_million"]), True),
    Column("$ per million (CPU used)", lambda s: _usd(s[2]["usd_per_million"]), True),
    Column("$ per million (vCPUs held)", lambda s: _usd(s[2]["usd_per_million_held"]), True),
]
# Each point beside the search, with where it was measured: "overload" or "nginx".
POINT_COLUMNS: list[Column[tuple[str, CapacityPoint]]] = [
    Column("App", lambda w: f.label(w[1]["app"])),
    Column("Where", lambda w: w[0]),
    Column("Offered", lambda w: f"{w[1]['factor']:g}x", True),
    Column("Offered req/s", lambda w: f.fmt_rps(w[1]["offered_rps"]), True),
    Column("Served req/s", lambda w: f.fmt_rps(w[1]["rps"]), True),
    Column("p99 ms", lambda w: f.fmt_ms(w[1]["latency_ms"]["p99"]), True),
    Column("Failed", lambda w: str(w[1]["failures"]), True),
]


def _capacity_chart(capacity: CapacityResults, summary: list[Summary]) -> list[view.Block]:
    first = capacities.first_workers(capacity)
    marks = {app: s["capacity_rps"] for app, workers, s in summary if workers == first}
    curves = [
        charts.Curve(f.label(app), f.colour(app), points, marks.get(app))
        for app in capacities.apps(capacity)
        for points in [capacities.latency_curve(capacity, app, first)]
    ]
    axes = charts.axes("capacity.chart", c=capacity, first=first)
    return [charts.curves(axes, curves, target=capacity["latency_ms"])] if curves else []


def capacity_blocks(capacity: CapacityResults) -> list[view.Block]:
    """Return the latency curves, each app's capacity and cost, and the overload points."""
    by = sorted(capacities.summary(capacity).items(), key=lambda kv: (kv[0][1], kv[0][0]))
    summary = [(app, workers, s) for (app, workers), s in by]
    cpus = len(CpuSet.parse(capacity["server_cpus"]))
    counts = ", ".join(map(str, capacity["worker_counts"]))
    points = [("overload", p) for p in capacity["overload"]]
    points += [("nginx", p) for p in capacity["proxied"]]
    found: list[view.Block] = [
        *_capacity_chart(capacity, summary),
        view.tabulate(COST_COLUMNS, summary),
        Para(f.prose("capacity.rule", c=capacity)),
        Para(f.prose("capacity.where", c=capacity, cpus=cpus, counts=counts)),
    ]
    if points:
        timeout = Para(f"A request unanswered after {capacity['timeout_s']:g} s fails.")
        found += [view.tabulate(POINT_COLUMNS, points), timeout]
    return found


# Each app's colour for the light model with gc.freeze(), its framework's tint for the heavy one,
# and other hues without the freeze; the legend names every line.
FREEZE_OFF_COLOURS = {
    ("flask", "light"): "#c0392b",
    ("flask", "heavy"): "#e59866",
    ("django", "light"): "#7d3c98",
    ("django", "heavy"): "#c39bd3",
}


def _freeze(fit: WorkersFit) -> str:
    return "gc.freeze()" if fit["freeze"] else "no freeze"


def _curve(fit: WorkersFit) -> charts.Curve:
    app, own = fit["app"], f.colour(fit["app"])
    colour = f.TINTS.get(app, own) if fit["variant"] == "heavy" else own
    if not fit["freeze"]:
        colour = FREEZE_OFF_COLOURS.get((app, fit["variant"]), own)
    return charts.Curve(f"{f.label(app)}, {_freeze(fit)}", colour, fitted.totals(fit))


def _spread(fit: WorkersFit) -> str:
    anon = fit["spread_anon"]
    return f.fmt_share(fit["spread"]) + ("" if anon is None else f"; {anon:.1%}")


def _fits(workers: Workers) -> view.Table:
    def pss(n: int) -> Column[WorkersFit]:
        return Column(f"PSS {n} w MiB", lambda w: f.fmt_mib(dict(fitted.totals(w)).get(n)), True)

    columns: list[Column[WorkersFit]] = [
        Column("App", lambda w: f.label(w["app"])),
        Column("Variant", lambda w: w["variant"]),
        Column("Setting", lambda w: f"{'' if w['preload'] else 'no '}preload, {_freeze(w)}"),
        *map(pss, sorted({n for w in fitted.fits(workers) for n in w["counts"]})),
        Column("MiB per added worker", lambda w: f.fmt_mib(w["marginal_mib"]), True),
        Column("Anonymous MiB per added worker", lambda w: f.fmt_mib(w["marginal_anon_mib"]), True),
        Column("Workers per GiB", lambda w: f.fmt_us(w["workers_per_gib"]), True),
        Column("USS per worker MiB", lambda w: f.fmt_mib(fitted.worker_uss(workers, w)), True),
        Column("Spread between rounds", _spread, True),
    ]
    return view.tabulate(columns, fitted.fits(workers))


def workers_blocks(workers: Workers) -> list[view.Block]:
    """Return a chart per model variant, the fits, how they were measured, what freezing saves."""
    found: list[view.Block] = [
        charts.curves(charts.axes("workers.chart", variant=variant), [*map(_curve, shown)])
        for variant, shown in fitted.charted(workers).items()
    ]
    found += [_fits(workers), Para(f.prose("workers.plan", w=workers))]
    if savings := fitted.freeze_savings(workers):
        saved = "; ".join(
            f"{f.label(app)} {variant} {mib:+.2f} MiB ("
            + ("one round: no noise figure" if noise is None else f"noise {noise:.2f} MiB")
            + ")"
            for app, variant, mib, noise in savings
        )
        found.append(Para(f.prose("workers.freeze", saved=saved)))
    if unserved := sum(not all(row["served"]) for row in workers["rows"]):
        found.append(Para(f.prose("workers.unserved", unserved=unserved)))
    return found


def _searched(run: Run) -> CapacityResults | None:
    return found if (found := run.results.get("capacity")) and found["searches"] else None


def _fitted(run: Run) -> Workers | None:
    return found if (found := run.results.get("workers")) and found["fits"] else None


CAPACITY = view.part("Capacity and cost per million", _searched, capacity_blocks)
WORKERS = view.part("Memory per worker", _fitted, workers_blocks)
