"""SpectralTruncation and spectral_probe: a planted low-rank-signal / high-rank-noise problem,
scikit-learn compliance, and the errors bad inputs raise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from labelwise.errors import ConfigError, InputTypeError, ShapeError
from labelwise.learn.spectral import PROBE_COLUMNS, SpectralTruncation, spectral_probe

K = 4  # classes = planted signal rank


def _planted(n: int = 600, n_test: int = 600, n_features: int = 80, rate: float = 0.3, seed=0):
    """Class means in a K-dim subspace plus weak isotropic noise; each mislabeled training example
    is 'memorized' along its own random direction orthogonal to the signal, scaled up."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n_features, n_features)))
    signal, rest = Q[:, :K], Q[:, K:]
    means = 3.0 * np.eye(K)  # equally separated: every one of the K - 1 mean directions matters

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(K, size=m)
        within = means[y] + rng.normal(size=(m, K))
        return within @ signal.T + 0.3 * rng.normal(size=(m, n_features - K)) @ rest.T, y

    H, y = draw(n)
    H_test, y_test = draw(n_test)
    flip = rng.random(n) < rate
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, K, size=flip.sum())) % K  # symmetric noise
    dirs = rng.normal(size=(flip.sum(), n_features - K)) @ rest.T
    H[flip] += 4.0 * dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    return H, y, noisy, flip, H_test, y_test


@pytest.fixture(scope="module")
def planted():
    return _planted()


