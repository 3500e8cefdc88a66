"""Out-of-core passes: the in-memory engine's exact results from pred_probs read in row chunks.

Only the labels and a few numbers per row stay in memory; ``pred_probs`` is read chunk by chunk
(a memory-mapped ``.npy``, a Parquet file's record batches, or an array's slices), once per
pass. Every reduction is "compute per chunk, merge", arranged so that the result equals the
in-memory one bit for bit:

- thresholds: each class's given-label probabilities are kept, in row order, and averaged with
  numpy's own mean, exactly as in memory;
- confident joint and per-row facts: the same block function, offsets added;
- the largest margins per (given, other) class pair: a running set of every value at or below
  the current n-th smallest; when equal values straddle the final cut, one more pass gathers that
  pair's whole column so the tie is resolved by the very sort the in-memory path uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelwise._optional import require
from labelwise._parallel import ordered_map
from labelwise._validate import (
    Checked,
    check_range,
    check_rows,
    encode_label_values,
    labels_array,
    renormalized,
    warn_renormalized,
)
from labelwise.errors import ConfigError, DataFileError, InputTypeError, ShapeError
from labelwise.issues import _kernels as kernels
from labelwise.issues._counting import (
    DENSE_MAX_CLASSES,
    CellCounter,
    ConfidentPass,
    _scan_block,
    _scan_step,
    group_by_class,
    smallest_n,
    thresholds_from,
)
from labelwise.issues._selection import (
    Kept,
    Marked,
    Pairs,
    first_floors,
    keep_rows,
    mark_rows,
    pair_values,
    sample_stride,
    select,
    wanted_pairs,
)
from labelwise.issues.scores import _scores

__all__ = ["ChunkedProbs", "chunk_rows_for", "chunked_source", "parse_bytes"]

#: Bytes of working memory per pred_probs cell of a chunk (the chunk, its copies and masks).
_BYTES_PER_CELL = 24
#: Bytes kept per row for the whole run (label, prediction, flags, a score, a probability).
_BYTES_PER_ROW = 16
#: Fewest rows per chunk, whatever the budget: smaller chunks cost more than they save.
_MIN_CHUNK_ROWS = 4096


def parse_bytes(size: int | str) -> int:
    """``"1GB"``, ``"512MiB"``, ``"2e9"`` or a number of bytes, as bytes."""
    if isinstance(size, (int, np.integer)):
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


def chunked_source(
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
    #: Once a pass has read and validated every chunk: the rows of each chunk (by its first
    #: row) to renormalize. Later passes then renormalize those rows and check nothing again.
    _checked: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.source, (str, Path)):
            self._open(Path(self.source))
        else:
            self._array = self.source
        if self._array is not None and (self._array.ndim != 2 or self._array.shape[1] < 2):
            raise ShapeError(
                f"pred_probs must be 2-D with at least 2 columns, got shape {self._array.shape}."
            )
        if self.n_rows == 0:
            raise ShapeError("pred_probs is empty: there are no examples to check.")
        if not isinstance(self.chunk_rows, (int, np.integer)) or self.chunk_rows < 1:
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


def apply_to_chunk(
    func: Callable,
    start: int,
    raw: np.ndarray,
    given: np.ndarray,
    kwargs: dict,
    sums_to_one: bool = True,
    drift: np.ndarray | None = None,
    n_jobs: int | None = 1,
):
    """Validate one chunk (renormalizing slight drift) and apply ``func``; also return the rows
    renormalized.

    With ``sums_to_one=False`` (per-class probabilities of multi-label data) only the range is
    checked. ``drift``, when a pass before has checked this chunk, names the rows to
    renormalize, and nothing is checked again. Checks run on ``n_jobs`` threads. A module-level
    function, so that Dask can ship it to worker processes.
    """
    block = raw if raw.dtype in (np.float32, np.float64) else _as_float(raw)
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
    # Every pass sees the same rows: warn once, on the first.
    if drifted and task == FIRST_PASS:
        warn_renormalized(drifted, stacklevel=5)


def _open_zarr(path: Path) -> Any:
    zarr = require("zarr", f"reading the Zarr store {path}")
    return zarr.open_array(str(path), mode="r")


def _as_float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype.kind not in "fiub":
        raise InputTypeError(f"pred_probs holds {raw.dtype} values; it must hold numbers.")
    return raw.astype(np.float32 if raw.dtype == np.float16 else np.float64)


FIRST_PASS = "thresholds"


def _own_chunk(start: int, block: np.ndarray, given: np.ndarray, n_classes: int) -> list:
    """The chunk's given-label probabilities, by class, in row order."""
    if kernels.enabled():
        groups, own = group_by_class(given, block)
        return np.split(own, groups.bounds[1:-1])
    own = block[np.arange(given.size), given]
    order = np.argsort(given, kind="stable")
    bounds = np.cumsum(np.bincount(given, minlength=n_classes))
    return np.split(own[order], bounds[:-1])


