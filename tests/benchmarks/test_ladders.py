"""The ladders' rungs under real gunicorn: each answers the prediction, and its feature acts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.__main__ import main
from benchmarks.measure import ladders
from benchmarks.results.records import Results
from benchmarks.serving import gunicorn
from contract import predict_body
from model import Model

RATE = 6  # the rate limit these servers get, per client and minute
RUNGS = [name for name in targets.ladder() if "+" in name]
METRICS_OFF = list(targets.names("metrics-off"))
JSON = {"Content-Type": "application/json"}


def test_the_ladders_line_up_feature_by_feature() -> None:
    for framework, rungs in targets.LADDERS.items():
        assert [r.feature for r in rungs[:2]] == ["floor", "app"]
        assert rungs[0].target == targets.TARGETS[framework].floor
        assert rungs[1].target == framework
        features = [r.feature for r in rungs]
        # In the order of FEATURES, each feature once.
        assert features == sorted(features, key=list(targets.FEATURES).index)
        # A feature is either a rung or built into the reference app, never both.
        assert not set(features) & set(targets.BUILT_IN[framework])
    common = {"cors", "headers", "validation", "limits", "metrics", "token"}
    for framework in targets.LADDERS:
        have = {r.feature for r in targets.LADDERS[framework]} | set(targets.BUILT_IN[framework])
        assert common <= have, framework


def test_the_ladders_command_writes_its_run_directory(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    written_run: Callable[[Path, str], Results],
) -> None:
    # The rungs described, none loaded: the load is throughput's, tested in its own module.
    described = ladders.measure
    monkeypatch.setattr(ladders, "measure", lambda mode, **kw: described("static", **kw))
    assert main(["ladders", "--out", str(tmp_path)]) == 0
    results = written_run(tmp_path, "ladders")
    assert results["ladders"]["rungs"]
    assert results["ladders"]["load"] is None
    report = (tmp_path / "latest" / "report.md").read_text()
    assert "Parity gate" not in report


def test_every_rung_is_a_registered_target_off_the_run_lists() -> None:
    for name in RUNGS:
        assert targets.TARGETS[name].tags == {"ladder"}
        assert name not in targets.names()
        assert name not in targets.RUN
    assert [n for n in RUNGS if targets.TARGETS[n].headers] == ["flask+token", "django+token"]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, artifacts_root: Path) -> Iterator[dict]:
    """Serve every rung at once, one worker each, with a rate limit a test can reach."""
    logs = tmp_path_factory.mktemp("ladders")
    env = {
        "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
        "WEB_CONCURRENCY": "1",
        "LADDER_RATE": str(RATE),
    }
    started = {
        name: gunicorn.start(name, logs / f"{name}.log", env=env) for name in RUNGS + METRICS_OFF
    }
    try:
        for server in started.values():
            server.wait_ready(timeout=90)
        yield started
    finally:
        gunicorn.stop_all(started.values())


def _predict(server: gunicorn.Server, body: bytes, headers: dict[str, str]) -> tuple:
    return gunicorn.request(server.port, "POST", "/v1/predict", body, headers)


@pytest.mark.server
def test_every_rung_answers_the_prediction_and_its_feature_acts(
    servers: dict, light_model: Model, instances: list
) -> None:
    rows = instances[:2]
    body = json.dumps({"instances": rows}).encode()
    expected = predict_body(light_model, light_model.predict(rows))
    for name, server in servers.items():
        auth = dict(targets.TARGETS[name].headers)
        status, headers, answer = _predict(server, body, JSON | auth)
        assert status == 200, (name, answer)
        assert json.loads(answer) == expected, name
        assert int(headers["Content-Length"]) == len(answer), name
        if name in METRICS_OFF:
            status, _, _ = gunicorn.get(server.port, "/metrics")
            assert status == 404, name  # the app's own setting, from the target's env
            continue
        feature = name.partition("+")[2]
        check = FEATURE_CHECKS.get(feature)
        if check:
            check(server, body, auth)


def _auth_defaults(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    # DRF's default BasicAuthentication reads the header, and refuses one with no credentials
    # (a wrong password would be refused too, after a deliberately slow password hash).
    wrong = {"Authorization": "Basic"}
    status, _, answer = _predict(server, body, JSON | wrong)
    assert status in (400, 401, 403), answer


def _cors(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, headers, _ = gunicorn.request(server.port, "OPTIONS", "/v1/predict", b"", preflight)
    assert status == 200
    lower = {k.lower(): v for k, v in headers.items()}
    # Any origin is allowed: named back, or "*".
    assert lower["access-control-allow-origin"] in ("*", preflight["Origin"])
    assert "POST" in lower["access-control-allow-methods"]


def _headers(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    _, headers, _ = _predict(server, body, JSON)
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["content-security-policy"] == "default-src 'none'"


def _validation(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    # An instance that is not an object: marshmallow's message says so.
    status, _, answer = _predict(server, b'{"instances": [1]}', JSON)
    assert status == 422
    assert json.loads(answer)["error"]["details"] == [
        {"loc": ["instances", 0], "message": "Not a valid mapping type."}
    ]


def _limits(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    answers = [_predict(server, body, JSON | auth) for _ in range(RATE + 1)]
    refused = [json.loads(a) for status, _, a in answers if status == 429]
    assert refused, [status for status, _, _ in answers]
    assert refused[0]["error"]["code"] == "too_many_requests"


def _metrics(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    status, _, text = gunicorn.get(server.port, "/metrics")
    if status == 429:  # the rate limit below this rung counts the scrape too
        pytest.fail("the metrics rung was rate-limited before its scrape")
    assert status == 200
    families = {
        line.split()[2] for line in text.decode().splitlines() if line.startswith("# TYPE ")
    }
    # The extension's own request series (each names them after its framework).
    assert any(f.startswith(("flask_http_request", "django_http_requests")) for f in families)


def _token(server: gunicorn.Server, body: bytes, auth: dict[str, str]) -> None:
    for headers in (JSON, JSON | {"Authorization": "Token wrong"}):
        status, _, answer = _predict(server, body, headers)
        assert status == 401, answer
        assert json.loads(answer)["error"]["code"] == "unauthorized"


FEATURE_CHECKS = {
    "auth_defaults": _auth_defaults,
    "cors": _cors,
    "headers": _headers,
    "validation": _validation,
    "limits": _limits,
    "metrics": _metrics,
    "token": _token,
}
