"""The claims about resources: "Flask is lighter" (memory, start-up) and "Flask scales more
easily" (capacity at a latency target, workers, memory per added worker), under the decision rule
of ``benchmarks.analysis.decision``."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import decision
from benchmarks.analysis.aggregate import Cell, CellFigures
from benchmarks.analysis.aggregate import common_users as users_level
from benchmarks.analysis.evidence import claim_record, find_cell, is_quick, memory_mib
from benchmarks.analysis.workers import marginal
from benchmarks.results.records import Claim, Results
from benchmarks.results.scaling import CapacityResults, WorkersFit

Cells = Mapping[Cell, CellFigures]


def _startup_part(results: Results) -> tuple[int | None, str, str]:
    """Return start-up's direction (+1: Flask sooner), its figures in words and its interval."""
    startup = results["startup"]
    cost = results.get("cost")
    flask_count = cost["startup"].get("flask") if cost else None
    django_count = cost["startup"].get("django") if cost else None
    counted = (
        decision.direction(django_count / flask_count) if flask_count and django_count else None
    )
    found = None
    if {"flask", "django"} <= set(startup):
        pairs = zip(startup["django"]["seconds"], startup["flask"]["seconds"], strict=False)
        found = decision.interval([d / f for d, f in pairs if f > 0])
    verdict = decision.combine(counted, decision.interval_direction(found), is_quick(results))
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


def _memory_part(results: Results, cells: Cells) -> tuple[int | None, str, str]:
    """Return memory's direction (+1: Flask smaller), its figures in words and its interval."""
    users = users_level(cells, "light", "predict_one")
    if users is None:
        return None, "", ""
    ratios = decision.paired(
        results["phases"], "django", "flask", ("light", "predict_one", users), memory_mib
    )
    found = decision.interval(ratios)
    # The cells already hold each target's median over its trials.
    medians = {t: find_cell(cells, t, "light", "predict_one", users) for t in ("flask", "django")}
    words = ""
    if medians["flask"] and medians["django"]:
        words = (
            f"{medians['flask']['pss_mib_steady']:.0f} vs "
            f"{medians['django']['pss_mib_steady']:.0f} MiB per server"
        )
    part = decision.interval_direction(found)
    return part, words, decision.describe(found, "Django/Flask memory")


def _workers_fits(results: Results) -> dict[str, WorkersFit]:
    """Return each app's fit of memory over worker counts: light model, preloaded, and gc.freeze()
    as the run's gunicorn settings had it (where the measurement has that setting)."""
    workers = results.get("workers")
    if not workers:
        return {}
    fits = [f for f in workers["fits"] if f["variant"] == "light" and f["preload"]]
    configured = results["environment"]["gunicorn"]["gc_freeze"]
    if any(f["freeze"] == configured for f in fits):
        fits = [f for f in fits if f["freeze"] == configured]
    found: dict[str, WorkersFit] = {}
    for f in sorted(fits, key=lambda f: f["freeze"]):  # without the freeze first, if both
        found.setdefault(f["app"], f)
    return found


def at_count(fit: WorkersFit, count: int, anonymous: bool) -> float:
    """Return a fit's total PSS at ``count`` workers: measured, or on the fitted line."""
    totals = (fit["total_pss_anon_mib"] if anonymous else None) or fit["total_pss_mib"]
    if count in fit["counts"]:
        return totals[fit["counts"].index(count)]
    mean_n = sum(fit["counts"]) / len(fit["counts"])
    return sum(totals) / len(totals) + marginal(fit, anonymous) * (count - mean_n)


def _per_added_worker(
    fits: dict[str, WorkersFit],
) -> tuple[bool, dict[str, float], float | None]:
    """Return whether the fits are read in anonymous PSS (where both apps have it), each app's
    MiB per added worker, and the largest spread between rounds (None for a single round)."""
    anonymous = all(fits[a]["total_pss_anon_mib"] for a in ("flask", "django"))
    per_worker = {a: marginal(fits[a], anonymous) for a in ("flask", "django")}
    spreads = [
        spread
        for a in ("flask", "django")
        if (spread := fits[a]["spread_anon"] if anonymous else fits[a]["spread"]) is not None
    ]
    return anonymous, per_worker, max(spreads, default=None)


def _added_direction(per_worker: dict[str, float]) -> int | None:
    """Return +1 when Flask's added worker costs less beyond the minimum effect, -1 when
    Django's does, 0 for no difference, None when a figure is not positive."""
    if per_worker["flask"] <= 0 or per_worker["django"] <= 0:
        return None
    return decision.direction(per_worker["django"] / per_worker["flask"])


