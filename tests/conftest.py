"""Shared fixtures: freshly trained artifacts, independent of ``model/artifacts``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

import model
from benchmarks.serving import gunicorn
from model.data import holdout_instances
from model.train import train
from tests import mlserver


@pytest.fixture(scope="session")
def artifacts_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train both variants once per test session into a temporary directory."""
    root = tmp_path_factory.mktemp("artifacts")
    for variant in model.VARIANTS:
        train(variant, root)
    return root


@pytest.fixture
def artifact_copy(artifacts_root: Path, tmp_path: Path) -> Path:
    """Return a private copy of the light artifact that a test may damage."""
    return Path(shutil.copytree(artifacts_root / "light", tmp_path / "light"))


@pytest.fixture(scope="session")
def light_model(artifacts_root: Path) -> model.Model:
    """Load the light variant."""
    return model.load(artifacts_root / "light")


@pytest.fixture(scope="session")
def instances() -> list[dict[str, float]]:
    """Return 20 held-out rows as request instances."""
    return holdout_instances(20)


# Header values that differ per request (or per second); both apps must still send the headers.
VOLATILE_HEADERS = frozenset({"x-request-id", "server-timing", "date"})


def comparable_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return headers by lower-cased name, with the values that vary per request masked."""
    return {
        name.lower(): "<varies>" if name.lower() in VOLATILE_HEADERS else value
        for name, value in headers
    }


# -- the two apps, in process ---------------------------------------------------------------

APP_NAMES = ("flask", "django")


@dataclass
class Target:
    """One app under test: its WSGI callable, a client, and access to its loaded model."""

    name: str
    wsgi: Any
    get_model: Callable[[], model.Model | None]
    set_model: Callable[[model.Model | None], None]

    @property
    def client(self) -> Client:
        """Return a WSGI test client (the same client class for both apps)."""
        return Client(self.wsgi)


@pytest.fixture(scope="session")
def flask_target(artifacts_root: Path) -> Target:
    """Create the Flask app on the freshly trained light model."""
    from flask_app import create_app

    app = create_app({"MODEL_DIR": str(artifacts_root / "light")})
    return Target(
        "flask",
        app,
        lambda: app.extensions["model"],
        lambda m: app.extensions.__setitem__("model", m),
    )


@pytest.fixture(scope="session")
def django_target(artifacts_root: Path) -> Target:
    """Set up Django (once per process) on the freshly trained light model."""
    os.environ["DJANGO_ENV"] = "test"
    os.environ["MLAPI_MODEL_DIR"] = str(artifacts_root / "light")
    from django.apps import apps

    from django_app.wsgi import application

    config = apps.get_app_config("api")
    return Target(
        "django", application, lambda: config.model, lambda m: setattr(config, "model", m)
    )


@pytest.fixture(params=APP_NAMES)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Yield each app in turn; a test that swaps the model gets the original back after."""
    chosen: Target = request.getfixturevalue(f"{request.param}_target")
    original = chosen.get_model()
    yield chosen
    chosen.set_model(original)


@pytest.fixture
def both(flask_target: Target, django_target: Target) -> tuple[Target, Target]:
    """Return both apps, for parity tests."""
    return flask_target, django_target


# -- the two apps, under gunicorn on 127.0.0.1 -------------------------------------------------


@pytest.fixture(scope="module", params=APP_NAMES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, artifacts_root: Path
) -> Iterator[gunicorn.Server]:
    """Start one app under gunicorn with two workers; stop it by PID afterwards."""
    log = tmp_path_factory.mktemp("logs") / f"{request.param}.log"
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "2"}
    started = gunicorn.start(request.param, log, env=env)
    try:
        started.wait_ready()
        yield started
    finally:
        code = started.stop()
        assert code == 0, started.log()


# -- MLServer, serving the same light model -----------------------------------------------------


@pytest.fixture(scope="session")
def mlserver_url(artifacts_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the light model with MLServer on 127.0.0.1 for the session; yield its base URL."""
    try:
        server = mlserver.start(artifacts_root / "light", tmp_path_factory.mktemp("mlserver"))
    except mlserver.MLServerError as exc:
        # Not a skip: the agreement with MLServer is part of what `make test` checks.
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        code = server.stop()
    assert code == 0, f"MLServer exited with {code}:\n{server.log_tail()}"
