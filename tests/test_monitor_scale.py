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


# Results of the pinned case below, computed before the encoding, counting and null draws were
# made faster: the same numbers must come out (up to 1e-12 relative).
_PINNED = {
    "same": {
        "composite": 0.0,
        "severity": "ok",
        "metrics": {
            "score/psi": [0.00020069822332539265, 0.1, None, None, False],
            "score/psi_corrected": [0.0, None, None, None, None],
            "score/psi_pvalue": [0.9832303508140483, None, None, None, None],
            "score/ks": [0.005133333333333323, 0.05, None, None, False],
            "score/wasserstein_norm": [0.0045282521098474575, 0.05, None, None, False],
            "features/max_psi": [0.0018835324920425873, 0.1, None, None, False],
            "features/weighted_psi": [0.000789327453213574, 0.05, None, None, False],
            "features/n_shifted": [0.0, None, None, None, None],
            "features/missing_rate_change_max": [0.0017833333333333312, 0.02, None, None, False],
            "features/unseen_share_max": [0.0, None, None, None, None],
            "entropy/mean_entropy": [0.25893491663316986, None, None, None, None],
            "entropy/mean_entropy_reference": [0.25860762946911375, None, None, None, None],
            "entropy/entropy_change": [0.00032728716405611147, 0.01, None, None, False],
            "entropy/near_cutoff_share": [0.06553333333333333, None, None, None, None],
            "entropy/near_cutoff_change": [0.0010333333333333306, 0.02, None, None, False],
            "confidence/ks": [0.004933333333333345, 0.05, None, None, False],
            "performance/expected_bad_rate": [
                0.09801114199029806,
                None,
                0.09237846727132165,
                0.10364381670927447,
                False,
            ],
            "performance/expected_auc": [
                0.8177092581755003,
                None,
                0.8041332440917952,
                0.8312852722592055,
                False,
            ],
            "performance/expected_precision": [
                0.4050199602077514,
                None,
                0.375535490322403,
                0.43450443009309975,
                False,
            ],
            "performance/expected_recall": [
                0.44065019085035984,
                None,
                0.416577627813496,
                0.46472275388722367,
                False,
            ],
            "operational/volume": [30000.0, None, None, None, None],
            "operational/approval_rate": [
                0.8933666666666666,
                None,
                0.8847933008732314,
                0.8988066991267687,
                False,
            ],
            "operational/out_of_range_share": [0.00013333333333333334, 0.01, None, None, False],
            "multivariate/reconstruction_error_change": [
                0.014055672427585209,
                0.1,
                None,
                None,
                False,
            ],
            "multivariate/high_error_share": [0.009733333333333333, None, None, None, None],
        },
        "features": {
            "income": [0.0009161848752709896, 0.278388963670149],
            "debt_to_income": [0.0005963139121292735, 0.6253123134446217],
            "revolving_utilization": [0.0018835324920425873, 0.007225735370496254],
            "delinquencies_2y": [1.7963457259949662e-05, 0.9177251130229331],
            "age": [0.0012771395840008141, 0.08351679464158572],
            "home_ownership": [0.00024260841043953339, 0.5798828252594909],
            "purpose": [0.0006706090805544486, 0.33199477564768204],
            "inquiries_6m": [0.00039169163190754024, 0.3234441995157567],
            "loan_amount": [0.0006987545011322257, 0.49893219159232105],
            "loan_term_months": [6.254700710085015e-05, 0.3998492350795809],
            "credit_history_years": [0.0010828362255682186, 0.16474745998600432],
            "employment_years": [0.0006433210511701255, 0.5620674580654506],
            "open_accounts": [0.0009437786130521775, 0.1264869783947292],
            "verification_status": [8.370526531278133e-05, 0.6300401749917226],
            "public_records": [0.0001805540403980154, 0.1441321400119356],
            "total_credit_limit": [0.000509351343568834, 0.732505234152818],
            "months_since_last_delinquency": [0.0008056467533935415, 0.4696238482940205],
            "mortgage_accounts": [0.0004070587986527326, 0.18287993880504255],
            "application_channel": [0.0001727747831379153, 0.36975738975898736],
            "installment_to_income": [0.0008883912009299499, 0.3019495904043766],
        },
    },
    "moved": {
        "composite": 1.0,
        "severity": "critical",
        "metrics": {
            "score/psi": [0.28316745461655823, 0.1, None, None, True],
            "score/psi_corrected": [0.28241745461655826, None, None, None, None],
            "score/psi_pvalue": [0.0, None, None, None, None],
            "score/ks": [0.23419999999999996, 0.05, None, None, True],
            "score/wasserstein_norm": [1.5614779905910852, 0.05, None, None, True],
            "features/max_psi": [2.324631114912391, 0.1, None, None, True],
            "features/weighted_psi": [0.3090679036307944, 0.05, None, None, True],
            "features/n_shifted": [2.0, None, None, None, None],
            "features/missing_rate_change_max": [0.2451, 0.02, None, None, True],
            "features/unseen_share_max": [0.00036666666666666667, None, None, None, None],
            "entropy/mean_entropy": [0.1963586520731175, None, None, None, None],
            "entropy/mean_entropy_reference": [0.25860762946911375, None, None, None, None],
            "entropy/entropy_change": [0.06224897739599625, 0.01, None, None, True],
            "entropy/near_cutoff_share": [0.04833333333333333, None, None, None, None],
            "entropy/near_cutoff_change": [0.01616666666666667, 0.02, None, None, False],
            "confidence/ks": [0.2288, 0.05, None, None, True],
            "performance/expected_bad_rate": [
                0.30770895142046156,
                None,
                0.3020762767014852,
                0.31334162613943795,
                True,
            ],
            "performance/expected_auc": [
                0.956029565252679,
                None,
                0.9424535511689739,
                0.9696055793363841,
                True,
            ],
            "performance/expected_precision": [
                0.8544697280278856,
                None,
                0.8249852581425372,
                0.8839541979132339,
                True,
            ],
            "performance/expected_recall": [
                0.8632383130013124,
                None,
                0.8391657499644486,
                0.8873108760381762,
                True,
            ],
            "operational/volume": [30000.0, None, None, None, None],
            "operational/approval_rate": [
                0.6891333333333334,
                None,
                0.8847933008732314,
                0.8988066991267687,
                True,
            ],
            "operational/out_of_range_share": [0.23196666666666665, 0.01, None, None, True],
            "multivariate/reconstruction_error_change": [
                0.29668267323337005,
                0.1,
                None,
                None,
                True,
            ],
            "multivariate/high_error_share": [0.018533333333333332, None, None, None, None],
        },
        "features": {
            "income": [2.324631114912391, 0.0],
            "debt_to_income": [0.0038452730586567506, 5.996300619034489e-07],
            "revolving_utilization": [0.3489260950223136, 0.0],
            "delinquencies_2y": [0.011157675899253683, 6.531762494995816e-30],
            "age": [0.0035825022838315347, 2.1443995358095673e-06],
            "home_ownership": [0.0032319660602091464, 7.821511411664006e-08],
            "purpose": [0.005089197793845915, 3.8009896309025907e-10],
            "inquiries_6m": [0.03625000818084005, 6.424901712635576e-93],
            "loan_amount": [0.003621475322731924, 1.7965965739196017e-06],
            "loan_term_months": [0.001491912941301884, 2.3920484271441332e-05],
            "credit_history_years": [0.003964347605604986, 3.086122964693514e-07],
            "employment_years": [0.000678199896013128, 0.5197719786740256],
            "open_accounts": [0.0004504719051268224, 0.6154261002824167],
            "verification_status": [0.00039605604742531947, 0.09680080132317546],
            "public_records": [5.917832883932006e-05, 0.41133031792838515],
            "total_credit_limit": [0.001804434262963539, 0.010149279364215962],
            "months_since_last_delinquency": [0.011728125321110448, 2.4995769867120474e-25],
            "mortgage_accounts": [0.0028594263500829487, 1.7263560402547902e-07],
            "application_channel": [0.018118863848363906, 7.045419104274339e-48],
            "installment_to_income": [0.0006150315638144634, 0.6010750868003303],
        },
    },
}
_PINNED_NULL = {
    30_000: {
        "score_psi": 0.0016249439125514806,
        "score_ks": 0.017283333333333373,
        "score_wasserstein": 0.020620652058942424,
        "entropy_delta": 0.0056114176432291996,
        "near_delta": 0.0048166666666666635,
        "confidence_ks": 0.017349999999999977,
        "out_of_range_share": 0.0,
        "features_max_psi": 0.002526779217845357,
        "features_weighted_psi": 0.0008995947854049884,
        "missing_max_delta": 0.012116666666666664,
        "multivariate_delta": 0.08033498141270101,
    },
    100_000: {
        "score_psi": 0.0010149944056094687,
        "score_ks": 0.00982676949365946,
        "score_wasserstein": 0.017127310316944158,
        "entropy_delta": 0.0031285386389335312,
        "near_delta": 0.004490317963755333,
        "confidence_ks": 0.009936762398696952,
        "out_of_range_share": 0.0,
        "features_max_psi": 0.001484697064686726,
        "features_weighted_psi": 0.0006668149383962667,
        "missing_max_delta": 0.007603736736967903,
        "multivariate_delta": 0.08010645762797397,
    },
    1_000_000: {
        "score_psi": 0.0010965552748318358,
        "score_ks": 0.009389306614457249,
        "score_wasserstein": 0.015745880605821855,
        "entropy_delta": 0.0035786680943727944,
        "near_delta": 0.0047682383385233285,
        "confidence_ks": 0.009876943441276431,
        "out_of_range_share": 0.0,
        "features_max_psi": 0.00154904477855481,
        "features_weighted_psi": 0.0006395267881841026,
        "missing_max_delta": 0.00725677025686744,
        "multivariate_delta": 0.06409229404903372,
    },
}


