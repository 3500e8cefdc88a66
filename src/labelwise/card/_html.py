"""The HTML page of a card, rendered with jinja2 from the card's JSON-ready dict only."""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup, escape

from labelwise import __version__
from labelwise.card import _svg
from labelwise.card._templates import CSS, PAGE


def num(value: Any, kind: str = "float") -> Markup:
    """A number as text, wrapped with its raw JSON value so the page can be checked."""
    if value is None:
        return Markup('<span class="na">–</span>')
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return Markup(escape(str(value)))
    return Markup(f'<span class="n" data-v="{value!r}">{escape(_svg.fmt(value, kind))}</span>')


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = num
    env.globals.update(
        svg=_svg,
        version=__version__,
        css=Markup(CSS),
        column=lambda rows, key: [r[key] for r in rows],
    )
    return env


def render_html(card: dict[str, Any]) -> str:
    """The self-contained page: inline CSS and SVG, no scripts, nothing fetched."""
    return _environment().from_string(PAGE).render(card=card)
