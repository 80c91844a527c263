"""Both apps answer the same corpus of requests with the same status, headers and bytes."""

from __future__ import annotations

import pytest

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
