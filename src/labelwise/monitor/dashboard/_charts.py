"""The dashboard's two kinds of chart: values per window as lines, and signed bars.

Both are drawn with the shared chart kit (:mod:`labelwise._shared.charts`); this module only
knows series, thresholds, sampling bands and severity bands. Which data each chart shows is
decided in :mod:`labelwise.monitor.dashboard._figures`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from labelwise._shared.charts import (
    AXIS,
    LEGEND_ROW,
    PALETTE,
    Frame,
    LegendEntry,
    color,
    legend,
    line,
    rect,
    shorten,
    svg,
    text,
    y_grid,
)
from labelwise.monitor.dashboard._cells import fmt

__all__ = ["Band", "Series", "bar_chart", "line_chart"]

#: Bars above zero (more than in the reference) and below it.
_UP, _DOWN = PALETTE[2], PALETTE[0]
_HINT = "#52606d"


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


def _polyline(frame: Frame, values: Sequence[float | None], stroke: str, dashed: bool) -> str:
    parts = []
    dash = ' stroke-dasharray="6 4" stroke-opacity="0.8"' if dashed else ""
    for run in _runs(values):
        if len(run) < 2:
            continue
        points = " ".join(f"{frame.x(i):.1f},{frame.y(values[i]):.1f}" for i in run)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="2"{dash}/>'
        )
    return "".join(parts)


def _band_area(frame: Frame, series: Series, fill: str) -> str:
    """The shaded sampling band between ``low`` and ``high``; a lone window gets a short one."""
    if series.low is None or series.high is None:
        return ""
    both = [
        lo if lo is not None and hi is not None else None
        for lo, hi in zip(series.low, series.high, strict=True)
    ]
    parts = []
    for run in _runs(both):
        xs = [frame.x(i) for i in run]
        if len(run) == 1:
            run, xs = run * 2, [xs[0] - 4, xs[0] + 4]
        upper = [f"{x:.1f},{frame.y(series.high[i]):.1f}" for x, i in zip(xs, run, strict=True)]
        lower = [f"{x:.1f},{frame.y(series.low[i]):.1f}" for x, i in zip(xs, run, strict=True)]
        points = " ".join(upper + lower[::-1])
        parts.append(f'<polygon points="{points}" fill="{fill}" fill-opacity="0.13"/>')
    return "".join(parts)


def _points(frame: Frame, series: Series, labels: Sequence[str], fill: str) -> str:
    parts = []
    for i, value in enumerate(series.values):
        if value is None or not math.isfinite(value):
            continue
        tip = f"{series.name} @ {labels[i]}: {fmt(value)}"
        if series.threshold is not None and series.threshold[i] is not None:
            tip += f" (threshold {fmt(series.threshold[i])})"
        parts.append(
            f'<circle cx="{frame.x(i):.1f}" cy="{frame.y(value):.1f}" r="3" fill="{fill}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    return "".join(parts)


def _window_axis(frame: Frame, labels: Sequence[str]) -> str:
    """The baseline and the window labels under it, thinned so that they do not overlap."""
    base = frame.height - frame.bottom
    parts = [line(frame.left, frame.width - frame.right, base, base, AXIS)]
    stride = max(1, math.ceil(len(labels) / 6))
    last = len(labels) - 1
    for i, label in enumerate(labels):
        if i != last and (i % stride or last - i < stride / 2):
            continue  # the last label is always drawn: skip one that would overlap it
        parts.append(text(frame.x(i), base + 16, shorten(label, 14), text_anchor="middle"))
    return "".join(parts)


def _severity_band(frame: Frame, band: Band) -> str:
    top = frame.y(min(band.high, frame.y_max))
    bottom = frame.y(max(band.low, frame.y_min))
    width = frame.width - frame.left - frame.right
    shade = rect(frame.left, top, width, max(bottom - top, 0), band.color, band.label,
                 fill_opacity="0.7")  # fmt: skip
    name = text(frame.width - frame.right - 4, top + 12, band.label, text_anchor="end", fill=_HINT)
    return shade + name


def _legend_entries(series: Sequence[Series]) -> list[LegendEntry]:
    """A line per series, and a dashed one for each threshold that is drawn."""
    entries = []
    for i, s in enumerate(series):
        entries.append(LegendEntry(s.name, color(i), "line"))
        if s.threshold is not None and any(t is not None for t in s.threshold):
            entries.append(LegendEntry(f"{s.name} threshold", color(i), "dashed"))
    return entries


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
    entries = _legend_entries(series)
    # As many legend rows as the entries flow onto: long names (per-class ones) need more.
    extra = max(LEGEND_ROW, legend(entries, 8, 0, width)[1])
    # The right margin leaves room for half of the last window's label.
    frame = Frame(width, height + extra, 56, 12, 44, 30 + extra, n=len(labels))
    frame.y_min, frame.y_max = _value_range(series, bands)
    body = [_severity_band(frame, band) for band in bands]
    body += [y_grid(frame, fmt), _window_axis(frame, labels)]
    for i, s in enumerate(series):
        body.append(_band_area(frame, s, color(i)))
        if s.threshold is not None:
            body.append(_polyline(frame, s.threshold, color(i), dashed=True))
        body.append(_polyline(frame, s.values, color(i), dashed=False))
        body.append(_points(frame, s, labels, color(i)))
    if not any(s.finite() for s in series) and not bands:
        body.append(text(width / 2, height / 2, "no values recorded", text_anchor="middle",
                         fill="#616e7c"))  # fmt: skip
    body.append(legend(entries, 8, frame.height - frame.bottom + 29, width)[0])
    return svg(width, frame.height, body, title or ", ".join(s.name for s in series))


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
    frame = Frame(width, height, left, top, right, bottom, low, high, max(len(labels), 1))
    slot = (width - left - right) / max(len(labels), 1)
    parts = [y_grid(frame, fmt)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None or not math.isfinite(value):
            continue
        y0, y1 = frame.y(max(value, 0.0)), frame.y(min(value, 0.0))
        fill = _UP if value > 0 else _DOWN
        parts.append(rect(left + slot * (i + 0.15), y0, slot * 0.7, max(y1 - y0, 0.5), fill,
                          f"{label}: {fmt(value)}", fill_opacity="0.8"))  # fmt: skip
    stride = max(1, math.ceil(len(labels) / 10))
    for i, label in enumerate(labels[::stride]):
        x = left + slot * (i * stride + 0.5)
        parts.append(text(x, height - bottom + 16, shorten(label, 16), text_anchor="middle"))
    return svg(width, height, parts, title)
