"""Data checks: each planted issue is found, and clean data does not raise it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, ShapeError
from labelwise.issues import data_issues as di
from labelwise.issues.data_issues import (
    ISSUE_TYPES,
    DataIssues,
    IssueResult,
    find_class_imbalance,
    find_data_issues,
    find_near_duplicates,
    find_non_iid,
    find_null_columns,
    find_nulls,
    find_outliers,
    find_underperforming_groups,
    outlier_scores_from_pred_probs,
)


def gaussian(n=400, d=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def with_copies(seed=0):
    """400 Gaussian rows, then 8 exact and 8 near copies of distinct earlier rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6))
    sources = rng.choice(400, size=16, replace=False)
    exact = X[sources[:8]]
    near = X[sources[8:]] + rng.normal(0, 1e-3, size=(8, 6))
    return np.vstack([X, exact, near]), sources


def precision_recall(found: np.ndarray, planted: np.ndarray) -> tuple[float, float]:
    tp = np.sum(found & planted)
    return tp / max(found.sum(), 1), tp / planted.sum()


# ------------------------------------------------------------------------- near duplicates


def test_planted_copies_found_with_their_groups():
    X, sources = with_copies()
    res = find_near_duplicates(X)
    planted = np.zeros(len(X), dtype=bool)
    planted[sources] = True
    planted[400:] = True
    np.testing.assert_array_equal(res.mask, planted)
    copies = np.arange(400, 416)
    np.testing.assert_array_equal(res.details["nearest"].to_numpy()[copies], sources)
    groups = res.details["group"].to_numpy()
    np.testing.assert_array_equal(groups[copies], groups[sources])
    assert len(set(groups[copies])) == 16 and res.extra["n_groups"] == 16
    assert (groups[~planted] == -1).all()
    assert np.all(res.scores[400:408] == 0) and np.all(res.scores[408:] > 0)
    assert res.scores[planted].max() < res.scores[~planted].min()
    assert res.count == 32 and res.is_issue and 0 <= res.score < 1


def test_copies_of_one_row_form_one_group():
    X = gaussian(100)
    X[50] = X[10]
    X[70] = X[10]
    res = find_near_duplicates(X, k=5)
    assert np.flatnonzero(res.mask).tolist() == [10, 50, 70]
    assert res.details["group"].to_numpy()[[10, 50, 70]].tolist() == [0, 0, 0]
    assert "group 0 of 3 rows" in res.details.loc[70, "detail"]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("d", [2, 3, 4, 10])
def test_no_copies_in_continuous_gaussian_data(seed, d):
    res = find_near_duplicates(gaussian(600, d, seed))
    assert res.count == 0 and not res.is_issue and res.score == 1.0


def test_absolute_threshold_overrides_the_adaptive_rule():
    X = gaussian(200)
    assert find_near_duplicates(X, threshold=1e9).mask.all()
    with pytest.raises(ConfigError, match="threshold"):
        find_near_duplicates(X, threshold=-1.0)


def test_all_rows_identical_are_all_copies():
    res = find_near_duplicates(np.ones((20, 3)), k=3)
    assert res.mask.all() and np.all(res.scores == 0)


# ------------------------------------------------------------------------- outliers


