"""The ladders read from results: what each feature adds to a request, and the two claims on it.

A rung's cost is what it adds to the rung below: instructions per one-row prediction (light
model), counted by callgrind, so deterministic. What the claims read here:

- "When there are too many extensions installed, the app will take longer to respond": about
  Flask alone, so Flask with its extensions against Flask without (``extensions``); what the
  features both ladders add cost each framework is a figure beside it, not the verdict.
- "Django is batteries-included while Flask needs extensions": supported when reaching the same
  features (the reference app's, then the ladder's) takes Flask more third-party extensions than
  Django, contradicted when it takes fewer, no difference when as many. What the batteries cost
  when an API does not use them (the rungs that switch on ``startproject``'s defaults and DRF's
  default authentication) is reported beside it.
"""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import TypedDict

from benchmarks.analysis.aggregate import of_kind
from benchmarks.results.records import (
    Cost,
    CostRow,
    Ladders,
    Results,
    Rung,
    TargetFacts,
    Throughput,
    ThroughputSummary,
)
from benchmarks.results.vocabulary import Verdict

SHARED_RUNGS = ("cors", "limits", "metrics", "token")  # a rung on both ladders


class Step(Rung):
    """A rung with its figures and what it adds to the rung below (None: unknown)."""

    instructions: int | None  # per one-row light prediction
    startup_instructions: int | None
    load: ThroughputSummary | None
    added: int | None
    share: float | None  # what it adds over the rung below's count


class ExtensionsFigures(TypedDict):
    """The figures of "extensions slow Flask", instructions per one-row prediction."""

    flask_reference: float  # the reference app, no extension
    flask_added: float  # what Flask's extension rungs add together
    rungs: list[tuple[str, float]]  # each extension rung's feature and what it adds
    flask_shared: float | None  # what the features both ladders add cost Flask (not deciding)
    django_shared: float | None  # ... and Django


class BatteriesFigures(TypedDict):
    """The figures of "batteries included"."""

    extensions: dict[str, list[str]]  # framework -> every extension it needs
    built_in: dict[str, list[str]]  # framework -> the ladder's features it has built in
    django_unused_batteries: float | None  # what startproject's defaults add, unused
    django_reference: float | None


def instructions(results: Results) -> dict[str, int]:
    """Return instructions per one-row light prediction by target, where counted."""
    return _light_one(results.get("cost"))


def _light_one(cost: Cost | None) -> dict[str, int]:
    return {
        row["target"]: row["instructions"]
        for row in (cost["rows"] if cost else [])
        if (row["variant"], row["scenario"]) == ("light", "predict_one")
    }


def light_one(cost: Cost, facts: Mapping[str, TargetFacts]) -> dict[str, CostRow]:
    """Return the cost rows of one-row light predictions by target, the ladders' rungs left out
    (they have a section of their own)."""
    return {
        r["target"]: r
        for r in cost["rows"]
        if (r["variant"], r["scenario"]) == ("light", "predict_one")
        and ((found := facts.get(r["target"])) is None or found["kind"] != "rung")
    }


def steps(results: Results) -> list[Step]:
    """Return every rung with its figures and what it adds to the rung below (None: unknown)."""
    ladders = results.get("ladders")
    return climb(ladders, results.get("cost")) if ladders else []


def climb(ladders: Ladders, cost: Cost | None) -> list[Step]:
    """Return the ladders' rungs with the counts ``cost`` has of them (``steps`` of a run; the
    ``ladders`` command's own record has no counts)."""
    counted = _light_one(cost)
    startup = cost["startup"] if cost else {}
    load = ladders["load"]["summary"] if ladders["load"] else {}
    found: list[Step] = []
    below: Step | None = None
    for rung in ladders["rungs"]:
        if below is not None and below["framework"] != rung["framework"]:
            below = None
        count = counted.get(rung["target"])
        under = below["instructions"] if below is not None else None
        step: Step = {
            **rung,
            "instructions": count,
            "startup_instructions": startup.get(rung["target"]),
            "load": load.get(rung["target"]),
            "added": count - under if count is not None and under is not None else None,
            "share": (count - under) / under if count is not None and under else None,
        }
        found.append(step)
        below = step
    return found


