"""Counts merge by addition: chunked, Parquet-streamed and Dask checks equal the in-memory one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelwise.errors import DataFileError, InputError
from labelwise.monitor import Monitor, WindowCounts


def make(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[:, 0] += shift
    p = 1 / (1 + np.exp(-(x @ np.array([1.0, 0.5, 0.2]) - 1.5)))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["kind"] = rng.choice(["x", "y"], n)
    frame.loc[rng.uniform(size=n) < 0.05, "b"] = np.nan
    frame["p"] = p
    frame["y"] = rng.binomial(1, p)
    return frame


@pytest.fixture(scope="module")
def monitor():
    return Monitor(n_null=40).fit(
        make(5000, 0), score="p", features=["a", "b", "c", "kind"], label="y", cutoff=0.3
    )


def _close(a, b, where="result"):
    """Equal up to float summation order (chunks add in a different order)."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def _same(first, second):
    a, b = first.to_dict(), second.to_dict()
    a.pop("window"), b.pop("window")
    _close(a, b)


def test_merge_equals_whole(monitor):
    window = make(3000, 1, shift=0.2)
    window.loc[5, "kind"] = "new"
    whole = monitor.counts().update(window)
    parts = [monitor.counts().update(window.iloc[i : i + 700]) for i in range(0, 3000, 700)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    assert isinstance(merged, WindowCounts) and merged.n_rows == 3000
    for key, value in whole.arrays.items():
        np.testing.assert_allclose(merged.arrays[key], value, rtol=1e-12, atol=1e-9)
    assert merged.unseen == {"kind": ["new"]}
    _same(
        Monitor.from_dict(monitor.to_dict()).check(whole),
        Monitor.from_dict(monitor.to_dict()).check(merged),
    )


def test_parquet_stream_equals_in_memory(monitor, tmp_path):
    window = make(4000, 2, shift=0.3)
    path = tmp_path / "window.parquet"
    window.to_parquet(path, row_group_size=1000)
    in_memory = Monitor.from_dict(monitor.to_dict()).check(window)
    streamed = Monitor.from_dict(monitor.to_dict()).check_parquet(path, chunk_rows=333)
    _same(in_memory, streamed)
    with pytest.raises(DataFileError):
        monitor.check_parquet(tmp_path / "missing.parquet")
    window.drop(columns="c").to_parquet(tmp_path / "short.parquet")
    with pytest.raises(InputError, match="'c'"):
        monitor.check_parquet(tmp_path / "short.parquet")


def test_dask_equals_in_memory(monitor):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    window = make(3000, 3, shift=0.3)
    with dask.config.set(scheduler="synchronous"):
        result = Monitor.from_dict(monitor.to_dict()).check_dask(
            dd.from_pandas(window, npartitions=4)
        )
    _same(Monitor.from_dict(monitor.to_dict()).check(window), result)


def test_large_window_thresholds_do_not_depend_on_rows_held(monitor):
    # The null for a million-row window costs the same as for a small one: row weights are drawn
    # over the stored reference sample, never a million rows.
    big = monitor.null_thresholds(1_000_000)
    assert big["n_rows"] == 1_000_000
    assert big["thresholds"]["score_psi"] == pytest.approx(0.1)
    assert big["se"]["bad_rate"] < monitor.null_thresholds(1000)["se"]["bad_rate"] / 10


def test_all_null_draws_at_once_equal_one_at_a_time(monitor):
    from labelwise.monitor._counts import tally, tally_many

    sample = monitor.null_sample_
    rows = len(sample["score_fine"])
    rng = np.random.default_rng(0)
    weights = np.stack([rng.multinomial(700, np.full(rows, 1 / rows)) for _ in range(3)])
    together = tally_many(monitor.layout_, sample, weights.astype(float))
    for d, one_weights in enumerate(weights):
        one = tally(monitor.layout_, sample, one_weights.astype(float))
        assert set(one) == set(together)
        for key in one:
            # The draws are tallied in float32.
            np.testing.assert_allclose(
                one[key], together[key][d], rtol=1e-5, atol=1e-4, err_msg=key
            )


@pytest.mark.parametrize("n_edges", [0, 1, 9, 32, 33, 999])
def test_bin_codes_equal_searchsorted(n_edges):
    from labelwise.monitor._counts import bin_codes

    rng = np.random.default_rng(n_edges)
    for values in (rng.normal(size=5000), rng.integers(0, 4, 5000).astype(float)):
        edges = np.unique(np.quantile(values, np.linspace(0, 1, n_edges + 2)[1:-1]))
        values = values.copy()
        values[:3] = [np.nan, np.inf, -np.inf]
        if len(edges):
            values[3:13] = rng.choice(edges, 10)  # exactly on an edge
        np.testing.assert_array_equal(
            bin_codes(values, edges), np.searchsorted(edges, values, side="left")
        )


def test_categorical_dtype_is_coded_like_text(monitor):
    window = make(500, 4)
    window.loc[[1, 2], "kind"] = ["new", None]
    as_text = monitor.counts().update(window)
    as_category = monitor.counts().update(window.astype({"kind": "category"}))
    np.testing.assert_array_equal(as_text.arrays["feat:kind"], as_category.arrays["feat:kind"])
    assert as_text.unseen == as_category.unseen == {"kind": ["new"]}


def test_threads_do_not_change_results(monitor, tmp_path):
    window = make(6000, 5, shift=0.2)
    path = tmp_path / "window.parquet"
    window.to_parquet(path, row_group_size=1000)
    for source in (window, path):
        results = []
        for n_jobs in (1, 2):
            mon = Monitor.from_dict(monitor.to_dict()).set_params(n_jobs=n_jobs)
            results.append(mon.check(source, window_id="w", chunk_rows=700).to_dict())
        assert results[0] == results[1]


@pytest.mark.parametrize("n", [300, 3_000, 30_000, 300_000])
def test_row_weights_have_multinomial_moments(n):
    from labelwise.monitor._null import row_weights as _row_weights

    t, draws = 1000, 400
    weights = _row_weights(np.random.default_rng(0), n, t, draws)
    assert weights.shape == (draws, t) and (weights >= 0).all()
    lam = n / t
    assert weights.mean() == pytest.approx(lam, rel=0.01)
    assert weights.var() == pytest.approx(lam * (1 - 1 / t), rel=0.05)
    totals = weights.sum(axis=1)
    if lam <= 4 or lam > 25:  # exact and normal draws keep the window's size
        np.testing.assert_allclose(totals, n, rtol=1e-6)
    else:  # Poisson draws: the size varies by about sqrt(n)
        assert totals.std() == pytest.approx(np.sqrt(n), rel=0.15)


@pytest.mark.parametrize("n", [20_000, 200_000])
def test_fast_null_draws_match_exact_multinomial(monitor, n):
    from labelwise.monitor._counts import tally_many
    from labelwise.monitor._null import row_weights as _row_weights

    sample = monitor.null_sample_
    t = len(sample["score_fine"])
    rng = np.random.default_rng(1)
    exact = np.stack([rng.multinomial(n, np.full(t, 1 / t)) for _ in range(400)]).astype(float)
    refs = tally_many(monitor.layout_, sample, np.full((400, t), monitor.n_reference_ / t))
    fast, slow = (
        monitor._statistics(refs, tally_many(monitor.layout_, sample, w), light=True)
        for w in (_row_weights(rng, n, t, 400), exact)
    )
    for name in ("score_psi", "score_ks", "features_max_psi", "entropy_delta", "bad_rate"):
        assert np.quantile(fast[name], 0.95) == pytest.approx(
            np.quantile(slow[name], 0.95), rel=0.15
        ), name
