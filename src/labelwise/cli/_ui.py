"""Consoles, the error boundary, progress displays and option parsing shared by every command."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from labelwise import io
from labelwise._shared.progress import Bar, progress_bar
from labelwise.errors import ConfigError, LabelwiseError, LabelwiseWarning

#: Exit status for bad input, the same as a usage error.
EXIT_BAD_INPUT = 2
#: A width no table reaches: measures a table's columns at their natural widths.
NO_LIMIT = 1_000_000


def out() -> Console:
    """The console for results (stdout), made per use so that redirected streams are honoured."""
    return Console(highlight=False)


def err() -> Console:
    """The console for errors, warnings and progress (stderr), which keeps stdout pipeable."""
    return Console(stderr=True, highlight=False)


def one_line(text: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(str(text).split())


def print_error(message: str) -> None:
    """Print ``error: message`` in red on one line; soft wrap keeps rich from breaking it."""
    err().print(f"[bold red]error:[/bold red] {escape(one_line(message))}", soft_wrap=True)


def print_warning(message: str) -> None:
    """Print ``warning: message`` in yellow on one line, as labelwise's own warnings look."""
    err().print(f"[yellow]warning:[/yellow] {escape(one_line(message))}", soft_wrap=True)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    # labelwise's own warnings are meant for users: show the message, not the source line.
    label = "warning" if issubclass(category, LabelwiseWarning) else category.__name__
    err().print(f"[yellow]{label}:[/yellow] {escape(one_line(str(message)))}", soft_wrap=True)


def _hide_flag_types(params: Iterable[Any]) -> None:
    """Keep rich help from printing ``<bool>`` beside flags, as if they took a value.

    Typer's rich help prints every option's type, flags included; an empty metavar prints
    nothing there, and error messages name an option by its flags, not by its metavar.
    """
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


def reflow(text: str | None) -> str | None:
    r"""Join the lines of each paragraph, so that help wraps at the terminal's width.

    Typer's rich help keeps the line breaks of every paragraph after the first: a docstring
    wrapped at 100 columns would leave a word or two alone on a line of an 80-column terminal.

    Examples
    --------
    >>> reflow("Summary.\n\nWrites a and\nb to --out.")
    'Summary.\n\nWrites a and b to --out.'
    """
    if text is None:
        return None
    paragraphs = text.split("\n\n")
    # A paragraph that starts with \b is click's mark for "keep my line breaks".
    return "\n\n".join(
        p if p.startswith("\b") else " ".join(line.strip() for line in p.split("\n"))
        for p in paragraphs
    )


class _LabelwiseHelp:
    """Mixin for commands and groups: help text that reads well at any terminal width.

    Flags (``--help`` too) show no value type, and paragraphs wrap at the terminal's width.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _hide_flag_types(self.params)
        self.help = reflow(self.help)

    def get_help_option(self, ctx: typer.Context) -> Any:
        # Click makes the --help option on first use, after __init__.
        option = super().get_help_option(ctx)
        _hide_flag_types([option] if option is not None else [])
        return option


class LabelwiseCommand(_LabelwiseHelp, TyperCommand):
    """Every labelwise command: flags show no ``<bool>``, help wraps at the terminal's width."""


class LabelwiseSubgroup(_LabelwiseHelp, TyperGroup):
    """A command group below the root (``monitor``), with the help of :class:`LabelwiseCommand`."""


class LabelwiseGroup(_LabelwiseHelp, TyperGroup):
    """The root command group: the one place where labelwise's errors meet the user.

    A :class:`~labelwise.errors.LabelwiseError` raised by any command becomes a one-line
    ``error: ...`` and exit status 2, without a traceback: it describes bad input, not a bug.
    Other exceptions are bugs and keep their traceback.
    """

    def invoke(self, ctx: typer.Context) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except LabelwiseError as exc:
                print_error(str(exc))
                raise typer.Exit(EXIT_BAD_INPUT) from None


def count_progress(description: str, unit: str = "") -> contextlib.AbstractContextManager[Bar]:
    """A progress bar on stderr over counted work; yields a progress ``Bar``, called as
    ``bar(done, total)``.

    The bar is transient (it disappears when done), so logs and captured output stay clean.
    """
    return progress_bar(description, unit, console=err())


def spinner(description: str, show: bool = True) -> contextlib.AbstractContextManager:
    """A transient spinner on stderr while a step without progress reports runs."""
    return err().status(description) if show else contextlib.nullcontext()


