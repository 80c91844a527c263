"""The decision rule, fixed before any run: how figures become a verdict.

- A deterministic figure (instructions per request, lines of code, installed bytes) decides on
  its own: a ratio beyond ``1 + MIN_EFFECT`` one way or the other is a direction, anything
  closer is no difference. No interval: the figure does not move from run to run.
- A timed figure (requests per second, start-up seconds, capacity) is compared as paired
  per-trial ratios: trial t of target A against trial t of target B, measured back to back. The
  interval is Student's t interval (95%) of the mean log-ratio, turned back into a ratio: exact
  coverage when the log-ratios are normal and independent, close to it otherwise (the tests
  simulate it at the trial counts the runs use). Fewer than ``MIN_TRIALS`` usable pairs give no
  interval.
- Timed evidence decides only where the run's own A/A check lets it: the Flask app measured
  again as a second target (the twin) in the same cell. If the twin's interval against Flask
  excludes 1, two copies of one app were told apart and no timed figure of that cell decides.
  Otherwise its far end's distance from 1 is the cell's noise floor, and a timed figure is a
  direction only when its whole interval lies beyond both the minimum effect and that floor; it
  is "no difference" when its whole interval lies within the minimum effect (an equivalence
  test with the minimum effect as margin); anything else decides nothing.
- A claim with one figure of each kind: the deterministic direction decides unless the timed
  figure points the other way, which leaves it inconclusive; a deterministic "no difference"
  stands unless the timed figure finds a difference; without a deterministic figure the timed
  one decides. Quick runs follow the same rule; they are simply less often able to decide.
- Memory measured as workers are added (``python -m benchmarks workers``) is not timed: it
  counts as a deterministic figure on the same threshold, provided its own spread between
  rounds stays below ``MIN_EFFECT``.
- A claim made of parts is "supported" when every part supports it, "contradicted" when every
  part contradicts it, "no difference" when every part finds none, and "inconclusive"
  otherwise; a part this machine cannot measure is left out and named.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

from benchmarks.results.records import Interval
from benchmarks.results.vocabulary import Verdict

# The rule's version: up by one whenever a change to this module, or to how a claim applies it,
# could turn the same figures into another verdict. results.json records it with the constants.
# 2: Student's t interval instead of the bootstrap's, the A/A gate, "no difference" as a verdict.
VERSION = 2
MIN_EFFECT = 0.05  # a difference smaller than 5% is not called a difference
CONFIDENCE = 0.95
MIN_TRIALS = 3  # paired trials needed before an interval means anything

Direction = int | None  # +1 the claim's way, -1 the other way, 0 no difference, None undecided


def direction(ratio: float | None) -> Direction:
    """Return +1 above ``1 + MIN_EFFECT``, -1 below its inverse, 0 between, None if missing."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return None
    if ratio > 1 + MIN_EFFECT:
        return 1
    if ratio < 1 / (1 + MIN_EFFECT):
        return -1
    return 0


