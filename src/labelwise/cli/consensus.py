"""``labelwise consensus``: settle disagreeing annotators, rate them, and say what to label next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labelwise import io
from labelwise.annotators import CONSENSUS_METHODS, LONG_COLUMNS, VOTE_FORMATS, Consensus, consensus
from labelwise.cli import _report, _ui
from labelwise.errors import ConfigError, InputError, LabelError

DEFAULT_OUT = Path("labelwise-consensus")
CONSENSUS_FILE = "consensus.csv"
ANNOTATORS_FILE = "annotators.csv"
NEXT_FILE = "relabel_next.csv"
#: Rows of each console table (the files hold every row).
SHOWN = 5
#: Column names that, in a wide table, most likely hold item ids rather than an annotator.
ID_NAMES = ("item", "id", "item_id")
#: Console headers of the result columns.
HEADERS = {"n_votes": "votes", "n_labels": "labels", "worst_class": "worst class"}
TEXT_COLUMNS = ("item", "annotator", "consensus", "worst_class")


# --- reading the votes --------------------------------------------------------------------------


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _as_text(value: Any) -> Any:
    """A cell as text (whole floats without ``.0``: ``1.0`` -> ``"1"``); missing stays missing."""
    if pd.isna(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _each_cell(frame: pd.DataFrame, func: Any) -> pd.DataFrame:
    """``func`` on every cell, as objects (``DataFrame.map`` needs pandas 2.1)."""
    return frame.astype(object).apply(lambda column: column.map(func)).astype(object)


def _same_label_type(frame: pd.DataFrame) -> pd.DataFrame:
    """A wide table whose columns mix numbers and text, all as text.

    A CSV column is parsed on its own: ``1``, ``2`` in one annotator's column become numbers
    (floats where there are gaps), ``cat`` in another's stays text. Mixed, the labels would not
    compare; as text, ``1.0`` and ``"1"`` are the same class.
    """
    filled = [c for c in frame.columns if frame[c].notna().any()]
    numeric = [_is_number_column(frame[c]) for c in filled]
    if all(numeric) or not any(numeric):
        return frame
    return _each_cell(frame, _as_text)


def _wide_votes(table: pd.DataFrame, name: str, index_column: str | None) -> pd.DataFrame:
    """Wide votes indexed by ``--index-column`` if given, their labels of one type."""
    if index_column is not None:
        if index_column not in table.columns:
            found = [str(c) for c in table.columns][:10]
            raise InputError(
                f"--index-column {index_column!r} is not a column of {name} (it has {found})."
            )
        table = table.set_index(index_column)
    else:
        for column in table.columns:
            if str(column).lower() in ID_NAMES:
                _ui.print_warning(
                    f"column {column!r} is read as an annotator; if it holds item ids, give "
                    f"--index-column {column}."
                )
    return _same_label_type(table)


def _is_long(
    table: pd.DataFrame, format_: str, column_options: list[str | None], columns: tuple[str, ...]
) -> bool:
    """Long when asked, when a column option is given, or (auto) when the columns are there."""
    if format_ != "auto":
        return format_ == "long"
    return any(c is not None for c in column_options) or all(c in table.columns for c in columns)


def _check_long(table: pd.DataFrame, name: str, columns: tuple[str, ...], pred_probs: bool) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        found = [str(c) for c in table.columns][:10]
        raise InputError(
            f"long votes need the columns {list(columns)}, but {name} lacks {missing} (it has "
            f"{found}); name yours with --item-column, --annotator-column and --label-column, "
            "or give --format wide for one column per annotator."
        )
    if pred_probs and not pd.api.types.is_integer_dtype(table[columns[0]]):
        raise InputError(
            f"with --pred-probs, the item column {columns[0]!r} of long votes must hold the row "
            "number (0, 1, ...) of each item in the --pred-probs file; give those, or give wide "
            "votes with one row per --pred-probs row."
        )


def _numeric_votes(votes: pd.DataFrame, long: bool, label_column: str) -> bool:
    frame = votes[[label_column]] if long else votes
    return all(_is_number_column(frame[c]) for c in frame.columns)


def _class_names(names: list[str] | None, numeric: bool) -> list | None:
    """``--classes`` is text; compared with numeric votes, integer names become integers."""
    if names is None or not numeric:
        return names
    try:
        return [int(name) for name in names]
    except ValueError:
        return names


def _named(value: Any, names: list[str]) -> Any:
    if pd.isna(value):
        return None
    if not float(value).is_integer() or not 0 <= int(value) < len(names):
        raise LabelError(
            f"votes are numbers, such as {_as_text(value)!r}, but --classes names {len(names)} "
            f"classes; numeric votes must be column codes 0..{len(names) - 1}, or give the "
            "classes as numbers."
        )
    return names[int(value)]


def _codes_as_names(votes: pd.DataFrame, long: bool, label_column: str, names: list) -> Any:
    """Numeric votes with named ``--classes`` are column codes: give each vote its name."""
    if long:
        votes = votes.copy()
        votes[label_column] = votes[label_column].map(lambda v: _named(v, names)).astype(object)
        return votes
    return _each_cell(votes, lambda v: _named(v, names))


def _check_format(format_: str, column_options: list[str | None]) -> None:
    if format_ not in VOTE_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(VOTE_FORMATS)}, got {format_!r}.")
    if format_ == "wide" and any(c is not None for c in column_options):
        raise ConfigError(
            "--item-column, --annotator-column and --label-column name the columns of long "
            "votes; leave them out with --format wide."
        )


# --- the console ---------------------------------------------------------------------------------


def _number(value: Any, form: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{float(value):{form}}"


def _cell(column: Any, value: Any) -> Any:
    # Text, not a str: an annotator named "[bold]x" must be shown as written, not as markup.
    if column in TEXT_COLUMNS:
        return Text("" if value is None or value is pd.NA else str(value))
    if column == "score":  # the gain of one more vote can be tiny: significant digits
        return _number(value, ".3g")
    return _number(value)


def _table(frame: pd.DataFrame, title: str) -> Table:
    return _ui.frame_table(
        frame, title, TEXT_COLUMNS, _cell, name=lambda c: HEADERS.get(c, _ui.header(c))
    )


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def summary_line(result: Consensus) -> str:
    """Items, annotators, votes, classes and method; disagreement, gaps, quality, model weight."""
    votes = int(np.sum(result.n_votes))
    weight = "" if result.model_weight is None else f"; model weight {result.model_weight:.3g}"
    return (
        f"Consensus of [bold]{_count(len(result.labels), 'item')}[/bold] from "
        f"{_count(len(result.annotators), 'annotator')} ({_count(votes, 'vote')}, "
        f"{_count(len(result.classes), 'class', 'classes')}, method "
        f"{result.method}): [bold]{result.n_disputed:,}[/bold] with disagreement, "
        f"{result.n_unvoted:,} with no votes; mean quality "
        f"[bold]{np.nanmean(result.quality):.3f}[/bold]{weight}"
    )


def print_summary(console: Console, result: Consensus, priority: pd.DataFrame | None) -> None:
    """The summary line, the worst annotators, the most doubtful items and what to label next."""
    console.print(summary_line(result), soft_wrap=True)
    worst = result.worst_annotators(SHOWN)
    title = f"{len(worst)} worst of {len(result.annotators)} annotators (lowest quality first)"
    console.print(_table(worst, title))
    doubtful = result.doubtful_items(SHOWN).reset_index()
    columns = ["row", "item", "consensus", "quality", "agreement", "n_votes"]
    title = f"{len(doubtful)} most doubtful of {len(result.labels)} items (lowest quality first)"
    console.print(_table(doubtful[columns], title))
    if priority is not None:
        shown = priority.head(SHOWN)
        title = f"Label next: the top {len(shown)} items (most to gain first)"
        console.print(_table(shown, title))


# --- the command ---------------------------------------------------------------------------------


def consensus_command(
    ctx: typer.Context,
    votes: Path = typer.Argument(
        ...,
        help="Votes (.csv, .tsv, .parquet): wide, one row per item and one column per "
        "annotator, empty where not labeled; or long, one row per vote (item, annotator, label).",
        metavar="VOTES",
        show_default=False,
    ),
    format_: str = typer.Option(
        "auto",
        "--format",
        help="wide, long, or auto (long when VOTES has the item, annotator and label columns).",
    ),
    pred_probs: Path | None = typer.Option(
        None,
        "--pred-probs",
        help="A model's out-of-sample predicted probabilities, one row per item in the order of "
        "VOTES (long votes: the item column holds row numbers), columns in --classes order "
        "(.npy, .csv, .parquet).",
    ),
    classes: str | None = typer.Option(
        None,
        "--classes",
        help="Comma-separated class names, in --pred-probs column order (default: sorted).",
    ),
    method: str = typer.Option(
        CONSENSUS_METHODS[0],
        "--method",
        help="dawid_skene (annotators' confusion matrices, and the model if any), crowdlab "
        "(needs --pred-probs) or majority.",
    ),
    next_: int | None = typer.Option(
        None,
        "--next",
        min=1,
        help="Also write the N items one more vote would help most, to relabel_next.csv.",
        show_default=False,
    ),
    index_column: str | None = typer.Option(
        None, "--index-column", help="Wide votes: the column of item ids (not an annotator)."
    ),
    item_column: str | None = typer.Option(
        None,
        "--item-column",
        help=f"Long votes: the item column ({LONG_COLUMNS[0]!r} if not given).",
    ),
    annotator_column: str | None = typer.Option(
        None,
        "--annotator-column",
        help=f"Long votes: the annotator column ({LONG_COLUMNS[1]!r} if not given).",
    ),
    label_column: str | None = typer.Option(
        None,
        "--label-column",
        help=f"Long votes: the label column ({LONG_COLUMNS[2]!r} if not given).",
    ),
    out: Path = _ui.out_option(DEFAULT_OUT),
) -> None:
    """Settle disagreeing annotators: a consensus label per item, a quality per annotator.

    Writes OUT/consensus.csv (one row per item), OUT/annotators.csv (worst first) and, with
    --next N, OUT/relabel_next.csv (the N items to label next).
    """
    column_options = [item_column, annotator_column, label_column]
    _check_format(format_, column_options)
    if method not in CONSENSUS_METHODS:
        ctx.fail(f"--method must be one of {', '.join(CONSENSUS_METHODS)}, got {method!r}.")
    if method == "crowdlab" and pred_probs is None:
        ctx.fail("--method crowdlab weighs a model against the annotators: give --pred-probs.")
    pairs = zip(column_options, LONG_COLUMNS, strict=True)
    columns = tuple(given or default for given, default in pairs)
    table = io.read_table(votes)
    long = _is_long(table, format_, column_options, columns)
    if long:
        if index_column is not None:
            ctx.fail("--index-column is for wide votes; long votes name theirs --item-column.")
        _check_long(table, votes.name, columns, pred_probs is not None)
    else:
        table = _wide_votes(table, votes.name, index_column)
    probs = io.read_array(pred_probs) if pred_probs is not None else None
    numeric = _numeric_votes(table, long, columns[2])
    names = _class_names(_ui.split_names(classes), numeric)
    if numeric and names and not isinstance(names[0], int):
        table = _codes_as_names(table, long, columns[2], names)
    with _ui.spinner("Settling the consensus"):
        result = consensus(
            table,
            probs,
            method=method,
            format="long" if long else "wide",
            classes=names,
            columns=columns,
        )
        priority = result.relabel_priority(next_) if next_ is not None else None
    # Write first, so that a failed write prints no results that were not kept.
    written = [
        io.write_csv(result.to_frame().reset_index(), out / CONSENSUS_FILE),
        io.write_csv(result.worst_annotators(None), out / ANNOTATORS_FILE),
    ]
    if priority is not None:
        written.append(io.write_csv(priority, out / NEXT_FILE))
    console = _ui.out()
    print_summary(console, result, priority)
    _report.print_paths(console, written)
