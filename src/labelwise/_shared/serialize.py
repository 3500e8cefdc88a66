"""One conversion to JSON data for the whole package.

Two readers, two rules:

- :func:`jsonable` is lenient, for files people read (reports, cards, benchmark tables): numpy and
  pandas values become plain numbers and lists, NaN, infinities and missing values become ``null``,
  paths become text, and anything else is left for :mod:`json` to judge.
- :func:`strict_json` is strict, for what is stored and hashed (the monitor's store): the same
  conversions, but a value JSON cannot hold, or a key that is not a string, raises ``TypeError``
  naming where it sits, instead of being written in some other form.

>>> import numpy as np
>>> jsonable({"a": np.float32(0.5), "b": [np.int64(2), float("nan")]})
{'a': 0.5, 'b': [2, None]}
>>> strict_json({"x": float("inf"), "y": (1, 2.5)})
{'x': None, 'y': [1, 2.5]}
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "strict_json", "json_scalar", "json_for_html"]


def jsonable(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """Plain JSON types for numpy/pandas values; NaN and infinities become None (strict JSON).

    ``default``, when given, converts any other value that is not already JSON (a date, a
    decimal); without it such a value is returned as is, for :mod:`json` to judge.

    >>> import datetime
    >>> jsonable([datetime.date(2024, 1, 2)], default=lambda v: v.isoformat())
    ['2024-01-02']
    >>> jsonable(np.array(["2024-01-02T03:04", "NaT"], dtype="datetime64[ns]"))
    ['2024-01-02T03:04:00', None]
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, default) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, default) for v in value]
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)):
        if np.asarray(value).dtype.kind == "M":  # tolist() would give nanosecond integers
            return [jsonable(v, default) for v in np.asarray(value)]
        return jsonable(value.tolist(), default)
    if isinstance(value, np.datetime64):  # .item() would give nanoseconds as an integer
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        return jsonable(value.item(), default)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if default is not None and not isinstance(value, (str, int, type(None))):
        return default(value)
    return value


def strict_json(value: Any, where: str = "value") -> Any:
    """Return ``value`` as plain JSON data, or raise ``TypeError`` naming the part that is not.

    NaN and infinities become ``None``; numpy scalars and arrays and tuples are converted.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; JSON keys must be strings")
            out[key] = strict_json(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [strict_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return strict_json(value.tolist(), where)
    raise TypeError(f"{where} is a {type(value).__name__}, which cannot be stored as JSON")


def json_scalar(value: Any) -> Any:
    """A JSON-ready scalar: numpy scalars unwrapped, NaN and infinities as None, rest as text.

    >>> import numpy as np
    >>> json_scalar(np.float32(0.5)), json_scalar(float("nan")), json_scalar(np.int64(3))
    (0.5, None, 3)
    """
    if hasattr(value, "item") and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def json_for_html(doc: Any, *, indent: int | None = 2) -> str:
    """JSON text safe in an HTML ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u`` escapes.

    It is the same JSON to any parser, but text from the data can never close the element.

    >>> json_for_html({"name": "</script>"}, indent=None)
    '{"name": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(jsonable(doc), indent=indent, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
