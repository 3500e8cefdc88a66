"""Tests of labelwise.datasets: the digits demo and the German Credit reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from labelwise.datasets import DemoData, load_digits_demo, load_german_credit
from labelwise.errors import ConfigError, DataFileError
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return load_digits_demo()


def test_digits_demo_shapes(demo):
    assert demo.X.shape == (1797, 64)
    assert demo.frame.shape == (1797, 65)
    assert list(demo.frame.columns) == [f"pixel_{i}" for i in range(64)] + ["label"]
    assert demo.labels.shape == demo.true_labels.shape == demo.is_noisy.shape == (1797,)
    np.testing.assert_array_equal(demo.frame.drop(columns="label").to_numpy(), demo.X)


def test_digits_demo_labels_are_strings(demo):
    expected = [f"digit_{d}" for d in range(10)]
    assert demo.classes.tolist() == expected
    assert demo.labels.dtype.kind == "U" and demo.true_labels.dtype.kind == "U"
    assert set(demo.labels.tolist()) == set(expected)
    assert demo.frame["label"].tolist() == demo.labels.tolist()
    assert all(isinstance(label, str) for label in demo.frame["label"])


def test_digits_demo_noise_is_exact(demo):
    assert int(demo.is_noisy.sum()) == 180  # round(0.1 * 1797)
    assert np.array_equal(demo.is_noisy, demo.labels != demo.true_labels)
    true_digits = np.array([int(name.split("_")[1]) for name in demo.true_labels])
    assert np.array_equal(true_digits, load_digits().target)


@pytest.mark.parametrize(("rate", "count"), [(0.0, 0), (0.25, 449), (0.5, 899)])
def test_digits_demo_other_rates(rate, count):
    assert int(load_digits_demo(noise_rate=rate).is_noisy.sum()) == count


def test_digits_demo_is_seeded(demo):
    assert np.array_equal(load_digits_demo(random_state=0).labels, demo.labels)
    assert not np.array_equal(load_digits_demo(random_state=1).labels, demo.labels)


@pytest.mark.parametrize("rate", [1.0, -0.1, "10%"])
def test_digits_demo_bad_rate_names_the_parameter(rate):
    with pytest.raises(ConfigError, match="noise_rate"):
        load_digits_demo(noise_rate=rate)


def _write_credit(folder: Path) -> Path:
    csv = folder / "german-credit" / "germancredit.csv"
    csv.parent.mkdir(parents=True)
    pd.DataFrame({"duration_in_month": [6, 48], "creditability": ["good", "bad"]}).to_csv(
        csv, index=False
    )
    return csv


def test_german_credit_needs_a_path(monkeypatch):
    monkeypatch.delenv("LABELWISE_DATA", raising=False)
    with pytest.raises(DataFileError, match="not bundled"):
        load_german_credit()


def test_german_credit_from_file_folder_and_env(tmp_path, monkeypatch):
    csv = _write_credit(tmp_path)
    assert load_german_credit(csv)["creditability"].tolist() == ["good", "bad"]
    assert load_german_credit(str(tmp_path)).shape == (2, 2)
    monkeypatch.setenv("LABELWISE_DATA", str(tmp_path))
    assert load_german_credit().shape == (2, 2)


def test_german_credit_missing_or_wrong_file(tmp_path, monkeypatch):
    with pytest.raises(DataFileError, match="not found"):
        load_german_credit(tmp_path / "nope.csv")
    monkeypatch.setenv("LABELWISE_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match="LABELWISE_DATA"):
        load_german_credit()
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="creditability"):
        load_german_credit(other)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFileError, match="Could not read"):
        load_german_credit(empty)


def test_german_credit_real_file():
    credit = load_german_credit(shared_path("german-credit", "germancredit.csv"))
    assert credit.shape == (1000, 21)
    assert credit["creditability"].value_counts().to_dict() == {"good": 700, "bad": 300}
