"""Inline SVG charts drawn from the card's numbers: no scripts, no fonts, no network.

Each function takes numbers already in the card and returns SVG markup. A number written on a
chart carries its raw value in ``data-v`` (the same value as in the card's JSON), so the page
can be checked against the JSON. Charts scale to their container through their ``viewBox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

PALETTE = (
    "#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951",
    "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0",
)  # fmt: skip
BAR = "#4269d0"


def fmt(value: Any, kind: str = "float") -> str:
    """Text for a number: ``int`` (thousands separators), ``pct``, ``float`` (4 significant)."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "sec":
        return f"{value:.2f} s"
    return f"{value:.4g}"


def _t(x: float, y: float, text: Any, kind: str | None = None, **attrs: Any) -> str:
    """A <text> element; numbers carry their raw value in data-v."""
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    if kind is not None and isinstance(text, (int, float)) and not isinstance(text, bool):
        return (
            f'<text x="{x:.1f}" y="{y:.1f}" data-v="{text!r}"{extra}>'
            f"{escape(fmt(text, kind))}</text>"
        )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(str(text))}</text>'


def _svg(width: float, height: float, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def _short(text: Any, limit: int = 22) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        body.append(_t(left - 6, y + 14, _short(name), text_anchor="end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{color}">'
            f"<title>{escape(str(name))}</title></rect>"
        )
        body.append(_t(left + length + 4, y + 14, value, kind))
    return _svg(width, max(row * len(labels), row), body, label)


def histogram(edges: Sequence[float], counts: Sequence[int], label: str = "histogram") -> Markup:
    """Vertical bars over equal-width bins, the first and last edge written below."""
    width, height, pad = 320, 120, 18
    top = max(counts) or 1
    step = (width - 2) / len(counts)
    body = [
        f'<rect x="{1 + i * step:.1f}" y="{height - pad - c / top * (height - pad - 4):.1f}" '
        f'width="{max(step - 1, 1):.1f}" height="{c / top * (height - pad - 4):.1f}" '
        f'fill="{BAR}"><title>{c:,}</title></rect>'
        for i, c in enumerate(counts)
    ]
    body.append(
        f'<line x1="0" x2="{width}" y1="{height - pad}" y2="{height - pad}" stroke="#999"/>'
    )
    body.append(_t(1, height - 4, edges[0], "float"))
    body.append(_t(width - 1, height - 4, edges[-1], "float", text_anchor="end"))
    return _svg(width, height, body, label)


def _blend(share: float) -> str:
    """White to blue for 0..1; negative values (correlations) white to orange."""
    share = max(min(share, 1.0), -1.0)
    if share >= 0:
        r, g, b = (int(255 - share * (255 - c)) for c in (0x42, 0x69, 0xD0))
    else:
        r, g, b = (int(255 + share * (255 - c)) for c in (0xFF, 0x72, 0x5C))
    return f"#{r:02x}{g:02x}{b:02x}"


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
    body = []
    for j, name in enumerate(cols):
        x = left + j * cell + cell / 2
        body.append(
            f'<text transform="translate({x:.1f},{top - 6}) rotate(-50)">'
            f"{escape(_short(name, 16))}</text>"
        )
    for i, name in enumerate(rows):
        y = top + i * cell
        body.append(_t(left - 6, y + cell / 2 + 4, _short(name, 18), text_anchor="end"))
        for j in range(m):
            value = matrix[i][j]
            share = 0.0 if value is None else float(value)
            body.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell}" height="{cell}" '
                f'fill="{_blend(share)}" stroke="#fff"><title>{escape(str(rows[i]))} / '
                f"{escape(str(cols[j]))}</title></rect>"
            )
            if show_values and value is not None and cell >= 30:
                color = "#fff" if abs(share) > 0.6 else "#222"
                body.append(
                    _t(left + j * cell + cell / 2, y + cell / 2 + 4, value, kind,
                       text_anchor="middle", fill=color, font_size="10")
                )  # fmt: skip
    if row_title:
        body.append(_t(4, 12, row_title))
    if col_title:
        body.append(_t(left, 12, col_title))
    return _svg(left + m * cell + 10, top + n * cell + 10, body, label)


def pair(plot: dict[str, Any], label: str = "pair plot") -> Markup:
    """A 2-D histogram with marginal histograms on top and on the right."""
    counts, nx, ny = plot["counts"], len(plot["x_marginal"]), len(plot["y_marginal"])
    cell, margin, left, top = 16, 50, 10, 10
    peak = max(max(row) for row in counts) or 1
    body = []
    y0 = top + margin
    for i in range(nx):
        for j in range(ny):
            c = counts[i][j]
            if c:
                body.append(
                    f'<rect x="{left + i * cell}" y="{y0 + (ny - 1 - j) * cell}" width="{cell}" '
                    f'height="{cell}" fill="{_blend((c / peak) ** 0.5)}">'
                    f"<title>{c:,}</title></rect>"
                )
    xm, ym = plot["x_marginal"], plot["y_marginal"]
    xpeak, ypeak = max(xm) or 1, max(ym) or 1
    for i, c in enumerate(xm):
        h = c / xpeak * (margin - 6)
        body.append(
            f'<rect x="{left + i * cell}" y="{y0 - 3 - h:.1f}" width="{cell - 1}" '
            f'height="{h:.1f}" fill="#9498a0"/>'
        )
    x1 = left + nx * cell
    for j, c in enumerate(ym):
        w = c / ypeak * (margin - 6)
        body.append(
            f'<rect x="{x1 + 3}" y="{y0 + (ny - 1 - j) * cell}" width="{w:.1f}" '
            f'height="{cell - 1}" fill="#9498a0"/>'
        )
    base = y0 + ny * cell
    body.append(_t(left, base + 14, plot["x_edges"][0], "float"))
    body.append(_t(x1, base + 14, plot["x_edges"][-1], "float", text_anchor="end"))
    body.append(_t(left + nx * cell / 2, base + 30, _short(plot["x"], 30), text_anchor="middle"))
    body.append(_t(x1 + margin + 4, base, plot["y_edges"][0], "float"))
    body.append(_t(x1 + margin + 4, y0 + 10, plot["y_edges"][-1], "float"))
    body.append(
        f'<text transform="translate({x1 + margin + 60},{y0 + ny * cell / 2}) rotate(90)" '
        f'text-anchor="middle">{escape(_short(plot["y"], 30))}</text>'
    )
    return _svg(x1 + margin + 70, base + 38, body, label)


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
        body.append(_t(left - 6, y + 14, _short(name), text_anchor="end"))
        x = float(left)
        for k, share in enumerate(parts):
            w = share * span
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(str(classes[k]))}'
                    f"</title></rect>"
                )
            x += w
    y = len(rows) * row + 6
    x = float(left)
    for k, name in enumerate(classes[: len(PALETTE)]):
        step = 24 + 7 * len(_short(name, 12))
        if x + step > width:  # wrap the legend rather than run off the chart
            x, y = float(left), y + 16
        body.append(
            f'<rect x="{x:.1f}" y="{y}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
        )
        body.append(_t(x + 14, y + 9, _short(name, 12)))
        x += step
    return _svg(width, y + 16, body, label)
