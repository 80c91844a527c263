"""Load a verified model artifact and predict with it; no web framework is imported here.

The two apps call ``load()`` once per process and ``Model.predict()`` per request. Everything
about the model's inputs (feature names, numbers, finiteness, batch size) is validated here,
once, so both apps accept and refuse exactly the same requests.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.special import expit
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from model.batching import Alive, Batcher, BatchSettings

DEFAULT_MAX_BATCH_SIZE = 1000
VARIANTS = ("light", "heavy")
DEFAULT_VARIANT = "light"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
FIX_HINT = "run `make model` to rebuild it"
Loc = tuple[str | int, ...]
# bool is a subclass of int but not a number a client means: compare exact types.
_NUMBER_TYPES = frozenset({float, int})
# Feature values beyond this magnitude are refused: they are finite, but scaling them overflows
# (StandardScaler divides by the feature's spread) and the forest reads float32, whose range
# ends near 3.4e38. The data's own values stay below 5,000.
MAX_ABS_VALUE = 1e9


class ModelLoadError(RuntimeError):
    """The artifact is missing, altered, or built with other library versions."""


class InvalidInput(ValueError):
    """The instances do not fit the model; ``details`` lists every problem found."""

    def __init__(self, details: Sequence[tuple[Loc, str]]) -> None:
        self.details = [(tuple(loc), message) for loc, message in details]
        super().__init__(
            "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in self.details)
        )


def artifact_dir(variant: str = DEFAULT_VARIANT) -> Path:
    """Return the directory where ``make model`` writes a variant's artifact."""
    if variant not in VARIANTS:
        raise ModelLoadError(
            f"unknown model variant {variant!r}; choose one of {', '.join(VARIANTS)}"
        )
    return ARTIFACTS_DIR / variant


def installed_versions() -> dict[str, str]:
    """Return the versions of the libraries a pickled estimator depends on."""
    return {
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(
    directory: str | Path,
    *,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    batching: BatchSettings | None = None,
) -> Model:
    """Verify and load the artifact in ``directory`` (``model.joblib`` + ``manifest.json``);
    with ``batching`` enabled, concurrent predictions share model calls (``model.batching``)."""
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        model_path = directory / manifest["file"]
        expected = manifest["sha256"]
    except FileNotFoundError:
        raise ModelLoadError(f"{manifest_path} is missing; {FIX_HINT}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(
            f"{manifest_path} is not a valid manifest ({exc}); {FIX_HINT}"
        ) from None
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path} is missing; {FIX_HINT}")
    # A joblib file is a pickle: unpickling runs code, so only a file whose bytes match the
    # manifest is ever opened by joblib.
    actual = sha256_of(model_path)
    if actual != expected:
        raise ModelLoadError(
            f"{model_path} does not match its manifest (sha256 {actual[:12]}..., "
            f"expected {str(expected)[:12]}...): the file was altered or replaced; {FIX_HINT}"
        )
    built_with = manifest.get("libraries", {})
    differing = [
        f"{name} {built_with.get(name)} (installed {version})"
        for name, version in installed_versions().items()
        if built_with.get(name) != version
    ]
    if differing:
        raise ModelLoadError(
            f"{model_path} was built with other library versions: {', '.join(differing)}; "
            + FIX_HINT
        )
    with warnings.catch_warnings():
        # scikit-learn only warns when a pickle comes from another version; refuse instead.
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            estimator = joblib.load(model_path)
        except InconsistentVersionWarning as exc:
            raise ModelLoadError(f"{model_path}: {exc}; {FIX_HINT}") from None
        except Exception as exc:
            raise ModelLoadError(f"{model_path} cannot be loaded ({exc}); {FIX_HINT}") from None
    loaded = Model(estimator=estimator, manifest=manifest, max_batch_size=max_batch_size)
    if batching is not None and batching.enabled:
        loaded.batcher = Batcher(loaded.compute_proba, batching)
    return loaded


