"""Judge a run: derive its verdicts from its stored figures, and judge a stored run again.

A run's verdicts are made here and nowhere else, once when the run ends and again on demand
(``python -m benchmarks judge RUN_DIR``), so a stored run judged with the same rule gives the
same verdicts, and one judged with a changed rule says which verdicts the change moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.analysis import claims, claims_resources, decision
from benchmarks.results.records import AACheck, Claim, Results, Rule
from benchmarks.results.vocabulary import VERDICTS, Verdict


def rule() -> Rule:
    """Return the rule this code applies: its version and every constant a verdict reads."""
    return {
        "version": decision.VERSION,
        "constants": {
            "min_effect": decision.MIN_EFFECT,
            "confidence": decision.CONFIDENCE,
            "min_trials": decision.MIN_TRIALS,
            "heavy_model_share": claims.HEAVY_MODEL_SHARE,
        },
    }


def verdicts(results: Results) -> tuple[list[AACheck], list[Claim]]:
    """Return the A/A check and every claim's verdict, derived from the figures alone.

    A ``capacity`` run holds the evidence of one claim, "scales" (its load part, gated by the
    capacity's own A/A check where the twin was searched): that claim alone. Any other command
    but ``run`` measured one part, not a claim's evidence: it has no claims.
    """
    if results["command"] == "capacity":
        return claims.aa_check(results), [claims_resources.scales(results)]
    if results["command"] != "run":
        return [], []
    return claims.aa_check(results), claims.evaluate(results)


def tally(found: list[Claim]) -> dict[Verdict, int]:
    """Return how many claims have each verdict, in the vocabulary's order (none left out)."""
    return {v: sum(claim["verdict"] == v for claim in found) for v in VERDICTS}


def charted(found: list[Claim]) -> list[Claim]:
    """Return the claims whose deciding figure is a ratio a log axis can show (not 0, say, when
    none of Flask's checks passed)."""
    return [c for c in found if c["ratio"] is not None and c["ratio"] > 0]


def apply(results: Results) -> Results:
    """Return the results with the current rule's verdicts, A/A check and rule record."""
    aa, found = verdicts(results)
    return {**results, "aa": aa, "claims": found, "decision_rule": decision.RULE, "rule": rule()}


@dataclass(frozen=True)
class Change:
    """A claim's stored verdict and its verdict under the current rule."""

    id: str
    stored: str | None  # None: the stored run has no such claim
    now: str | None  # None: the current rule has no such claim

    @property
    def differs(self) -> bool:
        """Return whether the current rule moved the verdict."""
        return self.stored != self.now


@dataclass(frozen=True)
class Judgement:
    """A stored run judged again with the current rule."""

    rule_changes: list[str]  # how the stored rule differs from the current one, in words
    verdicts: list[Change]  # every claim: the current rule's first, then any it no longer has
    claims: list[Claim]  # the verdicts under the current rule

    @property
    def changes(self) -> list[Change]:
        """Return the claims whose verdict the current rule moved."""
        return [verdict for verdict in self.verdicts if verdict.differs]

    @property
    def holds(self) -> bool:
        """Return whether every stored verdict is the current rule's."""
        return not self.changes


def rule_changes(stored: Rule, current: Rule) -> list[str]:
    """Return how two rule records differ, one phrase per difference."""
    found = []
    if stored["version"] != current["version"]:
        found.append(f"rule version {stored['version']} stored, {current['version']} now")
    before, after = stored["constants"], current["constants"]
    for name in dict.fromkeys([*before, *after]):
        if before.get(name) != after.get(name):
            found.append(f"{name} {before.get(name)!r} stored, {after.get(name)!r} now")
    return found


def judge(results: Results) -> Judgement:
    """Judge a stored run again with the current rule."""
    _, found = verdicts(results)
    stored = {claim["id"]: claim["verdict"] for claim in results["claims"]}
    now = {claim["id"]: claim["verdict"] for claim in found}
    pairs = [
        Change(name, stored.get(name), now.get(name)) for name in dict.fromkeys([*now, *stored])
    ]
    return Judgement(rule_changes(results["rule"], rule()), pairs, found)
