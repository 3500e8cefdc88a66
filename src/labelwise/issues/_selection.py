"""Pruning's selection in two passes over the rows, in memory, in chunks and on Dask alike.

Pruning flags, within each given class k, the rows among the n largest values of some pair:
by noise rate the margins ``p_j - p_k`` toward each other class j, by class the ``-p_k``. The
reference (:func:`labelwise.issues._counting.largest_margins`, :func:`smallest_n`) gathers each
class's rows and partitions each pair's values. Here the rows are read in their own order,
twice, by compiled kernels (:mod:`labelwise.issues._kernels`):

1. each block keeps, per pair, candidates for its n largest values; blocks merge, and the
   n-th largest value of each pair is its cut;
2. each block marks its rows above some cut and lists those at a cut.

A pair whose rows at the cut are exactly as many as its n needs is settled: they are all in. A
pair where equal values straddle the cut goes to ``resolve``, which cuts it with the very sort
the reference uses, so that ties go the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from labelwise._parallel import ordered_map, resolve_n_jobs
from labelwise.issues import _kernels as kernels
from labelwise.issues._sparse import column

#: Rows at a cut each block makes room for beyond two per pair (more take a second call).
_TIE_ROOM = 4096
#: Fewest rows a thread takes in a pass: below it, starting threads costs more than they gain.
_MIN_SPAN_ROWS = 1 << 14
#: Room each pair's candidates have beyond twice its wanted: pairs that want a few rows would
#: otherwise be compacted after nearly every candidate.
_SLACK = 8
#: Every so many rows, at least, go into the sample that sets the first floors ...
SAMPLE_STRIDE = 32
#: ... and the sample holds at most this many values.
SAMPLE_VALUES = 1 << 22


def sample_stride(n_rows: int, n_classes: int) -> int:
    """Every how many rows a sample takes one, to stay within :data:`SAMPLE_VALUES` values."""
    return max(SAMPLE_STRIDE, -(-n_rows * n_classes // SAMPLE_VALUES))


def wanted_pairs(prune: object, checked: list[int], counts: np.ndarray, by_class: bool) -> dict:
    """{(j, k): n}: flag the n rows of given class k whose values of pair (j, k) rank first
    (the n smallest :func:`pair_values`, the n largest margins)."""
    pairs = Pairs.of(prune, checked, counts, by_class)
    return {pairs.key(p): int(n) for p, n in enumerate(pairs.wanted)}


@dataclass(frozen=True, eq=False)
class Pairs:
    """The pairs to select for, listed by given class: those of class k are
    ``first[k]:first[k + 1]``, pair p ranking against class ``others[p]`` and wanting
    ``wanted[p]`` values. A pair's bound lives at ``at[p]`` of a table of K * K + K entries
    (``k * K + j`` for a margin, ``K * K + k`` for -p_k), which the kernels sweep a row at a
    time."""

    first: np.ndarray
    others: np.ndarray
    classes: np.ndarray
    wanted: np.ndarray
    at: np.ndarray
    n_classes: int

    @classmethod
    def of(cls, prune: object, checked: list[int], counts: np.ndarray, by_class: bool) -> Pairs:
        """Pruning's pairs: by class, (k, k) wanting ``counts[k] - R[k, k]`` (when at least
        1); by noise rate, (k, j) wanting ``R[j, k]`` for each j != k where it is positive.
        Only the ``checked`` classes take part."""
        n_classes = counts.size
        checked = np.asarray(checked, dtype=np.int64)
        if by_class:
            own = np.array([column(prune, k)[k] for k in checked], dtype=np.int64)
            keep = counts[checked] - own >= 1
            classes = checked[keep]
            return cls._of(classes, classes, (counts[checked] - own)[keep], n_classes)
        if isinstance(prune, np.ndarray):  # R[j, k]: from given class k, toward class j
            others, classes = np.nonzero(prune > 0)
            wanted = prune[others, classes]
        else:
            entries = sparse.coo_array(prune)
            others, classes, wanted = entries.row, entries.col, entries.data
        keep = np.isin(classes, checked) & (classes != others) & (wanted > 0)
        order = np.lexsort((others[keep], classes[keep]))  # by class, then other class
        return cls._of(classes[keep][order], others[keep][order], wanted[keep][order], n_classes)

    @classmethod
    def _of(
        cls, classes: np.ndarray, others: np.ndarray, wanted: np.ndarray, n_classes: int
    ) -> Pairs:
        classes, others = classes.astype(np.int64), others.astype(np.int64)
        margin_at = classes * n_classes + others
        return cls(
            first=np.searchsorted(classes, np.arange(n_classes + 1)).astype(np.int64),
            others=others,
            classes=classes,
            wanted=np.asarray(wanted, dtype=np.int64),
            at=np.where(others == classes, n_classes * n_classes + classes, margin_at),
            n_classes=n_classes,
        )

    def __len__(self) -> int:
        return self.wanted.size

    def key(self, pair: int) -> tuple[int, int]:
        return int(self.others[pair]), int(self.classes[pair])

    def table(self, bounds: np.ndarray) -> np.ndarray:
        """The kernels' table holding each pair's bound (+inf where there is no pair)."""
        table = np.full(self.n_classes * (self.n_classes + 1), np.inf, dtype=bounds.dtype)
        table[self.at] = bounds
        return table

    @cached_property
    def pair_at(self) -> np.ndarray:
        """Each place of the table's pair (-1 where there is none)."""
        pair_at = np.full(self.n_classes * (self.n_classes + 1), -1, dtype=np.int64)
        pair_at[self.at] = np.arange(len(self))
        return pair_at


