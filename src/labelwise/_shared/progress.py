"""One progress bar for every long job: transient, on stderr, silent when nothing should show.

The CLI draws it on its error console; library code (training loops) draws it on rich's default
console. Either way the bar disappears when the work is done, so logs and captured output stay
clean.

>>> with progress_bar("Working", "steps", show=False) as bar:
...     bar(1, 2)
...     bar.advance()
...     bar.track("scan", 5, 10)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["Bar", "progress_bar"]


class Bar:
    """The handle a :func:`progress_bar` yields; every method is a no-op on a hidden bar.

    Call it as ``bar(done, total)`` to set the count, ``bar.advance()`` to add one, or
    ``bar.track(name, done, total)`` to keep one line per named pass.
    """

    def __init__(
        self, progress: Progress | None, description: str | None, total: int | None
    ) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}
        self._main = None
        if progress is not None and description is not None:
            self._main = progress.add_task(description, total=total)

    def __call__(self, done: int, total: int | None = None) -> None:
        if self._main is not None:
            self._progress.update(self._main, completed=done, total=total)

    def advance(self, step: int = 1, description: str | None = None) -> None:
        if self._main is not None:
            self._progress.update(self._main, advance=step, description=description)

    def track(self, name: str, done: int, total: int) -> None:
        """Progress of one named pass, each pass on a line of its own."""
        if self._progress is None:
            return
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=total)
        self._progress.update(self._tasks[name], completed=done)


@contextlib.contextmanager
def progress_bar(
    description: str | None,
    unit: str = "",
    *,
    total: int | None = None,
    console: Console | None = None,
    show: bool = True,
    percent: bool = False,
) -> Iterator[Bar]:
    """A transient progress bar; yields a :class:`Bar`.

    Parameters
    ----------
    description : str or None
        The text before the bar (``bar.advance(description=...)`` may change it); None for a
        bar with no line of its own, only the passes given to ``bar.track``.
    unit : str, default ""
        What is counted, shown after the count ("folds", "windows", "cells").
    total : int, optional
        The count when done; unknown (a pulsing bar) until a call gives it.
    console : rich.console.Console, optional
        Where to draw; rich's default console when None.
    show : bool, default True
        False yields a bar that draws nothing (for quiet runs and small jobs).
    percent : bool, default False
        Show the percentage done instead of ``done/total``.
    """
    if not show:
        yield Bar(None, description, total)
        return
    count = TextColumn("{task.percentage:>3.0f}%") if percent else MofNCompleteColumn()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        count,
        TextColumn(unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, description, total)
