"""Compare two benchmark runs metric by metric, against the noise measured in the runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.aggregate import cells as aggregate_cells
from benchmarks.claims import MIN_EFFECT

METRICS = {
    "rps": ("req/s", lambda c: c["rps"]),
    "p50": ("p50 ms", lambda c: c["latency_ms"]["p50"]),
    "p99": ("p99 ms", lambda c: c["latency_ms"]["p99"]),
    "cpu": ("CPU us/req", lambda c: c["server_cpu_us_per_request"]),
}


def load_results(path: Path) -> dict[str, Any]:
    """Read a run's results.json, given the file or its directory."""
    path = path / "results.json" if path.is_dir() else path
    return json.loads(path.read_text())


def _noise(cell: dict[str, Any]) -> float:
    return (cell["rps_max"] - cell["rps_min"]) / cell["rps"] if cell["rps"] else 0.0


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Return, for every cell both runs measured, each metric's relative change from a to b."""
    before, after = aggregate_cells(a["phases"]), aggregate_cells(b["phases"])
    rows = []
    for key in sorted(set(before) & set(after)):
        noise = max(_noise(before[key]), _noise(after[key]), MIN_EFFECT)
        for metric, (label, get) in METRICS.items():
            old, new = get(before[key]), get(after[key])
            change = (new - old) / old if old else 0.0
            rows.append(
                {
                    "cell": key,
                    "metric": metric,
                    "label": label,
                    "before": old,
                    "after": new,
                    "change": change,
                    "noise": noise,
                    "significant": abs(change) > noise,
                }
            )
    return rows


def render(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return a plain-text table of the changes, marking those beyond the noise."""
    rows = changes(a, b)
    lines = [
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
    lines += ["", f"{significant} of {len(rows)} figures changed by more than the noise."]
    return "\n".join(lines)