def own_probs_by_class(labels: np.ndarray, probs: Any, n_classes: int) -> list:
    """Each class's given-label probabilities, in row order (one pass, filled in place)."""
    counts = np.bincount(labels, minlength=n_classes)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    if kernels.enabled() and probs.in_process:
        # The chunks are read here: the kernel writes each straight to its slots.
        filled = {"own": None, "next_slot": bounds[:-1].copy(), "n_rows": labels.size}
        for _ in probs.map(_scatter_chunk, labels, FIRST_PASS, filled=filled):
            pass
        return np.split(filled["own"], bounds[1:-1])
    out: list[np.ndarray] | None = None
    filled = np.zeros(n_classes, dtype=np.int64)
    for split in probs.map(_own_chunk, labels, FIRST_PASS, n_classes=n_classes):
        if out is None:
            out = [np.empty(n, dtype=split[0].dtype) for n in counts]
        for k, values in enumerate(split):
            out[k][filled[k] : filled[k] + values.size] = values
            filled[k] += values.size
    return out


def _scatter_chunk(start: int, block: np.ndarray, given: np.ndarray, filled: dict) -> None:
    if filled["own"] is None:
        filled["own"] = np.empty(filled["n_rows"], block.dtype)
    kernels.scatter_own(given, block, filled["next_slot"], filled["own"], np.empty(0, np.intp))


def _scan_chunk(
    start: int,
    block: np.ndarray,
    given: np.ndarray,
    cut: np.ndarray,
    score_names: list,
    stride: int,
    n_jobs: int | None,
) -> tuple:
    """One chunk's confident pass, its named scores, and its rows of the sample of every
    ``stride``-th row (none when ``stride`` is 0)."""
    n, k = block.shape
    step = _scan_step(n, k, n_jobs)
    spans = [(s, min(s + step, n)) for s in range(0, n, step)]
    parts = ordered_map(lambda span: _scan_block(given, block, cut, *span), spans, n_jobs)
    counter = CellCounter(k)
    for (seen, counts), *_ in parts:
        counter.add(seen, counts)
    seen, counts = counter.pairs()
    off = np.concatenate([p[1] for p in parts]) + start
    argmax = np.concatenate([p[2] for p in parts])
    wins = np.concatenate([p[3] for p in parts])
    scores = {name: _scores(given, block, name) for name in score_names}
    first = -start % stride if stride else n  # every stride-th row of the whole input, if any
    sample = (np.array(given[first :: stride or 1]), np.array(block[first :: stride or 1]))
    return (seen, counts, off, argmax, wins), scores, sample


