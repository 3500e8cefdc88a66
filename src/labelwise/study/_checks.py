"""Checks of the list-valued settings of the studies: rates, seeds, budgets, fractions."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelwise.errors import ConfigError


def checked_list(name: str, values: Any, rule: Any) -> tuple[Any, ...]:
    """The entries of ``values`` (one value or a list) when there is at least one and ``rule``
    accepts each of them; else a ConfigError naming the parameter.

    ``rule`` is a rule of :mod:`labelwise._params` (an ``Interval``, ``Options``...).
    """
    items = tuple(np.atleast_1d(values).tolist()) if values is not None else ()
    if not items or not all(rule.accepts(v) for v in items):
        raise ConfigError(f"{name} must be a non-empty list, each {rule}, got {values!r}.")
    return items
