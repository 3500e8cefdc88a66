"""Differential tests: labelwise's CROWDLAB and majority vote give cleanlab 2.9's answers.

Inputs are drawn with many ties (coarse probabilities, few classes, gaps in the votes). Where
cleanlab would break a tie at random, it warns, and the case is left out: labelwise takes the
first tied class there instead, so its answer is reproducible.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import labelwise as lw

multiannotator = pytest.importorskip("cleanlab.multiannotator")


@st.composite
def crowd_problems(draw, max_items: int = 30, max_annotators: int = 6, max_classes: int = 4):
    n = draw(st.integers(3, max_items))
    m = draw(st.integers(2, max_annotators))
    k = draw(st.integers(2, max_classes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    wide = np.where(rng.random((n, m)) < 0.6, rng.integers(k, size=(n, m)), np.nan)
    empty = np.isnan(wide).all(axis=1)
    wide[empty, rng.integers(m)] = rng.integers(k, size=int(empty.sum()))
    wide = wide[:, ~np.isnan(wide).all(axis=0)]
    probs = rng.dirichlet(np.ones(k), size=n)
    if draw(st.booleans()):  # a coarse grid: many exact ties between classes
        probs = np.round(probs * 4) + 0.5
        probs /= probs.sum(axis=1, keepdims=True)
    return pd.DataFrame(wide), probs


def _reference(call, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(*args, **kwargs)
        except ValueError:
            # cleanlab fails when every item is tied (it then draws from an empty choice);
            # labelwise answers there, as test_every_item_tied checks.
            assume(False)
    assume(not any("random" in str(w.message) for w in caught))
    return result


@given(problem=crowd_problems())
def test_majority_vote_matches_cleanlab(problem):
    wide, probs = problem
    reference = _reference(multiannotator.get_majority_vote_label, wide, probs, verbose=False)
    ours = lw.consensus(wide, probs, method="majority", classes=range(probs.shape[1]))
    np.testing.assert_array_equal(ours.labels, reference)


@given(problem=crowd_problems())
def test_crowdlab_matches_cleanlab(problem):
    wide, probs = problem
    assume((wide.notna().sum(axis=1) >= 2).any())
    reference = _reference(
        multiannotator.get_label_quality_multiannotator,
        wide,
        probs,
        verbose=False,
        return_weights=True,
    )
    ours = lw.consensus(wide, probs, method="crowdlab", classes=range(probs.shape[1]))
    quality = reference["label_quality"]
    np.testing.assert_array_equal(ours.labels, quality["consensus_label"])
    np.testing.assert_allclose(ours.quality, quality["consensus_quality_score"], rtol=1e-12)
    np.testing.assert_allclose(ours.agreement, quality["annotator_agreement"])
    assert ours.model_weight == pytest.approx(reference["model_weight"], rel=1e-12)
    stats = reference["annotator_stats"].sort_index()
    table = ours.annotators
    np.testing.assert_allclose(table["quality"], stats["annotator_quality"], rtol=1e-9)
    np.testing.assert_allclose(table["agreement"], stats["agreement_with_consensus"])
    np.testing.assert_array_equal(table["n_labels"], stats["num_examples_labeled"])
    np.testing.assert_array_equal(table["worst_class"].astype(int), stats["worst_class"])


def test_every_item_tied():
    """Where cleanlab's majority vote fails (no item has an untied majority to judge the voters
    by), labelwise's ties go to the model, then to the rarer class, then to the first."""
    wide = pd.DataFrame([[0, 1], [1, 0], [2, 3]], dtype=float)
    probs = np.full((3, 4), 0.25)
    with pytest.raises(ValueError):
        multiannotator.get_majority_vote_label(wide, probs, verbose=False)
    labels = lw.consensus(wide, probs, method="majority", classes=range(4)).labels
    assert labels.tolist() == [0, 0, 2]