def streamed_scan(
    labels: np.ndarray, probs: Any, thresholds: np.ndarray, score_names: list
) -> tuple[ConfidentPass, dict, tuple[np.ndarray, np.ndarray]]:
    """The confident pass, plus any per-row scores, over the chunks (one pass).

    Per-row results are written into arrays allocated once, so no pass ever holds two copies.
    A sample of every so many rows (at most ``SAMPLE_VALUES`` values) comes back as well, from
    which pruning sets its first floors.
    """
    n, k = labels.size, probs.n_classes
    counter = CellCounter(k)
    predicted = np.empty(n, dtype=np.min_scalar_type(k))
    given_wins = np.empty(n, dtype=bool)
    off_diagonal, scores, sampled = [], {}, []
    done = 0
    cut = thresholds - 1e-6
    # The sample serves the compiled selection only.
    stride = sample_stride(n, k) if kernels.enabled() and k <= DENSE_MAX_CLASSES else 0
    for (seen, counts, off, argmax, wins), chunk_scores, sample in probs.map(
        _scan_chunk,
        labels,
        "confident joint",
        cut=cut,
        score_names=score_names,
        stride=stride,
        n_jobs=probs.n_jobs,
    ):
        counter.add(seen, counts)
        off_diagonal.append(off)
        sampled.append(sample)
        stop = done + argmax.size
        predicted[done:stop], given_wins[done:stop] = argmax, wins
        for name, values in chunk_scores.items():
            scores.setdefault(name, np.empty(n, dtype=values.dtype))[done:stop] = values
        done = stop
    scan = ConfidentPass(
        thresholds=thresholds,
        cells=counter.table(),
        off_diagonal=np.concatenate(off_diagonal),
        predicted=predicted,
        given_wins=given_wins,
    )
    sample = tuple(np.concatenate(part) for part in zip(*sampled, strict=True))
    return scan, scores, sample


@dataclass
class _Smallest:
    """Every value at or below the n-th smallest seen so far, with its row."""

    n: int
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    seen: int = 0

    def add(self, values: np.ndarray, rows: np.ndarray, seen: int) -> None:
        self.seen += seen
        self.values, self.rows = _at_most_nth(
            np.concatenate([self.values, values]).astype(values.dtype, copy=False),
            np.concatenate([self.rows, rows]),
            self.n,
        )

    @property
    def settled(self) -> bool:
        """Whether the kept rows are exactly the answer (no tie straddles the cut)."""
        return self.seen <= self.n or self.values.size == self.n


