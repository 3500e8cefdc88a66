"""How numbers and times are written for people: table cells, chart labels, page text.

One set of rules for the HTML card, the Markdown card and the monitoring dashboard. A missing
value (None, NaN, an infinity) is a dash; the two documents keep their own dash (the card an
en dash, the dashboard an em dash), chosen with ``missing``.

>>> format_number(1234567, "int"), format_number(0.1234, "pct"), format_number(None)
('1,234,567', '12.3%', '–')
>>> format_number(12345, "exact"), format_number(12345, "float")
('12345', '1.234e+04')
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import is_integer

__all__ = ["KINDS", "finite_number", "format_number", "format_time"]

#: How :func:`format_number` writes a finite number of each kind.
KINDS = ("float", "int", "pct", "sec", "exact")


def _finite(value: Any, kind: str) -> str:
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "sec":
        return f"{value:.2f} s"
    if kind == "exact" and is_integer(value):
        return str(int(value))  # a count is written whole, however large
    return f"{float(value):.4g}"


def format_number(value: Any, kind: str = "float", *, missing: str = "–") -> str:
    """Text for one value: a number by ``kind``, a flag as yes or no, anything else as text.

    Parameters
    ----------
    value : object
        A number (Python or numpy), None, a flag, or anything with a text form.
    kind : {"float", "int", "pct", "sec", "exact"}, default "float"
        ``float``: 4 significant digits; ``int``: whole, with thousands separators; ``pct``: a
        share as a percentage with one decimal; ``sec``: seconds with two decimals; ``exact``:
        integers whole, other numbers as ``float``.
    missing : str, default "–"
        The text of None, NaN and infinities.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(float("nan"), missing="—"), format_number(True), format_number("a<b")
    ('—', 'yes', 'a<b')
    """
    if value is None:
        return missing
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if not isinstance(value, Real):
        return str(value)
    if not math.isfinite(value):
        return missing
    return _finite(value, kind)


def finite_number(value: Any) -> float | None:
    """A finite float, or None for missing values, NaN, infinities, flags and non-numbers.

    Examples
    --------
    >>> finite_number("0.5"), finite_number(float("inf")), finite_number(True), finite_number("x")
    (0.5, None, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_time(value: Any) -> str | None:
    """A stored time for display: the date alone at midnight, else minutes; UTC offset dropped.

    Examples
    --------
    >>> format_time("2024-03-04T00:00:00+00:00"), format_time("2024-03-04T13:30:00+00:00")
    ('2024-03-04', '2024-03-04 13:30')
    >>> format_time(None), format_time("soon")
    (None, 'soon')
    """
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if stamp is pd.NaT:
        return None
    if stamp.tz is not None and stamp.utcoffset() == pd.Timedelta(0):
        stamp = stamp.tz_localize(None)
    if stamp.tz is None and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M" if not stamp.second else "%Y-%m-%d %H:%M:%S")
