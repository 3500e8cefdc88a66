"""Label issues in multi-label data, where each example carries a set of classes (maybe none).

The problem is reduced one class at a time ("one vs rest"): for class k, the given label of an
example is 1 when k is in its set, and its predicted probabilities are ``[1 - p_k, p_k]``.
labelwise's single-label engine checks each of these K binary problems, and an example is an issue
when some class of it is flagged. Scores aggregate one binary score per class. On the same inputs
this gives exactly the answers of the reference tool (cleanlab 2.9's ``multilabel_classification``
module); docs/multilabel.md lists the rules and the few deliberate differences.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import Interval, Options, check_params, warn
from labelwise._validate import encode_labels
from labelwise.errors import InputTypeError, LabelError, ShapeError, SmallClassWarning
from labelwise.issues._counting import BLOCK_ELEMENTS, smallest_n
from labelwise.issues._options import (
    FLAGGING_METHODS,
    LOW_SCORE_METHODS,
    PRUNING,
    check_flagging_options,
)
from labelwise.issues._stream import InMemoryProbs, OneVsRest, one_vs_rest, row_source
from labelwise.issues.filter import (
    FlaggedRows,
    engine_options,
    issues_from_scan,
    rank_flagged,
    scan_for_issues,
)
from labelwise.issues.scores import SCORE_METHODS, _scores

__all__ = [
    "AGGREGATIONS",
    "MULTILABEL_METHODS",
    "MultiLabelIssues",
    "find_multilabel_issues",
    "multilabel_quality_scores",
]

#: The names accepted by ``method``, default first: the reference's multi-label ``filter_by``.
MULTILABEL_METHODS = FLAGGING_METHODS
#: The ways per-class scores are combined into one score per example, default first.
AGGREGATIONS = ("exponential_moving_average", "softmin")
#: The reference's default forgetting factor of the moving average.
DEFAULT_ALPHA = 0.8
#: The reference's default softmin temperature, and the floor it divides by.
DEFAULT_TEMPERATURE = 0.1
_TEMPERATURE_FLOOR = 1e-6
#: Label-set types read as one example's classes (numpy 1-D arrays are accepted too).
_SET_TYPES = (list, tuple, set, frozenset)


@dataclass(frozen=True)
class MultiLabelData:
    """Validated multi-label inputs.

    Attributes
    ----------
    given : ndarray of bool, shape (N, K)
        ``given[i, k]`` is True when example i carries class k.
    pred_probs : ndarray of float32 or float64, shape (N, K)
        The probability that each class applies, each in [0, 1].
    classes : ndarray, shape (K,)
        The class of each column.
    """

    given: np.ndarray
    pred_probs: np.ndarray
    classes: np.ndarray


# --- Validation ------------------------------------------------------------------------------


def _validated_classes(classes: Any, n_classes: int) -> np.ndarray:
    """``classes`` checked (one distinct name per column) and typed like the single-label path."""
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
        raise InputTypeError(
            f"classes must be a sequence naming the class of each pred_probs column, got "
            f"{type(classes).__name__}."
        )
    names = list(classes)
    if len(names) != n_classes:
        raise LabelError(
            f"classes lists {len(names)} names but pred_probs has {n_classes} columns; give one "
            "class name per column, in column order."
        )
    # Encoding the names against themselves runs the shared checks (duplicates, typing).
    return encode_labels(_object_array(names), n_classes, classes)[1]


def _object_array(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values  # element by element: tuples stay names, not rows of a 2-D array
    return arr


def _name_array(flat: list) -> np.ndarray:
    """The class names of all label sets, with a plain dtype when they share one."""
    try:
        typed = np.asarray(flat)
    except (TypeError, ValueError):  # ragged: some names are sequences themselves
        return _object_array(flat)
    if typed.shape != (len(flat),) or typed.dtype == object:
        return _object_array(flat)
    # numpy turns [1, "a"] into strings silently; mixed names must stay mixed to be refused.
    if typed.dtype.kind in "US" and not all(isinstance(x, (str, bytes)) for x in flat):
        return _object_array(flat)
    return typed


def _label_sets(labels: Any) -> list:
    if isinstance(labels, (str, bytes, Mapping)) or not isinstance(labels, Iterable):
        raise InputTypeError(
            "labels must hold one collection of class names per example (e.g. [['cat'], [], "
            f"['cat', 'dog']]) or be an (n_examples, n_classes) 0/1 matrix, got "
            f"{type(labels).__name__}."
        )
    if isinstance(labels, np.ndarray) and labels.ndim != 1:
        raise ShapeError(
            f"labels must be a 1-D sequence of label sets or a 2-D 0/1 matrix, got shape "
            f"{labels.shape}."
        )
    items = labels.tolist() if isinstance(labels, (pd.Series, np.ndarray)) else list(labels)
    if not items:
        raise ShapeError("labels is empty: there are no examples to check.")
    return items


def _flatten(items: list) -> tuple[list, np.ndarray]:
    """All class names in one list, and how many each example carries."""
    flat: list = []
    sizes = []
    for row, item in enumerate(items):
        if isinstance(item, np.ndarray) and item.ndim == 1:
            item = item.tolist()
        elif not isinstance(item, _SET_TYPES):
            raise InputTypeError(
                f"labels[{row}] is {item!r}, not a collection of class names. Give each example "
                f"a list of its classes (e.g. [{item!r}], or [] when none applies); for one "
                "label per example, use find_label_issues."
            )
        sizes.append(len(item))
        flat.extend(item)
    return flat, np.asarray(sizes, dtype=np.intp)


def _check_names(values: np.ndarray, sizes: np.ndarray) -> None:
    """Refuse missing or unhashable class names, naming the example that holds one."""
    if values.dtype != object and values.dtype.kind != "f":
        return
    missing = pd.isna(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise LabelError(
            f"labels holds {int(missing.sum())} missing class names (first in row "
            f"{_row_of(first, sizes)}); drop them (an example with no class takes an empty list)."
        )
    if values.dtype != object:
        return
    for position, name in enumerate(values.tolist()):
        try:
            hash(name)
        except TypeError:
            raise InputTypeError(
                f"labels[{_row_of(position, sizes)}] holds {name!r}, which cannot be a class name "
                "(names must be hashable: strings, numbers, tuples...). Give each example a flat "
                "list of its class names."
            ) from None


def _row_of(position: int, sizes: np.ndarray) -> int:
    """The example that holds the ``position``-th name of the flattened label sets."""
    return int(np.searchsorted(np.cumsum(sizes), position, side="right"))


def _from_label_sets(
    labels: Any, n: int, n_classes: int, classes: Any
) -> tuple[np.ndarray, np.ndarray]:
    items = _label_sets(labels)
    if len(items) != n:
        raise ShapeError(
            f"labels has {len(items)} entries but pred_probs has {n} rows; they must describe the "
            "same examples in the same order."
        )
    flat, sizes = _flatten(items)
    given = np.zeros((n, n_classes), dtype=bool)
    if not flat:  # no example carries any class: there is nothing to name
        return given, np.arange(n_classes) if classes is None else classes
    values = _name_array(flat)
    _check_names(values, sizes)
    codes, names = encode_labels(values, n_classes, classes)
    given[np.repeat(np.arange(n), sizes), codes] = True
    return given, names


def _binary_matrix(matrix: np.ndarray) -> np.ndarray:
    if matrix.dtype == bool:
        return matrix
    if matrix.dtype.kind not in "fiu":
        raise InputTypeError(
            f"the labels matrix has dtype {matrix.dtype}; it must hold 0/1 (or True/False), "
            "one column per class."
        )
    ones = matrix == 1
    if not (ones | (matrix == 0)).all():
        r, c = np.argwhere(~(ones | (matrix == 0)))[0]
        raise LabelError(
            f"the labels matrix must hold only 0 and 1, but row {r}, column {c} holds "
            f"{matrix[r, c]!r}; mark each class an example carries with 1 and the others with 0 "
            "(class names per example go in a list of lists, not a 2-D array)."
        )
    return ones


def _from_indicator(
    labels: np.ndarray | pd.DataFrame, n: int, n_classes: int, classes: Any
) -> tuple[np.ndarray, np.ndarray]:
    columns = list(labels.columns) if isinstance(labels, pd.DataFrame) else None
    matrix = labels.to_numpy() if isinstance(labels, pd.DataFrame) else labels
    if matrix.shape != (n, n_classes):
        raise ShapeError(
            f"the labels matrix has shape {matrix.shape} but pred_probs has shape "
            f"{(n, n_classes)}; give one row per example and one 0/1 column per class."
        )
    if columns is None:
        return _binary_matrix(matrix), np.arange(n_classes) if classes is None else classes
    if pd.Index(columns).has_duplicates:
        raise LabelError(
            "the labels DataFrame has duplicate column names; give each class one column."
        )
    own = _validated_classes(columns, n_classes)
    names = own if classes is None else classes
    order = pd.Index(own).get_indexer(names)
    if (order < 0).any():
        raise LabelError(
            f"the labels DataFrame's columns {own.tolist()[:10]} do not name the classes "
            f"{names.tolist()[:10]}; give it one column per class (any order), or pass a plain "
            "0/1 array in pred_probs column order."
        )
    if (order != np.arange(n_classes)).any():
        matrix = matrix[:, order]  # columns in another order: align them to pred_probs
    return _binary_matrix(matrix), names


def _is_chunked(probs: Any) -> bool:
    return not isinstance(probs, np.ndarray)


def check_multilabel_inputs(
    labels: Any,
    pred_probs: Any,
    classes: Any = None,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
) -> MultiLabelData:
    """Validate multi-label inputs and turn the labels into an (N, K) boolean matrix.

    ``labels`` is one collection of class names per example, or an (N, K) 0/1 matrix (a numpy
    array, or a DataFrame whose columns name the classes). A list is always read as collections.
    The class of each column is ``classes``, else a ``pred_probs`` DataFrame's columns, else a
    ``labels`` DataFrame's columns; else integer names 0..K-1 index the columns and other names
    take them in sorted order (so they must name all K classes).

    Examples
    --------
    >>> import numpy as np
    >>> data = check_multilabel_inputs([["b"], [], ["a", "b"]], np.full((3, 2), 0.5))
    >>> data.given.astype(int).tolist(), data.classes.tolist()
    ([[0, 1], [0, 0], [1, 1]], ['a', 'b'])
    """
    source = row_source(pred_probs, labels, chunk_rows, memory_limit, sums_to_one=False)
    if classes is None and source.columns is not None:
        classes = source.columns
    probs = source.array if source.whole else source
    n, n_classes = (probs.n_rows, probs.n_classes) if _is_chunked(probs) else probs.shape
    if classes is not None:
        classes = _validated_classes(classes, n_classes)
    indicator = isinstance(labels, pd.DataFrame) or (
        isinstance(labels, np.ndarray) and labels.ndim == 2
    )
    reader = _from_indicator if indicator else _from_label_sets
    given, names = reader(labels, n, n_classes, classes)
    return MultiLabelData(given=given, pred_probs=probs, classes=names)


#: The options of :func:`multilabel_quality_scores` (alpha None: ``2 / (K + 1)``).
_SCORE_CONSTRAINTS = {
    "method": [Options(SCORE_METHODS)],
    "aggregation": [Options(AGGREGATIONS)],
    "alpha": [Interval(Real, 0, 1), None],
    "temperature": [Interval(Real, 0, None, closed="neither")],
}


# --- Scores ----------------------------------------------------------------------------------


def _class_scores(given: np.ndarray, probs: np.ndarray, method: str) -> np.ndarray:
    """(B, K) float64 scores: each class's binary score, from the single-label scorer.

    All B * K (example, class) pairs form one binary problem, so one call scores them all. The
    result is float64 whatever the input dtype, as the reference stores it.
    """
    pairs = one_vs_rest(np.ascontiguousarray(probs).reshape(-1))
    scores = _scores(given.reshape(-1).astype(np.intp), pairs, method)
    return scores.reshape(given.shape).astype(np.float64, copy=False)


def _moving_average(scores: np.ndarray, alpha: float | None) -> np.ndarray:
    """The reference's exponential moving average over each row's scores, largest first.

    Evaluated by the same recursion, ``alpha * s_t + (1 - alpha) * ema``, so that the last bits
    agree and tied examples stay tied exactly as there.
    """
    if alpha is None:
        alpha = 2 / (scores.shape[1] + 1)
    descending = np.ascontiguousarray(np.sort(scores, axis=1)[:, ::-1].T)
    ema = descending[0]
    for column in descending[1:]:
        ema = alpha * column + (1 - alpha) * ema
    return ema


def _softmin(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Scores weighted by a softmax of ``1 - score``: the lowest scores weigh the most."""
    x = (1 - scores) / max(temperature, _TEMPERATURE_FLOOR)
    x = x - np.max(x, axis=1, keepdims=True)  # shift for overflow-free exponentials
    weights = np.exp(x)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", scores, weights)


