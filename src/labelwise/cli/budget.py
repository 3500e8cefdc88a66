"""``labelwise budget``: split a labeling budget between cheap noisy and expensive clean labels."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from labelwise import io
from labelwise.cli import _ui
from labelwise.errors import ConfigError
from labelwise.study.budget import LabelBudget, label_budget

DEFAULT_OUT = Path("labelwise-budget")
STEM = "label_budget"
#: Columns of the regimes table that hold words, shown left-justified.
TEXT_COLUMNS = ("best_method", "regime")
#: Columns of the regimes table that hold the study's settings rather than accuracies.
SETTINGS = ("budget", "best_fraction")


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"{option} must be numbers separated by commas, got {text!r}.") from None
    if not values:
        raise ConfigError(f"{option} is empty; give a comma-separated list.")
    return values


def _cell(column: str, value: object) -> str:
    """Budgets and shares as given (``40``, ``0.5``); accuracies to three decimals."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:g}" if column in SETTINGS else f"{value:.3f}"


def _table(study: LabelBudget) -> Table:
    regimes = study.regimes()
    table = _ui.ResultTable(title="Best share of the budget on strong labels")
    for column in regimes.columns:
        justify = "left" if column in TEXT_COLUMNS else "right"
        table.add_column(_ui.header(column), justify=justify)
    for row in regimes.itertuples(index=False):
        table.add_row(*(_cell(c, v) for c, v in zip(regimes.columns, row, strict=True)))
    return table


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
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="Directory for the result files."),
) -> None:
    """Train at every budget and weak/strong mix; report regimes and the cost-accuracy frontier.

    Writes label_budget.md, label_budget.csv (every run) and label_budget.png to --out.
    """
    repeats = _ui.renamed_option(ctx, "--repeats", repeats, "--seeds", old_repeats)
    X = y = None
    if (data is None) != (label is None):
        raise ConfigError("--data and --label go together: give both or neither.")
    if data is not None:
        table = io.read_table(data)
        if label not in table.columns:
            raise ConfigError(f"--label {label!r} is not a column of {data}.")
        X, y = table.drop(columns=[label]).to_numpy(dtype=float), table[label].to_numpy()
    with _ui.spinner("Training every budget and mix"):
        study = label_budget(
            X,
            y,
            dataset=dataset,
            budgets=_numbers(budgets, "--budgets"),
            fractions=_numbers(fractions, "--fractions"),
            weak_cost=weak_cost,
            strong_cost=strong_cost,
            weak_labeler=weak,
            weak_accuracy=weak_accuracy,
            seeds=list(range(repeats)),
        )
    written = [
        io.write_text(study.to_markdown(), out / f"{STEM}.md"),
        io.write_csv(study.results, out / f"{STEM}.csv"),
        Path(study.plot(out / f"{STEM}.png")),
    ]
    console = _ui.out()
    console.print(f"Weak labels {study.weak_accuracy:.1%} accurate.")
    console.print(_table(study))
    console.print(f"Ran in {study.seconds:.1f} s. Wrote:")
    for path in written:
        console.print(f"  {path}")
