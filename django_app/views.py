"""The API views: health, model card, predictions, metrics and the contract itself."""

from __future__ import annotations

from time import perf_counter
from typing import ClassVar

from django.apps import apps
from django.http import Http404, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contract import (
    client_alive,
    live_body,
    openapi_document,
    predict_body,
    ready_body,
    server_timing,
)
from contract.metrics import CONTENT_TYPE, Metrics
from django_app.codec import json_body
from django_app.exceptions import NotReady
from django_app.serializers import PredictRequestSerializer
from model import Model


class ContractView(APIView):
    """The base of every view here: the contract's methods, and no headers it does not define.

    DRF puts an ``Allow`` header on every answer and would answer OPTIONS; the contract (like the
    Flask app) sends ``Allow`` on 405 answers only (``exceptions.py``) and refuses OPTIONS.
    """

    http_method_names: ClassVar[list[str]] = ["get", "head", "post"]

    @property
    def default_response_headers(self) -> dict[str, str]:
        """Add no header to the view's answers."""
        return {}


def loaded_model() -> Model:
    """Return the app's model, or answer 503 when none is loaded."""
    model = apps.get_app_config("api").model
    if model is None:
        raise NotReady()
    return model


def app_metrics() -> Metrics | None:
    """Return the app's metrics, or None when METRICS_ENABLED is off."""
    return apps.get_app_config("api").metrics


class LiveView(ContractView):
    """Report that the process is up."""

    def get(self, request: Request) -> Response:
        """Answer 200."""
        return Response(live_body())


class ReadyView(ContractView):
    """Report that the model is loaded."""

    def get(self, request: Request) -> Response:
        """Answer 200 with the model's name and version."""
        return Response(ready_body(loaded_model()))


class ModelCardView(ContractView):
    """Describe the served model."""

    def get(self, request: Request) -> Response:
        """Answer the model card."""
        return Response(loaded_model().card)


class PredictView(ContractView):
    """Predict the class of each instance."""

    def post(self, request: Request) -> Response:
        """Validate the envelope, then let the model validate and predict the instances."""
        model = loaded_model()
        serializer = PredictRequestSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        started = perf_counter()
        predictions = model.predict(
            serializer.validated_data["instances"], alive=client_alive(request.META)
        )
        elapsed = perf_counter() - started
        if (recorder := app_metrics()) is not None:
            recorder.predicted(len(predictions), elapsed)
        return Response(
            predict_body(model, predictions), headers={"Server-Timing": server_timing(elapsed)}
        )


class MetricsView(ContractView):
    """Return the app's metrics in Prometheus' text format, or 404 when they are off."""

    def get(self, request: Request) -> HttpResponse:
        """Answer the metrics of every worker."""
        recorder = app_metrics()
        if recorder is None:
            raise Http404()
        return HttpResponse(recorder.exposition(), content_type=CONTENT_TYPE)


class OpenAPIView(ContractView):
    """Return the OpenAPI document this app implements."""

    def get(self, request: Request) -> Response:
        """Answer the document."""
        return Response(openapi_document())
