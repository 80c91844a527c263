"""The smallest Django REST framework app that serves the benchmark's prediction: its floor.

Settings in code, one middleware, DRF's JSON parser and renderer, no authentication or
permissions, APIViews reading ``request.data``: no contract headers, no request ID, no error
mapping, no serializer (CommonMiddleware does check the Host against ALLOWED_HOSTS). It answers
well-formed requests only, with the same runtime and the same bodies as the real app
(``django_app/``). The throughput comparison runs it beside the real app to tell the framework's
unavoidable cost from what the contract adds.
"""

from __future__ import annotations

import django
from django.conf import settings
from django.urls import path

import contract
from benchmarks.targets.baseline import MODEL

settings.configure(
    DEBUG=False,
    SECRET_KEY="floor-benchmark-only",  # noqa: S106 - signs nothing; local benchmark target
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["rest_framework"],
    DATABASES={},
    # CommonMiddleware only, for the Content-Length every other target sends (without it
    # gunicorn would send the body chunked).
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    APPEND_SLASH=False,
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - needs the settings above
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class LiveView(APIView):
    """Report that the process is up."""

    def get(self, request: Request) -> Response:
        """Answer 200."""
        return Response(contract.live_body())


class ReadyView(APIView):
    """Report that the model is loaded."""

    def get(self, request: Request) -> Response:
        """Answer 200 with the model's name and version."""
        return Response(contract.ready_body(MODEL))


class PredictView(APIView):
    """Predict the class of each instance."""

    def post(self, request: Request) -> Response:
        """Answer the predictions."""
        return Response(contract.predict_body(MODEL, MODEL.predict(request.data["instances"])))


urlpatterns = [
    path("health/live", LiveView.as_view()),
    path("health/ready", ReadyView.as_view()),
    path("v1/predict", PredictView.as_view()),
]
application = get_wsgi_application()
