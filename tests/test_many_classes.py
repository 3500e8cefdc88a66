"""Many classes: the joint is kept sparse, so memory grows with the pairs that occur, not K^2."""

import json
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import labelwise as lw
from labelwise.card import _health
from labelwise.card._health import _shown_noise_matrix
from labelwise.errors import SmallClassWarning
from labelwise.issues import _counting
from labelwise.issues._counting import calibrate_joint
from labelwise.issues.noise import _CellLayout, _noise_rates


def _probs(n: int, k: int, seed: int, sharp: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    probs = rng.random((n, k)) ** sharp
    probs[np.arange(n), labels] += rng.random(n) * probs.max(axis=1) * 2
    probs /= probs.sum(axis=1, keepdims=True)
    return labels, probs


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_noise_estimate_equals_dense(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal, ties between equal rounding remainders included (broken as the dense sort does)."""
    labels, probs = _probs(600, 12, seed)
    dense = lw.estimate_noise(labels, probs, n_bootstrap=0)
    monkeypatch.setattr(_counting, "DENSE_MAX_CLASSES", 3)
    sparse_ = lw.estimate_noise(labels, probs, n_bootstrap=0)
    assert sparse.issparse(sparse_.joint) and isinstance(dense.joint, np.ndarray)
    for name in ("confident_joint", "calibrated_joint"):
        np.testing.assert_array_equal(_dense(getattr(sparse_, name)), getattr(dense, name))
    for name in ("joint", "noise_matrix", "inverse_noise_matrix"):
        np.testing.assert_allclose(_dense(getattr(sparse_, name)), getattr(dense, name))
    np.testing.assert_allclose(sparse_.prior, dense.prior)
    assert sparse_.noise_rate == pytest.approx(dense.noise_rate)
    pd.testing.assert_frame_equal(sparse_.confused_pairs(top=None), dense.confused_pairs(top=None))
    pd.testing.assert_frame_equal(sparse_.class_quality(), dense.class_quality())


METHODS = ["prune_by_noise_rate", "prune_by_class", "both", "pervasive2021"]


@pytest.mark.parametrize("method", METHODS)
def test_sparse_issues_equal_dense(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    labels, probs = _probs(800, 10, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallClassWarning)
        dense = lw.find_label_issues(labels, probs, method=method)
        monkeypatch.setattr(_counting, "DENSE_MAX_CLASSES", 3)
        found = lw.find_label_issues(labels, probs, method=method)
        streamed = lw.find_label_issues(labels, probs, method=method, chunk_rows=97)
    assert dense.num_issues > 0
    np.testing.assert_array_equal(found.mask, dense.mask)
    np.testing.assert_array_equal(streamed.mask, dense.mask)


def test_sparse_removal_counts_equal_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    labels, probs = _probs(500, 8, 4)
    wanted = np.arange(8) % 3
    dense = lw.find_label_issues(labels, probs, num_to_remove_per_class=wanted)
    monkeypatch.setattr(_counting, "DENSE_MAX_CLASSES", 3)
    found = lw.find_label_issues(labels, probs, num_to_remove_per_class=wanted)
    np.testing.assert_array_equal(found.mask, dense.mask)


def _old_noise_rate(cells: np.ndarray) -> float:
    """The dense per-replicate calibration the bootstrap used to run (the definition)."""
    joint = cells[:, :-1].astype(np.int64)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    calibrated = calibrate_joint(joint, cells.sum(axis=1))
    return float(1.0 - np.trace(calibrated) / calibrated.sum())


@pytest.mark.parametrize("k", [2, 5, 30])
def test_bootstrap_replicates_equal_the_dense_calibration(k: int) -> None:
    rng = np.random.default_rng(k)
    n = 40 * k
    shares = rng.dirichlet(np.full(k * (k + 1), 0.3)).reshape(k, k + 1)
    shares[:, :-1] += np.eye(k) * 2
    shares /= shares.sum()
    draws = rng.multinomial(n, shares.ravel(), size=60).reshape(60, k, k + 1)
    stored = sparse.coo_array(np.ones((k, k + 1)))  # every cell stored: any draw fits
    layout = _CellLayout.of(stored.row, stored.col, k)
    flat = draws.reshape(60, -1)[:, stored.row * (k + 1) + stored.col]
    expected = [_old_noise_rate(draw) for draw in draws]
    np.testing.assert_allclose(_noise_rates(flat, layout), expected, atol=1e-12)


def test_bootstrap_interval_brackets_the_estimate() -> None:
    labels, probs = _probs(3000, 6, 5)
    noise = lw.estimate_noise(labels, probs, n_bootstrap=300)
    lo, hi = noise.noise_rate_interval
    assert lo <= noise.noise_rate <= hi
    assert hi - lo < 0.1


def test_ten_thousand_classes_fit_in_little_memory() -> None:
    """10,000 classes x 100 rows once asked for 373 GiB; now it stays far below 2 GB."""
    labels, probs = _probs(100, 10_000, 6, sharp=8)
    probs = probs.astype(np.float32)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallClassWarning)
            noise = lw.estimate_noise(labels, probs, n_bootstrap=200)
            report = lw.audit_predictions(labels, probs, n_bootstrap=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 500 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert sparse.issparse(noise.calibrated_joint)
    assert noise.calibrated_joint.nnz <= 100 + 10_000
    lo, hi = noise.noise_rate_interval
    assert 0 <= lo <= hi <= 1
    pairs = noise.confused_pairs(top=None)
    assert len(pairs) <= 100 and (pairs["count"] > 0).all()
    summary = noise.to_dict()
    assert summary["joint"]["shape"] == [10_000, 10_000]
    assert len(json.dumps(summary)) < 5_000_000
    assert report.noise.noise_rate == pytest.approx(noise.noise_rate)
    assert len(report.quality.pairs) <= 100  # the model's confusion keeps only pairs seen
    names, matrix = _shown_noise_matrix(noise)
    assert len(names) == _health.MATRIX_CLASSES and np.shape(matrix) == (len(names),) * 2


def test_small_classes_get_one_warning() -> None:
    labels, probs = _probs(60, 400, 7)
    with pytest.warns(SmallClassWarning) as caught:
        lw.find_label_issues(labels, probs)
    assert len([w for w in caught if w.category is SmallClassWarning]) == 1
    assert "more" in str(caught[0].message)
