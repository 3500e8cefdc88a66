"""Multiclass and regression monitors: fitting, checking, estimates against truth, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor

from labelwise.errors import ConfigError, InputError, LabelError, ProbabilityError
from labelwise.monitor import Monitor
from labelwise.monitor._counts import tally, tally_many
from labelwise.monitor._regression import TreeEnsemble

CLASSES = ["cat", "dog", "owl"]
PROBS = [f"p_{c}" for c in CLASSES]


def multiclass(n: int, seed: int, shift: float = 0.0, sharpen: float = 1.0) -> pd.DataFrame:
    """A three-class model whose classes overlap more for large |x1|.

    Calibrated, unless ``sharpen`` > 1 makes it overconfident (labels keep the true odds).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[:, 0] += shift
    sharp = 2.5 / (1.0 + np.abs(x[:, 1]))
    logits = np.column_stack([x[:, 0], -x[:, 0], 0.5 * x[:, 2]]) * sharp[:, None]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    p = p**sharpen
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(p, columns=PROBS)
    frame["x0"], frame["x1"], frame["x2"] = x[:, 0], x[:, 1], x[:, 2]
    frame["colour"] = np.where(x[:, 2] > 0.3, "red", "blue")
    frame["y"] = np.array(CLASSES)[y]
    return frame


