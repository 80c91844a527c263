"""The Flask app: the model behind the contract, assembled by an app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

import model
from contract import ENV_PREFIX, SETTINGS_DEFAULTS, host_list, model_dir
from model.batching import BatchSettings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then MLAPI_* and FLASK_* environment, then test overrides."""
    from flask_app import api, api_v2, codec, errors, headers, metrics

    app = Flask(__name__)
    app.json = codec.ContractJSONProvider(app)
    app.request_class = codec.ContractRequest
    app.config.from_mapping(SETTINGS_DEFAULTS, PROVIDE_AUTOMATIC_OPTIONS=False)
    app.config.from_prefixed_env(ENV_PREFIX)
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Flask's own names for two contract settings; both are enforced before a view runs.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.config["TRUSTED_HOSTS"] = host_list(app.config["ALLOWED_HOSTS"])
    # A doubled slash is a path no route serves (a 404, as in Django), not a redirect.
    app.url_map.merge_slashes = False

    # Loaded once, at start-up: a broken artifact stops the process here, before it serves.
    app.extensions["model"] = model.load(
        model_dir(app.config["MODEL_VARIANT"], app.config["MODEL_DIR"]),
        max_batch_size=app.config["MAX_BATCH_SIZE"],
        batching=BatchSettings.parse(
            app.config["BATCH_MAX_SIZE"],
            app.config["BATCH_MAX_WAIT_MS"],
            app.config["BATCH_MAX_QUEUE"],
        ),
    )

    errors.register_error_handlers(app)
    headers.register_headers(app)
    metrics.register_metrics(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_v2.bp)
    return app
