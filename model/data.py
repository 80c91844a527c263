"""The data set every model here is trained and evaluated on.

scikit-learn ships the Wisconsin breast-cancer data set (569 rows, 30 numeric features), so
training needs no download. The held-out split is reproduced from one seed, so the benchmark can
draw realistic requests from rows the model never saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

DATASET_NAME = "sklearn.datasets.load_breast_cancer"
RANDOM_STATE = 20261125
TEST_SIZE = 0.25


@dataclass(frozen=True)
class Split:
    """A stratified train/test split with feature names and string labels."""

    feature_names: list[str]
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def snake_case(name: str) -> str:
    """Turn a data set column name such as 'mean concave points' into 'mean_concave_points'."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def load_split(random_state: int = RANDOM_STATE) -> Split:
    """Load the data set and split it, stratified by class, with one explicit seed."""
    bunch = load_breast_cancer()
    # Plain str, not numpy.str_: scikit-learn warns about non-str feature names on every call.
    feature_names = [snake_case(name) for name in bunch.feature_names.tolist()]
    labels = np.array([str(name) for name in bunch.target_names], dtype=object)[bunch.target]
    X_train, X_test, y_train, y_test = train_test_split(
        bunch.data,
        labels,
        test_size=TEST_SIZE,
        stratify=labels,
        random_state=random_state,
    )
    return Split(feature_names, X_train, X_test, y_train, y_test)


def holdout_instances(limit: int | None = None) -> list[dict[str, float]]:
    """Return held-out rows as request instances (feature name -> value), in split order."""
    split = load_split()
    rows = split.X_test if limit is None else split.X_test[:limit]
    return [dict(zip(split.feature_names, map(float, row), strict=True)) for row in rows]
