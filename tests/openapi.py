"""Check responses against the OpenAPI document, the single source of truth."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

import contract
from contract import openapi_document

DOC = openapi_document()


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def template_of(path: str) -> str | None:
    """Return the document's path template a concrete path matches, or None."""
    for template in DOC["paths"]:
        if re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)), path):
            return template
    return None


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """Return the JSON schema the document gives for this answer (an error for unknown paths)."""
    template = template_of(path)
    operation = DOC["paths"].get(template, {}).get(method.lower()) if template else None
    if operation is None:
        name = "V2Error" if contract.is_v2(path) else "Error"
        response = _deref(DOC["components"]["responses"][name])
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
    if status >= 400 and not contract.is_v2(path):
        assert data["error"]["status"] == status
    return data
