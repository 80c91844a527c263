"""The usual claims about Flask and Django, each tested against one run's figures.

Every claim is stated in the words it is made in (quoted from the article where it says it),
then answered by a question this benchmark measures, a deciding figure and the decision rule of
``benchmarks.analysis.decision``. Every verdict is computed from ``results.json`` alone, so a
stored run can be judged again (``analysis/judge.py``). Where this machine cannot produce the
evidence, the verdict says so instead of guessing; where a verdict follows from a choice this
project made rather than from a measurement, the claim's basis says "by design".
"""

from __future__ import annotations

from benchmarks.analysis import decision, ladders
from benchmarks.analysis.aggregate import cells as aggregate_cells
from benchmarks.analysis.claims_resources import lighter, scales
from benchmarks.analysis.evidence import (
    ARTICLE,
    Statement,
    aa_checks,
    aa_interval,
    claim_record,
    cost_row,
    mb,
    not_measured,
    timing,
)
from benchmarks.results.records import AACheck, Claim, CostRow, Interval, Results
from benchmarks.results.vocabulary import Verdict

HEAVY_MODEL_SHARE = 0.9  # "the model dominates": at least this share of a heavy request's work

FEWER_LINES = Statement(
    "fewer-lines",
    "Flask needs fewer lines of code",
    'Flask: "Fewer lines of code"; Django: "Lines of code are larger than Flask"',
    ARTICLE,
    "How many code lines does each app's own package take to serve the same contract?",
)
FASTER = Statement(
    "faster",
    "Flask answers faster",
    "Flask answers faster and serves more requests per second.",
    "",
    "How much work does one prediction cost each app, and how many does each serve a second?",
)
EXTENSIONS = Statement(
    "extensions-slow",
    "Extensions slow Flask down",
    "When there are too many extensions installed, the app will take longer to respond to queries.",
    ARTICLE,
    "How much does each of the six extensions of Flask's ladder, and all six, add to the work "
    "of one prediction in Flask?",
)
SECURE = Statement(
    "secure-by-default",
    "Django is secure by default",
    "Django is secure by default.",
    "",
    "Which protections does a minimal app of each framework give with no code of its own?",
)
BATTERIES = Statement(
    "batteries",
    "Django is batteries-included",
    "Django is batteries-included while Flask needs extensions.",
    "",
    "How many third-party extensions does each framework need for the same features?",
    "by design",
)
FOOTPRINT = Statement(
    "footprint",
    "Django's footprint is larger",
    "Django's footprint is larger.",
    "",
    "How many bytes does each framework install with its dependencies?",
)
MODEL = Statement(
    "model-dominates",
    "A heavy model dominates",
    "With a heavy model, the model, not the framework, dominates.",
    "",
    "With a heavy model, does the framework's difference fall below the minimum effect?",
    "by design",
)
DETERMINISTIC = (
    f"Deterministic: supported beyond {decision.MIN_EFFECT:.0%}, contradicted beyond it the other "
    "way, no difference within it."
)


def fewer_lines(results: Results) -> Claim:
    """Flask needs fewer lines of code for the same service."""
    flask, django = results["loc"]["flask"]["total"], results["loc"]["django"]["total"]
    verdict = decision.combine(decision.direction(django / flask), None)
    return claim_record(
        FEWER_LINES,
        verdict,
        f"{flask} vs {django} code lines",
        "Both serve the same contract with the same shared runtime; lines counted by pygount "
        "(no comments, docstrings or blank lines).",
        "Django/Flask code lines. " + DETERMINISTIC,
        ratio=django / flask,
        ratio_label="Django/Flask code lines",
        flask=f"{flask} lines",
        django=f"{django} lines",
    )


def _timed_part(
    results: Results, variant: str
) -> tuple[decision.Direction, str, str, Interval | None]:
    """Return the timed Flask/Django req/s of a one-row cell: its direction under the cell's
    A/A check, the interval in words, the gate in words, and the interval."""
    where = timing(results, variant, "predict_one")
    if where is None:
        return None, "", "not timed in this run", None
    found = decision.interval(where.ratios("flask", "django", variant, "predict_one"))
    aa = aa_interval(results, variant, "predict_one")
    by = "wrk" if where.source == "timed" else "Locust"
    words = decision.describe(found, f"timed Flask/Django req/s ({by}, {variant} model)")
    return decision.timed(found, aa), words, decision.gate(aa), found


