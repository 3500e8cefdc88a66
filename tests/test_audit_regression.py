"""Auditing a numeric target end to end: the task is detected, the model chosen, rows flagged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from typer.testing import CliRunner

from labelwise import cli
from labelwise.errors import ConfigError, InputTypeError
from labelwise.issues.audit import AuditReport, audit
from labelwise.issues.audit_regression import RegressionAuditReport, detect_task


def steps(n: int = 800, seed: int = 0, corrupt: int = 20) -> tuple[pd.DataFrame, np.ndarray]:
    """A price set by a threshold and a category, with a few prices replaced by wrong ones."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "area": rng.uniform(20, 200, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "noise": rng.normal(size=n),
        }
    )
    base = np.where(frame["area"] > 100, 300.0, 150.0) + frame["city"].map(
        {"paris": 100.0, "lyon": 20.0, "nice": 50.0}
    )
    frame["price"] = base + rng.normal(0, 5, n)
    wrong = rng.choice(n, size=corrupt, replace=False)
    frame.loc[wrong, "price"] += rng.choice([-1, 1], corrupt) * rng.uniform(60, 150, corrupt)
    return frame, np.sort(wrong)


def test_task_detection():
    assert detect_task(pd.Series(load_diabetes().target))[0] == "regression"
    assert detect_task(pd.Series(np.arange(10).repeat(30)))[0] == "classification"
    assert detect_task(pd.Series([1.5, 2.5] * 50))[0] == "classification"
    assert (
        detect_task(pd.Series(np.r_[np.arange(100), np.arange(100)] % 100).astype(str))[0]
        == "classification"
    )
    # 100 integer classes over 50,000 rows stay classes (fewer than sqrt(n) distinct values).
    assert detect_task(pd.Series(np.arange(50_000) % 100))[0] == "classification"


def test_corrupted_targets_are_found():
    frame, wrong = steps()
    report = audit(frame, "price")
    assert isinstance(report, RegressionAuditReport)
    assert "boosting" in report.model_choice.members
    flagged = report.issues.indices
    assert set(wrong) <= set(flagged[: len(wrong) + 5])
    table = report.to_frame()
    assert list(table.columns[:6]) == ["rank", "row", "index", "given", "suggested", "score"]
    assert report.quality.r2 > 0.8 and report.trusted
    assert abs(report.issues.noise_rate - len(wrong) / len(frame)) < 0.02
    summary = report.summary()
    json.dumps(summary)
    assert summary["task"] == "regression" and summary["num_issues"] == report.issues.num_issues
    assert "regression target" in summary["task_reason"]


def test_task_can_be_forced_either_way():
    frame, _ = steps(300)
    frame["grade"] = pd.qcut(frame["price"], 12, labels=False)  # integer grades 0..11
    assert isinstance(audit(frame, "grade", model="boosting", n_bootstrap=0), AuditReport)
    forced = audit(frame.drop(columns="price"), "grade", task="regression", model="linear")
    assert isinstance(forced, RegressionAuditReport) and forced.model_name == "linear"
    with pytest.raises(InputTypeError, match="numeric label"):
        audit(frame.assign(city_label=frame["city"]), "city_label", task="regression")
    with pytest.raises(ConfigError, match="task"):
        audit(frame, "price", task="ranking")


def test_regressor_by_path_and_doubt_on_an_unpredictable_target():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    report = audit(frame, "y", model="sklearn.linear_model:HuberRegressor")
    assert report.model_name == "sklearn.linear_model:HuberRegressor"
    assert not report.trusted and "variance" in report.quality.doubts[0]
    with pytest.raises(ConfigError, match="not a scikit-learn regressor"):
        audit(frame, "y", model="sklearn.naive_bayes:GaussianNB")


def test_cli_audits_a_regression_target(tmp_path):
    frame, wrong = steps(400, corrupt=8)
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        cli.app, ["audit", str(path), "--label", "price", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "Task: regression" in result.output and "R²" in result.output
    issues = pd.read_csv(tmp_path / "label_issues.csv")
    assert list(issues.columns[:5]) == ["rank", "row", "given", "suggested", "score"]
    assert set(wrong) <= set(issues["row"])
    document = json.loads((tmp_path / "noise.json").read_text())
    assert document["task"] == "regression"
    assert [c["name"] for c in document["summary"]["model_choice"]["candidates"]] == [
        "linear",
        "boosting",
        "knn",
    ]
    result = CliRunner().invoke(
        cli.app, ["audit", str(path), "--label", "price", "--task", "sorting"]
    )
    assert result.exit_code == 2 and "--task" in result.output