def planted_outliers(seed=0, n=500, d=5, n_out=10):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    direction = rng.normal(size=(n_out, d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    far = direction * rng.uniform(8, 12, size=(n_out, 1))
    planted = np.r_[np.zeros(n, bool), np.ones(n_out, bool)]
    return np.vstack([X, far]), planted


@pytest.mark.parametrize("seed", range(3))
def test_planted_outliers_found(seed):
    X, planted = planted_outliers(seed)
    res = find_outliers(X)
    precision, recall = precision_recall(res.mask, planted)
    assert recall == 1.0 and precision >= 0.9
    assert res.scores[planted].max() < np.median(res.scores)
    assert ((res.scores >= 0) & (res.scores <= 1)).all()
    assert res.extra["threshold"] > res.extra["median_distance"]
    frame = res.to_frame()
    assert frame["score"].is_monotonic_increasing


@pytest.mark.parametrize("seed", range(3))
def test_few_outliers_in_clean_gaussian_data(seed):
    assert find_outliers(gaussian(600, 6, seed)).count <= 1


def test_pred_probs_outlier_scores_rank_uncertain_rows_lowest():
    rng = np.random.default_rng(0)
    confident = np.eye(3)[rng.integers(0, 3, 200)] * 0.9 + 0.1 / 3
    spread = np.full((5, 3), 1 / 3) + rng.normal(0, 0.01, (5, 3))
    spread /= spread.sum(axis=1, keepdims=True)
    probs = np.vstack([confident, spread])
    scores = outlier_scores_from_pred_probs(probs)
    assert scores.shape == (205,) and ((scores >= 0) & (scores <= 1)).all()
    assert set(np.argsort(scores)[:5]) == set(range(200, 205))
    names = np.array(["ant", "bee", "cow"])[probs.argmax(axis=1)]
    np.testing.assert_allclose(outlier_scores_from_pred_probs(probs, names), scores)


def test_pred_probs_outlier_scores_adjust_for_a_habitually_unsure_class():
    # Class 1 is always predicted with ~0.6: rows at 0.6 are normal for it, not unusual.
    rows = [[0.95, 0.05]] * 50 + [[0.4, 0.6]] * 50 + [[0.55, 0.45]]
    scores = outlier_scores_from_pred_probs(np.array(rows))
    assert scores[-1] < 0.2
    assert scores[:100].min() == pytest.approx(1.0)


# ------------------------------------------------------------------------- non-iid


# Under random order p < 0.05 for 5% of seeds by design (seed 1 is one); the calibration itself is
# checked over many seeds below.
@pytest.mark.parametrize("seed", range(2, 7))
def test_random_order_is_not_flagged(seed):
    res = find_non_iid(gaussian(300, 4, seed), n_permutations=100, random_state=seed)
    assert res.extra["p_value"] > 0.05 and not res.is_issue and res.count == 0


def test_permutation_p_values_are_calibrated_under_random_order():
    p = np.array(
        [
            find_non_iid(gaussian(150, 3, seed), k=5, n_permutations=50, random_state=seed).extra[
                "p_value"
            ]
            for seed in range(60)
        ]
    )
    assert (p < 0.05).mean() <= 0.12 and 0.3 < np.median(p) < 0.7


def test_sorted_rows_are_flagged():
    X = gaussian(300, 3)
    res = find_non_iid(X[np.argsort(X[:, 0])], n_permutations=100)
    assert res.is_issue and res.extra["p_value"] < 0.02 and res.count == 1
    assert res.score == res.extra["p_value"] and res.mask is None
    frame = res.to_frame()
    assert frame["row"].isna().all() and frame["column"].isna().all()
    assert len(frame) == 1 and "KS" in frame["detail"][0]


def test_drift_over_rows_is_flagged():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4)) + np.linspace(0, 3, 400)[:, None]
    assert find_non_iid(X, n_permutations=100).is_issue


def test_non_iid_needs_a_positive_permutation_count():
    with pytest.raises(ConfigError, match="n_permutations"):
        find_non_iid(gaussian(50), n_permutations=0)


# ------------------------------------------------------------------------- class imbalance


def test_rare_string_class_is_flagged():
    labels = ["cat"] * 480 + ["dog"] * 500 + ["eel"] * 20
    res = find_class_imbalance(labels)
    assert res.extra["rare_classes"] == ["eel"]
    np.testing.assert_array_equal(res.mask, np.arange(1000) >= 980)
    assert res.count == 20 and res.is_issue
    assert res.score == pytest.approx(0.06)
    assert "'eel' holds 2.00% of rows" in res.to_frame()["detail"][0]
    json.dumps(res.extra)


