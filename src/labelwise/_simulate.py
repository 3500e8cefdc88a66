"""What the label-corruption simulators share: seeds, noise rates, class names and codes.

:mod:`labelwise.simulate`, :mod:`labelwise.simulate_weak` and :mod:`labelwise.datasets` corrupt
labels on purpose. They read seeds and rates by the same rules, name classes the same way and
describe their result's noise rate alike; those rules live here, once, so that the public modules
need not import one another's private helpers.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import InstanceOf, Interval, check_params
from labelwise._validate import class_codes, label_categories, sorted_unique
from labelwise.errors import InputTypeError, LabelError, ShapeError

__all__ = [
    "RATE",
    "NoiseRateMixin",
    "as_generator",
    "check_rate",
    "class_names",
    "encode_classes",
]

#: A share of labels to corrupt: 1 would leave no clean label to compare against.
RATE = Interval(Real, 0, 1, closed="left")
_GENERATOR = InstanceOf(np.random.Generator, "a numpy Generator (np.random.default_rng(seed))")
# A seed is checked twice: its type (an InputTypeError), then its range (a ConfigError).
_SEED_TYPE = {"random_state": [Interval(Integral, None, None), _GENERATOR, None]}
_SEED_RANGE = {"random_state": [Interval(Integral, 0, None), _GENERATOR, None]}


class NoiseRateMixin:
    """The noise rate of a result that records which labels were changed in ``is_noisy``."""

    is_noisy: np.ndarray

    @property
    def noise_rate(self) -> float:
        """The share of labels that were changed."""
        return float(self.is_noisy.mean())


def check_rate(name: str, rate: Any) -> float:
    """Return ``rate`` as a float if it lies in [0, 1), else raise a :class:`ConfigError`.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    rate : object
        The value given.

    Returns
    -------
    float
    """
    check_params({name: [RATE]}, {name: rate})
    return float(rate)


def as_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from a seed >= 0, a Generator (used as is) or None (a fresh one).

    Parameters
    ----------
    random_state : int, numpy Generator or None

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputTypeError
        For anything else, a legacy ``RandomState`` included.
    ConfigError
        For a negative seed.
    """
    values = {"random_state": random_state}
    check_params(_SEED_TYPE, values, error=InputTypeError)
    check_params(_SEED_RANGE, values)
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(None if random_state is None else int(random_state))


def class_names(
    labels: Any,
    values: np.ndarray,
    classes: Any = None,
    implied: tuple[int | None, str] = (None, ""),
) -> np.ndarray:
    """The class of each code: given, else categories, 0..K-1 codes, or sorted distinct labels.

    Parameters
    ----------
    labels : array-like
        The labels as given (a Categorical's categories name its classes).
    values : ndarray
        The labels as checked by :func:`labelwise._validate.labels_array`.
    classes : array-like, optional
        Every class name, in code order.
    implied : (int or None, str), default (None, "")
        The number of classes another input fixes (a noise matrix, pred_probs columns) and that
        input's name; integer labels ``0..K-1`` are then codes of K classes.

    Returns
    -------
    ndarray (K,)
    """
    implied_k, source = implied
    if classes is not None:
        names = _check_class_names(classes)
    else:
        names = label_categories(labels)
        if names is None and implied_k is not None and _are_codes(values, implied_k):
            names = np.arange(implied_k, dtype=values.dtype)
        if names is None:
            names = sorted_unique(values)
    if implied_k is not None and len(names) != implied_k:
        given = "classes lists" if classes is not None else "labels name"
        raise ShapeError(
            f"{given} {len(names)} classes ({names[:5].tolist()}) but {source} describes "
            f"{implied_k}. Pass classes=[...] listing all {implied_k} classes in {source} order."
        )
    return names


def _are_codes(values: np.ndarray, n_classes: int) -> bool:
    return values.dtype.kind in "iu" and values.min() >= 0 and values.max() < n_classes


def _check_class_names(classes: Any) -> np.ndarray:
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise InputTypeError(f"classes must be a list of class names, got {classes!r}.")
    names = np.asarray(classes) if isinstance(classes, np.ndarray) else _typed(list(classes))
    if names.ndim != 1 or names.size == 0:
        raise ShapeError(f"classes must be a non-empty 1-D list of names, got shape {names.shape}.")
    if len(pd.unique(names)) != names.size:
        raise LabelError("classes holds duplicate names; list each class once.")
    return names


def _typed(items: list) -> np.ndarray:
    # np.asarray([1, "a"]) would turn 1 into "1"; only let numpy pick a dtype when types agree.
    if len({type(item) for item in items}) == 1:
        return np.asarray(items)
    names = np.empty(len(items), dtype=object)
    names[:] = items
    return names


def encode_classes(values: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The position of each label in ``names``; a :class:`LabelError` names labels not there."""
    codes = class_codes(values, names, "add them to classes=[...] or fix the labels.")
    return codes.astype(np.intp, copy=False)
