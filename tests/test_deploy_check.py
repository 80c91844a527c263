"""Django's deployment checklist, as ``check --deploy`` runs it, on the production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path


def test_the_django_app_passes_check_deploy_in_production(artifacts_root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "django_app.settings",
        "DJANGO_ENV": "production",  # DEBUG off unless asked for, a key required
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
