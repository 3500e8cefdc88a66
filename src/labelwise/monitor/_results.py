"""Result objects of the monitor: one checked window and one reconciliation.

Both are plain data with a stable, JSON-able contract (:meth:`WindowResult.to_dict`,
:meth:`Reconciliation.to_rows`) that storage and dashboards rely on, tidy frames, and a text
summary that always states the blind spot of label-free monitoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from labelwise._shared.serialize import jsonable as _jsonable

__all__ = [
    "BLIND_SPOT",
    "METRIC_RANGES",
    "MetricRow",
    "WindowResult",
    "Reconciliation",
    "clip_to_range",
    "metric_range",
]

#: The sentence every report and every dashboard page carries.
BLIND_SPOT = (
    "Blind spot: a pure change of P(Y|X) (the same inputs now leading to different outcomes) "
    "moves no label-free signal; scores, features and uncertainty stay put, so it is invisible "
    "without labels. Only reconciliation against matured labels (the gap between estimated and "
    "realized performance) can reveal it."
)


#: The values each banded metric can take. A band of ± n_sigma sampling errors around an estimate
#: near a bound would otherwise run past it (an AUC band up to 1.03 on a small window); the
#: monitor clips every estimate and band to these before reporting or storing them. Per-class
#: metrics (``precision[cat]``) and macro averages (``macro_f1``) share their metric's range.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "bad_rate": (0.0, 1.0),
    "auc": (0.0, 1.0),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "approval_rate": (0.0, 1.0),
    "mae": (0.0, math.inf),
    "rmse": (0.0, math.inf),
}


def metric_range(metric: str) -> tuple[float, float]:
    """The range of ``metric``, a per-class metric or a macro average (KeyError when unknown).

    >>> metric_range("precision[cat]"), metric_range("macro_f1"), metric_range("mae")
    ((0.0, 1.0), (0.0, 1.0), (0.0, inf))
    """
    base = metric.split("[", 1)[0].removeprefix("macro_")
    return METRIC_RANGES[base]


def clip_to_range(metric: str, value: float | None) -> float | None:
    """``value`` clipped to the range of ``metric`` (see :data:`METRIC_RANGES`).

    Parameters
    ----------
    metric : str
        A key of :data:`METRIC_RANGES`, such as ``"auc"``, a per-class metric such as
        ``"recall[dog]"`` or a macro average such as ``"macro_precision"``.
    value : float or None
        The estimate or band edge; None and NaN pass through unchanged.

    Returns
    -------
    float or None

    Raises
    ------
    KeyError
        When ``metric`` has no range: a new banded metric must be given one.

    Examples
    --------
    >>> clip_to_range("auc", 1.024), clip_to_range("precision", -0.01), clip_to_range("auc", 0.7)
    (1.0, 0.0, 0.7)
    """
    low, high = metric_range(metric)
    if value is None or math.isnan(value):
        return value
    return min(max(float(value), low), high)


def _num(value: Any) -> float | None:
    """A finite float, or None (NaN and infinities are not JSON)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class MetricRow:
    """One metric of one monitor in one window."""

    monitor: str
    metric: str
    value: float | None
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    fired: bool | None = None

    def to_dict(self) -> dict:
        return {
            "monitor": self.monitor,
            "metric": self.metric,
            "value": _num(self.value),
            "threshold": _num(self.threshold),
            "low": _num(self.low),
            "high": _num(self.high),
            "fired": None if self.fired is None else bool(self.fired),
        }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return pd.Timestamp(value).isoformat()


@dataclass
class WindowResult:
    """The monitor's verdict on one window.

    Attributes
    ----------
    window : str
        Window id.
    start, end : str or None
        ISO timestamps of the window, when given.
    n_rows : int
    composite : float
        In [0, 1]; see :func:`labelwise.monitor.composite_score`.
    severity : str
        One of ``ok``, ``watch``, ``warn``, ``alert``, ``critical`` after hysteresis and
        persistence.
    metrics : list of MetricRow
    details : dict
        Per-bin PSI contributions, the per-feature table, notes.
    """

    window: str
    start: str | None
    end: str | None
    n_rows: int
    composite: float
    severity: str
    metrics: list[MetricRow] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-able result contract (see the module documentation)."""
        return {
            "window": str(self.window),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "n_rows": int(self.n_rows),
            "composite": float(self.composite),
            "severity": self.severity,
            "metrics": [m.to_dict() for m in self.metrics],
            "details": _jsonable(self.details),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: window, monitor, metric, value, threshold, low, high, fired."""
        rows = [{"window": str(self.window), **m.to_dict()} for m in self.metrics]
        columns = ["window", "monitor", "metric", "value", "threshold", "low", "high", "fired"]
        return pd.DataFrame(rows, columns=columns)

    def metric(self, monitor: str, metric: str) -> MetricRow:
        """The row of one metric (KeyError when absent)."""
        for row in self.metrics:
            if row.monitor == monitor and row.metric == metric:
                return row
        raise KeyError(f"no metric {monitor}/{metric} in this result")

    @property
    def fired(self) -> list[str]:
        """Monitors whose primary statistic crossed its threshold."""
        return list(self.details.get("fired_monitors", []))

    def summary(self) -> str:
        """A short plain-text report."""
        lines = [
            f"window {self.window}: {self.n_rows} rows, severity {self.severity.upper()}, "
            f"composite {self.composite:.3f}",
            "monitors over threshold: " + (", ".join(self.fired) or "none"),
        ]
        for row in self.metrics:
            if row.fired:
                thr = "" if row.threshold is None else f" > {row.threshold:.4g}"
                band = "" if row.low is None else f" (band {row.low:.4g}..{row.high:.4g})"
                lines.append(f"  {row.monitor}/{row.metric} = {row.value:.4g}{thr}{band}")
        for note in self.details.get("notes", []):
            lines.append(f"note: {note}")
        lines.append(BLIND_SPOT)
        return "\n".join(lines)

    __str__ = summary


@dataclass
class Reconciliation:
    """Estimated (label-free) against realized metrics of a past window whose labels matured."""

    window: str
    n_labels: int
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_rows(self) -> list[dict]:
        """``[{"metric", "estimated", "realized", "gap", "low", "high", "inside_band"}]``."""
        return [
            {
                "metric": r["metric"],
                "estimated": float(r["estimated"]),
                "realized": float(r["realized"]),
                "gap": float(r["realized"] - r["estimated"]),
                "low": _num(r.get("low")),
                "high": _num(r.get("high")),
                "inside_band": bool(r["inside_band"]),
            }
            for r in self.rows
        ]

    def to_frame(self) -> pd.DataFrame:
        columns = ["metric", "estimated", "realized", "gap", "low", "high", "inside_band"]
        return pd.DataFrame(self.to_rows(), columns=columns)

    @property
    def outside_band(self) -> list[str]:
        return [r["metric"] for r in self.to_rows() if not r["inside_band"]]

    def summary(self) -> str:
        lines = [f"reconciliation of window {self.window} ({self.n_labels} matured labels)"]
        for r in self.to_rows():
            where = "inside" if r["inside_band"] else "OUTSIDE"
            lines.append(
                f"  {r['metric']}: estimated {r['estimated']:.4f}, realized {r['realized']:.4f}, "
                f"gap {r['gap']:+.4f} ({where} band)"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        if self.outside_band:
            lines.append(
                "A realized metric outside its band while the label-free monitors stayed quiet is "
                "the signature of a change in P(Y|X)."
            )
        lines.append(BLIND_SPOT)
        return "\n".join(lines)

    __str__ = summary
