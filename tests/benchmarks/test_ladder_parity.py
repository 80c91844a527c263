"""The rungs both ladders have are the same feature on the wire, pair by pair.

The ladders' comparison sets ``flask+X`` beside ``django+X`` for every feature in
``SHARED_RUNGS``; that is fair only if the two answer the same requests alike. Like the apps'
parity gate, each pair is served under real gunicorn and sent one fixed list of requests; the
two answers to each must have the same status, the same body bytes and the same values of the
headers listed for the feature. Where a difference is inherent to the framework and harmless,
the check of that request says so.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import targets
from benchmarks.serving import gunicorn

SHARED = ("cors", "limits", "metrics", "token")  # analysis.ladders.SHARED_RUNGS
RATE = 2  # the limits pair's rate limit, per client and minute
JSON = {"Content-Type": "application/json"}
ORIGIN = "https://app.example"
CLIENT = "127.0.0.2"  # loopback, but not the address the servers' readiness probes came from
TOKEN = dict(targets.TOKEN_HEADER)

Request = tuple[str, str, bytes, dict[str, str]]
Answer = tuple[int, dict[str, str], bytes]


def test_the_shared_rungs_are_the_analysis_own() -> None:
    from benchmarks.analysis.ladders import SHARED_RUNGS

    assert SHARED == SHARED_RUNGS
    for framework, rungs in targets.LADDERS.items():
        assert set(SHARED) <= {r.feature for r in rungs}, framework


@pytest.fixture(scope="module", params=SHARED)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, artifacts_root: Path
) -> Iterator[tuple[str, dict[str, gunicorn.Server]]]:
    """Serve one shared feature's two rungs, one worker each (in-memory limits are per worker)."""
    feature = request.param
    logs = tmp_path_factory.mktemp(f"parity-{feature}")
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    if feature == "limits":
        env["LADDER_RATE"] = str(RATE)
    started = {
        framework: gunicorn.start(f"{framework}+{feature}", logs / f"{framework}.log", env=env)
        for framework in targets.LADDERS
    }
    try:
        for server in started.values():
            server.wait_ready(timeout=90)
        yield feature, started
    finally:
        gunicorn.stop_all(started.values())


