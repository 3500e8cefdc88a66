"""Distribution-shift statistics computed from histogram counts.

Every function here takes counts over fixed bins (never raw rows), so the same numbers come out
whether the counts were gathered in memory, chunk by chunk from Parquet, or on a Dask cluster.
Counts may be fractional: the null-distribution resampler passes bootstrap weights.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

__all__ = [
    "SMOOTHING",
    "smoothed_shares",
    "psi",
    "psi_null_mean",
    "g_test_pvalue",
    "binned_ks",
    "binned_wasserstein",
    "binary_entropy",
    "bh_reject",
    "expected_auc",
    "quantile_or_nan",
    "upper_quantile_bound",
]

#: Pseudo-count added to every bin before shares are taken, so an empty bin gives a finite PSI.
SMOOTHING = 0.5


def smoothed_shares(counts: np.ndarray, smoothing: float = SMOOTHING) -> np.ndarray:
    """Bin shares with ``smoothing`` added to every count (bins on the last axis).

    >>> smoothed_shares(np.array([0.0, 2.0]), smoothing=0.5).round(3).tolist()
    [0.167, 0.833]
    """
    padded = np.asarray(counts, dtype=float) + smoothing
    return padded / padded.sum(axis=-1, keepdims=True)


def _scalar(value: np.ndarray) -> float | np.ndarray:
    """A float for one histogram, the array for a stack of them (one per resampled draw)."""
    return float(value) if np.ndim(value) == 0 else value


def psi(
    reference: np.ndarray, current: np.ndarray, smoothing: float = SMOOTHING
) -> tuple[float, np.ndarray]:
    """Population stability index between two histograms over the same bins.

    PSI = sum_b (c_b - r_b) ln(c_b / r_b) on smoothed shares. Returns the total and the per-bin
    contributions (each is non-negative). Stacks of histograms (bins on the last axis) give one
    total per histogram.

    >>> value, parts = psi(np.array([50, 50]), np.array([50, 50]))
    >>> value
    0.0
    >>> round(psi(np.array([80, 20]), np.array([20, 80]))[0], 3)
    1.625
    """
    r = smoothed_shares(reference, smoothing)
    c = smoothed_shares(current, smoothing)
    parts = (c - r) * np.log(c / r)
    return _scalar(parts.sum(axis=-1)), parts


def psi_null_mean(n_bins: int, n_reference: float, n_current: float) -> float:
    """Expected PSI between two samples of one distribution: about (B - 1)(1/n + 1/m).

    PSI is the symmetric (Jeffreys) divergence, which for large samples is a chi-square statistic
    with B - 1 degrees of freedom scaled by (1/n + 1/m). Subtracting it removes the part of PSI
    that only reflects how few rows were compared.

    >>> round(psi_null_mean(10, 10_000, 500), 4)
    0.0189
    """
    if n_bins < 2 or n_reference <= 0 or n_current <= 0:
        return 0.0
    return (n_bins - 1) * (1.0 / n_reference + 1.0 / n_current)


def g_test_pvalue(reference: np.ndarray, current: np.ndarray) -> float:
    """p-value of the G-test (log-likelihood ratio) that both histograms share one distribution.

    Bins empty in both are dropped. Returns 1.0 when fewer than two bins are left.

    >>> g_test_pvalue(np.array([50, 50]), np.array([50, 50]))
    1.0
    >>> g_test_pvalue(np.array([900, 100]), np.array([100, 900])) < 1e-10
    True
    """
    table = np.vstack([np.asarray(reference, float), np.asarray(current, float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) <= 0).any():
        return 1.0
    result = sps.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    return float(min(1.0, max(0.0, result.pvalue)))


def _cdf(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    return np.cumsum(counts, axis=-1) / safe


def binned_ks(reference: np.ndarray, current: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the CDFs of two histograms at the bin edges.

    On a fine grid of reference-quantile bins (1000 by default) it is a lower bound of the exact
    statistic that misses at most the mass the two samples place inside one bin. Stacks of
    histograms (bins on the last axis) give one distance per pair.

    >>> binned_ks(np.array([5, 5, 0]), np.array([0, 5, 5]))
    0.5
    """
    gap = np.abs(_cdf(reference) - _cdf(current))
    return _scalar(np.max(gap, axis=-1, initial=0.0))


