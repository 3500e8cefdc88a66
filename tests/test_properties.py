"""Properties the engine must have whatever the inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import labelwise as lw
from tests import spec_reading
from tests.conftest import noisy_problems, random_problem

RULE6_METHODS = ["prune_by_noise_rate", "prune_by_class", "both", "confident_learning"]
RULE6_METHODS += ["predicted_neq_given"]


def find(labels, pred_probs, method="prune_by_noise_rate", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lw.errors.SmallClassWarning)
        return lw.find_label_issues(labels, pred_probs, method=method, **kwargs)


@pytest.mark.parametrize("method", RULE6_METHODS)
@given(problem=noisy_problems())
def test_agreeing_prediction_never_flagged(method, problem):
    labels, pred_probs = problem
    issues = find(labels, pred_probs, method)
    assert not issues.mask[pred_probs.argmax(axis=1) == labels].any()


@pytest.mark.parametrize("method", RULE6_METHODS)
@given(problem=noisy_problems(max_n=40))
def test_mask_matches_literal_reading_of_spec(method, problem):
    labels, pred_probs = problem
    expected = spec_reading.flagged(labels, pred_probs, method)
    np.testing.assert_array_equal(find(labels, pred_probs, method).mask, expected)


@given(problem=noisy_problems(max_n=40))
def test_noise_estimate_matches_literal_reading_of_spec(problem):
    labels, pred_probs = problem
    noise = lw.estimate_noise(labels, pred_probs, n_bootstrap=0)
    np.testing.assert_array_equal(
        noise.confident_joint, spec_reading.confident_joint(labels, pred_probs)[0]
    )
    np.testing.assert_array_equal(
        noise.calibrated_joint, spec_reading.calibrated(labels, pred_probs)
    )


@pytest.mark.parametrize("method", lw.issues.METHODS)
@given(problem=noisy_problems(max_k=4), new_name=st.sampled_from(["aardvark", "mm", "zzz"]))
def test_renaming_an_empty_class_changes_nothing(method, problem, new_name):
    labels, pred_probs = problem
    k = pred_probs.shape[1]
    names = np.array([f"c{j}" for j in range(k)])
    padded = np.column_stack([pred_probs, np.zeros(len(labels), pred_probs.dtype)])
    before = find(names[labels], padded, method, classes=[*names, "c_empty"])
    after = find(names[labels], padded, method, classes=[*names, new_name])
    np.testing.assert_array_equal(before.mask, after.mask)
    np.testing.assert_array_equal(before.indices, after.indices)
    np.testing.assert_array_equal(before.scores, after.scores)


@pytest.mark.parametrize("method", lw.issues.METHODS)
@pytest.mark.parametrize("position", [0, 2, 5])
def test_adding_an_empty_class_changes_nothing(method, position):
    # On data without exact ties: with ties among rounding remainders, the reference's tie order
    # (numpy's unstable argsort, which labelwise follows) can depend on the number of columns.
    labels, pred_probs = random_problem(np.random.default_rng(11), 2000, 5)
    padded = np.insert(pred_probs, position, 0.0, axis=1)
    names = ["a", "b", "c", "d", "e"]
    classes = [*names[:position], "empty", *names[position:]]
    plain = find(np.array(names)[labels], pred_probs, method, classes=names)
    moved = find(np.array(names)[labels], padded, method, classes=classes)
    np.testing.assert_array_equal(plain.mask, moved.mask)


@given(problem=noisy_problems())
def test_indices_are_the_flagged_rows_ranked_by_score(problem):
    labels, pred_probs = problem
    issues = find(labels, pred_probs)
    assert set(issues.indices) == set(np.flatnonzero(issues.mask))
    ranked = issues.scores[issues.indices]
    assert np.all(np.diff(ranked) >= 0)
    # Deterministic on ties: equal scores keep row order.
    ties = np.diff(ranked) == 0
    assert np.all(np.diff(issues.indices)[ties] > 0)


@given(problem=noisy_problems())
def test_flagged_rows_suggest_another_class(problem):
    labels, pred_probs = problem
    issues = find(labels, pred_probs)
    flagged = issues.indices
    assert np.all(issues.suggested[flagged] != issues.given[flagged])


@pytest.mark.parametrize("block_rows", [1, 7, 10_000])
def test_results_do_not_depend_on_block_size(block_rows, monkeypatch):
    from labelwise.issues import _counting

    labels, pred_probs = random_problem(np.random.default_rng(12), 3000, 6, dtype=np.float32)
    expected = find(labels, pred_probs).mask
    monkeypatch.setattr(_counting, "BLOCK_ROWS", block_rows)
    np.testing.assert_array_equal(find(labels, pred_probs).mask, expected)


def test_noise_interval_brackets_the_estimate_and_is_seeded():
    labels, pred_probs = random_problem(np.random.default_rng(13), 5000, 4, noise=0.15)
    a = lw.estimate_noise(labels, pred_probs, random_state=1)
    b = lw.estimate_noise(labels, pred_probs, random_state=1)
    lo, hi = a.noise_rate_interval
    assert lo <= a.noise_rate <= hi
    assert 0 < hi - lo < 0.05
    assert a.noise_rate_interval == b.noise_rate_interval