# Default n_components="auto" needs y, which several generic checks do not pass; an int d is
# the mode those checks can exercise (auto/classes are covered by the tests below).
@parametrize_with_checks([SpectralTruncation(n_components=2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("seed", [0, 4])
def test_auto_finds_planted_rank_and_helps(seed):
    H, _, noisy, _, H_test, y_test = _planted(seed=seed)
    trunc = SpectralTruncation("auto").fit(H, noisy)
    assert 3 <= trunc.n_components_ <= 8
    assert set(trunc.scores_) >= {1, 2, 4, 8}
    assert trunc.scores_[trunc.n_components_] == max(trunc.scores_.values())
    raw = LogisticRegression(max_iter=1000).fit(H, noisy).score(H_test, y_test)
    head = LogisticRegression(max_iter=1000).fit(trunc.transform(H), noisy)
    cut = head.score(trunc.transform(H_test), y_test)
    assert cut >= raw
    assert cut > 0.9


def test_classes_mode_and_attributes(planted):
    H, _, noisy, _, _, _ = planted
    trunc = SpectralTruncation("classes").fit(H, noisy)
    assert trunc.n_components_ == K and trunc.scores_ == {}
    assert trunc.components_.shape == (K, H.shape[1])
    assert trunc.singular_values_.shape == (min(H.shape),)
    assert np.all(np.diff(trunc.singular_values_) <= 1e-9)
    assert np.allclose(trunc.components_ @ trunc.components_.T, np.eye(K))
    assert np.isclose(
        trunc.explained_variance_ratio_.sum(),
        np.sum(trunc.singular_values_[:K] ** 2) / np.sum(trunc.singular_values_**2),
    )
    coords = trunc.project(H)
    assert np.allclose(coords, (H - H.mean(axis=0)) @ trunc.components_.T)
    assert np.allclose(trunc.transform(H), coords @ trunc.components_ + trunc.mean_)
    # Truncation is a projection: applying it twice changes nothing.
    assert np.allclose(trunc.transform(trunc.transform(H)), trunc.transform(H))


def test_full_rank_is_identity_and_pipeline_works():
    rng = np.random.default_rng(1)
    H, y = rng.normal(size=(40, 5)), np.arange(40) % 2
    assert np.allclose(SpectralTruncation(5).fit(H).transform(H), H)
    model = make_pipeline(SpectralTruncation(candidates=[1, 3]), LogisticRegression()).fit(H, y)
    assert model[0].n_components_ in (1, 3) and set(model[0].scores_) == {1, 3}


def test_probe_puts_noise_in_the_tail(planted):
    H, y, noisy, flip, _, _ = planted
    table = spectral_probe(H, noisy, flip, dims=[2, K, 16], true_labels=y)
    assert list(table.columns) == list(PROBE_COLUMNS)
    assert table["d"].tolist() == [2, K, 16]
    row = table.set_index("d").loc[K]
    assert row.noise_energy_in_tail > 0.75
    assert row.signal_energy_in_tail < 0.4
    assert row.noise_energy_in_tail > row.signal_energy_in_tail + 0.4
    # The top-K head agrees with the clean labels and cannot reproduce the memorized noise;
    # the tail head, which sees the memorization directions, reproduces much more of it.
    assert row.head_clean_acc > 0.9 and row.head_noisy_acc < 0.2
    assert row.tail_noisy_acc > row.head_noisy_acc + 0.3


def test_probe_without_true_labels_and_defaults():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 6)), np.arange(60) % 3
    flags = np.arange(60) % 10 == 0
    table = spectral_probe(X, y, flags.astype(int))
    assert table["noise_energy_in_tail"].isna().all()
    assert table["signal_energy_in_tail"].between(0, 1).all()
    assert table["d"].tolist() == [1, 2, 3, 4, 6]
    assert np.isnan(table.iloc[-1].tail_clean_acc)  # d = min(n, D): no tail left
    # A larger subspace holds more of any target: the tail share can only shrink.
    assert np.all(np.diff(table["signal_energy_in_tail"]) <= 1e-12)
    assert isinstance(table, pd.DataFrame)


def test_bad_inputs():
    rng = np.random.default_rng(3)
    H, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    with pytest.raises(ConfigError, match="n_components=5"):
        SpectralTruncation(5).fit(H)
    with pytest.raises(ConfigError, match="y is required"):
        SpectralTruncation("auto").fit(H)
    with pytest.raises(ConfigError, match="y is required"):
        SpectralTruncation("classes").fit(H)
    for bad in (0, "some", 2.5, True):
        with pytest.raises(ConfigError):
            SpectralTruncation(bad).fit(H, y)
    with pytest.raises(ConfigError, match="validation_size"):
        SpectralTruncation(validation_size=1.5).fit(H, y)
    with pytest.raises(ConfigError, match="candidates"):
        SpectralTruncation(candidates=[2, 9]).fit(H, y)
    with pytest.raises(ShapeError):
        SpectralTruncation("auto").fit(H, y[:-1])
    with pytest.raises(ShapeError, match="is_noisy"):
        spectral_probe(H, y, np.zeros(29, dtype=bool))
    with pytest.raises(InputTypeError, match="is_noisy"):
        spectral_probe(H, y, np.full(30, "yes"))
    with pytest.raises(ConfigError, match="dims"):
        spectral_probe(H, y, np.zeros(30, dtype=bool), dims=[0, 2])
    with pytest.raises(ShapeError, match="true_labels"):
        spectral_probe(H, y, np.zeros(30, dtype=bool), true_labels=y[:5])


def test_auto_scores_on_given_validation_examples():
    """With held-out examples, every d is scored there, by a head trained on all of H."""
    H, _, noisy, _, H_test, y_test = _planted(seed=1)
    trunc = SpectralTruncation("auto", candidates=[2, 4, 16]).fit(
        H, noisy, validation=(H_test, y_test)
    )
    assert set(trunc.scores_) == {2, 4, 16}
    coords = (H - trunc.mean_) @ trunc.components_.T
    head = LogisticRegression(max_iter=1000).fit(coords, noisy)
    expected = head.score((H_test - trunc.mean_) @ trunc.components_.T, y_test)
    assert trunc.scores_[trunc.n_components_] == pytest.approx(expected)
    assert trunc.n_components_ == 4  # the planted rank, on clean held-out labels


def test_bad_validation():
    rng = np.random.default_rng(3)
    H, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    with pytest.raises(ConfigError, match="pair"):
        SpectralTruncation("auto").fit(H, y, validation=H)
    with pytest.raises(ShapeError, match="H_val has 3 features"):
        SpectralTruncation("auto").fit(H, y, validation=(H[:, :3], y))
    with pytest.raises(ShapeError):
        SpectralTruncation("auto").fit(H, y, validation=(H, y[:-2]))
