"""The ladders read from results: each rung's cost, and the two claims' rules on synthetic runs."""

from __future__ import annotations

import pytest

from benchmarks.analysis import claims, ladders
from benchmarks.report import render
from benchmarks.results.records import Results


def _set(results: Results, target: str, instructions: int) -> None:
    """Set a rung's count, moving every rung above it on its ladder by as much."""
    framework = results["targets"][target]["framework"]
    order = [r["target"] for r in results["ladders"]["rungs"] if r["framework"] == framework]
    counts = {r["target"]: r for r in results["cost"]["rows"] if r["scenario"] == "predict_one"}
    moved = instructions - counts[target]["instructions"]
    for name in order[order.index(target) :]:
        if (counts[name]["variant"]) == "light":
            counts[name]["instructions"] += moved


def _claim(results: Results, claim_id: str) -> dict:
    return next(c for c in claims.evaluate(results) if c["id"] == claim_id)


def test_each_rung_adds_what_it_costs_over_the_rung_below(results: Results) -> None:
    found = {s["target"]: s for s in ladders.steps(results)}
    assert found["flask-floor"]["added"] is None  # nothing below a floor
    assert found["flask"]["added"] == found["flask"]["instructions"] - 2_300_000
    assert found["flask+cors"]["added"] == 60_000
    assert found["django+token"]["added"] == 260_000
    cors = found["flask+cors"]
    assert cors["share"] == 60_000 / (cors["instructions"] - 60_000)  # of the rung below
    assert found["flask-floor"]["share"] is None
    assert found["flask+token"]["load"]["rps"] == 820.0
    assert found["flask+cors"]["load"] is None  # not under load in a default run
    assert found["flask+cors"]["startup_instructions"] > 0


def test_extensions_are_judged_on_flask_alone(results: Results) -> None:
    # The article's sentence is about Flask: Flask with its extensions against Flask without.
    figures = ladders.extensions(results)
    assert figures is not None
    assert [feature for feature, _ in figures["rungs"]] == [
        "cors",
        "headers",
        "validation",
        "limits",
        "metrics",
        "token",
    ]
    assert figures["flask_added"] == sum(added for _, added in figures["rungs"])
    share = figures["flask_added"] / figures["flask_reference"]
    claim = _claim(results, "extensions-slow")
    assert claim["verdict"] == ("supported" if share > 0.05 else "no difference")
    assert claim["source"].startswith("https://stackify.com/")
    # What the four shared features cost each framework stays beside it, not deciding: the
    # sample's Django pays more for them, and the verdict on Flask does not turn.
    assert figures["flask_shared"] == 490_000
    assert figures["django_shared"] == 670_000
    assert "not deciding" in claim["reason"]


@pytest.mark.parametrize(("added", "expected"), [(1_000, "no difference"), (40_000, "supported")])
def test_the_extensions_verdict_turns_on_what_they_add(
    results: Results, added: int, expected: str
) -> None:
    counts = ladders.instructions(results)
    step = 0
    for name in ("flask+cors", "flask+headers", "flask+validation"):
        step += added
        _set(results, name, counts["flask"] + step)
    for name in ("flask+limits", "flask+metrics", "flask+token"):
        step += added
        _set(results, name, counts["flask"] + step)
    assert _claim(results, "extensions-slow")["verdict"] == expected


def test_without_ladders_the_claims_say_so(results: Results) -> None:
    del results["ladders"]
    assert _claim(results, "extensions-slow")["verdict"] == "not measured here"
    assert _claim(results, "batteries")["verdict"] == "not measured here"
    results["ladders"] = {"rungs": [], "built_in": {}, "load": None}
    del results["cost"]
    assert ladders.extensions(results) is None


def test_batteries_claim_counts_extensions_on_each_side(results: Results) -> None:
    verdict, figures = ladders.batteries_verdict(results)
    # Flask: an extension per feature; Django: DRF, then CORS and metrics only.
    assert len(figures["extensions"]["flask"]) == 6
    assert figures["extensions"]["django"] == [
        "djangorestframework",
        "django-cors-headers",
        "django-prometheus",
    ]
    assert verdict == "supported"
    assert figures["django_unused_batteries"] == 190_000
    claim = _claim(results, "batteries")
    assert claim["verdict"] == "supported"
    assert "+0.190 M" in claim["reason"]


@pytest.mark.parametrize("extra", [3, 4])
def test_batteries_claim_turns_with_the_count(results: Results, extra: int) -> None:
    results["dependencies"]["django"]["extensions"] += [f"other-{i}" for i in range(extra)]
    assert ladders.batteries_verdict(results)[0] == (
        "no difference" if extra == 3 else "contradicted"
    )
    assert _claim(results, "batteries")["basis"] == "by design"


def test_the_report_shows_both_ladders_and_the_feature_table(results: Results) -> None:
    results["claims"] = claims.evaluate(results)
    markdown = render.render_markdown(results)
    assert "## Extensions and batteries, priced" in markdown
    for rung in ("flask+cors", "flask+token", "django+defaults", "django+token"):
        assert f"`{rung}`" in markdown
    assert "Flask-Limiter, in-memory storage" in markdown
    assert "+0.060 M" in markdown
    # The built-in /metrics: each app against itself with it switched off.
    assert ladders.metrics_cost(results) == {
        "flask": (2534376 - 2_480_000, (2534376 - 2_480_000) / 2_480_000),
        "django": (3127080 - 3_060_000, (3127080 - 3_060_000) / 3_060_000),
    }
    assert "Flask +0.054 M (+2.2%)" in markdown
    html = render.render_html(results)
    assert html.count("ladder: instructions per one-row prediction") >= 2  # a chart each
    assert "| rate limiting | Flask-Limiter, in-memory storage |" in markdown
