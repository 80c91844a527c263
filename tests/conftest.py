"""Shared fixtures: freshly trained artifacts, independent of ``model/artifacts``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import model
from model.data import holdout_instances
from model.train import train


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
