"""Estimating how noisy the labels are: the joint of given and true labels, and what follows."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from labelwise._params import Interval, check_params
from labelwise.issues._counting import (
    ConfidentPass,
)
from labelwise.issues._passes import scan_source
from labelwise.issues._sparse import calibrate
from labelwise.issues._stream import row_source

__all__ = ["NoiseEstimate", "estimate_noise"]


#: Bootstrap replicates are computed in batches of about this many stored cells.
_BOOTSTRAP_BATCH_CELLS = 1 << 20

Matrix = np.ndarray | sparse.csr_array


def _normalize(matrix: Matrix, axis: int) -> Matrix:
    """Columns (axis 0) or rows (axis 1) scaled to sum to 1; all-zero ones stay zero."""
    if isinstance(matrix, np.ndarray):
        totals = matrix.sum(axis=axis, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, matrix / np.where(totals > 0, totals, 1), 0.0)
    totals = matrix.sum(axis=axis)
    scale = sparse.diags_array(np.divide(1.0, totals, out=np.zeros(totals.size), where=totals > 0))
    return sparse.csr_array(matrix @ scale if axis == 0 else scale @ matrix)


def _trace(matrix: Matrix) -> float:
    return float(np.trace(matrix)) if isinstance(matrix, np.ndarray) else matrix.trace()


def _matrix_json(matrix: Matrix) -> list | dict:
    """A dense matrix as nested lists; a sparse one as its non-zero cells."""
    if isinstance(matrix, np.ndarray):
        return matrix.tolist()
    cells = sparse.coo_array(matrix)
    return {
        "shape": list(matrix.shape),
        "given": cells.row.tolist(),
        "true": cells.col.tolist(),
        "value": cells.data.tolist(),
    }


@dataclass(frozen=True, eq=False)
class NoiseEstimate:
    """How noisy the labels are, estimated with confident learning.

    Matrices are indexed ``[given, true]`` unless said otherwise, rows and columns in ``classes``
    order. Up to 2,048 classes they are dense arrays; with more, scipy CSR arrays holding only
    the pairs that occur (at most N + K of the K^2), so memory grows with the data, not with the
    square of the class count.

    Attributes
    ----------
    classes : ndarray (K,)
    n_examples : int
    thresholds : ndarray (K,)
        Per-class confidence thresholds (mean p_k over examples labelled k).
    confident_joint : ndarray (K, K) of int
        Examples counted per (given label, confident true-label guess), diagonal at least 1.
    calibrated_joint : ndarray (K, K) of int
        ``confident_joint`` rescaled so row k sums to the count of label k and the total is N.
    joint : ndarray (K, K)
        ``calibrated_joint / N``: the estimated joint distribution Q[given, true].
    noise_matrix : ndarray (K, K)
        P(given = i | true = j), indexed ``[given, true]``; columns sum to 1.
    inverse_noise_matrix : ndarray (K, K)
        P(true = j | given = i), indexed ``[given, true]``; rows sum to 1.
    prior : ndarray (K,)
        Estimated distribution of true labels (column sums of ``joint``).
    given_prior : ndarray (K,)
        Observed distribution of given labels.
    noise_rate : float
        Estimated share of wrong labels, ``1 - trace(joint)``.
    noise_rate_interval : (float, float)
        A bootstrap percentile interval for ``noise_rate`` (see :func:`estimate_noise`).
    confidence : float
        The coverage of ``noise_rate_interval``.
    """

    classes: np.ndarray
    n_examples: int
    thresholds: np.ndarray
    confident_joint: Matrix
    calibrated_joint: Matrix
    joint: Matrix
    noise_matrix: Matrix
    inverse_noise_matrix: Matrix
    prior: np.ndarray
    given_prior: np.ndarray
    noise_rate: float
    noise_rate_interval: tuple[float, float]
    confidence: float

    @property
    def expected_issues(self) -> int:
        """The estimated number of wrong labels, ``round(N * noise_rate)``."""
        return int(np.rint(self.n_examples * self.noise_rate))

    def __repr__(self) -> str:
        lo, hi = self.noise_rate_interval
        return (
            f"NoiseEstimate(noise_rate={self.noise_rate:.4f} [{lo:.4f}, {hi:.4f}] at "
            f"{self.confidence:.0%}, expected_issues={self.expected_issues}, "
            f"n_examples={self.n_examples}, n_classes={self.classes.size})"
        )

    def class_quality(self) -> pd.DataFrame:
        """One row per class: its counts, priors and how trustworthy its labels are.

        ``label_quality`` is P(true = k | given = k), the share of examples labelled k whose
        label is right; ``recall`` is P(given = k | true = k), the share of truly-k examples that
        carry label k.
        """
        counts = self.calibrated_joint.sum(axis=1)
        return pd.DataFrame(
            {
                "class": self.classes,
                "n_given": counts,
                "given_share": self.given_prior,
                "estimated_true_share": self.prior,
                "label_quality": self.inverse_noise_matrix.diagonal(),
                "recall": self.noise_matrix.diagonal(),
                "expected_wrong": counts - self.calibrated_joint.diagonal(),
            }
        )

    def confused_pairs(self, top: int | None = 10) -> pd.DataFrame:
        """The (given, true) pairs holding the most estimated label errors, largest first.

        Only pairs with a positive count are listed, so the table grows with the errors found,
        never with the square of the class count.
        """
        cells = sparse.coo_array(self.calibrated_joint)
        off = (cells.row != cells.col) & (cells.data > 0)
        given, true = cells.row[off], cells.col[off]
        frame = pd.DataFrame(
            {
                "given": self.classes[given],
                "true": self.classes[true],
                "count": cells.data[off],
                "joint": self.joint[given, true],
                "share_of_given": self.inverse_noise_matrix[given, true],
            }
        )
        frame = frame.sort_values(
            ["count", "given", "true"], ascending=[False, True, True], kind="stable"
        )
        return frame.head(top).reset_index(drop=True) if top else frame.reset_index(drop=True)

    def to_dict(self) -> dict:
        """A JSON-ready summary (plain lists and numbers)."""

        def names(values: np.ndarray) -> list:
            return [v.item() if hasattr(v, "item") else v for v in values]

        lo, hi = self.noise_rate_interval
        return {
            "classes": names(self.classes),
            "n_examples": self.n_examples,
            "noise_rate": self.noise_rate,
            "noise_rate_interval": [lo, hi],
            "confidence": self.confidence,
            "expected_issues": self.expected_issues,
            "matrices_indexed": "[given][true]"
            + ("" if isinstance(self.joint, np.ndarray) else ", as the non-zero cells"),
            "thresholds": self.thresholds.astype(float).tolist(),
            "prior": self.prior.tolist(),
            "given_prior": self.given_prior.tolist(),
            "confident_joint": _matrix_json(self.confident_joint),
            "calibrated_joint": _matrix_json(self.calibrated_joint),
            "joint": _matrix_json(self.joint),
            "noise_matrix": _matrix_json(self.noise_matrix),
            "inverse_noise_matrix": _matrix_json(self.inverse_noise_matrix),
            "class_quality": _records(self.class_quality()),
            "confused_pairs": _records(self.confused_pairs(top=None)),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {key: (val.item() if hasattr(val, "item") else val) for key, val in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@dataclass(frozen=True)
class _CellLayout:
    """Where the stored (given, guess) cells of the bootstrap go in the confident joint.

    The joint's entries are the stored cells with a class guess, then every diagonal cell not
    among them (it is raised to 1 in each replicate). ``rows_of_*`` are indicator matrices that
    sum entries per given class.
    """

    joint_cells: np.ndarray
    n_extra: int
    entry_rows: np.ndarray
    diagonal: np.ndarray
    rows_of_cells: sparse.csr_array
    rows_of_entries: sparse.csr_array

    @classmethod
    def of(cls, given: np.ndarray, guess: np.ndarray, k: int) -> _CellLayout:
        joint_cells = np.flatnonzero(guess < k)
        stored_diagonal = joint_cells[given[joint_cells] == guess[joint_cells]]
        missing = np.setdiff1d(np.arange(k), given[stored_diagonal])
        entry_rows = np.concatenate([given[joint_cells], missing])
        diagonal = np.empty(k, dtype=np.intp)
        diagonal[given[stored_diagonal]] = np.flatnonzero(given[joint_cells] == guess[joint_cells])
        diagonal[missing] = joint_cells.size + np.arange(missing.size)
        return cls(
            joint_cells=joint_cells,
            n_extra=missing.size,
            entry_rows=entry_rows,
            diagonal=diagonal,
            rows_of_cells=_indicator(given, k),
            rows_of_entries=_indicator(entry_rows, k),
        )


def _indicator(rows: np.ndarray, k: int) -> sparse.csr_array:
    """(len(rows), K) matrix with a 1 at (i, rows[i]): ``values @ it`` sums values per row."""
    ones = np.ones(rows.size)
    return sparse.csr_array((ones, (np.arange(rows.size), rows)), shape=(rows.size, k))


def _noise_rates(draws: np.ndarray, layout: _CellLayout) -> np.ndarray:
    """1 - trace(Q) of each replicate's calibrated joint, from its stored-cell counts.

    The calibration of :func:`labelwise.issues._counting.calibrate_joint`, on stored cells only:
    each row is scaled to its label count and rounded keeping its rounded total, which moves
    the row's diagonal cell by one exactly when its remainder ranks among the |d| largest (or
    smallest) of its row, d being the row's rounding shortfall. Ties rank in cell order.
    """
    b = draws.shape[0]
    label_counts = (layout.rows_of_cells.T @ draws.T).T
    entries = np.concatenate(
        [draws[:, layout.joint_cells], np.zeros((b, layout.n_extra))], axis=1
    ).astype(float)
    entries[:, layout.diagonal] = np.maximum(entries[:, layout.diagonal], 1)
    rows = layout.entry_rows
    row_totals = np.clip((layout.rows_of_entries.T @ entries.T).T, 1e-100, None)
    scaled = entries / row_totals[:, rows] * label_counts[:, rows]
    scaled *= label_counts.sum(axis=1, keepdims=True) / np.clip(
        scaled.sum(axis=1, keepdims=True), 1e-100, None
    )
    ints = scaled.round()
    remainders = scaled - ints
    totals = np.round((layout.rows_of_entries.T @ scaled.T).T)
    shortfall = np.round(totals - np.round((layout.rows_of_entries.T @ ints.T).T))
    own = remainders[:, layout.diagonal][:, rows]
    position = np.arange(rows.size)
    first = position < layout.diagonal[rows]
    up = (remainders > own) | ((remainders == own) & first)
    down = (remainders < own) | ((remainders == own) & first)
    ahead_up = (layout.rows_of_entries.T @ up.T.astype(float)).T
    ahead_down = (layout.rows_of_entries.T @ down.T.astype(float)).T
    ahead = np.where(shortfall > 0, ahead_up, ahead_down)
    moved = np.sign(shortfall) * (ahead < np.abs(shortfall))
    trace = (ints[:, layout.diagonal] + moved).sum(axis=1)
    return 1.0 - trace / np.clip(totals.sum(axis=1), 1e-100, None)


def _bootstrap_interval(
    cells: Matrix, n_boot: int, confidence: float, seed: Any
) -> tuple[float, float]:
    """Percentile interval of the noise rate over resampled examples.

    Resampling N examples with replacement, with the thresholds held fixed, draws the
    (given label, confident guess) cell counts from a multinomial with the observed shares.
    Cells never seen stay empty in every replicate, so only the stored cells are drawn: the
    bootstrap costs O(n_boot * cells seen), whatever N and however many classes.
    """
    if n_boot == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    stored = sparse.coo_array(cells)
    k = cells.shape[0]
    layout = _CellLayout.of(stored.row, stored.col, k)
    counts = stored.data.astype(np.int64)
    n = int(counts.sum())
    batch = max(1, _BOOTSTRAP_BATCH_CELLS // max(counts.size + k, 1))
    rates = [
        _noise_rates(rng.multinomial(n, counts / n, size=min(batch, n_boot - done)), layout)
        for done in range(0, n_boot, batch)
    ]
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(np.concatenate(rates), [tail, 100 - tail])
    return (float(lo), float(hi))


def noise_from_scan(
    scan: ConfidentPass,
    classes: np.ndarray,
    n_boot: int,
    confidence: float,
    seed: Any,
) -> NoiseEstimate:
    """:func:`estimate_noise` from a finished confident pass."""
    counts = scan.label_counts
    n = int(counts.sum())
    confident_joint = scan.confident_joint
    calibrated = calibrate(confident_joint, counts)
    joint = calibrated / np.clip(float(calibrated.sum()), 1e-100, None)
    return NoiseEstimate(
        classes=classes,
        n_examples=n,
        thresholds=scan.thresholds,
        confident_joint=confident_joint,
        calibrated_joint=calibrated,
        joint=joint,
        noise_matrix=_normalize(joint, axis=0),
        inverse_noise_matrix=_normalize(joint, axis=1),
        prior=np.asarray(joint.sum(axis=0)),
        given_prior=counts / n,
        noise_rate=1.0 - _trace(joint),
        noise_rate_interval=_bootstrap_interval(scan.cells, n_boot, confidence, seed),
        confidence=confidence,
    )


def estimate_noise(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Any = None,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    random_state: Any = 0,
    n_jobs: int | None = None,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
) -> NoiseEstimate:
    """Estimate the joint distribution of given and true labels, and the noise it implies.

    Parameters
    ----------
    labels : array-like of shape (n_examples,)
        The given labels (any hashable class names; see ``classes``).
    pred_probs : array-like of shape (n_examples, n_classes)
        Out-of-sample predicted probabilities.
    classes : sequence, optional
        The class of each ``pred_probs`` column (see :func:`find_label_issues`).
    n_bootstrap : int, default 500
        Bootstrap replicates for ``noise_rate_interval`` (0 to skip). Examples are resampled with
        the per-class thresholds held fixed, which makes each replicate a multinomial draw of the
        confident-joint cells, so the interval costs the same for any N.
    confidence : float, default 0.95
        Coverage of the percentile interval.
    random_state : int or numpy Generator, default 0
        Seed of the bootstrap.
    n_jobs : int, optional
        Threads to use (default: every core). Results do not depend on it.
    chunk_rows, memory_limit : optional
        Read ``pred_probs`` in chunks (out of core), as in :func:`find_label_issues`; the
        estimate is identical.

    Returns
    -------
    NoiseEstimate
        ``joint`` equals the reference tool's ``count.estimate_joint``; ``noise_matrix`` and
        ``inverse_noise_matrix`` are its column- and row-normalized forms.

    Examples
    --------
    >>> import numpy as np, labelwise as lw
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9], [.3, .7], [.2, .8]])
    >>> noise = lw.estimate_noise(labels, pred_probs, n_bootstrap=0)
    >>> noise.calibrated_joint
    array([[2, 1],
           [0, 3]])
    >>> round(noise.noise_rate, 3)
    0.167
    """
    check_bootstrap(n_bootstrap, confidence)
    source = row_source(pred_probs, labels, chunk_rows, memory_limit, n_jobs=n_jobs)
    scanned = scan_source(labels, source, classes)
    classes = scanned.checked.classes
    return noise_from_scan(scanned.scan, classes, n_bootstrap, confidence, random_state)


#: The bootstrap options of :func:`estimate_noise` (and of the audits built on it).
BOOTSTRAP_CONSTRAINTS = {
    "n_bootstrap": [Interval(Integral, 0, None)],
    "confidence": [Interval(Real, 0, 1, closed="neither")],
}


def check_bootstrap(n_bootstrap: Any, confidence: Any) -> None:
    """Raise :class:`~labelwise.errors.ConfigError` unless the bootstrap options are usable."""
    check_params(BOOTSTRAP_CONSTRAINTS, {"n_bootstrap": n_bootstrap, "confidence": confidence})
