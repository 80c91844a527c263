"""The usual claims about Flask and Django, each tested against one run's figures.

Every verdict is computed from ``results.json`` (so a stored run can be judged again) and says
why; where this machine cannot produce the evidence, the verdict says so instead of guessing.
A difference counts only when it is larger than the spread measured between trials (and at
least ``MIN_EFFECT``).
"""

from __future__ import annotations

from typing import Any

from benchmarks.analysis.aggregate import cell_spread
from benchmarks.analysis.aggregate import cells as aggregate_cells

MIN_EFFECT = 0.03  # differences below 3% are not called differences, whatever the spread


def _beyond_noise(a: dict[str, Any], b: dict[str, Any], key: str = "rps") -> bool:
    """Return whether a's and b's figures differ by more than the trials' spread."""
    mean = (a[key] + b[key]) / 2
    if not mean:
        return False
    return abs(a[key] - b[key]) / mean > max(cell_spread(a), cell_spread(b), MIN_EFFECT)


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


def _claim(
    id_: str, claim: str, metric: str, flask: str, django: str, verdict: str, reason: str
) -> dict[str, str]:
    return {
        "id": id_,
        "claim": claim,
        "metric": metric,
        "flask": flask,
        "django": django,
        "verdict": verdict,
        "reason": reason,
    }


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def fewer_lines(results: dict[str, Any]) -> dict[str, str]:
    """Flask needs fewer lines of code for the same service."""
    flask, django = results["loc"]["flask"]["total"], results["loc"]["django"]["total"]
    if flask < 0.9 * django:
        verdict, reason = "supported", f"Flask's app is {1 - flask / django:.0%} shorter."
    elif flask > 1.1 * django:
        verdict, reason = "contradicted", f"Flask's app is {flask / django - 1:.0%} longer."
    else:
        verdict, reason = "mixed", "Within 10% of each other."
    return _claim(
        "fewer-lines",
        "Flask needs fewer lines of code for the same service.",
        "code lines of each app's own package (pygount: no comments, docstrings or blank lines)",
        f"{flask} lines",
        f"{django} lines",
        verdict,
        reason + " Both serve the same contract with the same shared runtime.",
    )


