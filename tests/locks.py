"""The lock files under requirements/, read as pip reads a requirements file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
# Each audience's lock and the pyproject.toml extras it holds besides [project].dependencies.
EXTRAS = {"runtime": (), "bench": ("bench",), "dev": ("bench", "dev")}
LOCKS = {audience: f"requirements/{audience}.txt" for audience in EXTRAS}
# MLServer's own environment: resolved from its own input, not from pyproject.toml, with the
# runtime lock as a constraint; it nests in none of the audiences' locks.
MLSERVER_INPUT = "requirements/mlserver.in"
MLSERVER_LOCK = "requirements/mlserver.txt"
# The peers' environments (`make peers`), each resolved from its own input in the same way.
PEERS = ("fastapi", "litserve", "bentoml")
PEER_INPUTS = {peer: f"requirements/peers/{peer}.in" for peer in PEERS}
PEER_LOCKS = {peer: f"requirements/peers/{peer}.txt" for peer in PEERS}
# A tool in a venv of its own, locked apart from the project: its lock and the file it is
# resolved from (the Makefile says why checkov is kept apart).
TOOL_LOCKS = {"checkov": ("requirements/checkov.txt", "requirements/checkov.in")}
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
# pip drops a comment from "#" at the start of a line or after whitespace.
COMMENT = re.compile(r"(^|\s+)#.*$")


@dataclass(frozen=True)
class Pin:
    """One requirement of a lock file: an exact version and the hashes pip checks it against."""

    name: str
    version: str
    hashes: frozenset[str]
    line: int


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of each requirement: continuations joined, comments dropped."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = COMMENT.sub("", raw).strip()
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line.removesuffix("\\").strip())
        if continued:
            continue
        joined = " ".join(part for part in pending if part)
        pending = []
        if joined:
            yield start, joined
    assert not pending, "the file ends inside a continued line"


def read(path: Path) -> dict[str, Pin]:
    """Return a lock file's pins by normalized name; fail on anything but name==version --hash."""
    pins: dict[str, Pin] = {}
    for number, line in logical_lines(path.read_text(encoding="utf-8")):
        requirement, *options = line.split()
        where = f"{path.name}:{number}"
        assert not requirement.startswith("-"), f"{where}: {requirement} is not a requirement"
        parsed = Requirement(requirement)
        specifiers = list(parsed.specifier)
        assert len(specifiers) == 1, f"{where}: {requirement} is not pinned"
        assert specifiers[0].operator == "==", f"{where}: {requirement} is not pinned"
        assert "*" not in specifiers[0].version, f"{where}: {requirement} is not exact"
        assert parsed.url is None, f"{where}: {requirement} is a direct reference"
        for option in options:
            assert HASH.fullmatch(option), f"{where}: unexpected {option!r}"
        name = canonicalize_name(parsed.name)
        assert name not in pins, f"{where}: {name} is pinned twice"
        pins[name] = Pin(name, specifiers[0].version, frozenset(options), number)
    return pins
