"""The model artifact and its runtime: determinism, manifest, verification, validation."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st

import model
from model.data import RANDOM_STATE, load_split, snake_case
from model.runtime import sha256_of
from model.train import train


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_training_is_deterministic(variant: str, artifacts_root: Path, tmp_path: Path) -> None:
    again = train(variant, tmp_path)
    first = json.loads((artifacts_root / variant / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first["sha256"] == second["sha256"]
    assert first["metrics"] == second["metrics"]
    X = load_split().X_test
    a = model.load(artifacts_root / variant).predict_proba(X)
    b = model.load(again).predict_proba(X)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_the_file_is_the_same_whatever_the_process_did_before(
    variant: str, artifacts_root: Path, tmp_path: Path
) -> None:
    # A process that unpickled a model first (an app, a test) once wrote other bytes: the
    # pickler's memo went by which equal strings were one object, which depends on that history.
    history = (
        "import sys; from pathlib import Path; import model; from model.train import train; "
        "model.load(Path(sys.argv[1])); train(sys.argv[2], Path(sys.argv[3]))"
    )
    arguments = [str(artifacts_root / "light"), variant, str(tmp_path)]
    subprocess.run([sys.executable, "-c", history, *arguments], check=True)
    fresh = json.loads((artifacts_root / variant / "manifest.json").read_text())
    assert sha256_of(tmp_path / variant / "model.joblib") == fresh["sha256"]


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_manifest_describes_the_file(variant: str, artifacts_root: Path) -> None:
    directory = artifacts_root / variant
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["name"] == "breast-cancer-classifier"
    assert manifest["variant"] == variant
    assert manifest["sha256"] == sha256_of(directory / "model.joblib")
    assert manifest["version"] == manifest["sha256"][:12]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", manifest["created_at"])
    assert manifest["libraries"]["scikit-learn"] == sklearn.__version__
    assert set(manifest["libraries"]) == {"python", "scikit-learn", "numpy", "joblib"}
    assert manifest["dataset"]["rows"] == 569
    assert manifest["dataset"]["train_rows"] + manifest["dataset"]["test_rows"] == 569
    names = [feature["name"] for feature in manifest["features"]]
    assert len(names) == 30
    assert names[:3] == ["mean_radius", "mean_texture", "mean_perimeter"]
    assert "worst_concave_points" in names
    assert all(type(name) is str and re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in names)
    assert all(f["min"] < f["max"] for f in manifest["features"])
    assert sorted(manifest["classes"]) == ["benign", "malignant"]
    assert set(manifest["metrics"]) == {"accuracy", "roc_auc", "log_loss"}
    assert manifest["metrics"]["accuracy"] > 0.9
    assert manifest["metrics"]["roc_auc"] > 0.95
    assert manifest["training"]["random_state"] == RANDOM_STATE
    assert manifest["training"]["params"]


def test_snake_case() -> None:
    assert snake_case("mean concave points") == "mean_concave_points"
    assert snake_case(" Radius  Error ") == "radius_error"


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_predictions_equal_the_estimator(variant: str, artifacts_root: Path) -> None:
    loaded = model.load(artifacts_root / variant)
    split = load_split()
    instances = [dict(zip(split.feature_names, row, strict=True)) for row in split.X_test.tolist()]
    predictions = loaded.predict(instances)
    # Each row as scikit-learn predicts it alone: the runtime never lets a batch move a bit.
    expected_proba = np.vstack(
        [loaded.estimator.predict_proba(split.X_test[i : i + 1]) for i in range(len(split.X_test))]
    )
    expected_labels = loaded.estimator.predict(split.X_test)
    assert [p["label"] for p in predictions] == expected_labels.tolist()
    got = np.array([[p["probabilities"][c] for c in loaded.classes] for p in predictions])
    assert np.array_equal(got, expected_proba)
    assert all(list(p["probabilities"]) == loaded.classes for p in predictions)


def test_integers_are_numbers(light_model: model.Model, instances: list[dict]) -> None:
    as_ints = {name: round(value) for name, value in instances[0].items()}
    assert light_model.predict([as_ints])[0]["label"] in light_model.classes


def test_card_is_public_part_of_manifest(light_model: model.Model) -> None:
    card = light_model.card
    assert card["version"] == light_model.version
    assert "training" not in card
    assert "file" not in card


# -- refusing an artifact -------------------------------------------------------------------


def test_missing_artifact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(model.ModelLoadError, match=r"manifest\.json is missing.*make model"):
        model.load(tmp_path / "nowhere")


def test_missing_model_file_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / "model.joblib").unlink()
    with pytest.raises(model.ModelLoadError, match=r"model\.joblib is missing.*make model"):
        model.load(artifact_copy)


def test_tampered_file_is_refused_before_unpickling(
    artifact_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (artifact_copy / "model.joblib").open("ab") as handle:
        handle.write(b"\x00")

    def must_not_unpickle(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unverified file was unpickled")

    monkeypatch.setattr(joblib, "load", must_not_unpickle)
    with pytest.raises(model.ModelLoadError) as caught:
        model.load(artifact_copy)
    message = str(caught.value)
    assert str(artifact_copy / "model.joblib") in message
    assert "does not match its manifest" in message
    assert "make model" in message


def test_foreign_library_versions_are_refused(artifact_copy: Path) -> None:
    manifest_path = artifact_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["libraries"]["scikit-learn"] = "0.24.2"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(model.ModelLoadError) as caught:
        model.load(artifact_copy)
    message = str(caught.value)
    assert f"scikit-learn 0.24.2 (installed {sklearn.__version__})" in message
    assert "make model" in message


def test_pickle_from_other_scikit_learn_is_refused(
    artifact_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The manifest agrees with the installed versions, but the pickle itself says otherwise:
    # scikit-learn's InconsistentVersionWarning must become a refusal, not a warning.
    monkeypatch.setattr("sklearn.base.__version__", "0.0.1")
    with pytest.raises(model.ModelLoadError, match=r"make model") as caught:
        model.load(artifact_copy)
    assert "0.0.1" in str(caught.value)


def test_corrupt_manifest_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / "manifest.json").write_text("{not json")
    with pytest.raises(model.ModelLoadError, match=r"not a valid manifest.*make model"):
        model.load(artifact_copy)


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(model.ModelLoadError, match="unknown model variant 'huge'"):
        model.artifact_dir("huge")


# -- validating instances -------------------------------------------------------------------


def details_of(loaded: model.Model, instances: object) -> list[tuple[tuple, str]]:
    with pytest.raises(model.InvalidInput) as caught:
        loaded.predict(instances)
    return caught.value.details


@pytest.mark.parametrize(
    ("instances", "expected"),
    [
        ({"mean_radius": 1.0}, [(("instances",), "must be an array of objects")]),
        ("text", [(("instances",), "must be an array of objects")]),
        (None, [(("instances",), "must be an array of objects")]),
        ([], [(("instances",), "must hold at least 1 instance")]),
        ([[1.0, 2.0]], [(("instances", 0), "must be an object mapping feature names to numbers")]),
    ],
)
def test_envelope_errors(light_model: model.Model, instances: object, expected: list) -> None:
    assert details_of(light_model, instances) == expected


def test_batch_over_the_maximum(artifacts_root: Path, instances: list[dict]) -> None:
    small = model.load(artifacts_root / "light", max_batch_size=3)
    assert len(small.predict(instances[:3])) == 3
    assert details_of(small, instances[:4]) == [(("instances",), "must hold at most 3 instances")]


def test_default_maximum_batch(light_model: model.Model, instances: list[dict]) -> None:
    assert light_model.max_batch_size == 1000
    assert len(light_model.predict(instances[:1] * 1000)) == 1000
    assert details_of(light_model, instances[:1] * 1001) == [
        (("instances",), "must hold at most 1000 instances")
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("17.9", "must be a number"),
        (True, "must be a number"),
        (False, "must be a number"),
        (None, "must be a number"),
        ([1.0], "must be a number"),
        ({"v": 1.0}, "must be a number"),
        (math.nan, "must be a finite number"),
        (math.inf, "must be a finite number"),
        (-math.inf, "must be a finite number"),
        (10**400, "must be a finite number"),
        (1e308, "must be between -1e+09 and 1e+09"),
        (-2e9, "must be between -1e+09 and 1e+09"),
    ],
)
def test_bad_values(
    light_model: model.Model, instances: list[dict], value: object, message: str
) -> None:
    bad = dict(instances[0], mean_radius=value)
    assert details_of(light_model, [instances[1], bad]) == [
        (("instances", 1, "mean_radius"), message)
    ]


def test_missing_and_unknown_features(light_model: model.Model, instances: list[dict]) -> None:
    missing = {k: v for k, v in instances[0].items() if k != "mean_texture"}
    renamed = dict(missing, mean_textur=1.0)
    assert details_of(light_model, [missing]) == [(("instances", 0, "mean_texture"), "is required")]
    assert details_of(light_model, [renamed]) == [
        (("instances", 0, "mean_texture"), "is required"),
        (("instances", 0, "mean_textur"), "is not a feature of this model"),
    ]


def test_every_problem_is_reported(light_model: model.Model, instances: list[dict]) -> None:
    first = dict(instances[0], mean_radius="x", worst_area=math.nan)
    third = {k: v for k, v in instances[2].items() if k != "mean_area"}
    details = details_of(light_model, [first, instances[1], third, 7])
    assert details == [
        (("instances", 0, "mean_radius"), "must be a number"),
        (("instances", 0, "worst_area"), "must be a finite number"),
        (("instances", 2, "mean_area"), "is required"),
        (("instances", 3), "must be an object mapping feature names to numbers"),
    ]


def test_invalid_input_message_lists_locations(light_model: model.Model) -> None:
    with pytest.raises(model.InvalidInput, match=r"instances\.0: must be an object"):
        light_model.predict([1])


# -- tensors (the Open Inference Protocol's input) -------------------------------------------------


def _rows(light_model: model.Model, instances: list[dict]) -> list[list[float]]:
    return [[instance[name] for name in light_model.features] for instance in instances]


def test_a_tensor_flat_or_nested_equals_the_instances(
    light_model: model.Model, instances: list[dict]
) -> None:
    rows = _rows(light_model, instances)
    shape = [len(rows), len(light_model.features)]
    expected = light_model.to_array(instances)
    flat = [value for row in rows for value in row]
    assert np.array_equal(light_model.tensor_to_array(rows, shape), expected)
    assert np.array_equal(light_model.tensor_to_array(flat, shape), expected)
    rounded = light_model.tensor_to_array(rows, shape, float32=True)
    assert np.array_equal(rounded, expected.astype(np.float32).astype(np.float64))
    assert not np.array_equal(rounded, expected)


VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=2),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    rows=st.integers(min_value=-1, max_value=3),
    width=st.sampled_from([29, 30]),
    extra_dim=st.booleans(),
    nested=st.booleans(),
    data=st.data(),
)
def test_a_tensor_is_refused_exactly_when_a_problem_is_named(
    light_model: model.Model,
    rows: int,
    width: int,
    extra_dim: bool,
    nested: bool,
    data: st.DataObject,
) -> None:
    """The fast check and the problem report agree on every tensor, well formed or not."""
    shape = [rows, width, 1] if extra_dim else [rows, width]
    count = data.draw(st.integers(min_value=0, max_value=4), label="rows given")
    cells = data.draw(
        st.lists(
            st.lists(st.one_of(st.floats(-1e3, 1e3), VALUES), min_size=28, max_size=31),
            min_size=count,
            max_size=count,
        ),
        label="cells",
    )
    tensor = cells if nested else [value for row in cells for value in row]
    problems = light_model.tensor_problems(tensor, shape)
    if problems:
        with pytest.raises(model.InvalidInput):
            light_model.tensor_to_array(tensor, shape)
    else:
        X = light_model.tensor_to_array(tensor, shape)
        assert X.shape == (rows, len(light_model.features))
