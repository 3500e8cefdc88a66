"""The model behind an audit: candidates, the out-of-sample choice, its report and its doubts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from typer.testing import CliRunner

from labelwise import cli
from labelwise.card import build
from labelwise.errors import ConfigError, InputError, InputTypeError
from labelwise.issues.audit import audit
from labelwise.models import (
    MODELS,
    SmoothedNeighbors,
    choose_model,
    load_estimator,
    make_model,
    probability_quality,
)
from labelwise.simulate import inject_noise


def interactions(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A label set by thresholds and an interaction with a string column: no linear rule fits."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n),
            "income": rng.uniform(0, 100, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "noise": rng.normal(size=n),
        }
    )
    young_rich = (frame["age"] < 40) & (frame["income"] > 50)
    old_east = (frame["age"] >= 60) & frame["region"].isin(["east", "north"])
    frame["y"] = np.where(young_rich | old_east, "approve", "decline")
    return frame


def linear(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Few rows, many numeric columns and a linear boundary: the linear model's home ground."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 20))
    weights = rng.normal(size=20)
    p = 1 / (1 + np.exp(-(X @ weights)))
    frame = pd.DataFrame(X).add_prefix("x")
    frame["y"] = np.where(rng.uniform(size=n) < p, "pos", "neg")
    return frame


def test_boosting_wins_on_thresholds_and_interactions():
    frame = interactions()
    report = audit(frame, "y", n_bootstrap=0)
    scores = report.model_choice.to_frame().set_index("name")
    assert "boosting" in report.model_choice.members
    assert scores.loc["boosting", "log_loss"] < scores.loc["logistic", "log_loss"] / 2
    assert report.quality.accuracy > 0.95 and report.trusted


def test_linear_model_wins_on_a_linear_boundary():
    report = audit(linear(), "y", n_bootstrap=0)
    assert report.model_choice.members == ("logistic",)
    scores = report.model_choice.to_frame().set_index("name")
    assert scores["log_loss"].idxmin() == "logistic"
    assert scores.loc["logistic", "used"] and not scores.loc["boosting", "used"]


def test_auto_finds_the_flipped_rows_the_linear_model_cannot():
    frame = interactions(2000, seed=1)
    noisy = inject_noise(frame["y"].to_numpy(), kind="symmetric", rate=0.05, random_state=1)
    frame["y"] = noisy.labels
    truth = noisy.is_noisy.mean()
    auto = audit(frame, "y", n_bootstrap=0)
    old = audit(frame, "y", model="logistic", n_bootstrap=0)
    assert abs(auto.noise.noise_rate - truth) < 0.02
    assert abs(old.noise.noise_rate - truth) > 0.05
    flagged = auto.issues.mask
    precision = noisy.is_noisy[flagged].mean()
    recall = flagged[noisy.is_noisy].mean()
    assert precision > 0.6 and recall > 0.6
    # The linear model's errors are read as label noise, and the report says so.
    assert not old.trusted and "clean" in old.quality.doubts[0]


def test_random_labels_raise_a_plain_words_doubt():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(600, 4))).add_prefix("x")
    frame["y"] = rng.choice(["a", "b"], 600)
    report = audit(frame, "y", n_bootstrap=0)
    assert not report.trusted
    text = " ".join(report.quality.doubts)
    assert "little better than their frequencies" in text
    assert report.summary()["model_quality"]["doubts"] == list(report.quality.doubts)
    assert "caution:" in repr(report)


def test_quality_report_numbers():
    frame = interactions(600)
    report = audit(frame, "y", model="boosting", n_bootstrap=0)
    codes = np.searchsorted(report.classes, frame["y"].to_numpy())
    q = report.quality
    assert q.log_loss == pytest.approx(log_loss(codes, report.pred_probs, labels=[0, 1]))
    assert q.accuracy == pytest.approx((report.pred_probs.argmax(1) == codes).mean())
    assert int(q.confusion.to_numpy().sum()) == len(frame)
    assert list(q.confusion.index) == ["approve", "decline"]
    pairs = q.confused_with()
    assert set(pairs.columns) == {"given", "predicted", "rows"}
    assert (pairs["given"] != pairs["predicted"]).all()
    # A given model is reported with no candidates.
    assert report.model_choice.candidates == () and report.model_name == "boosting"
    json.dumps(report.summary())


def test_calibration_error_by_hand():
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    codes = np.array([0, 1, 0, 0])
    q = probability_quality(codes, probs)
    # Bin of 0.95: accuracy 1/2; bin of 0.55: accuracy 1. ECE = .5 * .45 + .5 * .45.
    assert q["calibration_error"] == pytest.approx(0.45)


def test_ensemble_averages_every_candidate():
    frame = interactions(500)
    report = audit(frame, "y", ensemble=True, n_bootstrap=0)
    assert report.model_choice.members == ("logistic", "boosting", "knn")
    assert report.model_name == "ensemble(logistic+boosting+knn)"
    assert isinstance(report.model, tuple) and len(report.model) == 3
    with pytest.raises(ConfigError, match="ensemble"):
        audit(frame, "y", model="boosting", ensemble=True)


def test_large_tables_choose_on_a_sample_then_fit_every_row():
    frame = interactions(1200)
    X, y = frame.drop(columns="y"), frame["y"]
    seen = []
    probs, choice = choose_model(
        X, y, selection_rows=400, progress=lambda done, total: seen.append((done, total))
    )
    assert choice.selection_rows == 400 and choice.n_rows == 1200
    assert probs.shape == (1200, 2) and np.allclose(probs.sum(1), 1)
    assert "stratified 400 rows" in choice.reason
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1][0] == seen[-1][1]


def test_named_models_and_paths():
    frame = interactions(300)
    X = frame.drop(columns="y")
    for name in MODELS:
        assert hasattr(make_model(name, X), "predict_proba")
    report = audit(frame, "y", model="sklearn.ensemble:ExtraTreesClassifier", n_bootstrap=0)
    assert report.model_name == "sklearn.ensemble:ExtraTreesClassifier"
    assert type(report.model.steps[-1][1]).__name__ == "ExtraTreesClassifier"
    with pytest.raises(ConfigError, match="not a model name"):
        make_model("svm", X)
    with pytest.raises(ConfigError, match="cannot import"):
        load_estimator("no_such_module:Thing")
    with pytest.raises(ConfigError, match="no class"):
        load_estimator("sklearn.ensemble:Nothing")
    with pytest.raises(ConfigError, match="predict_proba"):
        load_estimator("sklearn.linear_model:Ridge")
    with pytest.raises(ConfigError, match="candidates"):
        choose_model(X, frame["y"], candidates=["logistic", "svm"])
    with pytest.raises(InputTypeError, match="model must be"):
        audit(frame, "y", model=3)


def test_smoothed_neighbours_never_give_zero():
    X = np.r_[np.zeros((20, 1)), np.ones((20, 1))]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    probs = SmoothedNeighbors(n_neighbors=10).fit(X, y).predict_proba(X)
    assert (probs > 0).all() and np.allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == y).all()


def test_embeddings_alone_and_beside_the_columns(tmp_path):
    frame = interactions(400)
    truth = (frame["y"] == "approve").to_numpy()
    rng = np.random.default_rng(0)
    emb = np.c_[truth + rng.normal(0, 0.1, 400), rng.normal(size=(400, 3))]
    alone = audit(frame, "y", features=emb, model="logistic", n_bootstrap=0)
    assert alone.features == [f"embedding_{j}" for j in range(4)]
    assert alone.quality.accuracy > 0.97
    np.save(tmp_path / "emb.npy", emb)
    both = audit(frame, "y", features=[tmp_path / "emb.npy", "*"], model="logistic", n_bootstrap=0)
    assert both.features[:4] == ["age", "income", "region", "noise"] and len(both.features) == 8
    with pytest.raises(InputError, match="one row per table row"):
        audit(frame, "y", features=emb[:10])
    with pytest.raises(InputError, match="does not exist"):
        audit(frame, "y", features="missing.npy")
    with pytest.raises(InputError, match="NaN"):
        audit(frame, "y", features=np.full((400, 2), np.nan))


def test_card_does_not_raise_a_critical_noise_alert_on_a_guess():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(500, 3))).add_prefix("x")
    frame["y"] = rng.choice(["good", "bad"], 500)
    card = build(frame, label="y", n_bootstrap=0)
    noise = card.alerts[card.alerts["kind"] == "label_noise"]
    assert len(noise) == 1 and noise["severity"].iloc[0] == "warning"
    assert "upper bound" in noise["message"].iloc[0]
    assert card.label_health["trusted"] is False
    assert "Caution:" in card.to_markdown() and "Caution:" in card.to_html()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_model_choice_is_reported(runner, tmp_path):
    path = tmp_path / "t.csv"
    interactions(500).to_csv(path, index=False)
    result = runner.invoke(cli.app, ["audit", str(path), "--label", "y", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Model:" in result.output and "log loss" in result.output
    summary = json.loads((tmp_path / "noise.json").read_text())["summary"]
    names = [c["name"] for c in summary["model_choice"]["candidates"]]
    assert names == ["logistic", "boosting", "knn"] and summary["trusted"] is True
    assert summary["model_quality"]["accuracy"] > 0.9


def test_cli_model_by_name_path_and_embeddings(runner, tmp_path):
    frame = interactions(300)
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    np.save(tmp_path / "emb.npy", np.random.default_rng(0).normal(size=(300, 3)))
    base = ["audit", str(path), "--label", "y", "--out", str(tmp_path / "o"), "--bootstrap", "0"]
    result = runner.invoke(cli.app, [*base, "--model", "sklearn.naive_bayes:GaussianNB"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "noise.json").read_text())["summary"]
    assert summary["model"] == "sklearn.naive_bayes:GaussianNB"
    result = runner.invoke(cli.app, [*base, "--model", "knn", "--features", "emb.npy,age"])
    assert result.exit_code == 2 and "does not exist" in result.output
    emb = str(tmp_path / "emb.npy")
    result = runner.invoke(cli.app, [*base, "--model", "knn", "--features", f"{emb},age"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "noise.json").read_text())["summary"]
    assert summary["features"] == ["age", "embedding_0", "embedding_1", "embedding_2"]
    result = runner.invoke(cli.app, [*base, "--model", "svm"])
    assert result.exit_code == 2 and "not a model name" in result.output
    result = runner.invoke(cli.app, [*base, "--model", "boosting", "--ensemble"])
    assert result.exit_code == 2 and "--ensemble" in result.output


def test_smoothed_neighbours_keep_every_class_when_they_sample():
    X = np.arange(100.0)[:, None]
    y = np.r_[np.zeros(99, int), [1]]  # the one row of class 1 is unlikely to be sampled
    model = SmoothedNeighbors(n_neighbors=5, max_samples=10).fit(X, y)
    probs = model.predict_proba(X)
    assert probs.shape == (100, 2) and np.allclose(probs.sum(1), 1) and (probs > 0).all()
    assert len(model.neighbors_._fit_X) == 10


@pytest.mark.filterwarnings("ignore::labelwise.errors.SmallClassWarning")
def test_auto_copes_with_tiny_tables_and_candidates_that_cannot_fit():
    tiny = pd.DataFrame({"x": [0, 0.1, 0.2, 1, 1.1, 1.2], "y": list("aaabbb")})
    report = audit(tiny, "y", n_bootstrap=0)
    # Two training rows are too few for boosting's early-stopping split: it is left out.
    assert "boosting" not in report.model_choice.members
    assert "could not be fit: boosting" in report.model_choice.reason
    infinite = pd.DataFrame({"x": np.r_[np.arange(19.0), np.inf], "y": [0, 1] * 10})
    report = audit(infinite, "y", n_bootstrap=0)
    assert report.model_name == "boosting"  # the trees split infinity; the others cannot
    assert "left out, could not be fit: logistic, knn" in report.model_choice.reason
    with pytest.raises(InputError, match="could not be fit"):
        audit(infinite, "y", model="logistic", n_bootstrap=0)
    with pytest.raises(InputError, match="no candidate model could be fit"):
        audit(infinite, "y", candidates=["logistic", "knn"], n_bootstrap=0)
