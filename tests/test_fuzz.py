"""Property-based fuzzing of both apps, generated from the OpenAPI document by schemathesis.

schemathesis turns the document into requests: positive ones (valid against the document) and
negative ones (each breaks it somewhere). Whatever it sends, either app must answer with a
documented status, ``application/json``, the contract's headers, a body valid against the
response schema and never a 5xx; a negative request must be refused with a 4xx in the contract's
error format. The same request must also get the same status and bytes from both apps.

The document's ``Instance`` allows any keys (the features are the model's, see ``GET
/v1/model``), so a positive request built from it never names all 30 features and is refused
with a 422. A second document, the contract pinned to the served model's features, lets positive
requests reach the model and its 200 answer.

Generation is reproducible: a fixed seed, no example database, a bounded number of examples.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import contract
import model
from contract.metrics import CONTENT_TYPE
from tests.conftest import Target
from tests.openapi import assert_conforms

SEED = 20_240_601
MAX_EXAMPLES = 50
DOCUMENTS = ("contract", "model")

# Rejecting bad input with a 5xx is exactly what this file hunts, so negative data may get only
# the contract's client errors (schemathesis's default list also allows any 5xx).
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # 404: a /v2 path that names another model than the one served.
            "negative_data_rejection": {"expected-statuses": ["400", "404", "413", "415", "422"]},
            "positive_data_acceptance": {"expected-statuses": ["200"]},
        }
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def document(served: model.Model | None = None) -> dict[str, Any]:
    """Return a copy of the contract, pinned to the served model's features and name if given."""
    doc = copy.deepcopy(contract.openapi_document())
    if served is not None:
        schemas = doc["components"]["schemas"]
        # Each feature takes exactly the values the published document allows any key.
        value = schemas["Instance"]["additionalProperties"]
        schemas["Instance"] = {
            "type": "object",
            "required": served.features,
            "additionalProperties": False,
            "properties": dict.fromkeys(served.features, value),
        }
        # /v2: the served model's name and version, and one row of its features, flat.
        parameters = doc["components"]["parameters"]
        parameters["ModelName"]["schema"] = {"enum": [served.name]}
        parameters["ModelVersion"]["schema"] = {"enum": [served.version]}
        tensor = schemas["V2InferenceRequest"]["properties"]["inputs"]["items"]["properties"]
        width = len(served.features)
        tensor["shape"] = {"const": [1, width]}
        tensor["data"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/V2Number"},
            "minItems": width,
            "maxItems": width,
        }
    return doc


def cases(*, bodies_only: bool = False) -> list[Any]:
    """Return (method, path, document, mode) to fuzz, with the operationId in the test id.

    A request body is negated, and fuzzed against both documents. An operation without one is
    fuzzed positively only: against the pinned document too when its path names the model
    (/v2/models/{name}), where only the pinned name reaches the model.
    """
    found = []
    for path, operations in contract.openapi_document()["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            name = operation["operationId"]
            if "requestBody" in operation:
                found += [
                    pytest.param(method.upper(), path, doc, mode, id=f"{name}-{doc}-{mode.value}")
                    for doc in DOCUMENTS
                    for mode in GenerationMode
                ]
            elif not bodies_only:
                found += [
                    pytest.param(
                        method.upper(), path, doc, GenerationMode.POSITIVE, id=f"{name}-{doc}"
                    )
                    for doc in (DOCUMENTS if "parameters" in operations else DOCUMENTS[:1])
                ]
    return found


@pytest.fixture(scope="module")
def schemas(light_model: model.Model) -> dict[str, schemathesis.BaseSchema]:
    """Load the contract as published, and pinned to the features of the model both apps serve."""
    return {
        "contract": schemathesis.openapi.from_dict(document(), config=CONFIG),
        "model": schemathesis.openapi.from_dict(document(light_model), config=CONFIG),
    }


def fuzz(
    strategy: st.SearchStrategy[schemathesis.Case], send: Callable[[schemathesis.Case], None]
) -> None:
    """Send every case the strategy generates, reproducibly."""

    @seed(SEED)
    # No deadline: the first request to the Django app is slow. No example database: a run
    # never replays what an earlier run (or another machine) found, so CI sees the seed's cases
    # only. No explain phase: on a failure it re-sends thousands of variants of the request
    # (minutes), where shrinking alone already gives the smallest failing request.
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[phase for phase in Phase if phase is not Phase.explain],
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        send(case)

    run()


def assert_contract_answer(case: schemathesis.Case, response: schemathesis.Response) -> None:
    """Assert what schemathesis does not: exact media type, contract headers, error status."""
    headers = {name: values[0] for name, values in response.headers.items()}
    for name, value in contract.RESPONSE_HEADERS.items():
        assert headers[name.lower()] == value, name
    if (case.path, response.status_code) == ("/metrics", 200):
        # The one answer that is not JSON (tests/test_metrics.py reads it).
        assert headers["content-type"] == CONTENT_TYPE
        return
    assert headers["content-type"] == "application/json"
    assert_conforms(case.method, case.path, response.status_code, response.content)


@pytest.mark.parametrize(("method", "path", "doc", "mode"), cases())
def test_every_answer_conforms(
    target: Target,
    schemas: dict[str, schemathesis.BaseSchema],
    method: str,
    path: str,
    doc: str,
    mode: GenerationMode,
) -> None:
    # Only against the pinned document is a valid request valid for the model too.
    checks = [*CHECKS, positive_data_acceptance] if doc == "model" else CHECKS

    def send(case: schemathesis.Case) -> None:
        # The WSGI test client sends Host: localhost, one of the allowed hosts.
        try:
            response = case.call_and_validate(app=target.wsgi, checks=checks)
        except schemathesis.errors.FailureGroup as failures:
            # A BaseException: Hypothesis would stop at the first failing request instead of
            # shrinking it to the smallest one that fails.
            raise AssertionError(str(failures)) from failures
        assert_contract_answer(case, response)

    fuzz(schemas[doc][path][method].as_strategy(generation_mode=mode), send)


@pytest.mark.parametrize(("method", "path", "doc", "mode"), cases(bodies_only=True))
def test_both_apps_answer_alike(
    both: tuple[Target, Target],
    schemas: dict[str, schemathesis.BaseSchema],
    method: str,
    path: str,
    doc: str,
    mode: GenerationMode,
) -> None:
    def send(case: schemathesis.Case) -> None:
        flask, django = (case.call(app=target.wsgi) for target in both)
        assert (flask.status_code, flask.content) == (django.status_code, django.content)

    fuzz(schemas[doc][path][method].as_strategy(generation_mode=mode), send)
