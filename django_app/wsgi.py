"""The WSGI entry point gunicorn imports: ``gunicorn -c gunicorn.conf.py django_app.wsgi``."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from model import ModelLoadError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

try:
    application = get_wsgi_application()
except (ModelLoadError, ImproperlyConfigured) as exc:
    # One line saying what is wrong and how to fix it, and a non-zero exit: never serve
    # without a verified model or a secret. gunicorn preloads the app, so the master stops here.
    sys.exit(f"django_app: cannot serve: {exc}")
