"""The usual claims about Flask and Django, each tested against one run's figures.

Every verdict is computed from ``results.json`` (so a stored run can be judged again) under the
decision rule of ``benchmarks.analysis.decision``, fixed before the run: deterministic figures
(instructions, lines, bytes) decide on a 5% threshold, timed figures through paired per-trial
ratios and a 95% bootstrap interval. Where this machine cannot produce the evidence, the verdict
says so instead of guessing.
"""

from __future__ import annotations

from typing import Any

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import decision, ladders
from benchmarks.analysis.aggregate import cells as aggregate_cells

AA_TARGET = "flask-twin"  # the Flask app again, measured as a separate target: the A/A check
HEAVY_MODEL_SHARE = 0.9  # "the model dominates": at least this share of a heavy request's work


def _cell(cells: dict, target: str, variant: str, scenario: str, users: int | None = None):
    """Return the cell for target/variant/scenario at ``users`` (default: the most trials)."""
    found = [
        (key, value)
        for key, value in cells.items()
        if key[:3] == (target, variant, scenario) and (users is None or key[3] == users)
    ]
    if not found:
        return None
    return max(found, key=lambda kv: (kv[1]["trials"], kv[0][3]))[1]


def _users(cells: dict, variant: str, scenario: str) -> int | None:
    """Return the users level of the Flask cell with the most trials."""
    found = [k for k in cells if k[:3] == ("flask", variant, scenario)]
    if not found:
        return None
    return max(found, key=lambda k: (cells[k]["trials"], k[3]))[3]


def _claim(
    id_: str,
    claim: str,
    metric: str,
    flask: str,
    django: str,
    verdict: str,
    reason: str,
    interval: str = "",
) -> dict[str, str]:
    return {
        "id": id_,
        "claim": claim,
        "metric": metric,
        "flask": flask,
        "django": django,
        "verdict": verdict,
        "reason": reason,
        "interval": interval,
    }


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _quick(results: dict[str, Any]) -> bool:
    return results.get("mode") == "quick"


def _instructions(results: dict[str, Any], target: str, variant: str, scenario: str):
    """Return a target's cost row (instructions per request) or None."""
    for row in (results.get("cost") or {}).get("rows", []):
        if (row["target"], row["variant"], row["scenario"]) == (target, variant, scenario):
            return row
    return None


def _memory_mib(phase: dict[str, Any]) -> float:
    """Return a phase's memory figure: the PSS of the server's processes, master and workers."""
    return phase["pss_mib_steady"]


def fewer_lines(results: dict[str, Any]) -> dict[str, str]:
    """Flask needs fewer lines of code for the same service."""
    flask, django = results["loc"]["flask"]["total"], results["loc"]["django"]["total"]
    verdict = decision.combine(decision.direction(django / flask), None, quick=False)
    if verdict == "supported":
        reason = f"Flask's app is {1 - flask / django:.0%} shorter."
    elif verdict == "contradicted":
        reason = f"Flask's app is {flask / django - 1:.0%} longer."
    else:
        reason = f"Within {decision.MIN_EFFECT:.0%} of each other."
    return _claim(
        "fewer-lines",
        "Flask needs fewer lines of code for the same service.",
        "code lines of each app's own package (pygount: no comments, docstrings or blank lines)",
        f"{flask} lines",
        f"{django} lines",
        verdict,
        reason + " Both serve the same contract with the same shared runtime. Deterministic.",
    )


def _startup_part(results: dict[str, Any]) -> tuple[int | None, str, str]:
    """Return start-up's direction (+1: Flask sooner), its figures in words and its interval."""
    startup = results.get("startup") or {}
    flask_count = (results.get("cost") or {}).get("startup", {}).get("flask")
    django_count = (results.get("cost") or {}).get("startup", {}).get("django")
    counted = (
        decision.direction(django_count / flask_count) if flask_count and django_count else None
    )
    found = None
    if {"flask", "django"} <= set(startup):
        pairs = zip(startup["django"]["seconds"], startup["flask"]["seconds"], strict=False)
        found = decision.interval([d / f for d, f in pairs if f > 0])
    verdict = decision.combine(counted, decision.interval_direction(found), _quick(results))
    words = []
    if flask_count and django_count:
        words.append(
            f"start-up {flask_count / 1e6:.0f} M vs {django_count / 1e6:.0f} M instructions"
        )
    if {"flask", "django"} <= set(startup):
        words.append(
            f"ready in {startup['flask']['median']:.2f} s vs {startup['django']['median']:.2f} s"
        )
    part = {"supported": 1, "contradicted": -1}.get(verdict, 0 if counted == 0 else None)
    return part, "; ".join(words), decision.describe(found, "Django/Flask start-up seconds")


