"""Seeded imprecise labels: missing positives, candidate sets, unlabeled examples.

:mod:`labelwise.simulate` flips labels; the functions here take information away instead, so that
methods for weak supervision can be tested against a known truth:

- :func:`drop_positives` hides positives of a multi-label 0/1 matrix (positive-unlabeled data);
- :func:`partial_labels` turns each label into a candidate set holding it and a few others;
- :func:`hide_labels` marks a share of the labels as unknown (semi-supervised data);
- :func:`make_multilabel_digits` builds a small multi-label image set from scikit-learn's digits.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from labelwise._params import Interval, Options, check_params, is_integer
from labelwise._simulate import as_generator, check_rate, class_names, encode_classes
from labelwise._validate import as_array, labels_array
from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, ShapeError

__all__ = ["drop_positives", "hide_labels", "make_multilabel_digits", "partial_labels"]

#: How :func:`make_multilabel_digits` may place its two digits.
LAYOUTS = ("side", "overlay")
#: What :func:`make_multilabel_digits` accepts besides its seed.
_DIGITS_CONSTRAINTS = {"n": [Interval(Integral, 1, None)], "layout": [Options(LAYOUTS)]}


def drop_positives(Y: Any, rate: float, random_state: Any = 0) -> np.ndarray:
    """Hide each positive of a multi-label 0/1 matrix with probability ``rate``.

    What is left is positive-unlabeled data: a 1 is a true positive, a 0 is either a negative
    or a positive nobody marked.

    Parameters
    ----------
    Y : array-like (N, K) of 0/1 or bool
        Clean multi-label targets, one column per class.
    rate : float in [0, 1)
        The chance that each positive is turned into a 0, independently of the others.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed and inputs hide the same positives.

    Returns
    -------
    ndarray (N, K)
        The observed targets, in the dtype of ``Y``; they never hold a 1 where ``Y`` holds a 0.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.simulate_weak import drop_positives
    >>> Y = np.ones((1000, 2), dtype=int)
    >>> observed = drop_positives(Y, 0.3, random_state=0)
    >>> round(float(observed.mean()), 1)
    0.7
    """
    arr = _binary_matrix(Y)
    rate = check_rate("rate", rate)
    rng = as_generator(random_state)
    hide = (arr != 0) & (rng.random(arr.shape) < rate)
    observed = arr.copy()
    observed[hide] = 0
    return observed


def partial_labels(
    y: Any, n_extra: int | tuple[int, int] = (1, 3), random_state: Any = 0, classes: Any = None
) -> np.ndarray:
    """Candidate sets: each example's label plus a few other classes drawn at random.

    Parameters
    ----------
    y : array-like (N,)
        True labels, any hashable type.
    n_extra : int or (low, high), default (1, 3)
        How many wrong classes join each set: a fixed number, or a number drawn uniformly from
        ``low..high`` (both included) for each example. Capped at K - 1.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed and inputs give the same sets.
    classes : array-like (K,), optional
        Every class name, in the column order wanted; lets sets hold classes absent from ``y``.
        Defaults to the sorted distinct labels.

    Returns
    -------
    ndarray (N, K) of bool
        ``True`` at ``[i, k]`` when class ``classes[k]`` is a candidate for example ``i``. The
        true label is always a candidate.

    Examples
    --------
    >>> from labelwise.simulate_weak import partial_labels
    >>> sets = partial_labels(["a", "b", "c", "d"], n_extra=1, random_state=0)
    >>> sets.sum(axis=1).tolist()
    [2, 2, 2, 2]
    >>> sets[:, 0].tolist()[0]  # "a" is always among the candidates of an "a"
    True
    """
    values = labels_array(y)
    names = class_names(y, values, classes)
    codes = encode_classes(values, names)
    k = len(names)
    low, high = _extra_range(n_extra, k)
    rng = as_generator(random_state)
    n = codes.size
    counts = rng.integers(low, high + 1, size=n)
    # Random keys per (row, class); the true class sorts last, so the first `count` keys of a row
    # are a uniform draw of `count` wrong classes without replacement.
    keys = rng.random((n, k))
    keys[np.arange(n), codes] = np.inf
    order = np.argsort(keys, axis=1)
    chosen = np.arange(k)[None, :] < counts[:, None]
    sets = np.zeros((n, k), dtype=bool)
    rows = np.repeat(np.arange(n), k).reshape(n, k)
    sets[rows[chosen], order[chosen]] = True
    sets[np.arange(n), codes] = True
    return sets


def hide_labels(y: Any, rate: float, random_state: Any = 0, unlabeled: Any = -1) -> np.ndarray:
    """Replace a share of the labels by a marker meaning "unlabeled".

    Parameters
    ----------
    y : array-like (N,)
        Labels, any hashable type.
    rate : float in [0, 1)
        The share of labels to hide; exactly ``round(rate * N)`` of them (rounded half up),
        chosen uniformly.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed and inputs hide the same labels.
    unlabeled : hashable, default -1
        The marker written in place of a hidden label. It must not be a class already.

    Returns
    -------
    ndarray (N,)
        The labels with the marker in the hidden places: in the dtype of ``y`` when it can hold
        the marker unchanged (integers and -1), else an object array.

    Examples
    --------
    >>> from labelwise.simulate_weak import hide_labels
    >>> hide_labels([0, 1, 2, 3], 0.5, random_state=0).tolist()
    [0, 1, -1, -1]
    """
    values = labels_array(y)
    rate = check_rate("rate", rate)
    if _holds_marker(values, unlabeled):
        raise LabelError(
            f"y already holds the unlabeled marker {unlabeled!r}, so hidden labels could not be "
            "told apart from it; pass another marker, e.g. unlabeled=None."
        )
    rng = as_generator(random_state)
    n_hide = min(values.size, int(np.floor(rate * values.size + 0.5)))
    hidden = rng.choice(values.size, size=n_hide, replace=False)
    out = _with_marker(values, unlabeled)
    out[hidden] = unlabeled
    return out


def make_multilabel_digits(
    n: int = 2000, random_state: Any = 0, layout: str = "side"
) -> tuple[np.ndarray, np.ndarray]:
    """A small multi-label image set: two handwritten digits per example.

    Each example takes two images at random from scikit-learn's 1,797 digits (8x8, values 0 to
    16); its labels are the set of digits shown, so one label when both images show the same
    digit and two otherwise.

    Parameters
    ----------
    n : int, default 2000
        Number of examples.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed gives the same examples.
    layout : {"side", "overlay"}, default "side"
        ``"side"``: the two images side by side, an 8x16 image (128 features). ``"overlay"``:
        superposed, the pixel-wise maximum of the two (64 features); harder, as strokes mix.

    Returns
    -------
    X : ndarray (n, 128) or (n, 64) of float64
        Pixel intensities, 0 to 16, row by row.
    Y : ndarray (n, 10) of int
        ``Y[i, d] == 1`` when digit ``d`` is in example ``i``.

    Examples
    --------
    >>> from labelwise.simulate_weak import make_multilabel_digits
    >>> X, Y = make_multilabel_digits(5, random_state=0)
    >>> X.shape, Y.shape, bool(set(Y.sum(axis=1)) <= {1, 2})
    ((5, 128), (5, 10), True)
    """
    check_params(_DIGITS_CONSTRAINTS, {"n": n, "layout": layout})
    rng = as_generator(random_state)
    digits = load_digits()
    images, targets = digits.images, digits.target
    pick = rng.integers(0, targets.size, size=(n, 2))
    left, right = images[pick[:, 0]], images[pick[:, 1]]
    if layout == "side":
        X = np.concatenate([left, right], axis=2).reshape(n, -1)
    else:
        X = np.maximum(left, right).reshape(n, -1)
    Y = np.zeros((n, 10), dtype=int)
    Y[np.arange(n), targets[pick[:, 0]]] = 1
    Y[np.arange(n), targets[pick[:, 1]]] = 1
    return X.astype(np.float64), Y


# --- helpers ------------------------------------------------------------------------------------


def _binary_matrix(Y: Any) -> np.ndarray:
    arr = as_array("Y", Y, "an (N, K) 0/1 matrix", copy=True)
    if arr.ndim != 2:
        raise ShapeError(
            f"Y must be 2-D (n_examples, n_classes) with 0/1 entries, got shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(f"Y has dtype {arr.dtype}; pass a 0/1 matrix of numbers or bools.")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise InputError(
            "Y must hold only 0 and 1 (1 = the class applies); found other values. Binarize it "
            "first, e.g. (Y > 0).astype(int)."
        )
    return arr


def _extra_range(n_extra: Any, n_classes: int) -> tuple[int, int]:
    """``(low, high)`` from an int or a pair, checked and capped at K - 1."""
    pair = (n_extra, n_extra) if is_integer(n_extra) else n_extra
    try:
        low, high = (int(v) for v in pair)
        ok = not isinstance(n_extra, (bool, np.bool_)) and 0 <= low <= high
        ok = ok and all(float(v) == int(v) for v in pair)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"n_extra must be a count >= 0 or a pair (low, high) with 0 <= low <= high, got "
            f"{n_extra!r}."
        )
    return min(low, n_classes - 1), min(high, n_classes - 1)


def _holds_marker(values: np.ndarray, marker: Any) -> bool:
    if marker is None:
        return False  # labels_array has already rejected missing values
    try:
        return bool(np.any(values == marker))
    except (TypeError, ValueError):
        return False


def _with_marker(values: np.ndarray, marker: Any) -> np.ndarray:
    """A copy of ``values`` that can hold ``marker`` without changing it or any label."""
    if marker is not None and values.dtype.kind in "iu":
        try:
            if np.asarray(marker).dtype.kind in "iu" and np.can_cast(
                np.min_scalar_type(marker), values.dtype
            ):
                return values.copy()
        except TypeError:
            pass
        if isinstance(marker, (int, np.integer)):  # True too: it is stored as 1
            return values.astype(np.int64)
    out = np.empty(values.size, dtype=object)
    out[:] = values.tolist()
    return out
