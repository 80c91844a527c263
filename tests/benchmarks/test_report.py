"""The report: both formats rendered from sample data, and the console tables."""

from __future__ import annotations

import copy
import re
from html import escape as html_escape
from pathlib import Path
from typing import get_type_hints

import pytest

from benchmarks import targets
from benchmarks.analysis import aggregate
from benchmarks.report import formatting, render, text, view
from benchmarks.report import sections_checks as checks
from benchmarks.report import sections_footprint as footprints
from benchmarks.report import sections_load as loads
from benchmarks.results import records, scaling, vocabulary
from benchmarks.results.records import Results

HEADLINE = ("flask", "light", "predict_one", 32)


def markdown_tables(markdown: str) -> list[list[str]]:
    """Return the markdown's tables, each as its list of lines."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def cell_count(line: str) -> int:
    """Count a markdown table row's cells, not splitting at escaped pipes."""
    assert line.startswith("|"), line
    assert line.endswith("|"), line
    return len(re.split(r"(?<!\\)\|", line)) - 2


def test_the_sample_is_complete_and_marked_synthetic(results: Results) -> None:
    assert results["note"] == "synthetic data for tests"
    parts = {
        "phases": records.Phase,
        "calibration": records.Calibration,
        "security": records.SecurityCheck,
        "claims": records.Claim,
        "overhead": records.Overhead,
    }
    # A run writes every key but the remote, peers and batching commands' own.
    assert set(get_type_hints(Results)) - {"remote", "peers", "batching"} <= set(results)
    for key, kind in parts.items():
        assert results[key]
        for record in results[key]:
            assert set(record) == set(get_type_hints(kind)), key
    for startup in results["startup"].values():
        assert set(startup) == set(get_type_hints(records.Startup))
    assert set(results["cost"]) == set(get_type_hints(records.Cost))
    for row in results["cost"]["rows"]:
        assert set(row) == set(get_type_hints(records.CostRow))
    for deps in results["dependencies"].values():
        assert set(deps) == set(get_type_hints(records.Dependencies))
    assert {c["verdict"] for c in results["claims"]} == set(vocabulary.VERDICTS)
    assert sum(p["generator_bound"] for p in results["phases"]) == 1
    assert any(c["generator_limited"] for c in results["calibration"])


# -- Markdown ---------------------------------------------------------------------------------


def test_markdown_shows_figures_computed_from_the_phases(results: Results) -> None:
    markdown = render.render_markdown(results)
    table = aggregate.cells(results["phases"])
    flask, django = table[HEADLINE], table[("django", *HEADLINE[1:])]
    assert f"Flask {formatting.fmt_rps(flask['rps'])} req/s" in markdown
    assert formatting.fmt_ratio(flask["rps"] / django["rps"]) in markdown
    low, high = formatting.fmt_rps(flask["rps_min"]), formatting.fmt_rps(flask["rps_max"])
    spread = f"{low}{formatting.EN_DASH}{high}"
    assert spread in markdown
    assert formatting.fmt_ms(flask["latency_ms"]["p999"]) in markdown
    assert f"| {formatting.fmt_us(flask['framework_us'])} |" in markdown
    assert "**generator-bound**" in markdown
    assert "**generator-limited**" in markdown
    counts = {v: sum(c["verdict"] == v for c in results["claims"]) for v in vocabulary.VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    assert f"tested against these figures: {tally}." in markdown
    for claim in results["claims"]:
        assert f"| {claim['verdict']} |" in markdown
    django_alone = results["framework_footprint"]["django"]["total_bytes"] / 1e6
    assert f"| Django | Django, asgiref, sqlparse | {django_alone:.2f} |" in markdown


def test_summary_follows_the_data_not_fixed_text(results: Results) -> None:
    before = render.render_markdown(results)
    for p in results["phases"]:
        if (p["target"], p["variant"], p["scenario"], p["users"]) == HEADLINE:
            p["rps"] *= 2
    after = render.render_markdown(results)
    rps = aggregate.cells(results["phases"])[HEADLINE]["rps"]
    assert f"Flask {formatting.fmt_rps(rps)} req/s" in after
    assert f"Flask {formatting.fmt_rps(rps)} req/s" not in before


def test_markdown_sections_come_in_order_after_a_prominent_note(results: Results) -> None:
    markdown = render.render_markdown(results)
    assert markdown.startswith(f"# {render.md_escape(render.document(results).title)}\n")
    titles = [s.title for s in render.document(results).sections]
    assert titles[:3] == ["Summary", "Claims", "Throughput and latency"]
    assert titles[-2:] == ["Methodology", "Environment"]
    positions = [markdown.index(f"\n## {title}\n") for title in titles]
    assert positions == sorted(positions)
    assert markdown.index("synthetic data for tests") < positions[0]


def test_markdown_tables_are_well_formed(results: Results) -> None:
    tables = markdown_tables(render.render_markdown(results))
    assert len(tables) >= 12
    for lines in tables:
        assert re.fullmatch(r"\|( -{3}:? \|)+", lines[1]), lines[1]
        assert {cell_count(line) for line in lines} == {cell_count(lines[0])}, lines[0]
        assert len(lines) > 2


def test_markdown_escapes_what_github_would_read_as_markup(results: Results) -> None:
    results["claims"][0]["reason"] = "a | b and __init__"
    markdown = render.render_markdown(results)
    assert r"a \| b and \_\_init\_\_" in markdown
    for lines in markdown_tables(markdown):
        assert {cell_count(line) for line in lines} == {cell_count(lines[0])}


# -- HTML -------------------------------------------------------------------------------------


def test_html_is_one_self_contained_file(results: Results) -> None:
    html = render.render_html(results)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\bsrc", html, re.IGNORECASE)
    assert "<link" not in html.lower()
    assert "@import" not in html
    assert "url(" not in html
    # The only addresses the sample holds are the claims' sources, shown as text; any other
    # would have come from the renderer.
    for source in {claim["source"] for claim in results["claims"] if claim["source"]}:
        html = html.replace(source, "")
    assert "http://" not in html
    assert "https://" not in html


def test_html_has_titled_charts_with_captions(results: Results) -> None:
    html = render.render_html(results)
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.DOTALL)
    assert len(svgs) >= 5
    for svg in svgs:
        assert re.match(r"<svg[^>]*>\s*<title>[^<]+</title>", svg)
        assert "<rect" in svg or "<polyline" in svg
    assert html.count("<figure>") == len(svgs) == html.count("<figcaption>")
    assert "requests per second" in html
    assert "response time (ms)" in html
    assert "CPU per request (µs)" in html
    assert "concurrent users (log scale)" in html
    for target in ("baseline", "flask", "django"):
        assert formatting.TARGET_COLOURS[target] in html