def _workers_memory_part(results: Results) -> tuple[int | None, str, str] | None:
    """Return memory's direction from ``python -m benchmarks workers`` (None where not measured).

    Memory is measured, not timed: it decides on the minimum effect like a deterministic figure,
    on the PSS of anonymous pages (the file pages' share moves with what else runs on the
    machine), at the run's default worker count; the memory one more worker costs must not
    point the other way, and the spread between rounds must stay below the minimum effect.
    """
    fits = _workers_fits(results)
    if set(fits) < {"flask", "django"}:
        return None
    workers = results.get("workers")
    count = (workers["default_workers"] if workers else 0) or 1
    anonymous, per_worker, spread = _per_added_worker(fits)
    total = {a: at_count(fits[a], count, anonymous) for a in fits}
    kind = "anonymous PSS" if anonymous else "PSS"
    words = (
        f"{total['flask']:.0f} vs {total['django']:.0f} MiB {kind} at {count} worker(s), "
        f"{per_worker['flask']:.1f} vs {per_worker['django']:.1f} MiB per added worker"
    )
    servers = decision.direction(total["django"] / total["flask"])
    noise = f"spread between rounds up to {spread:.1%}" if spread is not None else "one round"
    evidence = f"memory: measured, not timed (python -m benchmarks workers, {noise})"
    if spread is not None and spread > decision.MIN_EFFECT:
        return None, words + "; rounds spread beyond the minimum effect", evidence
    if servers and _added_direction(per_worker) == -servers:
        return None, words + "; the added worker points the other way", evidence
    return servers, words, evidence


def lighter(results: Results, cells: Cells) -> Claim:
    """Flask is lighter: less memory and faster start-up."""
    workers_part = _workers_memory_part(results)
    if workers_part is None:
        memory, memory_words, memory_interval = _memory_part(results, cells)
    else:
        memory, memory_words, memory_interval = workers_part
    boot, boot_words, boot_interval = _startup_part(results)
    if not memory_words and not boot_words:
        return claim_record(
            "lighter",
            "Flask is lighter: less memory and faster start-up.",
            "PSS of the server (master and workers); start to ready",
            "-",
            "-",
            "not measurable here",
            "This run measured no light predict_one phase and no start-up.",
        )
    verdict = decision.parts([memory, boot], is_quick(results))
    named = {
        1: "Flask's is smaller",
        -1: "Django's is smaller",
        0: "no difference beyond the minimum effect",
        None: "undecided",
    }
    return claim_record(
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


def _capacity_part(capacity: CapacityResults) -> tuple[int | None, str]:
    """Return the load part's direction (+1: Flask serves more at the target) and interval."""
    first = min(capacity.get("worker_counts") or [1])
    ratios = capacities.paired_ratios(capacity, "flask", "django", first)
    found = decision.widen(decision.interval(ratios), 1 + capacity["resolution"])
    return decision.interval_direction(found), decision.describe(
        found, f"Flask/Django capacity at {first} worker(s), widened by the resolution"
    )


def _workers_part(capacity: CapacityResults, server_cpus: int) -> tuple[int | None, str]:
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


def _memory_per_worker_part(results: Results) -> tuple[int | None, str]:
    """Return the memory-per-added-worker part: +1 when Flask's added worker costs less beyond
    the minimum effect, -1 when Django's does, 0 for no difference, None where not measured.

    Measured, not timed (``python -m benchmarks workers``): it decides on the minimum effect
    like a deterministic figure, on anonymous PSS where the run has it, unless the rounds
    spread beyond the minimum effect.
    """
    fits = _workers_fits(results)
    if set(fits) < {"flask", "django"}:
        return None, ""
    anonymous, per_worker, spread = _per_added_worker(fits)
    kind = "anonymous PSS" if anonymous else "PSS"
    words = (
        f"Memory per added worker: {per_worker['flask']:.1f} vs {per_worker['django']:.1f} "
        f"MiB {kind}"
    )
    if spread is not None and spread > decision.MIN_EFFECT:
        return None, words + " (rounds spread beyond the minimum effect)"
    direction = _added_direction(per_worker)
    return direction, words if direction is not None else words + " (not positive: no ratio)"


def scales(results: Results, cells: Cells) -> Claim:
    """Flask scales more easily with added load."""
    claim = "Flask scales more easily with added load."
    metric = (
        "open-loop capacity at the p99 target per server CPU (paired trials), and the capacity "
        "gained per added gunicorn worker (light model, one row). Rule: " + SCALES_RULE
    )
    server_cpus = len(results["environment"]["server_cpus"].split(","))
    capacity = results.get("capacity")
    if not capacity or not capacity["searches"]:
        return claim_record(
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
        for (name, count), row in sorted(found.items(), key=lambda kv: kv[0][1]):
            if name == app and (rps := row["capacity_rps"]):
                parts.append(f"{rps / server_cpus:,.0f} req/s per CPU at {count} worker(s)")
        figures[app] = "; ".join(parts) or "no rate passed"
    load, load_words = _capacity_part(capacity)
    workers, workers_words = _workers_part(capacity, server_cpus)
    memory, memory_words = _memory_per_worker_part(results)
    directions: list[int | None] = [load]
    if server_cpus >= 2:
        directions.append(workers)
    if memory is not None:
        directions.append(memory)
    verdict = decision.parts(directions, is_quick(results))
    named = {1: "Flask ahead", -1: "Django ahead", 0: "no difference", None: "undecided"}
    reason = (
        f"Load: {named[load]} at p99 <= {capacity['latency_ms']:g} ms. "
        + workers_words[0].upper()
        + workers_words[1:]
        + "."
        + (f" {memory_words}." if memory_words else " Memory per worker: not measured in this run.")
    )
    return claim_record(
        "scales",
        claim,
        metric,
        figures["flask"],
        figures["django"],
        verdict,
        reason,
        load_words,
    )