def lighter(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask is lighter: less memory and faster start-up."""
    memory = {t: _cell(cells, t, "light", "predict_one") for t in ("flask", "django")}
    startup = results.get("startup", {})
    if not all(memory.values()) or not {"flask", "django"} <= set(startup):
        return _claim(
            "lighter",
            "Flask is lighter: less memory and faster start-up.",
            "PSS of the server (master and workers); start to ready",
            "-",
            "-",
            "not measurable here",
            "This run measured no light predict_one phase or no start-up.",
        )
    rss = {t: memory[t]["pss_mib_steady"] for t in memory}
    boot = {t: startup[t]["median"] for t in ("flask", "django")}
    smaller_rss = rss["flask"] < rss["django"] * 0.95
    faster_boot = boot["flask"] < boot["django"] * 0.9
    larger_rss = rss["flask"] > rss["django"] * 1.05
    slower_boot = boot["flask"] > boot["django"] * 1.1
    if smaller_rss and faster_boot:
        verdict = "supported"
    elif larger_rss and slower_boot:
        verdict = "contradicted"
    else:
        verdict = "mixed"
    memory_diff = rss["django"] - rss["flask"]
    boot_diff = boot["django"] - boot["flask"]
    reason = (
        f"Flask's server (master and workers) holds {abs(memory_diff):.1f} MiB "
        f"{'less' if memory_diff >= 0 else 'more'} than Django's (PSS) and is ready "
        f"{abs(boot_diff):.2f} s {'sooner' if boot_diff >= 0 else 'later'}. Most of the memory "
        "is the shared model runtime (numpy, scikit-learn), the same in both."
    )
    return _claim(
        "lighter",
        "Flask is lighter: less memory and faster start-up.",
        "steady PSS of the whole server, master and workers, in MiB (light model, "
        "predict_one); median seconds from process start to first ready answer",
        f"{rss['flask']:.1f} MiB, {boot['flask']:.2f} s",
        f"{rss['django']:.1f} MiB, {boot['django']:.2f} s",
        verdict,
        reason,
    )


def faster(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask answers faster and serves more requests per second."""
    flask = _cell(cells, "flask", "light", "predict_one")
    django = _cell(cells, "django", "light", "predict_one")
    if not flask or not django:
        return _claim(
            "faster",
            "Flask answers faster and serves more requests per second.",
            "req/s and p50",
            "-",
            "-",
            "not measurable here",
            "This run measured no light predict_one phase.",
        )
    source = "Locust"
    users = next(k[3] for k, v in cells.items() if v is flask)
    wrk_rows = {
        row["target"]: row
        for row in results.get("calibration", [])
        if (row["variant"], row["scenario"], row["users"]) == ("light", "predict_one", users)
    }
    suspect = (
        flask["generator_bound"]
        or django["generator_bound"]
        or any(row["generator_limited"] for row in wrk_rows.values())
    )
    if suspect and {"flask", "django"} <= set(wrk_rows):
        # Locust could not load these targets fully: wrk's figure is the valid one. The spread
        # between Locust's trials still stands in for the noise of the machine.
        source = "wrk (Locust was generator-limited)"
        flask = {
            **flask,
            "rps": wrk_rows["flask"]["wrk_rps"],
            "latency_ms": wrk_rows["flask"]["wrk_latency_ms"],
        }
        django = {
            **django,
            "rps": wrk_rows["django"]["wrk_rps"],
            "latency_ms": wrk_rows["django"]["wrk_latency_ms"],
        }
    elif suspect:
        return _claim(
            "faster",
            "Flask answers faster and serves more requests per second.",
            "req/s and p50 (light model, one row)",
            f"{flask['rps']:.0f} req/s",
            f"{django['rps']:.0f} req/s",
            "not measurable here",
            "The load generator was the bottleneck and wrk did not measure this cell.",
        )
    more = flask["rps"] > django["rps"] and _beyond_noise(flask, django)
    fewer = flask["rps"] < django["rps"] and _beyond_noise(flask, django)
    quicker = flask["latency_ms"]["p50"] < django["latency_ms"]["p50"]
    if more and quicker:
        verdict = "supported"
    elif fewer and not quicker:
        verdict = "contradicted"
    else:
        verdict = "mixed"
    reason = (
        f"Flask served {flask['rps'] / django['rps']:.2f}x Django's requests per second; "
        f"server CPU per request {flask['server_cpu_us_per_request']:.0f} vs "
        f"{django['server_cpu_us_per_request']:.0f} us. Spread between trials: "
        f"{cell_spread(flask):.0%} (Flask), {cell_spread(django):.0%} (Django). Figures: {source}."
    )
    return _claim(
        "faster",
        "Flask answers faster and serves more requests per second.",
        f"req/s and p50/p99 latency, light model, one row per request, {users} users",
        f"{flask['rps']:.0f} req/s, p50 {flask['latency_ms']['p50']:.2f} ms, "
        f"p99 {flask['latency_ms']['p99']:.2f} ms",
        f"{django['rps']:.0f} req/s, p50 {django['latency_ms']['p50']:.2f} ms, "
        f"p99 {django['latency_ms']['p99']:.2f} ms",
        verdict,
        reason,
    )


def scales(results: dict[str, Any], cells: dict) -> dict[str, str]:
    """Flask scales more easily with added load."""
    server_cpus = len(str(results["environment"].get("server_cpus", "0")).split(","))
    levels = {}
    for target in ("flask", "django"):
        found = sorted(
            (k[3], v["rps"]) for k, v in cells.items() if k[:3] == (target, "light", "predict_one")
        )
        levels[target] = ", ".join(f"{rps:.0f} req/s at {users}" for users, rps in found)
    reason = (
        f"The servers had {server_cpus} CPU(s) (the others ran the load generator), so "
        "adding workers cannot add throughput here; the figures show throughput as "
        "concurrent users are added, which a saturated single CPU also caps."
    )
    return _claim(
        "scales",
        "Flask scales more easily with added load.",
        "req/s as users are added (light model, one row)",
        levels["flask"] or "-",
        levels["django"] or "-",
        "not measurable here" if server_cpus < 2 else "mixed",
        reason if server_cpus < 2 else "Compare the figures per level.",
    )


def extensions_slow(results: dict[str, Any]) -> dict[str, str]:
    """Adding extensions to Flask slows its responses."""
    used = results["dependencies"]["flask"]["extensions"]
    if not used:
        return _claim(
            "extensions-slow",
            "Adding extensions to Flask slows its responses.",
            "Flask with and without the extensions this project uses",
            "no extension used",
            "-",
            "not measurable here",
            "The Flask app reaches the whole contract with plain Flask and the shared "
            "runtime: there is no extension to add or remove.",
        )
    return _claim(
        "extensions-slow",
        "Adding extensions to Flask slows its responses.",
        "Flask with and without its extensions",
        ", ".join(used),
        "-",
        "not measurable here",
        "Not measured in this run.",
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
    verdict = "supported" if django > flask else "contradicted" if django < flask else "mixed"
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
    flask = results["dependencies"]["flask"]["extensions"]
    django = results["dependencies"]["django"]["extensions"]
    verdict = (
        "contradicted"
        if len(flask) < len(django)
        else "supported"
        if len(flask) > len(django)
        else "mixed"
    )
    return _claim(
        "batteries",
        "Django is batteries-included while Flask needs extensions.",
        "third-party add-ons each app needs to reach the same contract",
        ", ".join(flask) or "none",
        ", ".join(django) or "none",
        verdict,
        "For a JSON API Django's batteries (ORM, admin, sessions, templates) go "
        "unused and it needs Django REST framework; Flask needs no extension.",
    )


def footprint_larger(results: dict[str, Any]) -> dict[str, str]:
    """Django's footprint is larger."""
    sizes = {fw: results["framework_footprint"][fw]["total_bytes"] for fw in ("flask", "django")}
    counts = {
        fw: len(results["framework_footprint"][fw]["distributions"]) for fw in ("flask", "django")
    }
    verdict = (
        "supported"
        if sizes["django"] > 1.1 * sizes["flask"]
        else "contradicted"
        if sizes["django"] < 0.9 * sizes["flask"]
        else "mixed"
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
    figures = {}
    for variant in ("light", "heavy"):
        flask = _cell(cells, "flask", variant, "predict_one")
        django = _cell(cells, "django", variant, "predict_one")
        if not flask or not django:
            return _claim(
                "model-dominates",
                "With a heavy model, the model dominates, not the framework.",
                "-",
                "-",
                "-",
                "not measurable here",
                f"This run measured no {variant} predict_one phase for both apps.",
            )
        figures[variant] = (flask, django)
    ratio = {v: f["rps"] / d["rps"] for v, (f, d) in figures.items()}
    share = {
        v: [
            c["model_ms_mean"] * 1000 / c["server_cpu_us_per_request"]
            if c["model_ms_mean"] and c["server_cpu_us_per_request"]
            else 0.0
            for c in pair
        ]
        for v, pair in figures.items()
    }
    closer = abs(ratio["heavy"] - 1) < abs(ratio["light"] - 1)
    verdict = (
        "supported"
        if closer and abs(ratio["heavy"] - 1) < 0.1
        else "mixed"
        if closer
        else "contradicted"
    )
    return _claim(
        "model-dominates",
        "With a heavy model, the model dominates, not the framework.",
        "Flask/Django req/s ratio and the model's share of server CPU per request, "
        "light vs heavy model",
        f"model {share['light'][0]:.0%} (light), {share['heavy'][0]:.0%} (heavy) of CPU",
        f"model {share['light'][1]:.0%} (light), {share['heavy'][1]:.0%} (heavy) of CPU",
        verdict,
        f"Flask/Django throughput: {ratio['light']:.2f}x with the light model, "
        f"{ratio['heavy']:.2f}x with the heavy one.",
    )


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
