"""Tests of labelwise.predict: cross-validated out-of-sample probabilities and the default model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from labelwise.errors import (
    ConfigError,
    InputError,
    InputTypeError,
    LabelError,
    ProbabilityError,
    ShapeError,
    SmallClassWarning,
)
from labelwise.predict import cross_val_pred_probs, default_model

RNG = np.random.default_rng(7)
CENTERS = {"ant": (0.0, 0.0), "bee": (4.0, 0.0), "cat": (0.0, 4.0)}


def blobs(n_per_class: int = 40, names=("ant", "bee", "cat"), seed: int = 0):
    """Well separated 2-D clusters, one per class, labels as strings in shuffled order."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.array(names), n_per_class))
    X = np.array([CENTERS[c] for c in labels]) + rng.normal(0, 0.5, (labels.size, 2))
    return X, labels


def test_rows_are_probabilities():
    X, labels = blobs()
    probs = cross_val_pred_probs(LogisticRegression(), X, labels)
    assert probs.shape == (120, 3)
    assert probs.dtype == np.float64
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_string_labels_take_sorted_columns():
    X, labels = blobs()
    probs = cross_val_pred_probs(LogisticRegression(), X, labels)
    top = np.array(["ant", "bee", "cat"])[probs.argmax(axis=1)]
    assert (top == labels).mean() > 0.95


def test_classes_order_the_columns():
    X, labels = blobs()
    forward = cross_val_pred_probs(LogisticRegression(), X, labels)
    backward = cross_val_pred_probs(LogisticRegression(), X, labels, classes=["cat", "bee", "ant"])
    np.testing.assert_allclose(backward, forward[:, ::-1])


def test_integer_codes_keep_their_columns():
    X, labels = blobs()
    codes = pd.Index(["ant", "bee", "cat"]).get_indexer(labels)
    by_name = cross_val_pred_probs(LogisticRegression(), X, labels)
    np.testing.assert_allclose(cross_val_pred_probs(LogisticRegression(), X, codes), by_name)


def test_predictions_are_out_of_sample():
    # Labels unrelated to X: 1-NN recalls every training label, so in-sample probabilities of the
    # given label are all 1, and out-of-sample they are right only by chance.
    X = RNG.normal(size=(90, 3))
    labels = np.tile(["x", "y", "z"], 30)
    model = KNeighborsClassifier(n_neighbors=1)
    in_sample = model.fit(X, labels).predict_proba(X)
    codes = pd.Index(["x", "y", "z"]).get_indexer(labels)
    assert (in_sample[np.arange(90), codes] == 1).all()
    probs = cross_val_pred_probs(model, X, labels)
    assert probs[np.arange(90), codes].mean() < 0.6


