"""Plain-text tables for the terminal: what each command prints, from its records alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.analysis import aggregate, judge
from benchmarks.analysis import compare as comparison
from benchmarks.analysis.capacity import summary as capacity_summary
from benchmarks.analysis.judge import Judgement
from benchmarks.results.records import Dependencies, LinesOfCode, Results, SecurityCheck


def throughput(result: dict) -> str:
    """Return a plain-text table of the medians and ratios to the baseline (and to the floors)."""
    summary = result["summary"]
    base = summary.get("baseline", {}).get("rps")
    lines = [
        f"{result['scenario']} ({result['variant']} model), {result['trials']} trials x "
        f"{result['seconds']:.0f} s, {result['connections']} connections, server on CPU "
        f"{result['server_cpus']}, wrk on CPU {result['load_cpus']}",
        f"{'target':<21} {'req/s':>8} {'(min-max)':>15} {'vs base':>8} {'vs floor':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'errors':>6}",
    ]
    for name, row in summary.items():
        ratio = f"{row['rps'] / base:.2f}x" if base else "-"
        floor = summary.get(f"{name}-floor", {}).get("rps")
        to_floor = f"{row['rps'] / floor:.2f}x" if floor else "-"
        spread = f"{row['rps_min']:.0f}-{row['rps_max']:.0f}"
        lines.append(
            f"{name:<21} {row['rps']:>8.0f} {spread:>15} {ratio:>8} {to_floor:>8} "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['cpu_us_per_request']:>10.0f} "
            f"{row['errors']:>6.0f}"
        )
    return "\n".join(lines)


def overhead(results: list[dict[str, Any]]) -> str:
    """Return a plain-text table, and each app's extra cost over the baseline when measured."""
    lines = [
        "microseconds of process CPU per call (fastest of 7 loops); one-row light-model prediction",
        f"{'target':<9} {'health':>7} {'predict':>8} {'canned':>7} {'model in request':>17} "
        f"{'model alone':>12} {'envelope':>9}",
    ]
    for r in results:
        envelope = "-" if r["envelope_us"] is None else f"{r['envelope_us']:.1f}"
        lines.append(
            f"{r['target']:<9} {r['health_us']:>7.1f} {r['predict_us']:>8.1f} "
            f"{r['predict_canned_us']:>7.1f} {r['model_in_request_us']:>17.1f} "
            f"{r['model_alone_us']:>12.1f} {envelope:>9}"
        )
    base = next((r for r in results if r["target"] == "baseline"), None)
    for r in results:
        if base and r is not base:
            split = aggregate.split_over_baseline(r, base)
            lines.append(
                f"{r['target']}: +{split['extra_us']:.0f} us per prediction over the baseline: "
                f"{split['own_code_us']:.0f} in its own code, {split['interference_us']:.0f} "
                "in the model and its code slowing each other"
            )
    return "\n".join(lines)


def cost(result: dict[str, Any]) -> str:
    """Return a plain-text table of instructions per request, and each target's start-up."""
    lines = [
        f"{result['tool']}; per request, after {result['warmup_requests']} warm-up requests; "
        f"gc {result['gc']}",
        f"{'target':<21} {'variant':<6} {'scenario':<14} {'requests':>8} {'instructions':>13} "
        f"{'model':>11} {'rest':>11} {'gc':>9}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['target']:<21} {row['variant']:<6} {row['scenario']:<14} "
            f"{row['requests']:>8} {row['instructions']:>13,} {row['model_instructions']:>11,} "
            f"{row['rest_instructions']:>11,} {row['gc_instructions']:>9,}"
        )
    for target, instructions in result["startup"].items():
        lines.append(f"start-up {target}: {instructions:,} instructions after the shared stack")
    lines.append(f"counted in {result['seconds']:.0f} s")
    return "\n".join(lines)


def ladders(result: dict[str, Any]) -> str:
    """Return a plain-text table of the rungs, and the rungs measured under load."""
    lines = [
        f"{'rung':<21} {'adds':<44} {'distributions added':<38} {'KB':>6} {'lines':>5}",
    ]
    for rung in result["rungs"]:
        lines.append(
            f"{rung['target']:<21} {rung['how'][:44]:<44} "
            f"{', '.join(rung['distributions_added'])[:38]:<38} "
            f"{rung['bytes_added'] / 1e3:>6.0f} {rung['lines_added']:>5}"
        )
    if result.get("load"):
        lines += ["", throughput(result["load"])]
    return "\n".join(lines)


def micro(results: list[dict]) -> str:
    """Return a plain-text table of every host's cases."""
    lines = [
        f"{'host':<7} {'filters':>7} {'variant':<6} {'rows':>4} {'raw us':>9} "
        f"{'runtime us':>10} {'runtime/raw':>11}"
    ]
    for result in results:
        for case in result["cases"]:
            ratio = case["runtime_us"] / case["raw_us"]
            lines.append(
                f"{result['host']:<7} {result['warning_filters']:>7} {case['variant']:<6} "
                f"{case['rows']:>4} {case['raw_us']:>9.1f} {case['runtime_us']:>10.1f} "
                f"{ratio:>11.2f}"
            )
    return "\n".join(lines)


