"""``labelwise consensus``, driven through typer's test runner on tiny vote tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from labelwise import cli
from tests.test_cli import assert_clean_error

CONSENSUS_COLUMNS = ["row", "item", "consensus", "quality", "agreement", "n_votes"]
ANNOTATOR_COLUMNS = ["annotator", "quality", "n_labels", "agreement", "worst_class"]
NEXT_COLUMNS = ["row", "item", "score", "n_votes", "consensus", "quality"]
WIDTH = 80


def invoke(*args: object):
    return CliRunner().invoke(cli.app, [str(a) for a in args], env={"COLUMNS": str(WIDTH)})


def ok(*args: object):
    result = invoke("consensus", *args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def read(path: Path) -> pd.DataFrame:
    # keep_default_na=False would turn gaps into ""; the defaults read them back as NaN.
    return pd.read_csv(path)


def check_files(out: Path, n_items: int, n_annotators: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both files there, with exactly the promised columns, one row per item and annotator."""
    items, annotators = read(out / "consensus.csv"), read(out / "annotators.csv")
    assert list(items.columns) == CONSENSUS_COLUMNS
    assert list(annotators.columns) == ANNOTATOR_COLUMNS
    assert items["row"].tolist() == list(range(n_items))
    assert len(annotators) == n_annotators
    ranked = annotators["quality"].dropna()
    assert ranked.is_monotonic_increasing  # worst first
    return items, annotators


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if set(line) & set("┃│┏┡└")]


@pytest.fixture
def wide_csv(tmp_path) -> Path:
    """String labels with gaps: item ``e`` has no votes, ``same`` says ``cat`` to everything."""
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "ann": ["cat", "dog", "dog", "bird", None, "cat"],
            "bo": ["cat", "dog", None, "bird", None, "dog"],
            "cy": ["cat", None, "dog", "bird", None, "cat"],
            "same": ["cat", "cat", "cat", "cat", None, "cat"],
        }
    )
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def long_csv(tmp_path) -> Path:
    rows = [
        ("x", "ann", "cat"), ("x", "bo", "cat"), ("x", "cy", "dog"),
        ("y", "ann", "dog"), ("y", "bo", "dog"),
        ("z", "cy", "cat"), ("w", "ann", "dog"), ("w", "cy", "dog"),
    ]  # fmt: skip
    path = tmp_path / "long.csv"
    pd.DataFrame(rows, columns=["item", "annotator", "label"]).to_csv(path, index=False)
    return path


@pytest.fixture
def numeric_wide(tmp_path) -> tuple[Path, Path]:
    """Integer class codes with gaps (read back as floats), and pred_probs agreeing with them."""
    votes = pd.DataFrame(
        {
            "a1": [0, 1, 2, 0, None, 1],
            "a2": [0, 1, None, 0, 2, 1],
            "a3": [1, None, 2, 0, 2, 2],
        },
        dtype="Float64",
    )
    votes_path = tmp_path / "codes.csv"
    votes.to_csv(votes_path, index=False)
    probs = np.full((6, 3), 0.1)
    probs[np.arange(6), [0, 1, 2, 0, 2, 1]] = 0.8
    probs_path = tmp_path / "probs.npy"
    np.save(probs_path, probs)
    return votes_path, probs_path


# --- wide ---------------------------------------------------------------------------------------


def test_wide_csv_with_string_labels_and_gaps(wide_csv, tmp_path):
    out = tmp_path / "out"
    result = ok(wide_csv, "--index-column", "id", "-o", out)
    items, annotators = check_files(out, n_items=6, n_annotators=4)
    assert items["item"].tolist() == list("abcdef")
    assert set(items["consensus"]) <= {"cat", "dog", "bird"}
    assert items.loc[:3, "consensus"].tolist() == ["cat", "dog", "dog", "bird"]
    empty = items.set_index("item").loc["e"]
    assert empty["n_votes"] == 0 and np.isnan(empty["agreement"])
    assert items["n_votes"].tolist() == [4, 3, 3, 4, 0, 4]
    same = annotators.set_index("annotator").loc["same"]
    assert same["n_labels"] == 5
    assert "id" not in annotators["annotator"].tolist()
    assert not (out / "relabel_next.csv").exists()
    # The summary line, the two tables, the files written; every table fits 80 columns.
    assert "6 items" in result.stdout and "4 annotators" in result.stdout
    assert "1 with no votes" in result.stdout and "method dawid_skene" in result.stdout
    assert "worst of 4 annotators" in result.stdout and "most doubtful" in result.stdout
    assert result.stdout.count("Wrote ") == 2 and "Label next" not in result.stdout
    assert max(map(cell_len, table_lines(result.stdout))) <= WIDTH
    assert "warning" not in result.stderr