@contextlib.contextmanager
def pass_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress line per pass over chunked pred_probs; yields ``progress(pass, done, total)``."""
    with progress_bar(None, "of rows", console=err(), percent=True) as bar:

        def progress(name: str, done: int, total: int) -> None:
            bar.track(f"Pass: {name}", done, total)

        yield progress


def out_option(default: Path, help_text: str = "Directory for the result files.") -> Any:
    """The ``--out``/``-o`` option, declared once so that ``-o`` means the same in every command."""
    return typer.Option(default, "--out", "-o", help=help_text)


def split_names(value: str | None) -> list[str] | None:
    """A comma-separated option as names: ``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None.

    Examples
    --------
    >>> split_names("a, b,,c"), split_names(None)
    (['a', 'b', 'c'], None)
    """
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def comma_list(text: str, option: str) -> list[str]:
    """A comma-separated option that must name at least one item."""
    items = split_names(text)
    if not items:
        raise ConfigError(f"{option} is empty; give a comma-separated list.")
    return items


def numbers(text: str, option: str) -> list[float]:
    """A comma-separated option of numbers, such as ``--rates 0.2,0.4``.

    Examples
    --------
    >>> numbers("10, 20,40", "--budgets")
    [10.0, 20.0, 40.0]
    """
    items = comma_list(text, option)
    try:
        return [float(item) for item in items]
    except ValueError:
        raise ConfigError(f"{option} must be numbers separated by commas, got {text!r}.") from None


def optional_table(data: Path | None, label: str | None) -> pd.DataFrame | None:
    """The table of ``--data``, which goes with ``--label``; None when neither is given."""
    if (data is None) != (label is None):
        raise ConfigError("--data and --label go together: give both or neither.")
    return io.read_table(data) if data is not None else None


def renamed_option(ctx: typer.Context, new: str, value: Any, old: str, old_value: Any) -> Any:
    """An option's value, whether given by its name or by its old, hidden spelling.

    Parameters
    ----------
    ctx : typer.Context
        The command's context, which knows whether the new spelling was typed.
    new : str
        The option's name, e.g. ``"--repeats"``.
    value : Any
        What the option received (its default when it was not given).
    old : str
        Its former spelling, e.g. ``"--seeds"``, declared as a hidden option.
    old_value : Any
        What the old spelling received, None when it was not given.

    Returns
    -------
    Any
        ``old_value`` when the old spelling was used (after a deprecation warning), else
        ``value``. Both spellings at once are a usage error.
    """
    if old_value is None:
        return value
    source = ctx.get_parameter_source(new.lstrip("-").replace("-", "_"))
    if source is not None and source.name == "COMMANDLINE":
        ctx.fail(f"{old} is the old name of {new}; give {new} only.")
    print_warning(f"{old} is deprecated and will be removed; use {new}.")
    return old_value


def header(column: object) -> str:
    """A data column's name as a table header: ``best_fraction`` -> ``best fraction``.

    Spaces let a narrow terminal wrap the header between words instead of folding a word.
    """
    return str(column).replace("_", " ")


def _plain(cell: RenderableType) -> str | None:
    """The text of a cell, markup removed; None for a renderable that is not text."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return None


def shrink_widths(widths: list[int], floors: list[int], limit: int) -> list[int]:
    """Narrow the widest columns, one cell at a time, until they fit ``limit`` or their floors.

    Examples
    --------
    >>> shrink_widths([10, 4, 9], floors=[3, 4, 3], limit=18)
    [7, 4, 7]
    """
    widths = list(widths)
    while sum(widths) > limit:
        shrinkable = [i for i, (w, f) in enumerate(zip(widths, floors, strict=True)) if w > f]
        if not shrinkable:
            break
        widths[max(shrinkable, key=widths.__getitem__)] -= 1
    return widths


class ResultTable(Table):
    """A results table that fits the terminal, by wrapping rather than cutting short.

    Headers and text fold at the column's width instead of ending in "…". A right-justified
    (numeric) column is never narrower than its longest number, so numbers stay whole: only
    the spaces of a cell such as ``0.91 ± 0.02`` may break it across lines.
    """

    def __init__(self, *headers: Any, **options: Any) -> None:
        options.setdefault("title_justify", "left")
        super().__init__(*headers, **options)

    def add_column(self, header: RenderableType = "", *args: Any, **options: Any) -> None:
        """Add a column whose header and cells fold rather than end in an ellipsis."""
        options.setdefault("overflow", "fold")
        super().add_column(header, *args, **options)

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        # Rich narrows the widest columns to equal widths, folding words that would have fit
        # elsewhere, then widens each back to its min_width, which can overflow the terminal.
        # Instead narrow the widest columns first down to what keeps them readable, then, if
        # the table is still too wide, down to what keeps their numbers whole.
        widths = super()._calculate_column_widths(console, options.update_width(NO_LIMIT))
        for floors in (self._readable(console, options), self._floors()):
            widths = shrink_widths(widths, floors, options.max_width)
        return widths

    def _floors(self) -> list[int]:
        """The narrowest each column may be, padding included: its min_width, or one cell."""
        return [
            (column.min_width or 1) + self._get_padding_width(column._index)
            for column in self.columns
        ]

    def _readable(self, console: Console, options: ConsoleOptions) -> list[int]:
        """Each column's width, padding included, that keeps words and numeric cells whole."""
        floors = self._floors()
        for i, column in enumerate(self.columns):
            padding = self._get_padding_width(column._index)
            header = Measurement.get(console, options, column.header).minimum
            floors[i] = max(floors[i], header + padding)
            for cell in column.cells:
                size = Measurement.get(console, options, cell)
                width = size.maximum if column.justify == "right" else size.minimum
                floors[i] = max(floors[i], width + padding)
        return floors

    def add_row(self, *cells: RenderableType | None, **options: Any) -> None:
        """Add a row; numeric columns widen to the longest number in it."""
        super().add_row(*cells, **options)
        for column, cell in zip(self.columns, cells, strict=False):
            text = _plain(cell) if column.justify == "right" else None
            if text and text.split():
                longest = max(cell_len(word) for word in text.split())
                column.min_width = max(column.min_width or 0, longest)


def frame_table(
    frame: pd.DataFrame,
    title: str,
    text_columns: Collection[Any],
    cell: Callable[[Any, Any], str],
    name: Callable[[Any], str] = header,
) -> ResultTable:
    """``frame`` as a results table: ``text_columns`` left-justified, the numbers right.

    ``cell(column, value)`` writes each cell and ``name(column)`` each header.
    """
    table = ResultTable(title=title)
    for column in frame.columns:
        table.add_column(name(column), justify="left" if column in text_columns else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(cell(c, v) for c, v in zip(frame.columns, row, strict=True)))
    return table
