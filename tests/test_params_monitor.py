"""Parameter constraints of the monitor: numpy integers count as integers, errors name the value."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelwise.errors import ConfigError
from labelwise.monitor import Monitor
from labelwise.monitor.synthetic import credit_features, make_credit_data, make_windows


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    p = 1 / (1 + np.exp(-(x - 1)))
    return pd.DataFrame({"p": p, "x": x, "y": rng.binomial(1, p)})


def test_numpy_integers_are_accepted(reference: pd.DataFrame) -> None:
    plain = Monitor(n_bins=10, n_null=20).fit(reference, score="p", label="y")
    numpy = Monitor(n_bins=np.int64(10), fine_bins=np.int32(1000), n_null=np.int64(20)).fit(
        reference, score="p", label="y"
    )
    assert numpy.config_hash == plain.config_hash
    loaded = Monitor.from_dict(json.loads(json.dumps(numpy.to_dict())))
    assert loaded.config_hash == plain.config_hash


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_bins": 1}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"n_bins": True}, "n_bins"),
        ({"n_bins": np.int64(1)}, "n_bins"),
        ({"n_null": 5}, "n_null"),
        ({"alpha": 1.5}, "alpha"),
        ({"fdr": 0.0}, "fdr"),
        ({"smoothing": 0}, "smoothing"),
        ({"preset": "nope"}, "preset"),
        ({"fine_bins": 5, "n_bins": 10}, "fine_bins"),
    ],
)
def test_wrong_values_name_the_parameter(reference: pd.DataFrame, params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be"):
        Monitor(**params).fit(reference, score="p")


def test_cutoff_is_checked(reference: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="cutoff"):
        Monitor(n_null=20).fit(reference, score="p", cutoff=np.float64(1.5))
    Monitor(n_null=20).fit(reference, score="p", cutoff=np.float32(0.25))


def test_synthetic_accepts_numpy_integers() -> None:
    assert credit_features(np.int64(3)) == credit_features(3)
    frame = make_credit_data(np.int64(50), n_features=np.int64(3))
    assert len(frame) == 50
    windows = list(make_windows(np.int64(2), np.int64(30), n_features=3))
    assert len(windows) == 2


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: make_credit_data(0), "n"),
        (lambda: make_credit_data(10, n_features=0), "n_features"),
        (lambda: make_credit_data(10, concept_drift=1.5), "concept_drift"),
        (lambda: credit_features(True), "n_features"),
        (lambda: list(make_windows(0, 10)), "n_windows"),
    ],
)
def test_synthetic_errors_name_the_parameter(call, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be"):
        call()
