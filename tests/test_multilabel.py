"""Multi-label issues: the reference tool's answers (cleanlab 2.9), and clear errors on bad input.

The reference is a test dependency only; labelwise never imports it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import labelwise as lw
from labelwise import errors
from labelwise.issues.multilabel import (
    AGGREGATIONS,
    MULTILABEL_METHODS,
    find_multilabel_issues,
    multilabel_quality_scores,
)

cleanlab_ml_filter = pytest.importorskip("cleanlab.multilabel_classification.filter")
cleanlab_ml_rank = pytest.importorskip("cleanlab.multilabel_classification.rank")

PRUNING = ["prune_by_noise_rate", "prune_by_class", "both"]
PER_CLASS = [*PRUNING, "confident_learning", "predicted_neq_given"]


def multilabel_problem(rng, n, k, noise=0.05, dtype=np.float64, absent=()):
    """(given, pred_probs): a mostly right one-vs-rest model, labels flipped on a ``noise`` share.

    Classes in ``absent`` are carried by no example (the model still predicts them).
    """
    truth = rng.random((n, k)) < rng.uniform(0.1, 0.5, k)
    logits = rng.normal(2.0, 1.2, (n, k)) * np.where(truth, 1, -1)
    pred_probs = (1 / (1 + np.exp(-logits))).astype(dtype)
    given_matrix = truth ^ (rng.random((n, k)) < noise)
    given_matrix[:, list(absent)] = False
    return given_matrix, pred_probs


def as_lists(matrix):
    return [np.flatnonzero(row).tolist() for row in matrix]


def object_array(items):
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def reference_mask(matrix, pred_probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cleanlab_ml_filter.find_label_issues(
            as_lists(matrix), pred_probs, filter_by=method, n_jobs=1, **kwargs
        )


def ours(labels, pred_probs, method="prune_by_noise_rate", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SmallClassWarning)
        return find_multilabel_issues(labels, pred_probs, method=method, n_jobs=1, **kwargs)


# --- Differential: random data -----------------------------------------------------------------


@pytest.mark.parametrize("method", MULTILABEL_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_equal_reference_on_random_data(method, dtype):
    rng = np.random.default_rng(11)
    # The reference's predicted_neq_given refuses a class that no example carries.
    absent = () if method == "predicted_neq_given" else (2,)
    for n, k in [(1500, 6), (600, 12)]:
        matrix, pred_probs = multilabel_problem(rng, n, k, dtype=dtype, absent=absent)
        assert (~matrix.any(axis=1)).any()  # some examples carry no class at all
        expected = reference_mask(matrix, pred_probs, method)
        assert expected.any()
        np.testing.assert_array_equal(ours(as_lists(matrix), pred_probs, method).mask, expected)


@pytest.mark.parametrize("method", PER_CLASS)
def test_per_class_mask_equals_reference(method):
    matrix, pred_probs = multilabel_problem(np.random.default_rng(12), 1000, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cleanlab_ml_filter.find_multilabel_issues_per_class(
            as_lists(matrix), pred_probs, filter_by=method, n_jobs=1
        )
    issues = ours(matrix, pred_probs, method)
    np.testing.assert_array_equal(issues.per_class_mask, expected)
    np.testing.assert_array_equal(issues.mask, issues.per_class_mask.any(axis=1))


@pytest.mark.parametrize("frac_noise", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("minimum", [0, 1, 5, 50])
@pytest.mark.parametrize("method", PRUNING)
def test_pruning_options_equal_reference(method, minimum, frac_noise):
    matrix, pred_probs = multilabel_problem(np.random.default_rng(13), 700, 4, noise=0.1)
    matrix[:, 3] = False
    matrix[:4, 3] = True  # a rare class: given to 4 examples
    expected = reference_mask(
        matrix, pred_probs, method, min_examples_per_class=minimum, frac_noise=frac_noise
    )
    got = ours(matrix, pred_probs, method, min_examples_per_class=minimum, frac_noise=frac_noise)
    np.testing.assert_array_equal(got.mask, expected)


def test_string_names_sets_and_matrices_give_the_same_answer():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(14), 900, 5, absent=(1,))
    names = np.array(["ant", "bee", "cat", "dog", "eel"])
    expected = reference_mask(matrix, pred_probs, "prune_by_noise_rate")
    as_names = [names[row].tolist() for row in matrix]
    shuffled = pd.DataFrame(matrix.astype(int), columns=names)[["eel", "cat", "ant", "dog", "bee"]]
    variants = [
        ours(as_names, pred_probs, classes=names),  # "bee" is carried by no one: name it
        ours([set(row) for row in as_names], pd.DataFrame(pred_probs, columns=names)),
        ours(pd.Series([tuple(row) for row in as_names]), pred_probs, classes=names),
        ours(object_array([np.array(row) for row in as_names]), pred_probs, classes=names),
        ours(matrix, pred_probs, classes=names),
        ours(matrix.astype(np.uint8), pred_probs, classes=names),
        ours(shuffled, pd.DataFrame(pred_probs, columns=names)),  # aligned by name
        ours(shuffled, pred_probs, classes=names),
    ]
    by_index = ours(as_lists(matrix), pred_probs)
    for issues in variants:
        np.testing.assert_array_equal(issues.mask, expected)
        np.testing.assert_array_equal(issues.per_class_mask, by_index.per_class_mask)
        np.testing.assert_array_equal(issues.indices, by_index.indices)
        np.testing.assert_array_equal(issues.scores, by_index.scores)
        assert issues.classes.tolist() == names.tolist()


def test_unsorted_integer_names_take_sorted_columns():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(15), 500, 3)
    codes = np.array([10, 20, 30])
    issues = ours([codes[row].tolist() for row in matrix], pred_probs)
    assert issues.classes.tolist() == [10, 20, 30]
    np.testing.assert_array_equal(issues.mask, reference_mask(matrix, pred_probs, PRUNING[0]))


@pytest.mark.parametrize("rank_by", lw.SCORE_METHODS)
@pytest.mark.parametrize("method", ["prune_by_noise_rate", "confident_learning"])
def test_ranking_follows_reference_order(method, rank_by):
    matrix, pred_probs = multilabel_problem(np.random.default_rng(16), 1200, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cleanlab_ml_filter.find_label_issues(
            as_lists(matrix),
            pred_probs,
            filter_by=method,
            n_jobs=1,
            return_indices_ranked_by=rank_by,
        )
    # Scores are continuous here, so the order is fully determined.
    np.testing.assert_array_equal(
        ours(matrix, pred_probs, method, rank_by=rank_by).indices, expected
    )


@pytest.mark.parametrize("method", ["low_self_confidence", "low_normalized_margin"])
def test_ranked_methods_list_issues_by_score(method):
    """The reference scrambles the order of these (it sorts scores in row order but applies
    the order to indices in score order); labelwise lists them by score, like every method."""
    matrix, pred_probs = multilabel_problem(np.random.default_rng(17), 800, 5)
    issues = ours(matrix, pred_probs, method)
    assert set(issues.indices) == set(np.flatnonzero(reference_mask(matrix, pred_probs, method)))
    assert (np.diff(issues.scores[issues.indices]) >= 0).all()
    # Every flagged example implicates some class, and no other example does.
    np.testing.assert_array_equal(issues.per_class_mask.any(axis=1), issues.mask)


def test_a_class_on_every_example_is_checked_like_any_other():
    """The reference refuses it ("Labels must contain at least 2 classes"); labelwise checks it:
    with one given value, confident learning has nothing to point to and flags nothing there."""
    matrix, pred_probs = multilabel_problem(np.random.default_rng(18), 800, 4)
    everywhere = np.column_stack([matrix, np.ones(len(matrix), dtype=bool)])
    probs = np.column_stack([pred_probs, np.random.default_rng(1).random(len(matrix))])
    with pytest.raises(ValueError, match="at least 2 classes"):
        reference_mask(everywhere, probs, "prune_by_noise_rate")
    for method in [*PRUNING, "confident_learning"]:
        issues = ours(everywhere, probs, method)
        np.testing.assert_array_equal(issues.mask, reference_mask(matrix, pred_probs, method))
        assert not issues.per_class_mask[:, -1].any()
    # The ranked methods flag as many (the scores, and so the examples chosen, change).
    expected = reference_mask(matrix, pred_probs, "low_self_confidence").sum()
    assert ours(everywhere, probs, "low_self_confidence").num_issues == expected


def test_predicted_neq_given_checks_classes_no_one_carries():
    """The reference's predicted_neq_given refuses a class carried by no example; labelwise
    flags the examples whose model clearly says that class applies."""
    matrix, pred_probs = multilabel_problem(np.random.default_rng(19), 400, 3, absent=(0,))
    with pytest.raises(ValueError, match="at least 2 classes"):
        reference_mask(matrix, pred_probs, "predicted_neq_given")
    issues = ours(matrix, pred_probs, "predicted_neq_given")
    np.testing.assert_array_equal(issues.per_class_mask[:, 0], pred_probs[:, 0] > 0.5 + 1e-6)


# --- Differential: ties (hypothesis) -----------------------------------------------------------


@st.composite
def multilabel_ties(draw, max_n: int = 30, max_k: int = 4, grid: int = 4):
    """(given, pred_probs) on a coarse probability grid, labels mostly agreeing with the model."""
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(1, max_n))
    steps = draw(st.lists(st.integers(0, grid), min_size=n * k, max_size=n * k))
    pred_probs = np.array(steps, dtype=float).reshape(n, k) / grid
    flips = np.array(draw(st.lists(st.integers(0, 3), min_size=n * k, max_size=n * k)))
    matrix = (pred_probs > 0.5) ^ (flips.reshape(n, k) == 0)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return matrix, pred_probs.astype(dtype)


def reference_accepts(matrix, method):
    """Inputs the reference refuses with an error (see docs/multilabel.md)."""
    if matrix.all(axis=0).any():  # a class on every example
        return False
    if method == "predicted_neq_given" and not matrix.any(axis=0).all():
        return False  # a class on no example
    if method.startswith("low_"):  # its scorer wants K > 1 and both a 0 and a 1 somewhere
        return matrix.shape[1] > 1 and matrix.any() and not matrix.all()
    return True


@pytest.mark.parametrize("method", MULTILABEL_METHODS)
@settings(max_examples=30)
@given(problem=multilabel_ties())
def test_masks_equal_reference_with_ties(method, problem):
    matrix, pred_probs = problem
    assume(reference_accepts(matrix, method))
    expected = reference_mask(matrix, pred_probs, method)
    issues = ours(as_lists(matrix), pred_probs, method)
    np.testing.assert_array_equal(issues.mask, expected)
    np.testing.assert_array_equal(ours(matrix, pred_probs, method).mask, expected)


@pytest.mark.parametrize("method", PRUNING)
@settings(max_examples=20)
@given(
    problem=multilabel_ties(max_n=50),
    minimum=st.integers(0, 4),
    frac_noise=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
)
def test_pruning_options_equal_reference_with_ties(method, problem, minimum, frac_noise):
    matrix, pred_probs = problem
    assume(reference_accepts(matrix, method))
    options = {"min_examples_per_class": minimum, "frac_noise": frac_noise}
    expected = reference_mask(matrix, pred_probs, method, **options)
    np.testing.assert_array_equal(ours(matrix, pred_probs, method, **options).mask, expected)


@settings(max_examples=40)
@given(problem=multilabel_ties(max_n=40, max_k=5))
def test_scores_equal_reference_with_ties(problem):
    matrix, pred_probs = problem
    assume(matrix.shape[1] > 1 and matrix.any() and not matrix.all())
    expected = cleanlab_ml_rank.get_label_quality_scores(as_lists(matrix), pred_probs)
    np.testing.assert_array_equal(multilabel_quality_scores(matrix, pred_probs), expected)
    np.testing.assert_array_equal(ours(matrix, pred_probs).scores, expected)


# --- Scores ------------------------------------------------------------------------------------

AGGREGATOR_KWARGS = [
    ("exponential_moving_average", {"alpha": 0.8}),
    ("exponential_moving_average", {"alpha": None}),
    ("exponential_moving_average", {"alpha": 0.3}),
    ("softmin", {"temperature": 0.1}),
    ("softmin", {"temperature": 0.5}),
]


@pytest.mark.parametrize("score_method", lw.SCORE_METHODS)
@pytest.mark.parametrize(("aggregation", "kwargs"), AGGREGATOR_KWARGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scores_equal_reference(score_method, aggregation, kwargs, dtype):
    matrix, pred_probs = multilabel_problem(np.random.default_rng(20), 3000, 7, dtype=dtype)
    expected = cleanlab_ml_rank.get_label_quality_scores(
        as_lists(matrix),
        pred_probs,
        method=score_method,
        aggregator_kwargs={"method": aggregation, **kwargs},
    )
    got = multilabel_quality_scores(
        matrix, pred_probs, method=score_method, aggregation=aggregation, **kwargs
    )
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    if aggregation == "exponential_moving_average":  # the same recursion: the same bits
        np.testing.assert_array_equal(got, expected)


def test_default_scores_are_the_references_default():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(21), 2000, 6, absent=(4,))
    expected = cleanlab_ml_rank.get_label_quality_scores(as_lists(matrix), pred_probs)
    np.testing.assert_array_equal(multilabel_quality_scores(as_lists(matrix), pred_probs), expected)
    np.testing.assert_array_equal(ours(matrix, pred_probs).scores, expected)


def test_scores_do_not_depend_on_blocking(monkeypatch):
    matrix, pred_probs = multilabel_problem(np.random.default_rng(22), 500, 6)
    whole = multilabel_quality_scores(matrix, pred_probs, aggregation="softmin")
    monkeypatch.setattr("labelwise.issues.multilabel.BLOCK_ELEMENTS", 60)  # 10 rows a block
    np.testing.assert_array_equal(
        multilabel_quality_scores(matrix, pred_probs, aggregation="softmin"), whole
    )


def test_docstring_example_equals_reference():
    labels = [["cat"], ["cat"], ["dog"], ["cat", "dog"], ["dog"], ["cat"]]
    pred_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.8, 0.9], [0.2, 0.8], [0.1, 0.9]])
    codes = [[{"cat": 0, "dog": 1}[c] for c in row] for row in labels]
    expected = cleanlab_ml_filter.find_label_issues(codes, pred_probs, n_jobs=1)
    issues = find_multilabel_issues(labels, pred_probs, n_jobs=1)
    np.testing.assert_array_equal(issues.mask, expected)
    assert issues.indices.tolist() == [5]


# --- Result object -----------------------------------------------------------------------------


def test_result_fields_and_frame():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(23), 600, 4)
    names = ["a", "b", "c", "d"]
    issues = ours(matrix, pred_probs, classes=names)
    assert issues.num_issues == len(issues) == int(issues.mask.sum()) > 0
    assert issues.per_class_mask.shape == matrix.shape
    assert "num_issues=" in repr(issues)
    frame = issues.to_frame()
    assert list(frame.columns) == ["rank", "row", "given", "suspected", "score"]
    assert frame["row"].tolist() == issues.indices.tolist()
    assert (np.diff(frame["score"]) >= 0).all()
    first = int(frame["row"].iloc[0])
    assert frame["given"].iloc[0] == tuple(np.array(names)[matrix[first]].tolist())
    assert frame["suspected"].iloc[0]  # a flagged example implicates some class
    every = issues.to_frame(all_rows=True)
    assert len(every) == 600 and every["is_issue"].sum() == issues.num_issues
    assert every.loc[first, "rank"] == 1
    assert every["given"].iloc[np.flatnonzero(~matrix.any(axis=1))[0]] == ()


def test_ties_in_scores_keep_row_order():
    pred_probs = np.array([[0.9, 0.1]] * 6 + [[0.1, 0.9]] * 6)
    labels = [[0]] * 6 + [[1]] * 4 + [[0]] * 2
    issues = ours(labels, pred_probs, "predicted_neq_given")
    assert issues.indices.tolist() == [10, 11]


def test_results_do_not_depend_on_n_jobs():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(24), 3000, 3)
    one = find_multilabel_issues(matrix, pred_probs, n_jobs=1)
    many = find_multilabel_issues(matrix, pred_probs, n_jobs=4)
    np.testing.assert_array_equal(one.per_class_mask, many.per_class_mask)


def test_no_example_carries_any_class():
    pred_probs = np.random.default_rng(25).random((50, 3))
    issues = ours([[]] * 50, pred_probs, classes=["x", "y", "z"])
    assert issues.classes.tolist() == ["x", "y", "z"]
    # Every class is rightly absent with probability 1 - p: their moving average, largest first.
    descending = np.sort(1 - pred_probs, axis=1)[:, ::-1]
    np.testing.assert_allclose(issues.scores, descending @ [0.2 * 0.2, 0.8 * 0.2, 0.8])
    assert not ours([[]] * 50, pred_probs).mask.any()  # confident learning: nothing to contrast


def test_rare_class_warns_by_name():
    matrix, pred_probs = multilabel_problem(np.random.default_rng(26), 300, 3)
    matrix[:, 1] = False
    matrix[7, 1] = True
    with pytest.warns(errors.SmallClassWarning, match="'beta' \\(given to 1\\)"):
        find_multilabel_issues(matrix, pred_probs, classes=["alpha", "beta", "gamma"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        find_multilabel_issues(matrix, pred_probs, method="confident_learning")


# --- Bad input ---------------------------------------------------------------------------------

MATRIX, PROBS = multilabel_problem(np.random.default_rng(0), 200, 3)
LISTS = as_lists(MATRIX)
ENTRY_POINTS = [
    lambda y, p, **kw: find_multilabel_issues(y, p, **kw),
    lambda y, p, **kw: multilabel_quality_scores(y, p, **kw),
]


def with_value(value, row=17, col=1):
    probs = PROBS.copy()
    probs[row, col] = value
    return probs


def with_label(value, row=3):
    labels = list(LISTS)
    labels[row] = value
    return labels


def check_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, errors.LabelwiseError)
    assert isinstance(info.value, ValueError | TypeError)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("call", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("probs", "error", "words"),
    [
        (with_value(np.nan), errors.ProbabilityError, ["NaN", "row 17", "column 1"]),
        (with_value(-np.inf), errors.ProbabilityError, ["infinite", "row 17"]),
        (with_value(-0.2), errors.ProbabilityError, ["negative", "row 17", "sigmoid"]),
        (with_value(1.5), errors.ProbabilityError, ["above 1", "row 17", "sigmoid"]),
        (PROBS[:, 0], errors.ShapeError, ["2-D"]),
        (PROBS[:0], errors.ShapeError, ["empty"]),
        (PROBS[:150], errors.ShapeError, ["150 rows", "same examples"]),
        (np.full(PROBS.shape, "x"), errors.InputTypeError, ["dtype"]),
        ([[0.1, 0.2], [0.3]], errors.InputTypeError, ["could not be read"]),
    ],
)
def test_bad_pred_probs(call, probs, error, words):
    check_error(lambda: call(LISTS, probs), error, words)


def test_rows_need_not_sum_to_one():
    assert ours(LISTS, PROBS * 0.5).mask.shape == (200,)
    assert ours(LISTS, np.ones_like(PROBS)).mask.shape == (200,)


@pytest.mark.parametrize("call", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "words"),
    [
        ("abc", {}, errors.InputTypeError, ["one collection of class names"]),
        (with_label("cat"), {}, errors.InputTypeError, ["labels[3]", "'cat'", "['cat']"]),
        (with_label(2), {}, errors.InputTypeError, ["labels[3]", "find_label_issues"]),
        (with_label(None), {}, errors.InputTypeError, ["labels[3]", "[]"]),
        (with_label([0, None]), {}, errors.LabelError, ["missing", "row 3"]),
        (with_label([0, 7]), {}, errors.LabelError, ["0..2", "7"]),
        (with_label(["a", 1]), {}, errors.LabelError, ["mix types", "classes="]),
        (with_label([0, [1]]), {}, errors.InputTypeError, ["labels[3]", "[1]", "hashable"]),
        ([["a"], ["b"]] * 100, {}, errors.LabelError, ["2 distinct", "classes="]),
        ([["a"], ["q"]] * 100, {"classes": ["a", "b", "c"]}, errors.LabelError, ["'q'"]),
        (LISTS, {"classes": ["a", "b"]}, errors.LabelError, ["2 names", "3 columns"]),
        (LISTS, {"classes": ["a", "a", "b"]}, errors.LabelError, ["duplicate"]),
        (LISTS, {"classes": "abc"}, errors.InputTypeError, ["classes"]),
        (LISTS[:150], {}, errors.ShapeError, ["150 entries", "same examples"]),
        ([], {}, errors.ShapeError, ["empty"]),
        (np.zeros((200, 3, 1)), {}, errors.ShapeError, ["1-D", "2-D"]),
        (np.where(MATRIX, 2, 0), {}, errors.LabelError, ["only 0 and 1", "row"]),
        (np.where(MATRIX, np.nan, 0), {}, errors.LabelError, ["only 0 and 1"]),
        (MATRIX[:, :2], {}, errors.ShapeError, ["(200, 2)", "(200, 3)"]),
        (MATRIX.astype(str), {}, errors.InputTypeError, ["dtype"]),
        (
            pd.DataFrame(MATRIX, columns=["a", "b", "z"]),
            {"classes": ["a", "b", "c"]},
            errors.LabelError,
            ["columns", "do not name"],
        ),
        (pd.DataFrame(MATRIX, columns=["a", "a", "b"]), {}, errors.LabelError, ["duplicate"]),
    ],
)
def test_bad_labels(call, labels, kwargs, error, words):
    check_error(lambda: call(labels, PROBS, **kwargs), error, words)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"method": "pervasive2021"}, ["method", "prune_by_noise_rate"]),
        ({"rank_by": "margin"}, ["rank_by", "self_confidence"]),
        ({"min_examples_per_class": -1}, ["min_examples_per_class"]),
        ({"min_examples_per_class": 1.5}, ["min_examples_per_class"]),
        ({"frac_noise": 1.5}, ["frac_noise", "[0, 1]"]),
        ({"frac_noise": "all"}, ["frac_noise"]),
        ({"n_jobs": 0}, ["n_jobs"]),
    ],
)
def test_bad_issue_options(kwargs, words):
    check_error(lambda: find_multilabel_issues(LISTS, PROBS, **kwargs), errors.ConfigError, words)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"method": "entropy"}, ["method"]),
        ({"aggregation": "mean"}, ["aggregation", AGGREGATIONS[0]]),
        ({"alpha": 1.5}, ["alpha", "[0, 1]"]),
        ({"temperature": 0}, ["temperature", "> 0"]),
    ],
)
def test_bad_score_options(kwargs, words):
    check_error(
        lambda: multilabel_quality_scores(LISTS, PROBS, **kwargs), errors.ConfigError, words
    )
