"""Input checks shared by every entry point.

Each public function validates once, here, and the numeric core below it trusts its inputs. Every
failure raises a :mod:`labelwise.errors` type whose message says what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelwise._parallel import ordered_map
from labelwise._params import warn
from labelwise.errors import (
    ConfigError,
    InputTypeError,
    LabelError,
    ProbabilityError,
    RenormalizedWarning,
    ShapeError,
)

__all__ = [
    "ROW_SUM_SILENT",
    "ROW_SUM_RENORMALIZE",
    "Checked",
    "check_inputs",
    "check_pred_probs",
    "encode_labels",
    "check_choice",
]

#: Row sums this close to 1 are float rounding and are used unchanged.
ROW_SUM_SILENT = 1e-5
#: Row sums this close to 1 (float16-level drift) are renormalized with a warning; beyond, an error.
ROW_SUM_RENORMALIZE = 1e-3
#: Rows checked at a time, so that checks never hold an (N, K) temporary.
_CHECK_ROWS = 1 << 16
#: Values checked at a time at most: wide rows take fewer rows a block, and the threads share
#: more blocks.
_CHECK_VALUES = 1 << 20


@dataclass(frozen=True)
class Checked:
    """Validated inputs: integer-coded labels, float pred_probs and the class names."""

    labels: np.ndarray
    pred_probs: np.ndarray
    classes: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.pred_probs.shape[1])


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a :class:`ConfigError`."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{name}={value!r} is not supported; choose one of {listed}.")
    return value


def as_float_matrix(pred_probs: Any, min_columns: int = 2) -> np.ndarray:
    """pred_probs as a 2-D float32/float64 array, with clear errors for anything else."""
    expected = "an (n_examples, n_classes) numpy array of probabilities"
    arr = as_array("pred_probs", pred_probs, expected)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == bool
    ):
        raise InputTypeError(
            f"pred_probs has dtype {arr.dtype}; it must hold numbers. Pass an (n_examples, "
            "n_classes) float array, e.g. the output of predict_proba."
        )
    if arr.ndim != 2:
        raise ShapeError(
            f"pred_probs must be 2-D (n_examples, n_classes), got shape {arr.shape}. For a binary "
            "problem with one probability per row, stack it: np.column_stack([1 - p, p])."
        )
    if arr.shape[0] == 0:
        raise ShapeError("pred_probs is empty: there are no examples to check.")
    if arr.shape[1] < min_columns:
        raise ShapeError(
            f"pred_probs has {arr.shape[1]} column(s); at least {min_columns} classes are needed."
            " For a binary problem with one probability per row, stack it: "
            "np.column_stack([1 - p, p])."
        )
    # float16 carries too little precision for thresholds 1e-6 apart; integer one-hot rows are fine
    # as probabilities once they are floats.
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32 if arr.dtype == np.float16 else np.float64)
    return arr


def _row_range_problem(block: np.ndarray, start: int) -> str | None:
    finite = np.isfinite(block)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        return (
            f"pred_probs holds NaN or infinite values (first at row {start + r}, column {c}); "
            "recompute them or drop those rows."
        )
    low = block.min()
    if low < 0:
        r, c = np.argwhere(block < 0)[0]
        return (
            f"pred_probs holds negative values (first {float(block[r, c]):.6g} at row {start + r}, "
            f"column {c}); probabilities lie in [0, 1]. Did you pass logits? Apply a softmax."
        )
    high = block.max()
    if high > 1 + ROW_SUM_RENORMALIZE:
        r, c = np.argwhere(block > 1 + ROW_SUM_RENORMALIZE)[0]
        return (
            f"pred_probs holds values above 1 (first {float(block[r, c]):.6g} at row {start + r}, "
            f"column {c}); probabilities lie in [0, 1]. Did you pass logits? Apply a softmax."
        )
    return None


def check_pred_probs(pred_probs: Any, n_jobs: int | None = None) -> np.ndarray:
    """Validate an (N, K) matrix of predicted probabilities.

    Returns a float32 or float64 array. The input is returned unchanged (not copied) when every row
    sums to 1 within :data:`ROW_SUM_SILENT`; rows that drift by at most
    :data:`ROW_SUM_RENORMALIZE` are renormalized in a copy, with a :class:`RenormalizedWarning`.

    Raises
    ------
    ProbabilityError
        On NaN or infinite values, values outside [0, 1], or rows far from summing to 1.
    ShapeError
        When the array is not 2-D, is empty or has fewer than 2 columns.
    """
    arr = as_float_matrix(pred_probs)
    rows = check_rows(arr, n_jobs=n_jobs)
    if not rows.size:
        return arr
    warn_renormalized(rows.size)
    arr = arr.copy()
    arr[rows] = renormalized(arr[rows])
    return arr


def check_rows(block: np.ndarray, start: int = 0, n_jobs: int | None = None) -> np.ndarray:
    """:func:`check_block` over blocks of rows, in ``n_jobs`` threads (numpy releases the GIL;
    default: every core); the first bad row still raises. Small blocks keep the temporaries
    small, and fresh pages of memory cost more than the arithmetic on them."""
    step = max(1, min(_CHECK_ROWS, _CHECK_VALUES // block.shape[1]))

    def check(s: int) -> np.ndarray:
        return check_block(block[s : s + step], start + s) + s

    return np.concatenate(ordered_map(check, range(0, block.shape[0], step), n_jobs))


def check_block(block: np.ndarray, start: int) -> np.ndarray:
    """Check rows ``start..`` of pred_probs; return the (block) rows to renormalize.

    Raises a :class:`ProbabilityError` naming the first bad row of the whole matrix.
    """
    err = np.abs(_row_sums(block) - 1.0)
    bad = np.flatnonzero(err > ROW_SUM_RENORMALIZE)
    # Non-negative rows that sum to 1 hold no value above 1, so a healthy block needs only its
    # minimum (which NaN also fails) beside the sums.
    if not block.min() >= 0 or bad.size:
        problem = _row_range_problem(block, start)
        if problem:
            raise ProbabilityError(problem)
    if bad.size:
        i = int(bad[0])
        raise ProbabilityError(
            f"pred_probs rows must sum to 1, but row {start + i} sums to "
            f"{float(block[i].sum(dtype=np.float64)):.6g} ({bad.size} of rows {start} to "
            f"{start + len(block) - 1} are off by more than 1e-3). Normalize them (p / "
            "p.sum(axis=1, keepdims=True)) or apply a softmax to logits."
        )
    return np.flatnonzero(err > ROW_SUM_SILENT)


def check_range(block: np.ndarray, start: int) -> None:
    """Check per-class probabilities (rows need not sum to 1): finite and within [0, 1]."""
    if block.min() >= 0 and block.max() <= 1:  # NaN fails both: healthy blocks cost two passes
        return
    finite = np.isfinite(block)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise ProbabilityError(
            f"pred_probs holds NaN or infinite values (first at row {start + r}, column {c}); "
            "recompute them or drop those rows."
        )
    r, c = np.argwhere((block < 0) | (block > 1))[0]
    value = float(block[r, c])
    where = "negative values" if value < 0 else "values above 1"
    raise ProbabilityError(
        f"pred_probs holds {where} (first {value:.6g} at row {start + r}, column {c}); each "
        "entry is the probability that a class applies, in [0, 1]. Did you pass logits? Apply a "
        "sigmoid: 1 / (1 + np.exp(-logits))."
    )


def renormalized(rows: np.ndarray) -> np.ndarray:
    """Rows divided by their sums (the same arithmetic wherever a row is fixed)."""
    return rows / rows.sum(axis=1, keepdims=True)


def warn_renormalized(count: int) -> None:
    """Warn, at the caller's line, that ``count`` rows were renormalized."""
    warn(
        f"{count} pred_probs rows did not sum to 1 (drift up to 1e-3, e.g. float16 rounding) "
        "and were renormalized.",
        RenormalizedWarning,
    )


