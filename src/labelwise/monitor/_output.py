"""What every kind of model output shares: the interface, and the rows a window reports.

A monitor watches one model output: a binary risk score (:mod:`._binary`), one probability per
class (:mod:`._multiclass`) or a real-valued prediction (:mod:`._regression`). Each kind is an
:class:`Output` fitted on the reference. It encodes a chunk of rows into bin codes and per-row
values, names the histograms and sums a tally keeps, computes its drift statistics and its
label-free performance estimates from two tallies (stacked or not), writes its metric rows for a
window, and realizes the same metrics from matured labels. Everything else (feature bins, PCA,
null distributions, the composite) is the same for every kind and lives in the monitor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from labelwise.monitor._results import MetricRow, clip_to_range

__all__ = ["Output", "Rows", "ratio", "as_float", "spread", "KINDS"]

#: The model kinds a monitor can watch.
KINDS = ("binary", "multiclass", "regression")


def ratio(a: Any, b: Any) -> Any:
    """a / b where b > 0, else NaN; elementwise for the stacked null draws."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b > 0)
    return float(out) if out.ndim == 0 else out


def as_float(value: Any) -> Any:
    """A Python float for a single window's statistic; arrays (stacked draws) unchanged."""
    return float(value) if np.ndim(value) == 0 else value


def spread(values: Any) -> float:
    """Standard deviation of the finite values (NaN with fewer than three)."""
    arr = np.asarray(values, float)
    arr = arr[np.isfinite(arr)]
    return float(arr.std(ddof=1)) if arr.size > 2 else float("nan")


class Output:
    """Interface of one kind of model output (see the module documentation).

    Subclasses set the class attributes and implement the methods; a tally holds, besides the
    feature histograms, ``sizes()`` histograms of codes, ``weighted(enc)`` histograms of codes
    weighted by a per-row value, ``summed(enc)`` scalar sums and ``vectors(enc)`` sums of
    per-row vectors.
    """

    kind: ClassVar[str]
    #: Statistics that get a null-quantile threshold (each needs a floor in DEFAULT_FLOORS).
    thresholded: ClassVar[tuple[str, ...]]

    columns: list[str]

    # --- encoding -------------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame) -> dict[str, Any]:
        raise NotImplementedError

    def encode_labels(self, enc: dict[str, Any], labels: np.ndarray) -> dict[str, Any]:
        """Per-row values that only labelled reference rows have (for the realized bands)."""
        raise NotImplementedError

    def sizes(self) -> dict[str, int]:
        raise NotImplementedError

    def weighted(self, enc: Mapping[str, Any]) -> dict[str, tuple[str, str, int]]:
        """``name -> (code key, value key, size)``: histograms weighted by a per-row value."""
        return {}

    def summed(self, enc: Mapping[str, Any]) -> tuple[str, ...]:
        raise NotImplementedError

    def vectors(self, enc: Mapping[str, Any]) -> dict[str, int]:
        """``key -> length`` of per-row vectors (rows x length) summed over the rows."""
        return {}

    # --- statistics -----------------------------------------------------------------------------

    def statistics(self, ref: dict, cur: dict, smoothing: float, light: bool) -> dict:
        raise NotImplementedError

    def performance(self, t: dict, realized: bool = True) -> dict:
        raise NotImplementedError

    @property
    def banded(self) -> tuple[str, ...]:
        """Performance metrics that get a sampling-error band."""
        raise NotImplementedError

    def drift_rows(self, rows: Rows) -> dict[str, float]:
        """Append the score monitor's rows (they come before the features'); return its ratio."""
        raise NotImplementedError

    def rows(self, rows: Rows) -> dict[str, float]:
        """Append this output's other metric rows; return the ratio of each of its monitors."""
        raise NotImplementedError

    def bin_details(self, stats: dict) -> dict:
        """What a window's details show about the output's bins (``details["score_bins"]``)."""
        raise NotImplementedError

    def use_out_of_fold(self, enc: dict[str, Any], held: tuple) -> None:
        """Put the reference's own out-of-fold values into its encoding (if the kind has any)."""

    def notes(self, stats: dict) -> list[str]:
        return []

    def details(self) -> dict:
        return {"kind": self.kind}

    # --- reconciliation -------------------------------------------------------------------------

    def realize(self, labels: Any, outputs: Any) -> tuple[dict[str, float], list[str]]:
        """Realized metrics of a window from its matured labels and its outputs."""
        raise NotImplementedError

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        raise NotImplementedError


class Rows:
    """The metric rows of one window, written monitor by monitor.

    Parameters
    ----------
    stats : dict
        The window's statistics against the reference.
    ref_stats : dict
        The reference's statistics against itself (the reference estimates).
    null : dict
        :meth:`Monitor.null_thresholds` of the window's size.
    n_sigma : float
        Band half-width in sampling standard errors.
    n_rows : int
        The window's rows.
    """

    def __init__(
        self, stats: dict, ref_stats: dict, null: dict, n_sigma: float, n_rows: int
    ) -> None:
        self.stats = stats
        self.n_rows = n_rows
        self.ref_stats = ref_stats
        self.null = null
        self.n_sigma = n_sigma
        self.metrics: list[MetricRow] = []

    def gated(self, monitor: str, metric: str, name: str) -> float:
        """A statistic against its null threshold; returns statistic / threshold."""
        value, limit = self.stats[name], self.null["thresholds"][name]
        fired = None if not np.isfinite(value) else bool(value > limit)
        self.metrics.append(MetricRow(monitor, metric, value, limit, fired=fired))
        return ratio(value, limit) if np.isfinite(value) else float("nan")

    def info(self, monitor: str, metric: str, value: float) -> None:
        """A value reported without a threshold."""
        self.metrics.append(MetricRow(monitor, metric, value))

    def estimate(self, name: str, monitor: str = "performance", gate: bool = True) -> float:
        """A label-free performance estimate with its ±n_sigma band; returns its shift ratio.

        The band around the estimate is the spread of the realized metric over reference
        windows of this size (what reconciliation compares with), clipped to the metric's range;
        the metric fires when its shift from the reference estimate exceeds n_sigma times the
        null spread of that shift (unless ``gate`` is False: a band, but no alarm). NaN when
        the metric or its spread is undefined.
        """
        value, ref_value = clip_to_range(name, self.stats[name]), self.ref_stats[name]
        half = self.n_sigma * self.null["se"][name]
        limit = self.n_sigma * self.null["se_shift"][name]
        if not (np.isfinite(value) and np.isfinite(half) and half > 0 and limit > 0):
            self.metrics.append(MetricRow(monitor, f"expected_{name}", value))
            return float("nan")
        shift = abs(value - ref_value)
        self.metrics.append(
            MetricRow(
                monitor,
                f"expected_{name}",
                value,
                None,
                clip_to_range(name, value - half),
                clip_to_range(name, value + half),
                bool(shift > limit) if gate else None,
            )
        )
        return shift / limit if gate else float("nan")

    def estimates(self, names: Sequence[str], monitor: str = "performance") -> float:
        """:meth:`estimate` of each name; returns the largest finite ratio (NaN if none)."""
        ratios = [self.estimate(name, monitor) for name in names]
        finite = [r for r in ratios if np.isfinite(r)]
        return float(max(finite)) if finite else float("nan")


def largest(values: Sequence[Any]) -> Any:
    """Elementwise maximum of statistics (floats or stacked draws), NaN when empty."""
    if not values:
        return float("nan")
    return np.max(np.stack([np.asarray(v, float) for v in values], axis=-1), axis=-1)
