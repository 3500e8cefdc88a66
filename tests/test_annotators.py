"""Consensus labels, annotator quality and what to label next (labelwise.annotators)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import labelwise as lw
from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, ShapeError
from labelwise.simulate import simulate_annotators

METHODS = ["dawid_skene", "crowdlab", "majority"]


def _probs(truth: np.ndarray, k: int, strength: float = 2.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(truth), k))
    logits[np.arange(len(truth)), truth] += strength
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def _crowd(n=600, k=4, m=20, votes=3, kinds=None, seed=0):
    truth = np.random.default_rng(seed).integers(k, size=n)
    crowd = simulate_annotators(
        truth, n_annotators=m, votes_per_item=votes, kinds=kinds, n_classes=k, random_state=seed
    )
    return truth, crowd


def _wide(votes: pd.DataFrame, n: int, m: int) -> pd.DataFrame:
    table = pd.DataFrame(np.nan, index=range(n), columns=range(m), dtype=object)
    for item, annotator, label in votes.itertuples(index=False):
        table.iat[item, annotator] = label
    return table


@pytest.fixture(scope="module")
def string_votes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ann": ["cat", "dog", "dog", None, "bird"],
            "bo": ["cat", "dog", None, None, "bird"],
            "cy": ["dog", "dog", "cat", None, "cat"],
            "di": ["dog", "dog", "dog", None, "dog"],  # labels everything the same
        },
        index=["a", "b", "c", "d", "e"],
    )


@pytest.mark.parametrize("method", ["dawid_skene", "majority"])
def test_string_labels_wide(string_votes, method):
    result = lw.consensus(string_votes, method=method)
    assert list(result.classes) == ["bird", "cat", "dog"]
    assert list(result.items) == ["a", "b", "c", "d", "e"]
    assert set(result.labels) <= {"bird", "cat", "dog"}
    assert result.labels[1] == "dog"  # everyone agrees
    assert result.n_votes.tolist() == [4, 4, 3, 0, 4]
    assert np.isnan(result.agreement[3]) and result.agreement[1] == 1.0
    assert list(result.annotators["annotator"]) == ["ann", "bo", "cy", "di"]
    assert result.annotators["n_labels"].tolist() == [4, 3, 4, 4]
    frame = result.to_frame()
    assert list(frame.columns) == ["item", "consensus", "quality", "agreement", "n_votes"]
    assert frame.index.name == "row"
    assert np.all((result.quality > 0) & (result.quality <= 1))
    assert np.allclose(result.posterior.sum(axis=1), 1)


def test_wide_and_long_agree(string_votes):
    long = (
        string_votes.rename_axis("item")
        .reset_index()
        .melt(id_vars="item", var_name="annotator", value_name="label")
    )
    items = list(string_votes.index)
    wide_result = lw.consensus(string_votes)
    long_result = lw.consensus(long, items=items)
    assert list(long_result.labels) == list(wide_result.labels)
    assert np.allclose(long_result.quality, wide_result.quality)
    # Without items, long votes know the items they name, with an empty label or not.
    assert list(lw.consensus(long).items) == ["a", "b", "c", "d", "e"]
    assert list(lw.consensus(long.dropna()).items) == ["a", "b", "c", "e"]


def test_long_with_pred_probs_uses_row_numbers():
    truth, crowd = _crowd(n=200, k=3)
    probs = _probs(truth, 3)
    by_rows = lw.consensus(crowd.votes, probs)
    shuffled = crowd.votes.sample(frac=1.0, random_state=1)
    assert np.array_equal(lw.consensus(shuffled, probs).labels, by_rows.labels)
    with pytest.raises(InputError, match="items="):
        lw.consensus(crowd.votes.assign(item=crowd.votes["item"] + 1000), probs)


def test_custom_long_columns():
    votes = pd.DataFrame({"img": [1, 1, 2], "who": ["x", "y", "x"], "tag": ["a", "a", "b"]})
    result = lw.consensus(votes, columns=("img", "who", "tag"), method="majority")
    assert result.labels.tolist() == ["a", "b"]
    with pytest.raises(InputError, match="columns"):
        lw.consensus(votes, format="long")


def test_items_with_no_votes_take_the_model():
    votes = np.array([[0, 0], [1, np.nan], [np.nan, np.nan]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    for method in METHODS:
        result = lw.consensus(votes, probs, method=method)
        assert result.labels[2] == 1
        assert result.n_votes[2] == 0
    # Without a model, the item gets the likeliest class and a quality below certainty.
    result = lw.consensus(votes)
    assert result.n_votes[2] == 0 and result.quality[2] < 1


def test_one_annotator():
    votes = pd.DataFrame({"only": ["a", "b", "a", None]})
    result = lw.consensus(votes)
    assert result.labels[:3].tolist() == ["a", "b", "a"]
    assert len(result.annotators) == 1
    with pytest.raises(InputError, match="two or more votes"):
        lw.consensus(votes, np.full((4, 2), 0.5), method="crowdlab")


def test_constant_annotator_ranks_last():
    truth, crowd = _crowd(n=800, k=4, m=12, kinds={"good": 0.9, "constant": 0.1}, seed=3)
    result = lw.consensus(crowd.votes, _probs(truth, 4))
    worst = result.worst_annotators(1)["annotator"].iloc[0]
    assert crowd.kinds[worst] == "constant"
    assert (result.labels == truth).mean() > 0.95


def test_an_annotator_with_no_labels_is_listed_without_quality():
    votes = pd.DataFrame({"a": [0, 1, 1], "b": [0, 1, 0], "idle": [np.nan] * 3})
    result = lw.consensus(votes)
    idle = result.annotators.set_index("annotator").loc["idle"]
    assert idle["n_labels"] == 0 and np.isnan(idle["quality"]) and idle["worst_class"] is None


@pytest.mark.parametrize("kind", ["careless", "biased", "adversarial"])
def test_dawid_skene_beats_majority_on_bad_annotators(kind):
    truth, crowd = _crowd(n=1500, k=4, m=20, kinds={"good": 0.5, kind: 0.5}, seed=2)
    probs = _probs(truth, 4, seed=2)
    ours = (lw.consensus(crowd.votes, probs).labels == truth).mean()
    majority = (lw.consensus(crowd.votes, probs, method="majority").labels == truth).mean()
    crowdlab = (lw.consensus(crowd.votes, probs, method="crowdlab").labels == truth).mean()
    assert ours > majority and ours >= crowdlab - 0.005


def test_annotator_quality_ranks_true_accuracy():
    truth, crowd = _crowd(n=2000, k=5, m=30, kinds={"good": 0.6, "careless": 0.4}, seed=4)
    result = lw.consensus(crowd.votes, _probs(truth, 5, seed=4))
    ids = result.annotators["annotator"].to_numpy()
    rho = spearmanr(result.annotators["quality"], crowd.accuracy[ids])[0]
    assert rho > 0.9


def test_model_weight_follows_the_model():
    truth, crowd = _crowd(n=1500, k=4, m=20, seed=5)
    good = lw.consensus(crowd.votes, _probs(truth, 4, strength=3.0, seed=5)).model_weight
    useless = lw.consensus(crowd.votes, _probs(truth, 4, strength=0.0, seed=5)).model_weight
    assert good > 1.0 > useless


def test_without_a_model_the_latent_class_model_still_helps():
    truth, crowd = _crowd(n=2000, k=3, m=15, kinds={"good": 0.6, "adversarial": 0.4}, seed=6)
    items = np.arange(len(truth))
    ours = (lw.consensus(crowd.votes, items=items).labels == truth).mean()
    majority = (lw.consensus(crowd.votes, items=items, method="majority").labels == truth).mean()
    assert ours > majority


def test_renaming_annotators_and_classes_changes_nothing():
    truth, crowd = _crowd(n=400, k=3, m=10, kinds={"good": 0.7, "careless": 0.3}, seed=7)
    probs = _probs(truth, 3, seed=7)
    names = np.array(["zed", "amy", "kim"])
    renamed = crowd.votes.assign(
        annotator="ann-" + crowd.votes["annotator"].astype(str), label=names[crowd.votes["label"]]
    )
    plain = lw.consensus(crowd.votes, probs)
    named = lw.consensus(renamed, probs, classes=list(names))
    assert np.array_equal(names[plain.labels.astype(int)], named.labels)
    assert np.allclose(plain.quality, named.quality)


def test_integer_codes_in_a_float_table_stay_integers():
    votes = np.array([[0.0, 1.0], [2.0, np.nan], [1.0, 1.0]])
    result = lw.consensus(votes, method="majority")
    assert result.classes.tolist() == [0, 1, 2]
    assert result.labels.dtype.kind == "i"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: lw.consensus(np.array([np.nan, np.nan])[None, :]), InputError, "no labels"),
        (lambda: lw.consensus(np.zeros(3)), ShapeError, "2-D"),
        (
            lambda: lw.consensus(np.zeros((3, 2)), np.full((4, 2), 0.5)),
            ShapeError,
            "pred_probs has 4",
        ),
        (lambda: lw.consensus(np.zeros((3, 2)), method="crowdlab"), ConfigError, "pred_probs"),
        (lambda: lw.consensus(np.zeros((3, 2)), method="vote"), ConfigError, "method"),
        (lambda: lw.consensus(np.zeros((3, 2)), smoothing=-1), ConfigError, "smoothing"),
        (
            lambda: lw.consensus(pd.DataFrame({"a": ["x", "y"]}), classes=["x"]),
            LabelError,
            "not among the classes",
        ),
        (
            lambda: lw.consensus(
                pd.DataFrame({"item": [1, 1], "annotator": ["a", "a"], "label": [0, 1]})
            ),
            InputError,
            "more than once",
        ),
        (
            lambda: lw.consensus(pd.DataFrame({"a": ["x", "y", "z"]}), np.full((3, 2), 0.5)),
            LabelError,
            "classes",
        ),
    ],
)
def test_bad_input_names_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_json_form(string_votes):
    document = json.loads(json.dumps(lw.consensus(string_votes).to_dict(), allow_nan=False))
    assert document["classes"] == ["bird", "cat", "dog"]
    assert document["items"][3] | {"quality": None} == {
        "row": 3,
        "item": "d",
        "consensus": document["items"][3]["consensus"],
        "quality": None,
        "agreement": None,
        "n_votes": 0,
    }
    assert [a["annotator"] for a in document["annotators"]] == ["ann", "bo", "cy", "di"]


def test_repr_and_tables(string_votes):
    result = lw.consensus(string_votes)
    text = repr(result)
    assert "5 items" in text and "4 annotators" in text and "1 with no votes" in text
    assert len(result.doubtful_items(2)) == 2
    assert result.doubtful_items(None)["quality"].is_monotonic_increasing


def test_lone_votes_without_a_model_stay_the_votes():
    """With one vote per item and no model, no vote says anything about its annotator: the
    consensus must not drift to one class (as a free-running EM does)."""
    votes = np.array([[0.0], [1], [2], [0], [1], [2], [0]])
    assert lw.consensus(votes).labels.tolist() == [0, 1, 2, 0, 1, 2, 0]
    truth, crowd = _crowd(n=1000, k=3, m=100, votes=1, seed=9)
    items = np.arange(len(truth))
    ours = lw.consensus(crowd.votes, items=items).labels
    majority = lw.consensus(crowd.votes, items=items, method="majority").labels
    assert (ours == truth).mean() >= (majority == truth).mean()
    assert len(np.unique(ours)) == 3


@pytest.mark.parametrize("method", ["dawid_skene", "majority"])
def test_a_single_class(method):
    result = lw.consensus(np.array([[0, 0], [0, np.nan], [np.nan, 0]]), method=method)
    assert result.labels.tolist() == [0, 0, 0]
    assert np.all(result.quality == 1) and not np.isnan(result.posterior).any()


def test_categorical_labels_keep_their_category_order():
    labels = pd.Categorical(["dog", "dog", "cat", "dog"], categories=["dog", "cat"])
    long = pd.DataFrame({"item": [0, 0, 1, 1], "annotator": list("abab"), "label": labels})
    result = lw.consensus(long, np.array([[0.9, 0.1], [0.9, 0.1]]), method="majority")
    assert result.classes.tolist() == ["dog", "cat"]
    assert result.labels.tolist() == ["dog", "dog"]
    order = ["y", "x", "z"]
    wide = pd.DataFrame(
        {"a": pd.Categorical(["x", "y"], order), "b": pd.Categorical(["x", "z"], order)}
    )
    assert lw.consensus(wide, np.full((2, 3), 1 / 3)).classes.tolist() == ["y", "x", "z"]


@pytest.mark.parametrize(
    ("votes", "classes"),
    [
        ([["cat", np.nan], ["dog", "dog"]], ["cat", "dog"]),  # no class "nan"
        (np.array([[1, "1"], [1, 2]], dtype=object), [1, "1", 2]),  # 1 and "1" differ
        (np.array([[2**60, None], [2**60 + 1, 2**60 + 1]], dtype=object), [2**60, 2**60 + 1]),
        (np.array([[2**70, None], [3, 3]], dtype=object), [3, 2**70]),
    ],
)
def test_labels_keep_their_identity(votes, classes):
    assert lw.consensus(votes, method="majority").classes.tolist() == classes


def test_unsigned_integer_labels_with_pred_probs():
    votes = np.array([[0, 1], [1, 1]], dtype=np.uint64)
    assert lw.consensus(votes, np.array([[0.5, 0.5], [0.2, 0.8]])).labels.tolist()[1] == 1


def test_a_long_item_with_only_empty_labels_is_an_item_without_votes():
    votes = pd.DataFrame(
        {"item": ["x", "x", "y"], "annotator": [1, 2, 1], "label": list("cd") + [None]}
    )
    result = lw.consensus(votes)
    assert result.items.tolist() == ["x", "y"] and result.n_votes.tolist() == [2, 0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: lw.consensus(pd.DataFrame({"image": [1], "annotator": [1], "label": [1]})),
            "columns=",
        ),
        (lambda: lw.consensus(pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])), "repeated"),
        (
            lambda: lw.consensus(
                pd.DataFrame({"item": [1], "annotator": [1], "label": [1]}), items=[1, 1]
            ),
            "more than once",
        ),
        (
            lambda: lw.consensus(
                pd.DataFrame({"item": [0], "annotator": [1], "label": [np.nan]}),
                np.ones((1, 2)) / 2,
            ),
            "no labels",
        ),
    ],
)
def test_malformed_tables_name_the_fix(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    "votes",
    [
        pd.DataFrame({"a": [(1, 2), (3, 4)], "b": [(1, 2), None]}),
        pd.DataFrame({"item": [1, 1], "annotator": [(1, 2), (3, 4)], "label": [1, 2]}),
    ],
)
def test_tuples_are_refused_with_a_fix(votes):
    with pytest.raises(InputTypeError, match="join the parts"):
        lw.consensus(votes)


# --- what to label next -------------------------------------------------------------------


def test_relabel_priority_prefers_doubt_and_unlabeled_items():
    votes = np.array(
        [[0, 0, 0, 0], [0, 1, np.nan, np.nan], [np.nan] * 4, [1, 1, 1, np.nan], [1, 0, 1, 0]]
    )
    ranked = lw.relabel_priority(votes)
    assert list(ranked.columns) == ["row", "item", "score", "n_votes", "consensus", "quality"]
    assert ranked["score"].is_monotonic_decreasing
    assert (ranked["score"] >= 0).all()
    assert ranked["row"].iloc[-1] == 0  # four agreeing votes: one more changes nothing
    assert set(ranked["row"].head(3)) >= {1, 4}
    assert len(lw.relabel_priority(votes, n=2)) == 2


def test_relabel_priority_beats_random_choice():
    k, n = 5, 1500
    truth, crowd = _crowd(n=n, k=k, m=30, votes=1, kinds={"good": 0.7, "careless": 0.3}, seed=8)
    probs = _probs(truth, k, seed=8)
    rng = np.random.default_rng(8)

    def after_one_round(chosen):
        extra = pd.DataFrame(
            {
                "item": chosen,
                "annotator": -1 - np.arange(len(chosen)) % 5,  # five fresh annotators
                "label": [
                    rng.choice(k, p=crowd.confusion[0, truth[i]]) if rng.random() < 0.9 else i % k
                    for i in chosen
                ],
            }
        )
        votes = pd.concat([crowd.votes, extra], ignore_index=True)
        return (lw.consensus(votes, probs).labels == truth).mean()

    chosen = lw.consensus(crowd.votes, probs).relabel_priority(300)["row"].to_numpy()
    random = rng.choice(n, 300, replace=False)
    assert after_one_round(chosen) > after_one_round(random)


def test_relabel_priority_rejects_a_bad_n():
    with pytest.raises(ConfigError, match="n must be"):
        lw.relabel_priority(np.zeros((3, 2)), n=0)


# --- the simulated crowd --------------------------------------------------------------------


def test_simulated_crowd_is_what_it_says():
    truth = np.arange(3000) % 4
    settings = {
        "n_annotators": 40,
        "votes_per_item": (0, 4),
        "kinds": {"good": 0.5, "constant": 0.25, "adversarial": 0.25},
        "random_state": 0,
    }
    crowd = simulate_annotators(truth, **settings)
    votes = crowd.votes
    assert not votes.duplicated(["item", "annotator"]).any()
    per_item = votes.groupby("item").size().reindex(range(3000), fill_value=0)
    assert per_item.min() == 0 and per_item.max() == 4
    assert np.allclose(crowd.confusion.sum(axis=2), 1)
    constant = np.flatnonzero(crowd.kinds == "constant")
    assert (votes[votes.annotator.isin(constant)].groupby("annotator").label.nunique() == 1).all()
    good = np.flatnonzero(crowd.kinds == "good")
    assert np.nanmin(crowd.accuracy[good]) > 0.6
    pd.testing.assert_frame_equal(simulate_annotators(truth, **settings).votes, votes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"true_labels": [0, 1], "kinds": {"sloppy": 1.0}}, ConfigError, "unknown annotator"),
        ({"true_labels": [0, 1], "n_annotators": 2, "votes_per_item": 3}, ConfigError, "votes"),
        ({"true_labels": [0, 1], "votes_per_item": (1.5, 2)}, ConfigError, "whole numbers"),
        ({"true_labels": [0, 1], "kinds": {"good": float("nan")}}, ConfigError, "finite"),
        ({"true_labels": [0, 0]}, ConfigError, "single class"),
        ({"true_labels": [0, 5], "n_classes": 3}, LabelError, "below n_classes"),
        ({"true_labels": [-1, 1]}, LabelError, "integer class codes"),
        ({"true_labels": [0.5, 1.0]}, LabelError, "integer class codes"),
    ],
)
def test_simulated_crowd_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        simulate_annotators(**kwargs)


def test_every_kind_gets_its_share_of_a_small_crowd():
    kinds = {"good": 1, "careless": 1, "biased": 1}
    crowd = simulate_annotators(np.arange(30) % 3, n_annotators=3, kinds=kinds, random_state=0)
    assert sorted(crowd.kinds) == ["biased", "careless", "good"]
