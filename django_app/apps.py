"""The Django app's configuration: where the model is loaded, once per process, and its metrics."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings

import model
from contract import model_dir
from contract.metrics import Metrics
from model.batching import BatchSettings


class ApiConfig(AppConfig):
    """The API app; holds the loaded model and its metrics."""

    name = "django_app"
    label = "api"
    model: model.Model | None = None
    metrics: Metrics | None = None

    def ready(self) -> None:
        """Load the model at start-up: a broken artifact stops the process before it serves."""
        self.model = model.load(
            model_dir(settings.MODEL_VARIANT, settings.MODEL_DIR),
            max_batch_size=settings.MAX_BATCH_SIZE,
            batching=BatchSettings.parse(
                settings.BATCH_MAX_SIZE,
                settings.BATCH_MAX_WAIT_MS,
                settings.BATCH_MAX_QUEUE,
            ),
        )
        if settings.METRICS_ENABLED:
            self.metrics = Metrics(self.model)
