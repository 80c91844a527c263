"""The security probe: its checks on hand-made WSGI apps, then the real probe of all four apps."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import django
import pytest

from benchmarks.measure import security, security_subjects
from benchmarks.measure.security import (
    APP_NAMES,
    CHECKS,
    CSRF_CHECK,
    KEY_CHECK,
    RISKS,
    observe,
)
from benchmarks.measure.security_subjects import Subject
from benchmarks.results.records import SecurityCheck

PROJECT_APPS = ("flask-app", "django-app")
HEADER_CHECKS = (
    "X-Frame-Options header",
    "X-Content-Type-Options: nosniff",
    "Referrer-Policy header",
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def careless_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Answer anything for any host, set a cookie, and show tracebacks."""
    if environ["PATH_INFO"] == "/boom":
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
        return [f"Traceback (most recent call last):\n{security_subjects.INTERNAL_DETAIL}".encode()]
    start_response("200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "id=1")])
    return [b'{"ok": true}']


def careful_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Refuse unknown hosts and large bodies, hide errors, send the protective headers."""
    protective = [
        ("X-Frame-Options", "SAMEORIGIN"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if environ["HTTP_HOST"] != security.ALLOWED_HOST:
        status = "400 BAD REQUEST"
    elif int(environ.get("CONTENT_LENGTH") or 0) > 1024:
        status = "413 REQUEST ENTITY TOO LARGE"
    elif environ["PATH_INFO"] == "/boom":
        status = "500 INTERNAL SERVER ERROR"
    else:
        status = "200 OK"
    start_response(status, [("Content-Type", "application/json"), *protective])
    return [b"{}"]


def boom(client: Any) -> security_subjects.Answer:
    """Request the failing route."""
    return security_subjects._send(client, "GET", "/boom")


def test_a_careless_app_fails_every_check() -> None:
    subject = Subject(
        wsgi=careless_app,
        page="/",
        debug=True,
        fail=boom,
        upload_path="/upload",
    )
    observed = observe(subject)
    assert list(observed) == [check for check in CHECKS if check != KEY_CHECK]
    assert not any(passed for _, passed in observed.values()), observed
    assert observed["X-Frame-Options header"] == ("absent", False)
    assert observed["Host header validated"][0] == "200 for Host: attacker.example"
    assert observed["request body size limit"][0] == "did not refuse a 30 MB body: 200"
    assert observed["CSRF protection on"] == ("off, and the app sets cookies", False)


def test_a_careful_app_passes_every_check_that_applies() -> None:
    subject = Subject(wsgi=careful_app, page="/", debug=False, fail=boom, upload_path="/upload")
    observed = observe(subject)
    assert observed.pop(CSRF_CHECK) == ("not applicable: sets no cookie", None)
    assert all(passed for _, passed in observed.values()), observed
    assert observed["X-Frame-Options header"] == ("SAMEORIGIN", True)
    assert observed["request body size limit"] == ("refused a 30 MB body: 413", True)


def test_a_configured_limit_is_reported_when_nothing_reads_a_body() -> None:
    unlimited = Subject(
        wsgi=careful_app, page="/", debug=False, fail=boom, upload_limit=("LIMIT", None)
    )
    assert observe(unlimited)["request body size limit"] == ("unlimited (LIMIT = None)", False)
    limited = Subject(
        wsgi=careful_app, page="/", debug=False, fail=boom, upload_limit=("LIMIT", 2048)
    )
    assert observe(limited)["request body size limit"] == ("2,048 bytes (LIMIT)", True)


def test_csrf_protection_counts_only_for_an_app_that_sets_a_cookie() -> None:
    protected = ("on (the framework's)", True)
    without_cookie, with_cookie = (
        Subject(wsgi=wsgi, page="/", debug=False, fail=boom, upload_path="/", csrf=protected)
        for wsgi in (careful_app, careless_app)
    )
    assert observe(without_cookie)[CSRF_CHECK] == ("not applicable: sets no cookie", None)
    assert observe(with_cookie)[CSRF_CHECK] == protected


def test_the_default_flask_app_in_process() -> None:
    observed = security.run("flask-default")
    assert observed["debug mode off"] == ("off", True)
    assert observed[CSRF_CHECK] == ("not applicable: sets no cookie", None)
    assert observed["request body size limit"] == ("unlimited (MAX_CONTENT_LENGTH = None)", False)


def signs(signed: bool) -> Callable[[bool], Subject]:
    """Return a builder of an app that, with no key in its environment, signs or refuses to."""

    def build(with_secret_key: bool) -> Subject:
        outcome = ("signing succeeds", True) if signed else ("signing raises Refused", False)
        return Subject(wsgi=careful_app, page="/", debug=False, fail=boom, sign=lambda: outcome)

    return build


def refuses_to_start(with_secret_key: bool) -> Subject:
    """Refuse to start without a key, as the project's wsgi modules do."""
    raise SystemExit(1)


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (
            signs(True),
            ("no key in its environment, yet signing succeeds: the key is in its source", False),
        ),
        (signs(False), ("no key: starts, and signing raises Refused", True)),
        (refuses_to_start, ("no key: refuses to start (SystemExit)", True)),
    ],
    ids=["signs", "refuses-to-sign", "refuses-to-start"],
)
def test_the_key_check_asks_every_app_the_same_question(
    monkeypatch: pytest.MonkeyPatch, builder: Callable[[bool], Subject], expected: Any
) -> None:
    # One rule for any app, whatever its framework: what it does when asked to sign with no key
    # in its environment. Neither starting nor answering 500 is credited on its own.
    monkeypatch.setitem(security_subjects.BUILDERS, "some-app", builder)
    assert security.observe_missing_secret("some-app") == expected


