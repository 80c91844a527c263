"""The /v1 prediction endpoint in LitServe, as its documentation serves a model: a LitAPI whose
``setup`` loads the model and whose ``decode_request``, ``predict`` and ``encode_response`` handle
one request; batching off (``max_batch_size`` 1), one inference worker.

A peer the benchmark measures beside the apps (``python -m benchmarks peers``), run as a script
from ``.venv-peers/litserve`` (``make peers``); not a product app. It serves POST /v1/predict only
(LitServe adds GET /health, ready once the worker has loaded the model); its answers to valid
requests are the apps' byte for byte, its refusals LitServe's own.

With ``--max-batch-size`` 2 or more, LitServe's own batching (``python -m benchmarks batching``):
its inference worker takes up to that many requests (requests, not rows) that reach its queue
within ``--batch-timeout`` seconds of starting to collect, decodes each (``decode_request``: the
model validates it), hands the list to ``batch``, predicts the batch in one model call and gives
each request its own body back (``unbatch``). The HTTP body is the same. What it costs: LitServe
decodes and answers a batch in one ``try``, so a request that does not fit the model fails every
request batched with it (422 to each); every row is still computed as it is alone
(``model.runtime``), so a valid row's answer does not depend on its batch.
"""

from __future__ import annotations

import argparse
import os
from itertools import accumulate
from typing import Any

import litserve as ls
import numpy as np
from fastapi import HTTPException

from contract import model_dir, predict_body
from model import InvalidInput, Model, load


def loaded() -> Model:
    """Load the model variant the environment names."""
    variant = os.environ.get("MLAPI_MODEL_VARIANT", "light")
    return load(model_dir(variant, os.environ.get("MLAPI_MODEL_DIR", "")))


class PredictAPI(ls.LitAPI):
    """Predict the class of each instance of a /v1 request body."""

    def setup(self, device: str) -> None:
        """Load the model once per inference worker."""
        self.model = loaded()

    # Unannotated, as LitServe's examples write it: LitServe reads an annotation as the body's
    # type for FastAPI, and a postponed one as a query parameter.
    def decode_request(self, request):  # type: ignore[no-untyped-def]
        """Return the instances of the request body."""
        return request["instances"]

    def predict(self, instances: Any) -> dict[str, Any]:
        """Predict every instance; a row that does not fit the model is a 422."""
        try:
            return predict_body(self.model, self.model.predict(instances))
        except InvalidInput as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    def encode_response(self, output: dict[str, Any]) -> dict[str, Any]:
        """Return the prediction body as it is."""
        return output


class BatchedPredictAPI(ls.LitAPI):
    """Predict the instances of many /v1 request bodies in one model call (LitServe's batching)."""

    log_level = "INFO"  # LitServe's in the inference worker, a process of its own

    def setup(self, device: str) -> None:
        """Load the model once per inference worker, and set LitServe's log level there."""
        ls.configure_logging(self.log_level)
        self.model = loaded()

    def decode_request(self, request):  # type: ignore[no-untyped-def]
        """Return the request's rows, validated; a row that does not fit the model is a 422."""
        try:
            return self.model.to_array(request["instances"])
        except InvalidInput as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    def batch(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Return the requests' row arrays as they are (``predict`` stacks them)."""
        return inputs

    def predict(self, arrays: Any) -> list[dict[str, Any]]:
        """Predict every request's rows in one model call; return one body per request."""
        proba = self.model.compute_proba(np.concatenate(arrays))
        ends = list(accumulate(len(rows) for rows in arrays))
        return [
            predict_body(self.model, self.model.predictions(part))
            for part in np.split(proba, ends[:-1])
        ]

    def unbatch(self, output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the bodies, one per request, as ``predict`` made them."""
        return output


def main() -> None:
    """Serve on the host and port given, one API server and WEB_CONCURRENCY inference workers
    (one unless set, the variable gunicorn and uvicorn read); batching off unless
    ``--max-batch-size`` is 2 or more."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch-size", type=int, default=1, help="requests per model call")
    parser.add_argument("--batch-timeout", type=float, default=0.0, help="seconds to collect")
    level = os.environ.get("MLAPI_PEER_LOG_LEVEL", "INFO")
    parser.add_argument("--log-level", default=level, help="LitServe's and uvicorn's")
    args = parser.parse_args()
    if args.max_batch_size >= 2:
        batched = BatchedPredictAPI(
            api_path="/v1/predict",
            max_batch_size=args.max_batch_size,
            batch_timeout=args.batch_timeout,
        )
        batched.log_level = args.log_level  # pickled with it into the worker
        api: ls.LitAPI = batched
    else:
        api = PredictAPI(api_path="/v1/predict", max_batch_size=1)
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=workers)
    # uvicorn's access log off, as the apps write none; LitServe passes the option to uvicorn.
    server.run(
        host=args.host,
        port=args.port,
        num_api_servers=1,
        generate_client_file=False,
        access_log=False,
        log_level=args.log_level.lower(),
    )


if __name__ == "__main__":
    main()
