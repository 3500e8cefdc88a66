"""Tests of labelwise.issues.regression: scores, flags and out-of-sample models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import norm, rankdata, spearmanr
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import KFold, ShuffleSplit, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor

from labelwise.errors import ConfigError, InputError, InputTypeError, ShapeError
from labelwise.issues.regression import (
    DEFAULT_THRESHOLD,
    MAD_TO_SD,
    RegressionIssues,
    cross_val_predictions,
    estimate_noise_rate,
    find_regression_issues,
    regression_quality_scores,
    residual_scale,
    robust_scale,
)


def linear_problem(n: int = 300, noise: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([3.0, -2.0, 1.0]) + 5 + rng.normal(0, noise, n)
    return X, y


# -- scores ----------------------------------------------------------------------------------


def test_scores_are_the_two_sided_normal_tail():
    residuals = np.array([0.0, 1.0, -1.96, 3.0, -10.0])
    scores = regression_quality_scores(residuals, np.zeros(5), uncertainty=1.0)
    np.testing.assert_allclose(scores, 2 * norm.sf(np.abs(residuals)), rtol=1e-12)
    assert scores[0] == 1.0
    np.testing.assert_allclose(scores[2], 0.05, rtol=1e-3)
    assert scores.dtype == np.float64


def test_scores_lie_in_the_unit_interval_even_far_in_the_tail():
    rng = np.random.default_rng(1)
    targets = np.concatenate([rng.normal(size=200), [1e6, -1e300]])
    scores = regression_quality_scores(targets, np.zeros(202))
    assert ((scores > 0) & (scores <= 1)).all()


def test_scores_fall_as_the_standardized_residual_grows():
    rng = np.random.default_rng(2)
    predictions = rng.normal(size=500)
    targets = predictions + rng.standard_t(3, 500)
    scale = rng.uniform(0.5, 2.0, 500)
    scores = regression_quality_scores(targets, predictions, uncertainty=scale)
    z = np.abs(targets - predictions) / scale
    order = np.argsort(z)
    assert (np.diff(scores[order]) <= 0).all()
    assert scores.argmin() == z.argmax()


def test_default_scale_is_robust_to_the_corrupted_rows():
    rng = np.random.default_rng(3)
    residuals = rng.normal(0, 2.0, 2000)
    clean = robust_scale(residuals)
    residuals[:200] += rng.choice([-1, 1], 200) * 50  # 10% gross errors
    assert abs(clean - 2.0) < 0.15
    assert abs(robust_scale(residuals) - 2.0) < 0.4
    assert np.std(residuals) > 10  # what a non-robust scale would have used


def test_default_scale_is_mad_then_std_then_one():
    r = np.array([-3.0, -1.0, 0.0, 2.0, 10.0])
    assert robust_scale(r) == pytest.approx(MAD_TO_SD * 2.0)
    ties = np.array([0.0, 0.0, 0.0, 4.0])  # median absolute deviation 0
    assert robust_scale(ties) == pytest.approx(np.std(ties))
    assert robust_scale(np.zeros(4)) == 1.0
    scores = regression_quality_scores(r, np.zeros(5))
    np.testing.assert_allclose(
        scores, regression_quality_scores(r, np.zeros(5), uncertainty=MAD_TO_SD * 2.0)
    )


def test_per_row_uncertainty_makes_a_noisy_row_less_suspicious():
    targets = np.array([0.0, 4.0, 4.0, 0.5])
    predictions = np.zeros(4)
    same = regression_quality_scores(targets, predictions, uncertainty=1.0)
    assert same[1] == same[2]
    per_row = regression_quality_scores(targets, predictions, uncertainty=[1.0, 1.0, 4.0, 1.0])
    assert per_row[2] > per_row[1]  # the same residual, on a row known to be four times noisier
    assert per_row[3] > per_row[2] > per_row[1]
    np.testing.assert_allclose(
        regression_quality_scores(targets, predictions, uncertainty=2.0),
        regression_quality_scores(targets, predictions, uncertainty=np.full(4, 2.0)),
    )


def test_inputs_may_be_lists_series_or_integers():
    scores = regression_quality_scores(pd.Series([1, 2, 3]), [1, 2, 5], uncertainty=np.int64(1))
    np.testing.assert_allclose(scores, 2 * norm.sf([0, 0, 2]))


# -- flagging --------------------------------------------------------------------------------


def test_a_planted_gross_error_is_ranked_first():
    X, y = linear_problem()
    y[37] += 15
    predictions = cross_val_predictions(LinearRegression(), X, y)
    issues = find_regression_issues(y, predictions)
    assert issues.indices[0] == 37
    assert issues.mask[37]
    assert issues.num_issues <= 5
    assert abs(issues.suggested[37] - (y[37] - 15)) < 4  # the prediction ignores the error


def test_default_threshold_is_three_standard_deviations():
    assert DEFAULT_THRESHOLD == pytest.approx(2 * norm.sf(3))
    targets = np.array([0.0, 2.99, -3.01, 5.0, 3.0])
    issues = find_regression_issues(targets, np.zeros(5), uncertainty=1.0)
    assert issues.mask.tolist() == [False, False, True, True, False]
    assert issues.threshold == DEFAULT_THRESHOLD


def test_threshold_sets_what_is_flagged():
    targets = np.array([0.0, 1.0, 2.0, 3.0, -1.5])
    flags = {
        t: find_regression_issues(targets, np.zeros(5), uncertainty=1.0, threshold=t).mask
        for t in (0.0, 0.1, 0.5, 1.0)
    }
    assert not flags[0.0].any()
    assert flags[0.1].tolist() == [False, False, True, True, False]
    assert flags[0.5].tolist() == [False, True, True, True, True]
    assert flags[1.0].tolist() == [False, True, True, True, True]  # score 1 is never below 1


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high", True, float("nan")])
def test_a_bad_threshold_is_a_config_error(threshold):
    with pytest.raises(ConfigError, match="threshold"):
        find_regression_issues([1.0, 2.0], [1.0, 2.0], threshold=threshold)


def test_indices_rank_by_score_and_keep_row_order_on_ties():
    targets = np.array([5.0, -4.0, 4.0, 6.0, 0.0, 4.0])
    issues = find_regression_issues(targets, np.zeros(6), uncertainty=1.0)
    assert issues.indices.tolist() == [3, 0, 1, 2, 5]
    assert issues.num_issues == int(issues.mask.sum()) == len(issues) == 5
    assert (np.diff(issues.scores[issues.indices]) >= 0).all()


def test_underflowed_scores_still_rank_by_size():
    # Beyond z = 38 the tail underflows: equal (floored) scores, ranked by the residual's size.
    targets = np.array([100.0, 1000.0, 0.1, 50.0])
    issues = find_regression_issues(targets, np.zeros(4), uncertainty=1.0)
    assert issues.scores[0] == issues.scores[1]
    assert issues.indices.tolist() == [1, 0, 3]


def test_to_frame_lists_flagged_rows_worst_first():
    targets = np.array([0.3, 8.0, -0.2, -12.0, 0.1])
    predictions = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    issues = find_regression_issues(targets, predictions, uncertainty=[1, 1, 1, 2, 1])
    frame = issues.to_frame()
    assert frame.columns.tolist() == ["rank", "row", "given", "suggested", "score", "residual", "z"]
    assert frame["rank"].tolist() == [1, 2]
    assert frame["row"].tolist() == [1, 3]  # z = 7 and z = 6
    assert frame["residual"].tolist() == [7.0, -12.0]
    assert frame["z"].tolist() == [7.0, 6.0]
    assert frame["given"].tolist() == [8.0, -12.0]
    assert frame["suggested"].tolist() == [1.0, 0.0]
    everything = issues.to_frame(all_rows=True)
    assert everything["row"].tolist() == list(range(5))
    assert everything["is_issue"].tolist() == issues.mask.tolist()
    assert everything["rank"].tolist() == [pd.NA, 1, pd.NA, 2, pd.NA]


def test_result_is_frozen_and_has_a_short_repr():
    issues = find_regression_issues([0.0, 9.0, 0.1, -0.2], [0.0, 0.0, 0.0, 0.0], uncertainty=1.0)
    assert isinstance(issues, RegressionIssues)
    with pytest.raises(dataclasses.FrozenInstanceError):
        issues.threshold = 0.5
    text = repr(issues)
    assert text.startswith("RegressionIssues(") and "num_issues=1 of 4" in text
    assert len(text) < 200
    assert issues.method == "uncertainty"
    assert find_regression_issues([0.0, 9.0, 0.1], [0.0, 0.0, 0.0]).method == "robust_scale"


def test_noise_rate_estimates_the_share_of_wrong_targets():
    rng = np.random.default_rng(4)
    n = 20_000
    predictions = rng.normal(0, 5, n)
    targets = predictions + rng.normal(0, 1, n)
    assert find_regression_issues(targets, predictions).noise_rate < 0.002
    wrong = rng.random(n) < 0.08
    # Values entered for the wrong row: some land near the truth, and still count.
    targets[wrong] = rng.uniform(predictions.min(), predictions.max(), wrong.sum())
    issues = find_regression_issues(targets, predictions)
    assert issues.noise_rate == pytest.approx(wrong.mean(), abs=0.01)
    assert issues.num_issues / n < wrong.mean() - 0.01  # the flags miss the near ones
    # Independent of the threshold, and not thrown off by one wild value.
    assert find_regression_issues(targets, predictions, threshold=0.2).noise_rate == (
        issues.noise_rate
    )
    targets[0] = 1e9
    assert find_regression_issues(targets, predictions).noise_rate == pytest.approx(
        wrong.mean(), abs=0.015
    )


def test_noise_rate_of_heavy_tails_is_modest():
    rng = np.random.default_rng(12)
    residuals = rng.standard_t(5, 5000)
    assert estimate_noise_rate(residuals / robust_scale(residuals)) < 0.06


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "predictions", "error", "words"),
    [
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], InputError, "missing or infinite"),
        ([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], InputError, "predictions has 1 missing"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], ShapeError, "same rows"),
        (np.ones((3, 2)), np.ones(3), ShapeError, "1-D"),
        (np.ones((3, 1)), np.ones(3), ShapeError, "ravel"),
        (5.0, 5.0, ShapeError, "1-D"),
        ([], [], InputError, "empty"),
        (["a", "b"], [1.0, 2.0], InputTypeError, "numbers"),
        (None, [1.0], InputTypeError, "numbers"),
        ([[1.0], [2.0, 3.0]], [1.0, 2.0], InputTypeError, "array"),
        (sp.csr_matrix(np.ones((2, 1))), [1.0, 2.0], InputTypeError, "sparse"),
        ([1e308, 0.0], [-1e308, 0.0], InputError, "largest float"),
    ],
)
def test_bad_inputs_raise_clear_errors(targets, predictions, error, words):
    for func in (regression_quality_scores, find_regression_issues):
        with pytest.raises(error, match=words):
            func(targets, predictions)


@pytest.mark.parametrize(
    ("uncertainty", "error", "words"),
    [
        (0.0, InputError, "positive"),
        (-1.0, InputError, "positive"),
        (np.nan, InputError, "positive"),
        ([1.0, 0.0, 1.0], InputError, r"rows \[1\]"),
        ([1.0, 1.0], ShapeError, "one per row"),
        ("wide", InputTypeError, "number"),
        (np.ones((3, 1)), ShapeError, "1-D"),
    ],
)
def test_bad_uncertainty_raises_clear_errors(uncertainty, error, words):
    with pytest.raises(error, match=words):
        regression_quality_scores([1.0, 2.0, 3.0], [1.0, 2.0, 2.0], uncertainty=uncertainty)


def test_errors_are_also_the_builtin_types():
    with pytest.raises(ValueError):
        regression_quality_scores([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(TypeError):
        regression_quality_scores(["x"], [1.0])


# -- against cleanlab ------------------------------------------------------------------------


@pytest.mark.parametrize("uncertainty", [None, 0.7, 3.0])
def test_ranking_matches_cleanlab_residual_with_a_constant_scale(uncertainty):
    rank = pytest.importorskip(
        "cleanlab.regression.rank", reason="cleanlab (the reference tool) is not installed"
    )
    rng = np.random.default_rng(5)
    predictions = rng.normal(0, 3, 400)
    labels = predictions + rng.standard_t(2, 400)
    labels[rng.choice(400, 20, replace=False)] += rng.normal(0, 15, 20)
    theirs = rank.get_label_quality_scores(labels, predictions, method="residual")
    ours = regression_quality_scores(labels, predictions, uncertainty=uncertainty)
    # Both are decreasing in |residual|: the same order, with no ties at these magnitudes.
    np.testing.assert_array_equal(rankdata(ours), rankdata(theirs))
    np.testing.assert_array_equal(
        np.argsort(ours, kind="stable"), np.argsort(theirs, kind="stable")
    )


# -- out-of-sample predictions ---------------------------------------------------------------


def test_predictions_are_out_of_sample():
    # Targets unrelated to X: 1-NN recalls every training target in sample, and out of sample it
    # can only guess from another row.
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 2))
    y = rng.normal(size=200)
    model = KNeighborsRegressor(n_neighbors=1)
    np.testing.assert_array_equal(model.fit(X, y).predict(X), y)
    predictions = cross_val_predictions(model, X, y)
    assert np.corrcoef(predictions, y)[0, 1] < 0.3
    assert not np.isclose(predictions, y).any()


def test_predictions_equal_sklearn_cross_val_predict_on_the_same_folds():
    X, y = linear_problem(n=150)
    folds = KFold(5, shuffle=True, random_state=3)
    ours = cross_val_predictions(LinearRegression(), X, y, cv=5, random_state=3)
    np.testing.assert_allclose(ours, cross_val_predict(LinearRegression(), X, y, cv=folds))
    as_pairs = list(folds.split(X))
    np.testing.assert_allclose(cross_val_predictions(LinearRegression(), X, y, cv=as_pairs), ours)
    np.testing.assert_allclose(cross_val_predictions(LinearRegression(), X, y, cv=folds), ours)


def test_threads_progress_and_frames_do_not_change_predictions():
    X, y = linear_problem(n=120)
    calls = []
    serial = cross_val_predictions(
        LinearRegression(), X, y, cv=4, progress=lambda *a: calls.append(a)
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    threaded = cross_val_predictions(LinearRegression(), X, y, cv=4, n_jobs=2)
    np.testing.assert_allclose(threaded, serial)
    frame = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(120) * 7)
    np.testing.assert_allclose(cross_val_predictions(LinearRegression(), frame, y, cv=4), serial)
    np.testing.assert_allclose(
        cross_val_predictions(LinearRegression(), X.tolist(), y, cv=4), serial
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"cv": 1}, ConfigError, "between 2"),
        ({"cv": 500}, ConfigError, "between 2"),
        ({"cv": ShuffleSplit(3, random_state=0)}, ConfigError, "exactly one test part"),
        ({"cv": "five"}, ConfigError, "not usable"),
        ({"progress": "yes"}, InputTypeError, "callable"),
    ],
)
def test_bad_cross_validation_options(kwargs, error, words):
    X, y = linear_problem(n=60)
    with pytest.raises(error, match=words):
        cross_val_predictions(LinearRegression(), X, y, **kwargs)


def test_cross_validation_input_errors():
    X, y = linear_problem(n=60)
    with pytest.raises(ShapeError, match="X has 59 rows"):
        cross_val_predictions(LinearRegression(), X[:59], y)
    with pytest.raises(InputTypeError, match="regressor"):
        cross_val_predictions("ridge", X, y)
    with pytest.raises(InputError, match="missing or infinite"):
        cross_val_predictions(LinearRegression(), X, np.where(np.arange(60) == 3, np.nan, y))
    X_missing = X.copy()
    X_missing[5, 0] = np.nan
    with pytest.raises(InputError, match="could not be fit"):
        cross_val_predictions(LinearRegression(), X_missing, y)
    with pytest.raises(InputError, match="could not be fit"):  # a classifier on real targets
        cross_val_predictions(LogisticRegression(), X, y)


# -- per-row scale ---------------------------------------------------------------------------


def test_residual_scale_follows_the_noise_level():
    rng = np.random.default_rng(8)
    X = rng.uniform(0, 1, (800, 2))
    sd = 0.2 + 2.0 * X[:, 0]
    residuals = rng.normal(0, sd)
    residuals[rng.choice(800, 40, replace=False)] += 30  # gross errors barely move a median
    scale = residual_scale(X, residuals)
    assert scale.shape == (800,) and (scale > 0).all()
    low, high = X[:, 0] < 0.2, X[:, 0] > 0.8
    # Five times the noise; the contrast is kept in part (shrunk toward one global scale).
    assert scale[high].mean() > 1.8 * scale[low].mean()
    assert scale[low].mean() > sd[low].mean()
    assert scale[high].mean() < sd[high].mean()


def test_residual_scale_is_nearly_constant_when_the_noise_is():
    rng = np.random.default_rng(13)
    X = rng.uniform(0, 1, (800, 3))
    residuals = rng.normal(0, 2.0, 800)
    scale = residual_scale(X, residuals)
    assert scale.max() / scale.min() < 1.3
    assert scale.mean() == pytest.approx(2.0, rel=0.15)


def test_residual_scale_reads_categorical_columns():
    rng = np.random.default_rng(9)
    n = 600
    group = rng.choice(["calm", "wild", "mid"], n)
    frame = pd.DataFrame({"group": group, "x": rng.normal(size=n)})
    frame.loc[::50, "group"] = None
    sd = pd.Series(group).map({"calm": 0.3, "mid": 1.0, "wild": 3.0}).to_numpy()
    residuals = rng.normal(0, sd)
    scale = residual_scale(frame, residuals)
    by_group = pd.Series(scale).groupby(group).median()
    assert by_group["calm"] < by_group["mid"] < by_group["wild"]
    assert by_group["wild"] > 2 * by_group["calm"]
    as_category = frame.assign(group=frame["group"].astype("category"))
    np.testing.assert_allclose(residual_scale(as_category, residuals), scale)


def test_residual_scale_is_floored_and_takes_a_model():
    rng = np.random.default_rng(10)
    X = np.repeat(np.arange(4.0), 50).reshape(-1, 1)
    residuals = rng.normal(0, 1, 200)
    residuals[X[:, 0] == 0] = 0.0  # an exact region must not get a zero scale
    scale = residual_scale(X, residuals)
    floor = 0.1 * robust_scale(residuals)
    assert scale.min() >= floor
    assert scale.argmin() in np.flatnonzero(X[:, 0] == 0)
    constant = residual_scale(X, residuals, model=DummyRegressor(strategy="median"), cv=2)
    assert constant.std() < 0.05 * constant.mean()
    assert constant.mean() == pytest.approx(robust_scale(residuals), rel=0.2)


def test_residual_scale_learns_noise_that_grows_with_the_prediction():
    # Multiplicative noise (sd = 20% of the target), whose level is the mean of six features:
    # trees split on one feature at a time and see it dimly; the prediction carries it directly.
    rng = np.random.default_rng(14)
    X = rng.uniform(0, 1, (1000, 6))
    mean = 5 * np.exp(6 * X.mean(axis=1) - 3)
    residuals = rng.normal(0, 0.2 * mean)
    with_predictions = spearmanr(residual_scale(X, residuals, predictions=mean), mean)[0]
    without = spearmanr(residual_scale(X, residuals), mean)[0]
    assert with_predictions > 0.92
    assert with_predictions > without + 0.02


def test_residual_scale_input_errors():
    X = np.zeros((10, 2))
    with pytest.raises(ShapeError, match="X has 10 rows"):
        residual_scale(X, np.ones(9))
    with pytest.raises(InputError, match="missing"):
        residual_scale(X, np.full(10, np.nan))
    with pytest.raises(InputTypeError, match="sparse"):
        residual_scale(sp.csr_matrix(X), np.ones(10))
    with pytest.raises(InputTypeError, match="regressor"):
        residual_scale(X, np.ones(10), model=object())
    with pytest.raises(ShapeError, match="predictions has 9"):
        residual_scale(X, np.ones(10), predictions=np.ones(9))
    with pytest.raises(InputError, match="predictions has 1 missing"):
        residual_scale(X, np.ones(10), predictions=np.r_[np.nan, np.ones(9)])
    with pytest.raises(ConfigError, match="add the predictions to X"):
        residual_scale(X, np.ones(10), model=DummyRegressor(), predictions=np.ones(10))


def test_scores_with_residual_scale_find_errors_in_the_calm_region():
    # A residual of 3 is ordinary where the noise sd is 3 and gross where it is 0.3: a global
    # scale flags much of the noisy region; the per-row scale ranks the planted errors first.
    rng = np.random.default_rng(11)
    n = 1000
    X = rng.uniform(0, 1, (n, 1))
    sd = np.where(X[:, 0] < 0.5, 0.3, 3.0)
    residuals = rng.normal(0, sd)
    calm = np.flatnonzero(X[:, 0] < 0.4)[:10]  # clear of the step, which trees place roughly
    residuals[calm] += 3.0
    planted = np.isin(np.arange(n), calm)
    targets, predictions = residuals, np.zeros(n)
    scale = residual_scale(X, residuals)
    per_row = find_regression_issues(targets, predictions, uncertainty=scale)
    global_ = find_regression_issues(targets, predictions)
    assert per_row.mask[calm].all()
    assert per_row.num_issues < global_.num_issues / 2
    assert average_precision_score(planted, -per_row.scores) > 0.3
    assert average_precision_score(planted, -global_.scores) < 0.1
