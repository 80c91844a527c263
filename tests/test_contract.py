"""The contract suite: every endpoint and every error code, run against both apps.

Every response is checked for the contract's headers and validated against the OpenAPI
document, whatever the test is about.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import pytest

import contract
from model.data import holdout_instances
from tests.conftest import Target
from tests.openapi import assert_conforms

JSON = "application/json"


def call(
    target: Target,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str | None = JSON,
    headers: dict[str, str] | None = None,
    status: int,
) -> tuple[Any, dict[str, str]]:
    """Send one request, assert the status, the headers and the document; return body, headers."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    response = target.client.open(
        path,
        method=method,
        data=data,
        headers={**({"Content-Type": content_type} if content_type else {}), **(headers or {})},
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == JSON
    for name, value in contract.RESPONSE_HEADERS.items():
        assert response.headers[name] == value, name
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response.headers["X-Request-ID"])
    assert response.get_data().endswith(b"}\n")
    return assert_conforms(method, path, status, response.get_data()), dict(response.headers)


def error_of(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Assert the body is the contract's error with this code and its default message."""
    error = body["error"]
    assert error["code"] == code
    assert error["status"] == contract.status_of(code)
    assert error["message"] == contract.ERRORS[code][1]
    return error


@pytest.fixture(scope="module")
def rows() -> list[dict[str, float]]:
    """Return 100 held-out instances."""
    return holdout_instances(100)


# -- the endpoints ---------------------------------------------------------------------------


def test_batching_is_on_exactly_when_the_environment_asks(target: Target) -> None:
    """`make test` runs this suite twice: batching off, then MLAPI_BATCH_MAX_SIZE=8."""
    loaded = target.get_model()
    assert loaded is not None
    wanted = int(os.environ.get("MLAPI_BATCH_MAX_SIZE", "0")) >= 2
    assert (loaded.batcher is not None) == wanted


def test_live(target: Target) -> None:
    body, _ = call(target, "GET", "/health/live", status=200)
    assert body == {"status": "ok"}


def test_ready(target: Target) -> None:
    body, _ = call(target, "GET", "/health/ready", status=200)
    loaded = target.get_model()
    assert body == {"status": "ready", "model": {"name": loaded.name, "version": loaded.version}}


def test_model_card(target: Target) -> None:
    body, _ = call(target, "GET", "/v1/model", status=200)
    manifest = target.get_model().manifest
    assert body["sha256"] == manifest["sha256"]
    assert body["variant"] == "light"
    assert [f["name"] for f in body["features"]] == [f["name"] for f in manifest["features"]]
    assert body["metrics"] == manifest["metrics"]
    assert body["libraries"] == manifest["libraries"]
    assert body["created_at"] == manifest["created_at"]


def test_predict_one(target: Target, rows: list[dict[str, float]]) -> None:
    body, headers = call(target, "POST", "/v1/predict", {"instances": rows[:1]}, status=200)
    loaded = target.get_model()
    assert body["model"] == {"name": loaded.name, "version": loaded.version}
    assert body["predictions"] == loaded.predict(rows[:1])
    probabilities = body["predictions"][0]["probabilities"]
    assert list(probabilities) == loaded.classes
    assert math.isclose(sum(probabilities.values()), 1.0)
    assert body["predictions"][0]["label"] == max(probabilities, key=probabilities.get)
    duration = re.fullmatch(r"model;dur=(\d+\.\d{3})", headers["Server-Timing"])
    assert duration
    assert 0 < float(duration.group(1)) < 10_000


def test_predict_batch_keeps_order(target: Target, rows: list[dict[str, float]]) -> None:
    body, _ = call(target, "POST", "/v1/predict", {"instances": rows}, status=200)
    expected = target.get_model().predict(rows)
    assert body["predictions"] == expected
    reversed_body, _ = call(target, "POST", "/v1/predict", {"instances": rows[::-1]}, status=200)
    assert reversed_body["predictions"] == expected[::-1]


def test_openapi(target: Target) -> None:
    body, _ = call(target, "GET", "/openapi.json", status=200)
    assert body == contract.openapi_document()


def test_every_documented_operation_is_served(target: Target) -> None:
    loaded = target.get_model()
    for template, operations in contract.openapi_document()["paths"].items():
        path = template.format(name=loaded.name, version=loaded.version)
        for method in operations.keys() & {"get", "post"}:
            response = target.client.open(path, method=method.upper(), json={})
            assert response.status_code not in (404, 405), f"{method} {path}"


# -- request IDs -----------------------------------------------------------------------------


def test_sane_request_id_is_echoed(target: Target) -> None:
    _, headers = call(
        target, "GET", "/health/live", headers={"X-Request-ID": "req-42.a:b_C"}, status=200
    )
    assert headers["X-Request-ID"] == "req-42.a:b_C"


@pytest.mark.parametrize("incoming", ["has space", "x" * 129, "semi;colon", ""])
def test_insane_request_id_is_replaced(target: Target, incoming: str) -> None:
    _, headers = call(target, "GET", "/health/live", headers={"X-Request-ID": incoming}, status=200)
    assert headers["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_request_ids_are_unique(target: Target) -> None:
    seen = {call(target, "GET", "/health/live", status=200)[1]["X-Request-ID"] for _ in range(5)}
    assert len(seen) == 5


# -- every error code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b"{", b'{"instances": [}', b"", b"\xff\xfe", b'{"instances": NaN}', b"[1,]"]
)
def test_malformed_json(target: Target, raw: bytes) -> None:
    body, _ = call(target, "POST", "/v1/predict", raw=raw, status=400)
    error_of(body, "malformed_json")


def test_not_found(target: Target) -> None:
    for path in ("/nope", "/v1/predict/", "/v3/predict", "/health"):
        body, _ = call(target, "GET", path, status=404)
        error_of(body, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/predict"),
        ("PUT", "/v1/predict"),
        ("DELETE", "/health/live"),
        ("POST", "/v1/model"),
        ("OPTIONS", "/v1/predict"),
    ],
)
def test_method_not_allowed(target: Target, method: str, path: str) -> None:
    body, headers = call(target, method, path, status=405)
    error_of(body, "method_not_allowed")
    assert ("POST" if path == "/v1/predict" else "GET") in headers["Allow"]


