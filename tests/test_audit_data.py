"""Data issues found beside the label issues, from Python and from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelwise import cli
from labelwise.errors import ConfigError
from labelwise.issues.audit import audit
from labelwise.issues.data_issues import ISSUE_TYPES

# The planted empty column is dropped from the model's features, with a warning, and reported.
pytestmark = pytest.mark.filterwarnings("ignore:dropping feature columns")


def planted(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, list[int]]:
    """Two separable classes in random order, five near copies appended and an empty column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3))).add_prefix("x")
    frame["colour"] = rng.choice(["red", "blue"], n)
    frame["y"] = np.where(frame["x0"] > 0, "pos", "neg")
    copies = frame.iloc[:5].copy()
    copies[["x0", "x1", "x2"]] += 1e-4
    frame = pd.concat([frame, copies], ignore_index=True)
    frame["notes"] = np.nan
    return frame, [*range(5), *range(n, n + 5)]


def test_audit_finds_planted_copies_and_empty_columns():
    frame, copies = planted()
    report = audit(frame, "y", model="logistic", issue_types="all", n_bootstrap=0)
    found = report.data_issues
    assert sorted(found["near_duplicate"].to_frame()["row"]) == copies
    assert found["null"].to_frame()["column"].tolist() == ["notes"]
    assert not found["non_iid"].is_issue  # the rows are in random order
    assert found["outlier"].count == 0
    summary = report.summary()["data_issues"]
    json.dumps(summary)
    assert summary["near_duplicate"]["count"] == 10 and summary["null"]["is_issue"]


def test_issue_types_choose_the_checks():
    frame, _ = planted(200, seed=1)
    report = audit(frame, "y", model="logistic", issue_types=["null"], n_bootstrap=0)
    assert list(report.data_issues.results) == ["null"]
    none = audit(frame, "y", model="logistic", issue_types="none", n_bootstrap=0)
    assert none.data_issues is None
    default = audit(frame, "y", model="logistic", n_bootstrap=0).data_issues
    assert list(default.results) == list(ISSUE_TYPES)  # every check by default
    with pytest.raises(ConfigError, match="not known"):
        audit(frame, "y", issue_types=["duplicates"])


def test_cli_writes_data_issues_and_summary(tmp_path):
    frame, copies = planted()
    frame.sort_values("x1").to_csv(tmp_path / "t.csv", index=False)  # an ordered table
    args = ["audit", str(tmp_path / "t.csv"), "--label", "y", "--model", "logistic"]
    result = CliRunner().invoke(cli.app, [*args, "--issues", "all", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Data issues" in result.output
    # pandas reads the word "null" as missing unless told otherwise
    issues = pd.read_csv(tmp_path / "data_issues.csv", keep_default_na=False, na_values=[""])
    assert list(issues.columns[:5]) == ["issue", "row", "column", "score", "detail"]
    assert (issues["issue"] == "near_duplicate").sum() == len(copies)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["data_issues"]["non_iid"]["is_issue"] is True
    assert summary["data_issues"]["non_iid"]["p_value"] < 0.05
    assert issues.loc[issues["issue"] == "null", "column"].tolist() == ["notes"]
    result = CliRunner().invoke(cli.app, [*args, "--issues", "copies", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not known" in result.output


def test_cli_runs_every_check_by_default_and_none_on_request(tmp_path):
    frame, _ = planted(300, seed=2)
    frame.to_csv(tmp_path / "t.csv", index=False)
    args = ["audit", str(tmp_path / "t.csv"), "--label", "y", "--model", "logistic"]
    result = CliRunner().invoke(cli.app, [*args, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert list(summary["data_issues"]) == list(ISSUE_TYPES)
    result = CliRunner().invoke(cli.app, [*args, "--issues", "none", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "b" / "data_issues.csv").exists()


def test_a_numeric_target_gets_the_feature_checks(tmp_path):
    frame, copies = planted(400, seed=3)
    frame["y"] = frame["x0"] * 3 + np.random.default_rng(0).normal(size=len(frame))
    report = audit(frame, "y", model="linear", n_bootstrap=0)
    found = report.data_issues
    assert sorted(found["near_duplicate"].to_frame()["row"]) == copies
    assert found.skipped == {
        "class_imbalance": "classification only",
        "underperforming_group": "classification only",
    }
    json.dumps(report.summary()["data_issues"])
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(
        cli.app,
        [
            "audit",
            str(tmp_path / "t.csv"),
            "--label",
            "y",
            "--model",
            "linear",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Data issues" in result.output and (tmp_path / "data_issues.csv").exists()


def test_cli_issues_need_a_table(tmp_path):
    np.save(tmp_path / "y.npy", np.array([0, 1] * 10))
    np.save(tmp_path / "p.npy", np.full((20, 2), 0.5))
    result = CliRunner().invoke(
        cli.app,
        [
            "audit",
            "--labels",
            str(tmp_path / "y.npy"),
            "--pred-probs",
            str(tmp_path / "p.npy"),
            "--issues",
            "all",
        ],
    )
    assert result.exit_code == 2 and "--issues" in result.output
