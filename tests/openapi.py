"""Check responses against the OpenAPI document, the single source of truth."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from contract import openapi_document

DOC = openapi_document()


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """Return the JSON schema the document gives for this answer (Error for unknown paths)."""
    operation = DOC["paths"].get(path, {}).get(method.lower())
    if operation is None:
        response = _deref(DOC["components"]["responses"]["Error"])
    else:
        responses = operation["responses"]
        response = _deref(responses.get(str(status)) or responses["default"])
    # Keep the document's components beside the schema so its "#/components/..." refs resolve.
    return {**response["content"]["application/json"]["schema"], "components": DOC["components"]}


def assert_conforms(method: str, path: str, status: int, body: bytes) -> Any:
    """Parse a response body and assert it validates against the document; return it."""
    data = json.loads(body)
    schema = response_schema(method, path.split("?")[0], status)
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
    assert not errors, f"{method} {path} -> {status} breaks the contract: {errors[0].message}"
    if status >= 400:
        assert data["error"]["status"] == status
    return data
