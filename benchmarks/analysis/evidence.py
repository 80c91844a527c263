"""What every claim reads from one run's results: its cells, its cost rows, its timed evidence
and the A/A check beside it, and the claim record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.analysis import decision
from benchmarks.analysis.aggregate import Cell, CellFigures
from benchmarks.results.records import AACheck, Claim, CostRow, Interval, Phase, Results
from benchmarks.results.vocabulary import Basis, Scenario, Variant, Verdict


def find_cell(
    cells: Mapping[Cell, CellFigures],
    target: str,
    variant: str,
    scenario: str,
    users: int | None = None,
) -> CellFigures | None:
    """Return the cell for target/variant/scenario at ``users`` (default: the most trials)."""
    found = [
        (key, value)
        for key, value in cells.items()
        if key[:3] == (target, variant, scenario) and (users is None or key[3] == users)
    ]
    if not found:
        return None
    return max(found, key=lambda kv: (kv[1]["trials"], kv[0][3]))[1]


Cells = Mapping[Cell, CellFigures]  # a run's figures per cell (aggregate.cells)
# Tricia Pearson, "Flask vs. Django: Which Python Framework is Better for Machine Learning Apps?",
# Stackify (2022, updated 2024): the article whose sentences the claims quote where it says them.
ARTICLE = "https://stackify.com/flask-vs-django-which-python-framework-is-better-for-machine-learning-apps/"


@dataclass(frozen=True)
class Statement:
    """A claim as made, and what this benchmark asks to answer it."""

    id: str
    claim: str  # in a few words
    sentence: str  # the article's words, or the claim as commonly made
    source: str  # a URL where the sentence is quoted from; "" where it is not a quotation
    question: str
    basis: Basis = "measured"


def claim_record(
    statement: Statement,
    verdict: Verdict,
    figure: str,
    reason: str,
    rule: str,
    *,
    ratio: float | None = None,
    ratio_label: str = "",
    interval: str = "",
    timed: Interval | None = None,
    timed_label: str = "",
    flask: str = "-",
    django: str = "-",
) -> Claim:
    """Return one claim as results.json stores it (``records.Claim``)."""
    return {
        "id": statement.id,
        "claim": statement.claim,
        "sentence": statement.sentence,
        "source": statement.source,
        "question": statement.question,
        "basis": statement.basis,
        "verdict": verdict,
        "figure": figure,
        "ratio": ratio,
        "ratio_label": ratio_label,
        "interval": interval,
        "timed": timed,
        "timed_label": timed_label,
        "flask": flask,
        "django": django,
        "reason": reason,
        "rule": rule,
    }


def not_measured(statement: Statement, reason: str, rule: str) -> Claim:
    """Return a claim this run has no evidence for."""
    return claim_record(statement, "not measured here", "-", reason, rule)


def mb(size: int) -> str:
    """Return a size in bytes as decimal megabytes, as installers print it."""
    return f"{size / 1e6:.1f} MB"


def is_quick(results: Results) -> bool:
    """Return whether the results come from a quick run (which may be less sure, never opposite)."""
    return results["mode"] == "quick"


def cost_row(results: Results, target: str, variant: str, scenario: str) -> CostRow | None:
    """Return a target's cost row (instructions per request) or None."""
    cost = results.get("cost")
    for row in cost["rows"] if cost else []:
        if (row["target"], row["variant"], row["scenario"]) == (target, variant, scenario):
            return row
    return None


def memory_mib(phase: Phase) -> float:
    """Return a phase's memory figure: the PSS of the server's processes, master and workers."""
    return phase["pss_mib_steady"]


# -- timed evidence ----------------------------------------------------------------------------


def twin(results: Results) -> str | None:
    """Return the A/A twin's name: the Flask app again, measured as a separate target."""
    return next(
        (
            name
            for name, facts in results["targets"].items()
            if facts["kind"] == "twin" and facts["app"] == "flask"
        ),
        None,
    )


@dataclass(frozen=True)
class Timing:
    """Where a run's timed evidence of one (variant, scenario) lies: its records and level."""

    source: str  # "timed" (wrk, paired trials) or "phases" (Locust, older runs)
    records: Sequence[Mapping[str, object]]
    level_key: str  # "connections" or "users"
    level: int

    def cell(self, variant: str, scenario: str) -> dict[str, object]:
        """Return the fields a record of this cell matches."""
        return {"variant": variant, "scenario": scenario, self.level_key: self.level}

    def ratios(self, a: str, b: str, variant: str, scenario: str) -> list[float]:
        """Return a's req/s over b's, trial by trial, in this cell."""
        return decision.pairs(self.records, a, b, self.cell(variant, scenario))


def timing(results: Results, variant: str, scenario: str) -> Timing | None:
    """Return the timed evidence of a (variant, scenario): the wrk trials where the run timed
    it, else its Locust phases (runs made before the timed step); None where neither has it.

    The level is the one at which Flask has the most trials (the higher on a tie).
    """
    sources: list[tuple[str, Sequence[Mapping[str, object]], str]] = [
        ("timed", results.get("timed", []), "connections"),
        ("phases", results.get("phases", []), "users"),
    ]
    for source, records, key in sources:
        counts: dict[int, int] = {}
        for record in records:
            level = record.get(key)
            if (record.get("target"), record.get("variant"), record.get("scenario")) == (
                "flask",
                variant,
                scenario,
            ) and isinstance(level, int):
                counts[level] = counts.get(level, 0) + 1
        if counts:
            level = max(counts, key=lambda n: (counts[n], n))
            return Timing(source, records, key, level)
    return None


def aa_checks(results: Results) -> list[AACheck]:
    """Return the A/A check of every timed cell where the twin ran beside Flask."""
    found: list[AACheck] = []
    name = twin(results)
    if name is None:
        return found
    cells: tuple[tuple[Variant, Scenario], ...] = (
        ("light", "predict_one"),
        ("heavy", "predict_one"),
    )
    for variant, scenario in cells:
        where = timing(results, variant, scenario)
        if where is None:
            continue
        ratios = where.ratios("flask", name, variant, scenario)
        if not any(r.get("target") == name for r in where.records):
            continue
        interval = decision.interval(ratios)
        found.append(
            {
                "target": name,
                "variant": variant,
                "scenario": scenario,
                "level": where.level,
                "source": "timed" if where.source == "timed" else "phases",
                "ratios": ratios,
                "interval": interval,
                "noise_floor": decision.noise_floor(interval) if interval else None,
                "differs": interval is not None and not decision.contains_one(interval),
            }
        )
    return found


def aa_interval(results: Results, variant: str, scenario: str) -> Interval | None:
    """Return the A/A interval of a timed cell (None where the twin did not run beside Flask)."""
    for check in aa_checks(results):
        if (check["variant"], check["scenario"]) == (variant, scenario):
            return check["interval"]
    return None
