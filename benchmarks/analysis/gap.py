"""The gap between each app and FastAPI on uvicorn, taken apart, per one-row prediction.

From the peers' command's figures, one process each, batching off: the instructions over the
process tree (callgrind, requests one at a time over a kept connection when the server keeps it;
user space only, so the kernel's work for a new TCP connection is not in them), and the server
tree's CPU per request under wrk (timed, kernel included; the median of the trials). For an app
A against FastAPI F, with A kept alive (gunicorn's gthread worker, one thread),
the bare-WSGI baseline W on that same worker and the bare-ASGI baseline U on FastAPI's uvicorn:

- connection handling = A on the sync worker - A kept alive (a new TCP connection, accepted,
  parsed and closed per request, against one kept);
- server = W - U (gunicorn's gthread worker against uvicorn with uvloop and httptools, each
  around the same bare callable, the same model call and the same bodies and headers);
- framework = (A kept alive - W) - (F - U) (what the app's framework and its own per-request
  work add on gunicorn, against what FastAPI adds on uvicorn).

The parts add up to the whole gap, A - F, exactly (the terms cancel); a part is missing when a
server it needs was not measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.analysis.peers import FIGURES
from benchmarks.analysis.peers import value as median_of
from benchmarks.results.peers import Peers

REFERENCE = "fastapi"
WSGI_SYNC = "baseline"
WSGI_BASELINE = "baseline-gthread"
ASGI_BASELINE = "asgi-baseline"
# Each app on the sync worker (the default before this gap was taken apart) and kept alive (the
# gthread worker, gunicorn.conf.py's default now).
KEPT_ALIVE = {"flask": "flask-gthread", "django": "django-gthread"}


@dataclass(frozen=True)
class Part:
    """One part of a gap: its figure per request and its share of the whole gap."""

    name: str
    value: float | None
    share: float | None  # of the whole gap (app - FastAPI); None when either is unknown


@dataclass(frozen=True)
class Gap:
    """An app's gap to FastAPI on one figure, whole and in parts."""

    app: str
    reference: str
    figure: str  # instructions, or cpu_us_per_request
    total: float | None  # the app on the sync worker less FastAPI, per request
    parts: tuple[Part, ...]  # connection handling, server, framework
    # The baseline on the sync worker less kept alive: connection handling with no framework,
    # a check that the app's connection part is the server's and not the framework's.
    baseline_connection: float | None


def _difference(
    counts: Mapping[str, float | None], plus: list[str], minus: list[str]
) -> float | None:
    found = [counts.get(name) for name in plus + minus]
    if any(value is None for value in found):
        return None
    return sum(counts[n] or 0.0 for n in plus) - sum(counts[n] or 0.0 for n in minus)


def decompose(peers: Peers, figure: str = "instructions") -> list[Gap]:
    """Return each app's gap to FastAPI on ``figure`` (instructions, cpu_us_per_request) and
    its parts, for the apps measured."""
    (read,) = (f for f in FIGURES if f.key == figure)
    counts = {name: median_of(peers, name, read) for name in peers["targets"]}
    gaps = []
    for app, kept in KEPT_ALIVE.items():
        if app not in counts:
            continue
        total = _difference(counts, [app], [REFERENCE])
        parts = {
            "connection handling": _difference(counts, [app], [kept]),
            "server": _difference(counts, [WSGI_BASELINE], [ASGI_BASELINE]),
            "framework": _difference(counts, [kept, ASGI_BASELINE], [WSGI_BASELINE, REFERENCE]),
        }
        gaps.append(
            Gap(
                app,
                REFERENCE,
                figure,
                total,
                tuple(
                    Part(name, value, None if value is None or not total else value / total)
                    for name, value in parts.items()
                ),
                _difference(counts, [WSGI_SYNC], [WSGI_BASELINE]),
            )
        )
    return gaps
