"""Warnings name the caller's line, whichever public path inside labelwise raised them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import labelwise as lw
from labelwise.errors import LabelwiseWarning, RenormalizedWarning, SmallClassWarning
from labelwise.issues import find_label_issues, find_multilabel_issues
from labelwise.issues.audit import audit


def _recorded(category: type[Warning], call) -> list[warnings.WarningMessage]:
    """The warnings of ``category`` that ``call()`` issues, every one kept."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    found = [w for w in record if issubclass(w.category, category)]
    assert found, f"no {category.__name__} was issued"
    return found


def _table_with_an_empty_column() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    size = np.r_[rng.normal(0, 1, 30), rng.normal(4, 1, 30)]
    return pd.DataFrame({"size": size, "blank": np.nan, "kind": ["small"] * 30 + ["large"] * 30})


@pytest.mark.parametrize("entry", [audit, lw.audit], ids=["module", "package"])
def test_audit_names_the_caller_when_it_drops_an_empty_column(entry):
    table = _table_with_an_empty_column()
    options = {"model": "logistic", "cv": 3, "n_bootstrap": 0, "n_jobs": 1, "issue_types": "none"}
    record = _recorded(LabelwiseWarning, lambda: entry(table, "kind", **options))
    assert "no values" in str(record[0].message)
    assert record[0].filename == __file__


def test_multilabel_names_the_caller_for_a_class_too_rare_to_check():
    rng = np.random.default_rng(0)
    labels = [["a"] if i % 2 else ["b"] for i in range(40)]
    labels[0] = ["a", "c"]  # class "c" is given to one example only
    probs = rng.uniform(0.05, 0.95, (40, 3))
    record = _recorded(SmallClassWarning, lambda: find_multilabel_issues(labels, probs))
    assert "'c' (given to 1)" in str(record[0].message)
    assert record[0].filename == __file__


def _drifted_float16(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """float16 probabilities whose rows miss 1 by rounding (less than 1e-3), and labels."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    probs = rng.dirichlet(np.ones(3), n).astype(np.float16)
    sums = probs.astype(np.float64).sum(axis=1)
    assert (np.abs(sums - 1) < 1e-3).all() and (sums != 1).any()
    return labels, probs


@pytest.mark.parametrize(
    "entry", [find_label_issues, lw.find_label_issues], ids=["module", "package"]
)
def test_find_label_issues_names_the_caller_when_it_renormalizes(entry):
    labels, probs = _drifted_float16()
    record = _recorded(RenormalizedWarning, lambda: entry(labels, probs))
    assert record[0].filename == __file__


def test_clean_classifier_fit_names_the_caller_when_it_renormalizes():
    labels, probs = _drifted_float16()
    X = np.random.default_rng(1).normal(size=(labels.size, 2))
    model = lw.CleanClassifier()
    record = _recorded(RenormalizedWarning, lambda: model.fit(X, labels, pred_probs=probs))
    assert record[0].filename == __file__


def test_chunked_reading_names_the_caller_when_it_renormalizes():
    labels, probs = _drifted_float16()
    record = _recorded(RenormalizedWarning, lambda: find_label_issues(labels, probs, chunk_rows=7))
    assert len(record) == 1  # every pass reads the same rows: one warning, on the first
    assert record[0].filename == __file__


def test_find_label_issues_names_the_caller_for_a_class_too_small_to_check():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(30, int), np.ones(30, int), [2]]
    probs = rng.dirichlet(np.ones(3), labels.size)
    record = _recorded(SmallClassWarning, lambda: find_label_issues(labels, probs, method="both"))
    assert len(record) == 1  # found once, though "both" prunes twice
    assert record[0].filename == __file__
