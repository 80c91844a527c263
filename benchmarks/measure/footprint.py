"""Measure what each app costs to read and to install: its code lines and its dependencies.

Code lines are counted by pygount: no blank lines, no comments, no docstrings. Dependencies are
read from the installed distributions' metadata, without pip: what an app needs beyond the shared
core (the model's libraries and gunicorn), which every target installs anyway.

Run ``python -m benchmarks footprint`` for a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pygount

try:
    from packaging.requirements import Requirement

    HAVE_PACKAGING = True
except ImportError:  # packaging comes with the dev tools (pytest), not with the apps
    HAVE_PACKAGING = False

from benchmarks import REPO
from benchmarks.results.records import Dependencies, Distribution, LinesOfCode

PACKAGES = {"flask": "flask_app", "django": "django_app"}

# Twin files side by side (STYLE.md, "Parallel names"); every file of each package is in one.
CONCERNS: dict[str, dict[str, list[str]]] = {
    "assembly and settings": {
        "flask": ["__init__.py"],
        "django": ["settings.py", "urls.py", "apps.py", "__init__.py"],
    },
    "JSON in and out": {"flask": ["codec.py"], "django": ["codec.py"]},
    "request envelope": {"flask": ["schemas.py"], "django": ["serializers.py"]},
    "endpoints": {"flask": ["api.py"], "django": ["views.py"]},
    "the Open Inference Protocol v2": {"flask": ["api_v2.py"], "django": ["views_v2.py"]},
    "error mapping": {"flask": ["errors.py"], "django": ["exceptions.py"]},
    # Django's middleware.py holds both: the contract's headers and the metrics of every request.
    "request hooks (headers, metrics)": {
        "flask": ["headers.py", "metrics.py"],
        "django": ["middleware.py"],
    },
    "server entry": {"flask": ["wsgi.py"], "django": ["wsgi.py"]},
}

FRAMEWORKS = {"flask": "flask", "django": "django"}
# Third-party add-ons each app installs on top of its framework. The Flask app imports only
# flask and werkzeug (a dependency of Flask), so it has none.
EXTENSIONS: dict[str, list[str]] = {"flask": [], "django": ["djangorestframework"]}
# Installed for every target, the bare-WSGI baseline included.
SHARED_CORE = ("numpy", "scikit-learn", "joblib", "gunicorn")

_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """Return a distribution name in its normalized form (PEP 503): lowercase, '-' only."""
    return re.sub(r"[-_.]+", "-", name).lower()


# -- lines of code ---------------------------------------------------------------------------


def package_dir(app: str) -> Path:
    """Return the package directory of an app ("flask" or "django")."""
    return REPO / PACKAGES[app]


def package_files(app: str) -> list[str]:
    """Return the .py files of an app's package, relative to the package, sorted."""
    root = package_dir(app)
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.py"))


def code_lines(path: Path) -> int:
    """Count the lines of a Python file that hold code, string literals included."""
    analysis = pygount.SourceAnalysis.from_file(str(path), "footprint")
    # pygount turns a string right after a colon (or at the top of a module) into a comment,
    # so docstrings count as documentation. A line holding only other strings, such as an entry
    # of MIDDLEWARE, goes to string_count: it is code here, so source_count (code + string).
    return analysis.source_count


def lines_of_code(app: str) -> LinesOfCode:
    """Count the code lines of every file of an app's package, per file and per concern."""
    root = package_dir(app)
    files = {name: code_lines(root / name) for name in package_files(app)}
    concerns = {
        concern: sum(files[name] for name in by_app[app]) for concern, by_app in CONCERNS.items()
    }
    return {"files": files, "concerns": concerns, "total": sum(files.values())}


# -- dependencies ----------------------------------------------------------------------------


def _needed_by_markers(requirement: str) -> str | None:
    """Return the name a requirement needs here, or None when its markers exclude it."""
    parsed = Requirement(requirement)
    # With no "extra" in the environment, extras-only requirements evaluate false.
    if parsed.marker is not None and not parsed.marker.evaluate():
        return None
    return normalize(parsed.name)


def _needed_without_packaging(requirement: str) -> str | None:
    """Return the name a requirement may need here, judging its markers without packaging."""
    name_part, _, marker = requirement.partition(";")
    match = _REQUIREMENT_NAME.match(name_part)
    if match is None:
        raise ValueError(f"cannot read the requirement {requirement!r}")
    if "extra" in marker:
        return None
    name = normalize(match.group(1))
    # Other markers cannot be evaluated here: count the requirement when it is installed, which
    # may count too much but never too little.
    if marker.strip() and not _installed(name):
        return None
    return name


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


# The markers decide when packaging can read them.
needed = _needed_by_markers if HAVE_PACKAGING else _needed_without_packaging


def closure(names: Iterable[str]) -> set[str]:
    """Return the given distributions and everything they require here, transitively."""
    found: set[str] = set()
    pending = [normalize(name) for name in names]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        # A requirement that applies but is not installed raises PackageNotFoundError: the
        # figures of a broken environment would be wrong.
        for requirement in metadata.distribution(name).requires or []:
            required = needed(requirement)
            if required is not None:
                pending.append(required)
    return found


def size_bytes(dist: metadata.Distribution) -> int:
    """Return the bytes of the files a distribution installed, without compiled bytecode."""
    if dist.files is None:
        raise ValueError(f"{dist.metadata['Name']} has no RECORD; its size cannot be measured")
    total = 0
    for file in dist.files:
        # Bytecode depends on whether anything was imported or compiled yet, not on the package.
        if "__pycache__" in file.parts and file.suffix == ".pyc":
            continue
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def distribution(name: str) -> Distribution:
    """Describe one installed distribution."""
    dist = metadata.distribution(name)
    return {
        "name": normalize(dist.metadata["Name"]),
        "version": dist.version,
        "size_bytes": size_bytes(dist),
    }


def _dependencies(direct: list[str], extensions: list[str], names: set[str]) -> Dependencies:
    distributions = [distribution(name) for name in sorted(names)]
    return {
        "direct": direct,
        "extensions": extensions,
        "distributions": distributions,
        "total_bytes": sum(dist["size_bytes"] for dist in distributions),
    }


def dependencies(app: str) -> Dependencies:
    """Return what an app ("flask" or "django") installs beyond the shared core."""
    direct = [FRAMEWORKS[app], *EXTENSIONS[app]]
    return _dependencies(direct, EXTENSIONS[app], closure(direct) - closure(SHARED_CORE))


def framework_footprint(framework: str) -> Dependencies:
    """Return what a framework alone ("flask" or "django") installs, its dependencies included."""
    direct = [FRAMEWORKS[framework]]
    return _dependencies(direct, [], closure(direct))
