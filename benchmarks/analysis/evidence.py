"""What every claim reads from one run's results: its cells, its cost rows, the claim record."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.analysis.aggregate import Cell, CellFigures
from benchmarks.results.records import Claim, CostRow, Phase, Results
from benchmarks.results.vocabulary import Verdict


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


def claim_record(
    id_: str,
    claim: str,
    metric: str,
    flask: str,
    django: str,
    verdict: Verdict,
    reason: str,
    interval: str = "",
) -> Claim:
    """Return one claim as results.json stores it (``records.Claim``)."""
    return {
        "id": id_,
        "claim": claim,
        "metric": metric,
        "flask": flask,
        "django": django,
        "verdict": verdict,
        "reason": reason,
        "interval": interval,
    }


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
