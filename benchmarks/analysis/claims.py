"""The usual claims about Flask and Django, each tested against one run's figures.

Every verdict is computed from ``results.json`` (so a stored run can be judged again) under the
decision rule of ``benchmarks.analysis.decision``, fixed before the run: deterministic figures
(instructions, lines, bytes) decide on a 5% threshold, timed figures through paired per-trial
ratios and a 95% bootstrap interval. Where this machine cannot produce the evidence, the verdict
says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.analysis import decision, ladders
from benchmarks.analysis.aggregate import Cell, CellFigures
from benchmarks.analysis.aggregate import cells as aggregate_cells
from benchmarks.analysis.aggregate import common_users as users_level
from benchmarks.analysis.claims_resources import lighter, scales
from benchmarks.analysis.evidence import (
    claim_record,
    cost_row,
    find_cell,
    is_quick,
    mb,
)
from benchmarks.results.records import AACheck, Claim, CostRow, Results
from benchmarks.results.vocabulary import Verdict

Cells = Mapping[Cell, CellFigures]
AA_TARGET = "flask-twin"  # the Flask app again, measured as a separate target: the A/A check
HEAVY_MODEL_SHARE = 0.9  # "the model dominates": at least this share of a heavy request's work


def fewer_lines(results: Results) -> Claim:
    """Flask needs fewer lines of code for the same service."""
    flask, django = results["loc"]["flask"]["total"], results["loc"]["django"]["total"]
    verdict = decision.combine(decision.direction(django / flask), None, quick=False)
    if verdict == "supported":
        reason = f"Flask's app is {1 - flask / django:.0%} shorter."
    elif verdict == "contradicted":
        reason = f"Flask's app is {flask / django - 1:.0%} longer."
    else:
        reason = f"Within {decision.MIN_EFFECT:.0%} of each other."
    return claim_record(
        "fewer-lines",
        "Flask needs fewer lines of code for the same service.",
        "code lines of each app's own package (pygount: no comments, docstrings or blank lines)",
        f"{flask} lines",
        f"{django} lines",
        verdict,
        reason + " Both serve the same contract with the same shared runtime. Deterministic.",
    )


def faster(results: Results, cells: Cells) -> Claim:
    """Flask answers faster and serves more requests per second."""
    claim = "Flask answers faster and serves more requests per second."
    users = users_level(cells, "light", "predict_one")
    flask, django = (cost_row(results, t, "light", "predict_one") for t in ("flask", "django"))
    if users is None and not (flask and django):
        return claim_record(
            "faster",
            claim,
            "req/s",
            "-",
            "-",
            "not measurable here",
            "This run measured no light predict_one phase and counted no instructions.",
        )
    counted = (
        decision.direction(django["instructions"] / flask["instructions"])
        if flask and django
        else None
    )
    found = None
    if users is not None:
        found = decision.interval(
            decision.paired(results["phases"], "flask", "django", ("light", "predict_one", users))
        )
    verdict = decision.combine(counted, decision.interval_direction(found), is_quick(results))
    figures = {}
    for target, row in (("flask", flask), ("django", django)):
        cell = (
            find_cell(cells, target, "light", "predict_one", users) if users is not None else None
        )
        parts = []
        if row:
            parts.append(f"{row['instructions'] / 1e6:.2f} M instructions")
        if cell:
            parts.append(f"{cell['rps']:.0f} req/s, p50 {cell['latency_ms']['p50']:.2f} ms")
        figures[target] = ", ".join(parts) or "-"
    reason = (
        f"Django executes {django['instructions'] / flask['instructions']:.2f}x Flask's "
        "instructions per request (deterministic)."
        if flask and django
        else "No instruction count in this run."
    )
    if found and decision.interval_direction(found) == -(counted or 0) and counted:
        reason += " The timed throughput points the other way beyond the minimum effect."
    return claim_record(
        "faster",
        claim,
        f"instructions per request, and paired req/s per trial at {users} users "
        "(light model, one row)",
        figures["flask"],
        figures["django"],
        verdict,
        reason,
        decision.describe(found, "Flask/Django req/s"),
    )


def extensions_slow(results: Results) -> Claim:
    """Adding extensions to Flask slows its responses."""
    claim = "Adding extensions to Flask slows its responses."
    verdict, f = ladders.extensions_verdict(results)
    every, reference = f["flask_all"], f["flask_reference"]
    flask_shared, django_shared = f["flask_shared"], f["django_shared"]
    if every is None or not reference or flask_shared is None or not django_shared:
        return claim_record(
            "extensions-slow",
            claim,
            "instructions per request along each framework's ladder",
            "-",
            "-",
            "not measurable here",
            "This run counted no ladder (the ladders need `python -m benchmarks cost` and "
            "`python -m benchmarks ladders`, both part of the default run).",
        )
    share = every / reference
    return claim_record(
        "extensions-slow",
        claim,
        "instructions per one-row prediction each rung adds (light model, callgrind)",
        f"{every / 1e6:+.3f} M (+{share:.1%}) for its six extensions; "
        f"{flask_shared / 1e6:+.3f} M for CORS, rate limit, metrics, token",
        f"{django_shared / 1e6:+.3f} M for CORS, throttling, metrics, token",
        verdict,
        f"Flask's extensions add {share:.1%} to its request; the four features both ladders add "
        f"cost Flask {flask_shared / django_shared:.2f}x what they cost Django. "
        "Rule: supported when the extensions add at least "
        f"{decision.MIN_EFFECT:.0%} and the shared features cost Flask at least "
        f"{decision.MIN_EFFECT:.0%} more than Django. Deterministic.",
    )


def secure_by_default(results: Results) -> Claim:
    """Django is secure by default."""
    apps = ("flask-default", "django-default")
    # A check that does not apply to one default app (passed is None) is left out for both.
    checks = [c for c in results["security"] if all(c["passed"].get(a) is not None for a in apps)]
    left_out = [c["check"] for c in results["security"] if c not in checks]
    passed = {app: [c["check"] for c in checks if c["passed"].get(app)] for app in apps}
    if not checks:
        return claim_record(
            "secure-by-default",
            "Django is secure by default.",
            "-",
            "-",
            "-",
            "not measurable here",
            "No security check applies to both default apps in this run."
            if left_out
            else "No security probe in this run.",
        )
    flask, django = len(passed["flask-default"]), len(passed["django-default"])
    verdict: Verdict = (
        "supported" if django > flask else "contradicted" if django < flask else "inconclusive"
    )
    only_django = sorted(set(passed["django-default"]) - set(passed["flask-default"]))
    only_flask = sorted(set(passed["flask-default"]) - set(passed["django-default"]))
    return claim_record(
        "secure-by-default",
        "Django is secure by default.",
        f"protective defaults of a minimal app of each framework ({len(checks)} checks)",
        f"{flask}/{len(checks)} passed",
        f"{django}/{len(checks)} passed",
        verdict,
        "Only Django's default app: "
        + (", ".join(only_django) or "nothing")
        + ". Only Flask's: "
        + (", ".join(only_flask) or "nothing")
        + "."
        + (
            f" Left out, not applicable to a default app: {', '.join(left_out)}."
            if left_out
            else ""
        )
        + " This project's two apps pass the same checks: Flask needed the code.",
    )


def batteries(results: Results) -> Claim:
    """Django is batteries-included while Flask needs extensions."""
    claim = "Django is batteries-included while Flask needs extensions."
    verdict, f = ladders.batteries_verdict(results)
    if f is None:
        flask = results["dependencies"]["flask"]["extensions"]
        django = results["dependencies"]["django"]["extensions"]
        return claim_record(
            "batteries",
            claim,
            "third-party add-ons each app needs to reach the same contract",
            ", ".join(flask) or "none",
            ", ".join(django) or "none",
            "inconclusive",
            "This run measured no ladder, so only the contract's features are compared: for a "
            "JSON API Django's batteries go unused and it needs Django REST framework; Flask "
            "needs no extension.",
        )
    extensions = f["extensions"]
    unused, reference = f["django_unused_batteries"], f["django_reference"]
    cost = (
        f" Switched on and unused, startproject's defaults and DRF's default authentication "
        f"add {unused / 1e6:+.3f} M instructions ({unused / reference:+.1%}) to Django's request."
        if unused is not None and reference
        else ""
    )
    return claim_record(
        "batteries",
        claim,
        "third-party extensions needed for the contract and the ladder's production features",
        f"{len(extensions['flask'])}: " + (", ".join(extensions["flask"]) or "none"),
        f"{len(extensions['django'])}: " + (", ".join(extensions["django"]) or "none"),
        verdict,
        "Built in on Django's side: "
        + (", ".join(f["built_in"]["django"]) or "none")
        + "; security headers and request validation are in its reference app. Rule: supported "
        "when Flask needs more extensions for the same features, contradicted when fewer. "
        "Deterministic." + cost,
    )


def footprint_larger(results: Results) -> Claim:
    """Django's footprint is larger."""
    sizes = {fw: results["framework_footprint"][fw]["total_bytes"] for fw in ("flask", "django")}
    counts = {
        fw: len(results["framework_footprint"][fw]["distributions"]) for fw in ("flask", "django")
    }
    verdict = decision.combine(
        decision.direction(sizes["django"] / max(sizes["flask"], 1)), None, quick=False
    )
    return claim_record(
        "footprint",
        "Django's footprint is larger.",
        "installed size of the framework with its dependencies",
        f"{mb(sizes['flask'])} in {counts['flask']} distributions",
        f"{mb(sizes['django'])} in {counts['django']} distributions",
        verdict,
        f"Django installs {sizes['django'] / max(sizes['flask'], 1):.1f}x Flask's "
        "bytes; next to numpy and scikit-learn both are small.",
    )


