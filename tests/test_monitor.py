"""The Monitor end to end: drift detection, blind spot, reconciliation, errors, contract, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelwise.errors import (
    ConfigError,
    InputError,
    InputTypeError,
    LabelError,
    LabelwiseError,
    ProbabilityError,
)
from labelwise.monitor import LEVELS, MONITORS, Monitor, Reconciliation, WindowResult

FEATURES = ["x0", "x1", "x2", "x3", "region"]
COEF = np.array([1.2, 0.6, 0.3, 0.0])


def make(n, seed, shift=0.0, concept=0.0):
    """Credit-like data: P(bad) from a logistic model; ``concept`` moves P(Y|X) only."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[:, 0] += shift
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    logit = x @ COEF - 2.0 + 0.4 * (region == "south")
    p = 1 / (1 + np.exp(-logit))
    truth = 1 / (1 + np.exp(-(logit + concept)))
    frame = pd.DataFrame(x, columns=FEATURES[:4])
    frame["region"] = region
    frame["p"] = p
    frame["y"] = rng.binomial(1, truth)
    return frame


@pytest.fixture(scope="module")
def reference():
    return make(8000, 0)


@pytest.fixture(scope="module")
def fitted(reference):
    return Monitor(n_null=60).fit(
        reference,
        score="p",
        features=FEATURES,
        label="y",
        cutoff=0.25,
        model="pd",
        model_version="3",
    )


def fresh(fitted):
    """A copy with an empty history (checks mutate the tracker)."""
    return Monitor.from_dict(fitted.to_dict())


def test_no_drift_is_quiet(fitted):
    mon = fresh(fitted)
    result = mon.check(make(3000, 11), window_id="2026-01")
    assert result.severity in ("ok", "watch")
    assert result.fired == []
    assert mon.model == "pd" and mon.model_version == "3"


def test_covariate_shift_alerts(fitted):
    result = fresh(fitted).check(make(3000, 12, shift=0.8), window_id="shifted")
    assert result.severity in ("alert", "critical")
    assert {"score", "features", "confidence"} <= set(result.fired)
    table = {r["feature"]: r for r in result.details["features"]}
    assert table["x0"]["shifted"] and not table["x3"]["shifted"]
    assert result.details["shifted_features"] == ["x0"]
    assert result.metric("features", "max_psi").value == pytest.approx(table["x0"]["psi"])


def test_pure_concept_drift_is_invisible_then_reconciled(fitted):
    mon = fresh(fitted)
    window = make(4000, 13, concept=1.2)
    result = mon.check(window, window_id="concept")
    assert result.fired == [] and result.severity in ("ok", "watch")
    assert "P(Y|X)" in result.summary()
    rec = mon.reconcile("concept", window["y"], window["p"])
    assert isinstance(rec, Reconciliation)
    rows = {r["metric"]: r for r in rec.to_rows()}
    assert not rows["bad_rate"]["inside_band"]
    assert rows["bad_rate"]["gap"] > 0.05
    assert "P(Y|X)" in str(rec)


def test_reconcile_inside_band_without_drift(fitted):
    mon = fresh(fitted)
    window = make(4000, 14)
    mon.check(window, window_id="calm")
    rec = mon.reconcile("calm", window["y"].to_numpy(), window["p"].to_numpy())
    assert rec.outside_band == []
    assert set(rec.to_frame().columns) == {
        "metric",
        "estimated",
        "realized",
        "gap",
        "low",
        "high",
        "inside_band",
    }
    only_rate = mon.reconcile("calm", window["y"])
    assert [r["metric"] for r in only_rate.to_rows()] == ["bad_rate"]
    with pytest.raises(InputError):
        mon.reconcile("never-checked", window["y"])
    with pytest.raises(LabelError):
        mon.reconcile("calm", np.full(10, 2))


def test_result_contract(fitted):
    result = fresh(fitted).check(
        make(2000, 15, shift=0.3),
        window_id="w1",
        start="2026-01-01",
        end=pd.Timestamp("2026-02-01"),
    )
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(d) == {
        "window",
        "start",
        "end",
        "n_rows",
        "composite",
        "severity",
        "metrics",
        "details",
    }
    assert d["window"] == "w1" and d["start"] == "2026-01-01" and d["end"].startswith("2026-02-01T")
    assert d["n_rows"] == 2000 and 0 <= d["composite"] <= 1 and d["severity"] in LEVELS
    keys = {"monitor", "metric", "value", "threshold", "low", "high", "fired"}
    for row in d["metrics"]:
        assert set(row) == keys
        assert row["monitor"] in MONITORS
        assert row["fired"] in (True, False, None)
    assert {r["monitor"] for r in d["metrics"]} == set(MONITORS)
    frame = result.to_frame()
    assert len(frame) == len(d["metrics"]) and "value" in frame
    perf = frame[frame.monitor == "performance"]
    assert (perf.low < perf.value).all() and (perf.value < perf.high).all()


