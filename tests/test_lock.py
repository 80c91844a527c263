"""The lock files: pinned and hashed, one version per package, installed and recorded as documented.

requirements/runtime.txt, bench.txt and dev.txt are written by `make lock` from pyproject.toml,
requirements/mlserver.txt (MLServer's own venv, which serves the same model.joblib) from
requirements/mlserver.in.
These tests read the files as pip does (tests/locks.py), read what `make` would run from
`make --dry-run` itself, and call the function that records the lock in a run's results. What
the Dockerfile installs is checked with the rest of the Dockerfile, in tests/test_containers.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shlex
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks.cpus import CpuSet
from benchmarks.measure import environment
from benchmarks.plan import Setup
from benchmarks.report import render
from tests.locks import (
    EXTRAS,
    LOCKS,
    MLSERVER_INPUT,
    MLSERVER_LOCK,
    PEER_INPUTS,
    PEER_LOCKS,
    REPO,
    TOOL_LOCKS,
    Pin,
    logical_lines,
    read,
)

SAMPLE = REPO / "tests" / "benchmarks" / "data" / "results-sample.json"
# The audiences from the smallest to the fullest: each lock holds every pin of the one before.
AUDIENCES = list(EXTRAS)
# What a model.joblib is bound to (its manifest records their versions; model.load refuses
# others): MLServer must unpickle it with the versions the apps run.
MODEL_STACK = ("scikit-learn", "numpy", "joblib")


@pytest.fixture(scope="module")
def pins() -> dict[str, dict[str, Pin]]:
    """Return each audience's lock file, read."""
    return {audience: read(REPO / path) for audience, path in LOCKS.items()}


@pytest.fixture(scope="module")
def tool_pins() -> dict[str, dict[str, Pin]]:
    """Return each tool's lock file, read."""
    return {tool: read(REPO / lock) for tool, (lock, _) in TOOL_LOCKS.items()}


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    """Return pyproject.toml's [project] table."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def requirements(project: dict[str, Any], audience: str) -> list[Requirement]:
    """Return what pyproject.toml asks for on behalf of one audience."""
    listed = project["dependencies"] + [
        line for extra in EXTRAS[audience] for line in project["optional-dependencies"][extra]
    ]
    return [Requirement(line) for line in listed]


def make(*args: str) -> list[list[str]]:
    """Return the commands `make --dry-run` prints for the arguments, each split into words."""
    # A make above this one (`make test`) must not pass its flags down.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        ["make", "--dry-run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.replace("\\\n", " ")
    return [shlex.split(line) for line in text.splitlines() if line.strip()]


def pip_installs(commands: list[list[str]]) -> list[list[str]]:
    """Return the pip install commands among ``commands``, from "install" on."""
    found = []
    for words in commands:
        for i, (word, following) in enumerate(itertools.pairwise(words)):
            # `pip install` and `python -m pip install` alike.
            if Path(word).name == "pip" and following == "install":
                found.append(words[i + 1 :])
                break
    return found


# -- the files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_requirement_is_pinned_and_hashed(
    pins: dict[str, dict[str, Pin]], audience: str
) -> None:
    # read() has already refused anything but name==version followed by --hash options.
    assert pins[audience], f"{LOCKS[audience]} pins nothing"
    unhashed = [pin.name for pin in pins[audience].values() if not pin.hashes]
    assert not unhashed, f"{LOCKS[audience]}: no --hash for {unhashed}"


def test_locks_nest_with_one_version_per_package(pins: dict[str, dict[str, Pin]]) -> None:
    """Each lock holds the one before it exactly: same versions, same hashes."""
    for smaller, fuller in itertools.pairwise(AUDIENCES):
        missing = set(pins[smaller]) - set(pins[fuller])
        assert not missing, f"{LOCKS[fuller]} lacks {sorted(missing)} of {LOCKS[smaller]}"
        for name, pin in pins[smaller].items():
            other = pins[fuller][name]
            assert other.version == pin.version, (name, LOCKS[smaller], LOCKS[fuller])
            assert other.hashes == pin.hashes, (name, LOCKS[smaller], LOCKS[fuller])


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_lock_holds_what_pyproject_asks_for(
    pins: dict[str, dict[str, Pin]], project: dict[str, Any], audience: str
) -> None:
    """A requirement changed in pyproject.toml without `make lock` fails here."""
    for requirement in requirements(project, audience):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins[audience], f"{LOCKS[audience]} lacks {requirement}: run make lock"
        version = pins[audience][name].version
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{LOCKS[audience]} pins {name}=={version}, outside {requirement}: run make lock"
        )


def test_runtime_lock_carries_no_load_generator_or_test_tool(
    pins: dict[str, dict[str, Pin]], project: dict[str, Any]
) -> None:
    """The apps' image installs the runtime lock: no Locust, psutil, pygount or test tool."""
    runtime = set(pins["runtime"])
    extras = project["optional-dependencies"]
    bench = {canonicalize_name(Requirement(line).name) for line in extras["bench"]}
    dev = {canonicalize_name(Requirement(line).name) for line in extras["dev"]}
    assert {"locust", "psutil", "pygount"} <= bench
    # Jinja2 is there all the same: Flask requires it.
    assert not (bench - {"jinja2"}) & runtime
    assert not dev & runtime


