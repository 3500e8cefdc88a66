"""Benchmark stability under test-label errors: reviews, corrected test set, ranking flips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labelwise.cli._ui import LabelwiseGroup
from labelwise.cli.benchmark import benchmark_command
from labelwise.errors import ConfigError, InputError
from labelwise.study.benchmark import (
    benchmark_stability,
    correct_test_set,
    digits_stability_data,
    load_mturk_folder,
    read_crowd_votes,
    read_review_csv,
    simulate_reviews,
)

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "label-errors-mnist"


def _vote(i, given, guessed, votes):
    g, s, n = votes
    return {
        "id": i,
        "given_original_label": given,
        "our_guessed_label": guessed,
        "mturk": {"given": g, "guessed": s, "neither": n},
    }


VOTES = [
    _vote(0, 1, 7, (0, 5, 0)),  # correctable under 3 and 5 of 5
    _vote(1, 2, 3, (1, 3, 1)),  # correctable under 3 of 5 only
    _vote(2, 3, 5, (2, 0, 3)),  # neither
    _vote(3, 4, 9, (2, 2, 1)),  # no agreement
    _vote(4, 5, 6, (4, 1, 0)),  # label is fine
    _vote(5, 6, 6, (5, 5, 0)),  # guessed == given: votes counted once
]


def test_consensus_rules():
    reviews = read_crowd_votes(VOTES)
    assert reviews.loc[5, "n_suggested"] == 0
    three = correct_test_set(np.arange(1, 9), reviews, agreement=3)
    outcome = three.outcomes.set_index("index")["outcome"]
    assert outcome.tolist() == [
        "correctable",
        "correctable",
        "neither",
        "no_agreement",
        "label_ok",
        "label_ok",
    ]
    assert three.labels[:2].tolist() == [7, 3]
    assert three.keep.tolist() == [True, True, False, False, True, True, True, True]
    assert three.counts()["validated_errors"] == 4
    five = correct_test_set(np.arange(1, 9), reviews, agreement=5)
    assert five.counts()["validated_errors"] == 1 and five.corrected.sum() == 1


def test_multilabel_drop_or_keep():
    reviews = read_crowd_votes(
        [
            {
                **_vote(0, "a", "b", (0, 1, 0)),
                "mturk": {"given": 0, "guessed": 1, "neither": 0, "both": 4},
            }
        ]
    )
    labels = ["a", "b", "c"]
    assert correct_test_set(labels, reviews).keep.tolist() == [False, True, True]
    kept = correct_test_set(labels, reviews, multilabel="keep")
    assert kept.keep.all() and kept.labels.tolist() == labels
    with pytest.raises(ConfigError):
        correct_test_set(labels, reviews, multilabel="maybe")


def test_review_csv_matches_votes():
    rows = [(0, r, "7" if r < 4 else "1") for r in range(5)]  # 4 of 5 relabel row 0 to 7
    rows += [(2, r, lab) for r, lab in enumerate(["neither", "neither", "neither", "3", "5"])]
    table = pd.DataFrame(rows, columns=["index", "reviewer", "label"])
    reviews = read_review_csv(table, labels=[1, 2, 3])
    assert reviews["suggested"].tolist() == [7, 5]
    assert reviews[["n_given", "n_suggested", "n_neither"]].values.tolist() == [
        [1, 4, 0],
        [1, 1, 3],
    ]
    counts = (
        table.groupby(["index", "label"], as_index=False).size().rename(columns={"size": "votes"})
    )
    assert read_review_csv(counts, labels=[1, 2, 3]).equals(reviews)
    with pytest.raises(InputError):
        read_review_csv(table.drop(columns="reviewer"), labels=[1, 2, 3])


def test_simulated_crowd_accuracy():
    truth = np.repeat(np.arange(10), 50)
    given = (truth + 1) % 10
    reviews = simulate_reviews(truth, given, np.arange(500), truth, accuracy=0.8, random_state=1)
    share = reviews["n_suggested"].sum() / (5 * 500)
    assert 0.76 < share < 0.84


def test_flip_found_on_digits():
    """Finding: the flexible model wins on original labels, the ranking flips at some prevalence.

    Over seeds 0-4 the flip fell at +6% to +9% over a base prevalence of 2-4%."""
    data = digits_stability_data(random_state=0)
    study = benchmark_stability(data.predictions, data.labels, data.reviews, max_prevalence=0.4)
    acc = study.accuracy.set_index("model")
    assert acc.at["rbf_svm", "rank_original"] == 1
    assert acc.at["rbf_svm", "accuracy_original"] > acc.at["linear", "accuracy_original"] + 0.03
    assert study.test_set.counts()["correctable"] >= 10
    flip = study.flips.iloc[0]
    assert (flip["leader"], flip["trailer"]) == ("rbf_svm", "linear")
    assert np.isfinite(flip["flip_prevalence"])
    assert study.base_prevalence < flip["flip_prevalence"] < 0.3
    assert abs(flip["flip_prevalence"] - flip["expected_flip"]) < 0.03
    # The sweep keeps every error and the right share of the rest.
    assert study.sweep["prevalence"].min() == pytest.approx(study.base_prevalence)


def test_markdown_and_plot(tmp_path):
    reviews = read_crowd_votes(VOTES)
    labels = np.arange(1, 21) % 10
    preds = {"a": labels.copy(), "b": np.where(np.arange(20) < 2, [7, 3] * 10, labels)}
    study = benchmark_stability(preds, labels, reviews, repeats=3, n_prevalences=5)
    assert "validated_errors" in study.to_markdown()
    path = study.plot(tmp_path / "x" / "plot.png")
    assert Path(path).read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["plot.png"]


def _app() -> typer.Typer:
    app = typer.Typer(cls=LabelwiseGroup)
    app.command("benchmark")(benchmark_command)
    app.command("noop")(lambda: None)
    return app


def test_cli_writes_results(tmp_path):
    labels = np.arange(1, 21) % 10
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "a.npy", labels)
    np.save(tmp_path / "b.npy", np.eye(10)[np.where(np.arange(20) < 2, [7, 3] * 10, labels)])
    (tmp_path / "votes.json").write_text(json.dumps(VOTES))
    out = tmp_path / "out"
    args = ["benchmark", "--labels", str(tmp_path / "labels.npy"), "-m", f"a={tmp_path / 'a.npy'}"]
    args += ["-m", f"b={tmp_path / 'b.npy'}", "--votes", str(tmp_path / "votes.json")]
    result = CliRunner().invoke(_app(), [*args, "--repeats", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "validated errors" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "benchmark_stability.md",
        "benchmark_stability.png",
        "benchmark_stability_accuracy.csv",
        "benchmark_stability_sweep.csv",
    ]
    bad = CliRunner().invoke(_app(), args[:5] + ["--out", str(out)])
    assert bad.exit_code == 2 and "--votes" in bad.output


@pytest.mark.skipif(not MNIST.is_dir(), reason="../shared/data/label-errors-mnist is absent")
def test_mnist_validated_errors():
    given, pred_probs, reviews = load_mturk_folder(MNIST)
    three = benchmark_stability({"cv": pred_probs}, given, reviews, repeats=2)
    assert three.test_set.counts()["validated_errors"] == 15  # the paper's count
    assert three.test_set.counts()["correctable"] == 10
    five = correct_test_set(given, reviews, agreement=5)
    assert five.counts()["validated_errors"] == 5


def test_no_flip_is_declared_between_equally_accurate_models():
    """Two models equal on the corrected labels: one better on the errors, one on the rest."""
    from labelwise.study.benchmark import correct_test_set

    data = digits_stability_data(random_state=0)
    fixed = correct_test_set(data.labels, data.reviews)
    err = np.flatnonzero(fixed.corrected)
    rest = np.flatnonzero(fixed.keep & ~fixed.corrected)
    truth = fixed.labels
    wrong = (truth + 1) % 10
    a = truth.copy()
    a[err] = wrong[err]  # a misses every error row
    b = truth.copy()
    b[rest[: err.size]] = wrong[rest[: err.size]]  # b misses as many other rows instead
    study = benchmark_stability({"a": a, "b": b}, data.labels, data.reviews, repeats=3)
    acc = study.accuracy.set_index("model")
    assert acc.at["a", "accuracy_corrected"] == acc.at["b", "accuracy_corrected"]
    assert not np.isfinite(study.flips.iloc[0]["flip_prevalence"])
