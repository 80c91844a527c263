"""The reference app's routes plus django-prometheus' ``/metrics``: the metrics rung's URLconf."""

from django.urls import include, path

from django_app.urls import handler400, handler404, handler500
from django_app.urls import urlpatterns as reference

urlpatterns = [*reference, path("", include("django_prometheus.urls"))]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