def faster(results: Results) -> Claim:
    """Flask answers faster and serves more requests per second."""
    flask, django = (cost_row(results, t, "light", "predict_one") for t in ("flask", "django"))
    timed, interval, gate, found = _timed_part(results, "light")
    rule = (
        "Django/Flask instructions per one-row prediction (light model), deterministic; timed "
        "Flask/Django req/s as paired trials under the A/A gate. The instructions decide unless "
        "timing points the other way."
    )
    if not (flask and django) and not interval:
        return not_measured(FASTER, "No instruction count and no timed trial in this run.", rule)
    counted = (
        decision.direction(django["instructions"] / flask["instructions"])
        if flask and django
        else None
    )
    verdict = decision.combine(counted, timed)
    figure = (
        f"Django {django['instructions'] / flask['instructions']:.2f}x Flask's instructions"
        if flask and django
        else "no instruction count"
    )
    reason = f"Timed evidence: {gate}."
    if counted and timed == -counted:
        reason += " Timing points the other way beyond its noise: the two kinds disagree."
    return claim_record(
        FASTER,
        verdict,
        figure,
        reason,
        rule,
        ratio=django["instructions"] / flask["instructions"] if flask and django else None,
        ratio_label="Django/Flask instructions, light model",
        interval=interval,
        timed=found,
        timed_label="timed Flask/Django req/s, light model",
        flask=f"{flask['instructions'] / 1e6:.2f} M instructions" if flask else "-",
        django=f"{django['instructions'] / 1e6:.2f} M instructions" if django else "-",
    )


def extensions_slow(results: Results) -> Claim:
    """Extensions slow Flask's responses: Flask with its extensions against Flask without."""
    figures = ladders.extensions(results)
    rule = (
        "Instructions per one-row prediction (light model, callgrind) that Flask's six extension "
        "rungs add to the reference app, as a share of it. " + DETERMINISTIC
    )
    if figures is None:
        return not_measured(
            EXTENSIONS,
            "This run counted no ladder (the default run counts both).",
            rule,
        )
    share = figures["flask_added"] / figures["flask_reference"]
    per_rung = ", ".join(f"{name} {added / 1e6:+.2f} M" for name, added in figures["rungs"])
    shared = (
        f" Beside it, not deciding: the four features both ladders add (CORS, rate limit, "
        f"metrics, token) cost Flask {figures['flask_shared'] / 1e6:+.2f} M and Django "
        f"{figures['django_shared'] / 1e6:+.2f} M."
        if figures["flask_shared"] is not None and figures["django_shared"] is not None
        else ""
    )
    return claim_record(
        EXTENSIONS,
        decision.combine(decision.direction(1 + share), None),
        f"six extensions add {share:+.0%} to Flask's instructions",
        f"Per rung: {per_rung}.{shared}",
        rule,
        ratio=1 + share,
        ratio_label="Flask's instructions, six extensions/none",
        flask=f"{figures['flask_reference'] / 1e6:.2f} M alone, "
        f"{(figures['flask_reference'] + figures['flask_added']) / 1e6:.2f} M with six extensions",
        django="-",
    )


def secure_by_default(results: Results) -> Claim:
    """Django is secure by default."""
    apps = ("flask-default", "django-default")
    rule = (
        "Checks that apply to both default apps (a minimal app of each framework, no code of its "
        "own), each named by the risk it covers: supported when Django's passes more, "
        "contradicted when fewer, no difference when as many."
    )
    # A check that does not apply to one default app (passed is None) is left out for both.
    checks = [c for c in results["security"] if all(c["passed"].get(a) is not None for a in apps)]
    left_out = [c["check"] for c in results["security"] if c not in checks]
    passed = {app: [c["check"] for c in checks if c["passed"].get(app)] for app in apps}
    if not checks:
        return not_measured(
            SECURE,
            "No security check applies to both default apps in this run."
            if left_out
            else "No security probe in this run.",
            rule,
        )
    flask, django = len(passed["flask-default"]), len(passed["django-default"])
    verdict: Verdict = (
        "supported" if django > flask else "contradicted" if django < flask else "no difference"
    )
    only_django = sorted(set(passed["django-default"]) - set(passed["flask-default"]))
    only_flask = sorted(set(passed["flask-default"]) - set(passed["django-default"]))
    return claim_record(
        SECURE,
        verdict,
        f"{django} vs {flask} of {len(checks)} checks passed (Django vs Flask)",
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
        rule,
        ratio=django / flask if flask else None,
        ratio_label="Django/Flask security checks passed",
        flask=f"{flask}/{len(checks)} passed",
        django=f"{django}/{len(checks)} passed",
    )