def test_the_report_opens_with_the_chart_of_the_deciding_figures(results: Results) -> None:
    html = render.render_html(results)
    first = html.index("<figure>")
    assert html.index("<h2>Summary</h2>") < first < html.index("<ul>")
    svg = re.search(r"<svg\b.*?</svg>", html[first:], re.DOTALL)
    assert svg is not None
    chart = svg.group()
    title = re.match(r"<svg[^>]*>\s*<title>([^<]+)</title>", chart)
    assert title is not None
    assert "deciding figure" in title.group(1)
    caption = html[first:].split("<figcaption>")[1].split("</figcaption>")[0]
    assert "whisker is the timed 95% interval" in caption
    assert "different figure from the dot" in caption
    ratios = [c for c in results["claims"] if c["ratio"] is not None]
    assert chart.count("<circle") == len(ratios) < len(results["claims"])
    for claim in ratios:
        assert f"<title>{html_escape(claim['claim'])}" in chart  # the row's dot, named
    assert chart.count("(by design)</text>") == sum(c["basis"] == "by design" for c in ratios)
    assert chart.count('fill="#fff"') == sum(c["basis"] == "by design" for c in ratios)
    assert "dot: Django/Flask instructions, light model" in chart  # faster: two figures, named
    assert "whisker: timed Flask/Django req/s, light model (95% CI)" in chart
    for verdict in {c["verdict"] for c in ratios}:
        assert f'stroke="{formatting.VERDICT_COLOURS[verdict]}"' in chart
    assert "no difference: 1/1.05 to 1.05" in chart  # the band of the minimum effect


def test_html_shows_the_same_sections_figures_and_badges(results: Results) -> None:
    html = render.render_html(results)
    titles = [s.title for s in render.document(results).sections]
    positions = [html.index(f"<h2>{title}</h2>") for title in titles]
    assert positions == sorted(positions)
    assert html.index('class="note"') < positions[0]
    assert "synthetic data for tests" in html
    rps = aggregate.cells(results["phases"])[HEADLINE]["rps"]
    assert f"Flask {formatting.fmt_rps(rps)} req/s" in html
    for kind in vocabulary.VERDICTS:
        assert f'<span class="badge {view.verdict(kind).kind}">' in html
    assert '<span class="flag">generator-bound</span>' in html


def test_html_escapes_text_from_the_results(results: Results) -> None:
    results["claims"][0]["claim"] = "<script>alert(1)</script>"
    results["environment"]["os"] = 'Linux "<b>"'
    html = render.render_html(results)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Linux &quot;&lt;b&gt;&quot;" in html