def test_balanced_or_mildly_skewed_labels_are_not_flagged():
    assert find_class_imbalance([0, 1, 2] * 100).count == 0
    assert not find_class_imbalance([0] * 80 + [1] * 20).is_issue
    assert not find_class_imbalance(["only"] * 10).is_issue


def test_imbalance_threshold_is_configurable_and_checked():
    labels = [0] * 90 + [1] * 10
    assert find_class_imbalance(labels, threshold=0.5).count == 10
    with pytest.raises(ConfigError, match="threshold"):
        find_class_imbalance(labels, threshold=0)
    with pytest.raises(LabelError, match="mix types"):
        find_class_imbalance(np.array([1, "a", 2.5], dtype=object))


# ------------------------------------------------------------------------- underperforming groups


def blobs(seed=0, weak_accuracy=None):
    """Three well-separated blobs of 200 rows; the model is right 95% of the time (except
    ``weak_accuracy`` on the third blob)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]])
    X = np.vstack([rng.normal(c, 1, size=(200, 3)) for c in centres])
    labels = rng.choice(np.array(["a", "b", "c"]), size=600)
    acc = np.full(600, 0.95)
    if weak_accuracy is not None:
        acc[400:] = weak_accuracy
    right = rng.random(600) < acc
    pred = np.where(right, labels, np.roll(labels, 1))
    pred = np.where(pred == labels, pred, np.where(labels == "a", "b", "a"))
    probs = np.vstack([(np.array(["a", "b", "c"]) == p) * 0.8 + 0.2 / 3 for p in pred])
    return X, labels, probs


@pytest.mark.parametrize("seed", range(2))
def test_weak_region_is_flagged_and_described(seed):
    X, labels, probs = blobs(seed, weak_accuracy=0.4)
    res = find_underperforming_groups(
        X, labels, probs, n_clusters=3, feature_names=["age", "income", "noise"]
    )
    planted = np.arange(600) >= 400
    precision, recall = precision_recall(res.mask, planted)
    assert precision >= 0.95 and recall >= 0.95
    (group,) = res.extra["groups"]
    assert group["accuracy"] < 0.7 * group["rest_accuracy"]
    assert group["description"].startswith("income +")
    assert res.scores[planted].mean() < res.scores[~planted].mean()
    json.dumps(res.extra)


@pytest.mark.parametrize("seed", range(3))
def test_uniform_accuracy_flags_no_group(seed):
    X, labels, probs = blobs(seed)
    res = find_underperforming_groups(X, labels, probs)  # default cluster count
    assert res.count == 0 and not res.is_issue and 0.7 < res.score <= 1


def test_dataframe_columns_name_the_features():
    X, labels, probs = blobs(0, weak_accuracy=0.3)
    frame = pd.DataFrame(X, columns=["p", "q", "r"])
    res = find_underperforming_groups(frame, labels, probs, n_clusters=3)
    assert res.extra["groups"][0]["description"].startswith("q +")


def test_underperforming_groups_validate_their_options():
    X, labels, probs = blobs(0)
    with pytest.raises(ConfigError, match="n_clusters"):
        find_underperforming_groups(X, labels, probs, n_clusters=1)
    with pytest.raises(ShapeError, match="feature_names"):
        find_underperforming_groups(X, labels, probs, feature_names=["a"])
    with pytest.raises(ShapeError, match="same examples"):
        find_underperforming_groups(X[:-1], labels, probs)


# ------------------------------------------------------------------------- null columns


def test_null_columns_one_record_per_column():
    n = 100
    table = pd.DataFrame(
        {
            "ok": np.arange(n),
            "empty": [None] * n,
            "sparse": [1.0] + [np.nan] * (n - 1),
            "const": ["x"] * n,
            "holey": [np.nan] * 50 + list(range(50)),
        }
    )
    res = find_null_columns(table)
    assert res.mask is None and len(res.columns) == 5
    assert res.columns.set_index("column")["problem"].to_dict() == {
        "ok": "",
        "empty": "empty",
        "sparse": "almost empty",
        "const": "constant",
        "holey": "",
    }
    frame = res.to_frame()
    assert frame["column"].tolist() == ["empty", "const", "sparse"]  # worst score first
    assert frame["row"].isna().all()
    assert res.count == 3 and res.extra["columns"] == ["empty", "sparse", "const"]


def test_nulls_flag_rows_missing_everywhere_and_columns():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    table.iloc[[4, 9], :] = np.nan  # two rows with nothing in them
    table.iloc[11, :2] = np.nan  # partly missing: not flagged
    table["blank"] = np.nan
    res = find_nulls(table)
    assert np.flatnonzero(res.mask).tolist() == [4, 9]
    assert res.scores[11] == pytest.approx(0.25) and res.scores[0] == pytest.approx(0.75)
    assert res.extra["columns"] == ["blank"] and res.count == 3
    frame = res.to_frame()
    assert frame["row"].tolist()[:2] == [4, 9] and frame["column"].tolist()[2] == "blank"
    assert res.summary() | {} == {
        "count": 3,
        "score": pytest.approx(res.score),
        "is_issue": True,
        "rows": 2,
        "columns": 1,
    }


def test_nulls_in_clean_data_find_nothing():
    table = pd.DataFrame(np.random.default_rng(1).normal(size=(40, 4)))
    res = find_nulls(table)
    assert not res.is_issue and res.count == 0 and res.to_frame().empty


def test_null_columns_needs_a_table():
    with pytest.raises(InputTypeError, match="DataFrame"):
        find_null_columns([1, 2, 3])
    assert find_null_columns(np.zeros((4, 2))).count == 2


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "func", [find_near_duplicates, find_outliers, find_non_iid, find_data_issues]
)
def test_feature_checks_reject_bad_x(func):
    X = gaussian(30)
    X[3, 2] = np.nan
    with pytest.raises(InputError, match=r"NaN .*row 3, column 2.*impute"):
        func(X)
    with pytest.raises(ShapeError, match=r"reshape\(-1, 1\)"):
        func(np.arange(10.0))
    with pytest.raises(InputTypeError, match="Encode categorical"):
        func(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ConfigError, match="k <= 29"):
        func(gaussian(30), k=30)
    with pytest.raises(ShapeError, match="at least 2 rows"):
        func(gaussian(1))


def test_find_data_issues_rejects_bad_configuration():
    X = gaussian(50)
    with pytest.raises(ConfigError, match="unknown issue type.*'near_duplicate'"):
        find_data_issues(X, issue_types=["dupes"])
    with pytest.raises(ConfigError, match="unknown option"):
        find_data_issues(X, n_neighbours=5)
    with pytest.raises(ShapeError, match="labels has 49 rows"):
        find_data_issues(X, labels=[0, 1] * 24 + [0])
    with pytest.raises(ShapeError, match="pred_probs has 10 rows"):
        find_data_issues(X, pred_probs=np.full((10, 2), 0.5))


# ------------------------------------------------------------------------- find_data_issues


def test_subset_of_types_and_skipped_reasons():
    X, _ = with_copies()
    res = find_data_issues(X, issue_types=["near_duplicate", "class_imbalance", "null"])
    assert list(res.results) == ["near_duplicate"]
    assert res.skipped == {
        "class_imbalance": "needs labels",
        "null": "needs X as a pandas DataFrame",
    }
    assert "near_duplicate" in res and res["near_duplicate"].count == 32
    assert res.summary()["class_imbalance"] == {"skipped": "needs labels"}


def test_one_neighbour_search_is_shared(monkeypatch):
    calls = []
    real = di.nearest_neighbours

    def counting(Z, k, **kw):
        calls.append(k)
        return real(Z, k, **kw)

    monkeypatch.setattr(di, "nearest_neighbours", counting)
    res = find_data_issues(gaussian(200), issue_types=["near_duplicate", "outlier", "non_iid"])
    assert calls == [10] and list(res.results) == ["near_duplicate", "outlier", "non_iid"]


def test_shared_search_matches_the_single_checks():
    X, planted = planted_outliers()
    X[5] = X[6]
    res = find_data_issues(X, issue_types=["near_duplicate", "outlier"], k=8)
    np.testing.assert_array_equal(res["outlier"].mask, find_outliers(X, k=8).mask)
    np.testing.assert_array_equal(res["near_duplicate"].mask, find_near_duplicates(X, k=8).mask)


def test_everything_at_once_frame_summary_and_repr():
    X, labels, probs = blobs(0, weak_accuracy=0.3)
    X = X.copy()
    X[1] = X[0]
    labels = labels.astype(object)
    labels[:3] = "rare"  # 3 of 600 rows among 4 classes: far below the uniform 25%
    probs = np.column_stack([probs, np.zeros(600)])
    probs[:3] = [0, 0, 0, 1]
    table = pd.DataFrame(X, columns=["u", "v", "w"]).assign(const=1.0)
    res = find_data_issues(table, labels=labels, pred_probs=probs, n_permutations=50, n_clusters=3)
    assert isinstance(res, DataIssues) and list(res.results) == list(ISSUE_TYPES)
    assert all(isinstance(r, IssueResult) for r in res.results.values())
    assert res["null"].extra["columns"] == ["const"]
    assert res["class_imbalance"].extra["rare_classes"] == ["rare"]
    assert res["underperforming_group"].is_issue
    frame = res.to_frame()
    assert {"issue", "row", "score", "detail"} <= set(frame.columns)
    counts = frame["issue"].value_counts().to_dict()
    for name, result in res.results.items():
        assert counts.get(name, 0) == result.count
    summary = res.summary()
    json.dumps(summary)
    assert set(summary) == set(ISSUE_TYPES)
    for entry in summary.values():
        assert set(entry) >= {"count", "score", "is_issue"}
        assert 0 <= entry["score"] <= 1
    assert "p_value" in summary["non_iid"]
    assert repr(res).startswith("DataIssues(near_duplicate=2")
    assert "IssueResult(issue='outlier'" in repr(res["outlier"])


def test_empty_results_give_an_empty_frame():
    res = find_data_issues(gaussian(100), issue_types=["near_duplicate"])
    frame = res.to_frame()
    assert frame.empty and list(frame.columns) == ["issue", "row", "column", "score", "detail"]


def test_labels_only_checks_accept_a_non_numeric_table():
    table = pd.DataFrame({"city": ["a", "b"] * 50, "blank": [None] * 100})
    res = find_data_issues(table, labels=[0] * 99 + [1], issue_types=["null", "class_imbalance"])
    assert res["null"].count == 1 and res["class_imbalance"].count == 1


def test_without_features_outliers_come_from_pred_probs():
    probs = np.array([[0.9, 0.1]] * 40 + [[0.15, 0.85]] * 40 + [[0.5, 0.5], [0.51, 0.49]])
    labels = np.r_[np.zeros(40, int), np.ones(40, int), 0, 1]
    res = find_data_issues(None, labels=labels, pred_probs=probs)
    assert np.flatnonzero(res["outlier"].mask).tolist() == [80, 81]
    assert res["outlier"].extra["source"] == "pred_probs"
    assert res.skipped == {
        "near_duplicate": "needs features",
        "non_iid": "needs features",
        "underperforming_group": "needs features",
        "null": "needs X as a pandas DataFrame",
    }
    assert "class_imbalance" in res


def test_without_anything_to_check_the_error_says_so():
    with pytest.raises(InputError, match="needs something to check"):
        find_data_issues(None)
