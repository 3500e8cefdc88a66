"""The card's charts: which chart of which of the card's numbers, drawn with the shared kit.

Each function takes numbers already in the card and returns SVG markup. A number written on a
chart carries its raw value in ``data-v`` (the same value as in the card's JSON), so the page
can be checked against the JSON. Charts scale to their container through their ``viewBox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from labelwise._shared import charts
from labelwise._shared.formatting import format_number

BAR = charts.PALETTE[0]


def _t(x: float, y: float, value: Any, kind: str | None = None, **attrs: Any) -> str:
    """A <text>; a number written by ``kind`` carries its raw value in data-v."""
    if kind is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return charts.text(x, y, format_number(value, kind), data_v=repr(value), **attrs)
    return charts.text(x, y, value, **attrs)


def hbars(
    labels: Sequence[Any],
    values: Sequence[float],
    kind: str = "int",
    label: str = "bar chart",
    color: str = BAR,
) -> Markup:
    """Horizontal bars, one per label, each with its value written beside it."""
    row, left, width = 20, 150, 460
    top = max([v for v in values if v is not None] or [0]) or 1
    body = []
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row
        length = 0 if value is None else max(value, 0) / top * (width - left - 70)
        body.append(_t(left - 6, y + 14, charts.shorten(name), text_anchor="end"))
        body.append(charts.rect(left, y + 3, length, row - 6, color, title=name))
        body.append(_t(left + length + 4, y + 14, value, kind))
    return charts.svg(width, max(row * len(labels), row), body, label)


def histogram(edges: Sequence[float], counts: Sequence[int], label: str = "histogram") -> Markup:
    """Vertical bars over equal-width bins, the first and last edge written below."""
    width, height, pad = 320, 120, 18
    top = max(counts) or 1
    step = (width - 2) / len(counts)
    body = []
    for i, c in enumerate(counts):
        h = c / top * (height - pad - 4)
        body.append(charts.rect(1 + i * step, height - pad - h, max(step - 1, 1), h, BAR, f"{c:,}"))
    body.append(charts.line(0, width, height - pad, height - pad, "#999"))
    body.append(_t(1, height - 4, edges[0], "float"))
    body.append(_t(width - 1, height - 4, edges[-1], "float", text_anchor="end"))
    return charts.svg(width, height, body, label)


def heatmap(
    matrix: Sequence[Sequence[float | None]],
    rows: Sequence[Any],
    cols: Sequence[Any],
    label: str = "heatmap",
    kind: str = "float",
    show_values: bool = True,
    row_title: str = "",
    col_title: str = "",
) -> Markup:
    """A colored grid, optionally with each cell's value; rows and columns named."""
    n, m = len(rows), len(cols)
    cell = max(min(44, 520 // max(m, 1)), 8)
    left, top = 120, 90
    body = [
        charts.text(left + j * cell + cell / 2, top - 6, charts.shorten(name, 16), rotate=-50)
        for j, name in enumerate(cols)
    ]
    for i, name in enumerate(rows):
        y = top + i * cell
        body.append(_t(left - 6, y + cell / 2 + 4, charts.shorten(name, 18), text_anchor="end"))
        for j in range(m):
            value = matrix[i][j]
            share = 0.0 if value is None else float(value)
            tip = f"{rows[i]} / {cols[j]}"
            body.append(
                charts.rect(left + j * cell, y, cell, cell, charts.blend(share), tip, stroke="#fff")
            )
            if show_values and value is not None and cell >= 30:
                ink = "#fff" if abs(share) > 0.6 else "#222"
                body.append(
                    _t(left + j * cell + cell / 2, y + cell / 2 + 4, value, kind,
                       text_anchor="middle", fill=ink, font_size="10")
                )  # fmt: skip
    if row_title:
        body.append(_t(4, 12, row_title))
    if col_title:
        body.append(_t(left, 12, col_title))
    return charts.svg(left + m * cell + 10, top + n * cell + 10, body, label)


def _marginal(counts: Sequence[int], length: float, place: Any) -> list[str]:
    """Bars of a marginal histogram; ``place(i, size)`` gives each bar's x, y, width, height."""
    peak = max(counts) or 1
    return [charts.rect(*place(i, c / peak * length), charts.MUTED) for i, c in enumerate(counts)]


def pair(plot: dict[str, Any], label: str = "pair plot") -> Markup:
    """A 2-D histogram with marginal histograms on top and on the right."""
    counts, nx, ny = plot["counts"], len(plot["x_marginal"]), len(plot["y_marginal"])
    cell, margin, left, top = 16, 50, 10, 10
    peak = max(max(row) for row in counts) or 1
    y0 = top + margin
    body = [
        charts.rect(left + i * cell, y0 + (ny - 1 - j) * cell, cell, cell,
                    charts.blend((counts[i][j] / peak) ** 0.5), f"{counts[i][j]:,}")
        for i in range(nx)
        for j in range(ny)
        if counts[i][j]
    ]  # fmt: skip
    x1 = left + nx * cell
    body += _marginal(
        plot["x_marginal"], margin - 6, lambda i, h: (left + i * cell, y0 - 3 - h, cell - 1, h)
    )
    body += _marginal(
        plot["y_marginal"], margin - 6, lambda j, w: (x1 + 3, y0 + (ny - 1 - j) * cell, w, cell - 1)
    )
    base = y0 + ny * cell
    body.append(_t(left, base + 14, plot["x_edges"][0], "float"))
    body.append(_t(x1, base + 14, plot["x_edges"][-1], "float", text_anchor="end"))
    body.append(
        _t(left + nx * cell / 2, base + 30, charts.shorten(plot["x"], 30), text_anchor="middle")
    )
    body.append(_t(x1 + margin + 4, base, plot["y_edges"][0], "float"))
    body.append(_t(x1 + margin + 4, y0 + 10, plot["y_edges"][-1], "float"))
    y_name = charts.shorten(plot["y"], 30)
    body.append(
        charts.text(x1 + margin + 60, y0 + ny * cell / 2, y_name, rotate=90, text_anchor="middle")
    )
    return charts.svg(x1 + margin + 70, base + 38, body, label)


def stacked(
    rows: Sequence[Any],
    shares: Sequence[Sequence[float]],
    classes: Sequence[Any],
    label: str = "stacked bars",
) -> Markup:
    """One 100% bar per row split by class, with a legend of the classes."""
    row, left, width = 20, 150, 560
    span = width - left - 10
    body = []
    for i, (name, parts) in enumerate(zip(rows, shares, strict=True)):
        y = i * row
        body.append(_t(left - 6, y + 14, charts.shorten(name), text_anchor="end"))
        x = float(left)
        for k, share in enumerate(parts):
            if share > 0:
                body.append(
                    charts.rect(x, y + 3, share * span, row - 6, charts.color(k), classes[k])
                )
            x += share * span
    entries = [
        charts.LegendEntry(charts.shorten(name, 12), charts.PALETTE[k])
        for k, name in enumerate(classes[: len(charts.PALETTE)])
    ]
    keys, height = charts.legend(entries, left, len(rows) * row + 6, width)
    body.append(keys)
    return charts.svg(width, len(rows) * row + 6 + height, body, label)