@dataclass
class Model:
    """A loaded estimator with its manifest: validates instances and predicts classes."""

    estimator: Any
    manifest: dict[str, Any]
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    features: list[str] = field(init=False)
    classes: list[str] = field(init=False)
    batcher: Batcher | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.features = [feature["name"] for feature in self.manifest["features"]]
        self.classes = [str(label) for label in self.estimator.classes_]
        self._feature_set = frozenset(self.features)
        self._row_of = itemgetter(*self.features)
        if self.classes != self.manifest["classes"]:
            raise ModelLoadError("the estimator's classes differ from its manifest's")

    @property
    def name(self) -> str:
        """Return the model's name."""
        return self.manifest["name"]

    @property
    def version(self) -> str:
        """Return the model's content-derived version."""
        return self.manifest["version"]

    @property
    def card(self) -> dict[str, Any]:
        """Return the public description of the model (the manifest minus build details)."""
        keys = (
            "name",
            "variant",
            "version",
            "sha256",
            "created_at",
            "classes",
            "features",
            "metrics",
            "libraries",
            "dataset",
        )
        return {key: self.manifest[key] for key in keys}

    def to_array(self, instances: Any) -> np.ndarray:
        """Validate instances and return them as a float64 array in manifest feature order."""
        X = self._checked_array(instances)
        if X is None:
            # Only a request with a problem gets here: walk it again to report every problem.
            raise InvalidInput(self.problems(instances))
        return X

    def _checked_array(self, instances: Any) -> np.ndarray | None:
        """Return the array when every check passes, else None (``problems`` says why)."""
        if type(instances) is not list or not 1 <= len(instances) <= self.max_batch_size:
            return None
        # All features present and no more keys than features means no unknown key.
        width = len(self.features)
        if not all(type(item) is dict and len(item) == width for item in instances):
            return None
        try:
            # itemgetter and set() keep the per-value work in C for large batches.
            rows = list(map(self._row_of, instances))
        except KeyError:
            return None
        if not set(map(type, chain.from_iterable(rows))) <= _NUMBER_TYPES:
            return None
        try:
            X = np.array(rows, dtype=np.float64)
        except OverflowError:
            return None
        # One comparison covers both: NaN compares False, infinities exceed the bound.
        return X if (np.abs(X) <= MAX_ABS_VALUE).all() else None

    def problems(self, instances: Any) -> list[tuple[Loc, str]]:
        """Return every reason ``instances`` cannot be predicted, as (location, message)."""
        root: Loc = ("instances",)
        if type(instances) is not list:
            return [(root, "must be an array of objects")]
        if not instances:
            return [(root, "must hold at least 1 instance")]
        if len(instances) > self.max_batch_size:
            return [(root, f"must hold at most {self.max_batch_size} instances")]
        found: list[tuple[Loc, str]] = []
        for index, instance in enumerate(instances):
            where = (*root, index)
            if type(instance) is not dict:
                found.append((where, "must be an object mapping feature names to numbers"))
                continue
            found.extend(
                ((*where, name), "is required") for name in self.features if name not in instance
            )
            found.extend(
                ((*where, name), "is not a feature of this model")
                for name in instance
                if name not in self._feature_set
            )
            for name in self.features:
                if name in instance:
                    message = _number_problem(instance[name])
                    if message:
                        found.append(((*where, name), message))
        return found

    def tensor_to_array(
        self, data: Any, shape: Sequence[int], *, float32: bool = False
    ) -> np.ndarray:
        """Validate a row-major tensor of shape [rows, features]; return it as a float64 array.

        ``data`` is flat (rows x features numbers) or nested (one array of numbers per row), as
        the Open Inference Protocol allows. A float32 tensor's values are rounded to float32
        first: that is the number its client meant.
        """
        X = self._checked_tensor(data, shape)
        if X is None:
            raise InvalidInput(self.tensor_problems(data, shape))
        return X.astype(np.float32).astype(np.float64) if float32 else X

    def _checked_tensor(self, data: Any, shape: Sequence[int]) -> np.ndarray | None:
        """Return the tensor as an array when every check passes, else None."""
        width = len(self.features)
        if len(shape) != 2 or shape[1] != width or not 1 <= shape[0] <= self.max_batch_size:
            return None
        rows = shape[0]
        if type(data) is not list:
            return None
        values = data
        if data and type(data[0]) is list:
            if len(data) != rows or not all(
                type(row) is list and len(row) == width for row in data
            ):
                return None
            values = list(chain.from_iterable(data))
        if len(values) != rows * width or not set(map(type, values)) <= _NUMBER_TYPES:
            return None
        try:
            X = np.array(values, dtype=np.float64).reshape(rows, width)
        except OverflowError:
            return None
        return X if (np.abs(X) <= MAX_ABS_VALUE).all() else None

    def tensor_problems(self, data: Any, shape: Sequence[int]) -> list[tuple[Loc, str]]:
        """Return every reason a tensor cannot be predicted, as (location, message)."""
        width = len(self.features)
        if len(shape) != 2 or shape[1] != width:
            return [(("shape",), f"must be [rows, {width}]: the model reads {width} features")]
        rows = shape[0]
        if not 1 <= rows <= self.max_batch_size:
            return [(("shape",), f"must hold between 1 and {self.max_batch_size} rows")]
        if type(data) is not list:
            return [(("data",), "must be an array of numbers")]
        cells: list[tuple[Loc, Any]]
        if data and type(data[0]) is list:
            if len(data) != rows:
                return [(("data",), f"holds {len(data)} rows where the shape says {rows}")]
            malformed: list[tuple[Loc, str]] = [
                (("data", index), f"must be an array of {width} numbers")
                for index, row in enumerate(data)
                if type(row) is not list or len(row) != width
            ]
            if malformed:
                return malformed
            cells = [
                (("data", index, column), value)
                for index, row in enumerate(data)
                for column, value in enumerate(row)
            ]
        else:
            if len(data) != rows * width:
                return [
                    (
                        ("data",),
                        f"holds {len(data)} values where shape [{rows}, {width}] needs "
                        f"{rows * width}",
                    )
                ]
            cells = [(("data", index), value) for index, value in enumerate(data)]
        return [(loc, message) for loc, value in cells if (message := _number_problem(value))]

    def predict(self, instances: Any, *, alive: Alive | None = None) -> list[dict[str, Any]]:
        """Predict the label and class probabilities of each instance, in input order."""
        return self.predictions(self.predict_proba(self.to_array(instances), alive=alive))

    def predictions(self, proba: np.ndarray) -> list[dict[str, Any]]:
        """Return the label and class probabilities of each row of class probabilities."""
        return [
            {"label": label, "probabilities": dict(zip(self.classes, row, strict=True))}
            for label, row in zip(self.labels(proba), proba.tolist(), strict=True)
        ]

    def labels(self, proba: np.ndarray) -> list[str]:
        """Return the most probable class of each row of class probabilities."""
        return [self.classes[i] for i in proba.argmax(axis=1).tolist()]

    def predict_proba(self, X: np.ndarray, *, alive: Alive | None = None) -> np.ndarray:
        """Return class probabilities for an already validated array; through the batcher when
        batching is on (``alive`` tells it whether the client still waits)."""
        if self.batcher is not None:
            return self.batcher.predict_proba(X, alive)
        return self.compute_proba(X)

    def compute_proba(self, X: np.ndarray) -> np.ndarray:
        """Compute class probabilities now, each row alike whatever the other rows are."""
        # The array was checked above (shape, dtype, finiteness), so scikit-learn's own checks
        # would only repeat that work on every request.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            if isinstance(self.estimator, RandomForestClassifier):
                return _forest_proba(self.estimator, X)
            if _binary_linear(self.estimator):
                return _linear_proba(self.estimator, X)
            return self.estimator.predict_proba(X)


