"""The registry of targets, and the floor apps it lists serving what the apps serve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import targets
from benchmarks.serving import gunicorn
from contract import predict_body
from model import Model


def test_each_app_has_a_registered_floor_and_nothing_else_does() -> None:
    assert targets.APPS == ("flask", "django")
    for app in targets.APPS:
        floor = targets.TARGETS[app].floor
        assert floor in targets.names("floor")
    assert all(targets.TARGETS[n].floor is None for n in targets.names() if n not in targets.APPS)


def test_every_target_names_a_wsgi_callable() -> None:
    for target in targets.TARGETS.values():
        module, _, callable_name = target.wsgi.partition(":")
        assert module, target
        assert callable_name.isidentifier(), target


def test_only_the_apps_and_their_copies_serve_v2_and_a_floor_not_the_error_path() -> None:
    for name in targets.TARGETS:
        kind = targets.facts()[name]["kind"]
        assert targets.serves(name, "v2_one") == (kind not in ("baseline", "floor")), name
        assert targets.serves(name, "invalid") == (kind != "floor"), name
        assert targets.serves(name, "predict_one"), name
    # A deployment measured by URL (python -m benchmarks remote) is not in the registry.
    assert targets.serves("mlserver", "v2_one")


@pytest.mark.server
@pytest.mark.parametrize("floor", ["flask-floor", "django-floor"])
def test_floor_apps_serve_the_same_predictions(
    floor: str, tmp_path: Path, artifacts_root: Path, light_model: Model, instances: list
) -> None:
    # A floor is only a fair bound if it does the same work: same model, same answer, sent with
    # a Content-Length (not chunked) like every other target.
    env = {"MLAPI_MODEL_DIR": str(artifacts_root / "light"), "WEB_CONCURRENCY": "1"}
    body = json.dumps({"instances": instances[:3]}).encode()
    with gunicorn.start(floor, tmp_path / f"{floor}.log", env=env) as server:
        server.wait_ready()
        status, headers, answer = gunicorn.request(
            server.port, "POST", "/v1/predict", body, {"Content-Type": "application/json"}
        )
    assert status == 200
    assert int(headers["Content-Length"]) == len(answer)
    assert json.loads(answer) == predict_body(light_model, light_model.predict(instances[:3]))
