"""The /v1 prediction endpoint in BentoML with BentoML's own adaptive batching, as its
documentation composes it: a batchable API takes a batch (``batchable=True``), so the public
endpoint stays one request's body and calls it through ``bentoml.depends``, a service of its own.

``Predictor`` answers POST /v1/predict as the unbatched peer does (``bentoml_peer.py``): it
validates the body with the model (a bad row is its own 400, never its neighbours'), sends the
validated rows to ``Rows.proba`` and writes the contract's body from the probabilities.
``Rows.proba`` is the batchable API: BentoML's dispatcher stacks the arrays of the requests that
wait (batch dimension 0: rows, up to MLAPI_BATCH_MAX_SIZE, a request never split) into one model
call and hands each caller its own rows. Its wait has no setting: the dispatcher learns it from
the calls it times. ``max_latency_ms`` (MLAPI_BATCH_LATENCY_BUDGET_MS) is a latency budget, not a
wait: a request the dispatcher expects to finish later than that is refused with a 503.

What the composition costs: ``bentoml serve`` runs ``Rows`` in a process of its own, so each
request crosses one more HTTP hop (a Unix socket, the arrays pickled) and the model is loaded
twice (the public service reads its classes and validates with it). Every row is computed as it
is alone (``model.runtime``), so a row's answer does not depend on its batch.

A peer the benchmark measures (``python -m benchmarks batching``), served by ``bentoml serve
bentoml_batched_peer:Predictor`` from ``.venv-peers/bentoml`` (``make peers``); not a product app.
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument

from contract import model_dir, predict_body
from model import InvalidInput, Model, load

MAX_BATCH_SIZE = int(os.environ.get("MLAPI_BATCH_MAX_SIZE", "16"))
LATENCY_BUDGET_MS = int(os.environ.get("MLAPI_BATCH_LATENCY_BUDGET_MS", "60000"))
SERVICE = {"workers": 1, "logging": {"access": {"enabled": False}}}


def loaded() -> Model:
    """Load the model variant the environment names."""
    variant = os.environ.get("MLAPI_MODEL_VARIANT", "light")
    return load(model_dir(variant, os.environ.get("MLAPI_MODEL_DIR", "")))


@bentoml.service(**SERVICE)
class Rows:
    """The model behind BentoML's dispatcher: validated rows in, class probabilities out."""

    def __init__(self) -> None:
        self.model = loaded()

    @bentoml.api(
        batchable=True,
        batch_dim=0,
        max_batch_size=MAX_BATCH_SIZE,
        max_latency_ms=LATENCY_BUDGET_MS,
    )
    def proba(self, rows: np.ndarray) -> np.ndarray:
        """Return the class probabilities of every row of a batch, in one model call."""
        return self.model.compute_proba(rows)


@bentoml.service(**SERVICE)
class Predictor:
    """The breast-cancer classifier, one row or a batch per request, batched across requests."""

    rows = bentoml.depends(Rows)

    def __init__(self) -> None:
        self.model = loaded()

    # Asynchronous, so that the requests waiting on Rows are many at once (a synchronous one
    # would call it one request at a time, as BentoML's documentation warns).
    @bentoml.api(route="/v1/predict")
    async def predict(self, instances: list[dict[str, float]]) -> dict[str, Any]:
        """Predict the class of each instance; a row that does not fit the model is a 400."""
        try:
            rows = self.model.to_array(instances)
        except InvalidInput as exc:
            raise InvalidArgument(str(exc)) from exc
        try:
            proba = await self.rows.to_async.proba(rows)
        except aiohttp.ClientConnectionError:
            # BentoML's client for depends() replaces its HTTP session every 100 calls and closes
            # the old one under the calls still on it (bentoml/BentoML#5540, #5544): such a call
            # is sent once more, on the new session, as the fix proposed upstream does (#5698).
            proba = await self.rows.to_async.proba(rows)
        return predict_body(self.model, self.model.predictions(proba))
