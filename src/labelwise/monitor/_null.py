"""The null distribution: resampled reference windows, and the thresholds and bands drawn from them.

A monitor judges a window against what windows of the same size drawn from the reference look
like. Each of ``n_null`` draws pairs a resampled reference with a resampled window, both drawn
from the stored reference sample as row multiplicities (:func:`row_weights`), so the cost does
not grow with the window's size; every statistic is computed on each pair at once
(:func:`~labelwise.monitor._counts.tally_many`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy import stats as sps

from labelwise.monitor._output import spread
from labelwise.monitor._stats import upper_quantile_bound

__all__ = ["size_key", "row_weights", "null_entry"]


def size_key(n_rows: int) -> int:
    """Window size rounded to two significant digits: windows of similar size share a null."""
    if n_rows < 100:
        return max(int(n_rows), 1)
    digits = int(np.floor(np.log10(n_rows))) - 1
    return int(round(n_rows, -digits))


def null_entry(
    draws: Mapping[str, np.ndarray],
    key: int,
    thresholded: Iterable[str],
    banded: Iterable[str],
    floors: Mapping[str, float],
    alpha: float,
) -> dict[str, Any]:
    """Thresholds and sampling errors from the statistics of the null draws.

    A threshold is an upper 90% confidence bound on the (1 - alpha) quantile of its statistic
    over the draws (so the finite number of draws does not raise the false-alarm rate above
    alpha), raised to the materiality floor. With reference labels the band of a performance
    estimate is the spread of the realized metric over windows of this size (what
    reconciliation will compare against); without, the spread of the estimate itself.
    """
    entry: dict[str, Any] = {
        "n_rows": key,
        "thresholds": {},
        "quantiles": {},
        "se": {},
        "se_estimate": {},
        "se_shift": {},
    }
    for name in thresholded:
        q = upper_quantile_bound(draws[name], 1.0 - alpha)
        entry["quantiles"][name] = q
        entry["thresholds"][name] = max(q, floors[name]) if np.isfinite(q) else floors[name]
    for name in banded:
        source = draws.get("realized_" + name, draws[name])
        entry["se"][name] = spread(source)
        entry["se_estimate"][name] = spread(draws[name])
        entry["se_shift"][name] = spread(draws[name + "_shift"])
    return entry


#: Row multiplicities are drawn exactly (sampled row indices) up to this many draws per row...
_EXACT_PER_ROW = 4.0
#: ... and from the normal approximation of the multinomial above this many; Poisson between.
_NORMAL_PER_ROW = 25.0


def row_weights(rng: np.random.Generator, n: int, t: int, draws: int) -> np.ndarray:
    """Multiplicities of ``t`` pool rows in ``draws`` resamples of ``n`` rows (draws x t).

    A resample of ``n`` rows is multinomial(n, uniform). Drawing it category by category costs
    t binomial draws whatever n is, which dominated the check of a large window, so:

    - n <= 4 t: exact, from n sampled row indices per draw;
    - 4 t < n <= 25 t: independent Poisson(n / t) multiplicities (the Poisson bootstrap; the
      resample's size then varies by about sqrt(n), 0.5% or less here);
    - n > 25 t: the normal approximation of the multinomial with its exact covariance,
      n/t + sqrt(n/t) (z_i - mean(z)), clipped at zero (a clip below -5 sd: never in practice).

    Every statistic is a function of weighted sums over the pool, and at 4 or more expected
    copies of each row those sums are already near-normal, so the approximations change the
    null distributions by far less than the resampling noise of ``n_null`` draws. The weights
    are float32, as :func:`tally_many` uses them.
    """
    lam = n / t
    if lam <= _EXACT_PER_ROW:
        out = np.empty((draws, t), dtype=np.float32)
        for d in range(draws):
            out[d] = np.bincount(rng.integers(0, t, n), minlength=t)
        return out
    if lam <= _NORMAL_PER_ROW:
        return poisson(rng, lam, (draws, t))
    z = rng.standard_normal((draws, t), dtype=np.float32)
    z -= z.mean(axis=1, keepdims=True)
    z *= np.float32(np.sqrt(lam))
    z += np.float32(lam)
    return np.maximum(z, 0.0, out=z)


def poisson(rng: np.random.Generator, lam: float, shape: tuple[int, int]) -> np.ndarray:
    """Poisson(lam) draws by inversion of the CDF with a guide table (Chen and Asau, 1974).

    Exact (up to a tail below 1e-30), and several times faster than numpy's own sampler or a
    plain binary search at these means. ``u * cells`` is exact for a power-of-two ``cells``, so
    the cell of every uniform is exact; a cell whose two ends invert to the same value decides
    it, and the few others are searched. The uniforms are drawn a block of rows at a time (the
    same stream as in one call), so the temporaries stay in cache.
    """
    cdf = sps.poisson.cdf(np.arange(int(lam + 12 * np.sqrt(lam) + 12)), lam)
    cells = 4096
    ends = np.arange(cells + 1) / cells
    low = np.searchsorted(cdf, ends[:-1], side="right")  # the value at each cell's left end
    high = np.searchsorted(cdf, ends[1:], side="left")  # the largest value inside the cell
    value, unsure_cell = low.astype(np.float32), low != high
    out = np.empty(shape, dtype=np.float32)
    flat = out.reshape(-1)
    rows = max(1, _BLOCK_VALUES // max(shape[1], 1))
    for start in range(0, shape[0], rows):
        u = rng.random((min(rows, shape[0] - start), shape[1]), dtype=np.float32).reshape(-1)
        cell = (u * np.float32(cells)).astype(np.intp)
        part = flat[start * shape[1] : start * shape[1] + u.size]
        np.take(value, cell, out=part)
        unsure = np.flatnonzero(unsure_cell[cell])
        part[unsure] = np.searchsorted(cdf, u[unsure], side="right")
    return out


#: Uniforms drawn per block in :func:`poisson`.
_BLOCK_VALUES = 1 << 16