def batteries(results: Results) -> Claim:
    """Django is batteries-included while Flask needs extensions."""
    verdict, f = ladders.batteries_verdict(results)
    rule = (
        "Third-party extensions each framework needs for the contract and the ladder's features, "
        "as this project's registry lists them: supported when Flask needs more."
    )
    if f is None:
        return not_measured(BATTERIES, "This run has no ladder.", rule)
    extensions = f["extensions"]
    unused, reference = f["django_unused_batteries"], f["django_reference"]
    cost = (
        f" Switched on and unused, startproject's defaults and DRF's default authentication "
        f"add {unused / 1e6:+.3f} M instructions ({unused / reference:+.1%}) to Django's request."
        if unused is not None and reference
        else ""
    )
    return claim_record(
        BATTERIES,
        verdict,
        f"{len(extensions['flask'])} vs {len(extensions['django'])} extensions (Flask vs Django)",
        "By design: the count follows from the features this project chose and the extensions "
        "it names for them. Built in on Django's side: "
        + (", ".join(f["built_in"]["django"]) or "none")
        + "; security headers and request validation are in its reference app."
        + cost,
        rule,
        flask=", ".join(extensions["flask"]) or "none",
        django=", ".join(extensions["django"]) or "none",
    )


def footprint_larger(results: Results) -> Claim:
    """Django's footprint is larger."""
    sizes = {fw: results["framework_footprint"][fw]["total_bytes"] for fw in ("flask", "django")}
    counts = {
        fw: len(results["framework_footprint"][fw]["distributions"]) for fw in ("flask", "django")
    }
    return claim_record(
        FOOTPRINT,
        decision.combine(decision.direction(sizes["django"] / max(sizes["flask"], 1)), None),
        f"{mb(sizes['django'])} vs {mb(sizes['flask'])} installed",
        "Next to numpy and scikit-learn both are small.",
        "Django/Flask installed bytes with dependencies. " + DETERMINISTIC,
        ratio=sizes["django"] / max(sizes["flask"], 1),
        ratio_label="Django/Flask installed bytes",
        flask=f"{mb(sizes['flask'])} in {counts['flask']} distributions",
        django=f"{mb(sizes['django'])} in {counts['django']} distributions",
    )


def model_dominates(results: Results) -> Claim:
    """When the model is heavy, the model, not the framework, dominates."""
    rule = (
        "Django/Flask instructions per one-row prediction with the heavy model within the "
        f"minimum effect, and the model at least {HEAVY_MODEL_SHARE:.0%} of a heavy request's "
        "instructions; timed Flask/Django req/s with the heavy model, under the A/A gate, must "
        "not find a difference."
    )
    found = {
        (t, v): cost_row(results, t, v, "predict_one")
        for t in ("flask", "django")
        for v in ("light", "heavy")
    }
    rows: dict[tuple[str, str], CostRow] = {k: r for k, r in found.items() if r is not None}
    timed, interval, gate, found_timed = _timed_part(results, "heavy")
    if len(rows) < len(found) and not interval:
        return not_measured(MODEL, "No instruction count and no heavy timed trial.", rule)
    counted: decision.Direction = None
    heavy_gap: float | None = None
    figure, words = "no instruction count", {"flask": "-", "django": "-"}
    if len(rows) == len(found):
        gap = {
            v: rows["django", v]["instructions"] / rows["flask", v]["instructions"]
            for v in ("light", "heavy")
        }
        share = {
            t: rows[t, "heavy"]["model_instructions"] / rows[t, "heavy"]["instructions"]
            for t in ("flask", "django")
        }
        closes = decision.direction(gap["heavy"]) == 0 and min(share.values()) >= HEAVY_MODEL_SHARE
        counted = 1 if closes else -1
        heavy_gap = gap["heavy"]
        figure = f"Django/Flask instructions {gap['light']:.2f}x light, {gap['heavy']:.2f}x heavy"
        words = {t: f"model {share[t]:.0%} of a heavy request" for t in share}
    # The claim is that the frameworks do not differ: timing that finds no difference supports
    # it, a difference either way contradicts it.
    agrees = None if timed is None else 1 if timed == 0 else -1
    verdict = decision.combine(counted, agrees)
    return claim_record(
        MODEL,
        verdict,
        figure,
        "By design: the heavy model (300 trees) was chosen to cost tens of times the framework's "
        f"work, so the share follows from that choice. Timed evidence: {gate}.",
        rule,
        ratio=heavy_gap,
        ratio_label="Django/Flask instructions, heavy model",
        interval=interval,
        timed=found_timed,
        timed_label="timed Flask/Django req/s, heavy model",
        flask=words["flask"],
        django=words["django"],
    )


def aa_check(results: Results) -> list[AACheck]:
    """Return the A/A check of every timed cell: the Flask app against itself as a second target.

    Its interval must contain 1; the distance of its far end from 1 is that cell's noise floor.
    """
    return aa_checks(results)


def evaluate(results: Results) -> list[Claim]:
    """Return every claim with its figures and verdict."""
    cells = aggregate_cells(results["phases"])
    return [
        fewer_lines(results),
        lighter(results, cells),
        faster(results),
        scales(results),
        extensions_slow(results),
        secure_by_default(results),
        batteries(results),
        footprint_larger(results),
        model_dominates(results),
    ]
