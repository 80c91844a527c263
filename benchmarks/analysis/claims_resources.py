"""The claims about resources: "Flask is lighter" (memory, start-up) and "Flask scales more
easily" (capacity at a latency target, workers, memory per added worker), under the decision rule
of ``benchmarks.analysis.decision``."""

from __future__ import annotations

from benchmarks.analysis import capacity as capacities
from benchmarks.analysis import decision
from benchmarks.analysis.aggregate import common_users as users_level
from benchmarks.analysis.evidence import (
    ARTICLE,
    Cells,
    Statement,
    aa_interval,
    claim_record,
    find_cell,
    memory_mib,
    not_measured,
    twin,
)
from benchmarks.analysis.workers import marginal
from benchmarks.cpus import CpuSet
from benchmarks.results.records import Claim, Interval, Results
from benchmarks.results.scaling import CapacityResults, WorkersFit

LIGHTER = Statement(
    "lighter",
    "Flask is lighter",
    "Flask is lighter: less memory and faster start-up.",
    "",
    "How much memory does each server take, and how much work does each take to start?",
)
SCALES = Statement(
    "scales",
    "Flask scales more easily",
    "You can easily scale the server to handle increased load/traffic with Flask.",
    ARTICLE,
    "How much load does each app serve within a p99 latency target, how much does each added "
    "worker bring, and what memory does each added worker cost?",
)


def _startup_part(results: Results) -> tuple[decision.Direction, str, str, float | None]:
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
    words = []
    if flask_count and django_count:
        words.append(
            f"start-up {flask_count / 1e6:.0f} M vs {django_count / 1e6:.0f} M instructions"
        )
    if {"flask", "django"} <= set(startup):
        words.append(
            f"ready in {startup['flask']['median']:.2f} s vs {startup['django']['median']:.2f} s"
        )
    # Start-up seconds have no A/A twin, so they are shown and decide nothing: the instructions
    # counted from the shared stack to ready do.
    ratio = django_count / flask_count if flask_count and django_count else None
    seconds = decision.describe(found, "Django/Flask start-up seconds")
    return counted, "; ".join(words), seconds, ratio


# Direction, words, interval, the Django/Flask ratio, and each app's figure in words.
Memory = tuple[decision.Direction, str, str, float | None, dict[str, str]]


def _memory_part(results: Results, cells: Cells) -> Memory:
    """Return memory's direction (+1: Flask smaller), its figures in words, its interval and
    the Django/Flask ratio."""
    users = users_level(cells, "light", "predict_one")
    if users is None:
        return None, "", "", None, {}
    cell = {"variant": "light", "scenario": "predict_one", "users": users}
    memory = [{**phase, "memory": memory_mib(phase)} for phase in results["phases"]]
    found = decision.interval(decision.pairs(memory, "django", "flask", cell, "memory"))
    # The cells already hold each target's median over its trials.
    medians = {t: find_cell(cells, t, "light", "predict_one", users) for t in ("flask", "django")}
    words = ""
    if medians["flask"] and medians["django"]:
        words = (
            f"{medians['flask']['pss_mib_steady']:.0f} vs "
            f"{medians['django']['pss_mib_steady']:.0f} MiB per server"
        )
    # Memory is sampled, not timed: beyond the minimum effect it is a direction, within it none.
    part = (
        None
        if found is None
        else decision.beyond(found, decision.MIN_EFFECT)
        or (0 if decision.equivalent(found) else None)
    )
    ratio = found["estimate"] if found else None
    each = {t: f"{c['pss_mib_steady']:.0f} MiB per server" for t, c in medians.items() if c}
    return part, words, decision.describe(found, "Django/Flask memory"), ratio, each


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


def _workers_memory_part(results: Results) -> Memory | None:
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
    ratio = total["django"] / total["flask"]
    each = {
        a: f"{total[a]:.0f} MiB at {count} worker(s), {per_worker[a]:.1f} per added worker"
        for a in ("flask", "django")
    }
    if spread is not None and spread > decision.MIN_EFFECT:
        return None, words + "; rounds spread beyond the minimum effect", evidence, ratio, each
    if servers and _added_direction(per_worker) == -servers:
        return None, words + "; the added worker points the other way", evidence, ratio, each
    return servers, words, evidence, ratio, each


def lighter(results: Results, cells: Cells) -> Claim:
    """Flask is lighter: less memory and faster start-up."""
    workers_part = _workers_memory_part(results)
    memory, memory_words, memory_interval, memory_ratio, each = (
        _memory_part(results, cells) if workers_part is None else workers_part
    )
    boot, boot_words, boot_interval, boot_ratio = _startup_part(results)
    rule = (
        "Two parts. Memory: the server's PSS at the default worker count and per added worker "
        "(python -m benchmarks workers; measured, not timed: decides on the minimum effect "
        "unless its rounds spread beyond it), else Django/Flask PSS while serving. Start-up: "
        "Django/Flask instructions from the shared stack to ready (deterministic); the seconds "
        "are shown. Both parts must agree."
    )
    if not memory_words and not boot_words:
        return not_measured(LIGHTER, "This run measured no memory and no start-up.", rule)
    named: dict[decision.Direction, str] = {
        1: "Flask's is smaller",
        -1: "Django's is smaller",
        0: "no difference",
        None: "undecided",
    }
    memory_named = named[memory]
    boot_named = named[boot].replace("smaller", "lighter")
    figures = [
        f"Django/Flask memory {memory_ratio:.2f}x" if memory_ratio else "memory not measured",
        f"start-up instructions {boot_ratio:.2f}x" if boot_ratio else "start-up not counted",
    ]
    return claim_record(
        LIGHTER,
        decision.parts([memory, boot]),
        ", ".join(figures),
        f"Memory ({memory_words or 'not measured'}): {memory_named}. Start-up "
        f"({boot_words or 'not measured'}): {boot_named}. Most of a worker's memory is the "
        "shared model runtime.",
        rule,
        ratio=memory_ratio,
        ratio_label="Django/Flask memory (start-up in the table)",
        interval=f"{memory_interval}; {boot_interval}",
        flask=each.get("flask", "-"),
        django=each.get("django", "-"),
    )


