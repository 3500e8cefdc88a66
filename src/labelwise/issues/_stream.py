"""Where the rows of pred_probs come from: held whole, read in chunks from disk, or one class.

Every source offers the same small protocol to the engine's passes
(:mod:`labelwise.issues._passes`): ``n_rows``, ``n_classes``, ``columns`` (class names it
carries, or None), ``n_jobs``, ``in_process`` (chunk functions run here and may fill the
caller's arrays), ``whole`` (the rows are one array, ``source.array``) and
``map(func, labels, task, **kwargs)``, which checks each chunk once and applies
``func(start, block, labels_of_block, **kwargs)`` to it, in row order.

- :class:`InMemoryProbs`: an array checked on arrival and read as one chunk;
- :class:`ChunkedProbs`: a memory-mapped ``.npy``, a Parquet file's record batches, a Zarr store
  or an array's slices, read chunk by chunk, once per pass (out of core);
- :class:`~labelwise.issues._dask.DaskProbs`: a Dask array, read by tasks on a cluster;
- :class:`OneVsRest`: class k of a multi-label source, seen as binary pred_probs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise._optional import require
from labelwise._params import is_integer
from labelwise._validate import as_float_matrix, check_pred_probs, check_range
from labelwise.errors import ConfigError, DataFileError, InputTypeError
from labelwise.issues._chunks import ArraySource, apply_to_chunk, check_shape, warn_drift
from labelwise.issues._counting import BLOCK_ELEMENTS

__all__ = [
    "ChunkedProbs",
    "InMemoryProbs",
    "OneVsRest",
    "chunk_rows_for",
    "parse_bytes",
    "row_source",
]

#: Bytes of working memory per pred_probs cell of a chunk (the chunk, its copies and masks).
_BYTES_PER_CELL = 24
#: Bytes kept per row for the whole run (label, prediction, flags, a score, a probability).
_BYTES_PER_ROW = 16
#: Fewest rows per chunk, whatever the budget: smaller chunks cost more than they save.
_MIN_CHUNK_ROWS = 4096


def parse_bytes(size: int | str) -> int:
    """``"1GB"``, ``"512MiB"``, ``"2e9"`` or a number of bytes, as bytes."""
    if is_integer(size):
        return int(size)
    text = str(size).strip().upper().replace(" ", "")
    units = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "KB": 10**3, "MB": 10**6}
    units |= {"GB": 10**9, "TB": 10**12, "K": 2**10, "M": 2**20, "G": 2**30, "B": 1}
    unit = next((u for u in units if text.endswith(u)), "")
    try:
        value = float(text[: len(text) - len(unit)]) * units.get(unit, 1)
    except ValueError:
        raise ConfigError(
            f"memory_limit={size!r} is not a size; write it like '2GB', '512MiB' or 2000000000."
        ) from None
    if value <= 0:
        raise ConfigError(f"memory_limit must be positive, got {size!r}.")
    return int(value)


def row_source(
    pred_probs: Any,
    labels: Any,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
    *,
    progress: Callable[[str, int, int], Any] | None = None,
    sums_to_one: bool = True,
    n_jobs: int | None = None,
) -> Any:
    """The source of ``pred_probs``'s rows: read in chunks when the caller asks (or the data is
    on disk or in Dask), else held whole and checked now.

    Parameters
    ----------
    pred_probs : array-like, DataFrame, path, memory map, Zarr or Dask array, or a source
        The predicted probabilities (a source given again is reused and checked again).
    labels : array-like
        The labels, only to size chunks from ``memory_limit``.
    chunk_rows, memory_limit : optional
        Rows per chunk, or a working-memory budget to choose them from.
    progress : callable, optional
        ``progress(pass_name, rows_done, n_rows)`` after each chunk of a chunked source.
    sums_to_one : bool, default True
        Rows must sum to 1 (multi-class); False checks only the range (multi-label).
    n_jobs : int, optional
        Threads for checking and for each chunk's work.
    """
    if isinstance(pred_probs, InMemoryProbs):
        return pred_probs
    chunked = _chunked_source(
        pred_probs, labels, chunk_rows, memory_limit, progress, sums_to_one, n_jobs
    )
    if chunked is not None:
        return chunked
    return InMemoryProbs(pred_probs, n_jobs=n_jobs, sums_to_one=sums_to_one)


class InMemoryProbs(ArraySource):
    """``pred_probs`` held whole: checked once on arrival, then read by every pass as one chunk.

    A DataFrame's columns name the classes. Rows that drift from summing to 1 by at most 1e-3
    are renormalized in a copy, with a warning, as :func:`labelwise._validate.check_pred_probs`
    does.
    """

    #: Chunk functions run in this process, so they may fill the caller's arrays in place.
    in_process = True
    #: The rows are one array, ``self.array``.
    whole = True
    progress = None

    def __init__(self, pred_probs: Any, n_jobs: int | None = None, sums_to_one: bool = True):
        self.columns = list(pred_probs.columns) if isinstance(pred_probs, pd.DataFrame) else None
        if sums_to_one:
            self.array = check_pred_probs(pred_probs, n_jobs)
        else:
            self.array = as_float_matrix(pred_probs, min_columns=1)
            # In blocks, so that the check's temporaries stay small beside the array.
            step = max(1, BLOCK_ELEMENTS // self.array.shape[1])
            for start in range(0, self.array.shape[0], step):
                check_range(self.array[start : start + step], start)
        self.n_jobs = n_jobs

    @classmethod
    def checked(cls, array: np.ndarray, n_jobs: int | None = None) -> InMemoryProbs:
        """A source over an array that its caller has checked already."""
        source = cls.__new__(cls)
        source.columns, source.array, source.n_jobs = None, array, n_jobs
        return source

    def map(self, func: Callable, labels: np.ndarray, task: str, **kwargs: Any) -> Iterator:
        """``func(0, array, labels, **kwargs)``: the whole array is the one chunk."""
        yield func(0, self.array, labels, **kwargs)


def _chunked_source(
    pred_probs: Any,
    labels: Any,
    chunk_rows: int | None,
    memory_limit: int | str | None,
    progress: Callable[[str, int, int], Any] | None = None,
    sums_to_one: bool = True,
    n_jobs: int | None = None,
) -> ChunkedProbs | None:
    """A chunked reader when the caller asks for one (or pred_probs is on disk), else None."""
    if isinstance(pred_probs, ChunkedProbs):
        pred_probs._checked = None  # a reused reader's data may have changed: check it again
        return pred_probs
    if type(pred_probs).__module__.startswith("dask."):
        from labelwise.issues._dask import DaskProbs

        return DaskProbs(pred_probs, progress=progress, sums_to_one=sums_to_one)
    # Paths, memory maps and Zarr arrays live on disk: read them in chunks unless told otherwise.
    on_disk = isinstance(pred_probs, (str, Path, np.memmap)) or type(
        pred_probs
    ).__module__.startswith("zarr.")
    if chunk_rows is None and memory_limit is None and not on_disk:
        return None
    if chunk_rows is None:
        probe = ChunkedProbs(pred_probs, 1)
        limit = parse_bytes(memory_limit) if memory_limit is not None else 2**30
        n_rows = len(labels) if hasattr(labels, "__len__") else 1  # bad labels fail later
        chunk_rows = chunk_rows_for(limit, max(n_rows, 1), probe.n_classes)
    return ChunkedProbs(
        pred_probs, chunk_rows, progress=progress, sums_to_one=sums_to_one, n_jobs=n_jobs
    )


def chunk_rows_for(memory_limit: int, n_rows: int, n_classes: int) -> int:
    """Rows per chunk so that a run stays within ``memory_limit`` bytes (at least 1 row)."""
    chunk = min(n_rows, _MIN_CHUNK_ROWS) * n_classes * _BYTES_PER_CELL
    needed = n_rows * _BYTES_PER_ROW + chunk
    if memory_limit < needed:
        raise ConfigError(
            f"a memory limit of {memory_limit / 1e6:,.0f} MB is too small for {n_rows:,} rows: "
            f"the per-row results alone take about {needed / 1e6:,.0f} MB. Allow at least that, "
            "or set chunk_rows directly."
        )
    rows = (memory_limit - n_rows * _BYTES_PER_ROW) // (n_classes * _BYTES_PER_CELL)
    return int(max(1, min(n_rows, rows)))


@dataclass
class ChunkedProbs:
    """``pred_probs`` read in chunks of ``chunk_rows`` rows, validated as it is read.

    ``source`` is an array (an ``np.memmap``, a Zarr array), or a path to a ``.npy`` file
    (memory-mapped), a Parquet file (one column per class, read by record batches) or a Zarr
    store (``.zarr``).
    """

    source: Any
    chunk_rows: int
    columns: list | None = None
    _parquet: Any = field(default=None, repr=False)
    _array: Any = field(default=None, repr=False)
    progress: Callable[[str, int, int], Any] | None = None
    sums_to_one: bool = True
    #: Threads each chunk's work is split among (None: every core).
    n_jobs: int | None = None
    #: Chunk functions run in this process, so they may fill the caller's arrays in place.
    in_process = True
    whole = False
    #: Once a pass has read and validated every chunk: the rows of each chunk (by its first
    #: row) to renormalize. Later passes then renormalize those rows and check nothing again.
    _checked: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.source, (str, Path)):
            self._open(Path(self.source))
        else:
            self._array = self.source
        check_shape(self._array.shape if self._array is not None else (self.n_rows, 2))
        if not is_integer(self.chunk_rows) or self.chunk_rows < 1:
            raise InputTypeError(
                f"chunk_rows must be a whole number >= 1, got {self.chunk_rows!r}."
            )

    def _open(self, path: Path) -> None:
        if not path.exists():
            raise DataFileError(f"{path} does not exist; give the path of a .npy or .parquet file.")
        if path.suffix == ".npy":
            self._array = _unreadable_as_data_file_error(path, np.load, path, mmap_mode="r")
        elif path.suffix == ".zarr":
            self._array = _open_zarr(path)
        elif path.suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            self._parquet = _unreadable_as_data_file_error(path, pq.ParquetFile, path)
            self.columns = list(self._parquet.schema_arrow.names)
        else:
            raise DataFileError(
                f"{path}: pred_probs files must be .npy (memory-mapped), .parquet/.pq or .zarr."
            )

    @property
    def n_rows(self) -> int:
        if self._parquet is not None:
            return int(self._parquet.metadata.num_rows)
        return int(self._array.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.columns) if self._parquet is not None else int(self._array.shape[1])

    def _raw(self) -> Iterator[tuple[int, np.ndarray]]:
        if self._parquet is not None:
            start = 0
            for batch in self._parquet.iter_batches(batch_size=int(self.chunk_rows)):
                block = np.column_stack([col.to_numpy() for col in batch.columns])
                yield start, block
                start += block.shape[0]
            return
        for start in range(0, self.n_rows, int(self.chunk_rows)):
            yield start, np.asarray(self._array[start : start + int(self.chunk_rows)])

    def map(self, func: Callable, labels: np.ndarray, task: str, **kwargs: Any) -> Iterator:
        """``func(start, block, labels_of_block, **kwargs)`` for each validated chunk, in order.

        ``progress(task, rows_done, n_rows)``, when set, is called after each chunk.
        """
        checked, drifted = {}, 0
        for start, raw in self._raw():
            if self.progress is not None:
                self.progress(task, start, self.n_rows)
            given = labels[start : start + len(raw)]
            known = None if self._checked is None else self._checked.get(start)
            result, drift = apply_to_chunk(
                func, start, raw, given, kwargs, self.sums_to_one, known, self.n_jobs
            )
            checked[start] = drift
            drifted += drift.size
            yield result
        if self.progress is not None:
            self.progress(task, self.n_rows, self.n_rows)
        warn_drift(drifted, task)
        self._checked = checked


def _open_zarr(path: Path) -> Any:
    zarr = require("zarr", f"reading the Zarr store {path}")
    return zarr.open_array(str(path), mode="r")


def one_vs_rest(probs: np.ndarray) -> np.ndarray:
    """The binary ``[1 - p, p]`` matrix of one class, in the input's dtype."""
    two = np.empty((probs.shape[0], 2), dtype=probs.dtype)
    np.subtract(1, probs, out=two[:, 0])
    two[:, 1] = probs
    return two


