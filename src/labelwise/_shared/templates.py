"""One way to load the package's HTML templates: files shipped inside ``labelwise``.

Templates live in ``templates`` folders beside the code that renders them (the card's, the
dashboard's) and are read through :class:`jinja2.PackageLoader`, so they work from a wheel as
from a source tree. Every environment escapes HTML and fails on a name the page uses but the
caller did not pass, instead of printing nothing.

>>> env = template_environment("card/templates")
>>> env.undefined.__name__, env.autoescape("page.html"), env.autoescape("style.css")
('StrictUndefined', True, False)
"""

from __future__ import annotations

import jinja2

__all__ = ["template_environment"]


def template_environment(folder: str) -> jinja2.Environment:
    """A jinja2 environment over the templates in ``folder`` of the ``labelwise`` package.

    Parameters
    ----------
    folder : str
        The folder, relative to the package (``"card/templates"``).

    Returns
    -------
    jinja2.Environment
        HTML templates (``.html``) are autoescaped; an undefined name raises
        :class:`jinja2.UndefinedError`; a template's final newline is dropped.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader("labelwise", folder),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
