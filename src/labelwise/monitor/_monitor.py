"""The :class:`Monitor`: fit on a labelled reference window, check unlabelled windows.

The monitor is a façade over its seams, one module each: its configuration and the constraints
on it (:mod:`._config`), fitting on the reference (:mod:`._monitor_fit`), checking a window
(:mod:`._window`), the window-to-window state and reconciliation (:mod:`._history`) and the
monitor file (:mod:`._persist`). Below them sit the model outputs (one
:class:`~labelwise.monitor._output.Output` per kind: binary, multiclass, regression), the
feature bins and PCA (:mod:`._counts`), the null distribution (:mod:`._null`), reading windows
(:mod:`._window_reading`) and the shared statistics (:mod:`._evaluate`).

The seams share one object, so each reads what another writes. The contract, by writer:

- ``_config``: the constructor's parameters, ``settings_`` (resolved settings, on fit or load)
  and ``config_hash``;
- ``_monitor_fit``: ``layout_``, ``reference_counts_``, ``null_sample_``, ``importance_``,
  ``calibration_info_``, ``n_reference_``, ``fit_params_``, ``reference_stats_`` and
  ``null_cache_`` (null thresholds by window size), read by ``_window`` and ``_persist``;
- ``_history``'s state: ``tracker_`` (severity persistence) and ``estimates_`` (per-window
  estimates kept for reconciliation), started by ``_monitor_fit._reset_state`` and updated by
  ``_window`` after each window;
- ``_persist``: writes and restores all of the above, nothing of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labelwise.monitor._config import MonitorConfig
from labelwise.monitor._history import WindowHistory
from labelwise.monitor._monitor_fit import FittedMonitor
from labelwise.monitor._persist import PersistentMonitor
from labelwise.monitor._window import WindowChecks

__all__ = ["Monitor"]


class Monitor(MonitorConfig, FittedMonitor, WindowChecks, WindowHistory, PersistentMonitor):
    """Label-free monitor of a deployed model: binary, multiclass or regression.

    Fit it on a reference window (the model's outputs, features and, for the performance
    estimate, labels); then :meth:`check` each production window. Every statistic is computed
    from histogram counts over bins fixed on the reference, and every threshold from a null
    distribution obtained by resampling the reference into windows of the production window's
    size. What is watched depends on the model's output:

    - **binary** (``score="p"``): the score P(bad) and a cut-off; expected bad rate, AUC,
      precision and recall from the calibrated score.
    - **multiclass** (``score=["p_cat", "p_dog", ...]``, one probability per class): each class's
      probability, the prediction mix, the confidence; expected accuracy and per-class and macro
      precision, recall and F1 from the calibrated probabilities.
    - **regression** (``prediction="y_hat"``): the prediction's distribution; expected MAE and
      RMSE from a model of the error fitted on the reference (direct loss estimation).

    Parameters
    ----------
    n_bins : int, default 10
        Reference-quantile bins for PSI (scores, predictions and numeric features); tied edges
        are merged.
    fine_bins : int, default 1000
        Reference-quantile bins of the fine grid used for KS, Wasserstein and expected AUC.
    smoothing : float, default 0.5
        Pseudo-count added to every bin before PSI.
    alpha : float, default 0.05
        Per-statistic false-alarm rate of the null thresholds (quantile 1 - alpha).
    n_null : int, default 200
        Resampled reference windows per window size.
    null_rows : int, default 20000
        Reference rows kept (at random) for resampling; stored with the monitor.
    floors : dict, optional
        Materiality floors overriding :data:`DEFAULT_FLOORS`.
    fdr : float, default 0.05
        False-discovery rate for counting shifted features (Benjamini-Hochberg).
    near_band : float, default 0.05
        Binary: a case is "near the cut-off" when ``|score - cutoff| <= near_band``.
        Multiclass: a row is "near a tie" when its two largest probabilities differ by at most
        ``near_band``.
    importance : dict, optional
        Feature weights for the weighted feature PSI; default: association with the model's
        output (the score, the largest probability or the prediction).
    categorical : sequence of str, optional
        Features to treat as categorical even if numeric.
    preset : {"default", "governance-paper"}, default "default"
        Composite form, weights and cut-offs; ``weights``, ``composite`` and ``cutoffs`` override.
    weights, composite, cutoffs
        Per-monitor weights; ``"graded"`` or ``"fired"``; (watch, warn, alert, critical).
    hysteresis : float, default 0.05
    persistence : (int, int), default (1, 1)
        k-of-m rule: a level is reported once reached in k of the last m windows.
    n_sigma : float, default 3.0
        Width of performance and approval bands in sampling standard errors.
    calibrate : {"auto", True, False}, default "auto"
        Isotonic calibration of reference scores (per class, one against the rest, for a
        multiclass model), kept (auto) only if it lowers calibration error.
    pca_variance : float, default 0.9
    random_state : int, default 0
    n_jobs : int, optional
        Threads that count a window's chunks while its null distribution is drawn. None: one
        per core; 1: everything in the calling thread; -2: all cores but one. Results do not
        depend on it (chunks are merged in order), nor does the config hash.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> p = 1 / (1 + np.exp(-(x - 2)))
    >>> ref = pd.DataFrame({"p": p, "x": x, "y": rng.binomial(1, p)})
    >>> mon = Monitor(n_null=50).fit(ref, score="p", features=["x"], label="y", cutoff=0.2)
    >>> mon.check(ref.iloc[:1000], window_id="same").severity
    'ok'
    >>> shifted = ref.iloc[:1000].assign(x=lambda d: d.x + 1.5)
    >>> shifted["p"] = 1 / (1 + np.exp(-(shifted.x - 2)))
    >>> mon.check(shifted, window_id="shifted").severity in ("alert", "critical")
    True
    """

    def __init__(
        self,
        *,
        n_bins: int = 10,
        fine_bins: int = 1000,
        smoothing: float = 0.5,
        alpha: float = 0.05,
        n_null: int = 200,
        null_rows: int = 20_000,
        floors: Mapping[str, float] | None = None,
        fdr: float = 0.05,
        near_band: float = 0.05,
        importance: Mapping[str, float] | None = None,
        categorical: Sequence[str] | None = None,
        preset: str = "default",
        weights: Mapping[str, float] | None = None,
        composite: str | None = None,
        cutoffs: Sequence[float] | None = None,
        hysteresis: float = 0.05,
        persistence: tuple[int, int] = (1, 1),
        n_sigma: float = 3.0,
        calibrate: Any = "auto",
        pca_variance: float = 0.9,
        random_state: int = 0,
        n_jobs: int | None = None,
    ):
        self.n_bins = n_bins
        self.fine_bins = fine_bins
        self.smoothing = smoothing
        self.alpha = alpha
        self.n_null = n_null
        self.null_rows = null_rows
        self.floors = floors
        self.fdr = fdr
        self.near_band = near_band
        self.importance = importance
        self.categorical = categorical
        self.preset = preset
        self.weights = weights
        self.composite = composite
        self.cutoffs = cutoffs
        self.hysteresis = hysteresis
        self.persistence = persistence
        self.n_sigma = n_sigma
        self.calibrate = calibrate
        self.pca_variance = pca_variance
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        if not hasattr(self, "layout_"):
            return f"Monitor(preset={self.preset!r})"
        return f"Monitor(preset={self.preset!r}, {self.kind}, fitted on {self.n_reference_} rows)"
