"""Tests of labelwise.simulate: seeded label-noise injection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import (
    ConfigError,
    InputError,
    InputTypeError,
    LabelError,
    ProbabilityError,
    ShapeError,
)
from labelwise.simulate import NoisyLabels, _flip_probabilities, inject_noise

RNG = np.random.default_rng(1234)
LABELS = np.tile(np.arange(4), 250)  # 1,000 labels cycling through 4 classes
PROBS = RNG.dirichlet(np.ones(4), size=LABELS.size)
FEATURES = RNG.normal(size=(LABELS.size, 6))
MATRIX = np.array([[0.8, 0.1, 0.0], [0.2, 0.7, 0.5], [0.0, 0.2, 0.5]])

# Every kind with the inputs it needs, for tests that hold for all of them.
KIND_ARGS = {
    "symmetric": {"kind": "symmetric"},
    "pair": {"kind": "pair"},
    "matrix": {
        "kind": "matrix",
        "noise_matrix": np.array(
            [[0.7, 0.1, 0.0, 0.1], [0.1, 0.8, 0.2, 0.0], [0.1, 0.1, 0.8, 0.0], [0.1, 0, 0, 0.9]]
        ),
    },
    "instance_probs": {"kind": "instance", "pred_probs": PROBS},
    "instance_features": {"kind": "instance", "features": FEATURES},
}


def _assert_consistent(noisy: NoisyLabels) -> None:
    assert np.array_equal(noisy.is_noisy, noisy.labels != noisy.true_labels)
    assert set(np.unique(noisy.labels)) <= set(noisy.classes.tolist())
    np.testing.assert_allclose(noisy.noise_matrix.sum(axis=0), 1.0)


@pytest.mark.parametrize("name", KIND_ARGS)
def test_every_kind_flips_to_a_different_class(name):
    noisy = inject_noise(LABELS, rate=0.3, **KIND_ARGS[name])
    _assert_consistent(noisy)
    assert noisy.is_noisy.any()
    assert np.array_equal(noisy.true_labels, LABELS)


@pytest.mark.parametrize("name", KIND_ARGS)
def test_same_seed_same_noise_other_seed_other_noise(name):
    first = inject_noise(LABELS, rate=0.3, random_state=7, **KIND_ARGS[name])
    again = inject_noise(LABELS, rate=0.3, random_state=7, **KIND_ARGS[name])
    other = inject_noise(LABELS, rate=0.3, random_state=8, **KIND_ARGS[name])
    assert np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.labels, other.labels)


def test_generator_and_none_are_accepted_as_random_state():
    a = inject_noise(LABELS, random_state=np.random.default_rng(3))
    b = inject_noise(LABELS, random_state=np.random.default_rng(3))
    assert np.array_equal(a.labels, b.labels)
    assert inject_noise(LABELS, random_state=None).is_noisy.sum() == 100


@pytest.mark.parametrize("name", ["symmetric", "pair", "instance_probs", "instance_features"])
@pytest.mark.parametrize(
    ("n", "rate", "expected"), [(1000, 0.1, 100), (1000, 0.0, 0), (10, 0.25, 3)]
)
def test_exact_flips_round_rate_times_n(name, n, rate, expected):
    args = dict(KIND_ARGS[name])
    for key in ("pred_probs", "features"):
        if key in args:
            args[key] = args[key][:n]
    noisy = inject_noise(LABELS[:n], rate=rate, exact=True, **args)
    assert int(noisy.is_noisy.sum()) == expected


def test_inexact_symmetric_rate_is_close_to_target():
    labels = np.repeat(np.arange(5), 20_000)
    noisy = inject_noise(labels, rate=0.2, exact=False)
    assert abs(noisy.noise_rate - 0.2) < 0.01
    for k in range(5):  # uniform over the other classes
        moved = noisy.labels[noisy.is_noisy & (labels == k)]
        shares = np.bincount(moved, minlength=5) / moved.size
        np.testing.assert_allclose(np.delete(shares, k), 0.25, atol=0.03)


def test_symmetric_noise_matrix():
    noisy = inject_noise(LABELS, rate=0.3)
    expected = np.full((4, 4), 0.1)
    np.fill_diagonal(expected, 0.7)
    np.testing.assert_allclose(noisy.noise_matrix, expected)


def test_pair_flips_to_next_class():
    noisy = inject_noise(LABELS, kind="pair", rate=0.4)
    flipped = noisy.is_noisy
    assert np.array_equal(noisy.labels[flipped], (LABELS[flipped] + 1) % 4)
    assert noisy.noise_matrix[0, 3] == pytest.approx(0.4)
    assert noisy.noise_matrix[1, 0] == pytest.approx(0.4)
    assert noisy.noise_matrix[0, 0] == pytest.approx(0.6)


def test_string_labels_round_trip():
    labels = np.array(["dog", "cat", "bird", "cat", "dog", "bird"] * 50)
    noisy = inject_noise(labels, rate=0.2, random_state=5)
    assert noisy.labels.dtype == labels.dtype
    assert noisy.classes.tolist() == ["bird", "cat", "dog"]
    assert noisy.true_labels.tolist() == labels.tolist()
    _assert_consistent(noisy)


def test_classes_order_and_absent_classes():
    labels = ["a", "a", "a", "a"]
    noisy = inject_noise(labels, rate=0.5, classes=["a", "unseen"])
    assert noisy.labels.tolist().count("unseen") == 2
    assert noisy.labels.dtype.kind == "U"  # widened rather than truncating "unseen" to "u"


def test_pandas_and_categorical_labels():
    series = pd.Series(["x", "y", "z"] * 10)
    noisy = inject_noise(series, rate=0.2)
    assert isinstance(noisy.labels, np.ndarray)
    cats = pd.Categorical(["lo", "hi"] * 10, categories=["lo", "mid", "hi"])
    noisy = inject_noise(cats, rate=0.5)
    assert noisy.classes.tolist() == ["lo", "mid", "hi"]


def test_input_labels_are_not_modified():
    labels = LABELS.copy()
    noisy = inject_noise(labels, rate=0.5)
    assert np.array_equal(labels, LABELS)
    noisy.true_labels[0] = 3  # a copy, not a view of the input
    assert labels[0] == 0


def test_matrix_kind_matches_matrix_empirically():
    labels = np.repeat(np.array(["a", "b", "c"]), [80_000, 70_000, 50_000])  # N = 200,000
    noisy = inject_noise(labels, kind="matrix", noise_matrix=MATRIX, random_state=11)
    codes = {"a": 0, "b": 1, "c": 2}
    observed = np.zeros((3, 3))
    for j, name in enumerate("abc"):
        given = noisy.labels[labels == name]
        observed[:, j] = [np.mean(given == other) for other in codes]
    np.testing.assert_allclose(observed, MATRIX, atol=0.006)
    np.testing.assert_array_equal(noisy.noise_matrix, MATRIX)
    assert not (noisy.labels[labels == "a"] == "c").any()  # a zero entry is never drawn


def test_matrix_with_integer_codes_and_absent_class():
    noisy = inject_noise(np.zeros(100, dtype=int), kind="matrix", noise_matrix=MATRIX)
    assert noisy.classes.tolist() == [0, 1, 2]
    assert set(noisy.labels.tolist()) <= {0, 1}


def test_matrix_columns_within_tolerance_are_accepted():
    drift = MATRIX.copy()
    drift[0, 0] += 5e-7
    noisy = inject_noise(np.arange(3).repeat(10), kind="matrix", noise_matrix=drift)
    np.testing.assert_allclose(noisy.noise_matrix.sum(axis=0), 1.0)


def test_instance_flips_low_confidence_examples_more_often():
    n = 20_000
    labels = np.repeat([0, 1], n // 2)
    confident = np.arange(n) % 2 == 0
    p_true = np.where(confident, 0.95, 0.4)
    probs = np.empty((n, 2))
    probs[np.arange(n), labels] = p_true
    probs[np.arange(n), 1 - labels] = 1 - p_true
    for exact in (True, False):
        noisy = inject_noise(labels, kind="instance", pred_probs=probs, rate=0.2, exact=exact)
        low, high = noisy.is_noisy[~confident].mean(), noisy.is_noisy[confident].mean()
        assert low > 3 * high
        assert abs(noisy.noise_rate - 0.2) < 0.01


def test_instance_new_label_follows_pred_probs():
    n = 5_000
    labels = np.zeros(n, dtype=int)
    probs = np.tile([0.5, 0.45, 0.05, 0.0], (n, 1))
    noisy = inject_noise(labels, kind="instance", pred_probs=probs, rate=0.5)
    moved = np.bincount(noisy.labels[noisy.is_noisy], minlength=4) / noisy.is_noisy.sum()
    np.testing.assert_allclose(moved, [0, 0.9, 0.1, 0], atol=0.02)
    np.testing.assert_allclose(noisy.noise_matrix[:, 0], [0.5, 0.45, 0.05, 0], atol=1e-12)


def test_instance_one_hot_rows_still_reach_the_rate():
    # Weight is zero where the model is sure; those examples fill up the count, uniformly.
    probs = np.eye(3)[np.repeat(np.arange(3), 10)]
    noisy = inject_noise(np.repeat(np.arange(3), 10), kind="instance", pred_probs=probs, rate=0.3)
    assert int(noisy.is_noisy.sum()) == 9
    _assert_consistent(noisy)


def test_instance_features_depend_on_features():
    one = inject_noise(LABELS, kind="instance", features=FEATURES, rate=0.3)
    other = inject_noise(LABELS, kind="instance", features=FEATURES[::-1], rate=0.3)
    assert not np.array_equal(one.is_noisy, other.is_noisy)
    constant = inject_noise(LABELS, kind="instance", features=np.ones((LABELS.size, 2)))
    _assert_consistent(constant)  # zero-variance features must not divide by zero


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.3, 0.9])
def test_flip_probabilities_average_rate_and_cap_at_one(rate):
    weight = np.random.default_rng(0).random(500) ** 6
    chance = _flip_probabilities(weight, rate)
    assert chance.mean() == pytest.approx(rate)
    assert chance.max() <= 1.0
    below = chance < 1
    ratio = chance[below & (weight > 0)] / weight[below & (weight > 0)]
    if ratio.size:
        np.testing.assert_allclose(ratio, ratio[0])  # proportional where not capped


def test_repr_is_a_summary():
    text = repr(inject_noise(["a", "b"] * 50, rate=0.1))
    assert text.startswith("NoisyLabels(n_examples=100, n_noisy=10")


BAD_INPUTS = [
    ({"kind": "gaussian"}, ConfigError, "kind"),
    ({"rate": 1.0}, ConfigError, "rate"),
    ({"rate": -0.1}, ConfigError, "rate"),
    ({"rate": float("nan")}, ConfigError, "rate"),
    ({"rate": "0.1"}, ConfigError, "rate"),
    ({"rate": True}, ConfigError, "rate"),
    ({"exact": "yes"}, ConfigError, "exact"),
    ({"random_state": "seed"}, InputTypeError, "random_state"),
    ({"random_state": -1}, ConfigError, "random_state"),
    ({"random_state": np.random.RandomState(0)}, InputTypeError, "default_rng"),
    ({"kind": "matrix"}, ConfigError, "noise_matrix"),
    ({"noise_matrix": np.eye(4)}, ConfigError, "kind='matrix'"),
    ({"pred_probs": PROBS}, ConfigError, "kind='instance'"),
    ({"kind": "instance"}, ConfigError, "exactly one"),
    ({"kind": "instance", "pred_probs": PROBS, "features": FEATURES}, ConfigError, "exactly one"),
    ({"kind": "matrix", "noise_matrix": np.eye(3)}, ShapeError, "classes="),
    ({"kind": "matrix", "noise_matrix": np.ones((4, 3)) / 4}, ShapeError, "square"),
    ({"kind": "matrix", "noise_matrix": np.full((4, 4), 0.3)}, ProbabilityError, "sum to 1"),
    ({"kind": "matrix", "noise_matrix": np.eye(4) * 2 - 0.5}, ProbabilityError, "[0, 1]"),
    ({"kind": "matrix", "noise_matrix": np.full((4, 4), np.nan)}, ProbabilityError, "NaN"),
    ({"kind": "matrix", "noise_matrix": [["a"] * 4] * 4}, InputTypeError, "numbers"),
    ({"kind": "matrix", "noise_matrix": [[1, 0], [0]]}, InputTypeError, "array"),
    ({"kind": "instance", "pred_probs": PROBS[:10]}, ShapeError, "rows"),
    ({"kind": "instance", "pred_probs": np.full((1000, 3), 1 / 3)}, ShapeError, "classes="),
    ({"kind": "instance", "pred_probs": PROBS * 2}, ProbabilityError, "pred_probs"),
    ({"kind": "instance", "features": FEATURES[:10]}, ShapeError, "rows"),
    ({"kind": "instance", "features": FEATURES[:, 0]}, ShapeError, "reshape"),
    ({"kind": "instance", "features": FEATURES[:, :0]}, ShapeError, "column"),
    ({"kind": "instance", "features": np.full((1000, 2), np.nan)}, InputError, "NaN"),
    ({"kind": "instance", "features": np.full((1000, 2), "x")}, InputTypeError, "numbers"),
    ({"classes": [0, 1, 2]}, LabelError, "not among the classes"),
    ({"classes": [0, 1, 2, 3, 3]}, LabelError, "duplicate"),
    ({"classes": "0123"}, InputTypeError, "list"),
    ({"classes": []}, ShapeError, "non-empty"),
]


@pytest.mark.parametrize(("kwargs", "error", "words"), BAD_INPUTS)
def test_bad_inputs_raise_labelwise_errors(kwargs, error, words):
    with pytest.raises(error) as info:
        inject_noise(LABELS, **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        ([], ShapeError, "empty"),
        ("abc", InputTypeError, "sequence"),
        (np.zeros((3, 2)), ShapeError, "1-D"),
        (["a", None, "b"], LabelError, "missing"),
        (np.array([1, "a", 2], dtype=object), LabelError, "classes="),
        (["a", "a", "a"], LabelError, "single class"),
    ],
)
def test_bad_labels_raise_labelwise_errors(labels, error, words):
    with pytest.raises(error) as info:
        inject_noise(labels)
    assert words in str(info.value)


def test_single_class_is_fine_for_an_identity_matrix():
    noisy = inject_noise(["only"] * 5, kind="matrix", noise_matrix=[[1.0]])
    assert not noisy.is_noisy.any()


@settings(max_examples=60, deadline=None)
@given(
    labels=st.one_of(
        st.lists(st.integers(-3, 3), min_size=2, max_size=60),
        st.lists(st.sampled_from(["a", "bb", "ccc", "d"]), min_size=2, max_size=60),
    ),
    kind=st.sampled_from(["symmetric", "pair", "instance"]),
    rate=st.floats(0, 0.99),
    exact=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_is_noisy_marks_exactly_the_changed_labels(labels, kind, rate, exact, seed):
    if len(set(labels)) < 2:
        labels = [*labels, "other" if isinstance(labels[0], str) else 99]
    extra = {}
    if kind == "instance":
        k = len(set(labels))
        extra["pred_probs"] = np.random.default_rng(seed).dirichlet(np.ones(k), size=len(labels))
    noisy = inject_noise(labels, kind=kind, rate=rate, exact=exact, random_state=seed, **extra)
    assert np.array_equal(noisy.is_noisy, noisy.labels != noisy.true_labels)
    assert set(noisy.labels.tolist()) <= set(labels)
    if exact:
        assert noisy.is_noisy.sum() == min(len(labels), int(np.floor(rate * len(labels) + 0.5)))
