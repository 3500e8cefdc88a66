"""The HTML page of a card, rendered from the card's JSON-ready dict only.

The page is ``templates/card.html`` (its stylesheet ``templates/card.css``, inlined): charts
come from :mod:`labelwise.card._svg`, numbers from the :func:`num` filter.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup, escape

from labelwise import __version__
from labelwise._shared.formatting import format_number
from labelwise._shared.templates import template_environment
from labelwise.card import _svg


def num(value: Any, kind: str = "float") -> Markup:
    """A number as text, wrapped with its raw JSON value so the page can be checked."""
    if value is None:
        return Markup('<span class="na">–</span>')
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return Markup(escape(str(value)))
    return Markup(f'<span class="n" data-v="{value!r}">{escape(format_number(value, kind))}</span>')


@functools.cache
def _environment() -> jinja2.Environment:
    env = template_environment("card/templates")
    env.filters["num"] = num
    env.globals.update(
        svg=_svg,
        version=__version__,
        column=lambda rows, key: [r[key] for r in rows],
    )
    return env


def render_html(card: dict[str, Any]) -> str:
    """The self-contained page: inline CSS and SVG, no scripts, nothing fetched."""
    return _environment().get_template("card.html").render(card=card)
