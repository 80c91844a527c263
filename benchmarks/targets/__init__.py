"""What is measured besides the two apps, registered once: name -> WSGI path, tags.

Every command that needs a list of targets reads it from here: ``TARGETS`` in registry order
(each framework's floor just before its app), ``names(tag)`` for a subset.

Tags: ``app`` (one of the two apps that implement the contract), ``baseline`` (bare WSGI, no
framework), ``floor`` (a framework's smallest app serving the same prediction), ``run`` (measured
by ``python -m benchmarks run``; the floors are measured by ``python -m benchmarks throughput``),
``aa`` (the Flask app under a second name, which every run measures as a separate target: two
measurements of one app must agree, and how closely they do is the run's noise floor),
``metrics-off`` (an app with its built-in ``/metrics`` switched off, for what recording costs),
``ladder`` (a rung of a framework's ladder: the reference app plus production features, one
added per rung; ``LADDERS`` lists each framework's rungs from its floor up).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from benchmarks.results.records import TargetFacts
from benchmarks.results.vocabulary import Framework, TargetKind


@dataclass(frozen=True)
class Target:
    """One WSGI app the benchmark can serve under gunicorn."""

    name: str
    wsgi: str  # what gunicorn imports, "module:callable"
    tags: frozenset[str]
    framework: Framework | None = None  # None for the bare WSGI baseline
    floor: str | None = None  # the name of this app's framework floor, for an app
    app: str | None = None  # the product app it is another copy or setting of
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request to it, besides the body's
    prepare: bool = False  # its module has prepare(attribute): one-off set-up, run uncounted
    env: tuple[tuple[str, str], ...] = ()  # settings of its own, over the environment


# The token the ladders' token rungs accept: a fixed benchmark value, not a secret.
LADDER_TOKEN = "ladder-benchmark-token-not-a-secret-0001"  # noqa: S105
TOKEN_HEADER = (("Authorization", f"Token {LADDER_TOKEN}"),)


def ladder_rate() -> int:
    """Return the ladders' rate limit per client and minute (``LADDER_RATE``): by default far
    above what a benchmark sends, so the limit is checked on every request but never met."""
    return int(os.environ.get("LADDER_RATE", "100000000"))


@dataclass(frozen=True)
class Rung:
    """One rung of a framework's ladder: the feature it adds to the rung below, and how."""

    target: str  # its name in TARGETS
    feature: str  # a key of FEATURES
    how: str  # how the framework's community adds the feature
    extension: str | None  # the third-party distribution it needs, if any


# The features, in the order the ladders add them; a ladder skips a feature it has built in.
FEATURES: dict[str, str] = {
    "floor": "the framework's floor",
    "app": "the reference app (the whole contract)",
    "defaults": "what a new project enables by default",
    "auth_defaults": "the API toolkit's default authentication and permissions",
    "cors": "CORS",
    "headers": "security headers and HTTPS policy",
    "validation": "request-schema validation",
    "limits": "rate limiting",
    "metrics": "Prometheus metrics",
    "token": "token authentication",
}

LADDERS: dict[Framework, tuple[Rung, ...]] = {
    "flask": (
        Rung("flask-floor", "floor", "Flask alone, its defaults", None),
        Rung("flask", "app", "flask_app/", None),
        Rung("flask+cors", "cors", "flask-cors: CORS(app)", "flask-cors"),
        Rung("flask+headers", "headers", "flask-talisman: Talisman(app)", "flask-talisman"),
        Rung("flask+validation", "validation", "webargs + marshmallow: @use_args", "webargs"),
        Rung("flask+limits", "limits", "Flask-Limiter, in-memory storage", "Flask-Limiter"),
        Rung(
            "flask+metrics",
            "metrics",
            "prometheus-flask-exporter, multiprocess",
            "prometheus-flask-exporter",
        ),
        Rung(
            "flask+token",
            "token",
            "Flask-HTTPAuth: HTTPTokenAuth, tokens in SQLite",
            "Flask-HTTPAuth",
        ),
    ),
    "django": (
        Rung("django-floor", "floor", "Django + DRF, settings in code", None),
        Rung("django", "app", "django_app/", None),
        Rung(
            "django+defaults",
            "defaults",
            "startproject's apps, middleware and SQLite",
            None,
        ),
        Rung(
            "django+auth_defaults",
            "auth_defaults",
            "DRF's defaults: session and basic authentication",
            None,
        ),
        Rung("django+cors", "cors", "django-cors-headers: CorsMiddleware", "django-cors-headers"),
        Rung("django+limits", "limits", "DRF's AnonRateThrottle, local-memory cache", None),
        Rung(
            "django+metrics",
            "metrics",
            "django-prometheus, multiprocess",
            "django-prometheus",
        ),
        Rung("django+token", "token", "DRF's TokenAuthentication (SQLite)", None),
    ),
}
# Built into the reference app on one side, a rung on the other.
BUILT_IN: dict[str, dict[str, str]] = {
    "django": {
        "headers": "SecurityMiddleware and XFrameOptionsMiddleware, in the reference app",
        "validation": "a DRF Serializer, in the reference app",
    },
    "flask": {},
}

