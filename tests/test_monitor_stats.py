"""Statistics of the label-free monitor: PSI, binned KS / Wasserstein, expected AUC, composite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn.metrics import roc_auc_score

from labelwise.errors import ConfigError
from labelwise.monitor import (
    LEVELS,
    MONITORS,
    PRESETS,
    SeverityTracker,
    binned_ks,
    binned_wasserstein,
    composite_score,
    expected_auc,
    g_test_pvalue,
    psi,
    psi_null_mean,
)
from labelwise.monitor._counts import _fine_edges, quantile_edges
from labelwise.monitor._counts import fine_codes as _fine_codes
from labelwise.monitor._stats import bh_reject

PAPER = PRESETS["governance-paper"]


def test_psi_zero_on_identical_and_symmetric():
    a, b = np.array([30.0, 50, 20]), np.array([10.0, 40, 50])
    assert psi(a, a)[0] == 0.0
    assert psi(a, b)[0] == pytest.approx(psi(b, a)[0])
    value, parts = psi(a, b)
    assert (parts >= 0).all() and parts.sum() == pytest.approx(value)


def test_psi_empty_bin_is_finite():
    value, _ = psi(np.array([100.0, 0.0]), np.array([50.0, 50.0]))
    assert np.isfinite(value) and value > 1


def test_psi_null_mean_matches_simulation():
    rng = np.random.default_rng(0)
    n, m, bins = 20_000, 1_000, 10
    shares = np.full(bins, 1 / bins)
    values = [psi(rng.multinomial(n, shares), rng.multinomial(m, shares))[0] for _ in range(300)]
    assert np.mean(values) == pytest.approx(psi_null_mean(bins, n, m), rel=0.15)


def test_g_test_pvalue_uniform_under_null():
    rng = np.random.default_rng(1)
    shares = np.full(5, 0.2)
    p = [
        g_test_pvalue(rng.multinomial(2000, shares), rng.multinomial(500, shares))
        for _ in range(300)
    ]
    assert 0.02 < np.mean(np.array(p) < 0.05) < 0.09


def test_quantile_edges_merge_ties():
    values = np.r_[np.zeros(900), np.linspace(0.1, 1, 100)]
    edges = quantile_edges(values, 10)
    assert edges[0] == 0.0 and np.all(np.diff(edges) > 0)
    assert len(edges) == 2  # eight deciles tie at zero and merge into one edge


def _fine_counts(ref, cur, bins=1000):
    edges = _fine_edges(ref, bins)
    size = len(edges) + 1
    return (
        edges,
        np.bincount(_fine_codes(ref, edges), minlength=size).astype(float),
        np.bincount(_fine_codes(cur, edges), minlength=size).astype(float),
    )


def test_binned_ks_and_wasserstein_close_to_exact():
    rng = np.random.default_rng(2)
    ref = rng.beta(2, 8, 20_000)
    cur = np.clip(rng.beta(2.5, 7, 5_000) * 1.1, 0, 1)
    edges, r, c = _fine_counts(ref, cur)
    exact_ks = sps.ks_2samp(ref, cur).statistic
    assert binned_ks(r, c) == pytest.approx(exact_ks, abs=2e-3)
    lo, hi = edges[0], edges[-1]
    below = (np.maximum(lo - ref, 0).sum(), np.maximum(lo - cur, 0).sum())
    above = (np.maximum(ref - hi, 0).sum(), np.maximum(cur - hi, 0).sum())
    w = binned_wasserstein(r, c, edges, below, above)
    assert w == pytest.approx(sps.wasserstein_distance(ref, cur), rel=0.02)


def test_expected_auc_matches_sklearn_on_labels():
    rng = np.random.default_rng(3)
    score = rng.uniform(size=5000)
    y = rng.binomial(1, score)
    edges = _fine_edges(score, 1000)
    codes = _fine_codes(score, edges)
    counts = np.bincount(codes, minlength=len(edges) + 1).astype(float)
    pos = np.bincount(codes, weights=y, minlength=len(edges) + 1)
    assert expected_auc(counts, pos) == pytest.approx(roc_auc_score(y, score), abs=2e-3)
    # With probabilities as expected labels, the expected AUC of a calibrated score.
    expected = expected_auc(counts, np.bincount(codes, weights=score, minlength=len(counts)))
    assert expected == pytest.approx(roc_auc_score(y, score), abs=0.02)


def test_bh_reject_controls_count():
    assert bh_reject(np.array([]), 0.05).size == 0
    assert bh_reject(np.array([0.04, 0.04, 0.04]), 0.05).all()
    assert not bh_reject(np.array([0.04, 0.5, 0.9]), 0.05).any()


@pytest.mark.parametrize(
    ("fired", "expected"),
    [
        ({"features", "entropy"}, 0.583),
        ({"features", "entropy", "confidence"}, 0.833),
        ({"score", "features", "entropy", "confidence"}, 1.000),
    ],
)
def test_paper_preset_progression(fired, expected):
    # Active weights sum to 0.60: 0.35 / 0.60, 0.50 / 0.60 and 0.60 / 0.60.
    ratios = {
        m: (2.0 if m in fired else 0.5) for m in ("score", "features", "entropy", "confidence")
    }
    assert round(composite_score(ratios, PAPER["weights"], "fired"), 3) == expected


def test_paper_preset_progression_is_unique_for_three():
    weights = PAPER["weights"]
    four = ("score", "features", "entropy", "confidence")
    hits = [
        {a, b, c}
        for i, a in enumerate(four)
        for j, b in enumerate(four[i + 1 :], i + 1)
        for c in four[j + 1 :]
        if round(
            composite_score({m: 2.0 if m in {a, b, c} else 0.0 for m in four}, weights, "fired"), 3
        )
        == 0.833
    ]
    assert hits == [{"features", "entropy", "confidence"}]


def test_paper_cutoffs_grade_the_progression():
    cutoffs = PAPER["cutoffs"]
    tracker = SeverityTracker(cutoffs)
    assert [tracker.step(c) for c in (0.583, 0.833, 1.0)] == ["alert", "critical", "critical"]
    assert SeverityTracker(cutoffs).step(0.3) == "warn"


ratio = st.floats(0, 10, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    ratios=st.fixed_dictionaries({m: ratio for m in MONITORS}),
    which=st.sampled_from(MONITORS),
    bump=st.floats(0, 5, allow_nan=False),
    method=st.sampled_from(["graded", "fired"]),
    weights=st.fixed_dictionaries({m: st.floats(0, 1) for m in MONITORS}),
)
def test_composite_in_unit_interval_and_non_decreasing(ratios, which, bump, method, weights):
    before = composite_score(ratios, weights, method)
    after = composite_score({**ratios, which: ratios[which] + bump}, weights, method)
    assert 0.0 <= before <= 1.0 and 0.0 <= after <= 1.0
    assert after >= before - 1e-12


def test_composite_rejects_unknown_form():
    with pytest.raises(ConfigError):
        composite_score({"score": 1.0}, {"score": 1.0}, "max")


def test_hysteresis_holds_level_near_cutoff():
    t = SeverityTracker((0.1, 0.25, 0.45, 0.65), hysteresis=0.05)
    assert t.step(0.46) == "alert"
    assert t.step(0.42) == "alert"  # within the hysteresis band
    assert t.step(0.39) == "warn"
    assert t.step(0.0) == "ok"


def test_k_of_m_persistence_suppresses_single_spike():
    t = SeverityTracker((0.1, 0.25, 0.45, 0.65), hysteresis=0.0, k=2, m=3)
    levels = [t.step(c) for c in (0.0, 0.9, 0.0, 0.0, 0.9, 0.9)]
    assert levels == ["ok", "ok", "ok", "ok", "ok", "critical"]


def test_tracker_rejects_bad_config():
    with pytest.raises(ConfigError):
        SeverityTracker((0.5, 0.2, 0.3, 0.4))
    with pytest.raises(ConfigError):
        SeverityTracker((0.1, 0.2, 0.3, 0.4), k=3, m=2)
    assert LEVELS[0] == "ok"
