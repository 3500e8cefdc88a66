"""CleanClassifier: scikit-learn compliance, labels of any type, and agreement with cleanlab."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from labelwise.errors import ConfigError, InputTypeError, LabelError, ShapeError, SmallClassWarning
from labelwise.learn import CleanClassifier
from labelwise.predict import cross_val_pred_probs
from labelwise.simulate import inject_noise


@parametrize_with_checks([CleanClassifier(LogisticRegression(max_iter=200), cv=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def noisy_blobs():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    noisy = inject_noise(y, rate=0.2, random_state=1)
    return X, y, noisy.labels


def test_string_labels_round_trip(noisy_blobs):
    X, truth, labels = noisy_blobs
    names = np.array(["cat", "dog", "emu"])[labels]
    model = CleanClassifier(cv=3).fit(X, names)
    coded = CleanClassifier(cv=3).fit(X, labels)
    assert model.classes_.tolist() == ["cat", "dog", "emu"]
    assert np.array_equal(model.predict(X), model.classes_[coded.predict(X)])
    assert np.array_equal(model.label_issues_.mask, coded.label_issues_.mask)
    assert model.predict_proba(X).shape == (X.shape[0], 3)
    assert model.decision_function(X).shape == (X.shape[0], 3)
    assert model.score(X, model.classes_[truth]) > 0.75


def test_fitted_attributes(noisy_blobs):
    X, _, labels = noisy_blobs
    model = CleanClassifier(cv=3).fit(X, labels)
    issues = model.label_issues_
    assert model.pred_probs_.shape == (X.shape[0], 3)
    assert issues.num_issues > 0
    assert model.noise_.noise_matrix.shape == (3, 3)
    assert model.n_features_in_ == X.shape[1]
    assert model.estimator_.coef_.shape[0] == 3
    # Flagged rows weigh nothing; kept rows of class k weigh 1 / P(given=k | true=k).
    recall = np.diagonal(model.noise_.noise_matrix)
    kept = ~issues.mask
    assert np.all(model.sample_weight_[issues.mask] == 0)
    assert np.allclose(model.sample_weight_[kept], 1 / recall[labels[kept]])
    plain = CleanClassifier(cv=3, reweight=False).fit(X, labels)
    assert np.all(plain.sample_weight_[kept] == 1)


def test_no_sample_weight_support_and_no_decision_function(noisy_blobs):
    X, _, labels = noisy_blobs
    model = CleanClassifier(KNeighborsClassifier(5), cv=3).fit(X, labels)
    assert not hasattr(model, "decision_function")
    assert model.predict(X).shape == (X.shape[0],)


def test_pipeline_and_grid_search(noisy_blobs):
    X, truth, labels = noisy_blobs
    pipe = make_pipeline(StandardScaler(), CleanClassifier(LogisticRegression(), cv=3))
    assert pipe.fit(X, labels).score(X, truth) > 0.75
    grid = GridSearchCV(
        CleanClassifier(LogisticRegression(), cv=3),
        {"estimator__C": [0.1, 1.0], "reweight": [True, False]},
        cv=2,
    )
    grid.fit(X, labels)
    assert set(grid.best_params_) == {"estimator__C", "reweight"}
    assert grid.predict(X).shape == (X.shape[0],)


def test_pred_probs_skip_cross_validation(noisy_blobs):
    X, _, labels = noisy_blobs
    probs = cross_val_pred_probs(LogisticRegression(max_iter=1000), X, labels, cv=3)
    given = CleanClassifier(cv=3).fit(X, labels, pred_probs=probs)
    computed = CleanClassifier(cv=3).fit(X, labels)
    assert np.array_equal(given.label_issues_.mask, computed.label_issues_.mask)
    assert np.array_equal(given.predict(X), computed.predict(X))


def test_single_member_class_keeps_everything():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.array([0] * 5 + [1] * 4 + [2])
    with pytest.warns(SmallClassWarning):
        model = CleanClassifier(cv=3).fit(X, y)
    assert model.label_issues_ is None and model.noise_ is None
    assert np.all(model.sample_weight_ == 1)


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "error"),
    [
        ({}, ([[0.0], [1.0]], [0, 0]), LabelError),
        ({}, ([[0.0], [1.0], [2.0]], [0, 1]), ShapeError),
        ({}, ([[0.0], [1.0]], [0.5, 1.5]), ValueError),
        ({"cv": 1}, (np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]), ConfigError),
        ({"method": "bogus"}, (np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]), ConfigError),
        ({"reweight": "yes"}, (np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]), ConfigError),
        ({"estimator": LinearSVC()}, (np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]), TypeError),
    ],
)
def test_bad_input(kwargs, fit_args, error):
    with pytest.raises(error):
        CleanClassifier(**kwargs).fit(*fit_args)


def test_bad_pred_probs_shape(noisy_blobs):
    X, _, labels = noisy_blobs
    with pytest.raises(ShapeError):
        CleanClassifier().fit(X, labels, pred_probs=np.full((X.shape[0], 2), 0.5))
    assert issubclass(InputTypeError, TypeError)


@pytest.fixture(scope="module")
def fitted(noisy_blobs):
    """cleanlab's CleanLearning and ours, fit with the same model and the same seeded folds."""
    classification = pytest.importorskip("cleanlab.classification")
    X, _, labels = noisy_blobs
    # Both build StratifiedKFold(3, shuffle=True, random_state=7) on the same labels.
    reference = classification.CleanLearning(
        LogisticRegression(max_iter=1000), cv_n_folds=3, seed=7
    )
    reference.fit(X, labels)
    ours = CleanClassifier(LogisticRegression(max_iter=1000), cv=3, random_state=7)
    return X, labels, reference, ours.fit(X, labels)


