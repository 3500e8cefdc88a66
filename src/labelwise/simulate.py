"""Seeded label noise: corrupt clean labels in a known way.

Methods that find label errors are tested on data whose errors are known. :func:`inject_noise`
takes clean labels, flips some of them by one of four well-known noise models and returns the
noisy labels together with which were flipped and the noise matrix behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelwise._params import BOOLEAN, check_params
from labelwise._simulate import (
    RATE,
    NoiseRateMixin,
    as_generator,
    class_names,
    encode_classes,
)
from labelwise._validate import as_array, check_choice, check_pred_probs, labels_array
from labelwise.errors import (
    ConfigError,
    InputError,
    InputTypeError,
    LabelError,
    ProbabilityError,
    ShapeError,
)

# Weak-supervision generators (partial, missing and hidden labels) and corrupted conditions of
# generative datasets live in their own modules; re-exported here so that one module simulates
# every kind of label corruption.
from labelwise.simulate_crowd import ANNOTATOR_KINDS, SimulatedCrowd, simulate_annotators
from labelwise.simulate_weak import (
    drop_positives,
    hide_labels,
    make_multilabel_digits,
    partial_labels,
)
from labelwise.vision.conditions import flip_conditions, swap_captions

__all__ = [
    "ANNOTATOR_KINDS",
    "KINDS",
    "SimulatedCrowd",
    "NoisyLabels",
    "drop_positives",
    "flip_conditions",
    "hide_labels",
    "inject_noise",
    "make_multilabel_digits",
    "partial_labels",
    "simulate_annotators",
    "swap_captions",
]

#: The noise models :func:`inject_noise` knows.
KINDS = ("symmetric", "pair", "matrix", "instance")
#: How far a ``noise_matrix`` column may sum from 1 before it is rejected.
COLUMN_SUM_TOL = 1e-6
#: The options of :func:`inject_noise` that plain rules describe, in the order they are checked.
_CONSTRAINTS = {"rate": [RATE], "exact": [BOOLEAN]}


@dataclass(frozen=True, eq=False, repr=False)
class NoisyLabels(NoiseRateMixin):
    """Labels with injected noise, and the truth they were made from.

    Attributes
    ----------
    labels : ndarray (N,)
        The noisy labels, as class names in the input's dtype where it can hold them.
    is_noisy : ndarray (N,) of bool
        True where the label was changed; a changed label always names a different class.
    true_labels : ndarray (N,)
        The labels that were passed in.
    noise_matrix : ndarray (K, K)
        P(noisy = i | true = j), indexed ``[noisy, true]`` in ``classes`` order; columns sum to
        1. It is the matrix the noise model targets; see :func:`inject_noise` for each kind.
    classes : ndarray (K,)
        The class names; code ``k`` in the matrix is ``classes[k]``.
    """

    labels: np.ndarray
    is_noisy: np.ndarray
    true_labels: np.ndarray
    noise_matrix: np.ndarray
    classes: np.ndarray

    def __repr__(self) -> str:
        # The default repr would print every label; a summary is what one wants to see.
        return (
            f"NoisyLabels(n_examples={self.labels.size}, n_noisy={int(self.is_noisy.sum())}, "
            f"noise_rate={self.noise_rate:.4g}, classes={self.classes[:10].tolist()}"
            f"{'...' if len(self.classes) > 10 else ''})"
        )


def inject_noise(
    labels: Any,
    *,
    kind: str = "symmetric",
    rate: float = 0.1,
    noise_matrix: Any = None,
    pred_probs: Any = None,
    features: Any = None,
    classes: Any = None,
    exact: bool = True,
    random_state: Any = 0,
) -> NoisyLabels:
    """Flip labels to other classes by a chosen noise model, reproducibly.

    Parameters
    ----------
    labels : array-like (N,)
        Clean labels, of any hashable type (ints, strings...).
    kind : {"symmetric", "pair", "matrix", "instance"}, default "symmetric"
        - ``"symmetric"``: each flipped label moves to one of the other K - 1 classes, chosen
          uniformly.
        - ``"pair"``: each flipped label of class k moves to the next class, k + 1 (mod K).
        - ``"matrix"``: each label of class j is redrawn from column j of ``noise_matrix``.
          Examples are drawn independently, so ``rate`` and ``exact`` are not used.
        - ``"instance"``: harder examples are likelier to be flipped. With ``pred_probs``, the
          weight of example i is ``1 - pred_probs[i, true_i]`` (its probability on other
          classes); a flipped label moves to class k != true_i with probability proportional to
          ``pred_probs[i, k]``. With ``features`` instead, ``pred_probs`` are first made up from
          the features, in the spirit of the instance-dependent noise of Xia et al. (2020,
          "Part-dependent label noise") and Chen et al. (2021): the features are standardized,
          each true class j gets a seeded random Gaussian projection W_j (d x K), and
          ``softmax(x_i @ W_true_i / sqrt(d))`` plays the role of ``pred_probs[i]``. Examples
          whose weight is 0 are flipped only if too few others are left to reach ``rate``.
    rate : float in [0, 1), default 0.1
        The share of labels to flip (kinds other than ``"matrix"``).
    noise_matrix : array-like (K, K), optional
        For ``kind="matrix"``: P(noisy = i | true = j), indexed ``[noisy, true]``, in ``classes``
        order; each column sums to 1.
    pred_probs : array-like (N, K), optional
        For ``kind="instance"``: predicted probabilities, columns in ``classes`` order.
    features : array-like (N, d), optional
        For ``kind="instance"`` when no ``pred_probs`` are at hand: numeric features.
    classes : array-like (K,), optional
        Every class name, in the order of the matrix rows or ``pred_probs`` columns; labels may
        then be flipped to classes that do not occur in ``labels``. Defaults to the sorted
        distinct labels (to ``0..K-1`` when integer labels accompany a K-class matrix).
    exact : bool, default True
        Flip exactly ``round(rate * N)`` labels (rounded half up) instead of flipping each label
        independently with probability ``rate``. For ``"instance"``, examples are then drawn one
        at a time, without replacement, with probability proportional to their weight.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed and inputs give the same noise.

    Returns
    -------
    NoisyLabels
        ``noise_matrix`` is, for ``"symmetric"``: ``1 - rate`` on the diagonal and
        ``rate / (K - 1)`` elsewhere; for ``"pair"``: ``1 - rate`` on the diagonal and ``rate``
        at ``[(j + 1) % K, j]``; for ``"matrix"``: the given matrix; for ``"instance"``: the
        average over the examples of class j of each example's flip probability times its
        target distribution (examples have their own; this is their mean).

    Raises
    ------
    ConfigError
        For an unknown ``kind``, ``rate`` outside [0, 1), or inputs that do not fit ``kind``.
    LabelError, ShapeError, ProbabilityError, InputError, InputTypeError
        For labels, matrices, probabilities or features that cannot be used.

    Examples
    --------
    >>> from labelwise.simulate import inject_noise
    >>> labels = ["cat"] * 6 + ["dog"] * 4
    >>> noisy = inject_noise(labels, rate=0.2, random_state=1)
    >>> int(noisy.is_noisy.sum()), noisy.noise_rate
    (2, 0.2)
    >>> bool((noisy.labels[noisy.is_noisy] != noisy.true_labels[noisy.is_noisy]).all())
    True
    """
    check_choice("kind", kind, KINDS)
    _check_kind_inputs(kind, noise_matrix, pred_probs, features)
    check_params(_CONSTRAINTS, {"rate": rate, "exact": exact})
    rate = float(rate)
    rng = as_generator(random_state)

    matrix = None if noise_matrix is None else _check_noise_matrix(noise_matrix)
    probs = None if pred_probs is None else check_pred_probs(pred_probs)
    values = labels_array(labels)
    names = class_names(labels, values, classes, _implied_n_classes(matrix, probs))
    codes = encode_classes(values, names)
    k = len(names)
    if kind != "matrix" and k < 2:
        raise LabelError(
            f"labels hold a single class ({names[0]!r}), so there is no other class to flip to. "
            "Pass classes=[...] listing every class, including ones absent from labels."
        )

    if kind == "symmetric":
        noisy, used = _symmetric(codes, k, rate, exact, rng)
    elif kind == "pair":
        noisy, used = _pair(codes, k, rate, exact, rng)
    elif kind == "matrix":
        noisy, used = _from_matrix(codes, matrix, rng)
    else:
        if probs is None:
            probs = _projected_probs(_check_features(features, codes.size), codes, k, rng)
        _check_rows("pred_probs", probs.shape[0], codes.size)
        noisy, used = _instance(codes, probs.astype(np.float64, copy=False), rate, exact, rng)

    return NoisyLabels(
        labels=_in_dtype(names[noisy], values.dtype),
        is_noisy=noisy != codes,
        true_labels=np.array(values, copy=True),
        noise_matrix=used,
        classes=names,
    )


# --- checks -------------------------------------------------------------------------------------


def _check_kind_inputs(kind: str, noise_matrix: Any, pred_probs: Any, features: Any) -> None:
    """Reject inputs that the chosen kind would silently ignore."""
    if kind == "matrix" and noise_matrix is None:
        raise ConfigError(
            "kind='matrix' needs noise_matrix=..., a (K, K) array of P(noisy=i | true=j)."
        )
    if kind != "matrix" and noise_matrix is not None:
        raise ConfigError(
            f"noise_matrix is only used by kind='matrix', but kind={kind!r}; pass "
            "kind='matrix' to use it, or drop noise_matrix."
        )
    if kind == "instance" and (pred_probs is None) == (features is None):
        raise ConfigError(
            "kind='instance' needs exactly one of pred_probs=... (preferred) or features=... "
            "to tell which examples are hard."
        )
    if kind != "instance" and (pred_probs is not None or features is not None):
        raise ConfigError(
            f"pred_probs and features are only used by kind='instance', but kind={kind!r}; "
            "pass kind='instance' to use them."
        )


def _numeric_array(name: str, data: Any, expected: str) -> np.ndarray:
    arr = as_array(name, data, expected)
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"{name} has dtype {arr.dtype}; it must hold numbers. Pass {expected}."
        )
    return arr.astype(np.float64, copy=False)


def _check_noise_matrix(noise_matrix: Any) -> np.ndarray:
    """Validate a [noisy, true] matrix and return it as floats with columns summing to 1."""
    expected = "a (K, K) float array of P(noisy=i | true=j)"
    arr = _numeric_array("noise_matrix", noise_matrix, expected)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ShapeError(f"noise_matrix must be square (K, K), got shape {arr.shape}.")
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise ProbabilityError(
            "noise_matrix entries must be probabilities in [0, 1], without NaN or infinity."
        )
    sums = arr.sum(axis=0)
    off = np.flatnonzero(np.abs(sums - 1) > COLUMN_SUM_TOL)
    if off.size:
        j = int(off[0])
        raise ProbabilityError(
            f"noise_matrix columns must each sum to 1 (column j is P(noisy | true=j)), but "
            f"column {j} sums to {sums[j]:.6g}. If your rows sum to 1, pass noise_matrix.T."
        )
    # Renormalize the allowed drift away: numpy's sampler is stricter than the 1e-6 accepted here.
    return arr / sums


def _check_features(features: Any, n_examples: int) -> np.ndarray:
    arr = _numeric_array("features", features, "an (n_examples, n_features) numeric array")
    if arr.ndim != 2:
        raise ShapeError(
            f"features must be 2-D (n_examples, n_features), got shape {arr.shape}. For a "
            "single feature, pass features.reshape(-1, 1)."
        )
    _check_rows("features", arr.shape[0], n_examples)
    if arr.shape[1] == 0:
        raise ShapeError("features has no columns; pass at least one feature.")
    if not np.isfinite(arr).all():
        raise InputError(
            "features hold NaN or infinite values; impute or drop them before injecting noise."
        )
    return arr


def _check_rows(name: str, n_rows: int, n_examples: int) -> None:
    if n_rows != n_examples:
        raise ShapeError(
            f"labels has {n_examples} entries but {name} has {n_rows} rows; they must describe "
            "the same examples in the same order."
        )


# --- class names --------------------------------------------------------------------------------


def _implied_n_classes(
    matrix: np.ndarray | None, probs: np.ndarray | None
) -> tuple[int | None, str]:
    """The number of classes a matrix or pred_probs fixes, and which input fixed it."""
    if matrix is not None:
        return matrix.shape[0], "noise_matrix"
    return (None, "") if probs is None else (probs.shape[1], "pred_probs")


def _in_dtype(names: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast noisy names to the input's dtype unless that would change them (e.g. truncate)."""
    if names.dtype == dtype:
        return names
    try:
        cast = names.astype(dtype)
    except (TypeError, ValueError):
        return names
    return cast if np.array_equal(cast, names) else names