def metrics_cost(results: Results) -> dict[str, tuple[int, float]]:
    """Return what each app's built-in ``/metrics`` recording adds to a one-row prediction, and
    its share of the rest: the app's count less, and over, the same app's with it switched off."""
    counted = instructions(results)
    if not counted:
        return {}
    return {
        app: (counted[app] - counted[name], (counted[app] - counted[name]) / counted[name])
        for name, facts in results["targets"].items()
        if facts["kind"] == "metrics-off"
        and (app := facts["app"]) is not None
        and app in counted
        and name in counted
    }


def _added(found: list[Step], framework: str, features: tuple[str, ...]) -> float | None:
    values = [s["added"] for s in found if s["framework"] == framework and s["feature"] in features]
    present = [v for v in values if v is not None]
    if len(values) != len(features) or len(present) != len(values):
        return None
    return float(sum(present))


def _reference(found: list[Step], framework: str) -> float | None:
    for step in found:
        if (step["framework"], step["feature"]) == (framework, "app"):
            count = step["instructions"]
            return float(count) if count is not None else None
    return None


def extensions(results: Results) -> ExtensionsFigures | None:
    """Return what Flask's extensions add to its request (None where a rung was not counted)."""
    found = steps(results)
    flask_rungs = [s for s in found if s["framework"] == "flask" and s["extension"]]
    reference = _reference(found, "flask")
    added = [(s["feature"], s["added"]) for s in flask_rungs]
    if not flask_rungs or not reference or any(a is None for _, a in added):
        return None
    rungs = [(feature, float(a)) for feature, a in added if a is not None]
    return {
        "flask_reference": reference,
        "flask_added": sum(a for _, a in rungs),
        "rungs": rungs,
        "flask_shared": _added(found, "flask", SHARED_RUNGS),
        "django_shared": _added(found, "django", SHARED_RUNGS),
    }


def batteries_verdict(results: Results) -> tuple[Verdict, BatteriesFigures | None]:
    """Return the "batteries included" verdict and its figures (None without a ladder)."""
    found = steps(results)
    if not found:
        return "not measured here", None
    apps = {app: results["dependencies"][app]["extensions"] for app in ("flask", "django")}
    extensions = {
        framework: [
            *apps[framework],
            *(s["extension"] for s in found if s["framework"] == framework and s["extension"]),
        ]
        for framework in ("flask", "django")
    }
    kinds = {name: facts["kind"] for name, facts in results["targets"].items()}
    figures: BatteriesFigures = {
        "extensions": extensions,
        "built_in": {
            framework: [
                s["title"]
                for s in found
                if s["framework"] == framework
                and kinds.get(s["target"]) == "rung"
                and not s["extension"]
            ]
            for framework in ("flask", "django")
        },
        "django_unused_batteries": _added(found, "django", ("defaults", "auth_defaults")),
        "django_reference": _reference(found, "django"),
    }
    flask, django = len(extensions["flask"]), len(extensions["django"])
    verdict: Verdict = (
        "supported" if flask > django else "contradicted" if flask < django else "no difference"
    )
    return verdict, figures


def over_baseline_and_floor(
    result: Throughput, facts: Mapping[str, TargetFacts]
) -> dict[str, tuple[float | None, float | None]]:
    """Return each target's req/s over the baseline's, and over its floor's where the facts name
    a floor that ran."""
    summary = result["summary"]
    base = summary[name]["rps"] if (name := of_kind(facts, "baseline")) in summary else None

    def over(name: str, below: str | None) -> float | None:
        bottom = summary[below]["rps"] if below in summary else None
        return summary[name]["rps"] / bottom if bottom else None

    return {
        name: (
            summary[name]["rps"] / base if base else None,
            over(name, found["floor"] if (found := facts.get(name)) else None),
        )
        for name in summary
    }


def over_cost_baseline(
    rows: list[CostRow], facts: Mapping[str, TargetFacts]
) -> dict[tuple[str, str, str], float | None]:
    """Return each cost row's instructions over the baseline's (as the facts name it) in its
    variant and scenario, by (target, variant, scenario)."""
    name = of_kind(facts, "baseline")
    base = {(r["variant"], r["scenario"]): r["instructions"] for r in rows if r["target"] == name}
    return {
        (r["target"], r["variant"], r["scenario"]): (
            r["instructions"] / found
            if (found := base.get((r["variant"], r["scenario"])))
            else None
        )
        for r in rows
    }
