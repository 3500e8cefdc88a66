"""Monitor defaults: the features watched without ``features=``, and bands kept in range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelwise.cli.monitor import monitor_app
from labelwise.errors import ConfigError
from labelwise.monitor import METRIC_RANGES, Monitor, default_features
from labelwise.monitor.store import MonitorStore


def credit(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Score, label and three other columns: a driver, a categorical and an unrelated one."""
    rng = np.random.default_rng(seed)
    income = rng.normal(size=n)
    score = 1 / (1 + np.exp(-(income - 1.0)))
    return pd.DataFrame(
        {
            "income": income,
            "score": score,
            "channel": rng.choice(["online", "branch"], n),
            "bad": rng.binomial(1, score),
            "tenure": rng.normal(shift, 1.0, n),
        }
    )


def sharp(n: int, seed: int) -> pd.DataFrame:
    """A near-perfect model (AUC about 0.97) whose declined cases are almost all bad."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    score = 1 / (1 + np.exp(-(4.0 * x - 1.0)))
    return pd.DataFrame({"score": score, "x": x, "bad": rng.binomial(1, score)})


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return credit(3000, 0)


# --- default features ----------------------------------------------------------------------


def test_python_fit_watches_every_other_column_by_default(reference):
    mon = Monitor(n_null=30).fit(reference, score="score", label="bad", cutoff=0.3)
    assert mon.fit_params_["features"] == ["income", "channel", "tenure"]
    result = mon.check(credit(1000, 1, shift=1.5), window_id="shifted")
    table = {row["feature"]: row for row in result.details["features"]}
    assert set(table) == {"income", "channel", "tenure"}
    assert table["tenure"]["shifted"] and not table["channel"]["shifted"]
    assert "features" in result.fired


def test_python_default_matches_the_cli(reference, tmp_path):
    reference.to_csv(tmp_path / "ref.csv", index=False)
    fitted = CliRunner().invoke(
        monitor_app,
        ["fit", str(tmp_path / "ref.csv"), "--score", "score", "--label", "bad",
         "--out", str(tmp_path / "monitor.json")],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    cli = Monitor.from_json(tmp_path / "monitor.json").fit_params_["features"]
    python = Monitor(n_null=20).fit(reference, score="score", label="bad").fit_params_["features"]
    assert cli == python == default_features(reference.columns, "score", "bad")


def test_an_empty_feature_list_watches_none(reference):
    mon = Monitor(n_null=20).fit(reference, score="score", features=[], label="bad")
    assert mon.fit_params_["features"] == []
    result = mon.check(credit(1000, 2, shift=1.5))
    assert result.details["features"] == []
    assert not [row for row in result.metrics if row.monitor in ("features", "multivariate")]


def test_without_a_label_the_default_watches_it_as_a_feature(reference):
    assert default_features(reference.columns, "score") == ["income", "channel", "bad", "tenure"]


def test_one_string_is_not_a_feature_list(reference):
    with pytest.raises(ConfigError, match=r"features=\['income'\]"):
        Monitor(n_null=20).fit(reference, score="score", features="income")


# --- bands clipped to each metric's range --------------------------------------------------


@pytest.fixture(scope="module")
def sharp_monitor() -> Monitor:
    return Monitor(n_null=40).fit(sharp(4000, 0), score="score", label="bad", cutoff=0.5)


#: The metrics a binary monitor reports with a band.
BINARY_BANDED = {"bad_rate", "auc", "precision", "recall", "approval_rate"}


def _banded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["low"].notna() | frame["high"].notna()]


@pytest.mark.parametrize("rows", [30, 60, 120])
def test_bands_and_estimates_stay_in_each_metric_range(sharp_monitor, rows):
    mon = Monitor.from_dict(sharp_monitor.to_dict())
    frame = mon.check(sharp(rows, 10 + rows), window_id="small").to_frame()
    banded = _banded(frame)
    names = banded["metric"].str.removeprefix("expected_")
    assert set(names) == BINARY_BANDED and BINARY_BANDED <= set(METRIC_RANGES)
    for name, (_, row) in zip(names, banded.iterrows(), strict=True):
        low, high = METRIC_RANGES[name]
        assert low <= row["low"] <= row["value"] <= row["high"] <= high, (rows, dict(row))
    # The case at hand: the ±3 sigma band of a 0.97 AUC on a few dozen rows reaches past 1.
    assert banded.set_index("metric").loc["expected_auc", "high"] == 1.0


def test_stored_results_and_dashboard_show_clipped_bands(sharp_monitor, tmp_path):
    TestClient = pytest.importorskip("fastapi.testclient").TestClient
    from labelwise.monitor.dashboard import create_app

    mon = Monitor.from_dict(sharp_monitor.to_dict())
    result = mon.check(sharp(40, 3), window_id="w1").to_dict()
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        run = store.record_run(
            model="sharp", model_version="1", reference_hash="r", config_hash="c", config={}
        )
        store.record_window(run, result)
        stored = _banded(store.metrics("sharp"))
    assert len(stored) == len(BINARY_BANDED)
    assert (stored["low"] >= 0).all() and (stored["high"] <= 1).all()
    with TestClient(create_app(path)) as client:
        served = client.get("/api/models/sharp/windows/w1").json()["metrics"]
    bands = [m for m in served if m["high"] is not None]
    assert len(bands) == len(BINARY_BANDED)
    assert all(0 <= m["low"] <= m["high"] <= 1 for m in bands)


def test_reconcile_clips_a_band_saved_unclipped(sharp_monitor):
    mon = Monitor.from_dict(sharp_monitor.to_dict())
    window = sharp(50, 4)
    mon.check(window, window_id="old")
    # A monitor file written before bands were clipped holds the raw edges.
    mon.estimates_["old"]["auc"].update(low=0.91, high=1.03)
    rows = {r["metric"]: r for r in mon.reconcile("old", window["bad"], window["score"]).to_rows()}
    assert rows["auc"]["high"] == 1.0 and rows["auc"]["low"] == 0.91
    assert all(0 <= r["low"] <= r["high"] <= 1 for r in rows.values() if r["low"] is not None)