def _row_sums(block: np.ndarray) -> np.ndarray:
    # Narrow rows: a BLAS matrix-vector product is several times faster than sum(axis=1), and
    # exact enough. Wide rows: numpy's pairwise sum along the row is both fast and accurate.
    if block.shape[1] > 128:
        return block.sum(axis=1)
    return block @ np.ones(block.shape[1], dtype=block.dtype)


def labels_array(labels: Any) -> np.ndarray:
    if isinstance(labels, (pd.Series, pd.Index, pd.Categorical)):
        values = np.asarray(labels, dtype=object) if _is_categorical(labels) else labels.to_numpy()
    elif isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise InputTypeError(
            f"labels must be a sequence with one label per example, got {type(labels).__name__}."
        )
    else:
        try:
            values = np.asarray(labels) if not isinstance(labels, np.ndarray) else labels
        except ValueError:  # ragged: a list of label lists
            raise LabelError(_MULTILABEL_HINT) from None
    if values.ndim != 1 or values.dtype == object and _holds_collections(values):
        raise ShapeError(
            f"labels must be 1-D with one class per example, got shape {values.shape}. "
            + _MULTILABEL_HINT
        )
    if values.size == 0:
        raise ShapeError("labels is empty: there are no examples to check.")
    missing = pd.isna(values) if values.dtype == object or values.dtype.kind == "f" else None
    if missing is not None and missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise LabelError(
            f"labels has {int(missing.sum())} missing values (first at row {first}); drop those "
            "rows or fill them before checking labels."
        )
    return values


