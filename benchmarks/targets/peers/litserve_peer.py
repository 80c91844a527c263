"""The /v1 prediction endpoint in LitServe, as its documentation serves a model: a LitAPI whose
``setup`` loads the model and whose ``decode_request``, ``predict`` and ``encode_response`` handle
one request; batching off (``max_batch_size`` 1), one inference worker.

A peer the benchmark measures beside the apps (``python -m benchmarks peers``), run as a script
from ``.venv-peers/litserve`` (``make peers``); not a product app. It serves POST /v1/predict only
(LitServe adds GET /health, ready once the worker has loaded the model); its answers to valid
requests are the apps' byte for byte, its refusals LitServe's own.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import litserve as ls
from fastapi import HTTPException

from contract import model_dir, predict_body
from model import InvalidInput, load


class PredictAPI(ls.LitAPI):
    """Predict the class of each instance of a /v1 request body."""

    def setup(self, device: str) -> None:
        """Load the model once per inference worker."""
        variant = os.environ.get("MLAPI_MODEL_VARIANT", "light")
        self.model = load(model_dir(variant, os.environ.get("MLAPI_MODEL_DIR", "")))

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


def main() -> None:
    """Serve on the host and port given, one API server and WEB_CONCURRENCY inference workers
    (one unless set, the variable gunicorn and uvicorn read), no batching."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
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
    )


if __name__ == "__main__":
    main()
