"""The array core of confident learning: thresholds, the confident joint and its calibration.

Everything here takes validated inputs (integer labels 0..K-1, float32/float64 pred_probs) and
follows the reference semantics in docs/confident-learning.md exactly, including its float
arithmetic, so that results equal the reference tool's bit for bit. Row reductions run over row
blocks and merge by addition, so no (N, K) temporary is ever held.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from labelwise._parallel import ordered_map, resolve_n_jobs
from labelwise.issues import _kernels as kernels

#: A class with no examples gets this threshold: no probability can reach it.
EMPTY_CLASS_THRESHOLD = 2
#: Thresholds are clipped below at this, so that ``threshold - TOLERANCE`` stays positive.
THRESHOLD_FLOOR = 2e-6
#: Slack of every "at least" comparison with a threshold, and the given label's edge in rule 6.
TOLERANCE = 1e-6
#: Rows per block of a row reduction.
BLOCK_ROWS = 1 << 16
#: At most this many matrix entries per block, so wide matrices take fewer rows at a time.
BLOCK_ELEMENTS = 1 << 20
#: Up to this many classes the joint is a dense (K, K) array; above it, a sparse CSR array
#: holding only the pairs that occur (see ``_sparse``), so memory grows with N + K, not K^2.
DENSE_MAX_CLASSES = 2048
#: Fewest rows per block of a compiled pass: below it, splitting costs more than threads gain.
_MIN_COMPILED_ROWS = 4096
#: Pending (cell, count) pairs are merged once they outnumber this (and the merged ones twice).
_MERGE_AT = 1 << 20


@dataclass(frozen=True)
class ClassGroups:
    """Row indices of each given class, in original order."""

    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, labels: np.ndarray, n_classes: int) -> ClassGroups:
        # Small unsigned codes take numpy's radix sort: several times faster than on intp.
        order = np.argsort(labels.astype(np.min_scalar_type(n_classes)), kind="stable")
        counts = np.bincount(labels, minlength=n_classes)
        return cls(order=order, bounds=np.concatenate([[0], np.cumsum(counts)]))

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.bounds)

    def rows(self, k: int) -> np.ndarray:
        return self.order[self.bounds[k] : self.bounds[k + 1]]


def _own_probs_by_class(pred_probs: np.ndarray, groups: ClassGroups) -> np.ndarray:
    """Each row's given-label probability, rows grouped by class (original order within)."""
    n_classes = pred_probs.shape[1]
    given = np.repeat(np.arange(n_classes, dtype=np.min_scalar_type(n_classes)), groups.counts)
    if not pred_probs.flags.c_contiguous:
        return pred_probs[groups.order, given]
    flat = groups.order * n_classes  # one flat gather instead of K scattered ones
    flat += given
    return np.take(pred_probs.reshape(-1), flat)


def group_by_class(labels: np.ndarray, pred_probs: np.ndarray) -> tuple[ClassGroups, np.ndarray]:
    """Rows grouped by given class, and each row's given-label probability in that order.

    One compiled pass when the kernels are on; :meth:`ClassGroups.of` and a gather otherwise.
    """
    n_classes = pred_probs.shape[1]
    if not kernels.enabled():
        groups = ClassGroups.of(labels, n_classes)
        return groups, _own_probs_by_class(pred_probs, groups)
    counts = np.bincount(labels, minlength=n_classes)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    order, own = np.empty(labels.size, np.intp), np.empty(labels.size, pred_probs.dtype)
    kernels.scatter_own(
        kernels.compact(labels, n_classes), pred_probs, bounds[:-1].copy(), own, order
    )
    return ClassGroups(order=order, bounds=bounds), own


def thresholds_from(own_by_class: list) -> np.ndarray:
    """Thresholds from each class's given-label probabilities (in row order)."""
    means = [v.mean() if v.size else EMPTY_CLASS_THRESHOLD for v in own_by_class]
    return np.clip(np.asarray(means), THRESHOLD_FLOOR, None)


