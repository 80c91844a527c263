"""Check before measuring: every target answers every probe alike (status and body bytes)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from benchmarks.load import protocols
from benchmarks.load.probes import JSON, probes
from benchmarks.results.records import ProbeAnswer, ProbeRecord
from benchmarks.results.vocabulary import Protocol
from benchmarks.serving.gunicorn import Server, request, send
from model import Model


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


def probability_gate(
    name: str, url: str, protocol: Protocol, model: Model, rows: list[dict[str, float]]
) -> list[str]:
    """Send each held-out row alone to a target in its protocol; return how its probabilities
    differ from scikit-learn's ``predict_proba`` of that row alone (bit for bit; empty when
    they agree).

    Every target the peers' command measures passes this before any load: a server whose
    figures are compared must compute the same thing. One row per request, because that is
    what is measured, and because scikit-learn's own answer for a row moves in its last bit
    with the rows beside it (the apps answer every row as it is alone, ``model.runtime``).
    """
    differing: list[tuple[int, list[float], list[float]]] = []
    for index, row in enumerate(rows):
        status, _, raw = send(
            url,
            "POST",
            protocols.path(protocol),
            protocols.body(protocol, [row]),
            JSON,
            timeout=30,
        )
        if status != 200:
            return [f"{name} answered {status} to held-out row {index}: {raw[:300]!r}"]
        X = np.array([[row[f] for f in model.features]], dtype=np.float64)
        expected = model.estimator.predict_proba(X).tolist()
        got = protocols.probabilities(protocol, json.loads(raw), model.classes)
        if len(got) != 1:
            return [f"{name} answered {len(got)} rows for held-out row {index}"]
        if got != expected:
            differing.append((index, got[0], expected[0]))
    if not differing:
        return []
    first, got_first, expected_first = differing[0]
    largest = max(abs(a - b) for _, g, e in differing for a, b in zip(g, e, strict=True))
    return [
        f"{name}'s probabilities differ from the model's predict_proba in {len(differing)} of "
        f"{len(rows)} held-out rows (row {first}: {got_first} for {expected_first}; largest "
        f"difference {largest:.3g})"
    ]
