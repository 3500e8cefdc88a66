"""The one Markdown writer: data text made inert, and tables of escaped cells.

Every piece of data text that enters a Markdown file (reports, dataset cards, benchmark tables)
goes through :func:`markdown_escape`. Text that is Markdown already, built by the package from
escaped parts, is wrapped in :class:`Markdown` so that it is written as is, never escaped twice.

>>> print(markdown_rows(["name", "note"], [["a|b", Markdown("**bold**")]]))
| name | note |
|---|---|
| a\\|b | **bold** |
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Markdown", "markdown_escape", "markdown_rows", "markdown_table"]


class Markdown(str):
    """Text that is Markdown already (data escaped, emphasis on purpose): never escaped again."""

    __slots__ = ()


# Characters with a Markdown meaning inside a line: tables (|), code (`), links and images ([ ]),
# emphasis (* _), strikethrough (~) and the backslash that escapes them all. A run of _ inside a
# word (letters or digits on both sides) is left alone: CommonMark never reads it as emphasis.
_MARKDOWN_INLINE = re.compile(r"(?P<word>(?<=[^\W_])_+(?=[^\W_]))|[\\`*_\[\]|~]")
# What opens a block at the start of a line: heading, list item, setext or thematic break.
_MARKDOWN_BLOCK_START = re.compile(r"^(?:([#+=-])|(\d{1,9})([.)])(?=\s|$))")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _inline(match: re.Match) -> str:
    return match.group() if match.group("word") else "\\" + match.group()


def _block_start(match: re.Match) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def markdown_escape(value: Any) -> str:
    r"""Text from data, made inert inside Markdown: no HTML, links, emphasis or table breaks.

    Every piece of data text (column names, values, class names, metadata) goes through this
    before it enters a Markdown file, so that a renderer that passes inline HTML shows it as text:

    - ``&``, ``<`` and ``>`` become the entities ``&amp;``, ``&lt;`` and ``&gt;`` (no tag, no
      autolink, no entity from the data);
    - the backslash, the backtick, ``*``, ``_``, ``[``, ``]``, ``|`` and ``~`` get a backslash
      (no code span, emphasis, link, image, strikethrough or extra table cell), except ``_``
      inside a word (``validated_errors``), which CommonMark never reads as emphasis;
    - line breaks become spaces and surrounding spaces are dropped, so the text stays in its
      table cell or list item;
    - a leading ``#``, ``+``, ``=``, ``-`` or ``1.`` (digits then ``.`` or ``)`` and a space)
      gets a backslash, so the text cannot open a heading or a list when it starts a line.

    Numbers come out as ``str(value)``; text that needs none of this is unchanged, and so is
    :class:`Markdown` text, which is escaped already.

    Parameters
    ----------
    value : object
        Text from the data, or a number.

    Returns
    -------
    str

    Examples
    --------
    >>> markdown_escape("<b>x|y</b>")
    '&lt;b&gt;x\\|y&lt;/b&gt;'
    >>> markdown_escape(-0.5)
    '-0.5'
    """
    if isinstance(value, Markdown):
        return str(value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return str(value)
    text = _LINE_BREAKS.sub(" ", str(value)).strip()
    text = html.escape(text, quote=False)
    text = _MARKDOWN_INLINE.sub(_inline, text)
    return _MARKDOWN_BLOCK_START.sub(_block_start, text, count=1)


def markdown_rows(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    cell: Callable[[Any], str] = markdown_escape,
) -> str:
    """A GitHub Markdown table from headers and rows of cells, without a final newline.

    Parameters
    ----------
    headers : sequence
        The column names, escaped like data.
    rows : iterable of sequences
        The cells of each row, one per header.
    cell : callable, default :func:`markdown_escape`
        Writes one cell; the default escapes data text and keeps :class:`Markdown` as it is.

    Returns
    -------
    str
    """
    lines = ["| " + " | ".join(markdown_escape(h) for h in headers) + " |"]
    lines.append("|" + "---|" * len(headers))
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_table(frame: pd.DataFrame, digits: int = 4, raw: Iterable[Any] = ()) -> str:
    r"""A DataFrame as a GitHub markdown table; floats to ``digits`` significant digits.

    Column names and text cells go through :func:`markdown_escape`, so data cannot add HTML,
    links or cells; numbers are written as numbers. The ``raw`` columns hold the caller's own
    Markdown (formatted numbers such as ``[+0.1, +0.3]``): their name and cells are written as
    given. (A :class:`Markdown` cell would not survive a DataFrame: pandas may store text as
    plain strings.)

    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"a": [1.23456], "b": ["x|y"]})), end="")
    | a | b |
    |---|---|
    | 1.235 | x\|y |
    """

    def cell(value: Any) -> str:
        if isinstance(value, (float, np.floating)):
            return "–" if not np.isfinite(value) else f"{value:.{digits}g}"
        return markdown_escape(value)

    raw = set(raw)
    headers = [Markdown(c) if c in raw else c for c in frame.columns]
    rows = (
        [Markdown(v) if c in raw else v for c, v in zip(frame.columns, row, strict=True)]
        for row in frame.itertuples(False)
    )
    return markdown_rows(headers, rows, cell) + "\n"