def interval(ratios: Sequence[float]) -> Interval | None:
    """Return Student's t interval of the geometric mean of paired ratios (None if too few)."""
    usable = [r for r in ratios if r > 0 and math.isfinite(r)]
    if len(usable) < MIN_TRIALS:
        return None
    logs = np.log(usable)
    mean = float(logs.mean())
    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, len(usable) - 1) * stats.sem(logs))
    return {
        "estimate": math.exp(mean),
        "low": math.exp(mean - half),
        "high": math.exp(mean + half),
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


def contains_one(found: Interval) -> bool:
    """Return whether an interval holds 1: the two sides were not told apart."""
    return found["low"] <= 1 <= found["high"]


def noise_floor(aa: Interval) -> float:
    """Return how far the A/A interval reaches from 1: the least effect timing can show."""
    return max(aa["high"] - 1, 1 - aa["low"])


def beyond(found: Interval, threshold: float) -> Direction:
    """Return +1 or -1 when the whole interval lies beyond ``threshold`` one way, else 0."""
    if found["low"] > 1 + threshold:
        return 1
    if found["high"] < 1 / (1 + threshold):
        return -1
    return 0


def equivalent(found: Interval) -> bool:
    """Return whether the whole interval lies within the minimum effect of 1."""
    return found["low"] >= 1 / (1 + MIN_EFFECT) and found["high"] <= 1 + MIN_EFFECT


def timed(found: Interval | None, aa: Interval | None) -> Direction:
    """Return a timed figure's direction under the run's A/A check (None: it decides nothing).

    +1 or -1 only beyond both the minimum effect and the A/A noise floor; 0 when the interval
    lies within the minimum effect; None without an interval, without an A/A interval, when the
    A/A pair differs, or when the interval straddles a threshold.
    """
    if found is None or aa is None or not contains_one(aa):
        return None
    way = beyond(found, max(MIN_EFFECT, noise_floor(aa)))
    if way:
        return way
    return 0 if equivalent(found) else None


def gate(aa: Interval | None) -> str:
    """Return in words why timed evidence of a cell may or may not decide."""
    if aa is None:
        return f"no A/A check in this cell (at least {MIN_TRIALS} paired trials of the twin)"
    if not contains_one(aa):
        return (
            f"the A/A check told two copies of Flask apart ({aa['estimate']:.2f}x, "
            f"{aa['low']:.2f}-{aa['high']:.2f}): timing decides nothing in this cell"
        )
    return f"noise floor {noise_floor(aa):.1%} (A/A {aa['low']:.2f}-{aa['high']:.2f})"


def pairs(
    records: Iterable[Mapping[str, object]],
    a: str,
    b: str,
    cell: Mapping[str, object],
    value: str = "rps",
) -> list[float]:
    """Return record[value] of a over b, trial by trial, for the records of one cell.

    ``cell`` names the fields a record must match (e.g. variant, scenario, users). A trial counts
    only when both records exist, neither was generator-bound (the load generator, not the
    server, set the pace) and both values are positive.
    """
    found: dict[object, dict[object, Mapping[str, object]]] = {a: {}, b: {}}
    for record in records:
        if record.get("target") in found and all(record.get(k) == v for k, v in cell.items()):
            found[record.get("target")][record.get("trial")] = record
    ratios = []
    for trial in sorted(
        set(found[a]) & set(found[b]), key=lambda t: t if isinstance(t, int) else -1
    ):
        first, second = found[a][trial], found[b][trial]
        if first.get("generator_bound") or second.get("generator_bound"):
            continue
        top, bottom = first.get(value), second.get(value)
        if isinstance(top, int | float) and isinstance(bottom, int | float) and top > 0 < bottom:
            ratios.append(top / bottom)
    return ratios


def combine(deterministic: Direction, timed_way: Direction) -> Verdict:
    """Return the verdict of a claim with a deterministic direction and a timed one."""
    if deterministic in (1, -1):
        if timed_way == -deterministic:
            return "inconclusive"
        return "supported" if deterministic == 1 else "contradicted"
    if deterministic == 0:
        return "inconclusive" if timed_way in (1, -1) else "no difference"
    if timed_way is None:
        return "inconclusive"
    return parts([timed_way])


def parts(directions: Sequence[Direction]) -> Verdict:
    """Return the verdict of a claim made of parts, each a direction (None: not decided)."""
    if not directions or None in directions:
        return "inconclusive"
    if all(d == 1 for d in directions):
        return "supported"
    if all(d == -1 for d in directions):
        return "contradicted"
    if all(d == 0 for d in directions):
        return "no difference"
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
    f"with a {CONFIDENCE:.0%} Student's t interval of the mean log-ratio, which must lie wholly "
    "beyond it and beyond the cell's A/A noise floor (the Flask app measured twice); where the "
    "A/A pair differs, timing decides nothing. An interval wholly within the threshold is no "
    f"difference. Fewer than {MIN_TRIALS} paired trials give no interval. The deterministic "
    "figure decides unless timing points the other way (then inconclusive); without one, timing "
    "decides; otherwise inconclusive."
)
