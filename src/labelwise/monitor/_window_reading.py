"""Reading a window into counts: a DataFrame, a Parquet file or a Dask DataFrame, in chunks.

Counts are sums, so a window is counted chunk by chunk (a few chunks in flight on a thread
pool, merged in order) and memory stays bounded whatever the window's size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from labelwise._optional import require
from labelwise._parallel import one_blas_thread, resolve_n_jobs
from labelwise.errors import DataFileError, InputTypeError
from labelwise.monitor._counts import Layout, WindowCounts

__all__ = ["thread_pool", "submitter", "done", "count_window", "rows_hint"]


@contextmanager
def thread_pool(n_jobs: int | None) -> Iterator[Executor | None]:
    """A thread pool of ``n_jobs`` workers (BLAS on one thread each), or None for one."""
    workers = resolve_n_jobs(n_jobs)
    if workers <= 1:
        yield None
        return
    with one_blas_thread(), ThreadPoolExecutor(workers) as pool:
        yield pool


def done(value: Any) -> Future:
    """A future that already holds ``value``."""
    future: Future = Future()
    future.set_result(value)
    return future


def submitter(pool: Executor | None) -> Any:
    """``run(fn, *args) -> Future``: in ``pool``, or at once in this thread without one."""

    def run(fn: Any, *args: Any) -> Future:
        if pool is not None:
            return pool.submit(fn, *args)
        return done(fn(*args))

    return run


def count_window(
    layout: Layout, window: Any, chunk_rows: int, pool: Executor | None, in_flight: int
) -> WindowCounts:
    """The counts of a DataFrame, a Parquet path, a Dask DataFrame (or counts, unchanged)."""
    if isinstance(window, WindowCounts):
        return window
    if isinstance(window, (str, os.PathLike)):
        return _count_parquet(layout, Path(window), chunk_rows, pool, in_flight)
    if type(window).__module__.startswith("dask."):
        return _count_dask(layout, window)
    if not isinstance(window, pd.DataFrame):
        raise InputTypeError(
            f"a window must be a DataFrame, a Parquet path or a Dask DataFrame, not "
            f"{type(window).__name__}."
        )
    layout.check_columns(window.columns)
    starts = range(0, len(window), chunk_rows)
    chunks = (window.iloc[start : start + chunk_rows] for start in starts)
    return _count_chunks(layout, chunks, pool, in_flight)


def _count_chunks(
    layout: Layout, chunks: Any, pool: Executor | None, in_flight: int
) -> WindowCounts:
    """Sum the counts of ``chunks`` (DataFrames, or callables returning one), in order.

    With a pool, a few chunks are counted at once; at most ``in_flight`` are pending, so a
    streamed file stays in bounded memory.
    """

    def one(chunk: Any) -> WindowCounts:
        return WindowCounts(layout).update(chunk() if callable(chunk) else chunk)

    counts = WindowCounts(layout)
    if pool is None:
        for chunk in chunks:
            counts = counts + one(chunk)
        return counts
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.submit(one, chunk))
        if len(pending) >= in_flight:
            counts = counts + pending.popleft().result()
    while pending:
        counts = counts + pending.popleft().result()
    return counts


def _count_parquet(
    layout: Layout, path: Path, chunk_rows: int, pool: Executor | None, in_flight: int
) -> WindowCounts:
    handle = open_parquet(path)
    layout.check_columns(handle.schema_arrow.names)
    # Only the monitored columns are read, one row group slice at a time: memory stays at a few
    # chunks of those columns whatever the file size.
    batches = handle.iter_batches(batch_size=chunk_rows, columns=layout.columns)
    return _count_chunks(layout, (batch.to_pandas for batch in batches), pool, in_flight)


def open_parquet(path: Path) -> Any:
    """A ``pyarrow.parquet.ParquetFile``, or a DataFileError naming the file."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataFileError(f"window file {str(path)!r} does not exist or is not a file.")
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own types for corrupt files
        raise DataFileError(f"could not read {str(path)!r} as Parquet: {exc}") from exc


def rows_hint(window: Any) -> int | None:
    """The window's row count when it is known before counting (to draw its null early)."""
    if isinstance(window, pd.DataFrame):
        return len(window)
    if isinstance(window, (str, os.PathLike)) and Path(window).is_file():
        try:
            return int(open_parquet(Path(window)).metadata.num_rows)
        except DataFileError:
            return None
    return None


def _count_dask(layout: Layout, frame: Any) -> WindowCounts:
    dask = require("dask", "check_dask")
    layout.check_columns(frame.columns)
    parts = frame[layout.columns].to_delayed()
    tasks = [dask.delayed(_count_partition)(layout, part) for part in parts]
    counts = WindowCounts(layout)
    for part in dask.compute(*tasks):
        counts = counts.merge(part)
    return counts


def _count_partition(layout: Layout, part: pd.DataFrame) -> WindowCounts:
    """Counts of one Dask partition (runs on a worker)."""
    return WindowCounts(layout).update(part)
