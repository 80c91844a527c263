"""The ladders read from results: what each feature adds to a request, and the two claims on it.

A rung's cost is what it adds to the rung below: instructions per one-row prediction (light
model), counted by callgrind, so deterministic. The rules, fixed before any run:

- "Adding extensions to Flask slows its responses": supported when Flask's extensions together
  add at least ``MIN_EFFECT`` to Flask's instructions per request AND the features both ladders
  add as rungs (CORS, rate limiting, metrics, token authentication) cost Flask at least
  ``MIN_EFFECT`` more than Django; contradicted when they add less than ``MIN_EFFECT`` to Flask,
  or those features cost Django at least ``MIN_EFFECT`` more; otherwise inconclusive.
- "Django is batteries-included while Flask needs extensions": supported when reaching the same
  features (the reference app's, then the ladder's) takes Flask more third-party extensions than
  Django, contradicted when it takes fewer, inconclusive when as many. What the batteries cost
  when an API does not use them (the rungs that switch on ``startproject``'s defaults and DRF's
  default authentication) is reported beside it.
"""

from __future__ import annotations

from typing import Any

from benchmarks.analysis import decision

SHARED_RUNGS = ("cors", "limits", "metrics", "token")  # a rung on both ladders


def instructions(results: dict[str, Any]) -> dict[str, float]:
    """Return instructions per one-row light prediction by target, where counted."""
    return {
        row["target"]: row["instructions"]
        for row in (results.get("cost") or {}).get("rows", [])
        if (row["variant"], row["scenario"]) == ("light", "predict_one")
    }


def steps(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every rung with its figures and what it adds to the rung below (None: unknown)."""
    ladders = results.get("ladders") or {}
    counted = instructions(results)
    startup = (results.get("cost") or {}).get("startup") or {}
    load = (ladders.get("load") or {}).get("summary") or {}
    found: list[dict[str, Any]] = []
    below: dict[str, Any] | None = None
    for rung in ladders.get("rungs", []):
        if below is not None and below["framework"] != rung["framework"]:
            below = None
        count = counted.get(rung["target"])
        step = dict(rung) | {
            "instructions": count,
            "startup_instructions": startup.get(rung["target"]),
            "load": load.get(rung["target"]),
            "added": (
                count - below["instructions"]
                if below is not None and count is not None and below["instructions"] is not None
                else None
            ),
        }
        found.append(step)
        below = step
    return found


def metrics_cost(results: dict[str, Any]) -> dict[str, float]:
    """Return what each app's built-in ``/metrics`` recording adds to a one-row prediction:
    the app's count minus the count of the same app with it switched off."""
    counted = instructions(results)
    return {
        app: counted[app] - counted[f"{app}-no-metrics"]
        for app in ("flask", "django")
        if app in counted and f"{app}-no-metrics" in counted
    }


def _added(found: list[dict[str, Any]], framework: str, features: tuple[str, ...]) -> float | None:
    values = [s["added"] for s in found if s["framework"] == framework and s["feature"] in features]
    if len(values) != len(features) or None in values:
        return None
    return float(sum(values))


def _reference(found: list[dict[str, Any]], framework: str) -> float | None:
    for step in found:
        if (step["framework"], step["feature"]) == (framework, "app"):
            return step["instructions"]
    return None


def extensions_verdict(results: dict[str, Any]) -> tuple[str, dict[str, float | None]]:
    """Return the "extensions slow Flask" verdict and its figures."""
    found = steps(results)
    flask_features = tuple(
        s["feature"] for s in found if s["framework"] == "flask" and s["extension"]
    )
    figures: dict[str, float | None] = {
        "flask_reference": _reference(found, "flask"),
        "flask_all": _added(found, "flask", flask_features) if flask_features else None,
        "flask_shared": _added(found, "flask", SHARED_RUNGS),
        "django_shared": _added(found, "django", SHARED_RUNGS),
    }
    if None in figures.values() or not figures["flask_reference"]:
        return "not measurable here", figures
    share = figures["flask_all"] / figures["flask_reference"]
    slows = decision.direction(1 + share) == 1
    shared = figures["flask_shared"], figures["django_shared"]
    compared = decision.direction(shared[0] / shared[1]) if min(shared) > 0 else None
    if not slows or compared == -1:
        return "contradicted", figures
    if compared == 1:
        return "supported", figures
    return "inconclusive", figures


def batteries_verdict(results: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the "batteries included" verdict and its figures."""
    found = steps(results)
    if not found:
        return "not measurable here", {}
    apps = {app: results["dependencies"][app]["extensions"] for app in ("flask", "django")}
    extensions = {
        framework: [
            *apps[framework],
            *(s["extension"] for s in found if s["framework"] == framework and s["extension"]),
        ]
        for framework in ("flask", "django")
    }
    unused = _added(found, "django", ("defaults", "auth_defaults"))
    figures = {
        "extensions": extensions,
        "built_in": {
            framework: [
                s["title"]
                for s in found
                if s["framework"] == framework and "+" in s["target"] and not s["extension"]
            ]
            for framework in ("flask", "django")
        },
        "django_unused_batteries": unused,
        "django_reference": _reference(found, "django"),
    }
    flask, django = len(extensions["flask"]), len(extensions["django"])
    verdict = (
        "supported" if flask > django else "contradicted" if flask < django else "inconclusive"
    )
    return verdict, figures
