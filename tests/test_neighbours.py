"""The neighbour search behind the data checks: exact and approximate answers agree."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise import neighbours as nbm
from labelwise.errors import ConfigError
from labelwise.issues.data_issues import find_near_duplicates, find_outliers
from labelwise.neighbours import nearest_neighbours


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(8, d))
    return centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d))


def test_exact_neighbours_match_brute_force():
    Z = clustered(300, 4)
    nb = nearest_neighbours(Z, 5, method="exact")
    full = np.linalg.norm(Z[:, None] - Z[None], axis=2)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(nb.distances, np.sort(full, axis=1)[:, :5])
    assert not (nb.indices == np.arange(300)[:, None]).any() and nb.method == "exact"


def test_approximate_index_finds_nearly_the_same_neighbours():
    Z = clustered(6000, 8)
    exact = nearest_neighbours(Z, 10, method="exact")
    approx = nearest_neighbours(Z, 10, method="approximate")
    assert approx.method == "approximate"
    assert not (approx.indices == np.arange(6000)[:, None]).any()
    assert (np.diff(approx.distances, axis=1) >= 0).all()  # nearest first
    hits = [len(set(a) & set(e)) for a, e in zip(approx.indices, exact.indices, strict=True)]
    assert np.mean(hits) / 10 > 0.9
    ratio = approx.distances.mean(axis=1) / exact.distances.mean(axis=1)
    assert ratio.min() >= 1 - 1e-12 and np.median(ratio) < 1.01


def test_approximate_distances_are_exact_for_the_rows_found():
    Z = clustered(3000, 6)
    Z[100] = Z[7]  # an exact copy: distance 0 exactly, no float32 rounding
    nb = nearest_neighbours(Z, 3, method="approximate")
    assert nb.distances[100, 0] == 0.0 and nb.indices[100, 0] == 7
    rows = np.arange(3000)[:, None]
    np.testing.assert_allclose(nb.distances, np.linalg.norm(Z[nb.indices] - Z[rows], axis=2))


def test_rows_the_index_cannot_fill_are_searched_exactly(monkeypatch):
    Z = clustered(500, 3)
    real = nbm._ivf_candidates

    def short(Z, k, threads):
        found = real(Z, k, threads)
        found[:20, 2:] = -1  # as an index does when a query reaches too few rows
        return found

    monkeypatch.setattr(nbm, "_ivf_candidates", short)
    approx = nearest_neighbours(Z, 5, method="approximate")
    exact = nearest_neighbours(Z, 5, method="exact")
    np.testing.assert_allclose(approx.distances[:20], exact.distances[:20])


def test_auto_is_exact_on_small_data_and_approximate_on_large(monkeypatch):
    monkeypatch.setattr(nbm, "EXACT_MAX_ROWS", 1000)
    assert nearest_neighbours(clustered(1000, 3), 4).method == "exact"
    assert nearest_neighbours(clustered(1001, 3), 4).method == "approximate"


def test_checks_agree_between_exact_and_approximate_search():
    X = clustered(8000, 10, seed=3)
    rng = np.random.default_rng(4)
    copies = rng.choice(8000, 30, replace=False)
    X[copies[15:]] = X[copies[:15]] + 1e-4 * rng.normal(size=(15, 10))
    X[:10] += 25.0  # far outliers
    for find in (find_near_duplicates, find_outliers):
        exact = find(X, neighbours="exact")
        approx = find(X, neighbours="approximate")
        assert (exact.mask == approx.mask).mean() > 0.999
    dup = find_near_duplicates(X, neighbours="approximate")
    assert set(copies) <= set(np.flatnonzero(dup.mask))
    assert set(range(10)) <= set(np.flatnonzero(find_outliers(X, neighbours="approximate").mask))


@pytest.mark.parametrize("bad", [{"method": "fast"}, {"n_jobs": 0}, {"n_jobs": 1.5}])
def test_bad_options_are_named(bad):
    with pytest.raises(ConfigError):
        nearest_neighbours(clustered(50, 2), 3, **bad)