def test_errors_are_clear(fitted, reference):
    mon = fresh(fitted)
    window = make(500, 16)
    with pytest.raises(InputError, match="x2"):
        mon.check(window.drop(columns="x2"))
    with pytest.raises(ProbabilityError):
        mon.check(window.assign(p=window.p + 1.0))
    with pytest.raises(ProbabilityError):
        mon.check(window.assign(p=np.nan))
    with pytest.raises(InputTypeError):
        mon.check(window.assign(p=window.p.astype(str)))
    with pytest.raises(InputTypeError):
        mon.check(window.assign(x1="high"))
    with pytest.raises(InputError, match="empty"):
        mon.check(window.iloc[:0])
    with pytest.raises(InputTypeError):
        mon.check([1, 2, 3])
    with pytest.raises(LabelError, match="one class"):
        Monitor().fit(reference.assign(y=0), score="p", label="y")
    with pytest.raises(InputError, match="entirely missing"):
        Monitor().fit(reference.assign(x3=np.nan), score="p", features=["x3"])
    with pytest.raises(InputError, match="lacks"):
        Monitor().fit(reference, score="p", features=["nope"])
    with pytest.raises(ConfigError):
        Monitor(preset="nope").fit(reference, score="p")
    with pytest.raises(ConfigError):
        Monitor().fit(reference, score="p", cutoff=1.5)
    with pytest.raises(ConfigError, match="not fitted"):
        Monitor().check(window)
    assert issubclass(InputTypeError, LabelwiseError)


def test_unseen_category_and_missing_values_are_counted(fitted):
    mon = fresh(fitted)
    window = make(2000, 17)
    window.loc[:299, "region"] = "west"
    window.loc[:, "x3"] = np.nan
    result = mon.check(window)
    table = {r["feature"]: r for r in result.details["features"]}
    assert table["region"]["unseen_share"] == pytest.approx(0.15)
    assert table["x3"]["missing_current"] == 1.0
    notes = " ".join(result.details["notes"])
    assert "west" in notes and "entirely missing" in notes
    assert result.metric("features", "missing_rate_change_max").fired


def test_json_round_trip(fitted, tmp_path):
    mon = fresh(fitted)
    first = mon.check(make(1500, 18, shift=0.4), window_id="a")
    path = mon.to_json(tmp_path / "monitor.json")
    loaded = Monitor.from_json(path)
    assert loaded.reference_hash == mon.reference_hash and len(mon.reference_hash) == 64
    assert loaded.config_hash == mon.config_hash
    # The file holds the fitted configuration only: the window-to-window state lives in a store.
    assert "a" not in loaded.estimates_ and "tracker" not in path.read_text()
    loaded.tracker_ = loaded.new_tracker(mon.tracker_.to_dict())
    window = make(1500, 19, shift=0.4)
    a, b = mon.check(window, window_id="b"), loaded.check(window, window_id="b")
    assert a.to_dict() == b.to_dict() and first.n_rows == 1500
    assert Monitor(n_bins=12).fit(make(500, 0), score="p").config_hash != mon.config_hash


def test_reference_hash_tracks_data(reference):
    a = Monitor(n_null=20).fit(reference, score="p", features=["x0"])
    b = Monitor(n_null=20).fit(reference.iloc[::-1].iloc[::-1], score="p", features=["x0"])
    c = Monitor(n_null=20).fit(reference.assign(x0=reference.x0 + 1e-9), score="p", features=["x0"])
    assert a.reference_hash == b.reference_hash != c.reference_hash


def test_paper_preset_on_windows(reference):
    mon = Monitor(preset="governance-paper", n_null=60).fit(
        reference, score="p", features=FEATURES, label="y", cutoff=0.25
    )
    quiet = mon.check(make(3000, 20))
    loud = mon.check(make(3000, 21, shift=1.0))
    assert quiet.composite < 0.25
    assert loud.composite == 1.0 and loud.severity == "critical"
    assert {round(v, 3) for v in (0.35 / 0.6, 0.5 / 0.6)} == {0.583, 0.833}


def test_persistence_delays_alert(reference):
    mon = Monitor(n_null=40, persistence=(2, 3)).fit(reference, score="p", features=FEATURES)
    first = mon.check(make(2000, 22, shift=1.0))
    second = mon.check(make(2000, 23, shift=1.0))
    assert first.severity == "ok" and first.details["raw_level"] in ("alert", "critical")
    assert second.severity in ("alert", "critical")


def test_threshold_scales_with_window_size(fitted):
    small, large = fitted.null_thresholds(500), fitted.null_thresholds(200_000)
    # PSI's null scales with 1/8000 + 1/n: 16x between these sizes. With 60 draws the upper
    # bound on the 95% quantile is their largest value, so allow for one extreme draw.
    assert small["quantiles"]["score_psi"] > 5 * large["quantiles"]["score_psi"]
    assert large["thresholds"]["score_psi"] == pytest.approx(0.1)  # the materiality floor
    assert small["se"]["bad_rate"] > large["se"]["bad_rate"]


def test_without_labels_scores_are_taken_as_calibrated(reference):
    mon = Monitor(n_null=30).fit(reference, score="p", features=["x0", "region"], cutoff=0.25)
    result = mon.check(make(1000, 24))
    assert result.metric("performance", "expected_bad_rate").value == pytest.approx(
        make(1000, 24).p.mean()
    )
    assert isinstance(result, WindowResult)
