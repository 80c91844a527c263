"""The Open Inference Protocol v2 views: server and model metadata, readiness, inference."""

from __future__ import annotations

from time import perf_counter

from rest_framework.request import Request
from rest_framework.response import Response

from contract import client_alive, server_timing, v2
from django_app.codec import UntypedIsJSONNegotiation, json_body
from django_app.views import ContractView, app_metrics, loaded_model


class ServerMetadataView(ContractView):
    """Describe the server."""

    def get(self, request: Request) -> Response:
        """Answer the server's name, version and extensions."""
        return Response(v2.server_metadata())


class ServerLiveView(ContractView):
    """Report that the process is up."""

    def get(self, request: Request) -> Response:
        """Answer 200."""
        return Response(v2.server_live())


class ServerReadyView(ContractView):
    """Report that the model is loaded."""

    def get(self, request: Request) -> Response:
        """Answer 200 once the model is loaded."""
        loaded_model()
        return Response(v2.server_ready())


class ModelMetadataView(ContractView):
    """Describe the model's input and outputs."""

    def get(self, request: Request, name: str, version: str | None = None) -> Response:
        """Answer the metadata of the model the path names."""
        return Response(v2.model_metadata(v2.served_model(loaded_model(), name, version)))


class ModelReadyView(ContractView):
    """Report that the model is ready."""

    def get(self, request: Request, name: str, version: str | None = None) -> Response:
        """Answer 200 for the model the path names."""
        return Response(v2.model_ready(v2.served_model(loaded_model(), name, version)))


class InferView(ContractView):
    """Predict the rows of the request's tensor."""

    # The protocol's clients may send no Content-Type at all: such a body is read as JSON.
    content_negotiation_class = UntypedIsJSONNegotiation

    def post(self, request: Request, name: str, version: str | None = None) -> Response:
        """Validate the request's structure, then let the model validate and predict its rows."""
        model = v2.served_model(loaded_model(), name, version)
        inference = v2.parse_infer(model, json_body(request))
        started = perf_counter()
        body = v2.infer_body(model, inference, alive=client_alive(request.META))
        elapsed = perf_counter() - started
        if (recorder := app_metrics()) is not None:
            recorder.predicted(len(inference.X), elapsed)
        return Response(body, headers={"Server-Timing": server_timing(elapsed)})
