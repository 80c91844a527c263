"""Check before measuring: every target answers every probe alike (status and body bytes)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from benchmarks.load.probes import probes
from benchmarks.results.records import ProbeAnswer, ProbeRecord
from benchmarks.serving.gunicorn import Server, request, send


class ParityError(RuntimeError):
    """Two targets answered a probe differently: nothing measured would be comparable."""


def parity_gate(started: dict[str, Server]) -> list[str]:
    """Send every probe to every target; return a description of each disagreement."""
    return disagreements({name: server.url for name, server in started.items()})


def disagreements(urls: Mapping[str, str]) -> list[str]:
    """Send every probe to every base URL, by name; return a description of each disagreement."""
    differences = []
    for probe in probes():
        answers = {
            name: send(url, probe.method, probe.path, probe.body, probe.headers, timeout=10)
            for name, url in urls.items()
            if probe.baseline or name != "baseline"
        }
        reference_name, (status, _, body) = next(iter(answers.items()))
        for name, (other_status, _, other_body) in answers.items():
            if (other_status, other_body) != (status, body):
                differences.append(
                    f"probe {probe.name!r} ({probe.method} {probe.path}): {reference_name} "
                    f"answered {status} {body[:160]!r}, {name} answered {other_status} "
                    f"{other_body[:160]!r}"
                )
    return differences


def error_code(body: bytes) -> str:
    """Return the contract's error code in a body, "v2" for the protocol's plain error form."""
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return "not JSON"
    return "v2" if isinstance(error, str) else str(error.get("code", ""))


def probe_answers(started: dict[str, Server]) -> list[ProbeRecord]:
    """Send every probe to each app; return how each was answered (status and error code)."""
    found: list[ProbeRecord] = []
    for probe in probes():
        answers: dict[str, ProbeAnswer] = {}
        for name, server in started.items():
            if name == "baseline":
                continue
            status, _, body = request(
                server.port, probe.method, probe.path, probe.body, probe.headers, timeout=10
            )
            code = error_code(body)
            answers[name] = {"status": status, "code": code}
        found.append(
            {"probe": probe.name, "method": probe.method, "path": probe.path, "answers": answers}
        )
    return found