@pytest.mark.parametrize("tool", TOOL_LOCKS)
def test_each_tool_lock_is_pinned_hashed_and_holds_its_requirements(
    tool_pins: dict[str, dict[str, Pin]], tool: str
) -> None:
    """A tool's lock pins every distribution with a hash, and what its .in file asks for."""
    lock, source = TOOL_LOCKS[tool]
    assert tool_pins[tool], f"{lock} pins nothing"
    unhashed = [pin.name for pin in tool_pins[tool].values() if not pin.hashes]
    assert not unhashed, f"{lock}: no --hash for {unhashed}"
    for _, line in logical_lines((REPO / source).read_text()):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in tool_pins[tool], f"{lock} lacks {requirement}: run make lock"
        version = tool_pins[tool][name].version
        assert requirement.specifier.contains(version), f"{lock}: {name}=={version}"


def test_make_test_installs_checkov_from_its_lock_into_a_venv_of_its_own(tmp_path: Path) -> None:
    """`make test` needs checkov's venv, made from its lock with hashes, remade when it changes."""
    lock, _ = TOOL_LOCKS["checkov"]
    stamp = tmp_path / "checkov" / ".installed"
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    for ready in (".installed-dev", ".installed-bench"):
        (tmp_path / ready).touch()
    # MLServer's venv and every peer's are ready: the one install left is checkov's.
    mlserver = tmp_path / "mls"
    (mlserver / "bin").mkdir(parents=True)
    (mlserver / "bin" / "python").touch()
    (mlserver / ".installed-mlserver").touch()
    for peer in PEER_LOCKS:
        (tmp_path / "peers" / peer).mkdir(parents=True)
        (tmp_path / "peers" / peer / ".installed").touch()
    venvs = (f"MLSERVER_VENV={mlserver}", f"PEERS_VENV={tmp_path}/peers")
    test = make(f"VENV={tmp_path}", *venvs, "test")
    installs = pip_installs(test)
    assert len(installs) == 1, f"make test does not install checkov first: {installs}"
    (locked,) = installs
    assert "--require-hashes" in locked
    assert locked[locked.index("--requirement") + 1] == lock
    # Into its own venv, not the project's.
    (pip,) = [words[0] for words in test if words[1:2] == ["install"]]
    assert Path(pip) == tmp_path / "checkov" / "bin" / "pip"
    stamp.parent.mkdir()
    stamp.touch()
    assert not pip_installs(make(f"VENV={tmp_path}", str(stamp))), "checkov is reinstalled"
    again = pip_installs(make(f"--what-if={lock}", f"VENV={tmp_path}", str(stamp)))
    assert len(again) == 1, f"checkov's venv is not remade when {lock} changes"


def test_environment_reads_the_locks_as_pip_does(pins: dict[str, dict[str, Pin]]) -> None:
    for audience, path in LOCKS.items():
        expected = {name: pin.version for name, pin in pins[audience].items()}
        assert environment.read_lock(REPO / path) == expected, path


# -- MLServer's own lock -------------------------------------------------------------------------


