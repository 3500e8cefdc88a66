"""The label budget study: quantity-dominant small budgets, quality-dominant large ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from labelwise.cli._ui import LabelwiseGroup
from labelwise.cli.budget import budget_command
from labelwise.errors import ConfigError
from labelwise.study.budget import label_budget, saturating_curve


@pytest.fixture(scope="module")
def regimes_study():
    return label_budget(
        budgets=[10, 40, 320], fractions=[0, 0.5, 1], methods=["sequential"], seeds=[0, 1]
    )


def test_regimes_appear_on_digits(regimes_study):
    """Budget 10: all-weak wins (~0.76 vs ~0.43 all-strong); budget 320: all-strong wins
    (~0.94 vs ~0.80 all-weak, whose pool runs out). Margins measured over seeds 0-2."""
    regimes = regimes_study.regimes().set_index("budget")
    assert regimes.at[10, "regime"] == "quantity-dominant"
    assert regimes.at[320, "regime"] == "quality-dominant"
    assert regimes.at[10, "all_weak"] > regimes.at[10, "all_strong"] + 0.2
    assert regimes.at[320, "all_strong"] > regimes.at[320, "all_weak"] + 0.08
    assert 0.7 < regimes_study.weak_accuracy < 0.85


def test_tidy_results_and_costs(regimes_study):
    frame = regimes_study.results
    assert list(frame.columns) == [
        "budget",
        "fraction",
        "method",
        "seed",
        "n_strong",
        "n_weak",
        "cost",
        "accuracy",
    ]
    small = frame[(frame["budget"] == 10) & (frame["seed"] == 0)].set_index("fraction")
    assert small.loc[0.0, "n_weak"] == 100 and small.loc[1.0, "n_strong"] == 10
    assert small.loc[0.5, ["n_strong", "n_weak"]].tolist() == [5, 50]
    assert (frame["cost"] <= frame["budget"] + 1e-9).all()
    assert any("pool" in note for note in regimes_study.notes)  # 3200 weak labels do not fit


def test_curves_frontier_markdown_plot(regimes_study, tmp_path):
    curves = regimes_study.curves.set_index("source")
    assert curves["n_points"].tolist() == [6, 6]
    assert curves.loc["strong", "a"] > curves.loc["weak", "a"]  # clean labels saturate higher
    frontier = regimes_study.frontier()
    assert frontier["cost"].is_monotonic_increasing and frontier["mean"].is_monotonic_increasing
    text = regimes_study.to_markdown()
    assert "quantity-dominant" in text and "Pareto" in text
    path = regimes_study.plot(tmp_path / "p" / "budget.png")
    assert Path(path).read_bytes()[:4] == b"\x89PNG"


def test_curve_and_bad_input():
    assert saturating_curve(np.array([1.0]), 0.9, 0.5, 1.0)[0] == pytest.approx(0.4)
    with pytest.raises(ConfigError):
        label_budget(budgets=[-1])
    with pytest.raises(ConfigError):
        label_budget(fractions=[1.5])
    with pytest.raises(ConfigError):
        label_budget(budgets=[5], weak_labeler="oracle", seeds=[0])


def test_annotator_and_own_weak_labels():
    study = label_budget(
        dataset="wine", budgets=[5], fractions=[0, 1], weak_labeler="annotator", seeds=[0]
    )
    assert 0.6 < study.weak_accuracy < 0.95
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    own = label_budget(X, y, budgets=[5], fractions=[0, 1], weak_labels=y, seeds=[0])
    assert own.weak_accuracy == 1.0


def test_cli(tmp_path):
    app = typer.Typer(cls=LabelwiseGroup)
    app.command("budget")(budget_command)
    app.command("noop")(lambda: None)
    args = ["budget", "--dataset", "wine", "--budgets", "5,10", "--fractions", "0,0.5,1"]
    result = CliRunner().invoke(app, [*args, "--seeds", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "regime" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "label_budget.csv",
        "label_budget.md",
        "label_budget.png",
    ]
    bad = CliRunner().invoke(app, ["budget", "--budgets", "x", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--budgets" in bad.output


def test_one_seed_shows_no_spread():
    """With one seed there is no standard deviation: no "± 0.000" in the grid."""
    study = label_budget(budgets=[10, 40], fractions=[0, 1], methods=["sequential"], seeds=[0])
    text = study.to_markdown()
    grid = text.split("over seeds")[1].split("Fitted")[0]
    assert "±" not in grid