class TestAgainstCleanlab:
    """The same folds and model give cleanlab's CleanLearning's issues and final model."""

    def test_same_issues_and_model(self, fitted):
        X, _, reference, ours = fitted
        expected = reference.label_issues_df["is_label_issue"].to_numpy()
        assert expected.any()
        assert np.array_equal(ours.label_issues_.mask, expected)
        assert np.allclose(
            np.diagonal(ours.noise_.noise_matrix), np.diagonal(reference.noise_matrix)
        )
        assert np.allclose(ours.sample_weight_, reference.label_issues_df["sample_weight"])
        assert np.array_equal(ours.predict(X), reference.predict(X))
        assert np.allclose(ours.predict_proba(X), reference.predict_proba(X))

    def test_same_issues_given_pred_probs(self, fitted):
        classification = pytest.importorskip("cleanlab.classification")
        X, labels, _, _ = fitted
        probs = cross_val_pred_probs(LogisticRegression(max_iter=1000), X, labels, cv=4)
        reference = classification.CleanLearning(LogisticRegression(max_iter=1000))
        with pytest.warns(UserWarning, match="may be ignored"):
            found = reference.find_label_issues(X, labels, pred_probs=probs)
        expected = found["is_label_issue"]
        ours = CleanClassifier(LogisticRegression(max_iter=1000)).fit(X, labels, pred_probs=probs)
        assert np.array_equal(ours.label_issues_.mask, expected.to_numpy())
        with pytest.warns(UserWarning, match="may be ignored"):
            reference.fit(X, labels, pred_probs=probs)
        assert np.array_equal(ours.predict(X), reference.predict(X))


def test_digits_with_symmetric_noise_beats_or_matches_plain():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    noisy = inject_noise(y_train, kind="symmetric", rate=0.3, random_state=0).labels
    plain = LogisticRegression(max_iter=1000).fit(X_train, noisy).score(X_test, y_test)
    model = CleanClassifier(LogisticRegression(max_iter=1000), cv=5).fit(X_train, noisy)
    clean = model.score(X_test, y_test)
    caught = model.label_issues_.mask & (noisy != y_train)
    print(
        f"digits, 30% symmetric noise: plain LogisticRegression {plain:.4f}, "
        f"CleanClassifier {clean:.4f}; flagged {model.label_issues_.num_issues} "
        f"({caught.sum()} truly noisy of {(noisy != y_train).sum()})"
    )
    assert clean >= plain - 0.01