class CellCounter:
    """Counts of (given label, confident guess) cells, added block by block.

    Cells are coded ``given * (K + 1) + guess``, the last column standing for "confident of no
    class". Up to :data:`DENSE_MAX_CLASSES` classes the counts live in a dense array; above it,
    as sorted (code, count) pairs merged as they come.
    """

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes
        n_cells = n_classes * (n_classes + 1)
        self._dense = np.zeros(n_cells, np.int64) if n_classes <= DENSE_MAX_CLASSES else None
        self._codes: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._pending = 0
        self._merged = 0

    def add(self, codes: np.ndarray, counts: np.ndarray) -> None:
        """Add the counts of distinct cell codes."""
        if self._dense is not None:
            self._dense[codes] += counts
            return
        self._codes.append(np.asarray(codes, np.int64))
        self._counts.append(np.asarray(counts, np.int64))
        self._pending += len(codes)
        if self._pending > _MERGE_AT + 2 * self._merged:
            self._merge()

    def _merge(self) -> None:
        codes, where = np.unique(np.concatenate(self._codes), return_inverse=True)
        # Float weights are exact for counts below 2**53.
        counts = np.bincount(where, weights=np.concatenate(self._counts)).astype(np.int64)
        self._codes, self._counts = [codes], [counts]
        self._pending = self._merged = codes.size

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero cells as (codes, counts), codes ascending."""
        if self._dense is not None:
            seen = np.flatnonzero(self._dense)
            return seen, self._dense[seen]
        if not self._codes:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        self._merge()
        return self._codes[0], self._counts[0]

    def table(self) -> np.ndarray | sparse.csr_array:
        """The (K, K + 1) table: dense, or CSR above :data:`DENSE_MAX_CLASSES` classes."""
        k = self.n_classes
        if self._dense is not None:
            return self._dense.reshape(k, k + 1)
        codes, counts = self.pairs()
        given, guess = np.divmod(codes, k + 1)
        return sparse.csr_array((counts, (given, guess)), shape=(k, k + 1))


def raise_diagonal(joint: sparse.csr_array, present: np.ndarray | None = None) -> sparse.csr_array:
    """``joint`` with each diagonal cell raised to at least 1 (only where ``present``, if given)."""
    lift = (joint.diagonal() == 0).astype(joint.dtype)
    if present is not None:
        lift[~present] = 0
    return sparse.csr_array(joint + sparse.diags_array(lift, dtype=joint.dtype))


@dataclass(frozen=True)
class ConfidentPass:
    """What one pass over the rows learns, given the thresholds.

    Attributes
    ----------
    thresholds : ndarray (K,)
    cells : ndarray (K, K + 1) of int64, or CSR array above ``DENSE_MAX_CLASSES`` classes
        ``cells[i, j]`` counts examples given label i whose confident guess is j; the last column
        counts examples confident of no class. Its first K columns are the raw confident joint.
    off_diagonal : ndarray of intp
        Rows counted off the diagonal (confident guess != given label), ascending.
    predicted : ndarray (N,)
        The argmax class of each row.
    given_wins : ndarray (N,) of bool
        Rule 6: the row's argmax is its given label once that label gets a TOLERANCE edge.
    """

    thresholds: np.ndarray
    cells: np.ndarray
    off_diagonal: np.ndarray
    predicted: np.ndarray
    given_wins: np.ndarray

    @property
    def label_counts(self) -> np.ndarray:
        return self.cells.sum(axis=1)

    @property
    def confident_joint(self) -> np.ndarray | sparse.csr_array:
        """The confident joint C[given, guess], diagonal raised to at least 1."""
        if not isinstance(self.cells, np.ndarray):
            return raise_diagonal(self.cells[:, :-1])
        # Column-major, like the reference's (a transposed confusion matrix): whole-matrix sums
        # then add in the same order, so calibration rounds the same last bits the same way.
        joint = np.asfortranarray(self.cells[:, :-1])
        np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
        return joint


def _given_wins(block: np.ndarray, given: np.ndarray, argmax: np.ndarray) -> np.ndarray:
    """Whether ``argmax`` of the row is the given label once it gets a TOLERANCE edge.

    Equal to editing a copy of the block and taking its argmax (first maximum wins), but read
    from the row's argmax alone: with the edge, the given label wins when it beats the top
    probability, or ties it while standing before it.
    """
    rows = np.arange(len(given))
    edged = block[rows, given] + TOLERANCE  # in the block's dtype, as an in-place edit would be
    top = block[rows, argmax]
    return (argmax == given) | (edged > top) | ((edged == top) & (given < argmax))


def _count_and_locate(confident: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: how many classes are confident, and which one when exactly one is.

    One float32 BLAS product with the columns (1, index) gives both: the count and the sum of the
    confident indices, which is the index itself when the count is 1. Sums of small integers are
    exact in float32 far beyond any class count used here.
    """
    k = confident.shape[1]
    weights = np.column_stack([np.ones(k), np.arange(k)]).astype(np.float32)
    counted = confident.astype(np.float32) @ weights
    return counted[:, 0], counted[:, 1].astype(np.intp)


