"""Request bodies for the load tests, drawn from the held-out rows the model never saw.

The load generator reads them from a JSON file so it never imports scikit-learn: the runner
writes the file, and a standalone Locust run creates it on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import REPORTS

DEFAULT_PATH = REPORTS / ".payloads.json"
BATCH = 100


def build() -> dict[str, list[str]]:
    """Return JSON bodies: single rows, 100-row batches, and rows that get a 422."""
    from model.data import holdout_instances

    rows = holdout_instances()
    invalid = []
    for index, row in enumerate(rows):
        bad: dict[str, float | str] = dict(row)
        # Alternate kinds of problems so the error path is not one cached branch.
        if index % 3 == 0:
            bad["mean_radius"] = "wide"
        elif index % 3 == 1:
            del bad["worst_area"]
        else:
            bad["colour"] = 1.0
        invalid.append(bad)
    batches = [rows[i : i + BATCH] + rows[: max(0, i + BATCH - len(rows))] for i in range(0, 40)]
    return {
        "one": [json.dumps({"instances": [row]}) for row in rows],
        "batch": [json.dumps({"instances": batch}) for batch in batches],
        "invalid": [json.dumps({"instances": [row]}) for row in invalid],
    }


def write(path: Path = DEFAULT_PATH) -> Path:
    """Write the bodies to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build()))
    return path


def load(path: Path = DEFAULT_PATH) -> dict[str, list[str]]:
    """Read the bodies, creating the file in a separate interpreter if it is missing."""
    if not path.exists():
        # A separate process: Locust's gevent monkey-patching and scikit-learn's imports do
        # not share an interpreter.
        subprocess.run([sys.executable, "-m", "benchmarks.load.payloads", str(path)], check=True)
    return json.loads(path.read_text())


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
