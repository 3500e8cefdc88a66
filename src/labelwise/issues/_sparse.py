"""The confident joint with many classes: only the (given, guess) pairs that occur are stored.

With K classes the dense joint holds K^2 cells, but at most N + K of them are ever non-zero (one
cell per example, plus the diagonal). Above :data:`DENSE_MAX_CLASSES` classes, the cell counts,
the calibrated joint and the pruning counts are scipy CSR arrays, and every step below works on
their stored entries alone, with the dense path's formulas. Zero cells stay zero through each
step (scaling keeps them zero, rounding moves only entries with a remainder), and equal rounding
remainders are broken as the dense sort breaks them. The results equal the dense ones, except
where a scaled count sits on a rounding edge give or take float error: the sum over K^2 cells
and the one over the stored cells may differ in the last bit, and such a cell may round the
other way (each row still keeps its total).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from labelwise.issues._counting import (
    TOLERANCE,
    calibrate_joint,
    prune_counts,
    round_preserving_sum,
)

__all__ = ["calibrate", "column", "prune"]


def column(matrix: np.ndarray | sparse.sparray, k: int) -> np.ndarray:
    """Column ``k`` of a dense or sparse matrix, as a dense vector."""
    if isinstance(matrix, np.ndarray):
        return matrix[:, k]
    return matrix[:, [k]].toarray().ravel()


def _row_of_entry(matrix: sparse.csr_array) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _round_rows(values: np.ndarray, rows: np.ndarray, matrix: sparse.csr_array) -> np.ndarray:
    """Round each row's entries (CSR order) to integers that keep the row's rounded total.

    As in the dense rounding: when a row's rounded entries miss its rounded total by d, the |d|
    entries with the largest remainder go up (d > 0), or those with the smallest go down.
    """
    indptr = matrix.indptr
    k = indptr.size - 1
    ints = values.round()
    totals = np.bincount(rows, weights=values, minlength=k).round()
    diff = np.round(totals - np.bincount(rows, weights=ints, minlength=k).round())
    for row in np.flatnonzero(np.abs(diff) > TOLERANCE):
        start, stop = indptr[row], indptr[row + 1]
        if abs(diff[row]) > stop - start:
            ints[start:stop] = round_preserving_sum(values[start:stop])
            continue
        step, moved = (-1 if diff[row] < 0 else 1), int(abs(diff[row]))
        picked = _moved_entries(values[start:stop], matrix.indices[start:stop], step, moved, matrix)
        ints[start + picked] += step
    return ints.astype(np.int64)


def _moved_entries(
    values: np.ndarray, columns: np.ndarray, step: int, moved: int, matrix: sparse.csr_array
) -> np.ndarray:
    """The ``moved`` entries of one row whose remainder is largest (step 1) or smallest (-1).

    Equal remainders straddling the cut are broken as the dense rounding breaks them: numpy's
    sort is not stable, so its choice among equals depends on the whole dense row, zeros
    included; only then is that row built (one row of K numbers, not K^2).
    """
    remainders = values - values.round()
    order = np.argsort(remainders)[::-step]
    if moved >= order.size or remainders[order[moved - 1]] != remainders[order[moved]]:
        return order[:moved]
    dense = np.zeros(matrix.shape[1])
    dense[columns] = values
    chosen = np.argsort(dense - dense.round())[::-step][:moved]
    return np.searchsorted(columns, chosen)


def calibrate_sparse(joint: sparse.csr_array, label_counts: np.ndarray) -> sparse.csr_array:
    """:func:`~labelwise.issues._counting.calibrate_joint` on the stored cells of a CSR joint."""
    scaled = sparse.csr_array(joint, dtype=float, copy=True)
    scaled.sort_indices()
    rows = _row_of_entry(scaled)
    row_totals = np.clip(scaled.sum(axis=1), 1e-100, None)
    scaled.data = scaled.data / row_totals[rows] * label_counts[rows]
    scaled.data = scaled.data / np.clip(scaled.data.sum(), 1e-100, None) * label_counts.sum()
    rounded = _round_rows(scaled.data, rows, scaled)
    calibrated = sparse.csr_array((rounded, scaled.indices, scaled.indptr), shape=scaled.shape)
    calibrated.eliminate_zeros()
    return calibrated


def prune_sparse(
    calibrated: sparse.csr_array, min_examples_per_class: int, frac_noise: float
) -> sparse.csr_array:
    """:func:`~labelwise.issues._counting.prune_counts` on the stored cells: R[true, given]."""
    k = calibrated.shape[0]
    stored = sparse.coo_array(calibrated)
    given, true, counts = stored.row, stored.col, stored.data.astype(float)
    diag = calibrated.diagonal().astype(float)
    raised = np.maximum(diag, min_examples_per_class)
    others = np.maximum(np.bincount(given[counts != 0], minlength=k) - 1.0, 1.0)
    off = given != true
    given, true = given[off], true[off]
    adjusted = np.maximum(counts[off] - ((raised - diag) / others)[given], 0)
    scaled = adjusted * frac_noise
    kept = raised + np.bincount(given, weights=adjusted - scaled, minlength=k)
    every = np.arange(k)
    values = np.concatenate([scaled, kept]).astype(np.int64)  # truncated, as the dense path
    prune = sparse.csr_array(
        (values, (np.concatenate([true, every]), np.concatenate([given, every]))), shape=(k, k)
    )
    prune.eliminate_zeros()
    return prune


def calibrate(
    joint: np.ndarray | sparse.csr_array, label_counts: np.ndarray
) -> np.ndarray | sparse.csr_array:
    """The calibrated joint, dense or sparse like ``joint``."""
    if isinstance(joint, np.ndarray):
        return calibrate_joint(joint, label_counts)
    return calibrate_sparse(joint, label_counts)


def prune(
    calibrated: np.ndarray | sparse.csr_array, min_examples_per_class: int, frac_noise: float
) -> np.ndarray | sparse.csr_array:
    """The pruning counts R[true, given], dense or sparse like ``calibrated``."""
    if isinstance(calibrated, np.ndarray):
        return prune_counts(calibrated, min_examples_per_class, frac_noise)
    return prune_sparse(calibrated, min_examples_per_class, frac_noise)


def rescale_sparse(
    prune: sparse.csr_array, label_counts: np.ndarray, target: np.ndarray
) -> sparse.csr_array:
    """The ``num_to_remove_per_class`` rescaling of R on its stored cells (see ``filter``)."""
    k = prune.shape[0]
    stored = sparse.coo_array(prune)
    rows, cols = stored.row, stored.col
    share = stored.data / np.asarray(prune.sum(axis=1), float)[cols]
    off = rows != cols
    noise = np.bincount(rows[off], weights=share[off], minlength=k)
    every = np.arange(k)
    moved = share[off] * target[rows[off]] / noise[rows[off]]
    values = np.concatenate([moved, label_counts - target])
    scaled = sparse.csr_array(
        (values, (np.concatenate([rows[off], every]), np.concatenate([cols[off], every]))),
        shape=(k, k),
    )
    scaled.sort_indices()
    rounded = _round_rows(scaled.data, _row_of_entry(scaled), scaled)
    result = sparse.csr_array((rounded, scaled.indices, scaled.indptr), shape=(k, k))
    result.eliminate_zeros()
    return result