def _at_most_nth(values: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The values at or below the n-th smallest (all, when there are no more than n)."""
    if values.size <= n:
        return values, rows
    keep = values <= np.partition(values, n - 1)[n - 1]
    return values[keep], rows[keep]


def _members(given: np.ndarray, classes: set) -> dict:
    return {k: np.flatnonzero(given == k) for k in classes}


def _candidates_chunk(start: int, block: np.ndarray, given: np.ndarray, wanted: dict) -> dict:
    """Per pair, this chunk's values at or below its own n-th smallest: a superset of its share
    of the global answer, since a subset's n-th smallest is never below the whole's."""
    members = _members(given, {k for _, k in wanted})
    class_rows = {k: block[local] for k, local in members.items() if local.size}
    out = {}
    for (j, k), n in wanted.items():
        if k in class_rows:
            local = members[k]
            values, rows = _at_most_nth(pair_values(class_rows[k], j, k), local + start, n)
            out[(j, k)] = (values, rows, local.size)
    return out


def streamed_prune(
    labels: np.ndarray,
    probs: Any,
    prune: np.ndarray,
    checked_classes: list[int],
    counts: np.ndarray,
    by_class: bool,
    sample: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Rows flagged by noise rate (or by class), read in chunks; equal to the in-memory pass.

    With the compiled kernels, the two-pass selection of :mod:`labelwise.issues._selection`,
    its first floors set from ``sample``; otherwise the numpy reference below.
    """
    if kernels.enabled() and probs.n_classes <= DENSE_MAX_CLASSES:
        pairs = Pairs.of(prune, checked_classes, counts, by_class)
        return _selected_in_chunks(labels, probs, pairs, counts, sample)
    wanted = wanted_pairs(prune, checked_classes, counts, by_class)
    running = {pair: _Smallest(n) for pair, n in wanted.items()}
    for found in probs.map(_candidates_chunk, labels, "pruning", wanted=wanted):
        for pair, (values, rows, seen) in found.items():
            running[pair].add(values, rows, seen)
    mask = np.zeros(labels.size, dtype=bool)
    for best in running.values():
        if best.settled:
            mask[best.rows] = True
    unsettled = {pair: wanted[pair] for pair, best in running.items() if not best.settled}
    for rows in _resolve_ties(labels, probs, unsettled).values():
        mask[rows] = True
    return mask


def _keep_chunk(
    start: int,
    block: np.ndarray,
    given: np.ndarray,
    pairs: Pairs,
    floors: np.ndarray,
    n_jobs: int | None,
) -> Kept:
    return keep_rows(block, given, pairs, floors, n_jobs)


def _mark_chunk(
    start: int,
    block: np.ndarray,
    given: np.ndarray,
    pairs: Pairs,
    table: np.ndarray,
    n_jobs: int | None,
) -> Marked:
    return mark_rows(block, given, start, pairs, table, n_jobs)


def _selected_in_chunks(
    labels: np.ndarray,
    probs: Any,
    pairs: Pairs,
    counts: np.ndarray,
    sample: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The compiled selection over the chunks: two passes (three when a floor was too high),
    and one more to settle ties that straddle a cut."""
    floors = first_floors(sample[1], sample[0], pairs, counts)
    threads = {"pairs": pairs, "n_jobs": probs.n_jobs}
    return select(
        lambda floors: probs.map(_keep_chunk, labels, "pruning", floors=floors, **threads),
        lambda table: probs.map(_mark_chunk, labels, "pruning", table=table, **threads),
        pairs,
        floors,
        lambda unsettled: _resolve_ties(labels, probs, unsettled),
        labels.size,
    )


def _column_chunk(start: int, block: np.ndarray, given: np.ndarray, pairs: list) -> dict:
    members = _members(given, {k for _, k in pairs})
    class_rows = {k: block[local] for k, local in members.items()}
    return {(j, k): (pair_values(class_rows[k], j, k), members[k] + start) for j, k in pairs}


def _resolve_ties(labels: np.ndarray, probs: Any, unsettled: dict) -> dict:
    """Gather each unsettled pair's whole column (one more pass) and cut it as memory does."""
    if not unsettled:
        return {}
    columns: dict = {pair: ([], []) for pair in unsettled}
    for found in probs.map(_column_chunk, labels, "ties", pairs=list(unsettled)):
        for pair, (values, rows) in found.items():
            columns[pair][0].append(values)
            columns[pair][1].append(rows)
    out = {}
    for pair, n in unsettled.items():
        values, rows = (np.concatenate(part) for part in columns[pair])
        out[pair] = rows[smallest_n(values, n)]
    return out


def streamed_scan_inputs(
    labels: Any, chunked: Any, classes: Any, score_names: list
) -> tuple[Checked, ConfidentPass, dict, tuple[np.ndarray, np.ndarray]]:
    """:func:`scan_inputs` for pred_probs read in chunks, plus the named per-row scores and a
    sample of the rows (labels, pred_probs) for pruning's first floors."""
    if classes is None and chunked.columns is not None:
        classes = chunked.columns
    values = labels_array(labels)
    if values.size != chunked.n_rows:
        raise ShapeError(
            f"labels has {values.size} entries but pred_probs has {chunked.n_rows} rows; they "
            "must describe the same examples in the same order."
        )
    codes, names = encode_label_values(values, labels, chunked.n_classes, classes)
    codes = codes.astype(np.min_scalar_type(chunked.n_classes), copy=False)
    thresholds = thresholds_from(own_probs_by_class(codes, chunked, chunked.n_classes))
    names_wanted = list(dict.fromkeys(name for name in score_names if name))
    scan, scores, sample = streamed_scan(codes, chunked, thresholds, names_wanted)
    checked = Checked(labels=codes, pred_probs=chunked, classes=names)
    return checked, scan, scores, sample


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
