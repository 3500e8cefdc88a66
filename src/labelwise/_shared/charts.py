"""The SVG chart kit: one palette and the drawing primitives every inline chart is made of.

Charts are SVG markup written as text: no scripts, fonts or files, so a page that holds them
works offline. Every piece of text a chart shows goes through :func:`markupsafe.escape` here,
so data (class names, window ids) can never add markup. Which chart of which data is the
caller's business; this module only knows shapes, axes, legends and colours.

>>> body = [rect(0, 0, 10, 10, PALETTE[0], title="<a>"), text(12, 9, "a & b")]
>>> chart = svg(40, 12, body, "demo")
>>> chart.startswith("<svg") and "&lt;a&gt;" in chart and "a &amp; b" in chart
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from markupsafe import Markup, escape

__all__ = [
    "AXIS",
    "GRID",
    "INK",
    "MUTED",
    "PALETTE",
    "Frame",
    "LegendEntry",
    "blend",
    "color",
    "legend",
    "line",
    "nice_ticks",
    "rect",
    "shorten",
    "svg",
    "text",
    "y_grid",
]

#: Series and class colours, in order (Observable's ten-colour categorical scheme, chosen to stay
#: apart for the common colour-vision deficiencies).
PALETTE = (
    "#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951",
    "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0",
)  # fmt: skip
#: Text colour.
INK = "#1f2933"
#: Grid lines.
GRID = "#d9e2ec"
#: Axis lines (and the zero line of a grid).
AXIS = "#9aa5b1"
#: Secondary marks: marginal histograms, hints.
MUTED = "#9498a0"
#: Height of one legend row.
LEGEND_ROW = 16


def color(i: int) -> str:
    """The palette's colour for the ``i``-th series, cycling when there are more."""
    return PALETTE[i % len(PALETTE)]


def shorten(value: Any, limit: int = 22) -> str:
    """Text cut to ``limit`` characters, the last one an ellipsis when anything was cut.

    >>> shorten("monthly_income", 8), shorten("age", 8)
    ('monthly…', 'age')
    """
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _attributes(attrs: dict[str, Any]) -> str:
    """SVG attributes from keywords (``text_anchor`` is ``text-anchor``); None leaves one out."""
    return "".join(
        f' {key.replace("_", "-")}="{escape(value)}"'
        for key, value in attrs.items()
        if value is not None
    )


def text(x: float, y: float, content: Any, *, rotate: float | None = None, **attrs: Any) -> str:
    """A ``<text>`` element at ``(x, y)`` (its baseline), its content escaped.

    ``rotate`` turns it by that many degrees (clockwise) around ``(x, y)``.
    """
    if rotate is None:
        where = f'x="{x:.1f}" y="{y:.1f}"'
    else:
        where = f'transform="translate({x:.1f},{y:.1f}) rotate({rotate:g})"'
    return f"<text {where}{_attributes(attrs)}>{escape(str(content))}</text>"


def rect(
    x: float, y: float, width: float, height: float, fill: str, title: Any = None, **attrs: Any
) -> str:
    """A ``<rect>``, with a tooltip when ``title`` is given."""
    head = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{escape(fill)}"{_attributes(attrs)}'
    )
    if title is None:
        return head + "/>"
    return f"{head}><title>{escape(str(title))}</title></rect>"


def line(x1: float, x2: float, y1: float, y2: float, stroke: str, **attrs: Any) -> str:
    """A straight ``<line>`` from ``(x1, y1)`` to ``(x2, y2)``."""
    return (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{escape(stroke)}"'
        f"{_attributes(attrs)}/>"
    )


def svg(width: float, height: float, body: Sequence[str], label: str) -> Markup:
    """The ``<svg>`` element around ``body``: sized by its ``viewBox``, named for screen readers.

    It scales to its container; ``label`` is its accessible name and its tooltip.
    """
    name = escape(label)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{name}" font-family="system-ui, sans-serif" font-size="11" '
        f'fill="{INK}"><title>{name}</title>' + "".join(body) + "</svg>"
    )


def blend(share: float, high: str = PALETTE[0], low: str = PALETTE[2]) -> str:
    """A colour from white (0) to ``high`` (1), or to ``low`` for negative shares (to -1).

    >>> blend(0.0), blend(1.0), blend(-1.0)
    ('#ffffff', '#4269d0', '#ff725c')
    """
    share = max(min(share, 1.0), -1.0)
    target = high if share >= 0 else low
    channels = (int(target[i : i + 2], 16) for i in (1, 3, 5))
    r, g, b = (int(255 - abs(share) * (255 - c)) for c in channels)
    return f"#{r:02x}{g:02x}{b:02x}"


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


@dataclass
class Frame:
    """Pixel geometry of a chart: the plot area inside its margins and the values it maps.

    ``n`` categories are spread evenly over the width (one alone sits in the middle); values
    from ``y_min`` to ``y_max`` run from the bottom of the plot area to its top.
    """

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    y_min: float = 0.0
    y_max: float = 1.0
    n: int = 1

    def x(self, i: int) -> float:
        inner = self.width - self.left - self.right
        if self.n <= 1:
            return self.left + inner / 2
        return self.left + inner * i / (self.n - 1)

    def y(self, value: float) -> float:
        inner = self.height - self.top - self.bottom
        share = (value - self.y_min) / (self.y_max - self.y_min)
        return self.top + inner * (1 - share)


def y_grid(frame: Frame, label: Callable[[float], str]) -> str:
    """Horizontal grid lines at round values, each written at the left; zero drawn darker."""
    parts = []
    x0, x1 = frame.left, frame.width - frame.right
    for tick in nice_ticks(frame.y_min, frame.y_max):
        y = frame.y(tick)
        parts.append(line(x0, x1, y, y, AXIS if tick == 0 else GRID))
        parts.append(text(x0 - 6, y + 4, label(tick), text_anchor="end"))
    return "".join(parts)


class LegendEntry(NamedTuple):
    """One legend entry: a name and its colour, shown as a box or as a (dashed) line."""

    name: str
    color: str
    swatch: str = "box"  # "box", "line" or "dashed"


def _swatch(entry: LegendEntry, x: float, y: float) -> tuple[str, float]:
    """The entry's mark at the row whose top is ``y``, and the mark's width."""
    if entry.swatch == "box":
        return rect(x, y, 10, 10, entry.color), 10.0
    dash = "6 4" if entry.swatch == "dashed" else None
    mark = line(x, x + 20, y + 5, y + 5, entry.color, stroke_width=2, stroke_dasharray=dash)
    return mark, 20.0


def legend(
    entries: Sequence[LegendEntry], left: float, top: float, right: float
) -> tuple[str, int]:
    """Legend entries flowed left to right between ``left`` and ``right``, wrapping as needed.

    Returns the SVG and the height it takes (:data:`LEGEND_ROW` per row, 0 with no entries).
    """
    parts, x, row = [], float(left), 0
    for entry in entries:
        # A rough text width: wide enough for the system fonts at 11 px.
        span = (10 if entry.swatch == "box" else 20) + 5 + 7 * len(entry.name)
        if x + span > right and x > left:
            x, row = float(left), row + 1
        y = top + row * LEGEND_ROW
        mark, width = _swatch(entry, x, y)
        parts.append(mark + text(x + width + 5, y + 9, entry.name))
        x += span + 10
    return "".join(parts), (row + 1) * LEGEND_ROW if entries else 0