def test_payload_too_large(target: Target, rows: list[dict[str, float]]) -> None:
    # Valid JSON, a valid batch size, but over the 2 MiB default body limit.
    big = json.dumps({"instances": rows[:1], "pad": "x" * contract.DEFAULT_MAX_BODY_BYTES})
    body, _ = call(target, "POST", "/v1/predict", raw=big.encode(), status=413)
    error_of(body, "payload_too_large")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_unsupported_media_type(
    target: Target, rows: list[dict[str, float]], content_type: str | None
) -> None:
    body, _ = call(
        target,
        "POST",
        "/v1/predict",
        {"instances": rows[:1]},
        content_type=content_type,
        status=415,
    )
    error_of(body, "unsupported_media_type")


def test_empty_body_without_content_type(target: Target) -> None:
    body, _ = call(target, "POST", "/v1/predict", raw=b"", content_type=None, status=415)
    error_of(body, "unsupported_media_type")


def invalid_cases() -> list[tuple[str, Any, list[dict[str, Any]]]]:
    """Return (name, body, expected details) for every kind of validation error."""
    row = holdout_instances(1)[0]
    missing = {k: v for k, v in row.items() if k != "mean_area"}
    return [
        ("body-array", [row], [{"loc": [], "message": contract.BODY_NOT_OBJECT}]),
        ("body-number", 3, [{"loc": [], "message": contract.BODY_NOT_OBJECT}]),
        ("body-null", None, [{"loc": [], "message": contract.BODY_NOT_OBJECT}]),
        ("no-instances", {}, [{"loc": ["instances"], "message": "is required"}]),
        (
            "instances-null",
            {"instances": None},
            [{"loc": ["instances"], "message": "must be an array of objects"}],
        ),
        (
            "instances-object",
            {"instances": row},
            [{"loc": ["instances"], "message": "must be an array of objects"}],
        ),
        (
            "extra-key",
            {"instances": [row], "debug": True},
            [{"loc": ["debug"], "message": "is not allowed"}],
        ),
        (
            "empty-batch",
            {"instances": []},
            [{"loc": ["instances"], "message": "must hold at least 1 instance"}],
        ),
        (
            "oversized-batch",
            {"instances": [row] * 1001},
            [{"loc": ["instances"], "message": "must hold at most 1000 instances"}],
        ),
        (
            "instance-not-object",
            {"instances": [[1, 2]]},
            [
                {
                    "loc": ["instances", 0],
                    "message": "must be an object mapping feature names to numbers",
                }
            ],
        ),
        (
            "missing-feature",
            {"instances": [missing]},
            [{"loc": ["instances", 0, "mean_area"], "message": "is required"}],
        ),
        (
            "unknown-feature",
            {"instances": [dict(row, colour=1)]},
            [{"loc": ["instances", 0, "colour"], "message": "is not a feature of this model"}],
        ),
        (
            "string",
            {"instances": [row, dict(row, mean_radius="17.9")]},
            [{"loc": ["instances", 1, "mean_radius"], "message": "must be a number"}],
        ),
        (
            "boolean",
            {"instances": [dict(row, mean_radius=True)]},
            [{"loc": ["instances", 0, "mean_radius"], "message": "must be a number"}],
        ),
        (
            "null-value",
            {"instances": [dict(row, mean_radius=None)]},
            [{"loc": ["instances", 0, "mean_radius"], "message": "must be a number"}],
        ),
        (
            "huge-number",
            {"instances": [dict(row, mean_radius=10**400)]},
            [{"loc": ["instances", 0, "mean_radius"], "message": "must be a finite number"}],
        ),
        (
            "out-of-range",
            {"instances": [dict(row, worst_fractal_dimension=3.1304102791802214e306)]},
            [
                {
                    "loc": ["instances", 0, "worst_fractal_dimension"],
                    "message": "must be between -1e+09 and 1e+09",
                }
            ],
        ),
        (
            "overflow-float",
            {"instances": [dict(row, mean_radius=1e400)]},
            [{"loc": ["instances", 0, "mean_radius"], "message": "must be a finite number"}],
        ),
    ]


