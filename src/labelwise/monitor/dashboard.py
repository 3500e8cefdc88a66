"""A read-only web dashboard over a monitor store: server-rendered HTML with inline SVG charts.

:func:`create_app` builds a FastAPI application over a
:class:`~labelwise.monitor.store.MonitorStore`. Pages are rendered on the server from jinja2
templates; charts are SVG drawn here in Python.
Nothing is fetched from the network (no scripts, fonts or styles from a CDN) and nothing is
sent anywhere, so the dashboard works offline. It only reads: no route writes to the store.

Routes
------
``/``                                   models, with the severity of their last window
``/models/{model}``                     windows of a model, a chart per monitor, the composite
``/models/{model}/windows/{window}``    one window: metrics, features, reconciliation
``/alerts``                             windows whose severity reached an alert
``/api/...``                            the same data as JSON

Model and window names are written as one percent-encoded path segment each (``/`` as ``%2F``)
and read back from the raw path, so any name opens (see :func:`path_segment`). Binary,
multiclass and regression models share the pages: charts and tables are drawn from the metrics
a model has, with per-class statistics (``expected_f1[cat]``) gathered into a table.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from labelwise.monitor._composite import LEVELS, PRESETS

__all__ = [
    "BLIND_SPOT",
    "SEVERITIES",
    "Band",
    "Series",
    "create_app",
    "fmt",
    "line_chart",
]

#: Severity levels, least to most severe.
SEVERITIES = LEVELS
#: Composite lower bound of each severity band, used where the stored run config has none.
DEFAULT_BANDS = dict(zip(LEVELS, (0.0, *PRESETS["default"]["cutoffs"]), strict=True))
_BAND_COLORS = {
    "ok": "#d3f0dd",
    "watch": "#fff3c4",
    "warn": "#ffe0b2",
    "alert": "#ffcdd2",
    "critical": "#ef9a9a",
}
#: Line colours, distinguishable in print and for the common colour-vision deficiencies.
PALETTE = ("#1f5f99", "#c0392b", "#2e7d32", "#7b3fa0", "#d35400", "#00838f")
#: Series drawn in one chart at most; more would be unreadable.
MAX_SERIES = 4
#: Metrics whose magnitudes differ more than this share a chart only if nothing else fits.
SCALE_RATIO = 20.0

BLIND_SPOT = (
    "Label-free monitors watch the inputs and the scores. A pure change of P(Y|X) - the same "
    "applicants and the same scores, but a different chance of the outcome - moves none of them: "
    "it is invisible without labels. Only reconciling late labels (the gap between estimated and "
    "realized performance) reveals it."
)


# --- formatting --------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """Format a stored value for a table cell.

    Examples
    --------
    >>> fmt(0.123456), fmt(12345.678), fmt(None), fmt(True), fmt(3), fmt(float("nan"))
    ('0.1235', '1.235e+04', '—', 'yes', '3', '—')
    """
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "—" if not math.isfinite(value) else f"{float(value):.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {fmt(item)}" for key, item in value.items())
    return str(value)


def plain(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NaN and infinities become None, numpy types Python ones.

    Examples
    --------
    >>> plain({"a": np.float64("nan"), "b": [np.int64(2), pd.Timestamp("2024-01-01")]})
    {'a': None, 'b': [2, '2024-01-01T00:00:00']}
    """
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [plain(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (str, bytes)):
        return value.decode() if isinstance(value, bytes) else value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def records(frame: pd.DataFrame | Sequence[Mapping] | None) -> list[dict[str, Any]]:
    """Rows of a store answer as JSON-safe dicts, whatever container it came in."""
    if frame is None:
        return []
    if isinstance(frame, pd.DataFrame):
        rows = frame.to_dict(orient="records")
    else:
        rows = [dict(row) for row in frame]
    return [plain(row) for row in rows]


def _number(value: Any) -> float | None:
    """A finite float, or None for missing, NaN and anything non-numeric."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One line of a chart: a value per window, and optionally its threshold and band."""

    name: str
    values: tuple[float | None, ...]
    threshold: tuple[float | None, ...] | None = None
    low: tuple[float | None, ...] | None = None
    high: tuple[float | None, ...] | None = None

    def finite(self) -> list[float]:
        """Every finite number the series draws, for the axis range."""
        columns = [self.values, self.threshold or (), self.low or (), self.high or ()]
        return [v for column in columns for v in column if v is not None and math.isfinite(v)]

    def magnitude(self) -> float:
        """The largest absolute number drawn (0 when none)."""
        return max((abs(v) for v in self.finite()), default=0.0)


@dataclass(frozen=True)
class Band:
    """A horizontal background band, such as a severity level of the composite."""

    low: float
    high: float
    color: str
    label: str


@dataclass
class _Frame:
    """Pixel geometry of a chart: the plot area and the value range it maps."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    y_min: float
    y_max: float
    n: int
    extras: list[str] = field(default_factory=list)

    def x(self, i: int) -> float:
        inner = self.width - self.left - self.right
        if self.n <= 1:
            return self.left + inner / 2
        return self.left + inner * i / (self.n - 1)

    def y(self, value: float) -> float:
        inner = self.height - self.top - self.bottom
        share = (value - self.y_min) / (self.y_max - self.y_min)
        return self.top + inner * (1 - share)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``.

    Examples
    --------
    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> nice_ticks(0.013, 0.087, 4)
    [0.025, 0.05, 0.075]
    """
    span = high - low
    if span <= 0 or not math.isfinite(span):
        return [low]
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _value_range(series: Sequence[Series], bands: Sequence[Band]) -> tuple[float, float]:
    values = [v for s in series for v in s.finite()]
    values += [edge for band in bands for edge in (band.low, band.high)]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if bands:
        # The severity scale is fixed: the bands, not the data, set the axis.
        return low, high
    if high == low:
        pad = abs(high) * 0.1 or 0.5
        return low - pad, high + pad
    pad = (high - low) * 0.08
    # A statistic that cannot be negative gets no axis below zero from the padding.
    bottom = max(0.0, low - pad) if low >= 0 else low - pad
    return bottom, high + pad


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indices of the consecutive finite values (a missing value breaks the line)."""
    runs: list[list[int]] = [[]]
    for i, value in enumerate(values):
        if value is None or not math.isfinite(value):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(i)
    return [run for run in runs if run]


def _polyline(frame: _Frame, values: Sequence[float | None], color: str, dashed: bool) -> str:
    parts = []
    dash = ' stroke-dasharray="6 4" stroke-opacity="0.8"' if dashed else ""
    for run in _runs(values):
        if len(run) < 2:
            continue
        points = " ".join(f"{frame.x(i):.1f},{frame.y(values[i]):.1f}" for i in run)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
        )
    return "".join(parts)


def _band_area(frame: _Frame, series: Series, color: str) -> str:
    if series.low is None or series.high is None:
        return ""
    both = [
        lo if lo is not None and hi is not None else None
        for lo, hi in zip(series.low, series.high, strict=True)
    ]
    parts = []
    for run in _runs(both):
        upper = [f"{frame.x(i):.1f},{frame.y(series.high[i]):.1f}" for i in run]
        lower = [f"{frame.x(i):.1f},{frame.y(series.low[i]):.1f}" for i in reversed(run)]
        if len(run) == 1:
            x = frame.x(run[0])
            upper = [f"{x - 4:.1f},{frame.y(series.high[run[0]]):.1f}"]
            upper.append(f"{x + 4:.1f},{frame.y(series.high[run[0]]):.1f}")
            lower = [f"{x + 4:.1f},{frame.y(series.low[run[0]]):.1f}"]
            lower.append(f"{x - 4:.1f},{frame.y(series.low[run[0]]):.1f}")
        points = " ".join(upper + lower)
        parts.append(f'<polygon points="{points}" fill="{color}" fill-opacity="0.13"/>')
    return "".join(parts)


def _points(frame: _Frame, series: Series, labels: Sequence[str], color: str) -> str:
    parts = []
    for i, value in enumerate(series.values):
        if value is None or not math.isfinite(value):
            continue
        tip = f"{series.name} @ {labels[i]}: {fmt(value)}"
        if series.threshold is not None and series.threshold[i] is not None:
            tip += f" (threshold {fmt(series.threshold[i])})"
        parts.append(
            f'<circle cx="{frame.x(i):.1f}" cy="{frame.y(value):.1f}" r="3" fill="{color}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    return "".join(parts)


def _axes(frame: _Frame, labels: Sequence[str]) -> str:
    parts = []
    x0, x1 = frame.left, frame.width - frame.right
    for tick in nice_ticks(frame.y_min, frame.y_max):
        y = frame.y(tick)
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(tick))}</text>'
        )
    base = frame.height - frame.bottom
    parts.append(f'<line x1="{x0}" x2="{x1}" y1="{base}" y2="{base}" stroke="#9aa5b1"/>')
    stride = max(1, math.ceil(len(labels) / 6))
    for i, label in enumerate(labels):
        if i % stride and i != len(labels) - 1:
            continue
        if i != len(labels) - 1 and len(labels) - 1 - i < stride / 2:
            continue  # the last label is always drawn: skip one that would overlap it
        text = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text x="{frame.x(i):.1f}" y="{base + 16}" text-anchor="middle">{escape(text)}</text>'
        )
    return "".join(parts)


def _legend(series: Sequence[Series], width: int, y: float) -> tuple[str, float]:
    """Legend entries, flowed onto as many rows as needed; returns the SVG and its height."""
    entries = []
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        entries.append((s.name, color, False))
        if s.threshold is not None and any(t is not None for t in s.threshold):
            entries.append((f"{s.name} threshold", color, True))
    parts, x, row = [], 8.0, 0
    for name, color, dashed in entries:
        span = 30 + 6.6 * len(name)
        if x + span > width and x > 8:
            x, row = 8.0, row + 1
        yy = y + row * 16
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(
            f'<line x1="{x:.0f}" x2="{x + 20:.0f}" y1="{yy:.0f}" y2="{yy:.0f}" '
            f'stroke="{color}" stroke-width="2"{dash}/>'
            f'<text x="{x + 25:.0f}" y="{yy + 4:.0f}">{escape(name)}</text>'
        )
        x += span + 10
    return "".join(parts), (row + 1) * 16 if entries else 0


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    bands: Sequence[Band] = (),
    title: str = "",
    width: int = 640,
    height: int = 220,
) -> Markup:
    """An inline SVG line chart of values per window, with thresholds and background bands.

    Parameters
    ----------
    labels : sequence of str
        The x-axis categories (window ids), in order.
    series : sequence of Series
        The lines; each may carry a threshold (drawn dashed) and a low/high band (shaded).
    bands : sequence of Band
        Horizontal background bands (the severity levels of the composite).
    title : str
        Accessible name of the chart.
    width, height : int
        Size of the drawing in SVG units (it scales to its container).

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element, safe to insert into a template.

    Examples
    --------
    >>> svg = line_chart(["w1", "w2"], [Series("psi", (0.02, 0.3), threshold=(0.1, 0.1))])
    >>> svg.startswith("<svg") and "polyline" in svg and "stroke-dasharray" in svg
    True
    """
    # As many legend rows as the entries flow onto: long names (per-class ones) need more.
    legend_rows = max(1, _legend(series, width, 0)[1] // 16)
    # The right margin leaves room for half of the last window's label.
    frame = _Frame(width, height + 16 * legend_rows, 56, 12, 44, 30 + 16 * legend_rows, 0, 1, 1)
    frame.y_min, frame.y_max = _value_range(series, bands)
    frame.n = len(labels)
    body = []
    for band in bands:
        top, bottom = frame.y(min(band.high, frame.y_max)), frame.y(max(band.low, frame.y_min))
        body.append(
            f'<rect x="{frame.left}" y="{top:.1f}" width="{width - frame.left - frame.right}" '
            f'height="{max(bottom - top, 0):.1f}" fill="{band.color}" fill-opacity="0.7">'
            f"<title>{escape(band.label)}</title></rect>"
            f'<text x="{width - frame.right - 4}" y="{top + 12:.1f}" text-anchor="end" '
            f'fill="#52606d">{escape(band.label)}</text>'
        )
    body.append(_axes(frame, labels))
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        body.append(_band_area(frame, s, color))
        if s.threshold is not None:
            body.append(_polyline(frame, s.threshold, color, dashed=True))
        body.append(_polyline(frame, s.values, color, dashed=False))
        body.append(_points(frame, s, labels, color))
    if not any(s.finite() for s in series) and not bands:
        body.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
            'fill="#616e7c">no values recorded</text>'
        )
    legend, _ = _legend(series, width, frame.height - frame.bottom + 34)
    body.append(legend)
    name = escape(title or ", ".join(s.name for s in series))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {frame.height}" '
        f'width="{width}" height="{frame.height}" role="img" aria-label="{name}" '
        'font-family="system-ui, sans-serif" font-size="11" fill="#1f2933">'
        f"<title>{name}</title>{''.join(body)}</svg>"
    )


def bar_chart(labels: Sequence[str], values: Sequence[float | None], title: str) -> Markup:
    """An inline SVG bar chart (signed values around zero), such as PSI contributions per bin.

    Examples
    --------
    >>> svg = bar_chart(["b1", "b2"], [0.01, -0.002], "psi by bin")
    >>> svg.count("<rect") == 2
    True
    """
    width, height, left, right, top, bottom = 1100, 220, 56, 16, 12, 34
    finite = [v for v in values if v is not None and math.isfinite(v)]
    low, high = min([0.0, *finite]), max([0.0, *finite])
    if high == low:
        high = low + 1.0
    frame = _Frame(width, height, left, top, right, bottom, low, high, max(len(labels), 1))
    slot = (width - left - right) / max(len(labels), 1)
    parts = [_axes_y(frame)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None or not math.isfinite(value):
            continue
        y0, y1 = frame.y(max(value, 0.0)), frame.y(min(value, 0.0))
        x = left + slot * i + slot * 0.15
        color = PALETTE[1] if value > 0 else PALETTE[0]
        parts.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(y1 - y0, 0.5):.1f}" fill="{color}" fill-opacity="0.8">'
            f"<title>{escape(f'{label}: {fmt(value)}')}</title></rect>"
        )
    stride = max(1, math.ceil(len(labels) / 10))
    for i, label in enumerate(labels):
        if i % stride == 0:
            text = label if len(label) <= 16 else label[:15] + "…"
            x = left + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{escape(text)}</text>"
            )
    name = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{name}" '
        'font-family="system-ui, sans-serif" font-size="11" fill="#1f2933">'
        f"<title>{name}</title>{''.join(parts)}</svg>"
    )


def _axes_y(frame: _Frame) -> str:
    """Horizontal grid lines with their values, and the zero line."""
    parts = []
    x0, x1 = frame.left, frame.width - frame.right
    for tick in nice_ticks(frame.y_min, frame.y_max):
        y = frame.y(tick)
        stroke = "#9aa5b1" if tick == 0 else "#d9e2ec"
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"/>'
            f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(tick))}</text>'
        )
    return "".join(parts)


def score_bins_chart(details: Mapping[str, Any]) -> Markup | None:
    """PSI contribution of each reference-decile score bin, when the window recorded them."""
    bins = details.get("score_bins") if isinstance(details, Mapping) else None
    if not isinstance(bins, Mapping) or not bins.get("contributions"):
        return None
    values = [_number(v) for v in bins["contributions"]]
    edges = [f"{e:.3g}" for e in (_number(e) for e in bins.get("edges") or []) if e is not None]
    if len(edges) == len(values) - 1:
        bounds = ["min", *edges, "max"]
        labels = [f"{bounds[i]}–{bounds[i + 1]}" for i in range(len(values))]
    else:
        labels = [f"bin {i + 1}" for i in range(len(values))]
    return bar_chart(labels, values, "score PSI contribution by reference bin")


def scale_groups(series: Sequence[Series]) -> list[list[Series]]:
    """Split series into charts of comparable magnitude, at most :data:`MAX_SERIES` each.

    A volume in the thousands beside a rate below one would flatten the rate to a line on
    the axis; each gets its own chart instead.

    Examples
    --------
    >>> groups = scale_groups([Series("a", (0.1,)), Series("b", (5000.0,)), Series("c", (0.3,))])
    >>> [[s.name for s in g] for g in groups]
    [['a', 'c'], ['b']]
    """
    groups: list[list[Series]] = []
    for s in sorted(series, key=Series.magnitude):
        current = groups[-1] if groups else None
        if (
            current is not None
            and len(current) < MAX_SERIES
            and s.magnitude() <= SCALE_RATIO * max(current[0].magnitude(), 1e-12)
        ):
            current.append(s)
        else:
            groups.append([s])
    order = {s.name: i for i, s in enumerate(series)}
    return [sorted(g, key=lambda s: order[s.name]) for g in groups]


# --- model kinds -------------------------------------------------------------------------------

#: Per-class statistics shown as columns of the per-class table, in reading order, with headers.
CLASS_COLUMNS = {
    "expected_precision": "precision",
    "expected_recall": "recall",
    "expected_f1": "F1",
    "psi": "score PSI",
    "prediction_share": "prediction share",
}
#: Per-class statistics charted over windows on the model page, one line per class.
CLASS_CHARTS = {"expected_f1": "Estimated F1 per class", "prediction_share": "Prediction share"}


def model_kind(details: Any) -> str:
    """The kind of model a window's details describe: ``binary`` unless they say otherwise.

    Examples
    --------
    >>> model_kind({"kind": "regression"}), model_kind({}), model_kind(None)
    ('regression', 'binary', 'binary')
    """
    kind = details.get("kind") if isinstance(details, Mapping) else None
    return str(kind) if isinstance(kind, str) and kind.strip() else "binary"


def split_metric(name: str) -> tuple[str, str | None]:
    """A metric name and the class it is about: ``expected_f1[cat]`` is F1 of class ``cat``.

    Class names are data and may hold brackets themselves: the class runs from the first
    ``[`` to the final ``]``.

    Examples
    --------
    >>> split_metric("expected_f1[a]b]"), split_metric("psi[[x]"), split_metric("psi")
    (('expected_f1', 'a]b'), ('psi', '[x'), ('psi', None))
    """
    base, bracket, rest = str(name).partition("[")
    if not bracket or not base or not rest.endswith("]"):
        return str(name), None
    return base, rest[:-1]


def window_classes(details: Any, metrics: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """The classes of a multiclass model: those its details list, then any its metrics name.

    Examples
    --------
    >>> window_classes({"classes": ["a", 2]}, [{"metric": "psi[b]"}, {"metric": "psi[a]"}])
    ['a', '2', 'b']
    """
    listed = details.get("classes") if isinstance(details, Mapping) else None
    names = [str(c) for c in listed] if isinstance(listed, (list, tuple)) else []
    for row in metrics:
        _, cls = split_metric(str(row.get("metric")))
        if cls is not None and cls not in names:
            names.append(cls)
    return names


def class_table(
    metrics: Sequence[Mapping[str, Any]], classes: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """The per-class metrics of one window as a table: a row per class, a column per statistic.

    Returns ``{"columns": [{"metric", "label"}], "rows": [{"class", "cells"}]}`` where
    ``cells`` maps a statistic to its value, threshold, low, high and fired; a statistic a
    class lacks is absent from its cells.

    Examples
    --------
    >>> table = class_table([{"metric": "expected_f1[b]", "value": 0.7, "low": 0.6}], ["a"])
    >>> [c["label"] for c in table["columns"]], [r["class"] for r in table["rows"]]
    (['F1'], ['a', 'b'])
    >>> table["rows"][1]["cells"]["expected_f1"]["low"]
    0.6
    """
    cells: dict[str, dict[str, dict[str, Any]]] = {str(c): {} for c in classes}
    seen: list[str] = []
    for row in metrics:
        base, cls = split_metric(str(row.get("metric")))
        if cls is None:
            continue
        if base not in seen:
            seen.append(base)
        cells.setdefault(cls, {})[base] = {
            key: row.get(key) for key in ("value", "threshold", "low", "high", "fired")
        }
    if not seen:
        return {"columns": [], "rows": []}
    order = [m for m in CLASS_COLUMNS if m in seen] + [m for m in seen if m not in CLASS_COLUMNS]
    return {
        "columns": [{"metric": m, "label": CLASS_COLUMNS.get(m, m)} for m in order],
        "rows": [{"class": cls, "cells": by_metric} for cls, by_metric in cells.items()],
    }


def estimate_rows(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The model-level performance (or, for regression, error) estimates of one window."""
    return [
        dict(row)
        for row in metrics
        if row.get("monitor") == "performance" and split_metric(str(row.get("metric")))[1] is None
    ]


# --- reading the store -------------------------------------------------------------------------


def path_segment(name: str) -> str:
    """``name`` as one URL path segment: every reserved character escaped, ``/`` included.

    Browsers and HTTP clients resolve ``.`` and ``..`` segments (even written ``%2E``) before a
    request is sent, so a name made only of dots is written behind a ``~``; a ``~`` anywhere
    else is escaped, so no other name's segment starts with one. :func:`segment_name` reverses it.

    Examples
    --------
    >>> path_segment("team/credit"), path_segment("50% ?#"), path_segment(".."), path_segment("~")
    ('team%2Fcredit', '50%25%20%3F%23', '~..', '%7E')
    """
    quoted = quote(str(name), safe="").replace("~", "%7E")
    return "~" + quoted if not quoted.strip(".") else quoted


def segment_name(segment: str | bytes) -> str:
    """The name a raw (still percent-encoded) path segment stands for.

    Examples
    --------
    >>> segment_name("team%2Fcredit"), segment_name("~.."), segment_name(b"caf%C3%A9")
    ('team/credit', '..', 'café')
    """
    raw = segment.encode("utf-8") if isinstance(segment, str) else segment
    if raw.startswith(b"~") and not raw[1:].strip(b"."):
        return raw[1:].decode("ascii")
    return unquote_to_bytes(raw).decode("utf-8", errors="replace")


def _path(*parts: str) -> str:
    """A URL path from unescaped segments."""
    return "/" + "/".join(path_segment(part) for part in parts)


def model_url(model: str) -> str:
    """The dashboard page of a model.

    Examples
    --------
    >>> model_url("team/credit v2")
    '/models/team%2Fcredit%20v2'
    """
    return _path("models", model)


def window_url(model: str, window: str) -> str:
    """The dashboard page of one window of a model.

    Examples
    --------
    >>> window_url("a/b", "q1/2024")
    '/models/a%2Fb/windows/q1%2F2024'
    """
    return _path("models", model, "windows", window)


def alerts_url(model: str | None = None) -> str:
    """The alerts page, of every model or of one.

    Examples
    --------
    >>> alerts_url("a&b #1")
    '/alerts?model=a%26b+%231'
    """
    return "/alerts" if model is None else "/alerts?" + urlencode({"model": model})


class NotFound(LookupError):
    """An unknown model or window: the dashboard answers 404 with a friendly page."""


class StoreView:
    """The dashboard's read-only questions to a store, answered as JSON-safe structures.

    Parameters
    ----------
    store : MonitorStore
        An open store; only its reading methods are called.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    # models

    def models(self) -> list[dict[str, Any]]:
        """Each model with its versions, its number of windows and its last window's severity."""
        rows = records(self.store.models())
        names: dict[str, dict[str, Any]] = {}
        for row in rows:
            name = str(row.get("model"))
            entry = names.setdefault(name, {"model": name, "versions": []})
            version = row.get("model_version")
            if version is not None and str(version) not in entry["versions"]:
                entry["versions"].append(str(version))
        for entry in names.values():
            windows = self.windows(entry["model"])
            last = windows[-1] if windows else {}
            entry.update(
                n_windows=len(windows),
                last_window=last.get("window"),
                last_composite=last.get("composite"),
                last_severity=last.get("severity"),
                kind=model_kind(self.details(entry["model"], last.get("window"))),
                url=model_url(entry["model"]),
            )
        return list(names.values())

    def model_names(self) -> set[str]:
        """The name of every model the store holds a run of."""
        return {str(row.get("model")) for row in records(self.store.models())}

    def has_model(self, model: str) -> bool:
        """Whether the store holds any run of ``model``."""
        return model in self.model_names()

    def details(self, model: str, window: str | None) -> dict[str, Any]:
        """The stored details of a window (its latest check); empty when there is none."""
        if window is None:
            return {}
        detail = plain(self.store.window_detail(model, window)) or {}
        details = detail.get("details")
        return details if isinstance(details, dict) else {}

    def windows(self, model: str) -> list[dict[str, Any]]:
        """A model's windows in window order; a window checked twice shows its latest check."""
        latest: dict[str, dict[str, Any]] = {}
        for row in records(self.store.windows(model)):
            window = str(row.get("window"))
            known = latest.get(window)
            if known is None or (row.get("window_pk") or 0) >= (known.get("window_pk") or 0):
                # Assigning to an existing key keeps its place: the order stays the store's.
                latest[window] = {
                    **row,
                    "window": window,
                    "start": when(row.get("start")),
                    "end": when(row.get("end")),
                    "url": window_url(model, window),
                }
        return list(latest.values())

    def metrics(self, model: str, window: str | None = None) -> list[dict[str, Any]]:
        """Tidy metric rows of a model (or of one window), in the order recorded."""
        if window is None:
            return records(self.store.metrics(model))
        return records(self.store.metrics(model, window=window))

    def reconciliations(self, model: str, window: str | None = None) -> list[dict[str, Any]]:
        """Realized-against-estimated rows of a model (or of one window)."""
        rows = records(self.store.reconciliations(model))
        for row in rows:
            row["created_at"] = when(row.get("created_at"))
        if window is not None:
            rows = [row for row in rows if str(row.get("window")) == window]
        return rows

    def alerts(self, model: str | None = None) -> list[dict[str, Any]]:
        """Windows whose severity is an alert level, with the monitors that fired in them."""
        fired: dict[str, dict[Any, list[str]]] = {}
        latest: dict[str, set[Any]] = {}
        rows = []
        for row in records(self.store.alerts(model=model)):
            name, window = str(row.get("model")), str(row.get("window"))
            if name not in fired:
                fired[name] = _fired_by_window(self.metrics(name))
                latest[name] = {w.get("window_pk") for w in self.windows(name)}
            if row.get("window_pk") not in latest[name]:
                continue  # the window was checked again since: its latest check decides
            rows.append(row)
            row.update(
                model=name,
                window=window,
                start=when(row.get("start")),
                end=when(row.get("end")),
                model_url=model_url(name),
                window_url=window_url(name, window),
                fired=fired[name].get(row.get("window_pk"), []),
            )
            row["summary"] = ("fired: " + ", ".join(row["fired"])) if row["fired"] else None
        return rows

    def head(self) -> str | None:
        """The chain head, or None for an empty store (whose head is the all-zero genesis)."""
        head = str(self.store.head())
        return None if set(head) == {"0"} else head

    # pages

    def model_page(self, model: str, known: bool = False) -> dict[str, Any]:
        """Everything the model page shows (``known``: the caller found the model already)."""
        if not (known or self.has_model(model)):
            raise NotFound(f"No model named {model!r} is recorded in this store.")
        windows = self.windows(model)
        metrics = self.metrics(model)
        fired = _fired_by_window(metrics)
        for w in windows:
            w["fired"] = fired.get(w.get("window_pk"), [])
        # The latest window says what the model is now; a retrained model may change kind.
        details = self.details(model, windows[-1]["window"] if windows else None)
        kind = model_kind(details)
        return {
            "model": model,
            "kind": kind,
            "classes": window_classes(details, metrics) if kind == "multiclass" else [],
            "windows": windows,
            "metrics": metrics,
            "reconciliations": self.reconciliations(model),
            "alerts": self.alerts(model),
        }

    def window_page(self, model: str, window: str, known: bool = False) -> dict[str, Any]:
        """Everything the window page shows (``known``: the caller found the model already)."""
        if not (known or self.has_model(model)):
            raise NotFound(f"No model named {model!r} is recorded in this store.")
        if window not in {w["window"] for w in self.windows(model)}:
            raise NotFound(f"Model {model!r} has no window {window!r}.")
        detail = plain(self.store.window_detail(model, window)) or {}
        metrics = detail.get("metrics") or self.metrics(model, window)
        details = detail.get("details") if isinstance(detail.get("details"), dict) else {}
        kind = model_kind(details)
        classes = window_classes(details, metrics) if kind == "multiclass" else []
        return {
            "model": model,
            "window": window,
            "kind": kind,
            "classes": classes,
            "start": when(detail.get("start")),
            "end": when(detail.get("end")),
            "n_rows": detail.get("n_rows"),
            "composite": detail.get("composite"),
            "severity": detail.get("severity"),
            "metrics": metrics,
            "estimates": estimate_rows(metrics),
            "per_class": class_table(metrics, classes),
            "features": feature_rows(detail.get("details") or {}),
            # The blind spot has its own paragraph on every page; the other notes are listed.
            "notes": [
                str(n)
                for n in (detail.get("details") or {}).get("notes") or []
                if "P(Y|X)" not in str(n)
            ],
            "details": detail.get("details") or {},
            "reconciliation": detail.get("reconciliation") or self.reconciliations(model, window),
        }


def _fired_by_window(metrics: Sequence[Mapping[str, Any]]) -> dict[Any, list[str]]:
    """Stored window id -> the monitors with a fired metric in it, in report order."""
    fired: dict[Any, list[str]] = {}
    for row in metrics:
        if row.get("fired"):
            names = fired.setdefault(row.get("window_pk"), [])
            if row.get("monitor") not in names:
                names.append(row.get("monitor"))
    return fired


def when(value: Any) -> str | None:
    """A stored time for display: the date alone at midnight, else minutes; UTC offset dropped.

    Examples
    --------
    >>> when("2024-03-04T00:00:00+00:00"), when("2024-03-04T13:30:00+00:00"), when(None)
    ('2024-03-04', '2024-03-04 13:30', None)
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


def feature_rows(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The per-feature statistics of a window's details, one row per feature.

    Accepts ``{"features": {name: {stat: value}}}`` or ``{"features": [{"feature": name, ...}]}``.

    Examples
    --------
    >>> feature_rows({"features": {"income": {"psi": 0.2}, "age": {"psi": 0.01}}})
    [{'feature': 'income', 'psi': 0.2}, {'feature': 'age', 'psi': 0.01}]
    """
    table = details.get("features") if isinstance(details, Mapping) else None
    if isinstance(table, Mapping) and "per_feature" in table:
        table = table["per_feature"]
    if isinstance(table, Mapping):
        rows = []
        for name, stats in table.items():
            if isinstance(stats, Mapping):
                rows.append({"feature": name, **_scalars(stats)})
            else:
                rows.append({"feature": name, "value": stats})
        return rows
    if isinstance(table, list):
        rows = [_ordered(_scalars(row)) for row in table if isinstance(row, Mapping)]
        # Most shifted first: the feature to look at is the top row.
        if rows and all(_number(row.get("psi")) is not None for row in rows):
            rows.sort(key=lambda row: -row["psi"])
        return rows
    return []


#: Per-feature columns in reading order: the shift, its significance, then missing values.
FEATURE_COLUMNS = (
    "feature",
    "kind",
    "psi",
    "psi_corrected",
    "pvalue",
    "shifted",
    "missing_reference",
    "missing_current",
    "missing_delta",
    "unseen_share",
    "importance",
)


def _ordered(row: Mapping[str, Any]) -> dict[str, Any]:
    """A feature row with the known columns first, in :data:`FEATURE_COLUMNS` order."""
    known = {key: row[key] for key in FEATURE_COLUMNS if key in row}
    return {**known, **{k: v for k, v in row.items() if k not in known}}


def _scalars(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the columns a table can show: drop nested lists and dicts (bin contributions)."""
    return {k: v for k, v in stats.items() if not isinstance(v, (Mapping, list, tuple))}


def _columns(rows: Sequence[Mapping[str, Any]], first: Sequence[str] = ()) -> list[str]:
    """The union of the rows' keys, ``first`` ones leading, private (``_``) ones dropped."""
    seen = dict.fromkeys(first)
    for row in rows:
        seen.update(dict.fromkeys(k for k in row if not str(k).startswith("_")))
    return [c for c in seen if any(c in row for row in rows)] if rows else list(first)


# --- charts of a model -------------------------------------------------------------------------


def monitor_series(
    metrics: Sequence[Mapping[str, Any]], windows: Sequence[str]
) -> dict[str, list[Series]]:
    """Per monitor, a series per metric over the windows (those with a threshold, if any).

    Per-class statistics are left out: a line per class and statistic would bury the
    model-level ones (see :func:`class_series`).
    """
    position = {w: i for i, w in enumerate(windows)}
    cells: dict[str, dict[str, dict[str, list]]] = {}
    for row in metrics:
        window = str(row.get("window"))
        if window not in position or split_metric(str(row.get("metric")))[1] is not None:
            continue
        monitor, metric = str(row.get("monitor")), str(row.get("metric"))
        columns = cells.setdefault(monitor, {}).setdefault(
            metric, {key: [None] * len(windows) for key in ("value", "threshold", "low", "high")}
        )
        for key in columns:
            columns[key][position[window]] = _number(row.get(key))
    charts: dict[str, list[Series]] = {}
    for monitor, by_metric in cells.items():
        series = [
            Series(
                name,
                tuple(c["value"]),
                _optional(c["threshold"]),
                _optional(c["low"]),
                _optional(c["high"]),
            )
            for name, c in by_metric.items()
        ]
        # Chart the statistics a decision is made on: those with a threshold or a band.
        decided = [s for s in series if s.threshold is not None or s.low is not None]
        charts[monitor] = decided or series[:MAX_SERIES]
    return charts


def class_series(
    metrics: Sequence[Mapping[str, Any]], windows: Sequence[str], statistic: str
) -> list[Series]:
    """A series per class of one per-class statistic (``expected_f1``) over the windows.

    Examples
    --------
    >>> rows = [{"window": "w1", "metric": "expected_f1[a]", "value": 0.8},
    ...         {"window": "w2", "metric": "expected_f1[a]", "value": 0.7}]
    >>> [(s.name, s.values) for s in class_series(rows, ["w1", "w2"], "expected_f1")]
    [('a', (0.8, 0.7))]
    """
    position = {w: i for i, w in enumerate(windows)}
    cells: dict[str, dict[str, list[float | None]]] = {}
    for row in metrics:
        base, cls = split_metric(str(row.get("metric")))
        window = str(row.get("window"))
        if base != statistic or cls is None or window not in position:
            continue
        columns = cells.setdefault(
            cls, {key: [None] * len(windows) for key in ("value", "threshold", "low", "high")}
        )
        for key in columns:
            columns[key][position[window]] = _number(row.get(key))
    return [
        Series(
            cls,
            tuple(c["value"]),
            _optional(c["threshold"]),
            _optional(c["low"]),
            _optional(c["high"]),
        )
        for cls, c in cells.items()
    ]


def _optional(values: list[float | None]) -> tuple[float | None, ...] | None:
    return tuple(values) if any(v is not None for v in values) else None


def severity_bands(cuts: Mapping[str, float] | None = None) -> list[Band]:
    """Background bands of the composite chart from each level's lower bound.

    Examples
    --------
    >>> [(b.label, b.low, b.high) for b in severity_bands({"ok": 0, "alert": 0.5})]
    [('ok', 0.0, 0.5), ('alert', 0.5, 1.0)]
    """
    cuts = dict(cuts or DEFAULT_BANDS)
    levels = sorted(cuts.items(), key=lambda item: item[1])
    bands = []
    for i, (name, low) in enumerate(levels):
        high = levels[i + 1][1] if i + 1 < len(levels) else 1.0
        bands.append(Band(float(low), float(high), _BAND_COLORS.get(name, "#e4e7eb"), name))
    return bands


def model_charts(page: Mapping[str, Any]) -> tuple[Markup, list[dict[str, Any]]]:
    """The composite chart and the per-monitor charts of a model page."""
    labels = [w["window"] for w in page["windows"]]
    composite = Series("composite", tuple(_number(w.get("composite")) for w in page["windows"]))
    # Drawn wide: it spans the page, and a narrow drawing would scale its text up.
    composite_svg = line_chart(
        labels, [composite], severity_bands(), title="composite", width=1100, height=240
    )
    charts = []
    for monitor, series in monitor_series(page["metrics"], labels).items():
        svgs = [
            line_chart(labels, group, title=f"{monitor}: {', '.join(s.name for s in group)}")
            for group in scale_groups(series)
        ]
        charts.append({"id": f"chart-{monitor}", "title": monitor, "svg": Markup("".join(svgs))})
    for statistic, caption in CLASS_CHARTS.items():
        series = class_series(page["metrics"], labels, statistic)
        if not series:
            continue
        # Four classes a chart at most: one line per class, each with its own band.
        svgs = [
            line_chart(labels, group, title=f"{caption}: {', '.join(s.name for s in group)}")
            for group in scale_groups(series)
        ]
        charts.append(
            {"id": f"chart-class-{statistic}", "title": caption, "svg": Markup("".join(svgs))}
        )
    return composite_svg, charts


def locate(scope: Mapping[str, Any], prefix: str, models: set[str]) -> tuple[str, str | None]:
    """The model and window (None for a model's own page) a request under ``prefix`` names.

    The names are read from the raw path, where a ``/`` inside a name is still ``%2F``. A
    path typed by hand with a bare ``/`` in a model name resolves to the longest known model.

    Examples
    --------
    >>> scope = {"path": "/models/a/b/windows/w/1", "raw_path": b"/models/a%2Fb/windows/w%2F1"}
    >>> locate(scope, "/models/", {"a/b"})
    ('a/b', 'w/1')
    >>> locate({"path": "/models/a/b/windows/w"}, "/models/", {"a", "a/b"})
    ('a/b', 'w')
    """
    start = prefix.encode("ascii")
    root = str(scope.get("root_path") or "")
    raw = scope.get("raw_path")
    raw = raw if isinstance(raw, bytes) else b""
    if root and raw.startswith(root.encode("utf-8") + start):
        raw = raw[len(root.encode("utf-8")) :]
    if not raw.startswith(start):
        # No raw path (or one a proxy rewrote): the decoded path, every "/" a separator.
        path = str(scope.get("path", ""))
        path = path[len(root) :] if root and path.startswith(root + prefix) else path
        raw = quote(path, safe="/").encode("ascii")
    segments = raw[len(start) :].split(b"/")
    if len(segments) > 1 and segments[-1] == b"":
        segments.pop()  # a trailing slash
    names = [segment_name(s) for s in segments]

    def split(k: int) -> tuple[str, str | None] | None:
        rest = segments[k:]
        if not rest:
            return "/".join(names[:k]), None
        if rest[0] == b"windows" and len(rest) > 1:
            return "/".join(names[:k]), "/".join(names[k + 1 :])
        return None

    canonical = split(1)
    if canonical is not None and canonical[0] in models:
        return canonical
    for k in range(len(segments), 1, -1):
        found = split(k)
        if found is not None and found[0] in models:
            return found
    if canonical is None:
        path = scope.get("path", prefix)
        raise NotFound(f"There is no page at {path}.")
    return canonical


# --- the application ---------------------------------------------------------------------------


def display_url(url: str | os.PathLike) -> str:
    """A store's address for messages and the footer, without its password.

    Examples
    --------
    >>> display_url("postgresql+psycopg://monitor:s3cret@db:5432/monitoring")
    'postgresql+psycopg://monitor:***@db:5432/monitoring'
    >>> display_url("runs/monitor.db")
    'runs/monitor.db'
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = str(url)
    if "://" not in text:
        return text  # a file path holds no password
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        # Unparseable: show the scheme and host part only, never what could be credentials.
        scheme, _, rest = text.partition("://")
        return f"{scheme}://…@{rest.rpartition('@')[2]}" if "@" in rest else text


def _open_store(store_url: str | os.PathLike) -> Any:
    """Open an existing store for reading; the dashboard never creates one."""
    from labelwise.monitor.store import MonitorStore

    # create=False: a mistyped path is an error, not a new empty database, and no table or
    # trigger is created on the way.
    return MonitorStore(store_url, create=False)


def create_app(store_url: str | os.PathLike, store: Any = None) -> Any:
    """The dashboard as a FastAPI application over the store at ``store_url``.

    Parameters
    ----------
    store_url : str or path-like
        A SQLAlchemy URL (``sqlite:///monitor.db``, ``postgresql+psycopg://...``) or a SQLite
        file path. The store must exist; the dashboard only reads it.
    store : MonitorStore, optional
        An already open store to read instead of opening ``store_url``.

    Returns
    -------
    fastapi.FastAPI
    """
    import jinja2

    from labelwise._optional import require

    require("fastapi", "the monitoring dashboard")
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from labelwise.monitor._dashboard_templates import TEMPLATES

    opened = store is None
    store = _open_store(store_url) if store is None else store
    view = StoreView(store)
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
    env.globals.update(fmt=fmt, severities=SEVERITIES, store_label=display_url(str(store_url)))

    @asynccontextmanager
    async def lifespan(_: Any):
        yield
        if opened:
            store.close()

    app = FastAPI(
        title="labelwise monitor",
        lifespan=lifespan,
        # The interactive API docs load scripts from a CDN: off, so that nothing leaves the host.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(head=view.head(), **context)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return render("not_found.html", status=404, message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code != 404:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return await _not_found(request, NotFound(f"There is no page at {request.url.path}."))

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return render("index.html", models=view.models())

    def show_model(model: str, known: bool) -> HTMLResponse:
        page = view.model_page(model, known)
        composite_chart, charts = model_charts(page)
        recon = page["reconciliations"]
        return render(
            "model.html",
            **page,
            last=page["windows"][-1] if page["windows"] else None,
            n_alerts=len(page["alerts"]),
            alerts_link=alerts_url(model),
            composite_chart=composite_chart,
            monitor_charts=charts,
            reconciliation_columns=_columns(recon, ("window",)),
            blind_spot=BLIND_SPOT,
        )

    def show_window(model: str, window: str, known: bool) -> HTMLResponse:
        page = view.window_page(model, window, known)
        return render(
            "window.html",
            **{
                **page,
                # Per-class rows have their own table; the list keeps the model-level ones.
                "metrics": [m for m in page["metrics"] if split_metric(m["metric"])[1] is None],
            },
            score_chart=score_bins_chart(page["details"]),
            model_url=model_url(model),
            feature_columns=_columns(page["features"], FEATURE_COLUMNS),
            reconciliation_columns=_columns(page["reconciliation"]),
            blind_spot=BLIND_SPOT,
        )

    # One route per tree: model and window names may hold "/" (sent as %2F), which the server
    # decodes before routing, so the names are read back from the raw path instead. Plain
    # Starlette routes: the handler needs the request's scope, not parsed parameters.
    def model_pages(request: Request) -> HTMLResponse:
        names = view.model_names()  # one read of the models, for locating and for the page
        model, window = locate(request.scope, "/models/", names)
        known = model in names
        return show_model(model, known) if window is None else show_window(model, window, known)

    def api_model_pages(request: Request) -> JSONResponse:
        names = view.model_names()
        model, window = locate(request.scope, "/api/models/", names)
        if window is None:
            return JSONResponse(view.model_page(model, model in names))
        page = view.window_page(model, window, model in names)
        return JSONResponse({**page, "blind_spot": BLIND_SPOT})

    app.add_route("/models/{rest:path}", model_pages, methods=["GET"])
    app.add_route("/api/models/{rest:path}", api_model_pages, methods=["GET"])

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page(model: str | None = None) -> HTMLResponse:
        return render("alerts.html", alerts=view.alerts(model), model=model)

    @app.get("/api/models")
    def api_models() -> JSONResponse:
        return JSONResponse({"models": view.models(), "head": view.head()})

    @app.get("/api/alerts")
    def api_alerts(model: str | None = None) -> JSONResponse:
        return JSONResponse({"alerts": view.alerts(model)})

    return app