def _memory_part(results: dict[str, Any], cells: dict) -> tuple[int | None, str, str]:
    """Return memory's direction (+1: Flask smaller), its figures in words and its interval."""
    users = _users(cells, "light", "predict_one")
    if users is None:
        return None, "", ""
    ratios = decision.paired(
        results["phases"], "django", "flask", ("light", "predict_one", users), _memory_mib
    )
    found = decision.interval(ratios)
    # The cells already hold each target's median over its trials.
    medians = {t: _cell(cells, t, "light", "predict_one", users) for t in ("flask", "django")}
    words = ""
    if medians["flask"] and medians["django"]:
        words = (
            f"{medians['flask']['pss_mib_steady']:.0f} vs "
            f"{medians['django']['pss_mib_steady']:.0f} MiB per server"
        )
    part = decision.interval_direction(found)
    return part, words, decision.describe(found, "Django/Flask memory")


def _workers_fits(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return each app's fit of memory over worker counts: light model, preloaded, and gc.freeze()
    as the run's gunicorn settings had it (where the measurement has that setting)."""
    fits = [
        f
        for f in (results.get("workers") or {}).get("fits", [])
        if f["variant"] == "light" and f["preload"]
    ]
    configured = (results.get("environment") or {}).get("gunicorn", {}).get("gc_freeze")
    if any(f["freeze"] == configured for f in fits):
        fits = [f for f in fits if f["freeze"] == configured]
    found: dict[str, dict[str, Any]] = {}
    for f in sorted(fits, key=lambda f: f["freeze"]):  # without the freeze first, if both
        found.setdefault(f["app"], f)
    return found


def at_count(fit: dict[str, Any], count: int, anonymous: bool) -> float:
    """Return a fit's total PSS at ``count`` workers: measured, or on the fitted line."""
    totals = fit["total_pss_anon_mib"] if anonymous else fit["total_pss_mib"]
    if count in fit["counts"]:
        return totals[fit["counts"].index(count)]
    slope = fit["marginal_anon_mib"] if anonymous else fit["marginal_mib"]
    mean_n = sum(fit["counts"]) / len(fit["counts"])
    return sum(totals) / len(totals) + slope * (count - mean_n)


def _workers_memory_part(results: dict[str, Any]) -> tuple[int | None, str, str] | None:
    """Return memory's direction from ``python -m benchmarks workers`` (None where not measured).

    Memory is measured, not timed: it decides on the minimum effect like a deterministic figure,
    on the PSS of anonymous pages (the file pages' share moves with what else runs on the
    machine), at the run's default worker count; the memory one more worker costs must not
    point the other way, and the spread between rounds must stay below the minimum effect.
    """
    fits = _workers_fits(results)
    if set(fits) < {"flask", "django"}:
        return None
    count = results["workers"].get("default_workers") or 1
    anonymous = all(fits[a].get("total_pss_anon_mib") for a in ("flask", "django"))
    total = {a: at_count(fits[a], count, anonymous) for a in fits}
    per_worker = {
        a: fits[a]["marginal_anon_mib"] if anonymous else fits[a]["marginal_mib"] for a in fits
    }
    spread = "spread_anon" if anonymous else "spread"
    spreads = [fits[a][spread] for a in ("flask", "django") if fits[a].get(spread) is not None]
    kind = "anonymous PSS" if anonymous else "PSS"
    words = (
        f"{total['flask']:.0f} vs {total['django']:.0f} MiB {kind} at {count} worker(s), "
        f"{per_worker['flask']:.1f} vs {per_worker['django']:.1f} MiB per added worker"
    )
    servers = decision.direction(total["django"] / total["flask"])
    added = (
        decision.direction(per_worker["django"] / per_worker["flask"])
        if per_worker["flask"] > 0 and per_worker["django"] > 0
        else None
    )
    noise = f"spread between rounds up to {max(spreads):.1%}" if spreads else "one round"
    evidence = f"memory: measured, not timed (python -m benchmarks workers, {noise})"
    if spreads and max(spreads) > decision.MIN_EFFECT:
        return None, words + "; rounds spread beyond the minimum effect", evidence
    if servers and added == -servers:
        return None, words + "; the added worker points the other way", evidence
    return servers, words, evidence


def lighter(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask is lighter: less memory and faster start-up."""
    workers_part = _workers_memory_part(results)
    if workers_part is None:
        memory, memory_words, memory_interval = _memory_part(results, cells)
    else:
        memory, memory_words, memory_interval = workers_part
    boot, boot_words, boot_interval = _startup_part(results)
    if not memory_words and not boot_words:
        return _claim(
            "lighter",
            "Flask is lighter: less memory and faster start-up.",
            "PSS of the server (master and workers); start to ready",
            "-",
            "-",
            "not measurable here",
            "This run measured no light predict_one phase and no start-up.",
        )
    verdict = decision.parts([memory, boot], _quick(results))
    named = {
        1: "Flask's is smaller",
        -1: "Django's is smaller",
        0: "no difference beyond the minimum effect",
        None: "undecided",
    }
    return _claim(
        "lighter",
        "Flask is lighter: less memory and faster start-up.",
        (
            "memory of the server at the default worker count and per added worker (light "
            "model, after serving one-row predictions)"
            if workers_part
            else "memory of the server's processes while serving (light model, predict_one)"
        )
        + "; start-up instructions from the shared stack, and seconds from process start to "
        "ready",
        "see reason",
        "see reason",
        verdict,
        f"Memory ({memory_words or 'not measured'}): {named[memory]}. Start-up "
        f"({boot_words or 'not measured'}): {named[boot].replace('smaller', 'faster')}. Both "
        "parts must agree for a verdict; most of a worker's memory is the shared model runtime.",
        f"{memory_interval}; {boot_interval}",
    )


def faster(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask answers faster and serves more requests per second."""
    claim = "Flask answers faster and serves more requests per second."
    users = _users(cells, "light", "predict_one")
    flask, django = (_instructions(results, t, "light", "predict_one") for t in ("flask", "django"))
    if users is None and not (flask and django):
        return _claim(
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
    verdict = decision.combine(counted, decision.interval_direction(found), _quick(results))
    figures = {}
    for target, row in (("flask", flask), ("django", django)):
        cell = _cell(cells, target, "light", "predict_one", users) if users is not None else None
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
    return _claim(
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


SCALES_RULE = (
    "Two parts, each timed. Load: each app's capacity (the highest open-loop Poisson rate "
    "whose p99 stays within the target) per server CPU, searched in paired trials run back to "
    "back in rotated order; the Flask/Django ratios' 95% bootstrap interval, widened at each "
    "end by the search's resolution (a capacity is known only within its last bracket), must "
    f"lie wholly beyond {decision.MIN_EFFECT:.0%}; fewer than {decision.MIN_TRIALS} paired "
    "trials decide nothing. Workers: capacity at the most workers over capacity at one, "
    "Flask's over Django's, must lie beyond the minimum effect times the resolution squared "
    "(one search per worker count); only with at least two server CPUs, since added workers "
    "on one CPU share it. Memory: the memory one more worker costs (measured, not timed: "
    "decides on the minimum effect), when the run measured it. "
    "The parts combine as any claim's parts do; a part this machine cannot measure is left "
    "out and said so."
)


def _capacity_part(capacity: dict[str, Any]) -> tuple[int | None, str]:
    """Return the load part's direction (+1: Flask serves more at the target) and interval."""
    first = min(capacity.get("worker_counts") or [1])
    ratios = capacities.paired_ratios(capacity, "flask", "django", first)
    found = decision.widen(decision.interval(ratios), 1 + capacity["resolution"])
    return decision.interval_direction(found), decision.describe(
        found, f"Flask/Django capacity at {first} worker(s), widened by the resolution"
    )


def _workers_part(capacity: dict[str, Any], server_cpus: int) -> tuple[int | None, str]:
    """Return the workers part's direction (+1: Flask gains more per added worker) in words."""
    gains = {app: capacities.gain_per_worker(capacity, app) for app in ("flask", "django")}
    if server_cpus < 2:
        return None, (
            f"workers: not measurable here ({server_cpus} server CPU: added workers share it)"
        )
    if gains["flask"] is None or gains["django"] is None:
        return None, "workers: fewer than two worker counts measured"
    counts = sorted(capacity["worker_counts"])
    scale = (1 + gains["flask"] * (counts[-1] - 1)) / (1 + gains["django"] * (counts[-1] - 1))
    threshold = (1 + decision.MIN_EFFECT) * (1 + capacity["resolution"]) ** 2
    part = 1 if scale > threshold else -1 if scale < 1 / threshold else 0
    return part, (
        f"workers: Flask/Django scaling from {counts[0]} to {counts[-1]} workers {scale:.2f}x "
        f"(decides beyond {threshold:.2f}x)"
    )


def _memory_per_worker_part(results: dict[str, Any]) -> tuple[int | None, str]:
    """Return the memory-per-added-worker part: +1 when Flask's added worker costs less beyond
    the minimum effect, -1 when Django's does, 0 for no difference, None where not measured.

    Measured, not timed (``python -m benchmarks workers``): it decides on the minimum effect
    like a deterministic figure, on anonymous PSS where the run has it, unless the rounds
    spread beyond the minimum effect.
    """
    fits = _workers_fits(results)
    if set(fits) < {"flask", "django"}:
        return None, ""
    anonymous = all(fits[a].get("total_pss_anon_mib") for a in ("flask", "django"))
    key, spread = ("marginal_anon_mib", "spread_anon") if anonymous else ("marginal_mib", "spread")
    flask, django = fits["flask"][key], fits["django"][key]
    kind = "anonymous PSS" if anonymous else "PSS"
    words = f"Memory per added worker: {flask:.1f} vs {django:.1f} MiB {kind}"
    spreads = [fits[a][spread] for a in ("flask", "django") if fits[a].get(spread) is not None]
    if spreads and max(spreads) > decision.MIN_EFFECT:
        return None, words + " (rounds spread beyond the minimum effect)"
    if flask <= 0 or django <= 0:
        return None, words + " (not positive: no ratio)"
    return decision.direction(django / flask), words


def scales(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask scales more easily with added load."""
    claim = "Flask scales more easily with added load."
    metric = (
        "open-loop capacity at the p99 target per server CPU (paired trials), and the capacity "
        "gained per added gunicorn worker (light model, one row). Rule: " + SCALES_RULE
    )
    server_cpus = len(str(results["environment"].get("server_cpus", "0")).split(","))
    capacity = results.get("capacity")
    if not capacity or not capacity.get("searches"):
        return _claim(
            "scales",
            claim,
            metric,
            "-",
            "-",
            "not measurable here",
            "This run searched no capacity (--no-capacity, or a run made before it).",
        )
    found = capacities.summary(capacity)
    figures = {}
    for app in ("flask", "django"):
        parts = []
        for (name, workers), row in sorted(found.items(), key=lambda kv: kv[0][1]):
            if name == app and row["capacity_rps"]:
                per_cpu = row["capacity_rps"] / server_cpus
                parts.append(f"{per_cpu:,.0f} req/s per CPU at {workers} worker(s)")
        figures[app] = "; ".join(parts) or "no rate passed"
    load, load_words = _capacity_part(capacity)
    workers, workers_words = _workers_part(capacity, server_cpus)
    memory, memory_words = _memory_per_worker_part(results)
    directions = [load]
    if server_cpus >= 2:
        directions.append(workers)
    if memory is not None:
        directions.append(memory)
    verdict = decision.parts(directions, _quick(results))
    named = {1: "Flask ahead", -1: "Django ahead", 0: "no difference", None: "undecided"}
    reason = (
        f"Load: {named[load]} at p99 <= {capacity['latency_ms']:g} ms. "
        + workers_words[0].upper()
        + workers_words[1:]
        + "."
        + (f" {memory_words}." if memory_words else " Memory per worker: not measured in this run.")
    )
    return _claim(
        "scales",
        claim,
        metric,
        figures["flask"],
        figures["django"],
        verdict,
        reason,
        load_words,
    )


def extensions_slow(results: dict[str, Any]) -> dict[str, str]:
    """Adding extensions to Flask slows its responses."""
    claim = "Adding extensions to Flask slows its responses."
    verdict, f = ladders.extensions_verdict(results)
    if verdict == "not measurable here":
        return _claim(
            "extensions-slow",
            claim,
            "instructions per request along each framework's ladder",
            "-",
            "-",
            verdict,
            "This run counted no ladder (the ladders need `python -m benchmarks cost` and "
            "`python -m benchmarks ladders`, both part of the default run).",
        )
    share = f["flask_all"] / f["flask_reference"]
    return _claim(
        "extensions-slow",
        claim,
        "instructions per one-row prediction each rung adds (light model, callgrind)",
        f"{f['flask_all'] / 1e6:+.3f} M (+{share:.1%}) for its six extensions; "
        f"{f['flask_shared'] / 1e6:+.3f} M for CORS, rate limit, metrics, token",
        f"{f['django_shared'] / 1e6:+.3f} M for CORS, throttling, metrics, token",
        verdict,
        f"Flask's extensions add {share:.1%} to its request; the four features both ladders add "
        f"cost Flask {f['flask_shared'] / f['django_shared']:.2f}x what they cost Django. "
        "Rule: supported when the extensions add at least "
        f"{decision.MIN_EFFECT:.0%} and the shared features cost Flask at least "
        f"{decision.MIN_EFFECT:.0%} more than Django. Deterministic.",
    )


def secure_by_default(results: dict[str, Any]) -> dict[str, str]:
    """Django is secure by default."""
    checks = results.get("security", [])
    passed = {
        app: [c["check"] for c in checks if c["passed"].get(app)]
        for app in ("flask-default", "django-default")
    }
    if not checks:
        return _claim(
            "secure-by-default",
            "Django is secure by default.",
            "-",
            "-",
            "-",
            "not measurable here",
            "No security probe in this run.",
        )
    flask, django = len(passed["flask-default"]), len(passed["django-default"])
    verdict = (
        "supported" if django > flask else "contradicted" if django < flask else "inconclusive"
    )
    only_django = sorted(set(passed["django-default"]) - set(passed["flask-default"]))
    return _claim(
        "secure-by-default",
        "Django is secure by default.",
        f"protective defaults of a minimal app of each framework ({len(checks)} checks)",
        f"{flask}/{len(checks)} passed",
        f"{django}/{len(checks)} passed",
        verdict,
        "Only Django's default app: "
        + (", ".join(only_django) or "nothing")
        + ". This project's two apps pass the same checks: Flask needed the code.",
    )


def batteries(results: dict[str, Any]) -> dict[str, str]:
    """Django is batteries-included while Flask needs extensions."""
    claim = "Django is batteries-included while Flask needs extensions."
    verdict, f = ladders.batteries_verdict(results)
    if verdict == "not measurable here":
        flask = results["dependencies"]["flask"]["extensions"]
        django = results["dependencies"]["django"]["extensions"]
        return _claim(
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
    return _claim(
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


def footprint_larger(results: dict[str, Any]) -> dict[str, str]:
    """Django's footprint is larger."""
    sizes = {fw: results["framework_footprint"][fw]["total_bytes"] for fw in ("flask", "django")}
    counts = {
        fw: len(results["framework_footprint"][fw]["distributions"]) for fw in ("flask", "django")
    }
    verdict = decision.combine(
        decision.direction(sizes["django"] / max(sizes["flask"], 1)), None, quick=False
    )
    return _claim(
        "footprint",
        "Django's footprint is larger.",
        "installed size of the framework with its dependencies",
        f"{_mb(sizes['flask'])} in {counts['flask']} distributions",
        f"{_mb(sizes['django'])} in {counts['django']} distributions",
        verdict,
        f"Django installs {sizes['django'] / max(sizes['flask'], 1):.1f}x Flask's "
        "bytes; next to numpy and scikit-learn both are small.",
    )


def model_dominates(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """When the model is heavy, the model, not the framework, dominates."""
    claim = "With a heavy model, the model dominates, not the framework."
    rows = {
        (t, v): _instructions(results, t, v, "predict_one")
        for t in ("flask", "django")
        for v in ("light", "heavy")
    }
    users = _users(cells, "heavy", "predict_one")
    counted = None
    words = {"flask": "-", "django": "-"}
    reason = "No instruction count in this run."
    if all(rows.values()):
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
        return _claim(
            "model-dominates",
            claim,
            "-",
            "-",
            "-",
            "not measurable here",
            "This run counted no instructions and measured no heavy predict_one phase.",
        )
    verdict = decision.combine(counted, decision.within_effect(found), _quick(results))
    return _claim(
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


def aa_check(results: dict[str, Any]) -> dict[str, Any] | None:
    """Return the A/A check: Flask against itself as a second target, through the same pipeline.

    Its interval must contain 1; the distance of its far end from 1 is this run's noise floor.
    """
    cells = aggregate_cells(results["phases"])
    users = _users(cells, "light", "predict_one")
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
        "differs": bool(found) and not found["low"] <= 1 <= found["high"],
    }


def evaluate(results: dict[str, Any]) -> list[dict[str, str]]:
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
