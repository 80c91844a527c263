"""Figures and names as every section writes them, targets' labels and colours, and the prose."""

import functools
import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from benchmarks.results.records import TargetFacts
from benchmarks.results.vocabulary import FRAMEWORKS, Framework

Facts = Mapping[str, TargetFacts]  # target -> what the registry says of it (results["targets"])
FRAMEWORK_LABELS: dict[Framework, str] = {"flask": "Flask", "django": "Django"}
# The run's own targets by name; any other target's kind is told by the facts, never its name.
TARGET_LABELS = {"baseline": "baseline", "flask": "Flask", "django": "Django"}
TARGET_COLOURS = {"baseline": "#8a939e", "flask": "#2f63c7", "django": "#0b7a55"}
TINTS: dict[str, str] = {"flask": "#8fb0ea", "django": "#7cc4a6"}  # its floor, the heavy model
OTHER_COLOUR = "#9b59b6"  # a target this module does not know yet
MODEL_COLOUR = "#e3a33b"
# The verdict badges' colours in templates/report.css, for the chart of the claims.
VERDICT_COLOURS = {
    "supported": "#1e8e3e",
    "contradicted": "#c5221f",
    "no difference": "#1a73e8",
    "inconclusive": "#e8a317",
    "not measured here": "#80868b",
}
PERCENTILE_LABELS = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9", "max": "max"}
NOT_MEASURED = "Not measured in this run."
MISSING = "\u2013"  # en dash: no figure
EN_DASH = "\u2013"  # ranges such as 1-2 trials, typeset
TIMES = "\u00d7"  # multiplication sign, as in 1.4x
GENERATOR_BOUND = "generator-bound"
GENERATOR_LIMITED = "generator-limited"
# The report's sentences and chart words by section, each a str.format template.
PROSE: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "templates" / "prose.toml").read_text(encoding="utf-8")
)


def prose(key: str, /, **values: object) -> str:
    """Return the sentence at ``key`` ("section.name" in templates/prose.toml), filled in."""
    section, name = key.split(".")
    return str(PROSE[section][name]).format(**values)


def fmt_rps(value: float | None) -> str:
    """Format requests per second: whole numbers, one decimal below 100."""
    return MISSING if value is None else f"{value:,.{0 if abs(value) >= 100 else 1}f}"


def fmt_us(value: float | None, decimals: int = 0) -> str:
    """Format a figure with thousands separators and fixed decimals (µs: whole unless asked)."""
    return MISSING if value is None else f"{value:,.{decimals}f}"


fmt_ms = functools.partial(fmt_us, decimals=2)  # milliseconds, or seconds
fmt_mib = functools.partial(fmt_us, decimals=1)  # MiB of memory or MB on disk (as headers say)


def fmt_range(figures: Mapping[str, Any]) -> str:
    """Format the lowest and the highest trial's req/s, e.g. 1,200-1,310 (en dash)."""
    return f"{fmt_rps(figures['rps_min'])}{EN_DASH}{fmt_rps(figures['rps_max'])}"


def fmt(spec: str, per: float = 1) -> Callable[[float | None], str]:
    """Return what formats a figure by ``spec`` (a str.format field) once divided by ``per``."""
    return lambda value: MISSING if value is None else spec.format(value / per)


fmt_count = fmt("{:,.2f} M", 1e6)  # instructions in millions, e.g. 2.53 M
fmt_ratio = fmt("{:.2f}" + TIMES)  # a ratio as a multiplier, e.g. 1.40x
fmt_share = fmt("{:.0%}")  # a fraction as a whole percentage


def fmt_value(value: Any) -> str:
    """Format a configuration or environment value as plain text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, list | tuple) and all(isinstance(v, list | tuple) for v in value):
        return "; ".join(" ".join(map(str, inner)) for inner in value)  # e.g. [[light, mixed, 8]]
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return str(value)


def _floor(target: str, facts: Facts | None) -> Framework | None:
    found = facts.get(target) if facts else None
    return found["framework"] if found and found["kind"] == "floor" else None


def label(target: str, facts: Facts | None = None) -> str:
    """Return a target's display name: "Flask floor" for a floor the facts name, else its own."""
    floor = _floor(target, facts)
    return f"{FRAMEWORK_LABELS[floor]} floor" if floor else TARGET_LABELS.get(target, target)


def colour(target: str, facts: Facts | None = None) -> str:
    """Return the fixed colour of a target in every chart (a floor: its framework's tint)."""
    floor = _floor(target, facts)
    return TINTS[floor] if floor else TARGET_COLOURS.get(target, OTHER_COLOUR)


def by_framework(names: Iterable[str], facts: Facts) -> list[str]:
    """Return the baseline, each framework's floor then app (as the facts say), others by name."""

    def key(name: str) -> tuple[int, int, bool, str]:
        found = facts.get(name)
        if found is None or found["kind"] not in ("baseline", "floor", "app"):
            return (1, 0, False, name)
        framework = found["framework"]
        rank = -1 if framework is None else FRAMEWORKS.index(framework)
        return (0, rank, found["kind"] == "app", "")

    return sorted(dict.fromkeys(names), key=key)


def plural(count: int, noun: str) -> str:
    """Return ``count noun`` with an s when count is not one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def span(counts: Iterable[int], noun: str) -> str:
    """Return the range of the counts with the noun, e.g. "3 trials" or "3-5 trials" (en dash)."""
    found = sorted(set(counts))
    spread = str(found[0]) if len(found) == 1 else f"{found[0]}{EN_DASH}{found[-1]}"
    return f"{spread} {noun}" if spread == "1" else f"{spread} {noun}s"


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return (dotted key, value) pairs of a nested mapping, depth first, in its own order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            pairs += flatten(value, name + ".")
        else:
            pairs.append((name, value))
    return pairs
