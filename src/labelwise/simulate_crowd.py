"""Seeded crowds: annotators of known kinds labeling items whose true class is known.

Consensus methods are judged on votes whose truth is known. :func:`simulate_annotators` draws a
crowd of annotators, each of a kind with its own confusion matrix, and lets each item be labeled
by a few of them, returning the votes together with every annotator's matrix and accuracy.

Kinds of annotator (``accuracy`` is drawn per annotator from the kind's range):

- ``"good"``: right with probability ``accuracy``, otherwise any other class at random.
- ``"careless"``: gives the true class with probability ``accuracy``, otherwise a random class
  (low accuracy, errors spread evenly).
- ``"biased"``: with probability ``1 - accuracy`` names one favourite class whatever the truth.
- ``"adversarial"``: with probability ``1 - accuracy`` names the *next* class (k -> k+1), a
  systematic lie a majority vote cannot see through.
- ``"constant"``: names one class for everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import Interval, check_params
from labelwise._simulate import as_generator
from labelwise._validate import as_array
from labelwise.errors import ConfigError, LabelError, ShapeError

__all__ = ["ANNOTATOR_KINDS", "SimulatedCrowd", "simulate_annotators"]

#: Each kind's accuracy range (drawn uniformly per annotator).
ANNOTATOR_KINDS = {
    "good": (0.75, 0.95),
    "careless": (0.25, 0.55),
    "biased": (0.4, 0.7),
    "adversarial": (0.3, 0.6),
    "constant": (0.0, 0.0),
}


@dataclass(frozen=True, repr=False)
class SimulatedCrowd:
    """Votes of a simulated crowd and the truth about it.

    votes : DataFrame
        Long votes: ``item`` (row number), ``annotator``, ``label`` (a class code).
    kinds : ndarray of str, shape (n_annotators,)
    confusion : ndarray, shape (n_annotators, n_classes, n_classes)
        Row ``k``: how the annotator labels an item whose true class is ``k``.
    accuracy : ndarray, shape (n_annotators,)
        The share of each annotator's votes that are right (NaN with no votes).
    """

    votes: pd.DataFrame
    kinds: np.ndarray
    confusion: np.ndarray
    accuracy: np.ndarray

    def __repr__(self) -> str:
        kinds = pd.Series(self.kinds).value_counts().to_dict()
        return f"SimulatedCrowd({len(self.votes)} votes, annotators {kinds})"


def simulate_annotators(
    true_labels: Any,
    *,
    n_annotators: int = 50,
    votes_per_item: int | tuple[int, int] = 3,
    kinds: Mapping[str, float] | None = None,
    n_classes: int | None = None,
    random_state: Any = None,
) -> SimulatedCrowd:
    """Let a crowd of annotators of known kinds label items of known class.

    Parameters
    ----------
    true_labels : array-like of int, shape (n_items,)
        The true class code (0..K-1) of each item.
    n_annotators : int, default 50
    votes_per_item : int or (low, high), default 3
        Votes each item gets, from distinct annotators; a pair draws the count per item from
        ``low..high`` inclusive (0 allowed: items nobody labeled).
    kinds : mapping of str to float, optional
        The share of each kind of annotator (see the module docstring), e.g.
        ``{"good": 0.7, "careless": 0.2, "adversarial": 0.1}``. Default: all good.
    n_classes : int, optional
        Defaults to ``max(true_labels) + 1``.
    random_state : int, Generator or None

    Returns
    -------
    SimulatedCrowd

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.simulate import simulate_annotators
    >>> crowd = simulate_annotators(np.arange(100) % 4, n_annotators=10, random_state=0)
    >>> len(crowd.votes)
    300
    """
    check_params(
        {
            "n_annotators": [Interval(Integral, 1, None)],
            "n_classes": [Interval(Integral, 2, None), None],
        },
        {"n_annotators": n_annotators, "n_classes": n_classes},
    )
    truth = _check_truth(true_labels, n_classes)
    k = int(truth.max()) + 1 if n_classes is None else int(n_classes)
    if k < 2:
        raise ConfigError(
            "true_labels name a single class; a crowd needs two or more (pass n_classes)."
        )
    low, high = _vote_range(votes_per_item, n_annotators)
    rng = as_generator(random_state)
    kind_of = _draw_kinds(kinds or {"good": 1.0}, n_annotators, rng)
    confusion = np.stack([_confusion(kind, k, rng) for kind in kind_of])
    item, annotator = _assign(len(truth), n_annotators, low, high, rng)
    label = _draw_labels(confusion[annotator, truth[item]], rng)
    right = np.bincount(annotator, label == truth[item], n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = right / np.bincount(annotator, minlength=n_annotators)
    votes = pd.DataFrame({"item": item, "annotator": annotator, "label": label})
    return SimulatedCrowd(votes, kind_of, confusion, accuracy)


def _check_truth(true_labels: Any, n_classes: int | None) -> np.ndarray:
    truth = as_array("true_labels", true_labels, "integer class codes 0..K-1")
    if truth.ndim != 1 or truth.size == 0:
        raise ShapeError(f"true_labels must be 1-D and non-empty, got shape {truth.shape}.")
    if truth.dtype.kind not in "iu" or truth.min() < 0:
        raise LabelError(
            "true_labels must be integer class codes 0..K-1; map class names to codes first "
            "(e.g. pd.factorize(labels)[0])."
        )
    if n_classes is not None and truth.max() >= n_classes:
        raise LabelError(
            f"true_labels go up to {truth.max()} but n_classes is {n_classes}; codes must be "
            "below n_classes."
        )
    return truth.astype(np.int64)


def _vote_range(votes_per_item: Any, n_annotators: int) -> tuple[int, int]:
    low, high = (
        (votes_per_item, votes_per_item)
        if isinstance(votes_per_item, Integral)
        else tuple(votes_per_item)
    )
    if not (isinstance(low, Integral) and isinstance(high, Integral)):
        raise ConfigError(f"votes_per_item must be whole numbers, got {votes_per_item!r}.")
    if not 0 <= low <= high <= n_annotators:
        raise ConfigError(
            f"votes_per_item must be in 0..n_annotators ({n_annotators}) with low <= high, got "
            f"{votes_per_item!r}."
        )
    return int(low), int(high)


def _draw_kinds(kinds: Mapping[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    unknown = set(kinds) - set(ANNOTATOR_KINDS)
    if unknown:
        raise ConfigError(
            f"unknown annotator kinds {sorted(unknown)}; choose from {list(ANNOTATOR_KINDS)}."
        )
    names = list(kinds)
    shares = np.array([kinds[name] for name in names], dtype=float)
    if not np.isfinite(shares).all() or (shares < 0).any() or shares.sum() <= 0:
        raise ConfigError("kinds must map each kind to a finite share >= 0, not all zero.")
    exact = shares / shares.sum() * n
    counts = np.floor(exact).astype(int)
    # Largest remainders first, so a kind with a fair claim to an annotator gets one.
    counts[np.argsort(counts - exact, kind="stable")[: n - counts.sum()]] += 1
    kind_of = np.repeat(np.array(names, dtype=object), counts)
    return rng.permutation(kind_of).astype(str)


def _confusion(kind: str, k: int, rng: np.random.Generator) -> np.ndarray:
    accuracy = rng.uniform(*ANNOTATOR_KINDS[kind])
    if kind == "good":
        matrix = np.full((k, k), (1 - accuracy) / (k - 1))
        np.fill_diagonal(matrix, accuracy)
    elif kind == "careless":
        matrix = np.full((k, k), (1 - accuracy) / k) + np.eye(k) * accuracy
    elif kind == "biased":
        matrix = np.eye(k) * accuracy
        matrix[:, rng.integers(k)] += 1 - accuracy
    elif kind == "adversarial":
        matrix = np.eye(k) * accuracy + np.roll(np.eye(k), 1, axis=1) * (1 - accuracy)
    else:
        matrix = np.zeros((k, k))
        matrix[:, rng.integers(k)] = 1.0
    return matrix


def _assign(
    n_items: int, n_annotators: int, low: int, high: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Which annotators label which item: ``low..high`` distinct annotators per item."""
    counts = rng.integers(low, high + 1, size=n_items)
    slots = np.zeros((n_items, high), dtype=np.int64)
    for slot in range(high):
        slots[:, slot] = rng.integers(n_annotators, size=n_items)
        clash = (slots[:, :slot] == slots[:, [slot]]).any(axis=1)
        while clash.any():  # redraw the few that picked someone already on the item
            slots[clash, slot] = rng.integers(n_annotators, size=int(clash.sum()))
            clash = (slots[:, :slot] == slots[:, [slot]]).any(axis=1)
    used = np.arange(high)[None, :] < counts[:, None]
    item = np.repeat(np.arange(n_items), counts)
    return item, slots[used]


def _draw_labels(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cumulative = rows.cumsum(axis=1)
    draws = rng.random((len(rows), 1)) * cumulative[:, -1:]
    return np.minimum((draws >= cumulative).sum(axis=1), rows.shape[1] - 1)
