"""The command line reads the same in every command: short flags, help, and tables at 80 columns."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from labelwise import cli
from labelwise.cli import benchmark, benchmark_noise, budget, monitor

WIDTH = 80
ELLIPSIS = "…"
#: Characters of the tables' borders, which mark a line as part of a table.
BORDERS = "┃│┏┡└"


def command_tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group below ``command`` (itself included), with its path of names."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from command_tree(sub, (*path, name))


ROOT = typer.main.get_command(cli.app)
PATHS = [path for path, _ in command_tree(ROOT)]


def short_flag_uses() -> dict[str, set[tuple[str, str]]]:
    """Each short flag (``-m``) -> the (long name, command) pairs that declare it."""
    uses: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path, command in command_tree(ROOT):
        for param in command.params:
            names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            longs = [name for name in names if name.startswith("--")]
            for short in (name for name in names if name[:1] == "-" and name[:2] != "--"):
                uses[short].add((longs[0] if longs else short, " ".join(path) or "labelwise"))
    return uses


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli.app, [str(a) for a in args], env={"COLUMNS": str(WIDTH)})


def render(table: Table, width: int = WIDTH) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.file.getvalue()


def assert_fits(text: str, numbers: Sequence[str] = (), width: int = WIDTH) -> None:
    """No table line wider than ``width``, nothing cut short with "…", every number whole.

    Lines outside tables (``Wrote PATH``) are left whole on purpose, to be copied.
    """
    lines = text.splitlines()
    assert ELLIPSIS not in text, text
    table_lines = [line for line in lines if set(line) & set(BORDERS)]
    assert table_lines and max(map(cell_len, table_lines)) <= width, text
    for number in numbers:
        assert any(number in line for line in lines), f"{number!r} is broken:\n{text}"


def numbers_of(table: Table) -> list[str]:
    """The words of the table's right-justified (numeric) cells."""
    words = []
    for column in table.columns:
        if column.justify == "right":
            for cell in column.cells:
                plain = cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain
                words += plain.split()
    return words


# --- short flags --------------------------------------------------------------------------------


def test_the_walk_sees_every_command():
    assert ("monitor", "fit") in PATHS and ("audit",) in PATHS and ("budget",) in PATHS
    assert {"-o", "-l", "-m", "-j"} <= short_flag_uses().keys()


def test_each_short_flag_means_one_option_everywhere():
    clashes = {
        short: sorted(uses)
        for short, uses in short_flag_uses().items()
        if len({long for long, _ in uses}) > 1
    }
    assert not clashes, f"short flags with several meanings: {clashes}"


def test_each_option_has_at_most_one_short_flag():
    shorts: dict[str, set[str]] = defaultdict(set)
    for short, uses in short_flag_uses().items():
        for long, _ in uses:
            shorts[long].add(short)
    assert not {long: s for long, s in shorts.items() if len(s) > 1}


