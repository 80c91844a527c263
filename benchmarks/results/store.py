"""Read and write ``results.json``: the only place that opens the file, and it validates both ways.

Validation is pydantic's, on the ``TypedDict`` records of ``records`` in strict mode with no
unknown key, so a producer that drifts from the records fails when it saves, not when a report
reads it later. A file written under another schema version is refused in one line that says
what to do; ``SCHEMA_VERSION`` goes up on any change a reader of the old shape would misread.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from benchmarks.results.records import Results

# 2: PSS/USS in MiB, per-process generator CPU, successful rps. 3: every record typed and
# validated; the registry's facts (targets) and the rule's version and constants (rule) added.
# 4: each security check names its risk, and passed is None where a check does not apply; each
# claim carries its sentence, source, question, deciding figure and basis; the A/A check is one
# per timed cell; the timed trials (wrk) added.
# 5: every command that writes a run directory writes results.json: ``command`` names it, the
# keys only ``run`` measures are optional, and ``remote`` (the remote command's record) and the
# soak command's fraction (reliability.soak_fraction) added.
# 6: the peers' instructions counted in windows of a warm server (instructions_totals are the
# windows', instructions_idle added), and their memory with one worker and with two (workers).
SCHEMA_VERSION = 6
FILE = "results.json"
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")

# Strict: no string where a number belongs; forbid: no key the records do not name. Nested
# records inherit the setting (pydantic applies a TypedDict's config to those it contains).
Results.__pydantic_config__ = ConfigDict(strict=True, extra="forbid")  # type: ignore[attr-defined]


class ResultsError(ValueError):
    """A results file this code cannot read: another schema version, or not valid."""


@cache
def _adapter() -> TypeAdapter[Results]:
    return TypeAdapter(Results)


def path_of(location: Path) -> Path:
    """Return the results file, given it or its run directory."""
    return location / FILE if location.is_dir() else location


def parse(text: str, source: str = FILE) -> Results:
    """Return the results in ``text``, validated; raise ``ResultsError`` in one line if not."""
    try:
        version = json.loads(text).get("schema_version")
    except (ValueError, AttributeError) as exc:
        raise ResultsError(f"{source}: not a JSON object ({exc})") from exc
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{source} has schema version {version!r}; this code reads {SCHEMA_VERSION}: render "
            "or judge it with the commit that wrote it (its environment.git_commit), or run "
            "the benchmark again"
        )
    try:
        return _adapter().validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ResultsError(
            f"{source}: {exc.error_count()} invalid field(s), first {where}: {first['msg']}"
        ) from exc


def load(location: Path) -> Results:
    """Read and validate a run's results, given the file or its run directory."""
    path = path_of(location)
    return parse(path.read_text(), str(path))


def dumps(results: Results | dict[str, Any]) -> str:
    """Return results as results.json holds them, after validating them."""
    text = json.dumps(results, indent=2) + "\n"
    parse(text, "results to save")
    return text


def save(results: Results, run_dir: Path) -> Path:
    """Validate the results and write them to ``run_dir/results.json``."""
    path = run_dir / FILE
    path.write_text(dumps(results))
    return path


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of results.json, as exported to ``results.schema.json``."""
    schema = _adapter().json_schema()
    schema["$id"] = "results.schema.json"
    schema["title"] = f"results.json, schema version {SCHEMA_VERSION}"
    return schema


def schema_text() -> str:
    """Return the JSON Schema as the repository keeps it."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    # python -m benchmarks.results.store: write the exported schema after a change to records.
    SCHEMA_FILE.write_text(schema_text())
    print(SCHEMA_FILE)