def _example_scores(
    data: MultiLabelData,
    method: str,
    aggregation: str = AGGREGATIONS[0],
    alpha: float | None = DEFAULT_ALPHA,
    temperature: float = DEFAULT_TEMPERATURE,
) -> np.ndarray:
    """One score per example, over row blocks so that no (N, K) float temporary is held."""
    options = {"method": method, "aggregation": aggregation, "alpha": alpha}
    options["temperature"] = temperature
    if _is_chunked(data.pred_probs):
        parts = data.pred_probs.map(_rows_scores, data.given, "scores", **options)
        return np.concatenate(list(parts))
    return _rows_scores(0, data.pred_probs, data.given, **options)


def _rows_scores(
    start: int,
    probs: np.ndarray,
    given: np.ndarray,
    method: str,
    aggregation: str,
    alpha: float | None,
    temperature: float,
) -> np.ndarray:
    """:func:`_example_scores` of some rows (``start`` is unused: rows are independent)."""
    n, n_classes = probs.shape
    step = max(1, BLOCK_ELEMENTS // n_classes)
    out = np.empty(n, dtype=np.float64)
    for begin in range(0, n, step):
        rows = slice(begin, begin + step)
        per_class = _class_scores(given[rows], probs[rows], method)
        if aggregation == "softmin":
            out[rows] = _softmin(per_class, temperature)
        else:
            out[rows] = _moving_average(per_class, alpha)
    return out


def multilabel_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Any = None,
    method: str = "self_confidence",
    aggregation: str = "exponential_moving_average",
    alpha: float | None = DEFAULT_ALPHA,
    temperature: float = DEFAULT_TEMPERATURE,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
) -> np.ndarray:
    """Score how likely each example's whole label set is right (lower = more suspicious).

    Each class gets a binary score (is class k rightly present or absent?), and the K scores of
    an example are aggregated into one. The defaults give exactly the reference tool's
    ``cleanlab.multilabel_classification.get_label_quality_scores``.

    Parameters
    ----------
    labels : sequence of collections, or (n_examples, n_classes) 0/1 matrix
        The classes of each example (a list, tuple or set of class names, possibly empty), or an
        indicator matrix: a numpy array, or a DataFrame whose columns name the classes.
    pred_probs : array-like of shape (n_examples, n_classes)
        Out-of-sample probability that each class applies, each in [0, 1]; rows need not sum
        to 1. A DataFrame's columns name the classes.
    classes : sequence, optional
        The class of each ``pred_probs`` column. By default integer names 0..K-1 index the
        columns and other names take them in sorted order.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The binary score of each class, from ``[1 - p_k, p_k]`` (see
        :func:`labelwise.label_quality_scores`). For a binary problem the first two agree up to
        rounding.
    aggregation : {"exponential_moving_average", "softmin"}
        - ``exponential_moving_average``: sort the K scores from largest to smallest and take
          ``ema = alpha * s_t + (1 - alpha) * ema`` along them, so the worst classes weigh most.
        - ``softmin``: ``sum_k s_k w_k`` with ``w = softmax((1 - s) / temperature)``.
    alpha : float in [0, 1] or None, default 0.8
        The moving average's weight of each newer (smaller) score; None means ``2 / (K + 1)``.
    temperature : float, default 0.1
        The softmin temperature (smaller: closer to the minimum).
    chunk_rows, memory_limit : optional
        Read ``pred_probs`` in chunks, as :func:`find_multilabel_issues` does.

    Returns
    -------
    ndarray of float64, shape (n_examples,)
        Scores in [0, 1].

    Examples
    --------
    >>> import numpy as np, labelwise.issues.multilabel as ml
    >>> ml.multilabel_quality_scores([[1], [0, 2]], np.array([[.1, .9, .1], [.4, .1, .9]]))
    array([0.9, 0.5])
    """
    options = {"method": method, "aggregation": aggregation, "alpha": alpha}
    check_params(_SCORE_CONSTRAINTS, {**options, "temperature": temperature})
    data = check_multilabel_inputs(labels, pred_probs, classes, chunk_rows, memory_limit)
    return _example_scores(data, method, aggregation, alpha, temperature)