def soak(results: dict[str, Any]) -> str:
    """Return a plain-text summary."""
    lines = [
        f"soak: {results['seconds']:.0f} s per app at {results['fraction']:.0%} of capacity, "
        "one worker killed halfway"
    ]
    for app in results["apps"]:
        lines.append(
            f"{app['app']:<7} capacity {app['capacity_rps']:.0f} req/s, held {app['rps']:.0f} "
            f"req/s, {app['requests']} requests, {app['failures']} failures, p50 "
            f"{app['latency_ms']['p50']:.2f} ms, p99 {app['latency_ms']['p99']:.2f} ms, worker "
            f"{'replaced' if app['worker_replaced'] else 'NOT replaced'}, RSS "
            f"{app['rss_mib_start']:.1f} -> {app['rss_mib_end']:.1f} MiB "
            f"(trend {app['rss_trend_mib_per_min']:+.2f} MiB/min)"
        )
    return "\n".join(lines)


def security(checks: list[SecurityCheck]) -> str:
    """Return every check with each app's result, pass or FAIL."""
    lines = []
    for check in checks:
        lines.append(check["check"])
        for name, result in check["result"].items():
            verdict = "pass" if check["passed"][name] else "FAIL"
            lines.append(f"  {name:<15} {verdict:<5} {result}")
    return "\n".join(lines)


def judgement(results: Results, judged: Judgement) -> str:
    """Return a stored run's verdicts judged again, and what moved them."""
    stored = results["rule"]
    lines = [
        f"{results['run_id']}: stored under rule version {stored['version']}, judged with "
        f"version {judge.rule()['version']}",
        *(f"  rule changed: {change}" for change in judged.rule_changes),
        "",
        f"{'claim':<20}{'stored':<28}{'now':<28}",
    ]
    before = {claim["id"]: claim["verdict"] for claim in results["claims"]}
    lines += [
        f"{claim['id']:<20}{before.get(claim['id'], '-'):<28}{claim['verdict']:<28}"
        + ("" if before.get(claim["id"]) == claim["verdict"] else "DIFFERS")
        for claim in judged.claims
    ]
    lines += [
        f"{c.id:<20}{c.stored or '-':<28}{'-':<28}DIFFERS" for c in judged.changes if not c.now
    ]
    lines.append(
        f"All {len(judged.claims)} verdicts hold."
        if judged.holds
        else f"{len(judged.changes)} of {len(judged.claims)} verdicts differ from the stored ones."
    )
    return "\n".join(lines)


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return a plain-text table of the changes, marking those beyond each metric's noise.

    Raises ``compare.Incomparable`` when the runs did not measure alike.
    """
    rows = comparison.changes(a, b)
    differs = comparison.provenance(a, b)
    lines = [
        "NOT LIKE FOR LIKE: the runs differ in " + "; ".join(differs)
        if differs
        else "Like for like: the same commit, rule, libraries, models and gunicorn settings.",
        f"A: {a['run_id']} ({a['mode']}, {a['environment'].get('git_commit', '?')[:12]})",
        f"B: {b['run_id']} ({b['mode']}, {b['environment'].get('git_commit', '?')[:12]})",
        "",
        f"{'target':<9}{'variant':<8}{'scenario':<14}{'users':>5}  {'metric':<11}"
        f"{'A':>10}{'B':>10}{'change':>9}{'noise':>8}  verdict",
    ]
    for row in rows:
        target, variant, scenario, users = row["cell"]
        verdict = "CHANGED" if row["significant"] else "within noise"
        lines.append(
            f"{target:<9}{variant:<8}{scenario:<14}{users:>5}  {row['label']:<11}"
            f"{row['before']:>10.2f}{row['after']:>10.2f}{row['change']:>+9.1%}"
            f"{row['noise']:>8.1%}  {verdict}"
        )
    if not rows:
        lines.append("The two runs share no measured cell.")
    significant = sum(row["significant"] for row in rows)
    lines += [
        "",
        f"{significant} of {len(rows)} figures changed by more than the noise.",
        "noise: how far that metric spread over the cell's trials, (max - min) / median, in the "
        f"run that spread more, and at least {comparison.MIN_EFFECT:.0%}; a cell measured once "
        "has no spread, so only that floor applies to it.",
    ]
    held = comparison.verdicts(a, b)
    if held:
        lines += ["", f"{'claim':<20}{'A':<28}{'B':<28}held"]
        lines += [
            f"{v['id']:<20}{v['before'] or '-':<28}{v['after'] or '-':<28}"
            f"{'yes' if v['held'] else 'NO'}"
            for v in held
        ]
        lines.append(f"{sum(v['held'] for v in held)} of {len(held)} verdicts held.")
    counted = comparison.counts(a, b)
    if counted:
        worst = max(counted, key=lambda c: abs(c["difference"]))
        lines += [
            "",
            f"Instruction counts (callgrind): {len(counted)} figures in both runs; the largest "
            f"difference {worst['difference']:+.3%} ({' '.join(worst['key'])}).",
        ]
    return "\n".join(lines)


def _kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB"


def _dependencies(title: str, deps: Dependencies) -> list[str]:
    extensions = ", ".join(deps["extensions"]) or "none"
    lines = [
        "",
        f"{title}: {_kib(deps['total_bytes'])}",
        f"  direct: {', '.join(deps['direct'])}; extensions: {extensions}",
    ]
    for dist in sorted(deps["distributions"], key=lambda d: -d["size_bytes"]):
        lines.append(f"  {dist['name']:<24} {dist['version']:<10} {_kib(dist['size_bytes']):>12}")
    return lines


def footprint(
    loc: Mapping[str, LinesOfCode],
    packages: Mapping[str, str],
    dependencies: Mapping[str, Dependencies],
    frameworks: Mapping[str, Dependencies],
) -> str:
    """Return the apps' code lines by concern and file, then what each app and framework needs."""
    flask, django = loc["flask"], loc["django"]
    lines = [f"{'code lines':<24} {'flask':>6} {'django':>6}"]
    for concern in flask["concerns"]:
        counts = flask["concerns"][concern], django["concerns"][concern]
        lines.append(f"{concern:<24} {counts[0]:>6} {counts[1]:>6}")
    lines.append(f"{'total':<24} {flask['total']:>6} {django['total']:>6}")
    for app, package in packages.items():
        listing = ", ".join(f"{name} {count}" for name, count in loc[app]["files"].items())
        lines.append(f"  {package}: {listing}")
    for app, deps in dependencies.items():
        lines += _dependencies(f"{app} app beyond the shared core", deps)
    for framework, deps in frameworks.items():
        lines += _dependencies(f"{framework} alone", deps)
    return "\n".join(lines)


