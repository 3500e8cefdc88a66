"""``labelwise budget``: split a labeling budget between cheap noisy and expensive clean labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from labelwise.cli import _report, _ui
from labelwise.errors import ConfigError
from labelwise.study.budget import LabelBudget, label_budget

DEFAULT_OUT = Path("labelwise-budget")
STEM = "label_budget"
#: Columns of the regimes table that hold words, shown left-justified.
TEXT_COLUMNS = ("best_method", "regime")
#: Columns of the regimes table that hold the study's settings rather than accuracies.
SETTINGS = ("budget", "best_fraction")


def _cell(column: str, value: object) -> str:
    """Budgets and shares as given (``40``, ``0.5``); accuracies to three decimals."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:g}" if column in SETTINGS else f"{value:.3f}"


def _table(study: LabelBudget) -> Table:
    title = "Best share of the budget on strong labels"
    return _ui.frame_table(study.regimes(), title, TEXT_COLUMNS, _cell)


def _features_and_labels(
    data: Path | None, label: str | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The features and labels of ``--data``; None for both, to use the bundled dataset."""
    table = _ui.optional_table(data, label)
    if table is None:
        return None, None
    if label not in table.columns:
        raise ConfigError(f"--label {label!r} is not a column of {data}.")
    return table.drop(columns=[label]).to_numpy(dtype=float), table[label].to_numpy()


def budget_command(
    ctx: typer.Context,
    dataset: str = typer.Option("digits", "--dataset", help="Bundled dataset (digits, wine...)."),
    data: Path | None = typer.Option(None, "--data", help="A CSV/Parquet table instead."),
    label: str | None = typer.Option(None, "--label", help="The label column of --data."),
    budgets: str = typer.Option("10,20,40,80,160,320", "--budgets", help="Budgets, strong units."),
    fractions: str = typer.Option(
        "0,0.05,0.2,0.4,0.6,0.8,1", "--fractions", help="Shares of the budget on strong labels."
    ),
    weak_cost: float = typer.Option(0.1, "--weak-cost", help="Cost of one cheap label."),
    strong_cost: float = typer.Option(1.0, "--strong-cost", help="Cost of one clean label."),
    weak: str = typer.Option("model", "--weak", help="Cheap labeler: model or annotator."),
    weak_accuracy: float = typer.Option(0.79, "--weak-accuracy", help="Annotator accuracy."),
    repeats: int = typer.Option(
        3, "--repeats", min=1, help="Runs of each budget and mix, seeded 0, 1, 2..."
    ),
    old_repeats: int | None = typer.Option(None, "--seeds", min=1, hidden=True),
    out: Path = _ui.out_option(DEFAULT_OUT),
) -> None:
    """Train at every budget and weak/strong mix; report regimes and the cost-accuracy frontier.

    Writes label_budget.md, label_budget.csv (every run) and label_budget.png to --out.
    """
    repeats = _ui.renamed_option(ctx, "--repeats", repeats, "--seeds", old_repeats)
    X, y = _features_and_labels(data, label)
    with _ui.spinner("Training every budget and mix"):
        study = label_budget(
            X,
            y,
            dataset=dataset,
            budgets=_ui.numbers(budgets, "--budgets"),
            fractions=_ui.numbers(fractions, "--fractions"),
            weak_cost=weak_cost,
            strong_cost=strong_cost,
            weak_labeler=weak,
            weak_accuracy=weak_accuracy,
            seeds=list(range(repeats)),
        )
    files = {
        f"{STEM}.md": study.to_markdown(),
        f"{STEM}.csv": study.results,
        f"{STEM}.png": study.plot,
    }
    found = f"Weak labels {study.weak_accuracy:.1%} accurate."
    _report.finish_study(out, files, [found, _table(study)], study.seconds)
