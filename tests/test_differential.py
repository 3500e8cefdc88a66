"""Differential tests: on the same inputs, labelwise gives the reference tool's answers.

The reference (cleanlab 2.9) is a test dependency only; labelwise never imports it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import labelwise as lw
from tests.conftest import noisy_problems, random_problem

cleanlab_filter = pytest.importorskip("cleanlab.filter")
cleanlab_count = pytest.importorskip("cleanlab.count")
cleanlab_rank = pytest.importorskip("cleanlab.rank")

SHARED_METHODS = [m for m in lw.issues.METHODS if m != "pervasive2021"]


def reference_mask(labels, pred_probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cleanlab_filter.find_label_issues(
            labels, pred_probs, filter_by=method, n_jobs=1, **kwargs
        )


def ours(labels, pred_probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lw.find_label_issues(labels, pred_probs, method=method, **kwargs)


@pytest.mark.parametrize("method", SHARED_METHODS)
@given(problem=noisy_problems())
def test_masks_equal_reference_with_ties(method, problem):
    labels, pred_probs = problem
    assume(len(np.unique(labels)) >= 2)  # the reference refuses a single class
    expected = reference_mask(labels, pred_probs, method)
    np.testing.assert_array_equal(ours(labels, pred_probs, method).mask, expected)


@pytest.mark.parametrize("method", SHARED_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_equal_reference_on_random_data(method, dtype):
    rng = np.random.default_rng(7)
    for n, k in [(2000, 3), (1500, 10), (800, 25)]:
        labels, pred_probs = random_problem(rng, n, k, dtype=dtype)
        expected = reference_mask(labels, pred_probs, method)
        np.testing.assert_array_equal(ours(labels, pred_probs, method).mask, expected)


@pytest.mark.parametrize("frac_noise", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("method", ["prune_by_noise_rate", "prune_by_class", "both"])
def test_frac_noise_equals_reference(method, frac_noise):
    labels, pred_probs = random_problem(np.random.default_rng(3), 1200, 6)
    expected = reference_mask(labels, pred_probs, method, frac_noise=frac_noise)
    got = ours(labels, pred_probs, method, frac_noise=frac_noise).mask
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("minimum", [0, 1, 5, 400])
def test_min_examples_per_class_equals_reference(minimum):
    labels, pred_probs = random_problem(np.random.default_rng(4), 900, 4)
    # Class 3 keeps only its first three rows: a class smaller than most minimums.
    labels[labels == 3] = 0
    labels[:3] = 3
    assert np.count_nonzero(labels == 3) == 3
    expected = reference_mask(
        labels, pred_probs, "prune_by_noise_rate", min_examples_per_class=minimum
    )
    got = ours(labels, pred_probs, "prune_by_noise_rate", min_examples_per_class=minimum).mask
    np.testing.assert_array_equal(got, expected)


def test_num_to_remove_per_class_equals_reference():
    labels, pred_probs = random_problem(np.random.default_rng(5), 1000, 3)
    wanted = [5, 10, 2]
    for method in ["prune_by_noise_rate", "prune_by_class"]:
        expected = reference_mask(labels, pred_probs, method, num_to_remove_per_class=wanted)
        got = ours(labels, pred_probs, method, num_to_remove_per_class=wanted).mask
        np.testing.assert_array_equal(got, expected)


def test_string_labels_match_integer_reference():
    labels, pred_probs = random_problem(np.random.default_rng(6), 1000, 3)
    names = np.array(["ant", "bee", "cat"])
    expected = reference_mask(labels, pred_probs, "prune_by_noise_rate")
    issues = lw.find_label_issues(names[labels], pred_probs)
    np.testing.assert_array_equal(issues.mask, expected)
    assert set(issues.suggested) <= set(names)


@pytest.mark.parametrize("rank_by", lw.issues.SCORE_METHODS)
def test_ranking_follows_reference_order(rank_by):
    labels, pred_probs = random_problem(np.random.default_rng(8), 3000, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cleanlab_filter.find_label_issues(
            labels, pred_probs, n_jobs=1, return_indices_ranked_by=rank_by
        )
    got = lw.find_label_issues(labels, pred_probs, rank_by=rank_by).indices
    # Scores are continuous here, so the order is fully determined.
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("method", lw.issues.SCORE_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scores_equal_reference(method, dtype):
    labels, pred_probs = random_problem(np.random.default_rng(9), 5000, 7, dtype=dtype)
    expected = cleanlab_rank.get_label_quality_scores(labels, pred_probs, method=method)
    got = lw.label_quality_scores(labels, pred_probs, method=method)
    np.testing.assert_array_equal(got, expected)


@given(problem=noisy_problems(max_n=80))
def test_noise_estimate_equals_reference(problem):
    labels, pred_probs = problem
    assume(len(np.unique(labels)) >= 2)
    noise = lw.estimate_noise(labels, pred_probs, n_bootstrap=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joint = cleanlab_count.estimate_joint(labels, pred_probs)
        raw = cleanlab_count.compute_confident_joint(labels, pred_probs, calibrate=False)
        thresholds = cleanlab_count.get_confident_thresholds(labels, pred_probs)
    np.testing.assert_array_equal(noise.joint, joint)
    np.testing.assert_array_equal(noise.confident_joint, raw)
    np.testing.assert_array_equal(noise.thresholds, thresholds)


@given(problem=noisy_problems(max_n=80), method=st.sampled_from(["off_diagonal"]))
def test_low_methods_use_reference_count(problem, method):
    labels, pred_probs = problem
    assume(len(np.unique(labels)) >= 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        count = cleanlab_count.num_label_issues(labels, pred_probs, estimation_method=method)
    assert ours(labels, pred_probs, "low_self_confidence").num_issues == count
