"""The WSGI entry point gunicorn imports: ``gunicorn -c gunicorn.conf.py django_app.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

application = get_wsgi_application()
