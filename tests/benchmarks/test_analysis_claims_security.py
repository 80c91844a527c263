"""The secure-by-default claim, on security checks built for each case."""

from __future__ import annotations

from typing import Any, cast

import pytest

from benchmarks.analysis import claims
from benchmarks.results.records import Results, SecurityCheck

APPS = ("flask-default", "django-default", "flask-app", "django-app")


def check(name: str, flask: bool | None, django: bool | None) -> SecurityCheck:
    """Return one check: the default apps as given, the project's apps passing."""
    return {
        "check": name,
        "risk": f"ASVS V0.0.0: {name}",
        "result": {app: "seen" for app in APPS},
        "passed": {"flask-default": flask, "django-default": django}
        | dict.fromkeys(APPS[2:], True),
    }


def judged(*checks: SecurityCheck) -> dict[str, Any]:
    """Return the claim for results holding these checks."""
    results = cast(Results, {"security": list(checks)})
    return dict(claims.secure_by_default(results))


def test_django_passing_more_checks_supports_the_claim() -> None:
    claim = judged(check("headers", False, True), check("hosts", False, True))
    assert claim["verdict"] == "supported"
    assert (claim["flask"], claim["django"]) == ("0/2 passed", "2/2 passed")


def test_django_passing_fewer_checks_contradicts_the_claim() -> None:
    claim = judged(check("debug off", True, False), check("hosts", False, False))
    assert claim["verdict"] == "contradicted"
    assert (claim["flask"], claim["django"]) == ("1/2 passed", "0/2 passed")


def test_as_many_checks_passed_is_no_difference() -> None:
    claim = judged(check("debug off", True, False), check("hosts", False, True))
    assert claim["verdict"] == "no difference"
    assert "Only Django's default app: hosts. Only Flask's: debug off." in claim["reason"]


@pytest.mark.parametrize(("flask", "django"), [(None, None), (None, True), (False, None)], ids=str)
def test_a_check_that_does_not_apply_to_a_default_app_is_left_out_for_both(
    flask: bool | None, django: bool | None
) -> None:
    # Counted, the CSRF check would tip the verdict: 2-1 for Django, or 1-1.
    claim = judged(check("hosts", False, True), check("debug off", True, False))
    with_csrf = judged(
        check("hosts", False, True), check("debug off", True, False), check("CSRF", flask, django)
    )
    assert (with_csrf["flask"], with_csrf["django"]) == ("1/2 passed", "1/2 passed")
    assert with_csrf["verdict"] == claim["verdict"] == "no difference"
    assert "Left out, not applicable to a default app: CSRF." in with_csrf["reason"]


def test_no_check_that_applies_to_both_measures_nothing() -> None:
    claim = judged(check("CSRF", None, None))
    assert claim["verdict"] == "not measured here"
    assert claim["reason"] == "No security check applies to both default apps in this run."
