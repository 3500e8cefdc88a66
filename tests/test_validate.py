"""Bad input gets a clear labelwise error that names the problem and the fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import labelwise as lw
from labelwise import errors
from tests.conftest import random_problem

LABELS, PROBS = random_problem(np.random.default_rng(0), 200, 3)
ENTRY_POINTS = [
    lambda y, p, **kw: lw.find_label_issues(y, p, **kw),
    lambda y, p, **kw: lw.estimate_noise(y, p, n_bootstrap=10, **kw),
    lambda y, p, **kw: lw.label_quality_scores(y, p, **kw),
]


def with_value(value, row=17, col=1):
    probs = PROBS.copy()
    probs[row, col] = value
    return probs


@pytest.mark.parametrize("call", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("probs", "error", "words"),
    [
        (with_value(np.nan), errors.ProbabilityError, ["NaN", "row 17"]),
        (with_value(np.inf), errors.ProbabilityError, ["infinite", "row 17"]),
        (with_value(-0.2), errors.ProbabilityError, ["negative", "softmax"]),
        (with_value(3.0), errors.ProbabilityError, ["above 1", "softmax"]),
        (PROBS * 0.5, errors.ProbabilityError, ["sum to 1", "Normalize"]),
        (PROBS[:, :1], errors.ShapeError, ["at least 2 classes"]),
        (PROBS[:, 0], errors.ShapeError, ["2-D"]),
        (PROBS[:0], errors.ShapeError, ["empty"]),
        (PROBS[:150], errors.ShapeError, ["150 rows", "same examples"]),
        (np.full(PROBS.shape, "x"), errors.InputTypeError, ["dtype"]),
    ],
)
def test_bad_pred_probs(call, probs, error, words):
    with pytest.raises(error) as info:
        call(LABELS, probs)
    assert isinstance(info.value, errors.LabelwiseError)
    assert isinstance(info.value, ValueError | TypeError)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("call", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        (np.where(np.arange(200) == 5, 7, LABELS), errors.LabelError, ["0..2", "7"]),
        (np.array(["a", "b"] * 100), errors.LabelError, ["2 distinct", "classes="]),
        (
            np.array([None] + ["a", "b", "c"] * 66 + ["a"], dtype=object),
            errors.LabelError,
            ["missing"],
        ),
        (np.array([], dtype=int), errors.ShapeError, ["empty"]),
        (LABELS.reshape(-1, 2), errors.ShapeError, ["1-D"]),
        (5, errors.InputTypeError, ["sequence"]),
    ],
)
def test_bad_labels(call, labels, error, words):
    with pytest.raises(error) as info:
        call(labels, PROBS)
    for word in words:
        assert word in str(info.value)


def test_labels_outside_given_classes():
    names = np.array(["ant", "bee", "cat"])[LABELS].astype(object)
    names[3] = "dog"
    with pytest.raises(errors.LabelError, match="not among the classes.*dog"):
        lw.find_label_issues(names, PROBS, classes=["ant", "bee", "cat"])


def test_classes_must_match_columns():
    with pytest.raises(errors.LabelError, match="2 names but pred_probs has 3"):
        lw.find_label_issues(LABELS, PROBS, classes=["a", "b"])
    with pytest.raises(errors.LabelError, match="duplicate"):
        lw.find_label_issues(LABELS, PROBS, classes=["a", "b", "a"])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"method": "magic"}, ["method='magic'", "prune_by_noise_rate"]),
        ({"rank_by": "vibes"}, ["rank_by"]),
        ({"frac_noise": 2.0}, ["frac_noise"]),
        ({"min_examples_per_class": -1}, ["min_examples_per_class"]),
        ({"method": "confident_learning", "num_to_remove_per_class": [1, 1, 1]}, ["pruning"]),
        ({"num_to_remove_per_class": [1, 1]}, ["one count"]),
    ],
)
def test_bad_options(kwargs, words):
    with pytest.raises(errors.ConfigError) as info:
        lw.find_label_issues(LABELS, PROBS, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_small_drift_is_renormalized_with_a_warning():
    drifted = PROBS.copy()
    drifted[:10] *= 1 + 5e-4
    with pytest.warns(errors.RenormalizedWarning, match="10 pred_probs rows"):
        got = lw.find_label_issues(LABELS, drifted)
    fixed = drifted / drifted.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(got.mask, lw.find_label_issues(LABELS, fixed).mask)


def test_float_rounding_is_accepted_silently_and_not_copied():
    from labelwise._validate import check_pred_probs

    probs = PROBS.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_pred_probs(probs) is probs


def test_empty_class_is_handled():
    labels = np.where(LABELS == 2, 0, LABELS)  # nobody is labelled 2
    issues = lw.find_label_issues(labels, PROBS)
    noise = lw.estimate_noise(labels, PROBS, n_bootstrap=20)
    assert noise.calibrated_joint[2].sum() == 0
    assert issues.mask.dtype == bool


def test_single_given_class_is_allowed():
    labels = np.zeros(len(LABELS), dtype=int)
    # Confident learning cannot point at classes nobody is labelled with; the plain baseline can.
    assert lw.find_label_issues(labels, PROBS).num_issues == 0
    issues = lw.find_label_issues(labels, PROBS, method="predicted_neq_given")
    assert issues.num_issues > 0
    assert set(issues.suggested[issues.indices]) <= {1, 2}


def test_integer_and_float_and_categorical_labels_agree():
    expected = lw.find_label_issues(LABELS, PROBS).mask
    as_float = LABELS.astype(float)
    names = pd.Categorical(np.array(["x", "y", "z"])[LABELS], categories=["x", "y", "z"])
    for labels in [as_float, list(LABELS), pd.Series(LABELS), names]:
        np.testing.assert_array_equal(lw.find_label_issues(labels, PROBS).mask, expected)


def test_dataframe_columns_name_the_classes():
    frame = pd.DataFrame(PROBS, columns=["ant", "bee", "cat"])
    labels = np.array(["ant", "bee", "cat"])[LABELS]
    issues = lw.find_label_issues(labels, frame)
    assert list(issues.classes) == ["ant", "bee", "cat"]
    np.testing.assert_array_equal(issues.mask, lw.find_label_issues(LABELS, PROBS).mask)


def test_float16_and_one_hot_inputs_are_accepted():
    one_hot = np.eye(3, dtype=int)[LABELS]
    assert lw.find_label_issues(LABELS, one_hot).num_issues == 0
    half = PROBS.astype(np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RenormalizedWarning)
        assert lw.find_label_issues(LABELS, half).mask.shape == LABELS.shape
