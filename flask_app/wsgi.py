"""The WSGI entry point gunicorn imports: ``gunicorn -c gunicorn.conf.py flask_app.wsgi:app``."""

import sys

from flask_app import create_app
from model import ModelLoadError

try:
    app = create_app()
except ModelLoadError as exc:
    # One line saying what is wrong and how to fix it, and a non-zero exit: never serve
    # without a verified model. gunicorn preloads the app, so the master stops here.
    sys.exit(f"flask_app: cannot serve: {exc}")
