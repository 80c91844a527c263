"""Request bodies for the load tests, drawn from the held-out rows the model never saw.

The load generator reads them from a JSON file so it never imports scikit-learn: the runner
writes the file, and a standalone Locust run creates it on first use. The same rows go to /v1
(``instances``: one object per row) and to the Open Inference Protocol v2 (one FP64 tensor of
shape [rows, 30], nested, the features in the manifest's order).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import REPORTS

DEFAULT_PATH = REPORTS / ".payloads.json"
BATCH = 100
# Where a v2 server answers inference for the model (both variants share its name,
# model.train.MODEL_NAME; a test holds the two together). Written out, not imported: importing
# model.train imports scikit-learn, which Locust's gevent-patched process must not.
V2_INFER = "/v2/models/breast-cancer-classifier/infer"
# Named, not left to the server: the protocol lets a server choose its default outputs (MLServer
# answers "predict" alone), so every v2 server is asked for the same two and does the same work.
V2_OUTPUTS = [{"name": "predict"}, {"name": "predict_proba"}]


def v2_body(rows: list[dict[str, float]]) -> str:
    """Return a v2 inference request of these rows: one FP64 tensor, nested, both outputs."""
    tensor = {
        "name": "input-0",
        "shape": [len(rows), len(rows[0])],
        "datatype": "FP64",
        # holdout_instances keeps the manifest's feature order in each row.
        "data": [list(row.values()) for row in rows],
    }
    return json.dumps({"inputs": [tensor], "outputs": V2_OUTPUTS})


def build() -> dict[str, list[str]]:
    """Return JSON bodies: single rows, 100-row batches and rows that get a 422 (/v1), and the
    same single rows and batches as v2 inference requests."""
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
        "v2_one": [v2_body([row]) for row in rows],
        "v2_batch": [v2_body(batch) for batch in batches],
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
