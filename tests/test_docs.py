"""The README stays a short front page, and the documentation's links and commands stay true."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT_BYTES = 12_288

FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
MAKE_COMMAND = re.compile(r"\bmake\s+([A-Za-z0-9_][A-Za-z0-9_.-]*)")
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:(?!=)", re.MULTILINE)


def without_code(text: str) -> str:
    """Return the Markdown with its code blocks and code spans removed."""
    return CODE_SPAN.sub("", FENCED_BLOCK.sub("", text))


def code_of(text: str) -> list[str]:
    """Return the Markdown's code blocks and code spans."""
    blocks = FENCED_BLOCK.findall(text)
    spans = [match.group(2) for match in CODE_SPAN.finditer(FENCED_BLOCK.sub("", text))]
    return blocks + spans


def relative_links(text: str) -> list[str]:
    """Return the link targets that point into the repository, without their anchors."""
    targets = []
    for target in LINK.findall(without_code(text)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        targets.append(target.split("#", 1)[0])
    return targets


def make_commands(text: str) -> set[str]:
    """Return every target named by a `make <target>` command in the Markdown's code."""
    return {name for code in code_of(text) for name in MAKE_COMMAND.findall(code)}


def makefile_targets() -> set[str]:
    """Return the targets the Makefile defines."""
    return set(MAKE_TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def test_readme_is_a_short_front_page():
    """Keep README.md within its size limit."""
    size = len(README.read_bytes())
    assert size <= README_LIMIT_BYTES, f"README.md is {size} bytes, over {README_LIMIT_BYTES}"


def test_readme_gives_the_two_commands():
    """Name both commands in the README."""
    commands = make_commands(README.read_text(encoding="utf-8"))
    assert {"test", "bench"} <= commands


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_point_to_files(page: Path):
    """Point every relative link at a file or directory that exists."""
    broken = [
        target
        for target in relative_links(page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert not broken, f"{page.name} links to missing paths: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_make_commands_are_makefile_targets(page: Path):
    """Name only targets the Makefile defines."""
    unknown = make_commands(page.read_text(encoding="utf-8")) - makefile_targets()
    assert not unknown, f"{page.name} names make targets the Makefile lacks: {sorted(unknown)}"


def test_helpers_find_what_they_look_for():
    """Find links, commands and targets in small samples, so the checks above cannot pass empty."""
    sample = "See [a](docs/a.md#x), [b](https://example.org), `make test`.\n```sh\nmake bench\n```"
    assert relative_links(sample) == ["docs/a.md"]
    assert make_commands(sample) == {"test", "bench"}
    assert {"test", "bench"} <= makefile_targets()