def _number_problem(value: Any) -> str | None:
    """Return why a value is not an acceptable feature value, or None."""
    if type(value) is bool or not isinstance(value, int | float):
        return "must be a number"
    try:
        as_float = float(value)
    except OverflowError:
        return "must be a finite number"
    if not math.isfinite(as_float):
        return "must be a finite number"
    if abs(as_float) > MAX_ABS_VALUE:
        return f"must be between {-MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}"
    return None


def _forest_proba(forest: RandomForestClassifier, X: np.ndarray) -> np.ndarray:
    """Average the trees' probabilities exactly as the forest does, without joblib.

    ``RandomForestClassifier.predict_proba`` dispatches each tree through scikit-learn's joblib
    wrapper, which re-installs every active warnings filter per tree. A process that has imported
    more modules (Django installs more filters than Flask) then pays more per prediction, and the
    re-installation mutates process-global state under threaded workers. Summing in tree order
    gives the same numbers as the forest's own sequential accumulation.
    """
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    proba = np.zeros((X32.shape[0], forest.n_classes_), dtype=np.float64)
    for tree in forest.estimators_:
        proba += tree.predict_proba(X32, check_input=False)
    proba /= len(forest.estimators_)
    return proba


def _binary_linear(estimator: Any) -> bool:
    """Tell whether ``estimator`` is a binary logistic regression, alone or ending a pipeline."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return isinstance(final, LogisticRegression) and len(final.classes_) == 2


def _linear_proba(estimator: Any, X: np.ndarray) -> np.ndarray:
    """Return a binary logistic regression's probabilities, each row as it is computed alone.

    scikit-learn computes the decision function as one matrix product; BLAS sums a row's
    products in an order that depends on how many rows the matrix has (a matrix-vector kernel
    for many rows, a dot product for one), so a row's probability moves in its last bit with its
    batch (2.2e-16 on this data). ``np.vecdot`` takes one dot product per row, as a one-row call
    does: every row gets the bits it gets alone, in a /v1 batch or in an adaptive batch of any
    composition. The steps before the regression and the logistic function work element by
    element, so they never depended on the batch.
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    Z = estimator[:-1].transform(X) if isinstance(estimator, Pipeline) else X
    positive = expit(np.vecdot(Z, final.coef_[0]) + final.intercept_[0])
    return np.stack([1 - positive, positive], axis=1)