def model_dominates(results: Results, cells: Cells) -> Claim:
    """When the model is heavy, the model, not the framework, dominates."""
    claim = "With a heavy model, the model dominates, not the framework."
    found_rows = {
        (t, v): cost_row(results, t, v, "predict_one")
        for t in ("flask", "django")
        for v in ("light", "heavy")
    }
    rows: dict[tuple[str, str], CostRow] = {
        key: row for key, row in found_rows.items() if row is not None
    }
    users = users_level(cells, "heavy", "predict_one")
    counted = None
    words = {"flask": "-", "django": "-"}
    reason = "No instruction count in this run."
    if len(rows) == len(found_rows):
        gap = {
            v: rows["django", v]["instructions"] / rows["flask", v]["instructions"]
            for v in ("light", "heavy")
        }
        share = {
            t: rows[t, "heavy"]["model_instructions"] / rows[t, "heavy"]["instructions"]
            for t in ("flask", "django")
        }
        closes = decision.direction(gap["heavy"]) == 0 and min(share.values()) >= HEAVY_MODEL_SHARE
        counted = 1 if closes else -1 if decision.direction(gap["heavy"]) else 0
        words = {t: f"model {share[t]:.0%} of a heavy request's instructions" for t in share}
        reason = (
            f"Django executes {gap['light']:.2f}x Flask's instructions per one-row request with "
            f"the light model and {gap['heavy']:.2f}x with the heavy one (deterministic)."
        )
    found = None
    if users is not None:
        found = decision.interval(
            decision.paired(results["phases"], "flask", "django", ("heavy", "predict_one", users))
        )
    if counted is None and found is None:
        return claim_record(
            "model-dominates",
            claim,
            "-",
            "-",
            "-",
            "not measurable here",
            "This run counted no instructions and measured no heavy predict_one phase.",
        )
    verdict = decision.combine(counted, decision.within_effect(found), is_quick(results))
    return claim_record(
        "model-dominates",
        claim,
        "Django/Flask instructions per request, light vs heavy model, and the model's share "
        f"(at least {HEAVY_MODEL_SHARE:.0%}); paired req/s per trial with the heavy model, "
        f"which must stay within {decision.MIN_EFFECT:.0%}",
        words["flask"],
        words["django"],
        verdict,
        reason,
        decision.describe(found, "Flask/Django req/s, heavy model"),
    )


def aa_check(results: Results) -> AACheck | None:
    """Return the A/A check: Flask against itself as a second target, through the same pipeline.

    Its interval must contain 1; the distance of its far end from 1 is this run's noise floor.
    """
    cells = aggregate_cells(results["phases"])
    users = users_level(cells, "light", "predict_one")
    if users is None:
        return None
    ratios = decision.paired(results["phases"], "flask", AA_TARGET, ("light", "predict_one", users))
    if not any(p["target"] == AA_TARGET for p in results["phases"]):
        return None
    found = decision.interval(ratios)
    return {
        "target": AA_TARGET,
        "users": users,
        "ratios": ratios,
        "interval": found,
        "noise_floor": max(found["high"] - 1, 1 - found["low"]) if found else None,
        "differs": found is not None and not found["low"] <= 1 <= found["high"],
    }


def evaluate(results: Results) -> list[Claim]:
    """Return every claim with its figures and verdict."""
    cells = aggregate_cells(results["phases"])
    return [
        fewer_lines(results),
        lighter(results, cells),
        faster(results, cells),
        scales(results, cells),
        extensions_slow(results),
        secure_by_default(results),
        batteries(results),
        footprint_larger(results),
        model_dominates(results, cells),
    ]