def binned_wasserstein(
    reference: np.ndarray,
    current: np.ndarray,
    edges: np.ndarray,
    below: tuple[float, float] = (0.0, 0.0),
    above: tuple[float, float] = (0.0, 0.0),
) -> float:
    """Wasserstein-1 distance from histograms over ``[edges[0], edges[-1]]`` plus two tails.

    ``reference`` and ``current`` hold len(edges) + 1 counts: values below ``edges[0]``, one
    count per interval, values above ``edges[-1]``. ``below`` and ``above`` give, for reference
    and current in turn, the sum of distances of the out-of-range values to the nearest edge,
    which makes the tails exact. Inside the range the CDF difference is taken constant on each
    interval at its right edge, so the error is at most one interval width times the mass moved
    inside it. Stacks of histograms (bins on the last axis, tail sums as arrays) give one
    distance per pair; a pair with an empty side gives 0.

    >>> edges = np.array([0.0, 0.5, 1.0])
    >>> round(binned_wasserstein(np.array([0, 10, 0, 0]), np.array([0, 0, 10, 0]), edges), 3)
    0.5
    """
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    nr, nc = r.sum(axis=-1), c.sum(axis=-1)
    empty = (nr <= 0) | (nc <= 0)
    nr, nc = np.where(empty, 1.0, nr), np.where(empty, 1.0, nc)
    # CDF at each inner edge (right-closed intervals): everything up to and including interval k.
    fr = np.cumsum(r[..., :-1], axis=-1)[..., 1:] / nr[..., None]
    fc = np.cumsum(c[..., :-1], axis=-1)[..., 1:] / nc[..., None]
    inner = np.sum(np.abs(fr - fc) * np.diff(edges), axis=-1)
    tails = np.abs(below[0] / nr - below[1] / nc) + np.abs(above[0] / nr - above[1] / nc)
    return _scalar(np.where(empty, 0.0, inner + tails))


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """Entropy (nats) of a Bernoulli(p) prediction, 0 at p in {0, 1} and ln 2 at 0.5.

    >>> binary_entropy(np.array([0.0, 0.5, 1.0])).round(4).tolist()
    [0.0, 0.6931, 0.0]
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def bh_reject(pvalues: np.ndarray, fdr: float) -> np.ndarray:
    """Benjamini-Hochberg decisions controlling the false-discovery rate at ``fdr``.

    >>> bh_reject(np.array([0.001, 0.02, 0.5]), 0.05).tolist()
    [True, True, False]
    """
    pvalues = np.asarray(pvalues, dtype=float)
    if pvalues.size == 0:
        return np.zeros(0, dtype=bool)
    return sps.false_discovery_control(pvalues, method="bh") <= fdr


def expected_auc(counts: np.ndarray, positives: np.ndarray) -> float:
    """ROC AUC expected from per-bin row counts and expected positives (sums of probabilities).

    Bins are ordered by increasing score; rows sharing a bin count as ties (half credit).
    With counts of 0/1 labels instead of probabilities it is the ordinary binned AUC. Stacks
    (bins on the last axis) give one AUC per row; NaN where a side has no positives or negatives.

    >>> expected_auc(np.array([10.0, 10.0]), np.array([0.0, 10.0]))
    1.0
    >>> expected_auc(np.array([10.0, 10.0]), np.array([5.0, 5.0]))
    0.5
    """
    pos = np.asarray(positives, dtype=float)
    neg = np.asarray(counts, dtype=float) - pos
    total_pos, total_neg = pos.sum(axis=-1), neg.sum(axis=-1)
    neg_below = np.cumsum(neg, axis=-1) - neg
    wins = np.sum(pos * neg_below, axis=-1) + 0.5 * np.sum(pos * neg, axis=-1)
    pairs = total_pos * total_neg
    valid = (total_pos > 0) & (total_neg > 0)
    return _scalar(np.where(valid, wins / np.where(valid, pairs, 1.0), np.nan))


def quantile_or_nan(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile of the finite values, NaN when there are none.

    >>> quantile_or_nan(np.array([1.0, np.nan, 3.0]), 0.5)
    2.0
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.quantile(values, q)) if values.size else float("nan")


def upper_quantile_bound(values: np.ndarray, q: float, confidence: float = 0.9) -> float:
    """An order statistic that lies above the ``q`` quantile with probability ``confidence``.

    The k-th smallest of n draws sits at a quantile distributed as Beta(k, n - k + 1); the
    smallest k whose Beta tail beyond ``q`` reaches ``confidence`` is taken (the largest draw
    when none does). A plain empirical quantile of a few hundred draws undershoots the true one
    half of the time, which would push the false-alarm rate above ``1 - q``. NaN without finite
    values.

    >>> draws = np.arange(1.0, 201.0)  # 200 null draws
    >>> upper_quantile_bound(draws, 0.95), round(float(np.quantile(draws, 0.95)), 2)
    (195.0, 190.05)
    """
    values = np.sort(np.asarray(values, dtype=float))
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return float("nan")
    k = np.arange(1, n + 1)
    covered = sps.beta.sf(q, k, n - k + 1) >= confidence
    return float(values[np.argmax(covered)] if covered.any() else values[-1])
