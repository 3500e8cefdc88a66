"""The chunked passes as Dask tasks: one task per row chunk, merged on the caller's side.

Each pass sends the same per-chunk function the single-machine path runs
(:func:`labelwise.issues._chunks.apply_to_chunk`) to the workers, and merges the results in row
order with the same code, so answers are identical to the in-memory ones. Only per-chunk
summaries travel back: counts, a few candidate rows per class pair, per-row flags and scores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from labelwise._optional import require
from labelwise.errors import DataFileError
from labelwise.issues._chunks import ArraySource, apply_to_chunk, check_shape, warn_drift

__all__ = ["DaskProbs", "dask_array_from_npy", "dask_client"]


def _require_dask() -> Any:
    require("dask.array", "the Dask backend")
    return require("dask", "the Dask backend")


class DaskProbs(ArraySource):
    """A Dask array of pred_probs, read by row chunks on the cluster."""

    columns = None
    #: Each task runs on one thread: the cluster's workers are the parallelism.
    n_jobs = 1
    #: Tasks may run in other processes: chunk functions return what they find.
    in_process = False
    whole = False

    def __init__(
        self,
        array: Any,
        progress: Callable[[str, int, int], Any] | None = None,
        sums_to_one: bool = True,
    ):
        _require_dask()
        check_shape(array.shape)
        # Rows are the unit of work: every chunk must hold whole rows.
        self.array = array.rechunk({1: -1}) if len(array.chunks[1]) > 1 else array
        self.progress = progress
        self.sums_to_one = sums_to_one
        # After a pass has validated every chunk: the rows of each chunk to renormalize.
        self._checked: dict | None = None

    def map(self, func: Callable, labels: np.ndarray, task: str, **kwargs: Any) -> Iterator:
        """``func(start, block, labels_of_block, **kwargs)`` per chunk, as tasks, in order."""
        import dask

        sizes = self.array.chunks[0]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        blocks = self.array.to_delayed().ravel()
        known = self._checked or {}
        tasks = [
            dask.delayed(apply_to_chunk)(
                func,
                start,
                block,
                labels[start : start + size],
                kwargs,
                self.sums_to_one,
                known.get(start),
            )
            for start, size, block in zip(starts, sizes, blocks, strict=True)
        ]
        checked, drifted, done = {}, 0, 0
        for (result, drift), start, size in zip(_in_order(tasks), starts, sizes, strict=True):
            checked[start] = drift
            drifted += drift.size
            done += size
            if self.progress is not None:
                self.progress(task, done, self.n_rows)
            yield result
        warn_drift(drifted, task)
        self._checked = checked


def _in_order(tasks: list) -> Iterator:
    """Results of the tasks in order: as futures on a distributed client, else all at once."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        import dask

        yield from dask.compute(*tasks)
        return
    futures = client.compute(tasks)
    for future in futures:
        yield future.result()
        future.release()  # keep only what is still to merge on the cluster


def _load_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def dask_array_from_npy(path: str | Path, chunk_rows: int) -> Any:
    """A Dask array over a ``.npy`` file: each task memory-maps it and reads its own rows."""
    dask = _require_dask()
    path = Path(path)
    if not path.exists() or path.suffix != ".npy":
        raise DataFileError(
            f"{path}: the Dask backend reads pred_probs from an existing .npy file."
        )
    header = np.load(path, mmap_mode="r")
    n, k = header.shape
    pieces = [
        dask.array.from_delayed(
            dask.delayed(_load_rows)(str(path), s, min(s + chunk_rows, n)),
            shape=(min(s + chunk_rows, n) - s, k),
            dtype=header.dtype,
        )
        for s in range(0, n, chunk_rows)
    ]
    return dask.array.concatenate(pieces, axis=0)


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A client for ``address``, or for a new two-worker local cluster when it is ``"local"``."""
    _require_dask()
    from distributed import Client, LocalCluster

    if address != "local":
        with Client(address) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        yield client
