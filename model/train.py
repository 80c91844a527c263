"""Train the breast-cancer classifiers and write each one with its manifest.

Two variants of one task, so the benchmark can tell framework cost from model cost:

- ``light``: StandardScaler + LogisticRegression. Predicting one row costs a fraction of a
  millisecond, so the web framework dominates a request.
- ``heavy``: a 300-tree RandomForest. Predicting one row costs several milliseconds, so the model
  dominates a request.

Run ``python -m model.train`` (both variants) or ``python -m model.train --variant light``.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import joblib
import numpy as np
import sklearn
from joblib.numpy_pickle import NumpyPickler
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from model.data import DATASET_NAME, RANDOM_STATE, TEST_SIZE, Split, load_split
from model.runtime import ARTIFACTS_DIR, VARIANTS, sha256_of

MODEL_NAME = "breast-cancer-classifier"
POSITIVE_CLASS = "malignant"


def build_estimator(variant: str) -> ClassifierMixin:
    """Return the unfitted estimator for a variant."""
    if variant == "light":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("classify", LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)),
            ]
        )
    if variant == "heavy":
        return RandomForestClassifier(n_estimators=300, random_state=RANDOM_STATE)
    raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")


def evaluate(estimator: ClassifierMixin, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Return held-out accuracy, ROC AUC (malignant as the positive class) and log loss."""
    proba = estimator.predict_proba(X)
    classes = list(estimator.classes_)
    positive = proba[:, classes.index(POSITIVE_CLASS)]
    return {
        "accuracy": float(accuracy_score(y, estimator.predict(X))),
        "roc_auc": float(roc_auc_score(y == POSITIVE_CLASS, positive)),
        "log_loss": float(log_loss(y, proba, labels=classes)),
    }


def build_manifest(variant: str, estimator: ClassifierMixin, split: Split, sha256: str) -> dict:
    """Describe a fitted estimator: provenance, inputs, outputs and held-out quality."""
    return {
        "name": MODEL_NAME,
        "variant": variant,
        # Content-derived: the same bytes always carry the same version.
        "version": sha256[:12],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": "model.joblib",
        "sha256": sha256,
        "libraries": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        "dataset": {
            "name": DATASET_NAME,
            "rows": int(len(split.X_train) + len(split.X_test)),
            "train_rows": len(split.X_train),
            "test_rows": len(split.X_test),
        },
        "features": [
            {"name": name, "min": float(lo), "max": float(hi)}
            for name, lo, hi in zip(
                split.feature_names,
                split.X_train.min(axis=0),
                split.X_train.max(axis=0),
                strict=True,
            )
        ],
        "classes": [str(label) for label in estimator.classes_],
        "metrics": evaluate(estimator, split.X_test, split.y_test),
        "training": {
            "estimator": type(estimator).__name__,
            "params": training_params(estimator),
            "random_state": RANDOM_STATE,
            "test_size": TEST_SIZE,
            "stratified": True,
        },
    }


def training_params(estimator: ClassifierMixin) -> dict[str, str]:
    """Return every hyper-parameter, nested steps included, as name -> repr(value)."""
    return {
        key: repr(value)
        for key, value in sorted(estimator.get_params(deep=True).items())
        if key != "steps" and not isinstance(value, BaseEstimator)
    }


class _ValuePickler(NumpyPickler):
    """joblib's pickler (``joblib.dump``'s), sharing one memo entry among equal strings.

    The pickler writes a string again or refers back to an earlier one by whether it is the same
    object, and which equal strings are one object depends on what the process did before: CPython
    shares an instance dict's key objects with the class's first instance, so a model unpickled
    earlier (``model.load``) gives a new LogisticRegression an attribute key ``"C"`` that is not
    joblib's own ``"C"`` (an array's order): the string is written again where a reference to it
    was, and the sha256 moves. By value, the same model always gives the same bytes, and so the
    same sha256 and version.
    """

    def __init__(self, fp: BinaryIO) -> None:
        super().__init__(fp)
        self._strings: dict[str, str] = {}

    def save(self, obj: object) -> None:
        """Save ``obj``, a string as the first equal string saved."""
        if type(obj) is str:
            obj = self._strings.setdefault(obj, obj)
        super().save(obj)


def dump(estimator: ClassifierMixin, path: Path) -> None:
    """Write ``estimator`` to ``path`` as ``joblib.dump`` does, the same bytes in any process."""
    with path.open("wb") as handle:
        _ValuePickler(handle).dump(estimator)


def train(variant: str, out_dir: Path = ARTIFACTS_DIR) -> Path:
    """Fit one variant, write ``model.joblib`` and ``manifest.json``, return their directory."""
    split = load_split()
    estimator = build_estimator(variant).fit(split.X_train, split.y_train)
    target = out_dir / variant
    target.mkdir(parents=True, exist_ok=True)
    model_path = target / "model.joblib"
    dump(estimator, model_path)
    manifest = build_manifest(variant, estimator, split, sha256_of(model_path))
    # Written last: a directory with a manifest always holds the file the manifest describes.
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> None:
    """Train the requested variants and print where each artifact went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default="all")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="artifacts directory")
    args = parser.parse_args(argv)
    for variant in VARIANTS if args.variant == "all" else (args.variant,):
        target = train(variant, args.out)
        manifest = json.loads((target / "manifest.json").read_text())
        metrics = ", ".join(f"{key} {value:.4f}" for key, value in manifest["metrics"].items())
        print(f"{variant}: {target} version {manifest['version']} ({metrics})")


if __name__ == "__main__":
    main()
