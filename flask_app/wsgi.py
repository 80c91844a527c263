"""The WSGI entry point gunicorn imports: ``gunicorn -c gunicorn.conf.py flask_app.wsgi:app``."""

from flask_app import create_app

app = create_app()
