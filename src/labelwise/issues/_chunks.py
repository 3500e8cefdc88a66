"""One chunk of pred_probs, checked and handed to a pass: the step every source shares.

Whether rows come from an array held whole, a file read in chunks or a Dask task, each chunk is
validated here (slight drift renormalized, the rows remembered so that later passes need not
check again) before the pass's function sees it. It is a module of its own, below the sources,
so that Dask can ship :func:`apply_to_chunk` to worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labelwise._validate import check_range, check_rows, renormalized, warn_renormalized
from labelwise.errors import InputTypeError, ShapeError

__all__ = ["FIRST_PASS", "ArraySource", "apply_to_chunk", "as_float", "check_shape", "warn_drift"]

#: The pass that reads every chunk first, and so the one that warns about renormalized rows.
FIRST_PASS = "thresholds"


def apply_to_chunk(
    func: Callable,
    start: int,
    raw: np.ndarray,
    given: np.ndarray,
    kwargs: dict,
    sums_to_one: bool = True,
    drift: np.ndarray | None = None,
    n_jobs: int | None = 1,
) -> tuple[Any, np.ndarray]:
    """Validate one chunk (renormalizing slight drift) and apply ``func``; also return the rows
    renormalized.

    With ``sums_to_one=False`` (per-class probabilities of multi-label data) only the range is
    checked. ``drift``, when a pass before has checked this chunk, names the rows to
    renormalize, and nothing is checked again. Checks run on ``n_jobs`` threads.
    """
    block = raw if raw.dtype in (np.float32, np.float64) else as_float(raw)
    if drift is None and not sums_to_one:
        check_range(block, start)
        drift = np.empty(0, dtype=np.intp)
    elif drift is None:
        drift = check_rows(block, start, n_jobs)
    if drift.size:
        block = block.copy()
        block[drift] = renormalized(block[drift])
    return func(start, block, given, **kwargs), drift


def warn_drift(drifted: int, task: str) -> None:
    """Warn once about the rows renormalized: every pass sees the same rows."""
    if drifted and task == FIRST_PASS:
        warn_renormalized(drifted)


def as_float(raw: np.ndarray) -> np.ndarray:
    """A chunk of numbers as float32 (from float16) or float64 (from integers)."""
    if raw.dtype.kind not in "fiub":
        raise InputTypeError(f"pred_probs holds {raw.dtype} values; it must hold numbers.")
    return raw.astype(np.float32 if raw.dtype == np.float16 else np.float64)


def check_shape(shape: tuple[int, ...]) -> None:
    """A source's shape: 2-D, with at least 2 columns and 1 row."""
    if len(shape) != 2 or shape[1] < 2:
        raise ShapeError(f"pred_probs must be 2-D with at least 2 columns, got shape {shape}.")
    if shape[0] == 0:
        raise ShapeError("pred_probs is empty: there are no examples to check.")


class ArraySource:
    """A source whose rows are one array-like ``self.array`` (numpy or Dask)."""

    array: Any

    @property
    def n_rows(self) -> int:
        return int(self.array.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.array.shape[1])