# What gunicorn imports for each of the two apps (their wsgi.py).
APP_WSGI: dict[Framework, str] = {
    "flask": "flask_app.wsgi:app",
    "django": "django_app.wsgi:application",
}

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            "baseline", "benchmarks.targets.baseline:application", frozenset({"baseline", "run"})
        ),
        Target("flask-floor", "benchmarks.targets.floor_flask:app", frozenset({"floor"}), "flask"),
        Target("flask", APP_WSGI["flask"], frozenset({"app", "run"}), "flask", floor="flask-floor"),
        # The same app again under another name: the A/A check of every run's noise.
        Target(
            "flask-twin",
            APP_WSGI["flask"],
            frozenset({"aa"}),
            "flask",
            floor="flask-floor",
            app="flask",
        ),
        Target(
            "django-floor",
            "benchmarks.targets.floor_django:application",
            frozenset({"floor"}),
            "django",
        ),
        Target(
            "django",
            APP_WSGI["django"],
            frozenset({"app", "run"}),
            "django",
            floor="django-floor",
        ),
        # Each app with its built-in /metrics switched off: what recording costs a request.
        *(
            Target(
                f"{framework}-no-metrics",
                wsgi,
                frozenset({"metrics-off"}),
                framework,
                floor=f"{framework}-floor",
                app=framework,
                env=(("MLAPI_METRICS_ENABLED", "false"),),
            )
            for framework, wsgi in APP_WSGI.items()
        ),
        *(
            Target(
                rung.target,
                f"benchmarks.targets.ladder_{framework}:{rung.feature}",
                frozenset({"ladder"}),
                framework,
                floor=f"{framework}-floor",
                app=framework,
                headers=TOKEN_HEADER if rung.feature == "token" else (),
                # Django's rungs migrate their database; the token rungs both make a token store.
                prepare=framework == "django" or rung.feature == "token",
            )
            for framework, rungs in LADDERS.items()
            for rung in rungs
            if rung.feature not in ("floor", "app")
        ),
    )
}

# A target's kind by its tag; the run's own "run" tag says where it is measured, not what it is.
KINDS: dict[str, TargetKind] = {
    "baseline": "baseline",
    "app": "app",
    "floor": "floor",
    "aa": "twin",
    "metrics-off": "metrics-off",
    "ladder": "rung",
}


def facts() -> dict[str, TargetFacts]:
    """Return what the registry says of every target, as results.json records it."""
    placed = {
        rung.target: (place, rung) for rungs in LADDERS.values() for place, rung in enumerate(rungs)
    }
    found: dict[str, TargetFacts] = {}
    for name, target in TARGETS.items():
        (kind,) = (KINDS[tag] for tag in target.tags if tag in KINDS)
        place, rung = placed.get(name, (None, None))
        found[name] = {
            "kind": kind,
            "framework": target.framework,
            "app": target.app,
            "floor": target.floor,
            "rung": place,
            "feature": rung.feature if rung else None,
            "extension": rung.extension if rung else None,
        }
    return found


def names(tag: str | None = None) -> tuple[str, ...]:
    """Return the targets' names in registry order: those with ``tag`` if given, else every
    distinct target but the ladders' rungs (all but the A/A twin, which is the Flask app
    again, the rungs, which ``ladder()`` lists, and the apps with metrics off)."""
    return tuple(
        name
        for name, target in TARGETS.items()
        if (tag in target.tags if tag else not target.tags & {"aa", "ladder", "metrics-off"})
    )


def ladder(framework: str | None = None) -> tuple[str, ...]:
    """Return the ladders' targets from the floor up: one framework's, or Flask's then Django's."""
    return tuple(
        rung.target
        for name, rungs in LADDERS.items()
        if framework in (None, name)
        for rung in rungs
    )


# What a kind of target does not answer, by its tag: the bare-WSGI baseline serves /v1 only, not
# the Open Inference Protocol; a framework's floor serves well-formed /v1 requests only, not the
# contract's error path. The apps, their copies and the ladders' rungs serve every scenario.
V2 = frozenset({"v2_one", "v2_batch"})
NOT_SERVED: dict[str, frozenset[str]] = {"baseline": V2, "floor": V2 | {"invalid"}}


def serves(name: str, scenario: str) -> bool:
    """Return whether a target answers a scenario (a load or cost scenario by its name); a name
    the registry does not hold (a deployment measured by its URL) is asked for every one."""
    tags = TARGETS[name].tags if name in TARGETS else frozenset()
    return not any(scenario in NOT_SERVED.get(tag, frozenset()) for tag in tags)


APPS = names("app")  # ("flask", "django")
RUN = names("run")  # ("baseline", "flask", "django"): what `python -m benchmarks run` measures
(AA,) = names("aa")  # "flask-twin", measured beside them