def test_mlserver_lock_is_hashed_and_holds_what_its_input_asks_for() -> None:
    pins = read(REPO / MLSERVER_LOCK)
    unhashed = [pin.name for pin in pins.values() if not pin.hashes]
    assert not unhashed, f"{MLSERVER_LOCK}: no --hash for {unhashed}"
    wanted = {
        canonicalize_name(Requirement(line).name): Requirement(line)
        for _, line in logical_lines((REPO / MLSERVER_INPUT).read_text())
    }
    assert {name: str(r.specifier) for name, r in wanted.items()} == {
        "mlserver": "==1.7.1",
        "mlserver-sklearn": "==1.7.1",
    }
    for name, requirement in wanted.items():
        assert name in pins, f"{MLSERVER_LOCK} lacks {requirement}: run make lock"
        assert requirement.specifier.contains(pins[name].version), f"{name}: run make lock"


def test_mlserver_lock_has_the_apps_model_stack(pins: dict[str, dict[str, Pin]]) -> None:
    """scikit-learn, numpy and joblib as in runtime.txt, and so is every package both hold."""
    runtime, served = pins["runtime"], read(REPO / MLSERVER_LOCK)
    for name in MODEL_STACK:
        assert name in served, f"{MLSERVER_LOCK} lacks {name}"
        assert served[name].version == runtime[name].version, (name, "run make lock")
        assert served[name].hashes == runtime[name].hashes, (name, "run make lock")
    differing = {
        name: (runtime[name].version, pin.version)
        for name, pin in served.items()
        if name in runtime and pin.version != runtime[name].version
    }
    assert not differing, f"{MLSERVER_LOCK} differs from {LOCKS['runtime']}: {differing}"


# -- the peers' own locks -----------------------------------------------------------------------


@pytest.mark.parametrize("peer", list(PEER_LOCKS))
def test_each_peer_lock_is_hashed_and_holds_its_input_and_the_apps_model_stack(
    pins: dict[str, dict[str, Pin]], peer: str
) -> None:
    """A peer serves the apps' model.joblib: the model stack, and all it shares with the apps,
    at the apps' versions; what its input pins, at that version."""
    served, runtime = read(REPO / PEER_LOCKS[peer]), pins["runtime"]
    assert all(pin.hashes for pin in served.values()), f"{PEER_LOCKS[peer]}: a pin lacks --hash"
    for _, line in logical_lines((REPO / PEER_INPUTS[peer]).read_text()):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in served, f"{PEER_LOCKS[peer]} lacks {requirement}: run make lock"
        assert requirement.specifier.contains(served[name].version), (peer, name)
    for name in MODEL_STACK:
        assert served[name].hashes == runtime[name].hashes, (peer, name, "run make lock")
    differing = {
        name: (runtime[name].version, pin.version)
        for name, pin in served.items()
        if name in runtime and pin.version != runtime[name].version
    }
    assert not differing, f"{PEER_LOCKS[peer]} differs from {LOCKS['runtime']}: {differing}"


def test_make_peers_installs_each_lock_with_hashes_into_its_own_venv(tmp_path: Path) -> None:
    """`make peers` installs each peer's lock alone, hash-checked, into .venv-peers/<peer>/, and
    MLServer's into its own venv; an installed peer is not installed again."""
    venvs = f"PEERS_VENV={tmp_path}/peers"
    mlserver = tmp_path / "mls"
    (mlserver / "bin").mkdir(parents=True)
    (mlserver / "bin" / "python").touch()
    (mlserver / ".installed-mlserver").touch()
    locked = [
        words
        for words in make(venvs, f"MLSERVER_VENV={mlserver}", "peers")
        if "--requirement" in words
    ]
    assert [words[words.index("--requirement") + 1] for words in locked] == list(
        PEER_LOCKS.values()
    )
    assert all("--require-hashes" in words for words in locked)
    assert [words[0] for words in locked] == [
        f"{tmp_path}/peers/{p}/bin/python" for p in PEER_LOCKS
    ]
    for peer in PEER_LOCKS:
        (tmp_path / "peers" / peer).mkdir(parents=True)
        (tmp_path / "peers" / peer / ".installed").touch()
    assert not pip_installs(make(venvs, f"MLSERVER_VENV={mlserver}", "peers"))


def test_the_peer_venvs_are_kept_out_of_git_and_docker() -> None:
    assert ".venv-peers/" in (REPO / ".gitignore").read_text().splitlines()
    assert ".venv-peers" in (REPO / ".dockerignore").read_text().splitlines()


