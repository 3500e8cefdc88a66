"""The engine's passes over pred_probs, written once for every source of rows.

A source holds pred_probs whole in memory (read as one chunk), reads it in row chunks from disk,
or reads it by Dask tasks (:mod:`labelwise.issues._stream`, :mod:`labelwise.issues._dask`).
Each offers ``map(func, labels, task, **kwargs)``, which checks every chunk once and applies
``func(start, block, labels_of_block, **kwargs)``. The passes below use nothing else, so the
data goes down one road whatever its source, and every reduction is "compute per chunk, merge",
arranged so that results equal the in-memory ones bit for bit:

1. thresholds: each class's given-label probabilities, kept in row order and averaged with
   numpy's own mean;
2. scan: the confident joint, the per-row facts, the named scores and a sample of the rows;
3. pruning: the rows with the largest margins per (given, other) class pair, by the compiled
   two-pass selection of :mod:`labelwise.issues._selection` (its first floors set from the
   sample), or by the numpy reference;
4. ties: when equal values straddle a pair's cut, one more pass gathers that pair's column so
   that the very sort of the reference settles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from labelwise._parallel import ordered_map
from labelwise._validate import Checked, encode_label_values, labels_array
from labelwise.errors import ShapeError
from labelwise.issues import _kernels as kernels
from labelwise.issues._chunks import FIRST_PASS
from labelwise.issues._counting import (
    DENSE_MAX_CLASSES,
    TOLERANCE,
    CellCounter,
    ClassGroups,
    ConfidentPass,
    group_by_class,
    largest_margins,
    scan_parts,
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
from labelwise.issues._sparse import column
from labelwise.issues.scores import _scores

__all__ = ["Scanned", "scan_source", "pruned_rows"]

#: Classes at least this big (on average) are pruned in parallel threads by the numpy reference.
_ROWS_PER_THREADED_CLASS = 20_000


@dataclass
class Scanned:
    """What the first two passes learn: the checked labels, the confident pass, the scores
    asked for, and a sample of the rows for pruning's first floors.

    ``checked.pred_probs`` is the array when the source holds it whole, else the source.
    """

    checked: Checked
    scan: ConfidentPass
    source: Any
    scores: dict = field(default_factory=dict)
    sample: tuple = ()

    @cached_property
    def groups(self) -> ClassGroups:
        """The rows of each given class, in row order (for the numpy reference on whole rows)."""
        return ClassGroups.of(self.checked.labels, self.source.n_classes)

    def score(self, name: str) -> np.ndarray:
        """The per-row score ``name``: from the scan when it was asked for, else computed now
        (one more pass when the rows are read in chunks)."""
        if name not in self.scores:
            labels = self.checked.labels
            parts = self.source.map(_score_chunk, labels, "scores", name=name)
            self.scores[name] = np.concatenate(list(parts))
        return self.scores[name]


def scan_source(
    labels: Any, source: Any, classes: Any = None, score_names: list | tuple = ()
) -> Scanned:
    """Check the labels against ``source``, then make the thresholds and scan passes.

    ``score_names`` (None entries ignored) are computed during the scan, so that a chunked
    source is not read again for them.
    """
    if classes is None and source.columns is not None:
        classes = source.columns
    values = labels_array(labels)
    if values.size != source.n_rows:
        raise ShapeError(
            f"labels has {values.size} entries but pred_probs has {source.n_rows} rows; they "
            "must describe the same examples in the same order."
        )
    codes, names = encode_label_values(values, labels, source.n_classes, classes)
    # The kernels loop several times faster over small codes: make them once for every pass.
    codes = codes.astype(np.min_scalar_type(source.n_classes), copy=False)
    thresholds = thresholds_from(_given_probs_by_class(codes, source))
    wanted = list(dict.fromkeys(name for name in score_names if name))
    scan, scores, sample = _scan_pass(codes, source, thresholds, wanted)
    probs = source.array if source.whole else source
    checked = Checked(labels=codes, pred_probs=probs, classes=names)
    return Scanned(checked=checked, scan=scan, source=source, scores=scores, sample=sample)


# --- 1. thresholds ------------------------------------------------------------------------------


def _own_chunk(start: int, block: np.ndarray, given: np.ndarray, n_classes: int) -> list:
    """The chunk's given-label probabilities, by class, in row order."""
    if kernels.enabled():
        groups, own = group_by_class(given, block)
        return np.split(own, groups.bounds[1:-1])
    own = block[np.arange(given.size), given]
    order = np.argsort(given, kind="stable")
    bounds = np.cumsum(np.bincount(given, minlength=n_classes))
    return np.split(own[order], bounds[:-1])