@dataclass
class Kept:
    """Per pair, candidates for its largest values (room for twice as many as it wants, and a
    few more) and, in ``table``, its floor: the value a candidate must beat."""

    values: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    table: np.ndarray

    @classmethod
    def empty(cls, pairs: Pairs, floors: np.ndarray) -> Kept:
        starts = np.concatenate([[0], np.cumsum(2 * pairs.wanted + _SLACK)]).astype(np.int64)
        return cls(
            values=np.empty(int(starts[-1]), floors.dtype),
            starts=starts,
            sizes=np.zeros(len(pairs), np.int64),
            table=pairs.table(floors),
        )

    def merge(self, other: Kept, pairs: Pairs) -> Kept:
        kernels.merge_kept(
            self.values,
            self.starts,
            self.sizes,
            self.table,
            pairs.at,
            pairs.wanted,
            other.values,
            other.sizes,
        )
        return self

    def take(self, other: Kept, which: np.ndarray) -> None:
        """Replace the candidates of pairs ``which`` by ``other``'s."""
        for p in which:
            start, size = self.starts[p], other.sizes[p]
            self.values[start : start + size] = other.values[start : start + size]
        self.sizes[which] = other.sizes[which]

    def cuts(self, pairs: Pairs) -> np.ndarray:
        """Each pair's n-th largest value; minus infinity where the class has fewer rows."""
        lowest = self.values.dtype.type(-np.inf)
        return kernels.cut_values(self.values, self.starts, self.sizes, pairs.wanted, lowest)


def first_floors(
    sample: np.ndarray, sample_labels: np.ndarray, pairs: Pairs, class_rows: np.ndarray
) -> np.ndarray:
    """Starting floors from a sample of the rows (see ``estimate_floors``)."""
    return kernels.estimate_floors(
        kernels.compact(sample_labels, pairs.n_classes),
        np.ascontiguousarray(sample),
        pairs.first,
        pairs.others,
        pairs.wanted,
        class_rows.astype(np.int64),
    )


def keep_block(block: np.ndarray, given: np.ndarray, pairs: Pairs, floors: np.ndarray) -> Kept:
    """Pass 1 on one block of rows: values above ``floors`` are candidates."""
    kept = Kept.empty(pairs, floors.astype(block.dtype, copy=False))
    kernels.keep_largest(
        given,
        block,
        pairs.pair_at,
        pairs.at,
        pairs.wanted,
        kept.values,
        kept.starts,
        kept.sizes,
        kept.table,
    )
    return kept


@dataclass
class Marked:
    """Pass 2 on one block: its rows above a cut, and per pair the counts above and at it."""

    rows: np.ndarray
    above: np.ndarray
    at_cut: np.ndarray
    tie_rows: np.ndarray
    tie_pairs: np.ndarray


def mark_block(
    block: np.ndarray, given: np.ndarray, start: int, pairs: Pairs, table: np.ndarray
) -> Marked:
    """Pass 2 on the block of rows that starts at row ``start``; ``table`` holds the cuts."""
    room = _TIE_ROOM + 2 * len(pairs)  # each pair's cut is some row's value: one tie at least
    while True:
        chosen = np.zeros(block.shape[0], dtype=bool)
        above, at_cut = np.zeros(len(pairs), np.int64), np.zeros(len(pairs), np.int64)
        tie_rows, tie_pairs = np.empty(room, np.int64), np.empty(room, np.int64)
        n_ties = kernels.mark_above(
            given,
            block,
            pairs.pair_at,
            table,
            chosen,
            above,
            at_cut,
            tie_rows,
            tie_pairs,
        )
        if n_ties <= room:
            break
        room = n_ties  # many equal values: count them again with room for all
    return Marked(
        rows=np.flatnonzero(chosen) + start,
        above=above,
        at_cut=at_cut,
        tie_rows=tie_rows[:n_ties] + start,
        tie_pairs=tie_pairs[:n_ties],
    )