# -- how they are written and installed --------------------------------------------------------


def test_make_lock_writes_each_lock_with_hashes_and_a_pinned_uv(tmp_path: Path) -> None:
    commands = make(f"VENV={tmp_path}", "lock")
    (install,) = pip_installs(commands)
    (uv,) = [Requirement(w) for w in install[1:] if not w.startswith("-")]
    assert uv.name == "uv"
    assert [spec.operator for spec in uv.specifier] == ["=="], "pin the version of uv"
    compiles = {}
    for words in commands:
        if Path(words[0]).name == "uv" and words[1:3] == ["pip", "compile"]:
            options = words[3:]
            output = options[options.index("--output-file") + 1]
            compiles[output] = options
    tools = {lock: source for lock, source in TOOL_LOCKS.values()}
    assert set(compiles) == {*LOCKS.values(), MLSERVER_LOCK, *PEER_LOCKS.values(), *tools}
    python = "{}.{}".format(*sys.version_info[:2])
    constraint = {"runtime": None, "bench": LOCKS["runtime"], "dev": LOCKS["bench"]}
    sources = {path: "pyproject.toml" for path in LOCKS.values()} | {MLSERVER_LOCK: MLSERVER_INPUT}
    sources |= {PEER_LOCKS[peer]: PEER_INPUTS[peer] for peer in PEER_LOCKS}
    extras = {path: list(EXTRAS[audience]) for audience, path in LOCKS.items()}
    constraints = {
        path: [constraint[audience]] if constraint[audience] else []
        for audience, path in LOCKS.items()
    }
    # MLServer's lock takes the apps' versions of what they share, the model stack above all.
    extras[MLSERVER_LOCK], constraints[MLSERVER_LOCK] = [], [LOCKS["runtime"]]
    for path in PEER_LOCKS.values():  # and so does each peer's
        extras[path], constraints[path] = [], [LOCKS["runtime"]]
    # A tool's lock: from its own requirements file, alone (checkov's pins clash with the apps').
    for lock, source in tools.items():
        sources[lock], extras[lock], constraints[lock] = source, [], []
    for path, options in compiles.items():
        assert options[0] == sources[path], options
        assert "--generate-hashes" in options
        # Resolved for the Python line the suite and the images run (test_base_images_are_pinned).
        assert options[options.index("--python-version") + 1] == python
        assert [options[i + 1] for i, w in enumerate(options) if w == "--extra"] == extras[path]
        assert [
            options[i + 1] for i, w in enumerate(options) if w == "--constraint"
        ] == constraints[path], path
    # The locks are written in order, each after the one it is constrained by.
    assert list(compiles) == [
        *(LOCKS[audience] for audience in AUDIENCES),
        MLSERVER_LOCK,
        *PEER_LOCKS.values(),
        *tools,
    ]


@pytest.mark.parametrize(
    "path",
    [
        *LOCKS.values(),
        MLSERVER_LOCK,
        *PEER_LOCKS.values(),
        *(lock for lock, _ in TOOL_LOCKS.values()),
    ],
)
def test_each_lock_says_how_to_refresh_it(path: str) -> None:
    header = (REPO / path).read_text().splitlines()[:2]
    assert header[0].startswith("# This file was autogenerated by uv"), header
    assert header[1].strip() == "#    make lock", header


@pytest.mark.parametrize(
    ("stamp", "audience"), [(".installed-bench", "bench"), (".installed-dev", "dev")]
)
def test_make_installs_the_lock_with_hashes_then_the_project(
    tmp_path: Path, stamp: str, audience: str
) -> None:
    """The set-up installs its lock, hash-checked, and reinstalls when the lock changes."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    (tmp_path / stamp).touch()
    target = str(tmp_path / stamp)
    assert not pip_installs(make(f"VENV={tmp_path}", target)), "an installed venv is reinstalled"
    lock = LOCKS[audience]
    installs = pip_installs(make(f"--what-if={lock}", f"VENV={tmp_path}", target))
    assert len(installs) == 2, f"{stamp} is not remade when {lock} changes: {installs}"
    locked, project = installs
    assert "--require-hashes" in locked
    assert locked[locked.index("--requirement") + 1] == lock
    # The project's own dependencies are in the lock already.
    assert "--no-deps" in project
    assert project[project.index("--editable") + 1] == "."


def test_make_installs_the_mlserver_lock_with_hashes_into_its_own_venv(tmp_path: Path) -> None:
    """`make mlserver` installs the lock alone, hash-checked, and again when it changes."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    (tmp_path / ".installed-mlserver").touch()
    venv = f"MLSERVER_VENV={tmp_path}"
    assert not pip_installs(make(venv, "mlserver")), "an installed venv is reinstalled"
    (install,) = pip_installs(make(f"--what-if={MLSERVER_LOCK}", venv, "mlserver"))
    assert "--require-hashes" in install
    assert install[install.index("--requirement") + 1] == MLSERVER_LOCK