def _scatter_chunk(start: int, block: np.ndarray, given: np.ndarray, filled: dict) -> None:
    if filled["own"] is None:
        filled["own"] = np.empty(filled["n_rows"], block.dtype)
    kernels.scatter_own(given, block, filled["next_slot"], filled["own"], np.empty(0, np.intp))


def _given_probs_by_class(labels: np.ndarray, source: Any) -> list:
    """Each class's given-label probabilities, in row order (one pass, filled in place)."""
    n_classes = source.n_classes
    counts = np.bincount(labels, minlength=n_classes)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    if kernels.enabled() and source.in_process:
        # The kernel writes each chunk straight to its class's slots.
        filled = {"own": None, "next_slot": bounds[:-1].copy(), "n_rows": labels.size}
        for _ in source.map(_scatter_chunk, labels, FIRST_PASS, filled=filled):
            pass
        return np.split(filled["own"], bounds[1:-1])
    out: list[np.ndarray] | None = None
    filled = np.zeros(n_classes, dtype=np.int64)
    for split in source.map(_own_chunk, labels, FIRST_PASS, n_classes=n_classes):
        if out is None:
            out = [np.empty(n, dtype=split[0].dtype) for n in counts]
        for k, values in enumerate(split):
            out[k][filled[k] : filled[k] + values.size] = values
            filled[k] += values.size
    return out


# --- 2. scan ------------------------------------------------------------------------------------


def _score_chunk(start: int, block: np.ndarray, given: np.ndarray, name: str) -> np.ndarray:
    return _scores(given, block, name)


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
    parts = scan_parts(given, block, cut, n_jobs)
    counter = CellCounter(block.shape[1])
    for (seen, counts), *_ in parts:
        counter.add(seen, counts)
    seen, counts = counter.pairs()
    off = np.concatenate([p[1] for p in parts]) + start
    argmax = np.concatenate([p[2] for p in parts])
    wins = np.concatenate([p[3] for p in parts])
    scores = {name: _scores(given, block, name) for name in score_names}
    first = -start % stride if stride else block.shape[0]  # every stride-th row of the input
    sample = (np.array(given[first :: stride or 1]), np.array(block[first :: stride or 1]))
    return (seen, counts, off, argmax, wins), scores, sample


def _scan_pass(
    labels: np.ndarray, source: Any, thresholds: np.ndarray, score_names: list
) -> tuple[ConfidentPass, dict, tuple[np.ndarray, np.ndarray]]:
    """The confident pass, plus the named per-row scores and the sample (one pass).

    Per-row results are written into arrays allocated once, so no pass holds two copies.
    """
    n, k = labels.size, source.n_classes
    counter = CellCounter(k)
    predicted = np.empty(n, dtype=np.min_scalar_type(k))
    given_wins = np.empty(n, dtype=bool)
    off_diagonal, scores, sampled = [], {}, []
    done = 0
    # The sample serves the compiled selection only.
    stride = sample_stride(n, k) if kernels.enabled() and k <= DENSE_MAX_CLASSES else 0
    chunks = source.map(
        _scan_chunk,
        labels,
        "confident joint",
        cut=thresholds - TOLERANCE,
        score_names=score_names,
        stride=stride,
        n_jobs=source.n_jobs,
    )
    for (seen, counts, off, argmax, wins), chunk_scores, sample in chunks:
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


# --- 3. pruning ---------------------------------------------------------------------------------


def pruned_rows(
    scanned: Scanned, prune: Any, checked_classes: list[int], by_class: bool
) -> np.ndarray:
    """The mask of rows flagged by noise rate (largest margins toward each other class) or by
    class (lowest ``p_k``), as the pruned joint ``prune`` asks.

    The compiled selection serves every source; without the kernels (or above
    ``DENSE_MAX_CLASSES`` classes) the numpy reference does, exactly per class when the rows
    are held whole, else by candidates merged across chunks.
    """
    labels, source = scanned.checked.labels, scanned.source
    counts = scanned.scan.label_counts
    if kernels.enabled() and source.n_classes <= DENSE_MAX_CLASSES:
        pairs = Pairs.of(prune, checked_classes, counts, by_class)
        return _selected(labels, source, pairs, counts, scanned.sample)
    if source.whole:
        return _pruned_whole(scanned.groups, source, prune, checked_classes, by_class)
    return _pruned_in_chunks(labels, source, prune, checked_classes, counts, by_class)


