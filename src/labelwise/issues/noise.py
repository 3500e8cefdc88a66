"""Estimating how noisy the labels are: the joint of given and true labels, and what follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelwise._validate import check_inputs
from labelwise.errors import ConfigError
from labelwise.issues._counting import (
    ClassGroups,
    ConfidentPass,
    calibrate_joint,
    confident_pass,
    confident_thresholds,
)
from labelwise.issues._stream import chunked_source, streamed_scan_inputs

__all__ = ["NoiseEstimate", "estimate_noise"]


def _normalize(matrix: np.ndarray, axis: int) -> np.ndarray:
    totals = matrix.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, matrix / np.where(totals > 0, totals, 1), 0.0)


@dataclass(frozen=True, eq=False)
class NoiseEstimate:
    """How noisy the labels are, estimated with confident learning.

    Matrices are indexed ``[given, true]`` unless said otherwise, rows and columns in ``classes``
    order.

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
    confident_joint: np.ndarray
    calibrated_joint: np.ndarray
    joint: np.ndarray
    noise_matrix: np.ndarray
    inverse_noise_matrix: np.ndarray
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
                "label_quality": np.diagonal(self.inverse_noise_matrix),
                "recall": np.diagonal(self.noise_matrix),
                "expected_wrong": counts - np.diagonal(self.calibrated_joint),
            }
        )

    def confused_pairs(self, top: int | None = 10) -> pd.DataFrame:
        """The (given, true) pairs holding the most estimated label errors, largest first."""
        k = self.classes.size
        given, true = np.nonzero(~np.eye(k, dtype=bool))
        frame = pd.DataFrame(
            {
                "given": self.classes[given],
                "true": self.classes[true],
                "count": self.calibrated_joint[given, true],
                "joint": self.joint[given, true],
                "share_of_given": self.inverse_noise_matrix[given, true],
            }
        )
        frame = frame[frame["count"] > 0].sort_values(
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
            "matrices_indexed": "[given][true]",
            "thresholds": self.thresholds.astype(float).tolist(),
            "prior": self.prior.tolist(),
            "given_prior": self.given_prior.tolist(),
            "confident_joint": self.confident_joint.tolist(),
            "calibrated_joint": self.calibrated_joint.tolist(),
            "joint": self.joint.tolist(),
            "noise_matrix": self.noise_matrix.tolist(),
            "inverse_noise_matrix": self.inverse_noise_matrix.tolist(),
            "class_quality": _records(self.class_quality()),
            "confused_pairs": _records(self.confused_pairs(top=None)),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {key: (val.item() if hasattr(val, "item") else val) for key, val in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _noise_rate(cells: np.ndarray) -> float:
    """1 - trace(Q) for (given, guess-or-none) cell counts."""
    joint = cells[:, :-1].copy()
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    calibrated = calibrate_joint(joint, cells.sum(axis=1))
    return float(1.0 - np.trace(calibrated) / calibrated.sum())


def _bootstrap_interval(
    cells: np.ndarray, n_boot: int, confidence: float, seed: Any
) -> tuple[float, float]:
    """Percentile interval of the noise rate over resampled examples.

    Resampling N examples with replacement, with the thresholds held fixed, draws the
    (given label, confident guess) cell counts from a multinomial with the observed shares; so
    the bootstrap costs O(n_boot * K^2), whatever N.
    """
    if n_boot == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    n = int(cells.sum())
    draws = rng.multinomial(n, (cells / n).ravel(), size=n_boot).reshape(n_boot, *cells.shape)
    rates = np.array([_noise_rate(draw) for draw in draws])
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(rates, [tail, 100 - tail])
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
    calibrated = calibrate_joint(confident_joint, counts)
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
        prior=joint.sum(axis=0),
        given_prior=counts / n,
        noise_rate=float(1.0 - np.trace(joint)),
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
    chunked = chunked_source(pred_probs, labels, chunk_rows, memory_limit)
    if chunked is not None:
        checked, scan, _ = streamed_scan_inputs(labels, chunked, classes, [])
        return noise_from_scan(scan, checked.classes, n_bootstrap, confidence, random_state)
    checked = check_inputs(labels, pred_probs, classes)
    groups = ClassGroups.of(checked.labels, checked.n_classes)
    thresholds = confident_thresholds(checked.pred_probs, groups)
    scan = confident_pass(checked.labels, checked.pred_probs, thresholds, n_jobs)
    return noise_from_scan(scan, checked.classes, n_bootstrap, confidence, random_state)


def check_bootstrap(n_bootstrap: Any, confidence: Any) -> None:
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ConfigError(f"n_bootstrap must be a whole number >= 0, got {n_bootstrap!r}.")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")
