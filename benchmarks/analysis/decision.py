"""The decision rule, fixed before any run: how figures become a verdict.

- A deterministic figure (instructions per request, lines of code, installed bytes) decides on
  its own: a ratio beyond ``1 + MIN_EFFECT`` one way or the other is a direction, anything
  closer is no difference. No interval: the figure does not move from run to run.
- A timed figure (requests per second, start-up seconds) is compared as paired per-trial ratios:
  trial t of target A against trial t of target B, measured back to back. The interval is a 95%
  bootstrap confidence interval (scipy's BCa, a fixed seed, 9,999 resamples) of the geometric
  mean ratio. It is a direction only when the whole interval lies beyond the minimum effect; a
  cell with fewer than ``MIN_TRIALS`` usable pairs has no interval at all.
- A claim with one figure of each kind: the deterministic direction decides where it has one,
  unless the interval points the other way beyond the minimum effect, which makes it "mixed";
  where the deterministic figure shows no difference (or is missing), the interval decides, and
  without an interval the verdict is "inconclusive" ("inconclusive (quick run)" in a quick run).
  So a quick run may be less sure than a default run, but it cannot say the opposite.
- Memory measured as workers are added (``python -m benchmarks workers``) is not timed: it
  counts as a deterministic figure on the same threshold, provided its own spread between
  rounds stays below ``MIN_EFFECT`` (``claims.lighter`` applies this).
- A claim made of parts (less memory and faster start-up) is "supported" when every part
  supports it, "contradicted" when every part contradicts it, "mixed" when parts point different
  ways, and "inconclusive" otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import stats

from benchmarks.results.records import Interval, Phase
from benchmarks.results.vocabulary import Verdict

# The rule's version: up by one whenever a change to this module, or to how a claim applies it,
# could turn the same figures into another verdict. results.json records it with the constants.
VERSION = 1
MIN_EFFECT = 0.05  # a difference smaller than 5% is not called a difference
CONFIDENCE = 0.95
RESAMPLES = 9_999
SEED = 20_261_201  # fixed: the same trials always give the same interval
MIN_TRIALS = 3  # paired trials needed before an interval means anything


def direction(ratio: float | None) -> int | None:
    """Return +1 above ``1 + MIN_EFFECT``, -1 below its inverse, 0 between, None if missing."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return None
    if ratio > 1 + MIN_EFFECT:
        return 1
    if ratio < 1 / (1 + MIN_EFFECT):
        return -1
    return 0


def interval(ratios: Sequence[float]) -> Interval | None:
    """Return the bootstrap interval of the geometric mean of paired ratios (None if too few)."""
    usable = [r for r in ratios if r > 0 and math.isfinite(r)]
    if len(usable) < MIN_TRIALS:
        return None
    logs = np.log(usable)
    estimate = float(np.exp(logs.mean()))
    if np.ptp(logs) == 0:  # identical trials: the bootstrap has nothing to resample
        return {"estimate": estimate, "low": estimate, "high": estimate, "trials": len(usable)}
    found = stats.bootstrap(
        (logs,),
        np.mean,
        confidence_level=CONFIDENCE,
        n_resamples=RESAMPLES,
        method="BCa",
        rng=np.random.default_rng(SEED),
    )
    low, high = found.confidence_interval
    return {
        "estimate": estimate,
        "low": float(np.exp(low)),
        "high": float(np.exp(high)),
        "trials": len(usable),
    }


def widen(found: Interval | None, factor: float) -> Interval | None:
    """Return the interval with each end moved out by ``factor`` (a figure's own resolution).

    A capacity found by a search is only known within its last bracket: a ratio of two of them
    is known within that factor either way, whatever the trials' spread.
    """
    if found is None:
        return None
    return {**found, "low": found["low"] / factor, "high": found["high"] * factor}


def interval_direction(found: Interval | None) -> int | None:
    """Return +1 or -1 when the whole interval lies beyond the minimum effect, else 0 (or None)."""
    if found is None:
        return None
    if found["low"] > 1 + MIN_EFFECT:
        return 1
    if found["high"] < 1 / (1 + MIN_EFFECT):
        return -1
    return 0


def within_effect(found: Interval | None) -> int | None:
    """Return +1 when the whole interval lies within the minimum effect of 1 (no difference),
    -1 when it lies wholly beyond it either way, 0 otherwise (None without an interval)."""
    if found is None:
        return None
    if found["low"] >= 1 / (1 + MIN_EFFECT) and found["high"] <= 1 + MIN_EFFECT:
        return 1
    return -1 if interval_direction(found) else 0


def served(phase: Phase) -> float:
    """Return a phase's successful requests per second."""
    return phase["rps"]


def paired(
    phases: Iterable[Phase],
    a: str,
    b: str,
    cell: tuple[str, str, int],
    value: Callable[[Phase], float] = served,
) -> list[float]:
    """Return value(a) / value(b) trial by trial for one (variant, scenario, users) cell.

    A trial counts only when both phases exist, neither was generator-bound (the load generator,
    not the server, set the pace) and both values are positive.
    """
    found: dict[str, dict[int, Phase]] = {a: {}, b: {}}
    for phase in phases:
        if phase["target"] in found and (phase["variant"], phase["scenario"], phase["users"]) == (
            cell
        ):
            found[phase["target"]][phase["trial"]] = phase
    ratios = []
    for trial in sorted(set(found[a]) & set(found[b])):
        first, second = found[a][trial], found[b][trial]
        if first.get("generator_bound") or second.get("generator_bound"):
            continue
        top, bottom = value(first), value(second)
        if top and bottom and top > 0 and bottom > 0:
            ratios.append(top / bottom)
    return ratios


def combine(deterministic: int | None, timed: int | None, quick: bool) -> Verdict:
    """Return the verdict of a claim with a deterministic direction and a timed one."""
    if deterministic:
        if timed == -deterministic:
            return "mixed"
        return "supported" if deterministic > 0 else "contradicted"
    if timed:
        return "supported" if timed > 0 else "contradicted"
    if timed is None and quick:
        return "inconclusive (quick run)"
    return "inconclusive"


def parts(directions: Sequence[int | None], quick: bool) -> Verdict:
    """Return the verdict of a claim made of parts, each a direction (None: not decided)."""
    if directions and all(d == 1 for d in directions):
        return "supported"
    if directions and all(d == -1 for d in directions):
        return "contradicted"
    if 1 in directions and -1 in directions:
        return "mixed"
    if quick and None in directions:
        return "inconclusive (quick run)"
    return "inconclusive"


def describe(found: Interval | None, what: str) -> str:
    """Return an interval in words: ``WHAT 1.12x (95% CI 1.07-1.16, 5 paired trials)``."""
    if found is None:
        return f"{what}: too few paired trials for an interval (at least {MIN_TRIALS})"
    return (
        f"{what} {found['estimate']:.2f}x (95% CI {found['low']:.2f}-{found['high']:.2f}, "
        f"{found['trials']:.0f} paired trials)"
    )


RULE = (
    f"A difference counts only beyond {MIN_EFFECT:.0%}. Deterministic figures (instructions, "
    "lines, bytes) decide on that threshold alone. Timed figures are paired per-trial ratios "
    f"with a {CONFIDENCE:.0%} bootstrap interval (BCa, fixed seed) that must lie wholly beyond "
    f"it; with fewer than {MIN_TRIALS} paired trials there is no interval. Where both exist the "
    "deterministic figure decides unless the interval points the other way (mixed); where the "
    "deterministic figure shows no difference, the interval decides; otherwise inconclusive."
)