# --- Flagging --------------------------------------------------------------------------------


def _binary_issues(
    given: np.ndarray, probs: OneVsRest, method: str, options: dict[str, Any]
) -> np.ndarray:
    """The single-label engine's mask on class k's one-vs-rest problem."""
    scanned = scan_for_issues(given.astype(np.uint8), probs, None, method, "self_confidence")
    return issues_from_scan(scanned, method, **options).mask


def _class_flags(
    data: MultiLabelData, method: str, options: dict[str, Any], n_jobs: int | None
) -> np.ndarray:
    """(N, K) bool: where each class's binary problem flags the example."""
    flags = np.zeros(data.given.shape, dtype=bool)
    with warnings.catch_warnings():
        # The engine would name binary class "1"; small classes are reported by name instead.
        warnings.simplefilter("ignore", SmallClassWarning)
        source = data.pred_probs
        if not _is_chunked(source):  # checked already: each pass reads it as one chunk
            source = InMemoryProbs.checked(source, n_jobs)
        for k in range(flags.shape[1]):
            binary = OneVsRest(source, k)
            flags[:, k] = _binary_issues(data.given[:, k], binary, method, options)
    return flags


def _warn_small_classes(data: MultiLabelData, minimum: int) -> None:
    """Name the classes whose presence (or absence) is too rare for pruning to check."""
    n = data.given.shape[0]
    present = np.count_nonzero(data.given, axis=0)
    notes = []
    for name, count in zip(data.classes.tolist(), present.tolist(), strict=True):
        if 0 < count <= minimum:
            notes.append(f"{name!r} (given to {count})")
        if 0 < n - count <= minimum:
            notes.append(f"{name!r} (missing from {n - count})")
    if notes:
        warn(
            f"{len(notes)} class annotations are too rare to check (no more than "
            f"min_examples_per_class={minimum} examples), so they are never flagged: "
            f"{', '.join(notes[:5])}{'...' if len(notes) > 5 else ''}.",
            SmallClassWarning,
        )