def capacity(results: dict[str, Any]) -> str:
    """Return each app's capacity at the p99 target and its cost per million, one line each."""
    lines = [
        f"capacity at p99 <= {results['latency_ms']:g} ms, open-loop {results['arrival']} "
        f"arrivals, {results['variant']} model, {results['scenario']}; server CPUs "
        f"{results['server_cpus']}; ${results['vcpu_hour_usd']:g} per vCPU-hour "
        f"({results['price_source']})"
    ]
    for (app, workers), found in capacity_summary(results).items():
        rps = found["capacity_rps"]
        trials = ", ".join("-" if t is None else f"{t:.0f}" for t in found["trials"])
        cpu = found["cpu_s_per_million"]
        usd = found["usd_per_million"]
        lines.append(
            f"{app:7} {workers} worker(s): "
            + (f"{rps:,.0f} req/s" if rps else "none passed")
            + (" (capped)" if found["capped"] else "")
            + f" [trials {trials}]"
            + (f", {cpu:,.0f} CPU-s per million, ${usd:.4f} per million" if cpu and usd else "")
        )
    for point in results.get("overload", []) + results.get("proxied", []):
        where = "through nginx" if point in results.get("proxied", []) else "overload"
        lines.append(
            f"{point['app']:7} {where} at {point['offered_rps']:,.0f} req/s offered "
            f"({point['factor']:g}x): served {point['rps']:,.0f} req/s, p99 "
            f"{point['latency_ms']['p99']:,.1f} ms, {point['failures']} failed"
        )
    lines.append(f"{results['duration_s']:.0f} s")
    return "\n".join(lines)


def remote(results: dict[str, Any]) -> str:
    """Return a plain-text table of each target's phases, and what was not measured, and why."""
    config = results["config"]
    gate = results["parity"]
    locust_line = (
        f"Locust: a master on {config['master_bind']} that waited for "
        f"{config['expect_workers']} worker(s), {config['locust_workers']} started here"
        if config["expect_workers"]
        else "Locust: one local process"
    )
    unmeasured = "not measurable remotely"
    lines = [
        f"against deployments this command did not start: {', '.join(results['targets'])}",
        f"parity gate: {'passed' if gate['ok'] else 'FAILED'} ({gate['probes']} probes); "
        f"{locust_line}; {config['warmup_s']:g} s warm-up + {config['measure_s']:g} s per phase",
        f"{'target':<10} {'scenario':<12} {'trial':>5} {'users':>5} {'req/s':>8} {'p50 ms':>7} "
        f"{'p90 ms':>7} {'p99 ms':>7} {'failures':>8} {'workers':>7}  "
        f"{'server CPU us/req':<23}  {'server memory MiB':<23}",
    ]
    for phase in results["phases"]:
        latency = phase["latency_ms"]
        lines.append(
            f"{phase['target']:<10} {phase['scenario']:<12} {phase['trial'] + 1:>5} "
            f"{phase['users']:>5} {phase['rps']:>8.0f} {latency['p50']:>7.2f} "
            f"{latency['p90']:>7.2f} {latency['p99']:>7.2f} {phase['failures']:>8} "
            f"{phase['workers']:>7}  {unmeasured:<23}  {unmeasured:<23}"
        )
    lines += [f"{field}: null, {reason}" for field, reason in results["not_measured"].items()]
    return "\n".join(lines)