def _send(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
    # From a client address of its own: the readiness probes that started the servers came from
    # 127.0.0.1, and a rate limit counts per client address.
    connection = http.client.HTTPConnection(
        gunicorn.HOST, port, timeout=10, source_address=(CLIENT, 0)
    )
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _answers(servers: dict[str, gunicorn.Server], requests: list[Request]) -> dict[str, list]:
    """Send the same requests, in order, to each server of a pair."""
    return {
        framework: [_send(server.port, *request) for request in requests]
        for framework, server in servers.items()
    }


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _same(answers: dict[str, list[Answer]], index: int, headers: tuple[str, ...]) -> Answer:
    """Assert both rungs answered request ``index`` alike; return Flask's answer."""
    (status, flask_headers, body), (other, django_headers, other_body) = (
        answers["flask"][index],
        answers["django"][index],
    )
    assert (status, body) == (other, other_body), index
    flask_headers, django_headers = _lower(flask_headers), _lower(django_headers)
    # The contract's headers on every answer, the feature's own included (its value varies).
    assert "x-request-id" in flask_headers, index
    assert "x-request-id" in django_headers, index
    for name in (*headers, "cache-control"):
        assert flask_headers.get(name) == django_headers.get(name), (index, name)
    return status, flask_headers, body


def _prediction(body: bytes = b"") -> bytes:
    return body or json.dumps({"instances": [_instance()]}).encode()


def _instance() -> dict[str, float]:
    from model.data import holdout_instances

    return holdout_instances(1)[0]


def _cors(answers: dict[str, list[Answer]]) -> None:
    listed = (
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-credentials",
        "access-control-expose-headers",
        "access-control-max-age",
        "content-type",
    )
    preflight = _same(answers, 0, listed)
    assert preflight[0] == 200
    assert preflight[1]["access-control-allow-origin"] == "*"
    assert preflight[1]["access-control-allow-methods"] == "DELETE, GET, OPTIONS, PATCH, POST, PUT"
    assert preflight[1]["access-control-max-age"] == "86400"
    # The same headers allowed (django-cors-headers' default list on both), written the way
    # each extension writes them: flask-cors names those of the list the preflight asked for,
    # django-cors-headers the whole list. A browser needs the asked-for header in it: both.
    allowed = {
        framework: {
            name.strip() for name in _lower(found[0][1])["access-control-allow-headers"].split(",")
        }
        for framework, found in answers.items()
    }
    assert allowed["flask"] == {"content-type"}
    assert allowed["flask"] <= allowed["django"]
    # Flask's own OPTIONS answer adds Allow (the route's methods); harmless to CORS.
    simple = _same(answers, 1, listed)
    assert (simple[0], simple[1]["access-control-allow-origin"]) == (200, "*")
    # Without an Origin, no CORS header on either.
    plain = _same(answers, 2, listed)
    assert "access-control-allow-origin" not in plain[1]
    # django-cors-headers names Origin in Vary on every answer; flask-cors leaves Vary out when
    # it answers "*". Harmless: the Flask rung's answers are Cache-Control: no-store, so no
    # cache keeps one to give for another request.
    for index in (1, 2):
        assert "origin" in _lower(answers["django"][index][1])["vary"].lower()
        assert _lower(answers["flask"][index][1])["cache-control"] == "no-store"


def _limits(answers: dict[str, list[Answer]]) -> None:
    for index in range(RATE):
        assert _same(answers, index, ("content-type",))[0] == 200
    # The next prediction is refused, and so is another path: one budget per client for the
    # whole API (DRF's AnonRateThrottle; Flask-Limiter's application_limits).
    for index in (RATE, RATE + 1):
        refused = _same(answers, index, ("content-type",))
        assert refused[0] == 429, index
        assert json.loads(refused[2])["error"]["code"] == "too_many_requests"
        # Retry-After: whole seconds until the window lets the client in again. Its value
        # depends on the clock when each server counted the first request, so it is checked for
        # its range, not its equality.
        for framework, found in answers.items():
            retry = _lower(found[index][1]).get("retry-after")
            assert retry is not None, (framework, index)
            assert 1 <= int(retry) <= 60, (framework, retry)
    # Neither announces its limits on every answer (Flask-Limiter's X-RateLimit-* stay off).
    for framework, found in answers.items():
        assert not any(name.lower().startswith("x-ratelimit") for name in found[0][1]), framework


def _metrics(answers: dict[str, list[Answer]]) -> None:
    assert _same(answers, 0, ("content-type",))[0] == 200
    # The scrape: the same status and media type; the series are each extension's own (named
    # after its framework), so the body differs by design and is checked for what it must say.
    scrape = {framework: found[1] for framework, found in answers.items()}
    assert scrape["flask"][0] == scrape["django"][0] == 200
    media = {framework: _lower(found[1])["content-type"] for framework, found in scrape.items()}
    assert media["flask"] == media["django"], media
    assert media["flask"].startswith("text/plain; version=0.0.4")
    for framework, (_, _, text) in scrape.items():
        families = {f.name for f in text_string_to_metric_families(text.decode())}
        assert any(name.startswith(f"{framework}_http_request") for name in families), framework


def _token(answers: dict[str, list[Answer]]) -> None:
    listed = ("www-authenticate", "content-type")
    for index in range(4):  # no token, a wrong one, an empty one, another scheme
        refused = _same(answers, index, listed)
        assert refused[0] == 401, index
        assert json.loads(refused[2])["error"]["code"] == "unauthorized"
        assert refused[1]["www-authenticate"] == "Token"
    for index in (4, 5):  # the token, under either case of the scheme's name
        assert _same(answers, index, listed)[0] == 200


def _requests(feature: str) -> list[Request]:
    predict = _prediction()
    post = ("POST", "/v1/predict", predict)
    if feature == "cors":
        preflight = {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        return [
            ("OPTIONS", "/v1/predict", b"", preflight),
            (*post, JSON | {"Origin": ORIGIN}),
            (*post, JSON),
        ]
    if feature == "limits":
        return [*[(*post, JSON)] * (RATE + 1), ("GET", "/v1/model", b"", {})]
    if feature == "metrics":
        return [(*post, JSON), ("GET", "/metrics", b"", {})]
    token = TOKEN["Authorization"].partition(" ")[2]
    return [
        (*post, JSON),
        (*post, JSON | {"Authorization": "Token wrong"}),
        (*post, JSON | {"Authorization": "Token"}),
        (*post, JSON | {"Authorization": f"Bearer {token}"}),
        (*post, JSON | TOKEN),
        (*post, JSON | {"Authorization": f"token {token}"}),
    ]


CHECKS = {"cors": _cors, "limits": _limits, "metrics": _metrics, "token": _token}


@pytest.mark.server
def test_both_rungs_of_a_shared_feature_answer_alike(pair: tuple) -> None:
    feature, servers = pair
    CHECKS[feature](_answers(servers, _requests(feature)))
