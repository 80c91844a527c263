"""Both apps answer the same corpus of requests with the same status, headers and bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import contract
from benchmarks.load.probes import Probe, probes
from tests.conftest import Target, comparable_headers
from tests.openapi import assert_conforms

PROBES = probes()


def answer(target: Target, probe: Probe) -> tuple[int, bytes]:
    """Send a probe in process; return status and body."""
    response = target.client.open(
        probe.path, method=probe.method, data=probe.body, headers=probe.headers
    )
    return response.status_code, response.get_data()


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_same_status_and_bytes(both: tuple[Target, Target], probe: Probe) -> None:
    (flask_status, flask_body), (django_status, django_body) = (answer(t, probe) for t in both)
    assert flask_status == django_status
    assert flask_body == django_body
    assert_conforms(probe.method, probe.path, flask_status, flask_body)
    assert flask_status < 500


def headers_of(target: Target, probe: Probe) -> dict[str, str]:
    """Send a probe in process; return its headers, the values that vary masked."""
    response = target.client.open(
        probe.path, method=probe.method, data=probe.body, headers=probe.headers
    )
    return comparable_headers(response.headers.items())


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_same_headers(both: tuple[Target, Target], probe: Probe) -> None:
    flask_headers, django_headers = (headers_of(t, probe) for t in both)
    assert flask_headers == django_headers


def test_corpus_covers_every_error_code(both: tuple[Target, Target]) -> None:
    flask, _ = both
    seen = {answer(flask, probe)[0] for probe in PROBES}
    assert {200, 400, 404, 405, 413, 415, 422} <= seen


def test_allow_header_does_not_depend_on_the_hash_seed(artifacts_root: Path) -> None:
    """Werkzeug keeps a route's methods in a set, whose order moves with PYTHONHASHSEED."""
    program = (
        "from flask_app import create_app\n"
        "client = create_app().test_client()\n"
        "print(client.post('/health/live').headers['Allow'])\n"
    )
    seen = set()
    for seed in ("1", "2", "3", "4"):
        result = subprocess.run(
            [sys.executable, "-c", program],
            env={
                **os.environ,
                "PYTHONHASHSEED": seed,
                "MLAPI_MODEL_DIR": str(artifacts_root / "light"),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        seen.add(result.stdout.strip())
    assert seen == {"GET, HEAD"}


def test_allow_lists_the_methods_in_the_contract_order() -> None:
    assert contract.allow(["head", "GET"]) == "GET, HEAD"
    assert contract.allow({"OPTIONS", "POST", "GET"}) == "GET, POST, OPTIONS"
    assert contract.allow(["PROPFIND", "GET"]) == "GET, PROPFIND"