def test_wide_without_index_column_numbers_the_items(wide_csv, tmp_path):
    out = tmp_path / "out"
    result = ok(wide_csv, "-o", out, "--method", "majority")
    items, annotators = check_files(out, n_items=6, n_annotators=5)
    assert items["item"].tolist() == list(range(6))
    assert "id" in annotators["annotator"].tolist()  # not an index unless asked
    assert "--index-column id" in result.stderr  # but the user is told


def test_a_wide_csv_mixing_numbers_and_text_is_read_as_text(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("p,q,r\n1,1,cat\n2,,2\n,cat,cat\n")
    out = tmp_path / "out"
    ok(path, "--format", "wide", "--method", "majority", "-o", out)
    items, _ = check_files(out, n_items=3, n_annotators=3)
    # "1" from a column read as numbers and "1" from a column of text are the same class.
    assert items["consensus"].astype(str).tolist() == ["1", "2", "cat"]
    assert items["agreement"].tolist() == [pytest.approx(2 / 3), 1.0, 1.0]


# --- long ---------------------------------------------------------------------------------------


def test_long_csv(long_csv, tmp_path):
    out = tmp_path / "out"
    result = ok(long_csv, "-o", out)
    items, annotators = check_files(out, n_items=4, n_annotators=3)
    by_item = items.set_index("item")
    assert by_item.loc["y", "consensus"] == "dog" and by_item.loc["z", "n_votes"] == 1
    assert sorted(annotators["annotator"]) == ["ann", "bo", "cy"]
    assert "8 votes" in result.stdout and "2 classes" in result.stdout


def test_long_csv_with_its_own_column_names(long_csv, tmp_path):
    frame = pd.read_csv(long_csv).rename(
        columns={"item": "photo", "annotator": "who", "label": "says"}
    )
    path = tmp_path / "renamed.tsv"
    frame.to_csv(path, sep="\t", index=False)
    out = tmp_path / "out"
    names = ("--item-column", "photo", "--annotator-column", "who", "--label-column", "says")
    ok(path, *names, "-o", out)
    items, _ = check_files(out, n_items=4, n_annotators=3)
    assert sorted(items["item"]) == ["w", "x", "y", "z"]


def test_long_format_asked_but_columns_missing(long_csv, tmp_path):
    frame = pd.read_csv(long_csv).rename(columns={"annotator": "who"})
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    result = invoke("consensus", path, "--format", "long", "-o", tmp_path / "out")
    assert_clean_error(result, "lacks ['annotator']", "--annotator-column", "--format wide")
    assert not (tmp_path / "out").exists()


def test_long_votes_with_pred_probs_need_row_numbers(long_csv, tmp_path):
    np.save(tmp_path / "p.npy", np.full((4, 2), 0.5))
    result = invoke("consensus", long_csv, "--pred-probs", tmp_path / "p.npy", "-o", tmp_path)
    assert_clean_error(result, "row number", "--pred-probs")


# --- a model, classes and what to label next ------------------------------------------------------


def test_pred_probs_with_crowdlab_and_named_classes(numeric_wide, tmp_path):
    votes, probs = numeric_wide
    out = tmp_path / "out"
    result = ok(
        votes, "--pred-probs", probs, "--method", "crowdlab", "--classes", "ant,bee,cat", "-o", out
    )
    items, annotators = check_files(out, n_items=6, n_annotators=3)
    # Numeric votes with named classes are column codes.
    assert items["consensus"].tolist() == ["ant", "bee", "cat", "ant", "cat", "bee"]
    assert set(annotators["worst_class"].dropna()) <= {"ant", "bee", "cat"}
    assert "method crowdlab" in result.stdout and "model weight" in result.stdout


def test_integer_classes_match_numeric_votes(numeric_wide, tmp_path):
    votes, _ = numeric_wide
    out = tmp_path / "out"
    # Class 3 got no votes; --classes still makes it a class.
    result = ok(votes, "--classes", "0,1,2,3", "-o", out)
    items, _ = check_files(out, n_items=6, n_annotators=3)
    assert items["consensus"].tolist() == [0, 1, 2, 0, 2, 1]
    assert "4 classes" in result.stdout and "model weight" not in result.stdout


def test_numeric_votes_beyond_the_named_classes(numeric_wide, tmp_path):
    votes, _ = numeric_wide
    result = invoke("consensus", votes, "--classes", "ant,bee", "-o", tmp_path / "out")
    assert_clean_error(result, "column codes 0..1", "'2'")


def test_crowdlab_needs_pred_probs(numeric_wide, tmp_path):
    votes, _ = numeric_wide
    result = invoke("consensus", votes, "--method", "crowdlab", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "--pred-probs" in result.output
    assert "Traceback" not in result.output


def test_unknown_format_and_method(numeric_wide, tmp_path):
    votes, _ = numeric_wide
    assert_clean_error(invoke("consensus", votes, "--format", "tall"), "--format", "wide")
    result = invoke("consensus", votes, "--method", "vote")
    assert result.exit_code == 2 and "majority" in result.output


def test_next_writes_the_items_to_label_next(wide_csv, tmp_path):
    out = tmp_path / "out"
    result = ok(wide_csv, "--index-column", "id", "--next", "3", "-o", out)
    items, _ = check_files(out, n_items=6, n_annotators=4)
    following = read(out / "relabel_next.csv")
    assert list(following.columns) == NEXT_COLUMNS and len(following) == 3
    assert following["score"].is_monotonic_decreasing and (following["score"] >= 0).all()
    assert set(following["row"]) <= set(items["row"])
    merged = following.merge(items, on="row", suffixes=("", "_all"))
    assert (merged["item"] == merged["item_all"]).all()
    assert "Label next: the top 3 items" in result.stdout
    assert result.stdout.count("Wrote ") == 3 and "relabel_next.csv" in result.stdout


# --- what is printed ----------------------------------------------------------------------------


def test_names_from_the_data_are_printed_literally(tmp_path):
    hostile = "[bold red]x[/]"
    frame = pd.DataFrame(
        {
            hostile: ["[b]cat", "dog", "dog"],
            "<script>": ["[b]cat", "dog", "[b]cat"],
            "ok": ["dog", "dog", None],
        }
    )
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = ok(path, "-o", out)
    assert hostile in result.stdout and "<script>" in result.stdout
    assert "[b]cat" in result.stdout
    _, annotators = check_files(out, n_items=3, n_annotators=3)
    assert set(annotators["annotator"]) == {hostile, "<script>", "ok"}


def test_tables_fit_80_columns_with_long_names(tmp_path):
    long_name = "annotator_from_the_night_shift_" * 4
    frame = pd.DataFrame(
        {
            "photo": [f"{'very_long_directory/' * 4}img_{i}.jpg" for i in range(4)],
            long_name: ["a_class_with_a_rather_long_name", "b", "b", None],
            "bo": ["a_class_with_a_rather_long_name", "b", "a_class_with_a_rather_long_name", "b"],
        }
    )
    path = tmp_path / "long_names.csv"
    frame.to_csv(path, index=False)
    result = ok(path, "--index-column", "photo", "--next", "2", "-o", tmp_path / "out")
    lines = table_lines(result.stdout)
    assert lines and max(map(cell_len, lines)) <= WIDTH, result.stdout
    assert "…" not in result.stdout