def _spans(n_rows: int, n_jobs: int | None) -> list[tuple[int, int]]:
    """One contiguous span of rows per thread (few rows: one span)."""
    step = max(-(-n_rows // resolve_n_jobs(n_jobs)), _MIN_SPAN_ROWS)
    return [(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]


def keep_rows(
    block: np.ndarray, given: np.ndarray, pairs: Pairs, floors: np.ndarray, n_jobs: int | None
) -> Kept:
    """Pass 1 on a block of rows, split among ``n_jobs`` threads and merged."""
    given = kernels.compact(given, block.shape[1])
    parts = ordered_map(
        lambda span: keep_block(block[slice(*span)], given[slice(*span)], pairs, floors),
        _spans(block.shape[0], n_jobs),
        n_jobs,
    )
    return _merged(parts, pairs)


def mark_rows(
    block: np.ndarray,
    given: np.ndarray,
    start: int,
    pairs: Pairs,
    table: np.ndarray,
    n_jobs: int | None,
) -> Marked:
    """Pass 2 on a block of rows that starts at row ``start``, split among ``n_jobs`` threads."""
    given = kernels.compact(given, block.shape[1])
    parts = ordered_map(
        lambda span: mark_block(
            block[slice(*span)], given[slice(*span)], start + span[0], pairs, table
        ),
        _spans(block.shape[0], n_jobs),
        n_jobs,
    )
    return Marked(
        rows=np.concatenate([part.rows for part in parts]),
        above=sum(part.above for part in parts),
        at_cut=sum(part.at_cut for part in parts),
        tie_rows=np.concatenate([part.tie_rows for part in parts]),
        tie_pairs=np.concatenate([part.tie_pairs for part in parts]),
    )


def select(
    keep: Callable[[np.ndarray], Iterable[Kept]],
    mark: Callable[[np.ndarray], Iterable[Marked]],
    pairs: Pairs,
    floors: np.ndarray,
    resolve: Callable[[dict], dict],
    n_rows: int,
) -> np.ndarray:
    """Merge the blocks' candidates, mark with the cuts, and settle the ties: the rows flagged.

    ``keep(floors)`` yields each block's pass 1 (in any order) with those starting floors;
    ``mark(table)`` yields each block's pass 2 with the cuts in a table (:meth:`Pairs.table`);
    ``resolve({(j, k): n})`` returns the rows of pairs whose cut falls among equal values.
    """
    mask = np.zeros(n_rows, dtype=bool)
    if not len(pairs):
        return mask
    merged = _merged(keep(floors), pairs)
    # A floor was too high where fewer values than wanted passed it: do those pairs again.
    missed = (merged.sizes < pairs.wanted) & ~np.isneginf(floors)
    if missed.any():
        again = np.where(missed, -np.inf, np.inf).astype(floors.dtype)
        merged.take(_merged(keep(again), pairs), np.flatnonzero(missed))
    cuts = merged.cuts(pairs)
    above, at_cut = np.zeros(len(pairs), np.int64), np.zeros(len(pairs), np.int64)
    tie_rows, tie_pairs = [], []
    for marked in mark(pairs.table(cuts)):
        mask[marked.rows] = True
        above += marked.above
        at_cut += marked.at_cut
        tie_rows.append(marked.tie_rows)
        tie_pairs.append(marked.tie_pairs)
    settled = np.isneginf(cuts) | (above + at_cut == pairs.wanted)
    ties, tied_pair = np.concatenate(tie_rows), np.concatenate(tie_pairs)
    mask[ties[settled[tied_pair]]] = True
    unsettled = {pairs.key(p): int(pairs.wanted[p]) for p in np.flatnonzero(~settled)}
    for rows in resolve(unsettled).values():
        mask[rows] = True
    return mask


def _merged(parts: Iterable[Kept], pairs: Pairs) -> Kept:
    merged = None
    for part in parts:
        merged = part if merged is None else merged.merge(part, pairs)
    return merged


def pair_values(probs: np.ndarray, j: int, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The reference's values of pair (j, k), smallest first: ``p_k`` when j == k (by class),
    else ``-(p_j - p_k)``; over ``rows`` of ``probs`` (all by default), two columns read."""
    own = probs[:, k] if rows is None else probs[rows, k]
    if j == k:
        return own.copy()
    return -((probs[:, j] if rows is None else probs[rows, j]) - own)
