"""Probe what each framework protects by default, and what this project's apps protect.

Four apps answer the same requests through werkzeug's test client, which drives any WSGI app:

- ``flask-default``: ``Flask(__name__)`` with a route ``/`` answering ``{"ok": true}`` and a route
  ``/boom`` that raises; nothing else configured.
- ``django-default``: the settings ``django-admin startproject`` writes in the installed Django,
  exactly as it writes them: ``DEBUG = True``, ``ALLOWED_HOSTS = []``, a fresh
  ``django-insecure-`` key written into the settings, INSTALLED_APPS, MIDDLEWARE, TEMPLATES...
  Its database lives in a directory that does not exist, so that a probe that touched it would
  fail instead of leaving a file behind. The same two routes, ``/`` by JsonResponse.
- ``flask-app`` and ``django-app``: this project's apps, as gunicorn imports them.

Both default apps are probed as their framework leaves them, with nothing set on either side.
The alternative, setting the switches a deployment sets, is not symmetric here: "debug off" is
already Flask's default, so setting it changes Django's app alone, and Django's empty
ALLOWED_HOSTS would then refuse every request until a host list that Flask does not need is set
on Django's side only. "Secure by default" asks what an app gets without changing anything, so
that is what is measured; Django's deployment checklist exists because its template is meant for
a developer's machine, and the checks that template fails say so.

Every check names the risk it covers (``RISKS``: an OWASP ASVS 4.0.3 requirement or an item of
Django's deployment checklist), is measured the same way on every app, and may not apply to an
app: CSRF protection matters only to an app that sets a cookie a browser would send back. A
check that does not apply is neither passed nor failed (``passed`` is None), and the claim
leaves it out for both default apps.

The secret key is checked for the risk a key covers, a forgeable signature: each app is started
once more with no key in its environment and asked to sign as its framework signs (a Flask
session, ``django.core.signing``). It passes if it refuses to start or refuses to sign; it fails
if it signs, since the key it signed with is then one its source holds.

Django's settings are global to a process, and the caller's process may have set up this project's
Django app already (the tests do). So every app but ``flask-default`` is probed in a child process
of its own (``python -m benchmarks.measure.child security NAME``), and each is started once more
without a secret key in its environment, again in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from werkzeug.datastructures import Headers
from werkzeug.test import Client

from benchmarks import REPO
from benchmarks.measure.security_subjects import (
    BUILDERS,
    INTERNAL_DETAIL,
    STRICT_REFERRER_POLICIES,
    Answer,
    Observation,
    Subject,
    _send,
)
from benchmarks.results.records import SecurityCheck

APP_NAMES = ("flask-default", "django-default", "flask-app", "django-app")
IN_PROCESS = "flask-default"

KEY_CHECK = "signing key kept secret"
CSRF_CHECK = "CSRF protection on"
CHECKLIST = "Django deployment checklist"
# check -> the requirement it verifies and the risk in a few words. ASVS: OWASP Application
# Security Verification Standard 4.0.3; the checklist:
# https://docs.djangoproject.com/en/stable/howto/deployment/checklist/
RISKS = {
    "X-Frame-Options header": "ASVS V14.4.7: framing by another site (clickjacking)",
    "X-Content-Type-Options: nosniff": "ASVS V14.4.4: MIME sniffing of a response",
    "Referrer-Policy header": "ASVS V14.4.6: URLs leaked to third parties in Referer",
    "Host header validated": f"{CHECKLIST}, ALLOWED_HOSTS: forged Host headers (poisoned links)",
    "request body size limit": "ASVS V12.1.1: large bodies exhausting memory (denial of service)",
    "debug mode off": f"ASVS V14.3.2, {CHECKLIST} DEBUG: debug features in production",
    "errors hide tracebacks": "ASVS V7.4.1: an error page disclosing code and data",
    CSRF_CHECK: "ASVS V4.2.2: cross-site requests riding a cookie (only where one is set)",
    KEY_CHECK: f"ASVS V2.10.4, {CHECKLIST} SECRET_KEY: signatures forged with a known key",
}
CHECKS = tuple(RISKS)

ALLOWED_HOST = "localhost"  # werkzeug's test client sends it; Django allows it under DEBUG
FOREIGN_HOST = "attacker.example"
LARGE_BODY_BYTES = 30 * 1024 * 1024


def _header(headers: Headers, name: str, safe: set[str]) -> Observation:
    value = headers.get(name)
    if value is None:
        return "absent", False
    return value, all(part.strip().lower() in safe for part in value.split(","))


def _host_validation(client: Client, page: str) -> Observation:
    status, _, _ = _send(client, "GET", page, base_url=f"http://{FOREIGN_HOST}/")
    return f"{status} for Host: {FOREIGN_HOST}", status == 400


def _body_limit(client: Client, subject: Subject) -> Observation:
    if subject.upload_path is None:
        if subject.upload_limit is None:
            raise ValueError("a subject needs an upload_path or an upload_limit")
        setting, limit = subject.upload_limit
        if limit is None:
            return f"unlimited ({setting} = None)", False
        return f"{limit:,} bytes ({setting})", True
    # Valid JSON all the way, so an app that reads it all would answer about its content.
    opening, closing = b'{"instances": [', b"]}"
    body = opening + b" " * (LARGE_BODY_BYTES - len(opening) - len(closing)) + closing
    status, _, _ = _send(
        client, "POST", subject.upload_path, data=body, content_type="application/json"
    )
    refused = status in {400, 413}
    verb = "refused" if refused else "did not refuse"
    return f"{verb} a 30 MB body: {status}", refused


def _error_page(answer: Answer) -> Observation:
    status, _, body = answer
    shown = [text for text in ("Traceback", INTERNAL_DETAIL) if text.encode() in body]
    if shown:
        return f"{status}, body shows {' and '.join(shown)}", False
    return f"{status}, no traceback or cause in body", status == 500


def _csrf(headers: Headers, subject: Subject) -> Observation:
    # A cross-site request can only ride a credential the browser adds by itself, a cookie:
    # an app that sets none has nothing to protect, whatever its framework would do.
    if "Set-Cookie" not in headers:
        return "not applicable: sets no cookie", None
    return subject.csrf or ("off, and the app sets cookies", False)


def observe(subject: Subject) -> dict[str, Observation]:
    """Probe one app: headers, hosts, body limit, debug, error pages and CSRF."""
    client = Client(subject.wsgi)
    status, headers, _ = _send(client, "GET", subject.page)
    if status != 200:
        raise RuntimeError(f"GET {subject.page} answered {status}, not 200: nothing to probe")
    return {
        "X-Frame-Options header": _header(headers, "X-Frame-Options", {"deny", "sameorigin"}),
        "X-Content-Type-Options: nosniff": _header(headers, "X-Content-Type-Options", {"nosniff"}),
        "Referrer-Policy header": _header(headers, "Referrer-Policy", STRICT_REFERRER_POLICIES),
        "Host header validated": _host_validation(client, subject.page),
        "request body size limit": _body_limit(client, subject),
        "debug mode off": ("on", False) if subject.debug else ("off", True),
        "errors hide tracebacks": _error_page(subject.fail(client)),
        CSRF_CHECK: _csrf(headers, subject),
    }


def observe_missing_secret(name: str) -> Observation:
    """Start an app with no key in its environment and ask it to sign; once per process."""
    try:
        subject = BUILDERS[name](False)
    except (ImproperlyConfigured, SystemExit) as error:
        # The project's wsgi modules turn a start-up refusal into one line and an exit.
        return f"no key: refuses to start ({type(error).__name__})", True
    if subject.sign is None:
        raise ValueError(f"{name}: a subject needs a way to sign to be probed without a key")
    what, signed = subject.sign()
    if signed:
        return f"no key in its environment, yet {what}: the key is in its source", False
    return f"no key: starts, and {what}", True


def run(name: str, *, with_secret_key: bool = True) -> dict[str, Observation]:
    """Probe one app in this process: every check, or only how it starts without a key."""
    if with_secret_key:
        return observe(BUILDERS[name](True))
    return {KEY_CHECK: observe_missing_secret(name)}


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Set when this process has set up the project's Django app; each child chooses its own.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _start(name: str, with_secret_key: bool) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "benchmarks.measure.child", "security", name]
    if not with_secret_key:
        command.append("--without-secret-key")
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=_child_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(child: subprocess.Popen[str]) -> dict[str, Observation]:
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    if child.returncode != 0:
        command = cast(list[str], child.args)  # _start's list of strings
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{err}")
    return {check: (result, passed) for check, (result, passed) in json.loads(out).items()}


def checks(observed: dict[str, dict[str, Observation]]) -> list[SecurityCheck]:
    """Return each check every app was probed for, with its risk and every app's outcome."""
    names = list(observed)
    return [
        {
            "check": check,
            "risk": RISKS[check],
            "result": {name: observed[name][check][0] for name in names},
            "passed": {name: observed[name][check][1] for name in names},
        }
        for check in CHECKS
        if all(check in observed[name] for name in names)
    ]


def probe() -> list[SecurityCheck]:
    """Probe all four apps, each in a fresh process but the default Flask app."""
    # Started together: each child spends most of its second importing its framework.
    children = [
        (name, _start(name, with_key))
        for name in APP_NAMES
        if name != IN_PROCESS
        for with_key in (True, False)
    ]
    observed: dict[str, dict[str, Observation]] = {name: {} for name in APP_NAMES}
    observed[IN_PROCESS] |= run(IN_PROCESS) | run(IN_PROCESS, with_secret_key=False)
    for name, child in children:
        observed[name] |= _finish(child)
    return checks(observed)
