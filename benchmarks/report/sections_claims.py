"""The claims: the chart of their deciding figures the report opens with, and the Claims section
(each claim as made, its verdict and figure, then how it was decided and the A/A checks)."""

from __future__ import annotations

from benchmarks.analysis import aggregate, decision, judge
from benchmarks.analysis.aggregate import Run
from benchmarks.report import charts, view
from benchmarks.report import formatting as f
from benchmarks.report.view import Column
from benchmarks.results.records import Claim
from benchmarks.results.vocabulary import VERDICTS


def _by_design(claim: Claim) -> str:
    return " (by design)" if claim["basis"] == "by design" else ""


# At a glance: the claim as made, the verdict, what decided it. How, in the table after it.
CLAIM_COLUMNS: list[Column[Claim]] = [
    Column("The claim, as made", lambda c: c["sentence"] + (" [1]" if c["source"] else "")),
    Column("Verdict", lambda c: view.verdict(c["verdict"])),
    Column("Deciding figure", lambda c: c["figure"] + _by_design(c)),
    Column("Timed interval", lambda c: c["interval"] or f.EN_DASH),
]
METHOD_COLUMNS: list[Column[Claim]] = [
    Column("Claim", lambda c: c["claim"]),
    Column("Question", lambda c: c["question"]),
    Column("Basis", lambda c: c["basis"]),
    Column("Rule", lambda c: c["rule"]),
    Column("Reason", lambda c: c["reason"]),
    Column("Flask", lambda c: c["flask"]),
    Column("Django", lambda c: c["django"]),
]


# What each claim's ratio is, and its timed interval where it has one, both the claim's way up
# (analysis/claims.py and claims_resources.py): the chart names them on the claim's row.
def _ratio(claim: Claim) -> charts.Ratio:
    dot, whisker = claim["ratio_label"] or claim["figure"], claim["timed_label"]
    timed, ratio = claim["timed"], claim["ratio"] or 0.0
    interval = (timed["estimate"], timed["low"], timed["high"]) if timed else None
    if interval is None:
        notes = [dot]
    elif interval[0] == ratio:
        notes = [dot, "whisker: its timed 95% CI"]
    else:
        notes = [f"dot: {dot}", f"whisker: {whisker} (95% CI)"]
    colour = f.VERDICT_COLOURS.get(claim["verdict"], f.OTHER_COLOUR)
    hollow = bool(_by_design(claim))
    return charts.Ratio(claim["claim"] + _by_design(claim), notes, ratio, colour, interval, hollow)


def chart(claims: list[Claim]) -> list[view.Block]:
    """Return the chart of each claim's deciding figure as a ratio (none without a ratio)."""
    if not (shown := judge.charted(claims)):
        return []
    band = 1 + decision.MIN_EFFECT
    verdicts = aggregate.ordered((c["verdict"] for c in shown), VERDICTS)
    legend = [(v, f.VERDICT_COLOURS.get(v, f.OTHER_COLOUR)) for v in verdicts]
    axes = charts.axes("claims.chart", legend, effect=decision.MIN_EFFECT, times=f.TIMES)
    return [charts.ratio_rows(axes, [_ratio(c) for c in shown], band)]


def section(run: Run) -> view.Section:
    """Return the Claims section: the table at a glance, how each was decided, the A/A checks."""
    claims = run.results.get("claims") or []
    blocks: list[view.Block] = [view.or_missing(view.tabulate(CLAIM_COLUMNS, claims))]
    sources = sorted({c["source"] for c in claims if c["source"]})
    if sources:
        blocks.append(view.Para(f.prose("claims.source", sources=", ".join(sources))))
    if claims:
        blocks.append(view.Heading("How each claim was decided"))
        blocks.append(view.tabulate(METHOD_COLUMNS, claims))
    rule = run.results.get("decision_rule")
    if rule:
        blocks.append(view.Para(("The decision rule, fixed before the run: ", rule)))
    for aa in run.results.get("aa") or []:
        if (found := aa["interval"]) is None:
            trials = f.plural(len(aa["ratios"]), "usable paired trial")
            blocks.append(view.Para(f.prose("claims.aa_too_few", aa=aa, trials=trials)))
        else:
            line = f.prose("claims.aa", aa=aa, found=found)
            warning = f.prose("claims.aa_warning") if aa["differs"] else ""
            blocks.append(view.Callout(warning + line) if warning else view.Para(line))
    return view.Section("Claims", blocks)