SCALES_RULE = (
    "Up to three parts. Load: each app's capacity (the highest open-loop Poisson rate whose p99 "
    "stays within the target) per server CPU, searched in paired trials; the Flask/Django "
    "interval, widened at each end by the search's resolution, is timed evidence under an A/A "
    "gate: the capacity's own (Flask and its twin searched in the same trials, their interval "
    "widened alike) where the twin was searched, else the run's timed light one-row check. "
    "Workers: the capacity each added worker brings, Flask's over Django's, "
    "beyond the minimum effect times the resolution squared; it needs at least two server CPUs "
    "(added workers on one CPU share it) and is left out, named, where the run has one. Memory: "
    "what one more worker costs (measured, not timed; left out, named, where its rounds spread "
    "beyond the minimum effect). The parts that were measured must agree."
)


def _capacity_part(
    capacity: CapacityResults, aa: Interval | None
) -> tuple[decision.Direction, str, Interval | None]:
    """Return the load part's direction (+1: Flask serves more at the target) and interval."""
    first = capacities.first_workers(capacity)
    found = capacities.ratio_interval(capacity, "flask", "django")
    words = decision.describe(
        found, f"Flask/Django capacity at {first} worker(s), widened by the resolution"
    )
    return decision.timed(found, aa), words, found


def _load_gate(results: Results, capacity: CapacityResults) -> tuple[Interval | None, str]:
    """Return the load part's A/A interval and, in words, which check it is and what it says.

    The capacity's own A/A check where the twin was searched beside Flask: the same figure,
    measured the same way, in the same trials. Otherwise the run's timed light one-row check.
    """
    name = twin(results)
    if name is not None and capacities.searched(capacity, name):
        aa = capacities.ratio_interval(capacity, "flask", name)
        return aa, f"the capacity's own A/A check, Flask/{name} widened alike: " + decision.gate(aa)
    aa = aa_interval(results, "light", "predict_one")
    return aa, "the run's timed light one-row A/A check: " + decision.gate(aa)


def _workers_part(capacity: CapacityResults, server_cpus: int) -> tuple[int | None, str]:
    """Return the workers part's direction (+1: Flask gains more per added worker) in words."""
    gains = {app: capacities.gain_per_worker(capacity, app) for app in ("flask", "django")}
    if server_cpus < 2:
        return None, (
            f"workers: not measured here ({server_cpus} server CPU: added workers share it)"
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


def scales(results: Results) -> Claim:
    """Flask scales more easily with added load."""
    server_cpus = len(CpuSet.parse(results["environment"]["server_cpus"]))
    capacity = results.get("capacity")
    memory, memory_words = _memory_per_worker_part(results)
    if not capacity or not capacity["searches"]:
        return not_measured(
            SCALES,
            "This run searched no capacity (--no-capacity, or a run before it).",
            SCALES_RULE,
        )
    directions: list[decision.Direction] = []
    words: list[str] = []
    figures = {"flask": "-", "django": "-"}
    interval, timed = "", None
    named: dict[decision.Direction, str] = {
        1: "Flask ahead",
        -1: "Django ahead",
        0: "no difference",
        None: "undecided",
    }
    if capacity["searches"]:
        aa, gate = _load_gate(results, capacity)
        load, interval, timed = _capacity_part(capacity, aa)
        directions.append(load)
        words.append(f"Load: {named[load]} at p99 <= {capacity['latency_ms']:g} ms ({gate}).")
        found = capacities.summary(capacity)
        for app in ("flask", "django"):
            per_cpu = [
                f"{rps / server_cpus:,.0f} req/s per CPU at {count} worker(s)"
                for (name, count), row in sorted(found.items(), key=lambda kv: kv[0][1])
                if name == app and (rps := row["capacity_rps"])
            ]
            figures[app] = "; ".join(per_cpu) or "no rate passed"
        if server_cpus >= 2:
            workers, workers_words = _workers_part(capacity, server_cpus)
            directions.append(workers)
            words.append(workers_words[0].upper() + workers_words[1:] + ".")
    if server_cpus < 2:
        words.append(
            f"Workers: not measured here ({server_cpus} server CPU: added workers share it; "
            "it needs at least two)."
        )
    if memory_words:
        # A memory part whose rounds spread too far is named and left out, not counted against.
        if memory is not None:
            directions.append(memory)
        words.append(f"{memory_words}.")
    return claim_record(
        SCALES,
        decision.parts(directions),
        "; ".join(w.split(" (")[0].rstrip(".") for w in words if not w.startswith("Workers: not")),
        " ".join(words),
        SCALES_RULE,
        ratio=timed["estimate"] if timed else None,
        ratio_label="Flask/Django capacity at the p99 target",
        interval=interval,
        timed=timed,
        timed_label="the same, widened by the search's resolution",
        flask=figures["flask"],
        django=figures["django"],
    )