def regression(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A fixed linear model whose error grows with |x0| (heteroscedastic noise)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[:, 0] += shift
    yhat = 2.0 * x[:, 0] + x[:, 1]
    y = yhat + rng.normal(size=n) * (0.2 + np.abs(x[:, 0]))
    kind = np.where(x[:, 2] > 0, "a", "b")
    return pd.DataFrame({"yhat": yhat, "x0": x[:, 0], "x1": x[:, 1], "kind": kind, "y": y})


@pytest.fixture(scope="module")
def multi_monitor() -> Monitor:
    return Monitor(n_null=100).fit(multiclass(6000, 0), score=PROBS, label="y", model="zoo")


@pytest.fixture(scope="module")
def reg_monitor() -> Monitor:
    return Monitor(n_null=100).fit(regression(8000, 0), prediction="yhat", label="y")


def _value(result, metric: str) -> float:
    return result.metric("performance", metric).value


def _assert_same(a, b) -> None:
    """Equal results up to the order of floating-point sums (chunks are summed in order)."""
    assert a.severity == b.severity and a.composite == pytest.approx(b.composite, rel=1e-12)
    fa, fb = a.to_frame(), b.to_frame()
    pd.testing.assert_frame_equal(fa, fb, check_exact=False, rtol=1e-12, atol=1e-12)


# --- multiclass -------------------------------------------------------------------------------


def test_multiclass_is_inferred_and_names_classes_from_suffixes(multi_monitor):
    assert multi_monitor.kind == "multiclass"
    assert multi_monitor.layout_.output.classes == CLASSES
    assert multi_monitor.output_columns == PROBS
    assert set(multi_monitor.fit_params_["features"]) == {"x0", "x1", "x2", "colour"}


def test_multiclass_quiet_window_is_ok_and_shift_alerts(multi_monitor):
    mon = Monitor.from_dict(multi_monitor.to_dict())
    quiet = mon.check(multiclass(3000, 1), window_id="quiet")
    assert quiet.severity == "ok" and quiet.details["kind"] == "multiclass"
    assert quiet.details["classes"] == CLASSES
    shifted = mon.check(multiclass(3000, 2, shift=1.5), window_id="shifted")
    assert shifted.severity in ("alert", "critical")
    assert {"score", "features", "operational"} <= set(shifted.fired)


def test_multiclass_reports_per_class_rows(multi_monitor):
    result = Monitor.from_dict(multi_monitor.to_dict()).check(multiclass(2000, 3))
    names = set(result.to_frame()["metric"])
    for cls in CLASSES:
        assert {f"expected_precision[{cls}]", f"psi[{cls}]", f"prediction_share[{cls}]"} <= names
    per_class = result.metric("performance", "expected_f1[dog]")
    assert per_class.low <= per_class.value <= per_class.high and per_class.fired is None
    shares = [result.metric("operational", f"prediction_share[{c}]").value for c in CLASSES]
    assert sum(shares) == pytest.approx(1.0)


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_multiclass_expected_accuracy_matches_realized(multi_monitor, shift):
    mon = Monitor.from_dict(multi_monitor.to_dict())
    window = multiclass(20000, 4, shift=shift)
    result = mon.check(window, window_id="w")
    rows = {r["metric"]: r for r in mon.reconcile(result, window["y"], window[PROBS]).to_rows()}
    assert abs(rows["accuracy"]["gap"]) < 0.01, rows["accuracy"]
    assert rows["accuracy"]["inside_band"] and rows["macro_f1"]["inside_band"]
    assert {"precision[cat]", "recall[owl]", "f1[dog]"} <= set(rows)


def test_multiclass_calibration_is_kept_only_where_it_helps():
    calibrated = Monitor(n_null=30).fit(multiclass(6000, 0), score=PROBS, label="y")
    assert calibrated.calibration_info_["calibrated"] is False
    overconfident = Monitor(n_null=30).fit(multiclass(6000, 0, sharpen=2.0), score=PROBS, label="y")
    assert overconfident.calibration_info_["calibrated"] is True
    window = multiclass(20000, 11, shift=0.5, sharpen=2.0)
    result = overconfident.check(window, window_id="w")
    rows = {
        r["metric"]: r
        for r in overconfident.reconcile(result, window["y"], window[PROBS]).to_rows()
    }
    naive = window[PROBS].max(axis=1).mean()
    assert abs(rows["accuracy"]["gap"]) < 0.015 < naive - rows["accuracy"]["realized"]


def test_multiclass_uncalibrated_expectation_is_the_mean_top_probability():
    ref = multiclass(3000, 5)
    mon = Monitor(n_null=30, calibrate=False).fit(ref, score=PROBS, features=[])
    window = multiclass(1000, 6)
    result = mon.check(window)
    assert _value(result, "expected_accuracy") == pytest.approx(window[PROBS].max(axis=1).mean())


def test_multiclass_labels_of_any_type_and_explicit_classes():
    ref = multiclass(2000, 7)
    codes = ref["y"].map({c: i for i, c in enumerate(CLASSES)})
    mon = Monitor(n_null=30).fit(
        ref.assign(y=codes), score=PROBS, label="y", classes=[0, 1, 2], features=["x0"]
    )
    assert mon.layout_.output.classes == [0, 1, 2]
    as_text = Monitor(n_null=30).fit(
        ref.assign(y=codes.astype(str)), score=PROBS, label="y", classes=[0, 1, 2], features=[]
    )
    assert as_text.calibration_info_["reference_accuracy"] == pytest.approx(
        mon.calibration_info_["reference_accuracy"]
    )


def test_multiclass_bad_inputs_are_clear_errors():
    ref = multiclass(500, 8)
    with pytest.raises(LabelError, match="'ferret'"):
        Monitor(n_null=30).fit(ref.assign(y="ferret"), score=PROBS, label="y")
    with pytest.raises(ProbabilityError, match="sum to"):
        Monitor(n_null=30).fit(ref.assign(p_owl=0.0), score=PROBS, label="y")
    with pytest.raises(ConfigError, match="class names"):
        Monitor(n_null=30).fit(ref, score=PROBS, classes=["a", "b"])
    with pytest.raises(ConfigError, match="prediction="):
        Monitor(n_null=30).fit(ref, score=PROBS, task="regression")
    mon = Monitor(n_null=30).fit(ref, score=PROBS, label="y", features=[])
    with pytest.raises(InputError, match="p_dog"):
        mon.check(ref.drop(columns="p_dog"))


def test_multiclass_round_trip_and_chunked_counts(multi_monitor, tmp_path):
    loaded = Monitor.from_json(multi_monitor.to_json(tmp_path / "m.json"))
    window = multiclass(2500, 9, shift=0.5)
    a = Monitor.from_dict(multi_monitor.to_dict()).check(window, window_id="w")
    b = loaded.check(window, window_id="w", chunk_rows=333)
    _assert_same(a, b)


# --- regression -------------------------------------------------------------------------------


def test_regression_quiet_ok_and_shift_raises_the_expected_error(reg_monitor):
    mon = Monitor.from_dict(reg_monitor.to_dict())
    assert mon.kind == "regression" and mon.output_columns == ["yhat"]
    quiet = mon.check(regression(3000, 1))
    assert quiet.severity == "ok" and quiet.details["kind"] == "regression"
    shifted = mon.check(regression(3000, 2, shift=1.2))
    assert shifted.severity in ("alert", "critical") and "performance" in shifted.fired
    assert _value(shifted, "expected_mae") > 1.3 * _value(quiet, "expected_mae")
    names = set(shifted.to_frame()["monitor"])
    assert "entropy" not in names and "confidence" not in names


@pytest.mark.parametrize("shift", [0.0, 0.8])
def test_regression_expected_error_matches_realized(reg_monitor, shift):
    mon = Monitor.from_dict(reg_monitor.to_dict())
    window = regression(5000, 3, shift=shift)
    result = mon.check(window, window_id="w")
    rows = {r["metric"]: r for r in mon.reconcile(result, window["y"], window["yhat"]).to_rows()}
    for metric in ("mae", "rmse"):
        assert abs(rows[metric]["gap"]) < 0.06 * rows[metric]["realized"], rows[metric]
        # The band is the window's sampling error; under shift the error model's own error
        # (it was fitted on a few thousand rows) adds to it, so only the unshifted case must
        # land inside.
        assert rows[metric]["inside_band"] or shift
    # The naive guess (the reference's own error) is far off once the inputs move.
    if shift:
        assert rows["mae"]["realized"] > 1.15 * mon.calibration_info_["reference_mae"]


def test_regression_without_targets_has_no_expected_error():
    mon = Monitor(n_null=30).fit(regression(2000, 4), prediction="yhat", features=["x0"])
    result = mon.check(regression(500, 5))
    assert np.isnan(_value(result, "expected_mae"))
    assert any("no reference targets" in note for note in result.details["notes"])


def test_regression_bad_inputs_are_clear_errors():
    ref = regression(500, 6)
    with pytest.raises(LabelError, match="numbers"):
        Monitor(n_null=30).fit(ref.assign(y="high"), prediction="yhat", label="y")
    with pytest.raises(InputError, match="constant"):
        Monitor(n_null=30).fit(ref.assign(yhat=1.0), prediction="yhat", label="y")
    with pytest.raises(ConfigError, match="not both"):
        Monitor(n_null=30).fit(ref, prediction="yhat", score="x0")


def test_regression_round_trip_and_chunked_counts(reg_monitor, tmp_path):
    loaded = Monitor.from_json(reg_monitor.to_json(tmp_path / "r.json"))
    window = regression(2500, 7, shift=0.3)
    a = Monitor.from_dict(reg_monitor.to_dict()).check(window, window_id="w")
    b = loaded.check(window, window_id="w", chunk_rows=401)
    _assert_same(a, b)


@pytest.mark.parametrize("boosting", [GradientBoostingRegressor, HistGradientBoostingRegressor])
def test_tree_ensemble_equals_scikit_learn(boosting):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    x[:, 2] = np.round(x[:, 2])  # ties on thresholds
    target = np.abs(x[:, 0]) + 0.1 * rng.normal(size=3000)
    if boosting is GradientBoostingRegressor:
        model = boosting(n_estimators=37, max_depth=3, min_samples_leaf=200)
    else:
        model = boosting(max_iter=37, max_depth=3, min_samples_leaf=200, early_stopping=False)
    model.fit(x, target)
    ours = TreeEnsemble.from_sklearn(model)
    fresh = rng.normal(size=(5000, 4))
    fresh[:, 2] = np.round(fresh[:, 2])
    expected = np.maximum(model.predict(fresh), 0.0)
    assert np.allclose(ours.predict(fresh), expected, rtol=0, atol=1e-12)
    again = TreeEnsemble.from_dict(ours.to_dict())
    assert np.array_equal(again.predict(fresh), ours.predict(fresh))


# --- the null distribution of the new kinds --------------------------------------------------


@pytest.mark.parametrize("fixture", ["multi_monitor", "reg_monitor"])
def test_stacked_tallies_equal_one_by_one(fixture, request):
    mon = request.getfixturevalue(fixture)
    sample = mon.null_sample_
    t = len(sample["score_coarse" if mon.kind == "regression" else "pred"])
    weights = np.random.default_rng(1).poisson(1.0, size=(4, t)).astype(float)
    together = tally_many(mon.layout_, sample, weights)
    for d in range(4):
        one = tally(mon.layout_, sample, weights[d])
        for key, value in one.items():
            assert np.allclose(together[key][d], value, rtol=1e-4, atol=1e-3), key


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_no_change_windows_rarely_fire(kind):
    make = multiclass if kind == "multiclass" else regression
    fit = {"score": PROBS} if kind == "multiclass" else {"prediction": "yhat"}
    mon = Monitor(n_null=200).fit(make(20000, 10), label="y", **fit)
    fired, warned = [], 0
    for seed in range(40):
        result = mon.check(make(1000, 100 + seed))
        fired.extend(r.metric for r in result.metrics if r.fired and r.threshold is not None)
        warned += result.severity in ("warn", "alert", "critical")
    worst = max(pd.Series(fired).value_counts(), default=0)
    # Each statistic fires at alpha = 5%: 2 of 40 on average; 7 is beyond 3 binomial sd.
    assert worst <= 7, pd.Series(fired).value_counts()
    assert warned <= 2


# --- the command line -------------------------------------------------------------------------


def _invoke(*args):
    from typer.testing import CliRunner

    from labelwise.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_multiclass_fit_check_reconcile(tmp_path):
    multiclass(4000, 0).to_parquet(tmp_path / "reference.parquet")
    window = multiclass(3000, 1, shift=1.2)
    window.to_csv(tmp_path / "window.csv", index=False)
    monitor, url = tmp_path / "monitor.json", str(tmp_path / "monitor.db")
    result = _invoke(
        "monitor", "fit", tmp_path / "reference.parquet", "--score", ",".join(PROBS),
        "--label", "y", "--model", "zoo", "--out", monitor,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "multiclass monitor" in result.output
    result = _invoke("monitor", "check", monitor, tmp_path / "window.csv", "--db", url)
    assert result.exit_code == 0, result.output
    assert "alert" in result.output or "critical" in result.output
    labels = tmp_path / "window.csv"
    result = _invoke("monitor", "reconcile", monitor, "window", labels, "--label", "y", "--db", url)
    assert result.exit_code == 0, result.output
    from labelwise.monitor.store import MonitorStore

    with MonitorStore(url, create=False) as store:
        rows = store.reconciliations("zoo").set_index("metric")
    assert abs(rows.loc["accuracy", "gap"]) < 0.03 and "f1[owl]" in rows.index


def test_cli_regression_fit_check_reconcile(tmp_path):
    regression(5000, 0).to_csv(tmp_path / "reference.csv", index=False)
    regression(2000, 1, shift=1.0).to_csv(tmp_path / "window.csv", index=False)
    monitor, url = tmp_path / "monitor.json", str(tmp_path / "monitor.db")
    result = _invoke(
        "monitor", "fit", tmp_path / "reference.csv", "--prediction", "yhat", "--label", "y",
        "--task", "regression", "--model", "price", "--out", monitor,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    window = tmp_path / "window.csv"
    result = _invoke("monitor", "check", monitor, window, "--db", url, "--format", "json")
    assert result.exit_code == 0, result.output
    labels = tmp_path / "window.csv"
    result = _invoke("monitor", "reconcile", monitor, "window", labels, "--label", "y", "--db", url)
    assert result.exit_code == 0, result.output
    assert "mae" in result.output and "rmse" in result.output
    bad = _invoke("monitor", "fit", tmp_path / "reference.csv", "--out", monitor)
    assert bad.exit_code == 2 and "--prediction" in bad.output


def test_reloaded_regression_monitor_keeps_its_sample_and_refuses_other_results(reg_monitor):
    loaded = Monitor.from_dict(reg_monitor.to_dict())
    assert np.array_equal(loaded.null_sample_["prediction"], reg_monitor.null_sample_["prediction"])
    other = Monitor(n_null=30, n_bins=8).fit(regression(2000, 9), prediction="yhat", label="y")
    window = regression(500, 10)
    result = other.check(window, window_id="w")
    with pytest.raises(InputError, match="another monitor configuration"):
        loaded.reconcile(result, window["y"], window["yhat"])