# --- noise models -------------------------------------------------------------------------------


def _exact_count(n: int, rate: float) -> int:
    return min(n, math.floor(rate * n + 0.5))


def _pick(n: int, rate: float, exact: bool, rng: np.random.Generator) -> np.ndarray:
    """Indices of the examples to flip, each equally likely."""
    if exact:
        return rng.choice(n, size=_exact_count(n, rate), replace=False)
    return np.flatnonzero(rng.random(n) < rate)


def _symmetric(
    codes: np.ndarray, k: int, rate: float, exact: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    flip = _pick(codes.size, rate, exact, rng)
    noisy = codes.copy()
    # An offset in 1..K-1 lands on every other class with equal chance and never on the same one.
    noisy[flip] = (codes[flip] + rng.integers(1, k, size=flip.size)) % k
    matrix = np.full((k, k), rate / (k - 1))
    np.fill_diagonal(matrix, 1 - rate)
    return noisy, matrix


def _pair(
    codes: np.ndarray, k: int, rate: float, exact: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    flip = _pick(codes.size, rate, exact, rng)
    noisy = codes.copy()
    noisy[flip] = (codes[flip] + 1) % k
    matrix = np.eye(k) * (1 - rate)
    matrix[(np.arange(k) + 1) % k, np.arange(k)] += rate
    return noisy, matrix


def _from_matrix(
    codes: np.ndarray, matrix: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    k = matrix.shape[0]
    noisy = codes.copy()
    for j in range(k):
        rows = np.flatnonzero(codes == j)
        if rows.size:
            noisy[rows] = rng.choice(k, size=rows.size, p=matrix[:, j])
    return noisy, matrix


def _instance(
    codes: np.ndarray, probs: np.ndarray, rate: float, exact: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n, k = probs.shape
    targets = probs.copy()
    targets[np.arange(n), codes] = 0.0
    weight = targets.sum(axis=1)
    # Rows with all their mass on the true class still need somewhere to go if they are flipped.
    stuck = weight <= 0
    targets[stuck] = 1.0
    targets[stuck, codes[stuck]] = 0.0
    targets /= targets.sum(axis=1, keepdims=True)

    flip_prob = _flip_probabilities(weight, rate)
    if exact:
        flip = _weighted_sample(weight, _exact_count(n, rate), rng)
    else:
        flip = np.flatnonzero(rng.random(n) < flip_prob)
    noisy = codes.copy()
    noisy[flip] = _draw_rows(targets[flip], rng)
    return noisy, _expected_matrix(codes, flip_prob, targets)


def _flip_probabilities(weight: np.ndarray, rate: float) -> np.ndarray:
    """Per-example flip chances proportional to ``weight``, capped at 1, averaging ``rate``.

    Capping the heaviest examples at 1 and rescaling the rest (water-filling) keeps the mean at
    ``rate``. When fewer than ``rate * N`` examples have a positive weight, all of those are
    flipped for sure and the remainder is spread evenly over the zero-weight ones.
    """
    n = weight.size
    target = rate * n
    positive = int(np.count_nonzero(weight > 0))
    if positive <= target:
        fill = (target - positive) / (n - positive)
        return np.where(weight > 0, 1.0, fill)
    heavy_first = np.sort(weight)[::-1]
    tail = np.cumsum(heavy_first[::-1])[::-1]  # tail[t]: total weight left after capping t
    capped = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (target - capped) / tail
        fits = (tail > 0) & (capped <= target) & (scale * heavy_first <= 1)
    # The fewest capped examples that keep every uncapped chance <= 1; one always exists
    # because positive > target.
    return np.minimum(1.0, scale[int(np.argmax(fits))] * weight)


def _weighted_sample(weight: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` indices one at a time without replacement, proportionally to ``weight``.

    The ``size`` smallest keys Exp(1) / weight are such a draw (Efraimidis and Spirakis, 2006).
    Zero-weight examples sort last, in random order, so they are used only to fill up.
    """
    draws = rng.standard_exponential(weight.size)
    with np.errstate(divide="ignore"):
        keys = np.where(weight > 0, draws / np.where(weight > 0, weight, 1.0), np.inf)
    return np.lexsort((draws, keys))[:size]


def _draw_rows(dist: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One class per row of ``dist`` (rows summing to 1), by inverting each row's CDF."""
    if dist.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    cdf = np.cumsum(dist, axis=1)
    # Scaling by the last CDF value keeps float drift from pushing a draw past the final class.
    u = rng.random(dist.shape[0]) * cdf[:, -1]
    # A zero-probability class (the true one) has no CDF step, so it is never chosen.
    return np.argmax(cdf > u[:, None], axis=1)


def _expected_matrix(codes: np.ndarray, flip_prob: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Average [noisy, true] transition matrix of the examples of each true class."""
    k = targets.shape[1]
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    moved = np.stack(
        [np.bincount(codes, weights=flip_prob * targets[:, c], minlength=k) for c in range(k)]
    )
    stayed = counts - np.bincount(codes, weights=flip_prob, minlength=k)
    matrix = moved + np.diag(stayed)
    empty = counts == 0
    matrix[:, empty] = np.eye(k)[:, empty]  # a class without examples keeps its label
    counts[empty] = 1.0
    return matrix / counts


def _projected_probs(
    features: np.ndarray, codes: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Pseudo pred_probs: a softmax of a seeded random projection per true class."""
    spread = features.std(axis=0)
    z = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    # Dividing by sqrt(d) gives the scores unit variance, whatever the number of features.
    z /= np.sqrt(z.shape[1])
    projections = rng.standard_normal((k, z.shape[1], k))
    scores = np.empty((codes.size, k))
    for j in range(k):
        rows = codes == j
        scores[rows] = z[rows] @ projections[j]
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    return probs / probs.sum(axis=1, keepdims=True)
