"""What is measured besides the two apps, registered once: name -> WSGI path, tags.

Every command that needs a list of targets reads it from here: ``TARGETS`` in registry order
(each framework's floor just before its app), ``names(tag)`` for a subset.

Tags: ``app`` (one of the two apps that implement the contract), ``baseline`` (bare WSGI, no
framework), ``floor`` (a framework's smallest app serving the same prediction), ``run`` (measured
by ``python -m benchmarks run``; the floors are measured by ``python -m benchmarks throughput``),
``aa`` (the Flask app under a second name, which every run measures as a separate target: two
measurements of one app must agree, and how closely they do is the run's noise floor).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One WSGI app the benchmark can serve under gunicorn."""

    name: str
    wsgi: str  # what gunicorn imports, "module:callable"
    tags: frozenset[str]
    floor: str | None = None  # the name of this app's framework floor, for an app


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            "baseline", "benchmarks.targets.baseline:application", frozenset({"baseline", "run"})
        ),
        Target("flask-floor", "benchmarks.targets.floor_flask:app", frozenset({"floor"})),
        Target("flask", "flask_app.wsgi:app", frozenset({"app", "run"}), floor="flask-floor"),
        # The same app again under another name: the A/A check of every run's noise.
        Target("flask-twin", "flask_app.wsgi:app", frozenset({"aa"})),
        Target("django-floor", "benchmarks.targets.floor_django:application", frozenset({"floor"})),
        Target(
            "django",
            "django_app.wsgi:application",
            frozenset({"app", "run"}),
            floor="django-floor",
        ),
    )
}


def names(tag: str | None = None) -> tuple[str, ...]:
    """Return the targets' names in registry order: those with ``tag`` if given, else every
    distinct target (all but the A/A twin, which is the Flask app again)."""
    return tuple(
        name
        for name, target in TARGETS.items()
        if (tag in target.tags if tag else "aa" not in target.tags)
    )


APPS = names("app")  # ("flask", "django")
RUN = names("run")  # ("baseline", "flask", "django"): what `python -m benchmarks run` measures
(AA,) = names("aa")  # "flask-twin", measured beside them
