"""Reading data files and writing result files atomically."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from labelwise import io
from labelwise.errors import DataFileError


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {"x": [0.5, 1.5, 2.5], "n": [1, 2, 3], "label": ["cat", "dog", "cat"]},
    )


def leftovers(folder) -> list[str]:
    """Temporary files an atomic write left behind."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- read_table --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet", "t.pq"])
def test_read_table_round_trips(tmp_path, table, name):
    path = tmp_path / name
    if path.suffix in (".csv", ".tsv"):
        table.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    else:
        table.to_parquet(path, index=False)
    back = io.read_table(path)
    assert back.columns.tolist() == ["x", "n", "label"]
    np.testing.assert_allclose(back["x"], table["x"])
    assert back["label"].tolist() == ["cat", "dog", "cat"]


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_read_table_selects_columns_in_order(tmp_path, table, name):
    path = tmp_path / name
    table.to_csv(path, index=False) if name.endswith(".csv") else table.to_parquet(path)
    back = io.read_table(path, columns=["label", "x"])
    assert back.columns.tolist() == ["label", "x"]


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_read_table_names_a_missing_column(tmp_path, table, name):
    path = tmp_path / name
    table.to_csv(path, index=False) if name.endswith(".csv") else table.to_parquet(path)
    with pytest.raises(DataFileError, match="no column 'y'.*'label'"):
        io.read_table(path, columns=["x", "y"])


def test_read_table_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        io.read_table(tmp_path / "absent.csv")


def test_read_table_unknown_suffix_lists_known_ones(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(DataFileError, match=r"\.xlsx.*\.csv, \.tsv, \.parquet, \.pq"):
        io.read_table(path)


def test_read_table_unparsable_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet at all")
    with pytest.raises(DataFileError, match="could not read"):
        io.read_table(path)


def test_data_file_error_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        io.read_table(tmp_path / "absent.parquet")


# --- read_array --------------------------------------------------------------------------------


def test_read_array_npy_and_mmap(tmp_path):
    probs = np.random.default_rng(0).dirichlet([1, 1, 1], size=5)
    np.save(tmp_path / "p.npy", probs)
    np.testing.assert_array_equal(io.read_array(tmp_path / "p.npy"), probs)
    mapped = io.read_array(tmp_path / "p.npy", mmap_mode="r")
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, probs)


@pytest.mark.parametrize("writer", ["savetxt", "pandas_named", "pandas_unnamed"])
def test_read_array_csv_with_or_without_header(tmp_path, writer):
    probs = np.random.default_rng(1).dirichlet([1, 1, 1], size=4)
    path = tmp_path / "p.csv"
    if writer == "savetxt":
        np.savetxt(path, probs, delimiter=",")
    elif writer == "pandas_named":
        pd.DataFrame(probs, columns=["a", "b", "c"]).to_csv(path, index=False)
    else:  # header "0,1,2": DataFrame.to_csv's names for unnamed columns
        pd.DataFrame(probs).to_csv(path, index=False)
    back = io.read_array(path)
    assert back.shape == (4, 3)
    np.testing.assert_allclose(back, probs)


def test_read_array_parquet(tmp_path):
    probs = np.random.default_rng(2).dirichlet([1, 1], size=6)
    pd.DataFrame(probs, columns=["no", "yes"]).to_parquet(tmp_path / "p.parquet")
    np.testing.assert_allclose(io.read_array(tmp_path / "p.parquet"), probs)


def test_read_array_refuses_text_columns(tmp_path):
    pd.DataFrame({"id": ["a", "b"], "p": [0.1, 0.2]}).to_parquet(tmp_path / "p.parquet")
    with pytest.raises(DataFileError, match="only numbers.*'id'"):
        io.read_array(tmp_path / "p.parquet")


