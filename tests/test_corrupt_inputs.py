"""Truncated or corrupt pred_probs files are a DataFileError (one line on the command line)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import labelwise as lw
from labelwise import cli
from labelwise.errors import DataFileError


@pytest.fixture
def damaged(tmp_path):
    probs = np.full((200, 2), 0.5)
    np.save(tmp_path / "p.npy", probs)
    data = (tmp_path / "p.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(data[: len(data) // 2])  # cut in the middle
    pd.DataFrame(probs, columns=["a", "b"]).to_parquet(tmp_path / "p.parquet")
    raw = bytearray((tmp_path / "p.parquet").read_bytes())
    raw[-12:-8] = b"\xff\xff\xff\x7f"  # a footer length past the start of the file
    (tmp_path / "bad.parquet").write_bytes(bytes(raw))
    np.save(tmp_path / "y.npy", np.array([0, 1] * 100))
    return tmp_path


@pytest.mark.parametrize("name", ["short.npy", "bad.parquet"])
def test_damaged_pred_probs_raise_data_file_error(damaged, name):
    with pytest.raises(DataFileError, match="truncated or corrupt"):
        lw.find_label_issues(np.array([0, 1] * 100), str(damaged / name), chunk_rows=50)


@pytest.mark.parametrize("name", ["short.npy", "bad.parquet"])
def test_damaged_pred_probs_are_one_line_on_the_command_line(damaged, name):
    args = ["audit", "--labels", str(damaged / "y.npy"), "--pred-probs", str(damaged / name)]
    result = CliRunner().invoke(cli.app, [*args, "--out", str(damaged / "out")])
    assert result.exit_code == 2, result.output
    assert "truncated or corrupt" in result.output and "Traceback" not in result.output
