"""Code lines and dependencies of each app: the counting rules and the figures' consistency."""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from benchmarks.measure import footprint
from benchmarks.measure.footprint import (
    CONCERNS,
    EXTENSIONS,
    SHARED_CORE,
    closure,
    code_lines,
    dependencies,
    framework_footprint,
    lines_of_code,
    package_dir,
    package_files,
    size_bytes,
)
from benchmarks.results.records import Dependencies

APPS = ("flask", "django")
PROJECT_PACKAGES = {"model", "contract", "flask_app", "django_app", "benchmarks"}


def names(deps: Dependencies) -> set[str]:
    """Return the distribution names of a dependency report."""
    return {dist["name"] for dist in deps["distributions"]}


@pytest.mark.parametrize("app", APPS)
def test_every_file_is_in_exactly_one_concern(app: str) -> None:
    listed = Counter(name for by_app in CONCERNS.values() for name in by_app[app])
    assert listed == Counter(package_files(app))


@pytest.mark.parametrize("app", APPS)
def test_totals_are_the_sums_of_files(app: str) -> None:
    loc = lines_of_code(app)
    assert sorted(loc["files"]) == package_files(app)
    assert loc["total"] == sum(loc["files"].values()) == sum(loc["concerns"].values())
    assert list(loc["concerns"]) == list(CONCERNS)
    assert loc["total"] > 0


def test_docstrings_comments_and_blank_lines_are_not_code(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        '"""A module docstring\n'
        'over two lines."""\n'
        "\n"
        "# A comment on its own line.\n"
        "import os  # a comment after code\n"
        "\n"
        "\n"
        "def here() -> str:\n"
        '    """Return the working directory."""\n'
        "    # Why, not what.\n"
        "    return os.getcwd()\n"
    )
    assert code_lines(source) == 3


def test_lines_holding_only_strings_are_code(tmp_path: Path) -> None:
    """An entry of a settings list is code; a line of closing brackets counts as blank."""
    source = tmp_path / "settings.py"
    source.write_text('MIDDLEWARE = [\n    "a.Middleware",\n    "b.Middleware",\n]\n')
    assert code_lines(source) == 3


@pytest.mark.parametrize("app", APPS)
def test_imports_match_the_framework_and_its_extensions(app: str) -> None:
    """Check what the app imports: its framework (and what it brings), plus EXTENSIONS."""
    imported: set[str] = set()
    for path in package_dir(app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    third_party = imported - PROJECT_PACKAGES - set(sys.stdlib_module_names)
    owners = metadata.packages_distributions()
    distributions = {footprint.normalize(owners[module][0]) for module in third_party}
    assert distributions <= names(dependencies(app))
    assert distributions - closure([footprint.FRAMEWORKS[app]]) == set(EXTENSIONS[app])


def test_flask_needs_werkzeug_not_the_shared_core() -> None:
    deps = dependencies("flask")
    assert deps["direct"] == ["flask"]
    assert deps["extensions"] == []
    assert {"flask", "werkzeug", "jinja2"} <= names(deps)
    assert names(deps).isdisjoint({"numpy", "scikit-learn", "django"})


def test_django_needs_drf_and_its_own_dependencies() -> None:
    deps = dependencies("django")
    assert deps["direct"] == ["django", "djangorestframework"]
    assert deps["extensions"] == ["djangorestframework"]
    assert {"django", "djangorestframework", "asgiref", "sqlparse"} <= names(deps)
    assert names(deps).isdisjoint({"numpy", "flask", "werkzeug"})


@pytest.mark.parametrize("app", APPS)
def test_the_shared_core_is_subtracted(app: str) -> None:
    assert names(dependencies(app)).isdisjoint(closure(SHARED_CORE))
    assert "scipy" in closure(SHARED_CORE)


@pytest.mark.parametrize(
    ("measure", "name"),
    [
        (dependencies, "flask"),
        (dependencies, "django"),
        (framework_footprint, "flask"),
        (framework_footprint, "django"),
    ],
    ids=["flask", "django", "flask-alone", "django-alone"],
)
def test_sizes_are_positive_and_total_is_their_sum(
    measure: Callable[[str], Dependencies], name: str
) -> None:
    deps = measure(name)
    sizes = [dist["size_bytes"] for dist in deps["distributions"]]
    assert sizes
    assert all(size > 0 for size in sizes)
    assert deps["total_bytes"] == sum(sizes)


def test_framework_alone_is_the_whole_closure() -> None:
    assert names(framework_footprint("django")) == {"django", "asgiref", "sqlparse"}
    assert names(framework_footprint("flask")) <= names(dependencies("flask"))


def test_size_counts_recorded_files_without_bytecode(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_bytes(b"x" * 10)
    (tmp_path / "pkg" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"y" * 100)
    info = tmp_path / "fake-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake\nVersion: 1.0\n")
    (info / "RECORD").write_text(
        "pkg/__init__.py,,10\n"
        "pkg/__pycache__/__init__.cpython-311.pyc,,100\n"
        "pkg/deleted.py,,5\n"
        "fake-1.0.dist-info/METADATA,,\n"
        "fake-1.0.dist-info/RECORD,,\n"
    )
    expected = 10 + (info / "METADATA").stat().st_size + (info / "RECORD").stat().st_size
    assert size_bytes(metadata.PathDistribution(info)) == expected


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("Jinja2>=3.1.2", "jinja2"),
        ("markupsafe>=2.1.1", "markupsafe"),
        ('asgiref>=3.2 ; extra == "async"', None),
        ("sphinx; extra == 'doc'", None),
        ("importlib-metadata>=3.6.0; python_version < '3.10'", None),
    ],
)
def test_requirements_whose_markers_do_not_apply_are_skipped(
    requirement: str, expected: str | None
) -> None:
    assert footprint._needed_by_markers(requirement) == expected


def test_the_fallback_without_packaging_finds_the_same_closures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roots = ("flask", "django", "djangorestframework", *SHARED_CORE)
    with_packaging = {root: closure([root]) for root in roots}
    monkeypatch.setattr(footprint, "needed", footprint._needed_without_packaging)
    assert {root: closure([root]) for root in roots} == with_packaging
    assert footprint._needed_without_packaging('asgiref>=3.2 ; extra == "async"') is None
    assert footprint._needed_without_packaging("Jinja2>=3.1.2") == "jinja2"
