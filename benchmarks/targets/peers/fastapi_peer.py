"""The /v1 contract in FastAPI, as FastAPI's documentation builds an API: pydantic models, an
APIRouter, the model loaded once in the lifespan handler, errors mapped by exception handlers.

A peer the benchmark measures beside the apps (``python -m benchmarks peers``), served by uvicorn
from ``.venv-peers/fastapi`` (``make peers``); not a product app. It serves the same model through
the same runtime (``model.load``) and answers predictions, the model card and the 422 body of the
model's own validation byte for byte as the apps do; pydantic's own refusals (a string where a
number goes) carry pydantic's messages.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from contract import dumps, error_body, live_body, model_dir, predict_body, ready_body
from model import InvalidInput, Model, load


class PredictRequest(BaseModel):
    """The request body: the rows to predict, each feature by name."""

    model_config = ConfigDict(extra="forbid")

    instances: list[dict[str, float]]


class ModelRef(BaseModel):
    """The model that answered."""

    name: str
    version: str


class Prediction(BaseModel):
    """One row's most probable class and every class's probability."""

    label: str
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    """The prediction body."""

    model: ModelRef
    predictions: list[Prediction]


class ContractJSONResponse(JSONResponse):
    """JSON as the contract writes it: compact, ASCII, one final newline (as the apps send it)."""

    def render(self, content: Any) -> bytes:
        """Serialize ``content`` as the contract does."""
        return (dumps(content) + "\n").encode()


router = APIRouter()


def served_model(request: Request) -> Model:
    """Return the model the lifespan handler loaded."""
    return request.app.state.model


@router.get("/health/live")
def live() -> dict[str, Any]:
    """Report that the process is up."""
    return live_body()


@router.get("/health/ready")
def ready(request: Request) -> dict[str, Any]:
    """Report that the model is loaded."""
    return ready_body(served_model(request))


@router.get("/v1/model")
def model_card(request: Request) -> dict[str, Any]:
    """Describe the served model."""
    return served_model(request).card


@router.post("/v1/predict", response_model=PredictResponse)
def predict(body: PredictRequest, request: Request) -> dict[str, Any]:
    """Predict the class of each instance."""
    model = served_model(request)
    return predict_body(model, model.predict(body.instances))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model once, before the first request."""
    variant = os.environ.get("MLAPI_MODEL_VARIANT", "light")
    app.state.model = load(model_dir(variant, os.environ.get("MLAPI_MODEL_DIR", "")))
    yield


app = FastAPI(
    title="flask-vs-django-ml FastAPI peer",
    lifespan=lifespan,
    default_response_class=ContractJSONResponse,
)
app.include_router(router)


@app.exception_handler(InvalidInput)
async def invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
    """Answer a request whose instances do not fit the model, as the apps do."""
    return ContractJSONResponse(error_body("validation_error", exc.details), status_code=422)


@app.exception_handler(RequestValidationError)
async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer a body pydantic refused in the contract's error form (pydantic's messages)."""
    details = [(error["loc"][1:], error["msg"]) for error in exc.errors()]
    return ContractJSONResponse(error_body("validation_error", details), status_code=422)