def _keep_chunk(start, block, given, pairs: Pairs, floors: np.ndarray, n_jobs) -> Kept:
    return keep_rows(block, given, pairs, floors, n_jobs)


def _mark_chunk(start, block, given, pairs: Pairs, table: np.ndarray, n_jobs) -> Marked:
    return mark_rows(block, given, start, pairs, table, n_jobs)


def _selected(
    labels: np.ndarray,
    source: Any,
    pairs: Pairs,
    counts: np.ndarray,
    sample: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The compiled selection: two passes (three when a floor was too high), and one more to
    settle ties that straddle a cut."""
    floors = first_floors(sample[1], sample[0], pairs, counts)
    threads = {"pairs": pairs, "n_jobs": source.n_jobs}
    return select(
        lambda floors: source.map(_keep_chunk, labels, "pruning", floors=floors, **threads),
        lambda table: source.map(_mark_chunk, labels, "pruning", table=table, **threads),
        pairs,
        floors,
        lambda unsettled: _resolve_ties(labels, source, unsettled),
        labels.size,
    )


def _pruned_whole(
    groups: ClassGroups, source: Any, prune: Any, checked: list[int], by_class: bool
) -> np.ndarray:
    """The numpy reference on rows held whole: each class's rows gathered once, cut exactly."""
    probs, n_rows = source.array, source.n_rows

    def flag_class(k: int) -> np.ndarray:
        rows = groups.rows(k)
        toward = column(prune, k)
        if by_class:
            return rows[smallest_n(probs[rows, k], int(groups.counts[k] - toward[k]))]
        return rows[largest_margins(np.take(probs, rows, axis=0), k, toward)]

    # Threads pay only when each class is big: many small classes are dominated by the
    # interpreter (which holds the GIL), and threads then slow them down.
    big = n_rows >= _ROWS_PER_THREADED_CLASS * max(len(checked), 1)
    mask = np.zeros(n_rows, dtype=bool)
    for rows in ordered_map(flag_class, checked, source.n_jobs if big else 1):
        mask[rows] = True
    return mask


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


def _pruned_in_chunks(
    labels: np.ndarray,
    source: Any,
    prune: Any,
    checked: list[int],
    counts: np.ndarray,
    by_class: bool,
) -> np.ndarray:
    """The numpy reference over chunks: candidates per pair, merged, ties settled after."""
    wanted = wanted_pairs(prune, checked, counts, by_class)
    running = {pair: _Smallest(n) for pair, n in wanted.items()}
    for found in source.map(_candidates_chunk, labels, "pruning", wanted=wanted):
        for pair, (values, rows, seen) in found.items():
            running[pair].add(values, rows, seen)
    mask = np.zeros(labels.size, dtype=bool)
    for best in running.values():
        if best.settled:
            mask[best.rows] = True
    unsettled = {pair: wanted[pair] for pair, best in running.items() if not best.settled}
    for rows in _resolve_ties(labels, source, unsettled).values():
        mask[rows] = True
    return mask


# --- 4. ties ------------------------------------------------------------------------------------


def _column_chunk(start: int, block: np.ndarray, given: np.ndarray, pairs: list) -> dict:
    members = _members(given, {k for _, k in pairs})
    class_rows = {k: block[local] for k, local in members.items()}
    return {(j, k): (pair_values(class_rows[k], j, k), members[k] + start) for j, k in pairs}


def _resolve_ties(labels: np.ndarray, source: Any, unsettled: dict) -> dict:
    """Gather each unsettled pair's whole column (one more pass) and cut it as memory does."""
    if not unsettled:
        return {}
    columns: dict = {pair: ([], []) for pair in unsettled}
    for found in source.map(_column_chunk, labels, "ties", pairs=list(unsettled)):
        for pair, (values, rows) in found.items():
            columns[pair][0].append(values)
            columns[pair][1].append(rows)
    out = {}
    for pair, n in unsettled.items():
        values, rows = (np.concatenate(part) for part in columns[pair])
        out[pair] = rows[smallest_n(values, n)]
    return out
