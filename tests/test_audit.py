"""Tests of labelwise.issues.audit: auditing the labels of a table end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import labelwise as lw
from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, LabelwiseWarning
from labelwise.issues.audit import AuditReport, audit

CLASSES = np.array(["ant", "bee", "cat"])
CENTERS = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])


def _table(n: int = 450, n_flips: int = 25, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three clusters plus a categorical hint, string labels, ``n_flips`` labels changed."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 3, n)
    xy = CENTERS[true] + rng.normal(0, 0.7, (n, 2))
    habitat = np.where(true == 2, "home", rng.choice(["field", "hive"], n))
    given = true.copy()
    flipped = rng.choice(n, n_flips, replace=False)
    given[flipped] = (true[flipped] + rng.integers(1, 3, n_flips)) % 3
    table = pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "habitat": habitat, "kind": CLASSES[given]},
        index=[f"id{i}" for i in range(n)],
    )
    table.loc[table.index[::40], "x"] = np.nan  # the default model imputes
    return table, flipped


@pytest.fixture(scope="module")
def flipped_report() -> tuple[AuditReport, np.ndarray, pd.DataFrame]:
    table, flipped = _table()
    return audit(table, "kind", n_bootstrap=200), flipped, table


def test_finds_most_flipped_labels(flipped_report):
    report, flipped, _ = flipped_report
    found = np.intersect1d(report.issues.indices, flipped).size
    assert found / flipped.size > 0.6  # recall
    assert found / report.issues.num_issues > 0.6  # precision


def test_report_fields(flipped_report):
    report, _, table = flipped_report
    assert report.n_rows == len(table)
    assert report.label == "kind"
    assert report.features == ["x", "y", "habitat"]
    assert list(report.classes) == ["ant", "bee", "cat"]
    assert report.pred_probs.shape == (len(table), 3)
    assert report.issues.method == "prune_by_noise_rate"
    assert 0 < report.noise.noise_rate < 0.2
    assert not hasattr(report.model, "classes_")  # the unfitted estimator
    text = repr(report)
    assert "AuditReport(label='kind'" in text and "noise rate" in text


def test_to_frame(flipped_report):
    report, _, table = flipped_report
    frame = report.to_frame()
    assert list(frame.columns) == ["rank", "row", "index", "given", "suggested", "score"]
    assert len(frame) == report.issues.num_issues
    np.testing.assert_array_equal(frame["index"], table.index[frame["row"]])
    np.testing.assert_array_equal(frame["given"], table["kind"].to_numpy()[frame["row"]])
    assert (frame["given"] != frame["suggested"]).all()
    wide = report.to_frame(include_features=True)
    assert list(wide.columns[6:]) == ["x", "y", "habitat"]
    np.testing.assert_array_equal(wide["habitat"], table["habitat"].to_numpy()[frame["row"]])


def test_summary_is_json(flipped_report):
    report, _, _ = flipped_report
    summary = json.loads(json.dumps(report.summary(), allow_nan=False))
    assert summary["n_rows"] == report.n_rows
    assert summary["n_classes"] == 3
    assert summary["classes"] == ["ant", "bee", "cat"]
    assert summary["method"] == "prune_by_noise_rate"
    assert summary["num_issues"] == report.issues.num_issues
    assert summary["issue_share"] == pytest.approx(report.issues.num_issues / report.n_rows)
    lo, hi = summary["noise_rate_interval"]
    assert lo <= summary["noise_rate"] <= hi
    assert summary["expected_issues"] == report.noise.expected_issues
    pair = summary["top_confused_pairs"][0]
    assert set(pair) == {"given", "true", "count", "share_of_given"}


def test_options_pass_through():
    table, _ = _table(150, 8, seed=1)
    calls = []
    report = audit(
        table.fillna(0),
        "kind",
        features=["x", "y"],
        model=LogisticRegression(),
        cv=3,
        method="confident_learning",
        classes=["cat", "bee", "ant"],
        n_bootstrap=0,
        progress=lambda *a: calls.append(a),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert report.features == ["x", "y"]
    assert list(report.classes) == ["cat", "bee", "ant"]
    assert report.issues.method == "confident_learning"
    summary = report.summary()
    assert summary["noise_rate_interval"] == [None, None]
    json.dumps(summary, allow_nan=False)


def test_integer_labels_and_other_models():
    table, flipped = _table(300, 15, seed=2)
    table["kind"] = pd.Index(CLASSES).get_indexer(table["kind"])
    model = RandomForestClassifier(n_estimators=20, random_state=0)
    report = audit(table.fillna(0), "kind", features=["x", "y"], model=model, n_bootstrap=0)
    assert list(report.classes) == [0, 1, 2]
    assert np.intersect1d(report.issues.indices, flipped).size / flipped.size > 0.5
    json.dumps(report.summary(), allow_nan=False)


def test_empty_feature_columns_are_dropped():
    table, _ = _table(150, 5)
    table["blank"] = np.nan
    with pytest.warns(LabelwiseWarning, match="blank"):
        report = audit(table, "kind", cv=3, n_bootstrap=0)
    assert "blank" not in report.features
    table = table[["kind", "blank"]]
    with (
        pytest.raises(InputError, match="no usable feature columns"),
        pytest.warns(LabelwiseWarning),
    ):
        audit(table, "kind")


def test_missing_label_column():
    table, _ = _table(60, 0)
    with pytest.raises(LabelError, match=r"no label column 'knd'.*Did you mean 'kind'.*'habitat'"):
        audit(table, "knd")


def test_missing_labels():
    table, _ = _table(60, 0)
    table.loc[table.index[[3, 9]], "kind"] = None
    with pytest.raises(LabelError, match=r"2 of 60 rows have no label.*'id3'.*dropna"):
        audit(table, "kind")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": ["x", "nope"]}, InputError, "'nope'.*not columns"),
        ({"features": ["x", "kind"]}, InputError, "label column 'kind' is among the features"),
        ({"method": "guess"}, ConfigError, "method='guess'"),
        ({"n_bootstrap": -1}, ConfigError, "n_bootstrap"),
    ],
)
def test_bad_options(kwargs, error, match):
    table, _ = _table(60, 0)
    with pytest.raises(error, match=match):
        audit(table, "kind", **kwargs)


def test_bad_tables():
    with pytest.raises(InputTypeError, match="DataFrame.*read_csv"):
        audit({"kind": ["a"]}, "kind")
    with pytest.raises(InputError, match="no rows"):
        audit(pd.DataFrame({"kind": [], "x": []}), "kind")
    with pytest.raises(InputTypeError, match="one column name"):
        audit(pd.DataFrame({"kind": ["a"], "x": [1]}), ["kind"])


def test_audit_predictions_equals_the_two_separate_calls():
    from labelwise.issues.audit import audit_predictions

    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.full(4, 0.5), size=3000)
    names = np.array(["ant", "bee", "cat", "dog"])
    labels = names[probs.argmax(axis=1)]
    labels[:300] = names[rng.integers(0, 4, 300)]
    report = audit_predictions(labels, probs, n_bootstrap=50, random_state=1)
    issues = lw.find_label_issues(labels, probs)
    noise = lw.estimate_noise(labels, probs, n_bootstrap=50, random_state=1)
    np.testing.assert_array_equal(report.issues.indices, issues.indices)
    np.testing.assert_array_equal(report.noise.calibrated_joint, noise.calibrated_joint)
    assert report.noise.noise_rate_interval == noise.noise_rate_interval
    assert report.model is None and report.n_rows == 3000
    json.dumps(report.summary())
