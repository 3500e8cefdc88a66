"""Consoles, the error boundary and progress displays shared by every command."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from typer.core import TyperGroup

from labelwise.errors import LabelwiseError, LabelwiseWarning

#: Exit status for bad input, the same as a usage error.
EXIT_BAD_INPUT = 2


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


class LabelwiseGroup(TyperGroup):
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


@contextlib.contextmanager
def fold_progress(
    description: str = "Cross-validating", unit: str = "folds"
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over cross-validation folds; yields the ``progress(done, total)`` callback.

    The bar is transient (it disappears when done) and drawn on stderr only when it is a
    terminal, so logs and captured output stay clean.
    """
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def spinner(description: str, show: bool = True) -> contextlib.AbstractContextManager:
    """A transient spinner on stderr while a step without progress reports runs."""
    return err().status(description) if show else contextlib.nullcontext()


@contextlib.contextmanager
def pass_progress() -> Iterator[Callable[[str, int, int], None]]:
    """One progress bar per pass over chunked pred_probs; yields ``progress(pass, done, total)``."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}% of rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"Pass: {name}", total=total)
            bar.update(tasks[name], completed=done)

        yield progress