def test_every_check_names_its_risk() -> None:
    assert tuple(RISKS) == CHECKS
    for check, risk in RISKS.items():
        assert risk.startswith(("ASVS V", "Django deployment checklist")), check


# -- the real probe, child processes included ------------------------------------------------


@pytest.fixture(scope="module")
def checks(artifacts_root: Path) -> Iterator[dict[str, SecurityCheck]]:
    """Probe all four apps once, the project's apps on the freshly trained light model."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLAPI_MODEL_DIR", str(artifacts_root / "light"))
        yield {check["check"]: check for check in security.probe()}


def test_every_check_covers_every_app(checks: dict[str, SecurityCheck]) -> None:
    assert list(checks) == list(CHECKS)
    for check in checks.values():
        assert check["risk"] == RISKS[check["check"]]
        assert list(check["result"]) == list(APP_NAMES)
        assert list(check["passed"]) == list(APP_NAMES)


def test_flask_sends_no_frame_options_and_django_denies_framing(
    checks: dict[str, SecurityCheck],
) -> None:
    frame = checks["X-Frame-Options header"]
    assert (frame["result"]["flask-default"], frame["passed"]["flask-default"]) == ("absent", False)
    assert (frame["result"]["django-default"], frame["passed"]["django-default"]) == ("DENY", True)


def test_the_default_django_app_validates_hosts_and_limits_bodies(
    checks: dict[str, SecurityCheck],
) -> None:
    assert checks["Host header validated"]["passed"]["django-default"]
    assert checks["Host header validated"]["result"]["flask-default"].startswith("200 ")
    assert checks["request body size limit"]["passed"]["django-default"]


def test_the_default_django_app_is_probed_as_startproject_writes_it(
    checks: dict[str, SecurityCheck],
) -> None:
    # Nothing is set on one side only: the template's own DEBUG and ALLOWED_HOSTS, read from
    # the installed Django's startproject template, are what the probe saw.
    template = Path(django.__file__).parent / "conf/project_template/project_name/settings.py-tpl"
    written = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(template.read_text().replace("{{ secret_key }}", "key")).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        if node.targets[0].id in {"DEBUG", "ALLOWED_HOSTS"}
    }
    assert written == {"DEBUG": True, "ALLOWED_HOSTS": []}
    assert checks["debug mode off"]["result"]["django-default"] == "on"
    assert checks["debug mode off"]["result"]["flask-default"] == "off"
    # With DEBUG on and no hosts listed, Django allows localhost alone: a foreign Host is refused.
    assert checks["Host header validated"]["passed"]["django-default"]


def test_both_default_apps_get_the_same_csrf_and_key_questions(
    checks: dict[str, SecurityCheck],
) -> None:
    # Neither default app sets a cookie, so CSRF protection applies to neither.
    csrf = checks[CSRF_CHECK]
    for app in ("flask-default", "django-default"):
        assert (csrf["result"][app], csrf["passed"][app]) == (
            "not applicable: sets no cookie",
            None,
        )
    # Asked to sign with no key in its environment, Flask refuses; Django's template signs with
    # the key it wrote into the settings.
    key = checks[KEY_CHECK]
    assert key["passed"] == {
        "flask-default": True,
        "django-default": False,
        "flask-app": True,
        "django-app": True,
    }
    assert (
        key["result"]["flask-default"] == "no key: starts, and a session write raises RuntimeError"
    )
    assert key["result"]["django-default"].endswith("signing succeeds: the key is in its source")


@pytest.mark.parametrize("app", PROJECT_APPS)
def test_the_project_apps_pass_every_check(checks: dict[str, SecurityCheck], app: str) -> None:
    failed = {name: check["result"][app] for name, check in checks.items()}
    # CSRF alone does not apply: the apps set no cookie.
    assert [name for name in CHECKS if checks[name]["passed"][app] is None] == [CSRF_CHECK]
    assert all(checks[name]["passed"][app] for name in CHECKS if name != CSRF_CHECK), failed
    for name in HEADER_CHECKS:
        assert checks[name]["result"][app] != "absent"
    assert checks["request body size limit"]["result"][app] == "refused a 30 MB body: 413"


def test_the_project_django_app_needs_a_key_in_production(
    checks: dict[str, SecurityCheck],
) -> None:
    result = checks[KEY_CHECK]["result"]["django-app"]
    assert result == "no key: refuses to start (SystemExit)"
