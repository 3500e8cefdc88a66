"""Which charts the model and window pages show, and of which stored numbers.

The composite over the windows on its severity bands, a chart per monitor of the statistics a
decision is made on (split by scale), a chart per per-class statistic, and the score's PSI
contribution per bin. Drawing is left to :mod:`labelwise.monitor.dashboard._charts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from labelwise._shared.formatting import finite_number
from labelwise.monitor import LEVELS, PRESETS
from labelwise.monitor.dashboard._charts import Band, Series, bar_chart, line_chart
from labelwise.monitor.dashboard._metrics import split_metric

__all__ = [
    "CLASS_CHARTS",
    "DEFAULT_BANDS",
    "MAX_SERIES",
    "SCALE_RATIO",
    "class_series",
    "model_charts",
    "monitor_series",
    "scale_groups",
    "score_bins_chart",
    "severity_bands",
]

#: Composite lower bound of each severity band, used where the stored run config has none.
DEFAULT_BANDS = dict(zip(LEVELS, (0.0, *PRESETS["default"]["cutoffs"]), strict=True))
#: Background of each severity band (the badges of the pages use the same colours).
_BAND_COLORS = {
    "ok": "#d3f0dd",
    "watch": "#fff3c4",
    "warn": "#ffe0b2",
    "alert": "#ffcdd2",
    "critical": "#ef9a9a",
}
#: Series drawn in one chart at most; more would be unreadable.
MAX_SERIES = 4
#: Metrics whose magnitudes differ more than this share a chart only if nothing else fits.
SCALE_RATIO = 20.0
#: Per-class statistics charted over windows on the model page, one line per class.
CLASS_CHARTS = {"expected_f1": "Estimated F1 per class", "prediction_share": "Prediction share"}
_DRAWN = ("value", "threshold", "low", "high")


def score_bins_chart(details: Mapping[str, Any]) -> Markup | None:
    """PSI contribution of each reference-decile score bin, when the window recorded them."""
    bins = details.get("score_bins") if isinstance(details, Mapping) else None
    if not isinstance(bins, Mapping) or not bins.get("contributions"):
        return None
    values = [finite_number(v) for v in bins["contributions"]]
    edges = [f"{e:.3g}" for e in map(finite_number, bins.get("edges") or []) if e is not None]
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


def _collect(
    rows: Sequence[Mapping[str, Any]], windows: Sequence[str], key: Any
) -> dict[Any, dict[str, list[Any]]]:
    """Per ``key(row)`` (None skips a row), each drawn column as a value per window."""
    position = {w: i for i, w in enumerate(windows)}
    cells: dict[Any, dict[str, list[Any]]] = {}
    for row in rows:
        name, window = key(row), str(row.get("window"))
        if name is None or window not in position:
            continue
        columns = cells.setdefault(name, {c: [None] * len(windows) for c in _DRAWN})
        for column, values in columns.items():
            values[position[window]] = finite_number(row.get(column))
    return cells


def _series(name: str, columns: Mapping[str, list[float | None]]) -> Series:
    """A series from its columns; a threshold or band with no value at all is left out."""

    def optional(values: list[float | None]) -> tuple[float | None, ...] | None:
        return tuple(values) if any(v is not None for v in values) else None

    return Series(
        name,
        tuple(columns["value"]),
        optional(columns["threshold"]),
        optional(columns["low"]),
        optional(columns["high"]),
    )


def monitor_series(
    metrics: Sequence[Mapping[str, Any]], windows: Sequence[str]
) -> dict[str, list[Series]]:
    """Per monitor, a series per metric over the windows (those with a threshold, if any).

    Per-class statistics are left out: a line per class and statistic would bury the
    model-level ones (see :func:`class_series`).
    """

    def model_level(row: Mapping[str, Any]) -> tuple[str, str] | None:
        metric = str(row.get("metric"))
        return None if split_metric(metric)[1] is not None else (str(row.get("monitor")), metric)

    charts: dict[str, list[Series]] = {}
    for (monitor, metric), columns in _collect(metrics, windows, model_level).items():
        charts.setdefault(monitor, []).append(_series(metric, columns))
    for monitor, series in charts.items():
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

    def of_statistic(row: Mapping[str, Any]) -> str | None:
        base, cls = split_metric(str(row.get("metric")))
        return cls if base == statistic else None

    return [_series(cls, c) for cls, c in _collect(metrics, windows, of_statistic).items()]


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


def _grouped_charts(labels: list[str], caption: str, series: list[Series]) -> Markup:
    """One chart per group of comparable scale, four lines a chart at most."""
    return Markup(
        "".join(
            line_chart(labels, group, title=f"{caption}: {', '.join(s.name for s in group)}")
            for group in scale_groups(series)
        )
    )


def model_charts(page: Mapping[str, Any]) -> tuple[Markup, list[dict[str, Any]]]:
    """The composite chart and the per-monitor charts of a model page."""
    labels = [w["window"] for w in page["windows"]]
    values = tuple(finite_number(w.get("composite")) for w in page["windows"])
    # Drawn wide: it spans the page, and a narrow drawing would scale its text up.
    composite = line_chart(
        labels, [Series("composite", values)], severity_bands(), "composite", 1100, 240
    )
    charts = [
        {"id": f"chart-{monitor}", "title": monitor, "svg": _grouped_charts(labels, monitor, s)}
        for monitor, s in monitor_series(page["metrics"], labels).items()
    ]
    for statistic, caption in CLASS_CHARTS.items():
        series = class_series(page["metrics"], labels, statistic)
        if series:
            svgs = _grouped_charts(labels, caption, series)
            charts.append({"id": f"chart-class-{statistic}", "title": caption, "svg": svgs})
    return composite, charts
