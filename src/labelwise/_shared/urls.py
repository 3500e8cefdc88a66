"""Database addresses as people may see them: in messages, logs and page footers.

A SQLAlchemy URL can hold a password; whatever shows an address shows it through
:func:`display_url`, which never lets one through.
"""

from __future__ import annotations

import os

__all__ = ["display_url"]


def display_url(url: str | os.PathLike) -> str:
    """A database address for messages and footers, without its password.

    Parameters
    ----------
    url : str or path-like
        A SQLAlchemy URL or a file path.

    Returns
    -------
    str

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
