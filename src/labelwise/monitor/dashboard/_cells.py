"""How the dashboard writes a stored value in a table cell, a tooltip or an axis label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelwise._shared.formatting import format_number


def fmt(value: Any) -> str:
    """Format a stored value for a table cell: counts whole, other numbers to 4 digits.

    Missing values (None, NaN) are an em dash; lists and dicts are written item by item.

    Examples
    --------
    >>> fmt(0.123456), fmt(12345.678), fmt(None), fmt(True), fmt(3), fmt(float("nan"))
    ('0.1235', '1.235e+04', '—', 'yes', '3', '—')
    >>> fmt({"a": [1, 2.5]})
    'a: 1, 2.5'
    """
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {fmt(item)}" for key, item in value.items())
    return format_number(value, "exact", missing="—")
