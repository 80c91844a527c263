"""What every claim reads from one run's results: its cells, its cost rows, the claim record."""

from __future__ import annotations

from typing import Any


def find_cell(cells: dict, target: str, variant: str, scenario: str, users: int | None = None):
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
    verdict: str,
    reason: str,
    interval: str = "",
) -> dict[str, str]:
    """Return one claim as results.json stores it (``schema.Claim``)."""
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


def is_quick(results: dict[str, Any]) -> bool:
    """Return whether the results come from a quick run (which may be less sure, never opposite)."""
    return results.get("mode") == "quick"


def cost_row(results: dict[str, Any], target: str, variant: str, scenario: str):
    """Return a target's cost row (instructions per request) or None."""
    for row in (results.get("cost") or {}).get("rows", []):
        if (row["target"], row["variant"], row["scenario"]) == (target, variant, scenario):
            return row
    return None


def memory_mib(phase: dict[str, Any]) -> float:
    """Return a phase's memory figure: the PSS of the server's processes, master and workers."""
    return phase["pss_mib_steady"]
