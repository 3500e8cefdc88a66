"""Validation of what the monitor store writes: every value is checked before a row is built.

One reason to change: what a window result, a metric, a reconciliation row or a monitor's state
may hold. Everything invalid raises :class:`~labelwise.errors.InputError` naming the value.

>>> _check_reconciliation({"metric": "auc", "realized": float("nan")}, 0)["realized"] is None
True
>>> check_state({"when": float("nan")})
{'when': None}
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from labelwise._shared.serialize import strict_json
from labelwise.errors import InputError
from labelwise.monitor._composite import SEVERITIES


def _text(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = str(value)  # a model version given as 3 means "3"
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty string, got {value!r}.")
    if len(value) > 200:
        raise InputError(f"{what} is {len(value)} characters long; the store keeps at most 200.")
    return value


def _number(value: Any, what: str) -> float | None:
    """A finite float, or None for None, NaN and infinities (a metric that is undefined)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what} must be a number or None, got {value!r}.")
    value = float(value)
    return value if math.isfinite(value) else None


def _flag(value: Any, what: str) -> bool | None:
    if value is None:
        return None
    if type(value).__name__ in ("bool", "bool_"):  # numpy's bool_ too
        return bool(value)
    raise InputError(f"{what} must be True, False or None, got {value!r}.")


def _timestamp(value: Any, what: str) -> str | None:
    """An ISO 8601 text (kept as given, it is evidence) or None; datetimes are converted."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date)) or type(value).__name__ == "datetime64":
        return pd.Timestamp(value).isoformat()
    if isinstance(value, str) and value.strip():
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
        try:  # forms fromisoformat misses on Python 3.11 ("2026-01")
            if pd.Timestamp(value) is not pd.NaT:
                return value
        except ValueError:
            pass
    raise InputError(f"{what} must be an ISO 8601 date or time (or None), got {value!r}.")


def _json_data(value: Any, what: str) -> Any:
    """``value`` as plain JSON data, or an InputError naming the part that is not."""
    try:
        return strict_json(value, what)
    except TypeError as exc:
        raise InputError(f"{exc}; convert it to numbers, strings, lists or dicts.") from None


_RESULT_KEYS = ("window", "start", "end", "n_rows", "composite", "severity", "metrics", "details")
_METRIC_KEYS = ("monitor", "metric", "value", "threshold", "low", "high", "fired")
_RECON_KEYS = ("metric", "estimated", "realized", "gap", "low", "high", "inside_band")


def _check_result(result: Any) -> dict:
    """Validate and normalize a ``WindowResult.to_dict()`` before anything is written."""
    if not isinstance(result, Mapping):
        raise InputError(f"a window result must be a dict, got {type(result).__name__}.")
    missing = [
        k for k in ("window", "n_rows", "composite", "severity", "metrics") if k not in result
    ]
    if missing:
        raise InputError(
            f"the window result lacks {', '.join(missing)}; it needs window, n_rows, composite, "
            "severity and metrics (start, end and details are optional)."
        )
    try:
        n_rows = operator.index(result["n_rows"])
    except TypeError:
        n_rows = -1
    if n_rows < 0 or isinstance(result["n_rows"], bool):
        raise InputError(f"n_rows must be a count >= 0, got {result['n_rows']!r}.")
    composite = _number(result["composite"], "composite")
    if composite is None or not 0.0 <= composite <= 1.0:
        raise InputError(f"composite must be a number in [0, 1], got {result['composite']!r}.")
    severity = result["severity"]
    if severity not in SEVERITIES:
        raise InputError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}.")
    metrics = result["metrics"]
    if not isinstance(metrics, Sequence) or isinstance(metrics, (str, bytes)):
        raise InputError(f"metrics must be a list of dicts, got {type(metrics).__name__}.")
    extra = {k: v for k, v in result.items() if k not in _RESULT_KEYS}
    return {
        "window": _text(result["window"], "window"),
        "start": _timestamp(result.get("start"), "start"),
        "end": _timestamp(result.get("end"), "end"),
        "n_rows": int(n_rows),
        "composite": composite,
        "severity": severity,
        "metrics": [_check_metric(m, i) for i, m in enumerate(metrics)],
        "details": _json_data(result.get("details") or {}, "details"),
        # Keys this version does not know are kept, not dropped: the store must not lose evidence.
        "extra": _json_data(extra, "the result's extra keys"),
    }


def _check_metric(metric: Any, i: int) -> dict:
    where = f"metrics[{i}]"
    if not isinstance(metric, Mapping):
        raise InputError(f"{where} must be a dict, got {type(metric).__name__}.")
    unknown = sorted(set(metric) - set(_METRIC_KEYS))
    if unknown:
        raise InputError(f"{where} has unknown keys {unknown}; use {', '.join(_METRIC_KEYS)}.")
    return {
        "monitor": _text(metric.get("monitor"), f"{where}['monitor']"),
        "metric": _text(metric.get("metric"), f"{where}['metric']"),
        **{
            k: _number(metric.get(k), f"{where}[{k!r}]")
            for k in ("value", "threshold", "low", "high")
        },
        "fired": _flag(metric.get("fired"), f"{where}['fired']"),
    }


def _check_reconciliation(row: Any, i: int) -> dict:
    where = f"rows[{i}]"
    if not isinstance(row, Mapping):
        raise InputError(f"{where} must be a dict, got {type(row).__name__}.")
    unknown = sorted(set(row) - set(_RECON_KEYS))
    if unknown or "metric" not in row:
        raise InputError(
            f"{where} must have a 'metric' and may have {', '.join(_RECON_KEYS[1:])}"
            + (f"; unknown keys {unknown}" if unknown else "")
            + "."
        )
    numbers_ = ("estimated", "realized", "gap", "low", "high")
    return {
        "metric": _text(row["metric"], f"{where}['metric']"),
        **{k: _number(row.get(k), f"{where}[{k!r}]") for k in numbers_},
        "inside_band": _flag(row.get("inside_band"), f"{where}['inside_band']"),
    }


def check_windows(results: Any) -> list[dict]:
    """Validate a list of window results (``WindowResult.to_dict()`` dicts)."""
    if isinstance(results, Mapping) or not isinstance(results, Sequence):
        raise InputError("windows must be a list of WindowResult.to_dict() dicts.")
    return [_check_result(result) for result in results]


def check_state(state: Any) -> dict | None:
    """A monitor's state as plain JSON data: a dict, or None for no state."""
    if state is None:
        return None
    if not isinstance(state, Mapping):
        raise InputError(
            f"the state step returned must be a dict of JSON data (or None), got "
            f"{type(state).__name__}."
        )
    return _json_data(state, "the state step returned")


def check_step_result(value: Any) -> tuple[list[dict], dict | None]:
    """Validate what a ``step`` given to ``record_run`` returned: ``(windows, state)``."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise InputError(
            f"step must return a pair (windows, state), got {type(value).__name__}; return "
            "the window results to store and the state to keep with the last of them."
        )
    windows, state = check_windows(value[0]), check_state(value[1])
    if state is not None and not windows:
        raise InputError(
            "step returned a state but no windows; the state is kept with the last window "
            "written, so return at least one window (or None as the state)."
        )
    return windows, state
