"""The URL routes of the Django app, and the views Django uses for its own errors."""

from django.urls import path

from django_app import views, views_v2

urlpatterns = [
    path("health/live", views.LiveView.as_view()),
    path("health/ready", views.ReadyView.as_view()),
    path("v1/model", views.ModelCardView.as_view()),
    path("v1/predict", views.PredictView.as_view()),
    path("metrics", views.MetricsView.as_view()),
    path("openapi.json", views.OpenAPIView.as_view()),
    # The Open Inference Protocol v2; a model's routes with and without /versions/<version>.
    path("v2", views_v2.ServerMetadataView.as_view()),
    path("v2/health/live", views_v2.ServerLiveView.as_view()),
    path("v2/health/ready", views_v2.ServerReadyView.as_view()),
    path("v2/models/<str:name>", views_v2.ModelMetadataView.as_view()),
    path("v2/models/<str:name>/versions/<str:version>", views_v2.ModelMetadataView.as_view()),
    path("v2/models/<str:name>/ready", views_v2.ModelReadyView.as_view()),
    path("v2/models/<str:name>/versions/<str:version>/ready", views_v2.ModelReadyView.as_view()),
    path("v2/models/<str:name>/infer", views_v2.InferView.as_view()),
    path("v2/models/<str:name>/versions/<str:version>/infer", views_v2.InferView.as_view()),
]

handler400 = "django_app.exceptions.bad_request"
handler404 = "django_app.exceptions.not_found"
handler500 = "django_app.exceptions.server_error"
