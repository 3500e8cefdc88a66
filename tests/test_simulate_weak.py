"""Tests of labelwise.simulate_weak: missing positives, candidate sets, hidden labels."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import ConfigError, InputError, LabelError, ShapeError
from labelwise.simulate_weak import (
    drop_positives,
    hide_labels,
    make_multilabel_digits,
    partial_labels,
)

RNG = np.random.default_rng(7)
Y_MULTI = (RNG.random((2000, 5)) < 0.4).astype(int)
LABELS = np.tile(np.array(["cat", "dog", "emu", "fox", "gnu"]), 400)


def test_drop_positives_hides_about_rate_and_only_positives():
    observed = drop_positives(Y_MULTI, 0.3, random_state=0)
    assert observed.dtype == Y_MULTI.dtype and observed.shape == Y_MULTI.shape
    assert not ((observed == 1) & (Y_MULTI == 0)).any()
    kept = observed.sum() / Y_MULTI.sum()
    assert abs(kept - 0.7) < 0.02  # 4,000 positives: the binomial sd of the share is 0.007
    np.testing.assert_array_equal(observed, drop_positives(Y_MULTI, 0.3, random_state=0))
    assert not np.array_equal(observed, drop_positives(Y_MULTI, 0.3, random_state=1))
    np.testing.assert_array_equal(drop_positives(Y_MULTI, 0.0), Y_MULTI)


@pytest.mark.parametrize(
    ("Y", "rate", "error"),
    [(Y_MULTI[:, 0], 0.3, ShapeError), (Y_MULTI * 3, 0.3, InputError), (Y_MULTI, 1.0, ConfigError)],
)
def test_drop_positives_bad_inputs(Y, rate, error):
    with pytest.raises(error):
        drop_positives(Y, rate)


def test_partial_labels_hold_truth_and_the_right_number_of_extras():
    sets = partial_labels(LABELS, (1, 3), random_state=0)
    assert sets.shape == (2000, 5) and sets.dtype == bool
    codes = np.searchsorted(["cat", "dog", "emu", "fox", "gnu"], LABELS)
    assert sets[np.arange(2000), codes].all()
    sizes = sets.sum(axis=1)
    assert set(np.unique(sizes)) == {2, 3, 4}
    # Extra candidates are spread evenly over the wrong classes.
    extra = sets.copy()
    extra[np.arange(2000), codes] = False
    share = extra.sum(axis=0) / extra.sum()
    np.testing.assert_allclose(share, 0.2, atol=0.03)
    np.testing.assert_array_equal(sets, partial_labels(LABELS, (1, 3), random_state=0))


def test_partial_labels_fixed_count_cap_and_classes():
    assert (partial_labels([0, 1, 2], 1, random_state=0).sum(axis=1) == 2).all()
    assert (partial_labels([0, 1, 2], 9, random_state=0).sum(axis=1) == 3).all()
    wide = partial_labels([0, 1], 2, classes=[0, 1, 2, 3], random_state=0)
    assert wide.shape == (2, 4) and (wide.sum(axis=1) == 3).all()
    with pytest.raises(LabelError, match="not among the classes"):
        partial_labels([0, 5], 1, classes=[0, 1, 2])
    for bad in (-1, (3, 1), "two", 1.5):
        with pytest.raises(ConfigError, match="n_extra"):
            partial_labels([0, 1, 2], bad)


def test_hide_labels_exact_share_and_marker():
    hidden = hide_labels(np.arange(1000) % 4, 0.7, random_state=0)
    assert (hidden == -1).sum() == 700
    assert hidden.dtype.kind == "i"
    names = hide_labels(LABELS, 0.5, random_state=0)
    assert names.dtype == object and sum(v == -1 for v in names) == 1000
    kept = np.array([v != -1 for v in names])
    np.testing.assert_array_equal(names[kept].astype(str), LABELS[kept])
    assert sum(v is None for v in hide_labels(LABELS, 0.1, unlabeled=None)) == 200
    with pytest.raises(LabelError, match="marker"):
        hide_labels([0, -1, 1], 0.5)


def test_make_multilabel_digits():
    X, Y = make_multilabel_digits(300, random_state=0)
    assert X.shape == (300, 128) and Y.shape == (300, 10)
    assert X.min() >= 0 and X.max() <= 16
    assert set(Y.sum(axis=1)) <= {1, 2} and (Y.sum(axis=1) == 2).mean() > 0.8
    X2, Y2 = make_multilabel_digits(300, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
    Xo, Yo = make_multilabel_digits(50, random_state=1, layout="overlay")
    assert Xo.shape == (50, 64)
    with pytest.raises(ConfigError):
        make_multilabel_digits(10, layout="stacked")
    with pytest.raises(ConfigError):
        make_multilabel_digits(0)
