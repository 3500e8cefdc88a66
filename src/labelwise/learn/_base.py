"""What the estimators of :mod:`labelwise.learn` share: declared parameters, checked in one place.

- :func:`estimator_parameters` makes a class's annotated defaults its scikit-learn parameters:
  the ``__init__`` it writes stores each argument unchanged, so a subclass lists only the
  parameters that are its own (and new defaults for inherited ones) instead of repeating every
  inherited one in its signature and in a ``super().__init__`` call.
- :class:`CheckedParams` holds the one ``_check_params`` that tests the values against the
  class's ``_parameter_constraints`` (rules of :mod:`labelwise._params`).
- :data:`LAYER_WIDTHS` is the rule of a network's hidden layer widths.
"""

from __future__ import annotations

import dataclasses
from numbers import Integral
from typing import Any, ClassVar

from labelwise._params import Interval, check_params

__all__ = ["LAYER_WIDTHS", "CheckedParams", "estimator_parameters", "layer_widths"]

#: Class decorator declaring an estimator's parameters as annotated class attributes with
#: defaults, in signature order (a subclass's own after its base's). The generated ``__init__``
#: only stores its arguments, as scikit-learn's ``clone`` and ``get_params`` require;
#: ``__eq__`` and ``__repr__`` stay those of the class (scikit-learn's repr, identity equality).
estimator_parameters = dataclasses.dataclass(eq=False, repr=False)


class CheckedParams:
    """Mixin: ``_check_params`` raises for the first parameter its constraints do not allow.

    A class declares ``_parameter_constraints``, a mapping of parameter name to the rules any
    one of which its value must meet; rules that involve several parameters go in an override
    that calls this one first.
    """

    _parameter_constraints: ClassVar[dict] = {}

    def _check_params(self) -> None:
        values = {name: getattr(self, name) for name in self._parameter_constraints}
        check_params(self._parameter_constraints, values)


class _LayerWidths:
    """A positive int, or a sequence of them: the widths of a network's hidden layers."""

    def accepts(self, value: Any) -> bool:
        try:
            layer_widths(value)
        except ValueError:
            return False
        return True

    def __str__(self) -> str:
        return "a sequence of positive ints"


#: The rule for ``hidden``: one width, or one per hidden layer (``()`` for none).
LAYER_WIDTHS = _LayerWidths()
_ONE_WIDTH = Interval(Integral, 1, None)


def layer_widths(hidden: Any) -> tuple[int, ...]:
    """``hidden`` as a tuple of ints; ValueError unless every width is a positive int."""
    if _ONE_WIDTH.accepts(hidden):
        return (int(hidden),)
    try:
        values = tuple(hidden)
    except TypeError:
        raise ValueError(hidden) from None
    if not all(_ONE_WIDTH.accepts(width) for width in values):
        raise ValueError(hidden)
    return tuple(int(width) for width in values)
