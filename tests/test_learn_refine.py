"""Tests of online label refinement (OLR): the two conditions, validation, and digits end to end."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from labelwise.errors import ConfigError, InputTypeError, LabelError, ShapeError
from labelwise.learn.refine import BootstrapVotes, OnlineLabelRefiner, fit_with_refinement
from labelwise.simulate import inject_noise


def _votes(answer: str, hits: int, n_votes: int = 10, other: str = "z") -> list[str]:
    return [answer] * hits + [other] * (n_votes - hits)


def _run(refiner: OnlineLabelRefiner, rounds: list[list[str]], label: str = "b") -> np.ndarray:
    out = None
    for votes in rounds:
        out = refiner.update([votes], labels=[label])
    return out


def test_rising_and_stable_answer_replaces_the_label():
    # Answer "a" every round, its pass rate 0.6 -> 1.0: slope 0.1 per round.
    rounds = [_votes("a", hits) for hits in (6, 7, 8, 9, 10)]
    refiner = OnlineLabelRefiner()
    assert _run(refiner, rounds).tolist() == ["a"]
    change = refiner.changes_.iloc[0]
    assert (change["round"], change["index"], change["old"], change["new"]) == (5, 0, "b", "a")
    assert change["slope"] == pytest.approx(0.1)
    assert change["stability"] == 1.0


def test_rising_but_unstable_answer_keeps_the_label():
    # The pass rate rises, but "a" was the majority in only one earlier round of four.
    rounds = [_votes(ans, hits) for ans, hits in (("c", 6), ("d", 7), ("c", 8), ("a", 9))]
    rounds.append(_votes("a", 10))
    refiner = OnlineLabelRefiner()
    assert _run(refiner, rounds).tolist() == ["b"]
    assert refiner.slope_[0] == pytest.approx(0.1)
    assert refiner.changes_.empty


def test_stable_but_flat_or_falling_answer_keeps_the_label():
    for hits in ((8, 8, 8, 8, 8), (10, 9, 8, 7, 6)):
        refiner = OnlineLabelRefiner()
        assert _run(refiner, [_votes("a", h) for h in hits]).tolist() == ["b"]
        assert refiner.slope_[0] <= 0
        assert refiner.stability_[0] == 1.0
        assert refiner.changes_.empty


def test_nothing_changes_before_min_rounds_and_decisions_are_recomputed():
    refiner = OnlineLabelRefiner(min_rounds=5)
    rising = [_votes("a", hits) for hits in (6, 7, 8, 9)]
    assert _run(refiner, rising).tolist() == ["b"]  # 4 rounds: too early
    assert refiner.update([_votes("a", 10)]).tolist() == ["a"]
    # A falling pass rate later undoes the swap: never a permanent overwrite.
    for hits in (6, 4, 3):
        labels = refiner.update([_votes("a", hits)])
    assert labels.tolist() == ["b"]


def test_stability_fraction_variant_and_ties():
    # "a" was the majority in 2 of 4 earlier rounds, tied with "c": passes stability=0.5, but
    # it is not the unique mode of the earlier answers.
    rounds = [_votes(a, h) for a, h in (("a", 6), ("c", 7), ("a", 8), ("c", 9), ("a", 10))]
    assert _run(OnlineLabelRefiner(), rounds).tolist() == ["b"]
    assert _run(OnlineLabelRefiner(stability=0.5), rounds).tolist() == ["a"]
    # A tie in the votes means no answer, so no replacement.
    refiner = OnlineLabelRefiner(min_rounds=1)
    refiner.update([["a", "a", "c", "c"]], labels=["b"])
    assert refiner.majority_history_[0, -1] == -1
    assert refiner.pass_rate_history_[0, -1] == 0.5
    assert refiner.labels_.tolist() == ["b"]


def test_string_labels_several_examples_and_refine():
    labels = np.array(["cat", "dog", "cat"])
    refiner = OnlineLabelRefiner(window=3, min_rounds=3)
    for hits in (3, 4, 5):
        votes = [
            ["dog"] * hits + ["cat"] * (5 - hits),
            ["dog"] * 5,
            ["bird"] * hits + ["x"] * (5 - hits),
        ]
        out = refiner.update(np.array(votes, dtype=object), labels=labels)
    assert out.tolist() == ["dog", "dog", "bird"]
    assert refiner.changes_[["index", "new"]].values.tolist() == [[0, "dog"], [2, "bird"]]
    assert refiner.refine(["a", "b", "c"]).tolist() == ["dog", "b", "bird"]
    assert refiner.refine([1, 2, 3]).tolist() == ["dog", 2, "bird"]  # mixed: object array


def test_one_prediction_per_round():
    refiner = OnlineLabelRefiner(min_slope=0.0, min_rounds=2)
    refiner.update(np.array([1, 2]), labels=[1, 1])
    assert refiner.update(np.array([1, 2])).tolist() == [1, 2]
    assert refiner.pass_rate_history_.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_validation_errors():
    refiner = OnlineLabelRefiner()
    with pytest.raises(LabelError):
        refiner.update([[1, 2]])  # no labels on the first call
    with pytest.raises(ShapeError):
        refiner.update(np.zeros((2, 2, 2)), labels=[0, 0])
    with pytest.raises(ShapeError):
        refiner.update(np.zeros((3, 2)), labels=[0, 0])
    with pytest.raises(ShapeError):
        refiner.update([[1, 2], [3]], labels=[0, 0])
    with pytest.raises(InputTypeError):
        refiner.update(5, labels=[0])
    with pytest.raises(LabelError):
        refiner.update([[1.0, np.nan]], labels=[0])
    refiner.update(np.zeros((2, 3)), labels=[0, 0])
    with pytest.raises(ShapeError):
        refiner.update(np.zeros((4, 3)))
    with pytest.raises(ShapeError):
        refiner.refine([0, 0, 0])
    with pytest.raises(LabelError):
        OnlineLabelRefiner().refine([0])
    for bad in ({"window": 1}, {"stability": 1.5}, {"min_rounds": 0}, {"min_slope": np.nan}):
        with pytest.raises(ConfigError):
            OnlineLabelRefiner(**bad).update([0], labels=[0])
    with pytest.raises(InputTypeError):
        fit_with_refinement(DecisionTreeClassifier(), np.zeros((2, 1)), [0, 1])
    with pytest.raises(ShapeError):
        fit_with_refinement(SGDClassifier(), np.zeros((3, 1)), [0, 1])
    with pytest.raises(ConfigError):
        BootstrapVotes(DecisionTreeClassifier(), n_estimators=0)(np.zeros((2, 1)), [0, 1])


@pytest.fixture(scope="module")
def noisy_digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y, inject_noise(y, rate=0.3, random_state=0).labels


def _report(name, refiner, y, noisy):
    changes = refiner.changes_
    right = int((changes["new"].to_numpy() == y[changes["index"].to_numpy()]).sum())
    final = refiner.labels_ != noisy
    final_right = int((refiner.labels_[final] == y[final]).sum())
    print(
        f"{name}: change rows right {right} / wrong {len(changes) - right}; final labels changed "
        f"right {final_right} / wrong {int(final.sum()) - final_right}"
    )
    return right, len(changes) - right, final_right, int(final.sum()) - final_right


def test_digits_sgd_partial_fit_changes_are_mostly_right(noisy_digits):
    X, y, noisy = noisy_digits
    model = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0)
    fitted, refiner = fit_with_refinement(model, X, noisy, rounds=15)
    right, wrong, final_right, final_wrong = _report("SGD partial_fit", refiner, y, noisy)
    assert right > 2 * wrong and final_right > 2 * final_wrong
    assert (refiner.labels_ == y).mean() > (noisy == y).mean()
    assert fitted.predict(X[:5]).shape == (5,)


def test_digits_bootstrap_ensemble_changes_are_mostly_right(noisy_digits):
    X, y, noisy = noisy_digits
    member = SGDClassifier(loss="log_loss", alpha=1e-3, max_iter=5, tol=None, random_state=0)
    votes = BootstrapVotes(member, n_estimators=8, random_state=0)
    refiner, labels = OnlineLabelRefiner(), noisy
    for _ in range(8):
        labels = refiner.update(votes(X, labels), labels=noisy)
    right, wrong, final_right, final_wrong = _report("bootstrap ensemble", refiner, y, noisy)
    assert right > 2 * wrong and final_right > 2 * final_wrong
