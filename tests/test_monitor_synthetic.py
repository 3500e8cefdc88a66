"""The synthetic credit generator: determinism, shapes and what each injected change does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from labelwise.errors import ConfigError
from labelwise.monitor.synthetic import (
    CATEGORICAL,
    DEGRADED,
    FEATURES,
    CreditSimulator,
    credit_features,
    make_credit_data,
    make_windows,
    ramp,
)

N = 20_000


@pytest.fixture(scope="module")
def sim() -> CreditSimulator:
    return CreditSimulator(n_features=20, seed=11)


@pytest.fixture(scope="module")
def clean(sim: CreditSimulator) -> pd.DataFrame:
    return sim.sample(N, window=1)


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["score", "p_bad", "bad"])


def test_same_seed_same_frame() -> None:
    a = make_credit_data(3_000, n_features=20, seed=5, window=2, temporal_drift=0.5)
    b = make_credit_data(3_000, n_features=20, seed=5, window=2, temporal_drift=0.5)
    _assert_same(a, b)


def test_seed_and_window_change_the_draw() -> None:
    base = make_credit_data(2_000, seed=5)
    assert not base["income"].equals(make_credit_data(2_000, seed=6)["income"])
    assert not base["income"].equals(make_credit_data(2_000, seed=5, window=1)["income"])


def test_a_fresh_simulator_gives_the_cached_frame() -> None:
    fresh = CreditSimulator(n_features=20, seed=5).sample(1_000)
    _assert_same(fresh, make_credit_data(1_000, seed=5))


@pytest.mark.parametrize("n_features", [1, 6, 20, 23])
def test_shapes_and_columns(n_features: int) -> None:
    frame = make_credit_data(500, n_features=n_features, seed=0)
    assert frame.shape == (500, n_features + 3)
    assert list(frame.columns) == credit_features(n_features) + ["score", "p_bad", "bad"]
    assert frame["bad"].isin([0, 1]).all()
    assert frame["score"].between(0, 1).all() and frame["p_bad"].between(0, 1).all()


def test_realistic_shapes(clean: pd.DataFrame) -> None:
    assert list(clean.columns[:20]) == list(FEATURES)
    for name, categories in CATEGORICAL.items():
        assert isinstance(clean[name].dtype, pd.CategoricalDtype)
        assert list(clean[name].cat.categories) == list(categories)
    income = clean["income"]
    assert income.min() > 0 and income.skew() > 1  # log-normal: long right tail
    assert clean["age"].between(18, 90).all()
    assert clean["revolving_utilization"].between(0, 1).all()
    assert (clean["delinquencies_2y"] == 0).mean() > 0.7  # most have none, a few have many
    assert 0.01 < clean["home_ownership"].isna().mean() < 0.03
    assert 0.05 < clean["bad"].mean() < 0.15
    assert 0.7 < _auc(clean["bad"], clean["score"]) < 0.9  # good, not perfect


def test_concept_drift_keeps_x_and_scores_but_changes_p_y_given_x(
    sim: CreditSimulator, clean: pd.DataFrame
) -> None:
    drifted = sim.sample(N, window=1, concept_drift=1.0)
    _assert_same(_features(drifted), _features(clean))
    np.testing.assert_array_equal(drifted["score"], clean["score"])
    assert not np.allclose(drifted["p_bad"], clean["p_bad"])
    assert drifted["bad"].mean() > clean["bad"].mean() + 0.03
    # The score no longer matches the outcome: calibration breaks, ranking weakens.
    assert abs(drifted["bad"].mean() - drifted["score"].mean()) > 0.03
    assert _auc(drifted["bad"], drifted["score"]) < _auc(clean["bad"], clean["score"])


def test_covariate_degradation_changes_features_not_true_risk(
    sim: CreditSimulator, clean: pd.DataFrame
) -> None:
    broken = sim.sample(N, window=1, covariate_degradation=1.0)
    np.testing.assert_array_equal(broken["p_bad"], clean["p_bad"])
    np.testing.assert_array_equal(broken["bad"], clean["bad"])
    assert abs(broken["income"].isna().mean() - 0.4) < 0.02
    assert broken["revolving_utilization"].max() > 1.5  # unit error: percent, not a share
    assert (broken["delinquencies_2y"] == 0).mean() > (clean["delinquencies_2y"] == 0).mean()
    assert not broken["debt_to_income"].equals(clean["debt_to_income"])
    untouched = [f for f in FEATURES if f not in DEGRADED]
    _assert_same(broken[untouched], clean[untouched])
    assert not np.allclose(broken["score"], clean["score"])
    assert _auc(broken["bad"], broken["score"]) < _auc(clean["bad"], clean["score"]) - 0.02


def test_temporal_drift_moves_population_not_p_y_given_x(
    sim: CreditSimulator, clean: pd.DataFrame
) -> None:
    later = sim.sample(N, window=1, temporal_drift=1.0)
    assert later["income"].median() > 1.05 * clean["income"].median()
    assert later["age"].mean() > clean["age"].mean() + 1
    assert (later["application_channel"] == "online").mean() > 0.55
    assert later["income"].notna().all()
    # Risk is a fixed function of X: rescoring is consistent and the model stays calibrated.
    assert abs(later["bad"].mean() - later["score"].mean()) < 0.01


def test_score_method_matches_the_column(sim: CreditSimulator, clean: pd.DataFrame) -> None:
    np.testing.assert_allclose(sim.score(clean), clean["score"])
    as_text = clean.astype({name: object for name in CATEGORICAL})
    np.testing.assert_allclose(sim.score(as_text), clean["score"])


def test_windows_follow_the_schedule() -> None:
    plan = {"covariate_degradation": [0, 0, 1], "concept_drift": lambda i: 0.5}
    windows = list(make_windows(3, [800, 900, 1_000], n_features=5, seed=2, schedule=plan))
    assert [w for w, _ in windows] == ["w01", "w02", "w03"]
    assert [len(f) for _, f in windows] == [800, 900, 1_000]
    assert windows[0][1]["income"].notna().all() and windows[2][1]["income"].isna().any()
    again = make_credit_data(900, n_features=5, seed=2, window=2, concept_drift=0.5)
    _assert_same(windows[1][1], again)


def test_ramp() -> None:
    assert ramp(3) == [0.0, 0.5, 1.0]
    assert ramp(4, start=2, end=3, peak=0.8) == [0.0, 0.0, 0.8, 0.8]
    with pytest.raises(ConfigError):
        ramp(3, start=4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"n": 10, "n_features": 0},
        {"n": 10, "concept_drift": 1.5},
        {"n": 10, "temporal_drift": -0.1},
    ],
)
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        make_credit_data(**kwargs)


def test_bad_schedule() -> None:
    with pytest.raises(ConfigError, match="Unknown change"):
        list(make_windows(2, 10, schedule={"label_noise": 0.5}))
    with pytest.raises(ConfigError, match="strengths"):
        list(make_windows(2, 10, schedule={"concept_drift": [0.1]}))


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns, dtypes and values (NaN equal to NaN); much faster than assert_frame_equal."""
    assert list(a.columns) == list(b.columns)
    assert a.dtypes.equals(b.dtypes)
    for name in a.columns:
        assert a[name].equals(b[name]), name


def _auc(labels: pd.Series, scores: pd.Series) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half)."""
    ranks = rankdata(scores.to_numpy())
    bad = labels.to_numpy() == 1
    n_bad, n_good = bad.sum(), (~bad).sum()
    return float((ranks[bad].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))
