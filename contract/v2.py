"""The Open Inference Protocol, version 2 (REST), as both apps serve it beside /v1.

The protocol KServe, Seldon Core, Triton and MLServer speak:
https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
Its structure (an inference request's inputs and outputs, the metadata and readiness bodies) is
read and written here once; the model runtime validates the tensor's values as it validates
/v1's instances, and ``contract.error_answer`` gives every /v2 error the protocol's form. No web
framework is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from contract import openapi_document
from model import InvalidInput, Model
from model.batching import Alive

SERVER_NAME = "flask-vs-django-ml"
PLATFORM = "scikit-learn"
# The one input tensor the model reads. Its name is published in the metadata; a request's
# tensor may carry any name (MLServer and KServe's own servers do not check it either).
INPUT_NAME = "input-0"
DATATYPES = ("FP64", "FP32")
PREDICT = "predict"
PREDICT_PROBA = "predict_proba"
OUTPUTS = (PREDICT, PREDICT_PROBA)

_REQUEST_FIELDS = ("id", "parameters", "inputs", "outputs")
_TENSOR_FIELDS = ("name", "shape", "datatype", "parameters", "data")
_OUTPUT_FIELDS = ("name", "parameters")
NOT_A_FIELD = "is not a field of the protocol here"


class UnknownModel(LookupError):
    """The request names a model or a version that this server does not serve."""


@dataclass(frozen=True)
class Inference:
    """A validated inference request: the rows to predict and what to answer."""

    X: np.ndarray
    outputs: tuple[str, ...]
    id: str | None


def served_model(model: Model, name: str, version: str | None = None) -> Model:
    """Return the model a path names, or raise UnknownModel."""
    if name != model.name:
        raise UnknownModel(f"model {name!r} is not served here")
    if version is not None and version != model.version:
        raise UnknownModel(f"model {name!r} has no version {version!r}")
    return model


def server_metadata() -> dict[str, Any]:
    """Return the server's metadata: its name, its version, no protocol extension."""
    return {
        "name": SERVER_NAME,
        "version": openapi_document()["info"]["version"],
        "extensions": [],
    }


def server_live() -> dict[str, Any]:
    """Return the liveness body."""
    return {"live": True}


def server_ready() -> dict[str, Any]:
    """Return the readiness body of a server whose model is loaded."""
    return {"ready": True}


def model_ready(model: Model) -> dict[str, Any]:
    """Return the readiness body of the served model."""
    return {"name": model.name, "ready": True}


def model_metadata(model: Model) -> dict[str, Any]:
    """Return the model's metadata: its version, its input tensor and its two outputs."""
    return {
        "name": model.name,
        "versions": [model.version],
        "platform": PLATFORM,
        "inputs": [{"name": INPUT_NAME, "datatype": "FP64", "shape": [-1, len(model.features)]}],
        "outputs": [
            {"name": PREDICT, "datatype": "BYTES", "shape": [-1, 1]},
            {"name": PREDICT_PROBA, "datatype": "FP64", "shape": [-1, len(model.classes)]},
        ],
    }


def _refuse_unknown(body: dict[str, Any], allowed: tuple[str, ...], where: tuple) -> None:
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise InvalidInput([((*where, key), NOT_A_FIELD) for key in unknown])


def _object(body: dict[str, Any], key: str, where: tuple) -> None:
    if key in body and type(body[key]) is not dict:
        raise InvalidInput([((*where, key), "must be an object")])


def _shape(value: Any) -> list[int]:
    if type(value) is not list or not all(type(n) is int and n >= 0 for n in value):
        raise InvalidInput([(("inputs", 0, "shape"), "must be an array of non-negative integers")])
    return value


def _outputs(body: dict[str, Any]) -> tuple[str, ...]:
    if "outputs" not in body:
        return OUTPUTS
    value = body["outputs"]
    if type(value) is not list:
        raise InvalidInput([(("outputs",), "must be an array of objects")])
    names: list[str] = []
    for index, output in enumerate(value):
        where = ("outputs", index)
        if type(output) is not dict:
            raise InvalidInput([(where, "must be an object with a name")])
        _refuse_unknown(output, _OUTPUT_FIELDS, where)
        _object(output, "parameters", where)
        if output.get("name") not in OUTPUTS:
            raise InvalidInput([((*where, "name"), f"must be {PREDICT} or {PREDICT_PROBA}")])
        names.append(output["name"])
    return tuple(names) or OUTPUTS


def parse_infer(model: Model, body: Any) -> Inference:
    """Validate an inference request's structure, then let the model validate its tensor."""
    if type(body) is not dict:
        raise InvalidInput([((), "must be a JSON object with an 'inputs' array")])
    _refuse_unknown(body, _REQUEST_FIELDS, ())
    if "id" in body and type(body["id"]) is not str:
        raise InvalidInput([(("id",), "must be a string")])
    _object(body, "parameters", ())
    inputs = body.get("inputs")
    if type(inputs) is not list or len(inputs) != 1 or type(inputs[0]) is not dict:
        raise InvalidInput([(("inputs",), "must be an array of one tensor: the model has one")])
    tensor = inputs[0]
    where = ("inputs", 0)
    _refuse_unknown(tensor, _TENSOR_FIELDS, where)
    _object(tensor, "parameters", where)
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in tensor]
    if missing:
        raise InvalidInput([((*where, key), "is required") for key in missing])
    if type(tensor["name"]) is not str:
        raise InvalidInput([((*where, "name"), "must be a string")])
    if tensor["datatype"] not in DATATYPES:
        raise InvalidInput([((*where, "datatype"), f"must be one of {', '.join(DATATYPES)}")])
    shape = _shape(tensor["shape"])
    outputs = _outputs(body)
    try:
        X = model.tensor_to_array(tensor["data"], shape, float32=tensor["datatype"] == "FP32")
    except InvalidInput as exc:
        raise InvalidInput([((*where, *loc), message) for loc, message in exc.details]) from None
    return Inference(X=X, outputs=outputs, id=body.get("id"))


def infer_body(model: Model, inference: Inference, alive: Alive | None = None) -> dict[str, Any]:
    """Predict the request's rows and return the inference response (``alive``: whether the
    client still waits, for the batcher)."""
    proba = model.predict_proba(inference.X, alive=alive)
    rows = len(proba)
    tensors = {
        PREDICT: lambda: {
            "name": PREDICT,
            "datatype": "BYTES",
            "shape": [rows, 1],
            "data": model.labels(proba),
        },
        PREDICT_PROBA: lambda: {
            "name": PREDICT_PROBA,
            "datatype": "FP64",
            "shape": [rows, proba.shape[1]],
            "data": proba.ravel().tolist(),
        },
    }
    body: dict[str, Any] = {"model_name": model.name, "model_version": model.version}
    if inference.id is not None:
        body["id"] = inference.id
    body["outputs"] = [tensors[name]() for name in inference.outputs]
    return body