def _pinned_case():
    """A fitted credit monitor, a window with no change and one with several, edge values in it."""
    from labelwise.monitor.synthetic import CreditSimulator

    sim = CreditSimulator(n_features=20, seed=0)
    monitor = Monitor(categorical=sim.categorical, n_null=50, n_jobs=1).fit(
        sim.sample(20_000, window=0), score="score", features=sim.features, label="bad", cutoff=0.25
    )
    same = sim.sample(30_000, window=7)
    moved = sim.sample(30_000, window=8, covariate_degradation=0.6, temporal_drift=0.4)
    # Scores on the fine grid's edges and at 0 and 1; infinite and edge-valued features; an
    # unseen category.
    moved.loc[:99, "score"] = monitor.layout_.output.fine_edges[::10][:100]
    moved.loc[100:101, "score"] = [0.0, 1.0]
    moved.loc[200:202, "income"] = [np.inf, -np.inf, monitor.layout_.features[0].edges[3]]
    moved["purpose"] = moved["purpose"].cat.add_categories(["boat"])
    moved.loc[300:310, "purpose"] = "boat"
    return monitor, {"same": same, "moved": moved}


def _pinned(actual, expected, where):
    if isinstance(expected, float):
        # 1e-9, not exact: the PCA's BLAS products round differently across numpy builds (the
        # lowest supported numpy differs in the 12th digit); any real change moves far more.
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), where
    else:
        assert actual == expected, where