def test_html_is_one_file_that_fetches_nothing(results: Results) -> None:
    html = render.render_html(results)
    css = (Path(render.__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    assert f"<style>\n{css}</style>" in html
    assert not re.search(r"""(src|href)=["'](?!#)""", html)
    assert "url(" not in html
    assert "@import" not in html


# -- partial runs -----------------------------------------------------------------------------


def test_cpu_section_splits_the_in_process_costs(results: Results) -> None:
    markdown = render.render_markdown(results)
    cpu = markdown.split("## CPU per request")[1].split("\n## ")[0]
    assert "### In process, without server or network" in cpu
    # From the sample: Flask 430 - 290 = 140 over the baseline, 110 - 22 = 88 of it its own code.
    assert "Flask: 140 µs per prediction over the baseline, 88 µs in its own code and 52 µs" in cpu
    assert "Django: 270 µs per prediction over the baseline, 194 µs in its own code" in cpu
    assert f"| baseline | 7 | 290 | 22 | 240 | 230 | {formatting.MISSING} |" in cpu
    assert "| Flask | 62 | 430 | 110 | 265 | 222 | 0.3 |" in cpu


def test_a_run_without_the_in_process_split_still_renders(results: Results) -> None:
    del results["overhead"]  # runs made before it was measured
    markdown = render.render_markdown(results)
    assert "## CPU per request" in markdown
    assert "In process, without server or network" not in markdown


def test_a_run_without_calibration_or_start_up_still_renders(results: Results) -> None:
    results["calibration"] = []
    results["startup"] = {}
    markdown, html = render.render_markdown(results), render.render_html(results)
    for title in ("Calibration against wrk", "Start-up"):
        assert f"## {title}\n\n{formatting.NOT_MEASURED}\n" in markdown
        assert f"<h2>{title}</h2>\n<p>{formatting.NOT_MEASURED}</p>" in html
    assert "generator-limited" not in markdown.split("## Calibration")[0]


def test_a_run_that_measured_nothing_still_renders(results: Results) -> None:
    empty = copy.deepcopy(results)
    for key, value in empty.items():
        if isinstance(value, list | dict) and key != "environment":
            empty[key] = type(value)()
    markdown, html = render.render_markdown(empty), render.render_html(empty)
    assert markdown.count(formatting.NOT_MEASURED) >= 8
    assert "No load was measured in this run." in markdown
    assert "<svg" not in html
    assert html.count(formatting.NOT_MEASURED) == markdown.count(formatting.NOT_MEASURED)


def test_an_unknown_schema_version_is_refused(results: Results) -> None:
    results["schema_version"] = 99
    with pytest.raises(ValueError, match="schema_version 99"):
        render.render_markdown(results)


def test_write_reports_writes_both_files(results: Results, tmp_path: Path) -> None:
    markdown, html = render.write_reports(results, tmp_path)
    assert (markdown.name, html.name) == ("report.md", "report.html")
    assert markdown.read_text(encoding="utf-8") == render.render_markdown(results)
    assert html.read_text(encoding="utf-8") == render.render_html(results)


# -- console tables ---------------------------------------------------------------------------


def test_throughput_table_gives_each_app_its_ratio_to_its_floor() -> None:
    def row(rps: float) -> dict[str, float]:
        return dict.fromkeys(("p50_ms", "p99_ms", "cpu_us_per_request", "errors"), 1.0) | {
            "rps": rps,
            "rps_min": rps,
            "rps_max": rps,
        }

    result = {
        "scenario": "predict_one",
        "variant": "light",
        "trials": 1,
        "seconds": 1.0,
        "connections": 8,
        "server_cpus": "0",
        "load_cpus": "1",
        "summary": {"baseline": row(2000), "flask-floor": row(1600), "flask": row(1200)},
    }
    printed = text.throughput(result, targets.facts())
    lines = {line.split()[0]: line.split() for line in printed.splitlines()[2:]}
    times, missing = formatting.TIMES, formatting.MISSING
    assert lines["flask"][3:5] == [f"0.60{times}", f"0.75{times}"]  # 1200/2000 and 1200/1600
    assert lines["flask-floor"][3:5] == [f"0.80{times}", missing]
    assert lines["baseline"][3:5] == [f"1.00{times}", missing]


def test_relations_between_targets_come_from_the_facts_not_the_names(results: Results) -> None:
    renamed = {"flask-floor": "flask-minimal", "flask+cors": "flask-with-cors"}
    cost = results["cost"]
    for row in cost["rows"]:
        row["target"] = renamed.get(row["target"], row["target"])
    cost["startup"] = {renamed.get(n, n): count for n, count in cost["startup"].items()}
    facts = results["targets"]
    results["targets"] = {renamed.get(n, n): found for n, found in facts.items()}
    results["targets"]["flask"]["floor"] = "flask-minimal"
    markdown = render.render_markdown(results)
    section = markdown.split("## Instructions per request")[1].split("\n## ")[0]
    assert "| Flask floor | light |" in section  # its kind is floor, whatever its name
    assert "flask-with-cors" not in section  # a rung, though its name has no "+"
    assert re.search(r"\nflask-with-cors +light", text.cost(cost, results["targets"]))
    load = results["ladders"]["load"]
    assert load is not None
    load["summary"]["flask-minimal"] = load["summary"]["flask"] | {"rps": 2 * 610.0}
    load["summary"]["flask"]["rps"] = 610.0
    printed = text.throughput(load, results["targets"])
    flask = next(line for line in printed.splitlines() if line.startswith("flask "))
    assert f"0.50{formatting.TIMES}" in flask  # against the floor the facts name


def test_the_terminal_prints_the_reports_own_tables(results: Results) -> None:
    markdown = render.render_markdown(results)
    printed = {
        "cost": text.cost(results["cost"], results["targets"]),
        "capacity": text.capacity(results["capacity"]),
        "overhead": text.render(loads.in_process(results["overhead"], results["targets"])),
        "security": text.render(checks.security(results["security"])),
        "footprint": text.render(
            footprints.lines_of_code(results["loc"]),
            footprints.dependencies(results["dependencies"], results["framework_footprint"]),
        ),
        "soak": text.render(checks.soak(results["reliability"]["soak"], 60.0, 0.7)),
        "ladders": text.ladders(results["ladders"], results["targets"]),
    }
    for name, table in printed.items():
        assert "<svg" not in table, name
    # The same tables the report shows, their cells padded in columns.
    assert "Flask: 140 µs per prediction over the baseline" in printed["overhead"]
    assert "| Flask | 62 | 430 | 110 | 265 | 222 | 0.3 |" in markdown
    assert re.search(r"\nFlask +62 +430 +110 +265 +222 +0\.3\n", printed["overhead"])
    assert re.search(r"\nflask\+cors +light +predict_one +2\.59 M", printed["cost"])
    assert "flask+cors" not in markdown.split("## Instructions per request")[1].split("\n## ")[0]
    assert "✓ replaced" in printed["soak"]
    assert "Debug off by default" in printed["security"]
    assert re.search(r"\ntotal +133 +183\n", printed["footprint"])
    assert "Searched in 250 s." in printed["capacity"]
    assert re.search(r"\ndjango\+token +610 ", printed["ladders"])


def test_compare_prints_each_change_against_its_noise(results: Results) -> None:
    faster = copy.deepcopy(results)
    for phase in faster["phases"]:
        phase["rps"] *= 1.2
    printed = text.compare(results, faster)
    assert re.search(r"\nbaseline +light +health +8 +req/s .* \+20\.0% +5\.0% +CHANGED\n", printed)
    assert "within noise" in printed
    assert f"{len(results['claims'])} of {len(results['claims'])} verdicts held." in printed


def test_memory_per_worker_section_draws_each_setting_and_tabulates_the_slopes(
    results: Results,
) -> None:
    workers = results["workers"]
    for record in workers["rows"]:
        assert set(record) == set(get_type_hints(scaling.WorkersRow))
    for fit in workers["fits"]:
        assert set(fit) == set(get_type_hints(scaling.WorkersFit))
    assert set(workers) == set(get_type_hints(scaling.Workers))
    markdown = render.render_markdown(results)
    section = markdown.split("\n## Memory per worker\n")[1].split("\n## ")[0]
    (table,) = markdown_tables(section)
    assert len(table) == 2 + len(workers["fits"])
    flask = next(f for f in workers["fits"] if f["app"] == "flask" and not f["freeze"])
    assert formatting.fmt_mib(flask["marginal_mib"]) in table[2]
    assert f"{flask['workers_per_gib']:,.0f}" in table[2]
    assert "gc.freeze() before forking" in section
    html = render.render_html(results)
    chart = html.split("<h2>Memory per worker</h2>")[1].split("<h2>")[0]
    assert "<polyline" in chart
    assert chart.count("<polyline") == len(workers["fits"])
    assert "gunicorn workers" in chart
    assert "MiB per added worker" in text.workers(workers)


def test_a_run_without_the_workers_measurement_still_renders(results: Results) -> None:
    del results["workers"]
    markdown = render.render_markdown(results)
    section = markdown.split("\n## Memory per worker\n")[1].split("\n## ")[0]
    assert formatting.NOT_MEASURED in section