# --- help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "labelwise")
def test_help_shows_no_bool_and_cuts_nothing_short(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout, result.stdout
    assert ELLIPSIS not in result.stdout, result.stdout


def test_help_paragraphs_wrap_at_the_terminal_width():
    # A docstring's own line breaks would leave a word alone on a line of a narrow terminal.
    for path, command in command_tree(ROOT):
        assert "\n" not in (command.help or "").replace("\n\n", ""), path


# --- budget: --repeats, and its table ------------------------------------------------------------

#: The regimes of a small budget study, as label_budget computes them.
REGIMES = pd.DataFrame(
    {
        "budget": [10.0, 40.0, 320.0],
        "best_fraction": [0.0, 0.5, 1.0],
        "best_method": ["single", "weighted", "sequential"],
        "best_accuracy": [0.7667, 0.84, 0.9611],
        "all_weak": [0.7667, 0.8244, 0.8512],
        "all_strong": [0.4422, 0.8178, 0.9611],
        "mix_margin": [-0.05333, 0.01556, -0.0034],
        "regime": ["quantity-dominant", "mixed", "quality-dominant"],
    }
)


class FakeStudy:
    """What budget_command reads from a study, without training anything."""

    weak_accuracy = 0.799
    seconds = 0.1
    results = pd.DataFrame({"seed": [0]})

    def regimes(self) -> pd.DataFrame:
        return REGIMES.copy()

    def to_markdown(self) -> str:
        return "study\n"

    def plot(self, path: Path) -> Path:
        Path(path).write_bytes(b"")
        return path


@pytest.fixture
def seeds_given(monkeypatch) -> list:
    """The seeds each budget run was asked for."""
    calls: list = []

    def fake(*args, seeds, **kwargs):
        calls.append(seeds)
        return FakeStudy()

    monkeypatch.setattr(budget, "label_budget", fake)
    return calls


def test_budget_repeats_counts_the_seeds(seeds_given, tmp_path):
    result = invoke("budget", "--repeats", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert seeds_given == [[0, 1]]
    assert "deprecated" not in result.stderr


def test_budget_seeds_is_a_deprecated_alias_of_repeats(seeds_given, tmp_path):
    result = invoke("budget", "--seeds", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert seeds_given == [[0]]
    assert "--seeds is deprecated" in result.stderr and "--repeats" in result.stderr
    both = invoke("budget", "--seeds", "1", "--repeats", "2", "--out", tmp_path)
    assert both.exit_code == 2 and "give --repeats only" in both.output
    assert "--seeds" not in invoke("budget", "--help").stdout  # hidden


def test_benchmark_noise_repeats_counts_the_seeds(monkeypatch, tmp_path):
    def stop(**kwargs):
        raise SystemExit(f"seeds={kwargs['seeds']}")

    monkeypatch.setattr(benchmark_noise, "noise_benchmark", stop)
    assert "seeds=[0, 1]" in str(invoke("benchmark-noise", "--repeats", "2").exception)
    old = invoke("benchmark-noise", "--seeds", "3")
    assert "seeds=[0, 1, 2]" in str(old.exception) and "deprecated" in old.stderr


def test_budget_console_fits_80_columns(seeds_given, tmp_path):
    result = invoke("budget", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, numbers=["0.767", "0.840", "0.961", "-0.053", "320"])
    for word in ("fraction", "accuracy", "margin", "regime", "weighted"):
        assert word in result.stdout


def test_budget_table_fits_80_columns():
    table = budget._table(FakeStudy())
    assert_fits(render(table), numbers_of(table))


# --- audit --------------------------------------------------------------------------------------


@pytest.fixture
def long_names_csv(tmp_path) -> Path:
    """Three blobs whose class names are long words, so the issues table is wider than 80."""
    rng = np.random.default_rng(1)
    names = np.array([f"{kind}_with_a_long_descriptive_name" for kind in ("ant", "bee", "cat")])
    codes = np.repeat(np.arange(3), 40)
    xy = np.array([[0, 0], [6, 0], [0, 6]])[codes] + rng.normal(size=(codes.size, 2))
    labels = names[codes]
    labels[[3, 50, 90]] = names[[2, 0, 1]]
    path = tmp_path / "table.csv"
    pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "species": labels}).to_csv(path, index=False)
    return path


def test_audit_console_fits_80_columns(long_names_csv, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        "audit", long_names_csv, "-l", "species", "--cv", "2", "--model", "logistic",
        "--bootstrap", "0", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(out / "label_issues.csv")
    assert_fits(result.stdout, numbers=[str(row) for row in issues["row"].head(20)])
    assert "ant_with_a_long" in result.stdout  # folded, not cut


# --- benchmark, benchmark-noise and monitor tables -----------------------------------------------


def test_benchmark_table_fits_80_columns():
    accuracy = pd.DataFrame(
        {
            "model": ["resnet50_pretrained_on_imagenet", "vgg16"],
            "accuracy_original": [0.91234, 0.90121],
            "accuracy_corrected": [0.93, 0.95],
            "rank_original": pd.array([1, 2], dtype="Int64"),
            "rank_corrected": pd.array([2, 1], dtype="Int64"),
            "accuracy_on_errors": [0.1, 0.3],
            "accuracy_on_rest": [0.95, 0.96],
        }
    )
    table = benchmark._table(SimpleNamespace(accuracy=accuracy))
    text = render(table)
    assert_fits(text, numbers_of(table))
    assert "0.9123" in text and "0.9012" in text


def test_benchmark_noise_table_fits_80_columns():
    methods = ["plain", "clean_classifier", "cleanlab", "spectral_truncation", "oracle"]
    wide = pd.DataFrame(
        {"dataset": ["breast_cancer", "digits"], "noise": ["symmetric", "instance"], "rate": 0.4}
        | {m: [f"0.9{i}2 ± 0.01{i}", f"0.8{i}1 ± 0.02{i}"] for i, m in enumerate(methods)}
    )
    table = benchmark_noise._table(SimpleNamespace(pivot=lambda: wide))
    assert_fits(render(table), numbers_of(table))


def test_monitor_tables_fit_80_columns():
    results = [
        {
            "window": f"2024-03-{day:02d}",
            "start": f"2024-03-{day:02d}T00:00:00",
            "end": f"2024-03-{day + 7:02d}T00:00:00",
            "n_rows": 12_345,
            "composite": 0.8123,
            "severity": "critical",
            "metrics": [{"monitor": "score_drift_monitor", "fired": True}],
        }
        for day in (1, 8, 15)
    ]
    table = monitor.results_table(results, "a_model_with_a_rather_long_name v2")
    text = render(table)
    assert_fits(text, numbers_of(table))
    assert "2024-03-15" in text and "critical" in text
    rows = [
        {"metric": "expected_precision_at_cutoff", "estimated": 0.71, "realized": 0.6,
         "gap": -0.11, "low": 0.65, "high": 0.77, "inside_band": False}
    ]  # fmt: skip
    table = monitor.reconciliation_table(rows, "2024-03-01", 500)
    assert_fits(render(table), numbers_of(table))
