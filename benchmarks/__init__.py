"""The comparison: serve each target, load it, measure it, judge the claims, write the report.

The flow runs one way, each layer importing only those below it (checked by import-linter, see
``[tool.importlinter]`` in pyproject.toml)::

    __main__ -> cli -> run -> session -> report -> analysis -> measure -> load -> serving
             -> plan -> targets -> results -> cpus
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "reports"