@pytest.mark.parametrize(
    ("name", "payload", "details"), invalid_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_validation_error(target: Target, name: str, payload: Any, details: list) -> None:
    raw = (
        json.dumps(payload).encode()
        if name != "overflow-float"
        else (json.dumps(payload).replace("Infinity", "1e400").encode())
    )
    body, _ = call(target, "POST", "/v1/predict", raw=raw, status=422)
    assert error_of(body, "validation_error")["details"] == details


def test_every_problem_is_reported(target: Target, rows: list[dict[str, float]]) -> None:
    bad = [dict(rows[0], mean_radius="x", worst_area=False), rows[1], {"colour": 1.0}]
    body, _ = call(target, "POST", "/v1/predict", {"instances": bad}, status=422)
    details = error_of(body, "validation_error")["details"]
    assert details[:2] == [
        {"loc": ["instances", 0, "mean_radius"], "message": "must be a number"},
        {"loc": ["instances", 0, "worst_area"], "message": "must be a number"},
    ]
    assert len(details) == 2 + 30 + 1  # 30 missing features and one unknown in instance 2
    assert details[-1] == {
        "loc": ["instances", 2, "colour"],
        "message": "is not a feature of this model",
    }


def test_not_ready(target: Target, rows: list[dict[str, float]]) -> None:
    target.set_model(None)
    for method, path, payload in [
        ("GET", "/health/ready", None),
        ("GET", "/v1/model", None),
        ("POST", "/v1/predict", {"instances": rows[:1]}),
    ]:
        body, _ = call(target, method, path, payload, status=503)
        error_of(body, "not_ready")
    body, _ = call(target, "GET", "/health/live", status=200)


def test_internal_error_hides_the_cause(
    target: Target, rows: list[dict[str, float]], capsys: pytest.CaptureFixture[str]
) -> None:
    class Exploding:
        """A model whose prediction fails unexpectedly."""

        name, version = "exploding", "0" * 12

        def predict(self, instances: Any) -> Any:
            raise RuntimeError("secret-internal-detail")

    target.set_model(Exploding())  # type: ignore[arg-type]
    body, _ = call(target, "POST", "/v1/predict", {"instances": rows[:1]}, status=500)
    error_of(body, "internal_error")
    assert "secret-internal-detail" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)


def test_disallowed_host(target: Target) -> None:
    body, _ = call(target, "GET", "/health/live", headers={"Host": "evil.example"}, status=400)
    error_of(body, "bad_request")


def test_accept_header_does_not_change_the_answer(target: Target) -> None:
    for accept in ("text/html", "application/json; indent=4", "application/xml"):
        response = target.client.get("/health/live", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.get_data() == b'{"status":"ok"}\n'