def test_results_are_pinned():
    # Every statistic, threshold, band and severity of a fixed fit and check, chunked (the fine
    # codes' guide table and the fast calibration map run from 4,096 values on), and the null
    # quantiles from exact, Poisson and normal row weights.
    monitor, windows = _pinned_case()
    for name, window in windows.items():
        result = monitor.check(window, window_id=name, chunk_rows=7_000).to_dict()
        want = _PINNED[name]
        _pinned(result["composite"], want["composite"], f"{name} composite")
        assert result["severity"] == want["severity"], name
        rows = {
            f"{m['monitor']}/{m['metric']}": [m["value"], m["threshold"], m["low"], m["high"]]
            + [m["fired"]]
            for m in result["metrics"]
        }
        assert set(rows) == set(want["metrics"]), name
        for key, values in want["metrics"].items():
            for i, value in enumerate(values):
                _pinned(rows[key][i], value, f"{name} {key}[{i}]")
        table = {
            row["feature"]: [row["psi"], row["pvalue"]] for row in result["details"]["features"]
        }
        assert set(table) == set(want["features"]), name
        for feature, values in want["features"].items():
            for i, value in enumerate(values):
                _pinned(table[feature][i], value, f"{name} {feature}[{i}]")
    for n_rows, quantiles in _PINNED_NULL.items():
        got = monitor.null_thresholds(n_rows)["quantiles"]
        assert set(got) == set(quantiles), n_rows
        for key, value in quantiles.items():
            _pinned(got[key], value, f"null {n_rows} {key}")


def test_guide_table_search_equals_searchsorted():
    from labelwise.monitor._counts import fine_codes, sorted_search

    rng = np.random.default_rng(3)
    grids = [
        np.sort(rng.normal(size=999)),
        np.unique(rng.beta(0.3, 5, 2000)),  # crowded near zero
        np.sort(rng.integers(0, 40, 500).astype(float)),  # repeated edges
        np.sort(np.concatenate([rng.normal(size=300), rng.normal(scale=1e-12, size=300)])),
    ]
    for edges in grids:
        values = np.concatenate(
            [
                rng.uniform(edges[0] - 1, edges[-1] + 1, 20_000),
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
                [np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308],
            ]
        )
        for side in ("left", "right"):
            np.testing.assert_array_equal(
                sorted_search(edges, values, side), np.searchsorted(edges, values, side)
            )
        fine = np.concatenate([[edges[0] - 1], edges, [edges[-1] + 1]])
        expected = np.searchsorted(fine[1:-1], values, side="left") + 1
        expected[values < fine[0]] = 0
        expected[values > fine[-1]] = len(fine)
        np.testing.assert_array_equal(fine_codes(values, fine), expected)
        values[5] = np.nan  # searchsorted puts NaN after every edge
        np.testing.assert_array_equal(sorted_search(edges, values), np.searchsorted(edges, values))


def test_fast_interp_equals_numpy():
    from labelwise.monitor._counts import interp

    rng = np.random.default_rng(4)
    for knots in (np.unique(rng.uniform(0, 1, 200)), np.sort(rng.integers(0, 50, 300) * 0.01)):
        heights = np.sort(rng.uniform(0, 1, knots.size))
        x = np.concatenate([rng.uniform(-0.1, 1.1, 20_000), knots, np.nextafter(knots, 2)])
        np.testing.assert_array_equal(interp(x, knots, heights), np.interp(x, knots, heights))
        x[7] = np.nan
        np.testing.assert_array_equal(interp(x, knots, heights), np.interp(x, knots, heights))