def _is_categorical(labels: Any) -> bool:
    return isinstance(getattr(labels, "dtype", None), pd.CategoricalDtype)


_MULTILABEL_HINT = (
    "For multi-label data (a set of classes per example, or a 0/1 matrix) use "
    "labelwise.find_multilabel_issues."
)


def _holds_collections(values: np.ndarray) -> bool:
    return values.size > 0 and isinstance(values[0], (list, tuple, set, frozenset, np.ndarray))


def label_categories(labels: Any) -> np.ndarray | None:
    if isinstance(labels, pd.Categorical):
        return np.asarray(labels.categories, dtype=object)
    if _is_categorical(labels):
        return np.asarray(labels.cat.categories if hasattr(labels, "cat") else labels.categories)
    return None


def _integer_codes(values: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Labels already coded 0..K-1 (ints, or floats holding whole numbers) stay as they are."""
    if values.dtype.kind in "iu":
        ints = values
    elif values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        ints = values.astype(np.int64)
    else:
        return None
    if ints.min() >= 0 and ints.max() < n_classes:
        return ints  # kept in its (often compact) integer type: no N-sized copy
    return None


def sorted_unique(values: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(sorted(pd.unique(values)), dtype=values.dtype)
    except TypeError:
        raise LabelError(
            "labels mix types that cannot be sorted (e.g. numbers and strings), so their class "
            "order is ambiguous; pass classes=[...] naming the class of each pred_probs column."
        ) from None


def encode_labels(
    labels: Any, n_classes: int, classes: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map labels of any hashable type to integer codes 0..K-1.

    The class of column ``k`` of ``pred_probs`` is ``classes[k]``. Without ``classes``: integer
    labels in 0..K-1 are codes already; a pandas Categorical with K categories uses its categories;
    any other labels (strings, other integers) must name exactly K distinct classes, which are
    taken in sorted order.

    Returns
    -------
    codes : ndarray of an integer type, shape (N,)
    classes : ndarray, shape (K,)
    """
    return encode_label_values(labels_array(labels), labels, n_classes, classes)


def encode_label_values(
    values: np.ndarray, labels: Any, n_classes: int, classes: Any
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_labels` for ``values`` already checked by :func:`labels_array`."""
    if classes is None:
        classes = label_categories(labels)
        if classes is not None and len(classes) != n_classes:
            classes = None
    if classes is None:
        codes = _integer_codes(values, n_classes)
        if codes is not None:
            return codes, np.arange(n_classes)
        classes = sorted_unique(values)
        if len(classes) != n_classes and values.dtype.kind in "iu":
            raise LabelError(
                f"integer labels must index the {n_classes} pred_probs columns (0..{n_classes - 1})"
                f", but they range from {values.min()} to {values.max()}. Fix the labels, or pass "
                "classes=[...] naming the class of each column."
            )
        if len(classes) != n_classes:
            raise LabelError(
                f"labels name {len(classes)} distinct classes but pred_probs has {n_classes} "
                "columns, so labels cannot be matched to columns. Pass classes=[...] listing the "
                "class of each pred_probs column in order (e.g. model.classes_)."
            )
    classes = _check_classes(classes, n_classes)
    fix = (
        f"every label must be one of {list(classes)[:10]}{'...' if len(classes) > 10 else ''}. "
        "Fix the labels, or pass classes listing every class in pred_probs column order."
    )
    return class_codes(values, classes, fix), classes


def class_codes(values: np.ndarray, classes: Any, fix: str) -> np.ndarray:
    """The position of each label in ``classes``; a :class:`LabelError` names the labels that
    are not there (at most five) and ends with ``fix``, how to mend them."""
    codes = pd.Index(classes).get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        shown = list(dict.fromkeys(values[unknown].tolist()))[:5]
        raise LabelError(
            f"{int(unknown.sum())} labels are not among the classes, e.g. {shown}; {fix}"
        )
    return codes


def as_array(name: str, data: Any, expected: str, *, copy: bool = False) -> np.ndarray:
    """``data`` as an ndarray (a DataFrame by its values), or an :class:`InputTypeError` that
    names the parameter and says what to pass instead (``expected``, e.g. "a 0/1 matrix").

    ``copy=True`` always returns a copy the caller may write to.
    """
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    try:
        return np.array(data, copy=True) if copy else np.asarray(data)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise InputTypeError(
            f"{name} could not be read as an array ({exc}); pass {expected}."
        ) from None


def _check_classes(classes: Any, n_classes: int) -> np.ndarray:
    arr = (
        np.asarray(list(classes), dtype=object) if not isinstance(classes, np.ndarray) else classes
    )
    if arr.ndim != 1:
        raise ShapeError(f"classes must be 1-D, got shape {arr.shape}.")
    if len(arr) != n_classes:
        raise LabelError(
            f"classes lists {len(arr)} names but pred_probs has {n_classes} columns; give one "
            "class name per column, in column order."
        )
    if len(pd.unique(arr)) != len(arr):
        raise LabelError("classes holds duplicate names; each pred_probs column needs its own.")
    if arr.dtype == object:
        try:  # keep a plain dtype (e.g. str) when all names share one, for tidy output
            typed = np.asarray(arr.tolist())
            if typed.dtype != object and typed.shape == arr.shape:
                return typed
        except (TypeError, ValueError):
            pass
    return arr


def check_inputs(
    labels: Any, pred_probs: Any, classes: Any = None, n_jobs: int | None = None
) -> Checked:
    """Validate labels and pred_probs together and code the labels as 0..K-1.

    When ``pred_probs`` is a DataFrame and ``classes`` is not given, its columns name the classes.
    """
    if classes is None and isinstance(pred_probs, pd.DataFrame):
        classes = list(pred_probs.columns)
    probs = check_pred_probs(pred_probs, n_jobs)
    values = labels_array(labels)
    if values.size != probs.shape[0]:
        raise ShapeError(
            f"labels has {values.size} entries but pred_probs has {probs.shape[0]} rows; they "
            "must describe the same examples in the same order."
        )
    codes, names = encode_label_values(values, labels, probs.shape[1], classes)
    return Checked(labels=codes, pred_probs=probs, classes=names)
