"""Parameter constraints, declared once per estimator or function, and warnings at the caller.

In the manner of scikit-learn's ``_parameter_constraints``: an estimator or function states what
each parameter may be, next to its signature, and one checker enforces it with one rule for every
kind of number:

- an integer is any :class:`numbers.Integral` except ``bool``: ``3``, ``np.int64(3)`` and
  ``np.uint8(3)`` are accepted alike, ``True`` is not;
- a real number is any :class:`numbers.Real` except ``bool`` and NaN: numpy floats and integers
  are accepted alike.

The error names the parameter, what it may be and what it got, and is raised as the caller's
class (:class:`~labelwise.errors.ConfigError` by default).

>>> constraints = {"n_bins": [Interval(Integral, 2, None)], "method": [Options({"a", "b"})]}
>>> check_params(constraints, {"n_bins": np.int64(10), "method": "a"})
>>> check_params(constraints, {"n_bins": 1, "method": "a"})
Traceback (most recent call last):
...
labelwise.errors.ConfigError: n_bins must be an integer >= 2, got 1.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from labelwise.errors import ConfigError

__all__ = [
    "Interval",
    "Options",
    "InstanceOf",
    "BOOLEAN",
    "CALLABLE",
    "check_params",
    "validate_params",
    "is_integer",
    "is_number",
    "warn",
]

_PACKAGE_DIR = os.path.normcase(os.path.dirname(os.path.realpath(__file__))) + os.sep


def is_integer(value: Any) -> bool:
    """True for Python and numpy integers; False for bools (``True`` is not a count)."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """True for finite-or-infinite real numbers of any kind; False for bools and NaN."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return False
    # Integers are never NaN, and a huge one would overflow math.isnan's float.
    return isinstance(value, Integral) or not math.isnan(value)


class Interval:
    """Numbers of one kind between two bounds (None: unbounded on that side).

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        Integers only, or any real number.
    left, right : number or None
        The bounds.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    """

    def __init__(
        self, kind: type, left: float | None, right: float | None, closed: str = "both"
    ) -> None:
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def accepts(self, value: Any) -> bool:
        if not (is_integer(value) if self.kind is Integral else is_number(value)):
            return False
        low_in = self.closed in ("both", "left")
        high_in = self.closed in ("both", "right")
        if self.left is not None and not (value >= self.left if low_in else value > self.left):
            return False
        return self.right is None or (value <= self.right if high_in else value < self.right)

    def __str__(self) -> str:
        noun = "an integer" if self.kind is Integral else "a number"
        low = "[" if self.closed in ("both", "left") else "("
        high = "]" if self.closed in ("both", "right") else ")"
        if self.left is None and self.right is None:
            return noun
        if self.right is None:
            return f"{noun} {'>=' if low == '[' else '>'} {self.left}"
        if self.left is None:
            return f"{noun} {'<=' if high == ']' else '<'} {self.right}"
        return f"{noun} in {low}{self.left}, {self.right}{high}"


class Options:
    """One of a fixed set of values (compared with ``==``, so numpy strings match too)."""

    def __init__(self, values: Iterable[Any]) -> None:
        self.values = list(values)

    def accepts(self, value: Any) -> bool:
        try:
            return any(value == option for option in self.values)
        except (TypeError, ValueError):  # an array compared with a string
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class InstanceOf:
    """An instance of one of ``types``, described as ``text``."""

    def __init__(self, types: type | tuple[type, ...], text: str) -> None:
        self.types = types
        self.text = text

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.text


class _Callable:
    def accepts(self, value: Any) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"


#: True or False (numpy's bool too).
BOOLEAN = InstanceOf((bool, np.bool_), "True or False")
#: Any callable.
CALLABLE = _Callable()


def _accepts(rule: Any, value: Any) -> bool:
    return value is None if rule is None else rule.accepts(value)


def _describe(rules: Sequence[Any]) -> str:
    texts = ["None" if rule is None else str(rule) for rule in rules]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def check_params(
    constraints: Mapping[str, Sequence[Any]],
    values: Mapping[str, Any],
    *,
    error: type[Exception] = ConfigError,
) -> None:
    """Raise ``error`` for the first value in ``values`` that no rule of its parameter accepts.

    Parameters
    ----------
    constraints : mapping of str to list
        Per parameter, the rules any of which a value may meet: an :class:`Interval`,
        :class:`Options`, :class:`InstanceOf`, :data:`BOOLEAN`, :data:`CALLABLE` or None.
        Parameters absent from the mapping are not checked.
    values : mapping of str to object
        The values given.
    error : exception class, default ConfigError
        What to raise.
    """
    for name, rules in constraints.items():
        if name in values and not any(_accepts(rule, values[name]) for rule in rules):
            raise error(f"{name} must be {_describe(rules)}, got {values[name]!r}.")


def validate_params(
    constraints: Mapping[str, Sequence[Any]], *, error: type[Exception] = ConfigError
) -> Callable[[Callable], Callable]:
    """Decorate a function so that its arguments are checked against ``constraints`` first."""

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:  # a typo in a declaration is caught when the module is imported
            raise TypeError(f"{func.__qualname__} has no parameters {sorted(unknown)}")

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check_params(constraints, bound.arguments, error=error)
            return func(*args, **kwargs)

        checked.__signature__ = signature  # type: ignore[attr-defined]
        return checked

    return decorate


def _inside_labelwise(filename: str) -> bool:
    return os.path.normcase(os.path.realpath(filename)).startswith(_PACKAGE_DIR)


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that makes :func:`warnings.warn`, called from :func:`warn`, name the
    first frame outside labelwise (the user's line), wherever inside labelwise it is raised."""
    frame = inspect.currentframe()
    level = 0
    while frame is not None and _inside_labelwise(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    # level counts this function's frame and warn's; warnings.warn's stacklevel=1 is warn itself,
    # so the first outside frame is ``level`` frames up from there.
    return max(level, 1)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue a warning attributed to the user's code: the first frame outside labelwise.

    A fixed ``stacklevel`` points at whichever labelwise line happens to sit that many calls up;
    this walks the stack instead, so the warning names the line that called labelwise whatever
    the path inside (a public function, an estimator's ``fit``, the CLI).

    Call it on the caller's thread: a worker thread's stack does not reach the user's code, so
    work done in threads returns what it found and the main thread warns.
    """
    warnings.warn(message, category, stacklevel=_outside_stacklevel())
