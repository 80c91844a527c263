"""The containers, checked without a Docker engine: Dockerfile, .dockerignore, docker-compose.yml.

Nothing is built or started. The real Compose binary renders the compose file for every profile,
the Compose Specification's schema and hadolint check both files, each image's policy and contents
are read from the Dockerfile's instructions (the lock files it installs, from requirements/, are
read here too), and every command a container runs is run here, in the venv (which plays the
image's /opt/venv, holding what both images hold), with container paths mapped to the repository
or to temporary directories standing in for the volumes. What the venv cannot tell apart, which
image has which program, is checked against the Dockerfile.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks.serving import gunicorn
from tests import locks

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
PYPROJECT = REPO / "pyproject.toml"

APPS = ("flask", "django")
# Services each profile adds to the ones without a profile, which `docker compose up` starts.
PROFILE_SERVICES = {
    (): {"train", "flask", "django", "flask-proxy", "django-proxy"},
    ("load",): {"locust", "locust-worker"},
    ("bench",): {"bench"},
}
# The Dockerfile stage each service runs: the apps' image must carry no load generator.
APP_STAGE = "runtime"
BENCH_STAGE = "bench"
SERVICE_STAGES = {
    "train": APP_STAGE,
    "flask": APP_STAGE,
    "django": APP_STAGE,
    "flask-proxy": APP_STAGE,
    "django-proxy": APP_STAGE,
    "locust": BENCH_STAGE,
    "locust-worker": BENCH_STAGE,
    "bench": BENCH_STAGE,
}
# What the user puts in .env; compose refuses to render the file without it.
SECRET = {"DJANGO_SECRET_KEY": "compose-config-test-only"}
# Settings of the apps that must reach a command only from the service's environment.
APP_SETTING_PREFIXES = ("DJANGO_", "MLAPI_", "GUNICORN_", "WEB_CONCURRENCY", "FLASK_")


def tool(name: str) -> str:
    """Return the path of a command-line tool installed in the venv."""
    path = VENV_BIN / name
    assert path.exists(), f"{name} is missing from the venv: pip install --editable '.[dev]'"
    return str(path)


def run(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output."""
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def compose(
    *args: str, profiles: tuple[str, ...] = (), secret: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the Compose binary on the compose file, with .env.example as its .env file."""
    # Only PATH and HOME from this process: a developer's own .env, COMPOSE_* or port variables
    # must not change what is checked.
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    if secret:
        env.update(SECRET)
    argv = [tool("docker-compose"), "--file", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE)]
    for profile in profiles:
        argv += ["--profile", profile]
    return run([*argv, *args], env=env)


# -- reading the Dockerfile ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, its continuation lines joined."""

    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """Return the JSON array of an exec-form instruction, else None."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list), self
        assert all(isinstance(item, str) for item in value), self
        return value


@dataclass
class Stage:
    """One build stage, with the ENV and WORKDIR it inherits from an earlier stage."""

    name: str | None
    base: str
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    parent: Stage | None = None

    def all(self, keyword: str) -> list[Instruction]:
        """Return this stage's own instructions of one kind, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def lineage(self) -> list[Stage]:
        """Return the stages this one is built on, the oldest first, and this one."""
        return [*(self.parent.lineage() if self.parent else []), self]

    def inherited(self, keyword: str) -> list[Instruction]:
        """Return the instructions of one kind in this stage and the stages it is built on."""
        return [i for stage in self.lineage() for i in stage.all(keyword)]

    def last(self, keyword: str) -> Instruction | None:
        """Return the instruction of one kind that takes effect in this stage."""
        found = self.inherited(keyword)
        return found[-1] if found else None


def read_instructions(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions: comments dropped, continuation lines joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        # Docker drops comment lines even inside a continued instruction.
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line[:-1].strip() if continued else line)
        if continued:
            continue
        keyword, _, args = " ".join(pending).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    assert not any("<<" in i.args and i.keyword in {"RUN", "COPY"} for i in instructions), (
        "heredocs are not understood by this parser"
    )
    return instructions


def read_stages(text: str) -> list[Stage]:
    """Group a Dockerfile's instructions into stages, resolving global ARGs in FROM."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in read_instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            # A FROM may use the ARGs declared before the first FROM; their defaults apply.
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m[1], ""), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            parent = next((s for s in stages if s.name == base), None)
            stage = Stage(name, base, parent=parent)
            if parent:
                stage.env = dict(parent.env)
                stage.workdir = parent.workdir
            stages.append(stage)
        elif not stages:
            assert instruction.keyword == "ARG", instruction
            key, _, default = instruction.args.partition("=")
            global_args[key.strip()] = default.strip().strip("\"'")
        else:
            stage = stages[-1]
            stage.instructions.append(instruction)
            if instruction.keyword == "ENV":
                stage.env.update(parse_env(instruction.args))
            elif instruction.keyword == "WORKDIR":
                stage.workdir = posixpath.join(stage.workdir, instruction.args.strip())
    return stages


def parse_env(args: str) -> dict[str, str]:
    """Return the variables an ENV instruction sets (KEY=VALUE pairs, or the old KEY VALUE)."""
    words = shlex.split(args)
    if "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def copy_parts(instruction: Instruction) -> tuple[dict[str, str], list[str], str]:
    """Return a COPY's flags, sources and destination."""
    words = instruction.exec_form() or shlex.split(instruction.args)
    flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    """Return the Dockerfile's build stages."""
    return read_stages(DOCKERFILE.read_text())


def stage_named(stages: list[Stage], name: str) -> Stage:
    """Return the stage of that name."""
    named = [s for s in stages if s.name == name]
    assert named, f"the Dockerfile has no stage {name!r}"
    return named[0]


def pip_installs(stage: Stage) -> list[tuple[Instruction, list[str]]]:
    """Return each pip install of one stage (not its ancestors): its RUN and its words."""
    installs = []
    for instruction in stage.all("RUN"):
        lexer = shlex.shlex(instruction.args, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        # RUN's own flags (--mount=...) come before the shell's words.
        words = list(itertools.dropwhile(lambda w: w.startswith("--"), lexer))
        # The words of each command the shell runs, split where && or ; separates them.
        bounds = [-1, *(i for i, w in enumerate(words) if w in {"&&", ";"}), len(words)]
        for start, end in itertools.pairwise(bounds):
            command = words[start + 1 : end]
            if command[:2] == ["pip", "install"]:
                installs.append((instruction, command))
    return installs


def requirement_files(command: list[str]) -> list[str]:
    """Return the files a pip install command reads requirements from."""
    files = [command[i + 1] for i, w in enumerate(command) if w in {"-r", "--requirement"}]
    return files + [w.split("=", 1)[1] for w in command if w.startswith("--requirement=")]


def context_file(stage: Stage, run: Instruction, path: str) -> str:
    """Return the build-context path of a file a RUN reads: bind-mounted by it, or copied before.

    The lock files come from the build context only: no stage writes one.
    """
    absolute = posixpath.join(stage.workdir, path)
    for mount in re.findall(r"--mount=(\S+)", run.args):
        options = dict(o.partition("=")[::2] for o in mount.split(","))
        if options.get("type") == "bind" and options.get("target") == absolute:
            assert "from" not in options, f"line {run.line}: {path} does not come from the context"
            return options["source"]
    # A copied file: the images mirror the repository under their WORKDIR (the test
    # test_image_mirrors_the_repository_under_its_workdir below).
    relative = PurePosixPath(absolute).relative_to(stage.workdir)
    copied = [
        PurePosixPath(source)
        for member in stage.lineage()
        for instruction in member.all("COPY")
        if "from" not in copy_parts(instruction)[0]
        for source in copy_parts(instruction)[1]
    ]
    assert any(relative.is_relative_to(source) for source in copied), f"nothing provides {path}"
    return str(relative)


def lock_files(stage: Stage) -> list[str]:
    """Return the build-context paths of the files one stage's pip installs read."""
    return [
        context_file(stage, run, path)
        for run, command in pip_installs(stage)
        for path in requirement_files(command)
    ]


def installed_locks(stages: list[Stage], stage: Stage) -> list[str]:
    """Return the lock files pip installs into a stage: in its lineage, or in stages it copies."""
    found: list[str] = []
    for member in stage.lineage():
        found += lock_files(member)
        for instruction in member.all("COPY"):
            flags, _, _ = copy_parts(instruction)
            if "from" in flags:
                found += installed_locks(stages, stage_named(stages, flags["from"]))
    return found


def apt_packages(stage: Stage) -> set[str]:
    """Return the Debian packages apt-get installs in a stage and the stages it is built on."""
    packages = set()
    for instruction in stage.inherited("RUN"):
        for segment in re.split(r"&&|;", instruction.args):
            words = segment.split()
            if words[:2] == ["apt-get", "install"]:
                packages |= {w for w in words[2:] if not w.startswith("-")}
    return packages


def names(requirements: list[str]) -> set[str]:
    """Return the normalized distribution names of requirement strings."""
    return {canonicalize_name(Requirement(r).name) for r in requirements}


@dataclass(frozen=True)
class Image:
    """A stage as a service runs it: the stage, its locked Python distributions, Debian packages."""

    stage: Stage
    distributions: frozenset[str]
    packages: frozenset[str]


@pytest.fixture(scope="module")
def images(stages: list[Stage], config: dict[str, Any]) -> dict[str, Image]:
    """Return the image each service runs, its compose build target."""
    built: dict[str, Image] = {}
    found = {}
    for name, service in config["services"].items():
        target = service["build"]["target"]
        if target not in built:
            stage = stage_named(stages, target)
            distributions = {
                name for lock in installed_locks(stages, stage) for name in locks.read(REPO / lock)
            }
            built[target] = Image(stage, frozenset(distributions), frozenset(apt_packages(stage)))
        found[name] = built[target]
    return found


@pytest.fixture(scope="module")
def app_image(images: dict[str, Image]) -> Image:
    """Return the image the apps run."""
    return images["flask"]


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    """Return pyproject.toml's [project] table."""
    return tomllib.loads(PYPROJECT.read_text())["project"]


# -- reading .dockerignore -------------------------------------------------------------------


def glob_regex(pattern: str) -> str:
    """Translate a .dockerignore pattern (Go's filepath.Match plus **) into a regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out) + r"\Z"


def dockerignored(path: str) -> bool:
    """Return whether .dockerignore keeps a context-relative path out of the build context."""
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = posixpath.normpath(line.removeprefix("!").strip().lstrip("/"))
        rules.append((not keep, re.compile(glob_regex(pattern))))
    parts = PurePosixPath(posixpath.normpath(path)).parts
    # A pattern excludes a path when it matches the path or any directory above it; the last
    # matching line wins, so a later "!" line can bring a path back.
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for exclude, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = exclude
    return excluded


# -- the compose file as Compose renders it --------------------------------------------------


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """Return the compose file as Compose renders it with every profile active."""
    result = compose("config", "--format", "json", profiles=("*",))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def depends(config: dict[str, Any], condition: str) -> list[tuple[str, str]]:
    """Return every (service, dependency) pair waiting on the given condition."""
    return [
        (name, target)
        for name, service in config["services"].items()
        for target, how in service.get("depends_on", {}).items()
        if how["condition"] == condition
    ]


def gunicorn_config_file(argv: list[str]) -> str:
    """Return the settings file a gunicorn command line names."""
    for i, word in enumerate(argv):
        if word in {"-c", "--config"}:
            return argv[i + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    raise AssertionError(f"gunicorn runs without a settings file: {argv}")


@pytest.mark.parametrize("profiles", list(PROFILE_SERVICES), ids=["default", "load", "bench"])
def test_compose_renders_each_profile_alone(profiles: tuple[str, ...]) -> None:
    # Compose refuses a file whose active services depend on one a profile leaves out.
    result = compose("config", "--services", profiles=profiles)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == PROFILE_SERVICES[()] | PROFILE_SERVICES[profiles]


def test_every_profile_is_checked(config: dict[str, Any]) -> None:
    used = {p for service in config["services"].values() for p in service.get("profiles", [])}
    assert {(p,) for p in used} == set(PROFILE_SERVICES) - {()}


def test_compose_file_fits_the_compose_specification() -> None:
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_has_no_version_key() -> None:
    assert not re.search(r"^version\s*:", COMPOSE_FILE.read_text(), re.MULTILINE)


def test_django_secret_comes_only_from_the_environment() -> None:
    refused = compose("config", "--quiet", secret=False)
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY" in refused.stderr
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["DJANGO_SECRET_KEY"] == ""  # a placeholder, never a usable key
    ignored = run(["git", "check-ignore", "--quiet", "--no-index", ".env"])
    assert ignored.returncode == 0, ".env must be git-ignored"
    assert dockerignored(".env"), ".env must stay out of the build context"


def test_service_healthy_dependencies_have_health_checks(config: dict[str, Any]) -> None:
    pairs = depends(config, "service_healthy")
    assert pairs, "nothing waits for a healthy app"
    for name, target in pairs:
        check = config["services"][target].get("healthcheck", {})
        assert check.get("test"), f"{name} waits on {target}, which has no health check"
        assert not check.get("disable"), f"{name} waits on {target}, whose check is disabled"


def test_completed_dependencies_are_one_shot_jobs(config: dict[str, Any]) -> None:
    pairs = depends(config, "service_completed_successfully")
    assert pairs, "nothing waits for the train job"
    for name, target in pairs:
        service = config["services"][target]
        assert service.get("restart", "no") == "no", f"{name} waits on {target}"
        policy = service.get("deploy", {}).get("restart_policy", {})
        assert policy.get("condition", "none") == "none", f"{name} waits on {target}"


def test_host_ports_are_unique(config: dict[str, Any]) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for name, service in config["services"].items():
        ports = service.get("ports", [])
        if ports:
            # Replicas of one service cannot all publish the same host port.
            assert service.get("deploy", {}).get("replicas", 1) == 1, name
        for port in ports:
            key = (port.get("host_ip", "0.0.0.0"), str(port["published"]), port["protocol"])
            assert key not in seen, f"{name} and {seen[key]} both publish {key}"
            seen[key] = name
    assert {"8001", "8002", "8089"} <= {published for _, published, _ in seen}


def test_each_service_builds_the_stage_for_its_job(
    config: dict[str, Any], stages: list[Stage]
) -> None:
    targets = {name: service["build"]["target"] for name, service in config["services"].items()}
    assert set(targets.values()) <= {s.name for s in stages}
    assert targets == SERVICE_STAGES
    # One build and one image name per stage, and no name shared between stages: two targets
    # tagged alike would overwrite each other, and a service would run the other one's image.
    images = {}
    for target in set(targets.values()):
        services = [config["services"][name] for name, t in targets.items() if t == target]
        builds = {json.dumps(s["build"], sort_keys=True) for s in services}
        assert len(builds) == 1, target
        (images[target],) = {s["image"] for s in services}
    assert len(set(images.values())) == len(images), images


def test_app_image_installs_the_dependencies_and_no_bench_package(
    images: dict[str, Image], project: dict[str, Any]
) -> None:
    dependencies = names(project["dependencies"])
    bench = names(project["optional-dependencies"]["bench"])
    # Disjoint lists, or the check below could not tell the images apart.
    assert bench
    assert not bench & dependencies
    runtime_lock = set(locks.read(REPO / locks.LOCKS["runtime"]))
    bench_lock = set(locks.read(REPO / locks.LOCKS["bench"]))
    for name, stage in SERVICE_STAGES.items():
        installed = images[name].distributions
        if stage == BENCH_STAGE:
            assert installed == bench_lock, name
            assert dependencies | bench <= installed, name
        else:
            assert installed == runtime_lock, name
            assert dependencies <= installed, name
            # Jinja2 is there all the same: Flask requires it.
            assert not (bench - {"jinja2"}) & installed, name


def test_every_pip_install_checks_hashes_against_a_lock(stages: list[Stage]) -> None:
    """Each stage installs a lock file from the build context, every distribution hash-checked."""
    for stage in stages:
        for run, command in pip_installs(stage):
            where = f"line {run.line}"
            assert "--require-hashes" in command, f"{where}: pip install without --require-hashes"
            files = requirement_files(command)
            assert files, f"{where}: pip install reads no lock file"
            # No package named on the command line, where no hash could be given for it.
            values = {command[i + 1] for i, w in enumerate(command) if w in {"-r", "--requirement"}}
            loose = [w for w in command[2:] if not w.startswith("-") and w not in values]
            assert not loose, f"{where}: {loose} installed outside the lock"
    runtime, bench = locks.LOCKS["runtime"], locks.LOCKS["bench"]
    assert installed_locks(stages, stage_named(stages, APP_STAGE)) == [runtime]
    assert installed_locks(stages, stage_named(stages, BENCH_STAGE)) == [runtime, bench]
    for path in (runtime, bench):
        assert not dockerignored(path), f"{path} is kept out of the build context"


def test_only_the_bench_image_has_wrk(images: dict[str, Image]) -> None:
    # wrk calibrates Locust. (taskset comes with util-linux, which every Debian system has;
    # git is optional: without a checkout the run records its commit as "unknown".)
    for name, stage in SERVICE_STAGES.items():
        assert ("wrk" in images[name].packages) == (stage == BENCH_STAGE), name


def test_apps_are_configured_alike(config: dict[str, Any]) -> None:
    """Fairness: the two apps differ in their WSGI entry point, host port and Django secret."""
    flask, django = (dict(config["services"][name]) for name in APPS)
    assert gunicorn_config_file(flask["command"]) == gunicorn_config_file(django["command"])
    assert flask["command"][-1] != django["command"][-1]
    limits = flask["deploy"]["resources"]["limits"]
    assert limits.get("cpus"), "the apps need an explicit CPU limit"
    assert limits.get("memory"), "the apps need an explicit memory limit"
    assert flask["deploy"] == django["deploy"]
    environments = [
        {k: v for k, v in app.pop("environment").items() if not k.startswith("DJANGO_")}
        for app in (flask, django)
    ]
    assert environments[0] == environments[1]
    for app in (flask, django):
        del app["command"], app["ports"]
    assert flask == django


def test_model_volume_is_written_only_by_the_train_job(config: dict[str, Any]) -> None:
    jobs = {target for _, target in depends(config, "service_completed_successfully")}
    writers = {
        (mount["source"], name)
        for name in jobs
        for mount in config["services"][name].get("volumes", [])
        if mount["type"] == "volume" and not mount.get("read_only")
    }
    assert writers, "the train job writes no named volume"
    written = {source for source, _ in writers}
    for name, service in config["services"].items():
        for mount in service.get("volumes", []):
            if mount.get("source") in written and name not in jobs:
                assert mount.get("read_only"), f"{name} mounts {mount['source']} read-write"
    for app in APPS:
        service = config["services"][app]
        model_dir = PurePosixPath(service["environment"]["MLAPI_MODEL_DIR"])
        assert any(
            m.get("source") in written and model_dir.is_relative_to(m["target"])
            for m in service["volumes"]
        ), f"{app}'s MLAPI_MODEL_DIR is not on the model volume"


def test_named_volumes_are_declared(config: dict[str, Any]) -> None:
    declared = set(config.get("volumes", {}))
    for name, service in config["services"].items():
        for mount in service.get("volumes", []):
            if mount["type"] == "volume":
                assert mount["source"] in declared, f"{name} mounts undeclared {mount['source']}"


def test_bench_report_lands_in_reports_on_the_host(config: dict[str, Any]) -> None:
    bench = config["services"]["bench"]
    out = bench["command"][bench["command"].index("--out") + 1]
    binds = {m["target"]: m["source"] for m in bench["volumes"] if m["type"] == "bind"}
    assert Path(binds[out]) == REPO / "reports"


# -- the Dockerfile --------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    # No HOME: a hadolint configuration of the developer's must not change the verdict.
    env = {"PATH": os.environ.get("PATH", "")}
    result = run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_images_are_pinned(stages: list[Stage]) -> None:
    names = {s.name for s in stages}
    external = [s.base for s in stages if s.base not in names]
    assert external
    for ref in external:
        match = re.fullmatch(
            r"(?P<repo>[^@]+?)(?::(?P<tag>\w[\w.-]*))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?", ref
        )
        assert match, ref
        tag, digest = match["tag"], match["digest"]
        assert tag, f"{ref}: name a version"
        assert tag != "latest", f"{ref}: name a version"
        assert digest or re.search(r"\d+\.\d+\.\d+", tag), f"{ref}: pin a patch version or digest"
        if match["repo"].rpartition("/")[2] == "python":
            # The image runs the Python line this suite runs on.
            assert tag.startswith("{}.{}.".format(*sys.version_info[:2])), ref


@pytest.mark.parametrize("target", sorted(set(SERVICE_STAGES.values())))
def test_final_stage_runs_as_a_numeric_unprivileged_user(stages: list[Stage], target: str) -> None:
    users = stage_named(stages, target).inherited("USER")
    assert users, "the image runs as root"
    # Every USER, the last one's and a switch to root to install alike.
    for user in users:
        match = re.fullmatch(r"(\d+)(?::(\d+))?", user.args)
        assert match, (
            f"USER {user.args}: use numeric IDs, which Kubernetes' runAsNonRoot can verify"
        )
    assert int(match[1]) != 0
    assert match[2] is None or int(match[2]) != 0


@pytest.mark.parametrize("target", sorted(set(SERVICE_STAGES.values())))
def test_commands_are_exec_form(stages: list[Stage], target: str) -> None:
    image = stage_named(stages, target)
    cmd = image.last("CMD")
    assert cmd, "the image has no CMD"
    assert cmd.exec_form(), "CMD must be a JSON array: no shell between Docker and PID 1"
    for entrypoint in image.inherited("ENTRYPOINT"):
        assert entrypoint.exec_form(), entrypoint


def health_probe(image: Stage) -> list[str]:
    """Return the command of the image's HEALTHCHECK."""
    check = image.last("HEALTHCHECK")
    assert check, "the image has no HEALTHCHECK"
    match = re.fullmatch(r"(?:--[\w-]+=\S+\s+)*CMD\s+(?P<command>.+)", check.args, re.DOTALL)
    assert match, f"HEALTHCHECK {check.args}"
    command = Instruction("CMD", match["command"], check.line).exec_form()
    assert command, "HEALTHCHECK CMD must be exec form"
    return command


def test_health_check_asks_for_readiness_with_the_standard_library(
    app_image: Image, config: dict[str, Any]
) -> None:
    probe = health_probe(app_image.stage)
    assert probe[:2] == ["python", "-c"]
    assert "/health/ready" in probe[2]
    imported = set()
    for node in ast.walk(ast.parse(probe[2])):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").partition(".")[0])
    assert imported <= sys.stdlib_module_names, imported
    for app in APPS:
        assert config["services"][app]["healthcheck"]["test"] == ["CMD", *probe]


def test_copy_sources_exist_and_are_in_the_build_context(stages: list[Stage]) -> None:
    copies = [c for s in stages for c in s.all("COPY") + s.all("ADD")]
    assert copies
    for instruction in copies:
        flags, sources, _ = copy_parts(instruction)
        if "from" in flags:
            continue
        for source in sources:
            assert (REPO / source).exists(), f"line {instruction.line}: {source} does not exist"
            # The source files under it, not only the path named: git's view of what is
            # source (tracked, or new and not git-ignored) must all reach the image.
            listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", source])
            assert listed.returncode == 0, listed.stderr
            for path in [source, *listed.stdout.split()]:
                assert not dockerignored(path), f"line {instruction.line}: {path} is ignored"


@pytest.mark.parametrize("target", sorted(set(SERVICE_STAGES.values())))
def test_image_mirrors_the_repository_under_its_workdir(stages: list[Stage], target: str) -> None:
    """Justify mapping the image's WORKDIR to the repository in the command checks below."""
    image = stage_named(stages, target)
    workdir = None
    copied = []
    for instruction in [i for stage in image.lineage() for i in stage.instructions]:
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir or "/", instruction.args)
        if instruction.keyword != "COPY":
            continue
        flags, sources, destination = copy_parts(instruction)
        if "from" in flags:
            continue
        assert workdir, f"line {instruction.line}: set WORKDIR in this stage before copying"
        for source in sources:
            target = posixpath.join(workdir, destination)
            if destination.endswith("/") and not source.endswith("/"):
                target = posixpath.join(target, posixpath.basename(source))
            assert posixpath.normpath(target) == posixpath.join(image.workdir, source.rstrip("/"))
            copied.append(source.rstrip("/"))
    assert "gunicorn.conf.py" in copied


def test_dockerignore_keeps_out_secrets_and_local_state() -> None:
    for path in (
        ".env",
        ".git/config",
        ".venv/bin/python",
        ".venv-mlserver/bin/mlserver",
        ".venv-peers/fastapi/bin/uvicorn",
        "model/artifacts/light/model.joblib",
        "reports/latest/report.md",
        "flask_app/__pycache__/api.cpython-311.pyc",
        ".pytest_cache/README.md",
    ):
        assert dockerignored(path), path
    for path in ("model/runtime.py", "gunicorn.conf.py", "pyproject.toml"):
        assert not dockerignored(path), path


def test_proxies_image_has_nginx(images: dict[str, Image]) -> None:
    # python -m deploy.nginx renders the config, then execs nginx.
    for name in ("flask-proxy", "django-proxy"):
        assert "nginx" in images[name].packages, name


# -- every command a container runs, run here ------------------------------------------------


@dataclass
class Container:
    """A service's command and environment, with container paths mapped to this machine."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


@pytest.fixture(scope="module")
def volumes(tmp_path_factory: pytest.TempPathFactory, config: dict[str, Any]) -> dict[str, Path]:
    """Return a temporary directory standing in for each volume and bind mount."""
    root = tmp_path_factory.mktemp("mounts")
    sources = {m["source"] for s in config["services"].values() for m in s.get("volumes", [])}
    # Bind mounts too: the commands here must not write into the repository.
    return {source: root / re.sub(r"[^\w.-]", "_", source).strip("_") for source in sorted(sources)}


def console_script_distribution(program: str) -> str | None:
    """Return the distribution in the venv whose console script ``program`` is, if any."""
    for dist in metadata.distributions():
        if any(ep.name == program for ep in dist.entry_points.select(group="console_scripts")):
            return canonicalize_name(dist.metadata["Name"])
    return None


def container(built: Image, service: dict[str, Any], volumes: dict[str, Path]) -> Container:
    """Return what a service runs: its command, or the image's, mapped to this machine."""
    image = built.stage
    mounts = {m["target"]: volumes[m["source"]] for m in service.get("volumes", [])}

    def host(value: str) -> str:
        if not value.startswith("/"):
            return value
        path = PurePosixPath(value)
        # The innermost mount wins, then the image's WORKDIR, which mirrors the repository.
        for target, directory in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            if path.is_relative_to(target):
                directory.mkdir(parents=True, exist_ok=True)
                return str(directory / path.relative_to(target))
        if path.is_relative_to(image.workdir):
            return str(REPO / path.relative_to(image.workdir))
        return value

    entrypoint = service.get("entrypoint")
    if entrypoint is None:
        found = image.last("ENTRYPOINT")
        entrypoint = found.exec_form() if found else []
    command = service.get("command")
    if command is None:
        found = image.last("CMD")
        command = found.exec_form() if found else []
    argv = [*entrypoint, *command]
    assert argv, "the service runs nothing"
    # The venv holds what every image holds; the program must come with this service's image.
    if argv[0] != "python":
        owner = console_script_distribution(argv[0])
        assert owner in built.distributions, f"{argv[0]} ({owner}) is not in {image.name}"
    # The venv plays the image's /opt/venv, first on the image's PATH.
    executable = shutil.which(argv[0], path=str(VENV_BIN))
    assert executable, f"{argv[0]} is not installed in the venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_SETTING_PREFIXES)}
    for key, value in {**image.env, **service.get("environment", {})}.items():
        if key != "PATH" and value is not None:
            env[key] = host(value)
    workdir = Path(host(service.get("working_dir") or image.workdir))
    return Container([executable, *map(host, argv[1:])], env, workdir)


def commands(
    config: dict[str, Any], images: dict[str, Image], volumes: dict[str, Path], program: str
) -> Iterator[tuple[str, Container]]:
    """Yield (service name, container) for every service whose command runs ``program``."""
    for name, service in config["services"].items():
        spec = container(images[name], service, volumes)
        if Path(spec.argv[0]).name == program:
            yield name, spec


@pytest.fixture(scope="module")
def after_jobs(
    config: dict[str, Any], images: dict[str, Image], volumes: dict[str, Path]
) -> dict[str, Path]:
    """Run the one-shot jobs the other services wait for (the train job); return the volumes."""
    jobs = sorted({target for _, target in depends(config, "service_completed_successfully")})
    assert jobs
    for name in jobs:
        spec = container(images[name], config["services"][name], volumes)
        result = run(spec.argv, env=spec.env, cwd=spec.cwd)
        assert result.returncode == 0, f"{name}: {result.stderr}"
    return volumes


def test_train_job_fills_the_model_volume(
    config: dict[str, Any], after_jobs: dict[str, Path]
) -> None:
    train = config["services"]["train"]
    (volume,) = [m["source"] for m in train["volumes"] if m["type"] == "volume"]
    for variant in ("light", "heavy"):
        assert (after_jobs[volume] / variant / "manifest.json").is_file()
        assert (after_jobs[volume] / variant / "model.joblib").is_file()


def test_gunicorn_services_load_their_app(
    config: dict[str, Any], images: dict[str, Image], after_jobs: dict[str, Path]
) -> None:
    """gunicorn --check-config imports the app, which loads the model from the volume."""
    checked = set()
    for name, spec in commands(config, images, after_jobs, "gunicorn"):
        settings = Path(spec.cwd, gunicorn_config_file(spec.argv))
        assert settings.is_file(), settings
        result = run([spec.argv[0], "--check-config", *spec.argv[1:]], env=spec.env, cwd=spec.cwd)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
        checked.add(name)
    assert set(APPS) <= checked


def test_locust_services_find_their_user_classes(
    config: dict[str, Any], images: dict[str, Image], volumes: dict[str, Path]
) -> None:
    checked = set()
    for name, spec in commands(config, images, volumes, "locust"):
        locustfile = Path(spec.cwd, spec.argv[spec.argv.index("-f") + 1])
        users = [
            node.name
            for node in ast.parse(locustfile.read_text()).body
            if isinstance(node, ast.ClassDef)
            and any(getattr(base, "id", "").endswith("User") for base in node.bases)
        ]
        assert users, f"{locustfile} defines no user class"
        result = run([*spec.argv, "--list"], env=spec.env, cwd=spec.cwd)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        for user in users:
            assert re.search(rf"^\s+{user}$", result.stdout, re.MULTILINE), result.stdout
        checked.add(name)
    assert checked == {"locust", "locust-worker"}


def test_python_module_services_exist(
    config: dict[str, Any], images: dict[str, Image], volumes: dict[str, Path]
) -> None:
    checked = set()
    for name, spec in commands(config, images, volumes, "python"):
        assert spec.argv[1] == "-m", spec.argv
        result = run([*spec.argv, "--help"], env=spec.env, cwd=spec.cwd)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        checked.add(name)
    assert {"train", "bench", "flask-proxy", "django-proxy"} <= checked


def test_bench_command_line_parses(
    config: dict[str, Any],
    images: dict[str, Image],
    volumes: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parse the bench's arguments for real (--help alone would accept a misspelt option)."""
    from benchmarks import run as runner
    from benchmarks.__main__ import main

    spec = container(images["bench"], config["services"]["bench"], volumes)
    assert spec.argv[1:3] == ["-m", "benchmarks"]
    calls: list[dict[str, Any]] = []

    def pretend(mode: str, **options: Any) -> Path:
        calls.append({"mode": mode, **options})
        return options["out"] / "run"

    monkeypatch.setattr(runner, "run", pretend)
    assert main(spec.argv[3:]) == 0
    assert calls
    assert calls[0]["out"] == volumes[str(REPO / "reports")]


@pytest.mark.server
def test_health_probe_tells_ready_from_down(
    app_image: Image, after_jobs: dict[str, Path], tmp_path: Path
) -> None:
    probe = health_probe(app_image.stage)
    python = shutil.which(probe[0], path=str(VENV_BIN))
    assert python
    (model_volume,) = [p for p in after_jobs.values() if (p / "light").is_dir()]
    server = gunicorn.start(
        "flask", tmp_path / "flask.log", env={"MLAPI_MODEL_DIR": str(model_volume / "light")}
    )
    env = {"PATH": os.environ.get("PATH", ""), "GUNICORN_BIND": f"0.0.0.0:{server.port}"}
    try:
        server.wait_ready()
        while_ready = run([python, *probe[1:]], env=env)
    finally:
        stopped = server.stop()
    assert stopped == 0, server.log()
    assert while_ready.returncode == 0, while_ready.stderr
    assert run([python, *probe[1:]], env=env).returncode != 0, "the probe passed with no server"