def _lowest_ranked(
    data: MultiLabelData, scores: np.ndarray, rank_by: str, flags: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``low_*`` methods: the lowest self-confidence averages, as many as are flagged anywhere.

    The reference ranks both ``low_*`` methods by the self-confidence average (for a binary
    problem the normalized margin is the same number, up to rounding). Flagged rows implicate
    the classes ``confident_learning`` flags there, else their lowest-scoring class.
    """
    n = flags.shape[0]
    count = int(np.count_nonzero(flags.any(axis=1)))
    ranking = scores if rank_by == "self_confidence" else _example_scores(data, "self_confidence")
    mask = np.zeros(n, dtype=bool)
    mask[smallest_n(ranking, count)] = True
    per_class = flags & mask[:, None]
    bare = np.flatnonzero(mask & ~per_class.any(axis=1))
    if bare.size:
        weakest = _class_scores(
            data.given[bare], _rows_of(data.pred_probs, bare), "self_confidence"
        )
        per_class[bare, weakest.argmin(axis=1)] = True
    return mask, per_class


def _rows_of(probs: Any, rows: np.ndarray) -> np.ndarray:
    """Some rows of pred_probs (one pass when it is read in chunks)."""
    if not _is_chunked(probs):
        return probs[rows]
    parts = probs.map(_pick_rows, np.zeros(probs.n_rows, dtype=bool), "rows", rows=rows)
    return np.concatenate(list(parts))


def _pick_rows(start: int, block: np.ndarray, _given: np.ndarray, rows: np.ndarray) -> np.ndarray:
    local = rows[(rows >= start) & (rows < start + block.shape[0])] - start
    return block[local]


# --- Result ----------------------------------------------------------------------------------


def _name_sets(matrix: np.ndarray, classes: np.ndarray) -> list[tuple]:
    """Each row's True columns as a tuple of class names, in column order."""
    rows, cols = np.nonzero(matrix)
    names = classes[cols].tolist()
    bounds = np.searchsorted(rows, np.arange(matrix.shape[0] + 1))
    return [
        tuple(names[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]


class _NameSets:
    """The label sets of a boolean (N, K) matrix, made only for the rows asked for.

    A flagged-rows table needs a few of them; making all N tuples would cost far more.
    """

    def __init__(self, matrix: np.ndarray, classes: np.ndarray) -> None:
        self.matrix = matrix
        self.classes = classes

    def __getitem__(self, rows: Any) -> list[tuple]:
        return _name_sets(self.matrix[rows], self.classes)


@dataclass(frozen=True, eq=False, repr=False)
class MultiLabelIssues(FlaggedRows):
    """The examples whose label set looks wrong, and which classes are to blame.

    ``mask``, ``indices``, ``num_issues`` and ``to_frame`` read as for
    :class:`~labelwise.issues.filter.LabelIssues`; an example counts as flagged when some class
    of it is.

    Attributes
    ----------
    scores : ndarray of float64, shape (n_examples,)
        The label-quality score of every example (``rank_by`` per class, aggregated with the
        exponential moving average; lower = more suspicious).
    per_class_mask : ndarray of bool, shape (n_examples, n_classes)
        ``per_class_mask[i, k]``: class k of example i (its presence or absence) looks wrong.
    classes : ndarray, shape (n_classes,)
        The class of each ``pred_probs`` column.
    method, rank_by : str
        The flagging method and the per-class score used for ranking.
    given_matrix : ndarray of bool, shape (n_examples, n_classes)
        The given label sets: ``given_matrix[i, k]`` when example i carries class k.
    """

    mask: np.ndarray
    indices: np.ndarray
    scores: np.ndarray
    per_class_mask: np.ndarray
    classes: np.ndarray
    method: str
    rank_by: str
    given_matrix: np.ndarray = field(repr=False)

    def to_frame(self, *, all_rows: bool = False) -> pd.DataFrame:
        """A tidy table: one row per flagged example, most suspicious first.

        Columns: ``rank`` (1 = most suspicious), ``row`` (position in the input), ``given``
        (the label set, a tuple of class names in column order), ``suspected`` (the classes
        whose presence or absence looks wrong) and ``score``. With ``all_rows=True`` every
        example is listed in input order, with ``is_issue`` and ``rank`` (missing when not
        flagged).
        """
        given = _NameSets(self.given_matrix, self.classes)
        suspected = _NameSets(self.per_class_mask, self.classes)
        if all_rows:
            given, suspected = given[:], suspected[:]
        return self._tidy({"given": given, "suspected": suspected, "score": self.scores}, all_rows)


def find_multilabel_issues(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Any = None,
    method: str = "prune_by_noise_rate",
    rank_by: str = "self_confidence",
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    n_jobs: int | None = None,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
) -> MultiLabelIssues:
    """Find the examples whose set of labels is likely wrong (multi-label confident learning).

    Each class k is checked as its own binary problem (given label: k is in the set; predicted
    probabilities ``[1 - p_k, p_k]``) by :func:`labelwise.find_label_issues`'s engine, and an
    example is an issue when any of its classes is flagged. The mask equals the reference tool's
    (cleanlab 2.9 ``multilabel_classification.filter.find_label_issues`` with the same
    ``filter_by``).

    Parameters
    ----------
    labels : sequence of collections, or (n_examples, n_classes) 0/1 matrix
        The classes of each example: a list, tuple or set of class names (possibly empty), or an
        indicator matrix (a numpy array, or a DataFrame whose columns name the classes).
    pred_probs : array-like of shape (n_examples, n_classes)
        Out-of-sample probability that each class applies, each in [0, 1]; rows need not sum
        to 1. A DataFrame's columns name the classes.
    classes : sequence, optional
        The class of each ``pred_probs`` column. By default integer names 0..K-1 index the
        columns, and other names take them in sorted order (so all K must occur; name a class
        that no example carries through ``classes``).
    method : str, default "prune_by_noise_rate"
        - ``prune_by_noise_rate``, ``prune_by_class``, ``both``, ``confident_learning``,
          ``predicted_neq_given``: that method of :func:`labelwise.find_label_issues` on each
          class's binary problem; an example is flagged when some class is.
        - ``low_self_confidence`` / ``low_normalized_margin`` (the same here): the examples with
          the lowest self-confidence score (:func:`multilabel_quality_scores`), as many as
          ``confident_learning`` flags.
    rank_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The per-class score behind ``scores`` (aggregated with the exponential moving average,
        ``alpha=0.8``), which orders ``indices``.
    min_examples_per_class : int, default 1
        Pruning methods leave at least this many examples on each side of every class, and do
        not check a side with no more than this many (with a
        :class:`~labelwise.errors.SmallClassWarning`).
    frac_noise : float, default 1.0
        Pruning methods flag only this fraction of the estimated noise of each class.
    n_jobs : int, optional
        Threads for the engine (default: every core). Results do not depend on it.
    chunk_rows, memory_limit : optional
        Read ``pred_probs`` in chunks (a path to a ``.npy``/``.parquet``/``.zarr`` file, a memory
        map or a Dask array is read that way anyway), as :func:`labelwise.find_label_issues`
        does; results are identical. Each class then takes its own passes over the data.

    Returns
    -------
    MultiLabelIssues
        ``.mask``, ``.indices`` (most suspicious first), ``.scores``, ``.per_class_mask`` and
        ``.to_frame()``.

    Examples
    --------
    >>> import numpy as np, labelwise.issues.multilabel as ml
    >>> labels = [["cat"], ["cat"], ["dog"], ["cat", "dog"], ["dog"], ["cat"]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.8, .9], [.2, .8], [.1, .9]])
    >>> issues = ml.find_multilabel_issues(labels, pred_probs)
    >>> issues.to_frame()[["row", "given", "suspected"]].to_dict("records")
    [{'row': 5, 'given': ('cat',), 'suspected': ('cat', 'dog')}]
    """
    check_flagging_options(MULTILABEL_METHODS, method, rank_by, min_examples_per_class, frac_noise)
    data = check_multilabel_inputs(labels, pred_probs, classes, chunk_rows, memory_limit)
    options = engine_options(min_examples_per_class, frac_noise)
    scores = _example_scores(data, rank_by)
    if method in LOW_SCORE_METHODS:
        flags = _class_flags(data, "confident_learning", options, n_jobs)
        mask, per_class = _lowest_ranked(data, scores, rank_by, flags)
    else:
        if method in PRUNING:
            _warn_small_classes(data, min_examples_per_class)
        per_class = _class_flags(data, method, options, n_jobs)
        mask = per_class.any(axis=1)
    return MultiLabelIssues(
        mask=mask,
        indices=rank_flagged(mask, scores),
        scores=scores,
        per_class_mask=per_class,
        classes=data.classes,
        method=method,
        rank_by=rank_by,
        given_matrix=data.given,
    )
