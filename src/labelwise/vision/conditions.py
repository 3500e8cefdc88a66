"""Corrupt the conditions of a conditional dataset: class flips and caption swaps.

Conditional generative models are trained on (data, condition) pairs scraped at scale, where some
conditions do not describe their data. These functions corrupt a known fraction of the conditions
so that the effect of such pairs can be studied. Both change *exactly* ``round(rate * n)``
conditions (a caption swap needs two captions, so one swap of a single caption becomes two), and
both return which entries they changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from labelwise._params import Interval, check_params
from labelwise.errors import ConfigError, InputError, LabelError, ShapeError

__all__ = ["flip_conditions", "swap_captions"]


_RATE = {"rate": [Interval(Real, 0, 1)]}
_N_CLASSES = {"n_classes": [Interval(Integral, 2, None), None]}


def _check_rate(rate: float) -> float:
    check_params(_RATE, {"rate": rate})
    return float(rate)


def _one_d(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ShapeError(f"{name} must be one-dimensional, got shape {array.shape}.")
    if array.size == 0:
        raise InputError(f"{name} is empty; give at least one condition.")
    return array


def flip_conditions(
    y: Any,
    rate: float,
    n_classes: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the class condition of exactly ``round(rate * len(y))`` examples by another class.

    Each chosen example gets a class drawn uniformly from the classes other than its own, so
    every changed condition is wrong.

    Parameters
    ----------
    y : array-like (N,)
        Class conditions. With ``n_classes`` they must be integers in ``[0, n_classes)``;
        without it the classes are the distinct values of ``y`` (any hashable, strings too).
    rate : float in [0, 1]
        The fraction of conditions to corrupt.
    n_classes : int, optional
        The number of classes, when some classes may be absent from ``y``.
    random_state : int or numpy Generator, optional
        Seed for the choice of examples and of their new classes.

    Returns
    -------
    conditions : ndarray (N,)
        The corrupted conditions, same dtype as ``y``.
    is_corrupted : ndarray (N,) of bool
        True where the condition was changed.

    Examples
    --------
    >>> y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    >>> noisy, changed = flip_conditions(y, 0.2, n_classes=3, random_state=0)
    >>> int(changed.sum()), bool((noisy[changed] != np.asarray(y)[changed]).all())
    (2, True)
    """
    y = _one_d(y, "y")
    rate = _check_rate(rate)
    check_params(_N_CLASSES, {"n_classes": n_classes})
    if n_classes is None:
        classes = np.unique(y)
    else:
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
            raise LabelError(
                f"with n_classes={n_classes}, y must hold integers in [0, {n_classes}); "
                "pass n_classes=None to use the distinct values of y as the classes."
            )
        classes = np.arange(n_classes, dtype=y.dtype)
    if len(classes) < 2:
        raise LabelError("y holds a single class; a condition can only be flipped to another.")
    rng = np.random.default_rng(random_state)
    n_flip = int(round(rate * len(y)))
    chosen = rng.choice(len(y), size=n_flip, replace=False)
    codes = np.searchsorted(classes, y)
    # An offset in 1..K-1 added modulo K draws uniformly among the other classes.
    offsets = rng.integers(1, len(classes), size=n_flip)
    out = y.copy()
    out[chosen] = classes[(codes[chosen] + offsets) % len(classes)]
    is_corrupted = np.zeros(len(y), dtype=bool)
    is_corrupted[chosen] = True
    return out, is_corrupted


def swap_captions(
    captions: Sequence[Any],
    rate: float,
    random_state: int | np.random.Generator | None = None,
) -> tuple[list[Any], np.ndarray]:
    """Give exactly ``round(rate * len(captions))`` examples the caption of another example.

    The chosen examples pass their captions around a random cycle, so none keeps its own
    caption. A single swap is impossible, so a rate that rounds to one caption swaps two.

    Parameters
    ----------
    captions : sequence (N,)
        One caption (any object, usually a string) per example.
    rate : float in [0, 1]
        The fraction of captions to move.
    random_state : int or numpy Generator, optional
        Seed for the choice of examples and the order of the cycle.

    Returns
    -------
    captions : list (N,)
        The captions after the swaps.
    is_corrupted : ndarray (N,) of bool
        True where the example received another example's caption.

    Examples
    --------
    >>> swapped, changed = swap_captions(["a cat", "a dog", "a car", "a cup"], 0.5, 0)
    >>> int(changed.sum()), sorted(swapped) == ["a car", "a cat", "a cup", "a dog"]
    (2, True)
    """
    items = list(captions)
    if not items:
        raise InputError("captions is empty; give at least one caption.")
    rate = _check_rate(rate)
    n_swap = int(round(rate * len(items)))
    if n_swap == 1:
        n_swap = 2
    if n_swap > len(items):
        raise ConfigError(f"cannot swap {n_swap} captions out of {len(items)}; lower the rate.")
    rng = np.random.default_rng(random_state)
    chosen = rng.permutation(len(items))[:n_swap]
    out = list(items)
    # Each chosen example takes the caption of the next one in the cycle: a derangement.
    for target, source in zip(chosen, np.roll(chosen, -1), strict=True):
        out[target] = items[source]
    is_corrupted = np.zeros(len(items), dtype=bool)
    is_corrupted[chosen] = True
    return out, is_corrupted
