"""The URL routes of the Django app, and the views Django uses for its own errors."""

from django.urls import path

from django_app import views

urlpatterns = [
    path("health/live", views.LiveView.as_view()),
    path("health/ready", views.ReadyView.as_view()),
    path("v1/model", views.ModelCardView.as_view()),
    path("v1/predict", views.PredictView.as_view()),
    path("metrics", views.MetricsView.as_view()),
    path("openapi.json", views.OpenAPIView.as_view()),
]

handler400 = "django_app.exceptions.bad_request"
handler404 = "django_app.exceptions.not_found"
handler500 = "django_app.exceptions.server_error"