def test_class_missing_from_a_training_part_gets_zero():
    X, labels = blobs(20)
    rare = np.flatnonzero(labels == "cat")[:3]
    labels[np.flatnonzero(labels == "cat")[3:]] = "bee"
    others = np.setdiff1d(np.arange(labels.size), rare)
    # Fold 0 tests every "cat", so its model never sees that class.
    splits = [
        (others, rare),
        (np.r_[rare, others[:30]], others[30:]),
        (np.r_[rare, others[30:]], others[:30]),
    ]
    probs = cross_val_pred_probs(LogisticRegression(), X, labels, cv=splits)
    np.testing.assert_array_equal(probs[rare, 2], 0)
    assert (probs[others, 2] > 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_progress_is_called_after_each_fold():
    X, labels = blobs()
    calls = []
    cross_val_pred_probs(LogisticRegression(), X, labels, cv=4, progress=lambda *a: calls.append(a))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_splitter_object():
    X, labels = blobs()
    calls = []
    probs = cross_val_pred_probs(
        LogisticRegression(),
        X,
        labels,
        cv=KFold(3, shuffle=True, random_state=0),
        progress=lambda *a: calls.append(a),
    )
    assert calls[-1] == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_random_state_and_parallel_give_the_same_result():
    X, labels = blobs()
    serial = cross_val_pred_probs(LogisticRegression(), X, labels, random_state=3)
    # Threads exercise the parallel path without the seconds that starting processes costs.
    with parallel_config(backend="threading"):
        parallel = cross_val_pred_probs(LogisticRegression(), X, labels, random_state=3, n_jobs=2)
    np.testing.assert_allclose(parallel, serial)
    assert not np.allclose(cross_val_pred_probs(LogisticRegression(), X, labels), serial)


def test_dataframe_and_sparse_inputs():
    X, labels = blobs()
    frame = pd.DataFrame(X, columns=["a", "b"], index=np.arange(120) * 10)
    dense = cross_val_pred_probs(LogisticRegression(), X, labels)
    np.testing.assert_allclose(cross_val_pred_probs(LogisticRegression(), frame, labels), dense)
    sparse = cross_val_pred_probs(LogisticRegression(), sp.csr_matrix(X), labels)
    np.testing.assert_allclose(sparse, dense)


def test_small_class_reduces_the_folds():
    X, labels = blobs()
    labels[np.flatnonzero(labels == "cat")[3:]] = "bee"
    calls = []
    with pytest.warns(SmallClassWarning, match=r"'cat'.*using 3 folds"):
        cross_val_pred_probs(LogisticRegression(), X, labels, progress=lambda *a: calls.append(a))
    assert calls[-1] == (3, 3)


def test_single_example_class_is_an_error():
    X, labels = blobs()
    labels[np.flatnonzero(labels == "cat")[1:]] = "bee"
    with pytest.raises(InputError, match=r"'cat'.*single example.*KFold"):
        cross_val_pred_probs(LogisticRegression(), X, labels)
    # A splitter accepts it: the class is then predicted by a model that never saw it.
    probs = cross_val_pred_probs(LogisticRegression(), X, labels, cv=KFold(3))
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_single_class_is_an_error():
    with pytest.raises(LabelError, match="single class"):
        cross_val_pred_probs(LogisticRegression(), np.zeros((10, 1)), ["a"] * 10)


def test_estimator_without_predict_proba():
    X, labels = blobs()
    with pytest.raises(InputTypeError, match="predict_proba.*CalibratedClassifierCV"):
        cross_val_pred_probs(LinearSVC(), X, labels)
    with pytest.raises(InputTypeError, match="scikit-learn style classifier"):
        cross_val_pred_probs(object(), X, labels)


@pytest.mark.parametrize(
    ("cv", "match"),
    [
        (1, "at least 2 folds"),
        (ShuffleSplit(3, random_state=0), "exactly one test part"),
        ("five", "not usable"),
        ([(np.arange(5), np.array([1.5]))], "integer index arrays"),
    ],
)
def test_bad_cv(cv, match):
    X, labels = blobs()
    with pytest.raises(ConfigError, match=match):
        cross_val_pred_probs(LogisticRegression(), X, labels, cv=cv)


def test_bad_inputs():
    X, labels = blobs()
    with pytest.raises(ShapeError, match="X has 119 rows"):
        cross_val_pred_probs(LogisticRegression(), X[1:], labels)
    with pytest.raises(LabelError, match="missing"):
        cross_val_pred_probs(LogisticRegression(), X, np.r_[labels[1:], None])
    with pytest.raises(LabelError, match="not among the classes"):
        cross_val_pred_probs(LogisticRegression(), X, labels, classes=["ant", "bee", "dog"])
    with pytest.raises(InputTypeError, match="progress"):
        cross_val_pred_probs(LogisticRegression(), X, labels, progress=3)


def test_fit_failure_is_explained():
    X, labels = blobs()
    text = np.where(X > 1, "high", "low")
    with pytest.raises(InputError, match="could not be fit.*default_model"):
        cross_val_pred_probs(LogisticRegression(), text, labels)


class _NaNModel(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), self.classes_.size), np.nan)


def test_invalid_model_output_is_explained():
    X, labels = blobs()
    with pytest.raises(ProbabilityError, match="NaN"):
        cross_val_pred_probs(_NaNModel(), X, labels)


def test_default_model_for_a_mixed_table():
    n = 80
    rng = np.random.default_rng(11)  # its own stream: the result must not depend on test order
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            # A missing colour is imputed as the most frequent one, blue, hence "cool".
            "color": rng.choice(["red", "blue", None], n, p=[0.3, 0.5, 0.2]),
            "shape": pd.Categorical(rng.choice(["round", "square"], n)),
            "flag": rng.random(n) > 0.5,
            "mixed": pd.Series(rng.choice([1, "one", True, None], n), dtype=object),
        }
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[::5, "count"] = pd.NA
    labels = np.where(frame["color"] == "red", "warm", "cool")
    model = default_model(frame)
    assert isinstance(model, Pipeline)
    probs = cross_val_pred_probs(model, frame, labels, cv=3)
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    # color alone decides the label, so the model learns it.
    assert (np.array(["cool", "warm"])[probs.argmax(axis=1)] == labels).mean() > 0.9


def test_default_model_for_arrays():
    assert isinstance(default_model(np.zeros((3, 2))), Pipeline)
    assert default_model(sp.csr_matrix(np.eye(3))).steps[0][1].with_mean is False
    with pytest.raises(InputTypeError, match="DataFrame"):
        default_model(np.array([["a", "b"]]))


def test_default_model_rejects_unusable_columns():
    dates = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=3), "x": [1, 2, 3]})
    with pytest.raises(InputTypeError, match=r"\['when'\].*Convert"):
        default_model(dates)
    with pytest.raises(InputError, match="no feature columns"):
        default_model(pd.DataFrame(index=range(3)))