def _binary_then(
    start: int, block: np.ndarray, given: np.ndarray, inner: Callable, k: int, inner_kwargs: dict
) -> Any:
    return inner(start, one_vs_rest(block[:, k]), given, **inner_kwargs)


@dataclass
class OneVsRest:
    """Class k of a multi-label source, seen as the binary pred_probs ``[1 - p_k, p_k]``."""

    base: Any
    k: int
    columns = None
    n_classes = 2
    whole = False

    @property
    def n_rows(self) -> int:
        return self.base.n_rows

    @property
    def n_jobs(self) -> int | None:
        return self.base.n_jobs

    @property
    def in_process(self) -> bool:
        return self.base.in_process

    def map(self, func: Callable, labels: np.ndarray, task: str, **kwargs: Any) -> Iterator:
        task = f"class {self.k}: {task}"
        return self.base.map(_binary_then, labels, task, inner=func, k=self.k, inner_kwargs=kwargs)


def _unreadable_as_data_file_error(path: Path, opener: Callable, *args: Any, **kwargs: Any) -> Any:
    """Open a file; a truncated or corrupt one is a DataFileError that names it."""
    import pyarrow as pa

    try:
        return opener(*args, **kwargs)
    except (ValueError, OSError, EOFError, pa.ArrowException) as exc:
        raise DataFileError(
            f"{path} could not be read ({type(exc).__name__}: {exc}); the file is truncated or "
            "corrupt: write it again (np.save or DataFrame.to_parquet)."
        ) from None