def test_read_array_refuses_object_npy(tmp_path):
    np.save(tmp_path / "o.npy", np.array(["a", None], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="Python objects"):
        io.read_array(tmp_path / "o.npy")


# --- read_labels -------------------------------------------------------------------------------


def test_read_labels_txt_keeps_strings(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("cat\ndog \n007\n\n", encoding="utf-8")
    labels = io.read_labels(path)
    assert labels.tolist() == ["cat", "dog", "007"]
    assert labels.dtype.kind == "U"


def test_read_labels_txt_whole_numbers_are_codes(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("0\n2\n1\n")
    labels = io.read_labels(path)
    assert labels.dtype.kind == "i"
    assert labels.tolist() == [0, 2, 1]


def test_read_labels_txt_refuses_blank_lines(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("cat\n\ndog\n")
    with pytest.raises(DataFileError, match="empty line at line 2"):
        io.read_labels(path)


def test_read_labels_npy_strings(tmp_path):
    np.save(tmp_path / "l.npy", np.array(["b", "a", "b"]))
    assert io.read_labels(tmp_path / "l.npy").tolist() == ["b", "a", "b"]


def test_read_labels_npy_must_be_one_per_example(tmp_path):
    np.save(tmp_path / "l.npy", np.zeros((3, 2)))
    with pytest.raises(DataFileError, match=r"shape \(3, 2\)"):
        io.read_labels(tmp_path / "l.npy")


def test_read_labels_csv(tmp_path):
    pd.DataFrame({"label": ["x", "y"]}).to_csv(tmp_path / "named.csv", index=False)
    assert io.read_labels(tmp_path / "named.csv").tolist() == ["x", "y"]
    np.savetxt(tmp_path / "codes.csv", [0, 1, 1], fmt="%d")
    assert io.read_labels(tmp_path / "codes.csv").tolist() == [0, 1, 1]


def test_read_labels_csv_keeps_missing_values_visible(tmp_path):
    (tmp_path / "l.csv").write_text("label\ncat\n\ndog\n")
    labels = io.read_labels(tmp_path / "l.csv")
    # pandas skips the blank line; an empty quoted field would be NaN, which the checks report
    assert labels.tolist() == ["cat", "dog"]
    (tmp_path / "m.csv").write_text('label,other\ncat,1\n"",2\n')
    assert pd.isna(io.read_labels(tmp_path / "m.csv", column="label")[1])


def test_read_labels_parquet_column(tmp_path, table):
    table.to_parquet(tmp_path / "t.parquet")
    assert io.read_labels(tmp_path / "t.parquet", column="label").tolist() == ["cat", "dog", "cat"]
    with pytest.raises(DataFileError, match="3 columns.*name the label column"):
        io.read_labels(tmp_path / "t.parquet")
    with pytest.raises(DataFileError, match="no column 'nope'"):
        io.read_labels(tmp_path / "t.parquet", column="nope")
    table[["label"]].to_parquet(tmp_path / "one.parquet")
    assert io.read_labels(tmp_path / "one.parquet").tolist() == ["cat", "dog", "cat"]


# --- writers -----------------------------------------------------------------------------------


def test_write_csv_round_trips_and_creates_parents(tmp_path, table):
    path = tmp_path / "deep" / "er" / "out.csv"
    assert io.write_csv(table, path) == path
    pd.testing.assert_frame_equal(io.read_table(path), table)
    assert leftovers(path.parent) == []


def test_write_json_converts_numpy(tmp_path):
    obj = {
        "n": np.int64(3),
        "rate": np.float32(0.25),
        "matrix": np.eye(2),
        "names": np.array(["a", "b"]),
        "interval": (float("nan"), np.float64(np.inf)),
        "flag": np.bool_(True),
        1: "int key",
    }
    io.write_json(obj, tmp_path / "o.json")
    back = json.loads((tmp_path / "o.json").read_text())
    assert back == {
        "n": 3,
        "rate": 0.25,
        "matrix": [[1.0, 0.0], [0.0, 1.0]],
        "names": ["a", "b"],
        "interval": [None, None],
        "flag": True,
        "1": "int key",
    }


def test_write_text(tmp_path):
    io.write_text("héllo\n", tmp_path / "a" / "t.txt")
    assert (tmp_path / "a" / "t.txt").read_text(encoding="utf-8") == "héllo\n"


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("old")
    io.write_text("new", path)
    assert path.read_text() == "new"


class Boom(Exception):
    pass


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "result.txt"
    path.write_text("old contents")
    with pytest.raises(Boom):
        with io.atomic_write(path) as handle:
            handle.write("half of the new")
            handle.flush()
            raise Boom("crash mid-way")
    assert path.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.txt"]


def test_failed_json_write_keeps_old_file(tmp_path):
    path = tmp_path / "noise.json"
    io.write_json({"ok": 1}, path)

    class Unserializable:
        pass

    with pytest.raises(TypeError):
        io.write_json({"a": list(range(1000)), "z": Unserializable()}, path)
    assert json.loads(path.read_text()) == {"ok": 1}
    assert leftovers(tmp_path) == []


def test_failed_csv_write_keeps_old_file(tmp_path, table, monkeypatch):
    path = tmp_path / "issues.csv"
    io.write_csv(table, path)
    before = path.read_bytes()

    def explode(self, handle, **kwargs):
        handle.write("rank,row\n1,")
        raise Boom("disk pulled")

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(Boom):
        io.write_csv(table, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_atomic_write_without_a_previous_file_leaves_nothing(tmp_path):
    with pytest.raises(Boom):
        with io.atomic_write(tmp_path / "new.bin", "wb") as handle:
            handle.write(b"\x00\x01")
            raise Boom
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_mode_follows_umask(tmp_path):
    path = io.write_text("x", tmp_path / "m.txt")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_unwritable_target_is_a_data_file_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(DataFileError, match="cannot write"):
        io.write_text("x", blocker / "out.txt")
