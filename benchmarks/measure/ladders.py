"""What each production feature costs: the ladders' rungs (``benchmarks.targets.LADDERS``).

Per rung, measured here:

- what it adds to the install: the distributions its extension brings that the rung below did
  not have (``footprint.closure``), and their installed bytes;
- the code lines it adds to the app: the feature's function in ``targets/ladder_<framework>.py``
  (counted like the apps' own lines, by pygount);
- under load, for the rungs a mode names: requests per second, server CPU microseconds per
  request and PSS per worker, from wrk against each rung under the same gunicorn settings
  (``measure.throughput``, trials interleaved).

Instructions per request and per start-up are counted with every other target by
``measure.cost``; the report puts them beside these figures.

    python -m benchmarks ladders              # the default rungs under load
    python -m benchmarks run                  # the rungs described; their counts by measure.cost
    python -m benchmarks ladders --full       # every rung under load
"""

from __future__ import annotations

import ast
import tempfile
import tomllib
from pathlib import Path

from benchmarks import REPO
from benchmarks.measure import footprint, throughput
from benchmarks.results.records import Ladders, Rung
from benchmarks.results.vocabulary import Framework
from benchmarks.targets import BUILT_IN, FEATURES, LADDERS, ladder

# The rungs the claims need under load: each reference app and the top of its ladder.
DEFAULT_LOAD = ("flask", "flask+token", "django", "django+token")
SOURCES = {
    framework: REPO / "benchmarks" / "targets" / f"ladder_{framework}.py" for framework in LADDERS
}


def feature_lines(framework: Framework, feature: str) -> int:
    """Return the code lines of the function that adds ``feature`` on ``framework``'s ladder."""
    source = SOURCES[framework].read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == f"_{feature}":
            segment = ast.get_source_segment(source, node) or ""
            with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
                handle.write(segment + "\n")
            path = Path(handle.name)
            try:
                return footprint.code_lines(path)
            finally:
                path.unlink()
    raise LookupError(f"no _{feature} in {SOURCES[framework].name}")


def _project_requirements(framework: Framework) -> list[str]:
    """Return the project's runtime requirements an app of ``framework`` installs: all of
    them but the other framework's (the base every rung of its ladder adds to)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [footprint.needed(requirement) for requirement in project["dependencies"]]
    others = {
        footprint.normalize(name)
        for other in LADDERS
        if other != framework
        for name in footprint.dependencies(other)["direct"]
    }
    return [name for name in names if name and footprint.normalize(name) not in others]


def rungs() -> list[Rung]:
    """Return every rung with what it adds to the install and to the code."""
    found: list[Rung] = []
    for framework, ladder_rungs in LADDERS.items():
        had = footprint.closure(_project_requirements(framework))
        for rung in ladder_rungs:
            added = footprint.closure([rung.extension]) - had if rung.extension else set()
            had |= added
            distributions = [footprint.distribution(name) for name in sorted(added)]
            found.append(
                {
                    "framework": framework,
                    "target": rung.target,
                    "feature": rung.feature,
                    "title": FEATURES[rung.feature],
                    "how": rung.how,
                    "extension": rung.extension,
                    "distributions_added": [d["name"] for d in distributions],
                    "bytes_added": sum(d["size_bytes"] for d in distributions),
                    "lines_added": (
                        feature_lines(framework, rung.feature) if "+" in rung.target else 0
                    ),
                }
            )
    return found


def measure(
    mode: str = "default",
    *,
    workdir: Path,
    cpus: str | None = None,
    trials: int | None = None,
    seconds: float | None = None,
) -> Ladders:
    """Describe every rung and measure the mode's rungs under load (wrk, one-row predictions);
    mode "static" describes the rungs only."""
    if mode == "static":
        return {"rungs": rungs(), "built_in": BUILT_IN, "load": None}
    chosen = ladder() if mode == "full" else DEFAULT_LOAD
    trials = trials or (5 if mode == "full" else 2)
    seconds = seconds or (5.0 if mode == "full" else 2.0)
    load = throughput.measure(
        "predict_one", trials=trials, seconds=seconds, targets=chosen, workdir=workdir, cpus=cpus
    )
    return {"rungs": rungs(), "built_in": BUILT_IN, "load": load}
