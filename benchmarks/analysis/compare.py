"""Compare two benchmark runs metric by metric, against the noise measured in the runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.analysis.aggregate import cell_spread
from benchmarks.analysis.aggregate import cells as aggregate_cells
from benchmarks.analysis.decision import MIN_EFFECT

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


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Return, for every cell both runs measured, each metric's relative change from a to b."""
    before, after = aggregate_cells(a["phases"]), aggregate_cells(b["phases"])
    rows = []
    for key in sorted(set(before) & set(after)):
        noise = max(cell_spread(before[key]), cell_spread(after[key]), MIN_EFFECT)
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