def test_make_test_sets_up_mlserver_and_every_peer(tmp_path: Path) -> None:
    """A fresh clone's `make test` (CI's command) has MLServer for tests/test_mlserver.py, the
    FastAPI peer for tests/benchmarks/test_peers.py, LitServe and BentoML for their batching."""
    for stamp in (".installed-bench", ".installed-dev"):
        (tmp_path / stamp).touch()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    # checkov's venv is ready: the installs left are MLServer's and the peers'.
    (tmp_path / "checkov").mkdir()
    (tmp_path / "checkov" / ".installed").touch()
    venvs = (f"MLSERVER_VENV={tmp_path}/mls", f"PEERS_VENV={tmp_path}/peers")
    installs = pip_installs(make(f"VENV={tmp_path}", *venvs, "test"))
    locks = [
        words[words.index("--requirement") + 1] for words in installs if "--requirement" in words
    ]
    assert sorted(locks) == sorted([MLSERVER_LOCK, *PEER_LOCKS.values()]), installs


# -- what a run records ------------------------------------------------------------------------


def write_locks(repo: Path, pins: dict[str, dict[str, str]]) -> None:
    """Write lock files into a stand-in repository, one pin a line, hashes left out."""
    (repo / "requirements").mkdir()
    for audience, pinned in pins.items():
        lines = [f"{name}=={version}\n" for name, version in pinned.items()]
        (repo / LOCKS[audience]).write_text("# make lock\n" + "".join(lines))


def sha256(path: Path) -> str:
    """Return a file's sha256 in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lock_record_names_the_fullest_lock_the_environment_matches(tmp_path: Path) -> None:
    runtime = {"pytest": metadata.version("pytest")}
    bench = runtime | {"packaging": metadata.version("packaging")}
    dev = bench | {"no-such-distribution": "1.0"}
    write_locks(tmp_path, {"runtime": runtime, "bench": bench, "dev": dev})
    record = environment.lock(tmp_path)
    assert record == {
        "file": LOCKS["bench"],
        "sha256": sha256(tmp_path / LOCKS["bench"]),
        "matches": True,
    }


def test_lock_record_says_what_differs_from_the_bench_lock(tmp_path: Path) -> None:
    installed = metadata.version("pytest")
    write_locks(tmp_path, {"runtime": {"pytest": "0.0.1"}, "bench": {"pytest": "0.0.1"}})
    record = environment.lock(tmp_path)
    assert record["file"] == LOCKS["bench"]
    assert record["sha256"] == sha256(tmp_path / LOCKS["bench"])
    assert record["matches"] is False
    assert record["differs"] == {"pytest": f"locked 0.0.1, installed {installed}"}
    assert environment.lock(tmp_path / "elsewhere") == {"file": "not found"}


def test_fingerprint_records_the_lock_of_this_environment(tmp_path: Path) -> None:
    setup = Setup(tmp_path, CpuSet.parse("0"), CpuSet.parse("1"), 0, tmp_path / "payloads.json")
    record = environment.fingerprint(setup)["lock"]
    assert record["file"] in LOCKS.values()
    assert record["sha256"] == sha256(REPO / record["file"])
    # `make test` installed this venv from the dev lock; a hand-made change shows here.
    assert record["matches"], record.get("differs")


def test_report_lists_the_lock_with_the_environment() -> None:
    results = json.loads(SAMPLE.read_text())
    results["environment"]["lock"] = environment.lock()
    markdown = render.render_markdown(results)
    section = markdown[markdown.index("\n## Environment\n") :]
    assert "lock.sha256" in section
    assert results["environment"]["lock"]["sha256"] in section