def _scan_block(
    labels: np.ndarray, pred_probs: np.ndarray, cut: np.ndarray, start: int, stop: int
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """One block's share of the confident pass: ((cells, counts), off-diagonal rows, argmax,
    rule-6 flags). Compiled when the kernels are on; :func:`scan_block_numpy` is the reference."""
    if not kernels.enabled():
        return scan_block_numpy(labels, pred_probs, cut, start, stop)
    k = pred_probs.shape[1]
    rows, n_cells = stop - start, k * (k + 1)
    dense = n_cells <= 4 * rows  # else count only the cells seen, as the reference does
    cells = np.zeros(n_cells if dense else 0, np.int64)
    codes = np.empty(0 if dense else rows, np.int64)
    off, wins = np.empty(rows, bool), np.empty(rows, bool)
    argmax = np.empty(rows, np.min_scalar_type(k))
    edge = pred_probs.dtype.type(TOLERANCE)  # the reference adds it in the input's dtype
    block, given = pred_probs[start:stop], labels[start:stop]
    bits = block.view(np.int32 if block.dtype == np.float32 else np.int64)
    kernels.scan_rows(given, block, bits, cut, edge, cells, codes, off, argmax, wins)
    seen = (
        (np.flatnonzero(cells), cells[cells > 0]) if dense else np.unique(codes, return_counts=True)
    )
    return seen, np.flatnonzero(off) + start, argmax, wins


def scan_block_numpy(
    labels: np.ndarray, pred_probs: np.ndarray, cut: np.ndarray, start: int, stop: int
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """The reference of :func:`_scan_block`, in numpy."""
    k = pred_probs.shape[1]
    block, given = pred_probs[start:stop], labels[start:stop]
    n_confident, only = _count_and_locate(block >= cut)
    argmax = block.argmax(axis=1)
    # Several confident classes: the row's argmax decides, even if it is not confident itself.
    guess = np.where(n_confident > 1, argmax, only)
    guess[n_confident == 0] = k
    cells = _count_cells(given.astype(np.intp) * (k + 1) + guess, k * (k + 1))
    off = np.flatnonzero((guess != given) & (guess < k)) + start
    wins = _given_wins(block, given, argmax)
    return cells, off, argmax.astype(np.min_scalar_type(k)), wins


def _count_cells(codes: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(cell, count) pairs of one block: dense when the cells are few, else only those seen.

    With many classes a dense (K, K + 1) count per block would dwarf the block itself.
    """
    if n_cells <= 4 * codes.size:
        counts = np.bincount(codes, minlength=n_cells)
        return np.flatnonzero(counts), counts[counts > 0]
    return np.unique(codes, return_counts=True)


def scan_parts(
    labels: np.ndarray, pred_probs: np.ndarray, cut: np.ndarray, n_jobs: int | None
) -> list:
    """The confident pass over blocks of rows, in ``n_jobs`` threads: each block's
    ((cells, counts), off-diagonal rows, argmax, rule-6 flags), in row order."""
    n, k = pred_probs.shape
    step = _scan_step(n, k, n_jobs)
    spans = [(s, min(s + step, n)) for s in range(0, n, step)]
    return ordered_map(lambda span: _scan_block(labels, pred_probs, cut, *span), spans, n_jobs)


def _scan_step(n: int, k: int, n_jobs: int | None) -> int:
    """Rows per block of the confident pass."""
    if kernels.enabled():
        # A compiled block holds no (rows, K) temporary: a few blocks per thread balance the
        # threads, and no more, since each block counts its cells on its own.
        return max(-(-n // (2 * resolve_n_jobs(n_jobs))), min(n, _MIN_COMPILED_ROWS))
    # Blocks also stay a small share of the input, so temporaries stay small beside it.
    return max(1, min(BLOCK_ROWS, BLOCK_ELEMENTS // k, max(n // 16, 1024)))


def round_preserving_sum(values: np.ndarray) -> np.ndarray:
    """Round floats to integers whose sum is the rounded sum of the floats.

    Entries with the largest fractional remainder go up first (smallest go down first). Ties among
    remainders are taken in the order of numpy's default argsort, as the reference does, so that
    the same inputs give the same integers.
    """
    floats = np.asarray(values, dtype=float)
    ints = floats.round()
    target = np.sum(floats).round()
    current = np.sum(ints).round()
    while abs(current - target) > TOLERANCE:
        diff = np.round(target - current)
        step = -1 if diff < 0 else 1
        n_changes = min(int(abs(diff)), len(floats))
        ranked = np.argsort(floats - ints)[::-step][:n_changes]
        for i in ranked:  # one at a time: ranked never repeats, but stay exact like the reference
            ints[i] += step
        current = np.sum(ints).round()
    return ints.astype(int)


def round_preserving_row_totals(matrix: np.ndarray) -> np.ndarray:
    """Round each row with :func:`round_preserving_sum`, all rows at once.

    Row-wise argsort and sums of a matrix equal those of each row alone, so this is the same
    rounding; rows that would need a second round of changes (never, unless a row's rounding
    is off by more than its length) take the one-row path.
    """
    floats = np.asarray(matrix, dtype=float)
    ints = floats.round()
    diff = np.round(floats.sum(axis=1).round() - ints.sum(axis=1).round())
    remainders = floats - ints
    width = floats.shape[1]
    rows = np.flatnonzero(np.abs(diff) > TOLERANCE)
    # Only rows that change are sorted; equal remainders go the way numpy's sort sends them.
    order = np.argsort(remainders[rows], axis=1)
    for row, row_order in zip(rows, order, strict=True):
        if abs(diff[row]) > width:
            ints[row] = round_preserving_sum(floats[row])
            continue
        step = -1 if diff[row] < 0 else 1
        ints[row, row_order[::-step][: int(abs(diff[row]))]] += step
    return ints.astype(int)


def calibrate_joint(confident_joint: np.ndarray, label_counts: np.ndarray) -> np.ndarray:
    """Scale C so each row sums to its label count and the whole to N, then round per row."""
    row_totals = np.clip(confident_joint.sum(axis=1), 1e-100, None)
    scaled = (confident_joint.T / row_totals * label_counts).T
    scaled = scaled / np.clip(np.sum(scaled), 1e-100, None) * sum(label_counts)
    return round_preserving_row_totals(scaled)


def prune_counts(
    calibrated_joint: np.ndarray, min_examples_per_class: int = 1, frac_noise: float = 1.0
) -> np.ndarray:
    """R[true, given]: how many examples of each given class to flag per suspected true class.

    Each column's diagonal is raised to ``min_examples_per_class``, the increase taken evenly from
    the column's other entries (clipped at 0); off-diagonals are then scaled by ``frac_noise``
    (moving the rest to the diagonal), truncated, and each row rounded preserving its total.
    """
    counts = calibrated_joint.T
    diagonal = np.diagonal(counts)
    raised = np.maximum(diagonal, min_examples_per_class)
    others = np.maximum(np.count_nonzero(counts, axis=0) - 1.0, 1.0)
    adjusted = counts - (raised - diagonal) / others
    adjusted[adjusted < 0] = 0
    np.fill_diagonal(adjusted, raised)
    scaled = adjusted * frac_noise
    np.fill_diagonal(scaled, adjusted.diagonal())
    np.fill_diagonal(scaled, adjusted.diagonal() + np.sum(adjusted - scaled, axis=0))
    return round_preserving_row_totals(scaled.astype(int))


def smallest_n(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` smallest values: the set ``np.argsort(values)[:n]``.

    Found in linear time with a partition. Only when equal values straddle the cut does it sort,
    so that the tied values chosen are exactly those numpy's default sort puts first (the
    reference tool's choice).
    """
    size = values.shape[0]
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    if n >= size:
        return np.arange(size)
    cut = np.partition(values, n - 1)[n - 1]
    at_most = values <= cut
    if np.count_nonzero(at_most) == n:
        return np.flatnonzero(at_most)
    return np.argsort(values)[:n]


#: Below this many elements, margins are built from one transposed copy rather than by column.
_SMALL_PAIR_BLOCK = 1 << 18
#: Elements of one block of class pairs (bounds the temporary of :func:`largest_margins`).
_PAIR_BLOCK = 1 << 22


def smallest_per_row(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Columns among the ``counts[r]`` smallest of some row r: the union of :func:`smallest_n`.

    All rows share one partition (at the largest count) and a sort of the few values before it,
    instead of a call each; a row falls back to :func:`smallest_n` only when equal values
    straddle its cut.
    """
    n = values.shape[1]
    chosen = np.zeros(n, dtype=bool)
    if (counts >= n).any():
        chosen[:] = True
        return chosen
    most = int(counts.max())
    head = np.sort(np.partition(values, most - 1, axis=1)[:, :most], axis=1)
    cut = head[np.arange(len(counts)), counts - 1]
    at_most = values <= cut[:, None]
    exact = np.count_nonzero(at_most, axis=1) == counts
    chosen |= at_most[exact].any(axis=0)
    for r in np.flatnonzero(~exact):  # equal values straddle the cut: take them as the sort does
        chosen[smallest_n(values[r], int(counts[r]))] = True
    return chosen


def _negated_margins(probs: np.ndarray, js: np.ndarray, k: int) -> np.ndarray:
    """``-(p_j - p_k)`` for each j in ``js``: one contiguous row per j, computed in place."""
    if probs.shape[0] * (js.size + 1) <= _SMALL_PAIR_BLOCK:
        # Small: select the columns row-wise and transpose the copy (fast, a little memory).
        columns = np.ascontiguousarray(probs[:, np.append(js, k)].T)
        margins = columns[:-1]
        margins -= columns[-1]
        return np.negative(margins, out=margins)
    margins = np.empty((js.size, probs.shape[0]), dtype=probs.dtype)
    for row, j in enumerate(js):  # column by column: no (n, K) temporary beside probs
        margins[row] = probs[:, j]
    margins -= probs[:, k]
    return np.negative(margins, out=margins)


def largest_margins(probs: np.ndarray, k: int, counts: np.ndarray) -> np.ndarray:
    """Rows (of one given class k) among the ``counts[j]`` largest ``p_j - p_k`` for some j != k.

    Margins are negated exactly as the reference does (``-(p_j - p_k)``) before taking the
    smallest, so that a tie resolved by sorting sees the very same numbers. They are laid out one
    contiguous row per class j, which partitions several times faster than columns.
    """
    counts = counts.copy()
    counts[k] = 0
    classes = np.flatnonzero(counts > 0)
    chosen = np.zeros(probs.shape[0], dtype=bool)
    step = max(1, _PAIR_BLOCK // max(probs.shape[0], 1))
    for start in range(0, classes.size, step):
        js = classes[start : start + step]
        chosen |= smallest_per_row(_negated_margins(probs, js, k), counts[js])
    return np.flatnonzero(chosen)
