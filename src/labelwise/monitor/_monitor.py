"""The :class:`Monitor`: fit on a labelled reference window, check unlabelled windows.

The monitor is a façade over a fitted configuration: the model output it watches (one
:class:`~labelwise.monitor._output.Output` per kind: binary, multiclass, regression), the feature
bins and PCA (:mod:`._counts`), the null distribution (:mod:`._null`), reading windows
(:mod:`._reading`) and the shared statistics (:mod:`._evaluate`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise._parallel import resolve_n_jobs
from labelwise._shared.serialize import jsonable as _jsonable
from labelwise.errors import ConfigError, DataFileError, InputError, InputTypeError
from labelwise.io import write_json
from labelwise.monitor._composite import (
    LEVELS,
    MONITORS,
    PRESETS,
    SeverityTracker,
    composite_score,
)
from labelwise.monitor._counts import Layout, WindowCounts, tally_many
from labelwise.monitor._evaluate import (
    feature_rows,
    feature_statistics,
    multivariate_rows,
    multivariate_statistics,
    shifted_features,
)
from labelwise.monitor._fit import (
    frame_hash,
)
from labelwise.monitor._kinds import resolve_output
from labelwise.monitor._null import null_entry, row_weights, size_key
from labelwise.monitor._output import Rows, as_float
from labelwise.monitor._reading import count_window, rows_hint, thread_pool
from labelwise.monitor._reference import (
    check_reference,
    fit_reference,
    read_sample,
    reference_outputs,
    sample_rows,
)
from labelwise.monitor._results import (
    BLIND_SPOT,
    MetricRow,
    Reconciliation,
    WindowResult,
    clip_to_range,
)

__all__ = ["Monitor", "DEFAULT_FLOORS", "estimates_of"]

#: Materiality floors: a statistic must exceed both its null quantile and this value to fire.
DEFAULT_FLOORS = {
    "score_psi": 0.10,
    "score_ks": 0.05,
    "score_wasserstein": 0.05,
    "features_max_psi": 0.10,
    "features_weighted_psi": 0.05,
    "feature_psi": 0.10,
    "missing_max_delta": 0.02,
    "entropy_delta": 0.01,
    "near_delta": 0.02,
    "confidence_ks": 0.05,
    "multivariate_delta": 0.10,
    "out_of_range_share": 0.01,
    "prediction_mix_psi": 0.10,
}
#: Statistics of every kind that get a null-quantile threshold.
_SHARED_THRESHOLDED = (
    "features_max_psi",
    "features_weighted_psi",
    "missing_max_delta",
    "multivariate_delta",
)
#: Version 2 holds only the fitted configuration; version 1 also held the window state.
_FORMAT_VERSION = 2


class Monitor:
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

    # --- configuration ------------------------------------------------------------------------

    def get_params(self) -> dict:
        """Constructor parameters, as given."""
        names = self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_kwonlyargcount + 1]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> Monitor:
        """Set constructor parameters by name; returns self. Refit for statistical ones."""
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise ConfigError(f"unknown parameter(s) {unknown}; known: {list(self.get_params())}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _settings(self) -> dict:
        """Validated, resolved configuration."""
        if self.preset not in PRESETS:
            raise ConfigError(f"preset={self.preset!r} is unknown; choose one of {list(PRESETS)}.")
        base = PRESETS[self.preset]
        weights = {**base["weights"], **dict(self.weights or {})}
        unknown = sorted(set(weights) - set(MONITORS))
        if unknown:
            raise ConfigError(f"weights name unknown monitors {unknown}; known: {list(MONITORS)}.")
        if any(not np.isfinite(w) or w < 0 for w in weights.values()):
            raise ConfigError("monitor weights must be finite and non-negative.")
        floors = {**DEFAULT_FLOORS, **dict(self.floors or {})}
        unknown = sorted(set(floors) - set(DEFAULT_FLOORS))
        if unknown:
            raise ConfigError(f"floors name unknown statistics {unknown}.")
        if not (isinstance(self.n_bins, int) and self.n_bins >= 2):
            raise ConfigError(f"n_bins must be an integer >= 2, got {self.n_bins!r}.")
        if not (isinstance(self.fine_bins, int) and self.fine_bins >= self.n_bins):
            raise ConfigError(f"fine_bins must be an integer >= n_bins, got {self.fine_bins!r}.")
        if not (0 < self.alpha < 1) or not (0 < self.fdr < 1):
            raise ConfigError("alpha and fdr must lie strictly between 0 and 1.")
        if not (isinstance(self.n_null, int) and self.n_null >= 20):
            raise ConfigError(f"n_null must be an integer >= 20, got {self.n_null!r}.")
        if self.smoothing <= 0:
            raise ConfigError(f"smoothing must be > 0, got {self.smoothing}.")
        resolve_n_jobs(self.n_jobs)
        k, m = self.persistence
        return {
            "composite": self.composite or base["composite"],
            "weights": weights,
            "cutoffs": tuple(float(c) for c in (self.cutoffs or base["cutoffs"])),
            "floors": floors,
            "k": int(k),
            "m": int(m),
        }

    @property
    def config_hash(self) -> str:
        """sha256 of the constructor parameters and fit-time settings (canonical JSON)."""
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        params.pop("n_jobs")  # how fast, not what: results do not depend on it
        fit = getattr(self, "fit_params_", {})
        text = json.dumps(_jsonable({"params": params, "fit": fit}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def kind(self) -> str:
        """``"binary"``, ``"multiclass"`` or ``"regression"`` (after :meth:`fit`)."""
        self._check_fitted()
        return self.layout_.output.kind

    @property
    def output_columns(self) -> list[str]:
        """The columns of the model's output a window must hold (after :meth:`fit`)."""
        self._check_fitted()
        return list(self.layout_.output.columns)

    # --- fitting ------------------------------------------------------------------------------

    def fit(
        self,
        reference: pd.DataFrame,
        *,
        score: str | Sequence[str] | None = None,
        features: Sequence[str] | None = None,
        label: str | None = None,
        cutoff: float = 0.5,
        model: str | None = None,
        model_version: str | None = None,
        prediction: str | None = None,
        classes: Sequence[Hashable] | None = None,
        task: str | None = None,
    ) -> Monitor:
        """Fit bins, calibration, PCA, the error model and reference counts on ``reference``.

        Parameters
        ----------
        reference : DataFrame
            The reference window: one row per scored case.
        score : str or list of str, optional
            A binary classifier: the column of P(bad) in [0, 1]. A multiclass classifier: one
            probability column per class, rows summing to one.
        features : list of str, optional
            Feature columns to monitor (numeric or categorical). Default: every column of
            ``reference`` except the model's output and ``label`` (see
            :func:`default_features`), the same columns ``labelwise monitor fit`` watches;
            ``[]`` watches none.
        label : str, optional
            Column of reference outcomes: 0/1 (binary), class names (multiclass) or the target
            (regression). Needed for calibration and the error model; without it a classifier's
            expected performance treats its probabilities as calibrated, and a regression
            monitor has no expected error.
        cutoff : float
            Binary: a case with score >= cutoff is declined.
        model, model_version : str, optional
            Stored on the monitor and in every result.
        prediction : str, optional
            A regression model: the column of its predictions.
        classes : list, optional
            Multiclass: the class of each score column, in order (default: the columns'
            suffixes after their common prefix, ``p_cat`` -> ``cat``).
        task : {"binary", "multiclass", "regression"}, optional
            Default: inferred from ``score`` and ``prediction``.

        Returns
        -------
        self
        """
        settings = self._settings()
        spec = resolve_output(task, score, prediction, classes)
        frame, features = check_reference(reference, spec, features, label)
        if spec.kind == "binary" and not (
            isinstance(cutoff, (int, float)) and 0 < float(cutoff) < 1
        ):
            raise ConfigError(f"cutoff must be a number strictly between 0 and 1, got {cutoff!r}.")
        values, labels = reference_outputs(frame, spec, label)
        with thread_pool(self.n_jobs) as pool:
            fitted = fit_reference(
                frame, spec, float(cutoff), values, labels, features, self.get_params(), pool
            )
        self.layout_ = fitted.layout
        self.reference_counts_ = fitted.counts
        self.null_sample_ = fitted.sample
        self.importance_ = fitted.importance
        self.calibration_info_ = fitted.info
        self.n_reference_ = fitted.n_reference
        self.reference_hash = frame_hash(
            frame, [*spec.columns, *features] + ([label] if label else [])
        )
        self.model = model
        self.model_version = model_version
        self.fit_params_ = {
            "score": score,
            "features": features,
            "label": label,
            "cutoff": float(cutoff),
            "model": model,
            "model_version": model_version,
        }
        if spec.kind != "binary":  # binary keeps the keys (and config hashes) it always had
            self.fit_params_.update(task=spec.kind, prediction=prediction, classes=spec.classes)
        self.settings_ = settings
        self._reset_state()
        return self

    def _reset_state(self) -> None:
        """Caches and the window-to-window state (severity, estimates) of a fitted monitor."""
        self.null_cache_: dict[int, dict] = {}
        self._null_reference_tallies = None
        self.tracker_ = self.new_tracker()
        self.estimates_: dict[str, dict] = {}
        self.reference_stats_ = self._statistics(self.reference_counts_, self.reference_counts_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            raise ConfigError("this Monitor is not fitted yet; call fit(reference, ...) first.")

    # --- statistics ---------------------------------------------------------------------------

    def _statistics(self, ref: dict, cur: dict, light: bool = False) -> dict:
        """Every window statistic from two tallies; ``light`` skips p-values and tables.

        Tallies may be stacked (a leading draw axis, as :func:`tally_many` gives): every
        statistic then comes out as an array with one value per draw.
        """
        output = self.layout_.output
        s = output.statistics(ref, cur, self.smoothing, light)
        table = {}
        feats = feature_statistics(self.layout_, self.importance_, ref, cur, self.smoothing, light)
        if not light:
            table = {"feature_table": feats.pop("feature_table")}
        s.update(feats)
        s.update(multivariate_statistics(ref, cur))
        s.update(output.performance(cur))
        # Shifts against the reference's own estimate: their spread over the null draws carries
        # the reference's sampling error too, which matters when the window dwarfs the reference.
        for name, value in output.performance(ref, realized=False).items():
            s[name + "_shift"] = s[name] - value
        s = {k: (as_float(v) if not isinstance(v, list) else v) for k, v in s.items()}
        s.update(table)
        return s

    # --- null distribution --------------------------------------------------------------------

    def null_thresholds(self, n_rows: int) -> dict:
        """Thresholds and sampling errors for windows of about ``n_rows`` rows (cached).

        Each of ``n_null`` draws pairs a resampled reference (of the reference's size) with a
        resampled window of ``n_rows`` rows, both drawn from the stored reference sample as row
        multiplicities (see :func:`~labelwise.monitor._null.row_weights`, so the cost does not
        grow with the window size), and computes every statistic on the pair. The reference
        draws do not depend on the window size and are shared by all sizes. See
        :func:`~labelwise.monitor._null.null_entry` for the thresholds and bands.
        """
        self._check_fitted()
        key = size_key(n_rows)
        if key in self.null_cache_:
            return self.null_cache_[key]
        rng = np.random.default_rng([int(self.random_state), key])
        t = sample_rows(self.null_sample_)
        current = tally_many(self.layout_, self.null_sample_, row_weights(rng, key, t, self.n_null))
        stats = self._statistics(self._null_references(), current, light=True)
        # A statistic that is undefined for this monitor (no PCA, no features) is one NaN.
        draws = {k: np.broadcast_to(np.asarray(v, float), (self.n_null,)) for k, v in stats.items()}
        output = self.layout_.output
        entry = null_entry(
            draws,
            key,
            (*output.thresholded, *_SHARED_THRESHOLDED),
            output.banded,
            self.settings_["floors"],
            self.alpha,
        )
        self.null_cache_[key] = entry
        return entry

    def _null_references(self) -> dict:
        """The stacked tallies of the resampled references (drawn once, for every window size)."""
        cached = getattr(self, "_null_reference_tallies", None)
        if cached is None:
            rng = np.random.default_rng([int(self.random_state), 0])
            t = sample_rows(self.null_sample_)
            weights = row_weights(rng, self.n_reference_, t, self.n_null)
            cached = tally_many(self.layout_, self.null_sample_, weights)
            self._null_reference_tallies = cached
        return cached

    # --- counting -----------------------------------------------------------------------------

    def counts(self) -> WindowCounts:
        """An empty :class:`WindowCounts` on this monitor's bins, to feed chunk by chunk."""
        self._check_fitted()
        return WindowCounts(self.layout_)

    def count(self, window: Any, chunk_rows: int = 200_000) -> WindowCounts:
        """Counts of a DataFrame, a Parquet path or a Dask DataFrame (chunked where possible)."""
        self._check_fitted()
        with thread_pool(self.n_jobs) as pool:
            return self._count(window, chunk_rows, pool)

    def _count(self, window: Any, chunk_rows: int, pool: Executor | None) -> WindowCounts:
        in_flight = 2 * resolve_n_jobs(self.n_jobs)
        return count_window(self.layout_, window, chunk_rows, pool, in_flight)

    # --- checking -----------------------------------------------------------------------------

    def check(
        self,
        window: Any,
        window_id: str | None = None,
        start: Any = None,
        end: Any = None,
        *,
        chunk_rows: int = 200_000,
    ) -> WindowResult:
        """Check one production window.

        Parameters
        ----------
        window : DataFrame, path to a Parquet file, Dask DataFrame or WindowCounts
            The window's rows (the model's output and feature columns); paths are streamed in
            chunks.
        window_id : str, optional
            Identifier used by :meth:`reconcile`; default ``"w<k>"`` numbering the checks.
        start, end : datetime-like or str, optional
            Stored as ISO strings.
        chunk_rows : int
            Rows per chunk when streaming.

        Returns
        -------
        WindowResult
        """
        self._check_fitted()
        with thread_pool(self.n_jobs) as pool:
            early = self._draw_null_early(window, pool)
            counts = self._count(window, chunk_rows, pool)
            if early is not None:
                early.result()
        if counts.n_rows == 0:
            raise InputError("the window is empty: there are no scored rows to check.")
        window_id = str(window_id) if window_id is not None else f"w{len(self.estimates_) + 1}"
        return self._evaluate(counts, window_id, start, end)

    def _draw_null_early(self, window: Any, pool: Executor | None) -> Any:
        """Start drawing the window's null distribution in the pool while its rows are counted."""
        n = rows_hint(window) if pool is not None else None
        if not n or size_key(n) in self.null_cache_:
            return None
        if isinstance(window, pd.DataFrame):
            self.layout_.check_columns(window.columns)  # fail before spending a second
        return pool.submit(self.null_thresholds, n)

    def check_parquet(
        self, path: str | os.PathLike, chunk_rows: int = 200_000, **kwargs: Any
    ) -> WindowResult:
        """:meth:`check` a Parquet file read ``chunk_rows`` rows at a time (bounded memory)."""
        return self.check(Path(path), chunk_rows=chunk_rows, **kwargs)

    def check_dask(self, frame: Any, **kwargs: Any) -> WindowResult:
        """:meth:`check` a Dask DataFrame: counts per partition on the workers, summed here."""
        if not type(frame).__module__.startswith("dask."):
            raise InputTypeError(f"check_dask needs a Dask DataFrame, not {type(frame).__name__}.")
        return self.check(frame, **kwargs)

    def _evaluate(self, counts: WindowCounts, window_id: str, start: Any, end: Any) -> WindowResult:
        n = counts.n_rows
        stats = self._statistics(self.reference_counts_, counts.arrays)
        null = self.null_thresholds(n)
        output = self.layout_.output
        rows = Rows(stats, self.reference_stats_, null, self.n_sigma, n)
        ratios = dict(output.drift_rows(rows))
        shifted = shifted_features(
            stats["feature_table"], self.fdr, self.settings_["floors"]["feature_psi"]
        )
        ratios["features"] = feature_rows(rows, shifted)
        ratios.update(output.rows(rows))
        ratios["multivariate"] = multivariate_rows(rows)
        settings = self.settings_
        composite = composite_score(ratios, settings["weights"], settings["composite"])
        raw_before = self.tracker_.raw
        severity = self.tracker_.step(composite)
        fired = [m for m in MONITORS if np.isfinite(ratios.get(m, np.nan)) and ratios[m] > 1]
        details = self._details(stats, ratios, fired, shifted, counts, null, raw_before)
        self.estimates_[window_id] = estimates_of(rows.metrics)
        return WindowResult(window_id, start, end, n, composite, severity, rows.metrics, details)

    def _details(
        self,
        stats: dict,
        ratios: dict,
        fired: list[str],
        shifted: list[str],
        counts: WindowCounts,
        null: dict,
        raw_before: int,
    ) -> dict:
        output = self.layout_.output
        notes = [BLIND_SPOT]
        if counts.unseen:
            notes.append(
                "unseen categories (counted in each feature's 'unseen' bin): "
                + "; ".join(f"{k}: {v}" for k, v in counts.unseen.items())
            )
        all_missing = [r["feature"] for r in stats["feature_table"] if r["missing_current"] >= 1]
        if all_missing:
            notes.append(f"features entirely missing in this window: {all_missing}")
        notes.extend(output.notes(stats))
        if (
            output.kind != "regression"
            and not self.calibration_info_.get("calibrated")
            and self.fit_params_["label"] is None
        ):
            notes.append("no reference labels: expected performance assumes calibrated scores")
        return {
            **output.details(),
            "model": self.model,
            "model_version": self.model_version,
            "reference_hash": self.reference_hash,
            "config_hash": self.config_hash,
            "ratios": {k: (v if np.isfinite(v) else None) for k, v in ratios.items()},
            "fired_monitors": fired,
            "raw_level": LEVELS[self.tracker_.raw],
            "previous_raw_level": LEVELS[raw_before],
            "score_bins": output.bin_details(stats),
            "features": stats["feature_table"],
            "shifted_features": shifted,
            "null": {"n_rows": null["n_rows"], "alpha": self.alpha, "n_null": self.n_null},
            "notes": notes,
        }

    # --- severity over windows ----------------------------------------------------------------

    def new_tracker(self, state: Mapping | None = None) -> SeverityTracker:
        """A severity tracker of this monitor's settings, resumed from ``state`` if given."""
        self._check_fitted()
        settings = self.settings_
        tracker = SeverityTracker(
            settings["cutoffs"], self.hysteresis, settings["k"], settings["m"]
        )
        if state:
            tracker.load(state)
        return tracker

    def resume_severity(
        self, results: Sequence[Mapping[str, Any]], state: Mapping | None
    ) -> tuple[list[dict], dict]:
        """Severities of ``results`` (``WindowResult.to_dict()``, in order) after ``state``.

        The severity of a window depends on the windows before it (hysteresis and the k-of-m
        rule). A store keeps the tracker's state with the last window written, so a check run
        against the store resumes from what the store holds, inside the transaction that writes
        the new windows: concurrent runs on one monitor cannot lose or fork that history.

        Returns the results with ``severity``, ``details.raw_level`` and
        ``details.previous_raw_level`` set, and the state to store after them.
        """
        tracker = self.new_tracker(state)
        out = []
        for result in results:
            before = tracker.raw
            severity = tracker.step(float(result["composite"]))
            details = {
                **result.get("details", {}),
                "raw_level": LEVELS[tracker.raw],
                "previous_raw_level": LEVELS[before],
            }
            out.append({**result, "severity": severity, "details": details})
        return out, tracker.to_dict()

    # --- reconciliation -----------------------------------------------------------------------

    def reconcile(
        self, window: str | WindowResult | Mapping, labels: Any, scores: Any = None
    ) -> Reconciliation:
        """Compare a past window's label-free estimates with its matured labels.

        Parameters
        ----------
        window : str, WindowResult or dict
            A window checked earlier: its result (``WindowResult`` or its ``to_dict()``, as a
            store returns it), or its id when it was checked by this monitor object.
        labels : array-like
            Realized outcomes: 0/1 (binary), class names (multiclass) or targets (regression).
        scores : array-like or DataFrame, optional
            The window's outputs, row-aligned with ``labels``: scores (binary; needed for AUC,
            precision and recall), the probability columns as a DataFrame or rows x classes
            (multiclass), predictions (regression).

        Returns
        -------
        Reconciliation
        """
        self._check_fitted()
        window_id, estimates = self._estimates_of(window)
        realized, notes = self.layout_.output.realize(labels, scores)
        rows = []
        for name, value in realized.items():
            est = estimates.get(name)
            if est is None or est["estimated"] is None:
                continue
            # Clipped again: a monitor saved before bands were clipped holds raw ones.
            low, high = clip_to_range(name, est["low"]), clip_to_range(name, est["high"])
            inside = low is None or (low <= value <= high)
            band = {"low": low, "high": high}
            rows.append({"metric": name, "realized": value, **est, **band, "inside_band": inside})
        notes.append(BLIND_SPOT)
        return Reconciliation(window_id, int(np.asarray(labels).shape[0]), rows, notes)

    def _estimates_of(self, window: Any) -> tuple[str, dict]:
        """The window's id and its performance estimates, from a result or this session."""
        if isinstance(window, WindowResult):
            window = window.to_dict()
        if isinstance(window, Mapping):
            config = window.get("details", {}).get("config_hash")
            if config is not None and config != self.config_hash:
                raise InputError(
                    f"window {window.get('window')!r} was checked by another monitor "
                    "configuration (its config hash differs); reconcile it with that monitor."
                )
            rows = [MetricRow(**m) for m in window.get("metrics", [])]
            return str(window["window"]), estimates_of(rows)
        if str(window) not in self.estimates_:
            raise InputError(
                f"window {window!r} was not checked by this monitor object; pass its result (a "
                "WindowResult, or the dict a MonitorStore returns from window_detail) instead. "
                f"Windows checked here: {list(self.estimates_)[-10:]}."
            )
        return str(window), self.estimates_[str(window)]

    # --- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The fitted configuration, as JSON-able data (window state lives in a store)."""
        self._check_fitted()
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        return _jsonable(
            {
                "format": _FORMAT_VERSION,
                "params": params,
                "fit_params": self.fit_params_,
                "layout": self.layout_.to_dict(),
                "reference_counts": self.reference_counts_,
                "null_sample": {k: v for k, v in self.null_sample_.items() if k != "unseen"},
                "importance": self.importance_,
                "calibration_info": self.calibration_info_,
                "n_reference": self.n_reference_,
                "reference_hash": self.reference_hash,
                "config_hash": self.config_hash,
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the fitted monitor to ``path`` atomically; returns the path."""
        return write_json(self.to_dict(), path, indent=None)

    @classmethod
    def from_dict(cls, data: Mapping) -> Monitor:
        if data.get("format") not in (1, _FORMAT_VERSION):
            raise DataFileError(f"unsupported monitor format {data.get('format')!r}.")
        params = dict(data["params"])
        params["persistence"] = tuple(params["persistence"])
        if params.get("cutoffs") is not None:
            params["cutoffs"] = tuple(params["cutoffs"])
        mon = cls(**params)
        mon.settings_ = mon._settings()
        fp = data["fit_params"]
        mon.fit_params_ = dict(fp)
        mon.model, mon.model_version = fp["model"], fp["model_version"]
        layout = dict(data["layout"])
        if "score_std" in data and "output" not in layout:
            layout["score_std"] = data["score_std"]  # format 1 kept it beside the layout
        mon.layout_ = Layout.from_dict(layout)
        mon.reference_counts_ = {
            k: np.asarray(v, float) for k, v in data["reference_counts"].items()
        }
        mon.null_sample_ = read_sample(data["null_sample"])
        mon.importance_ = dict(data["importance"])
        mon.calibration_info_ = dict(data["calibration_info"])
        mon.n_reference_ = int(data["n_reference"])
        mon.reference_hash = data["reference_hash"]
        mon._reset_state()
        # Format 1 files carried the window state; it still loads, for this object only.
        mon.null_cache_ = {int(k): v for k, v in data.get("null_cache", {}).items()}
        if "tracker" in data:
            mon.tracker_.load(data["tracker"])
        mon.estimates_ = {k: dict(v) for k, v in data.get("estimates", {}).items()}
        if data.get("config_hash") and data["config_hash"] != mon.config_hash:
            raise DataFileError("monitor file is inconsistent: its config hash does not match.")
        return mon

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Monitor:
        """Load a monitor written by :meth:`to_json`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataFileError(f"could not read monitor file {str(path)!r}: {exc}") from exc
        try:
            return cls.from_dict(data)
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            raise DataFileError(
                f"{str(path)!r} is JSON but not a monitor file ({type(exc).__name__}: {exc}); "
                "write one with `labelwise monitor fit` or Monitor.to_json."
            ) from None

    def __repr__(self) -> str:
        if not hasattr(self, "layout_"):
            return f"Monitor(preset={self.preset!r})"
        return f"Monitor(preset={self.preset!r}, {self.kind}, fitted on {self.n_reference_} rows)"


def estimates_of(metrics: Sequence[MetricRow]) -> dict:
    """A window's performance estimates and bands, by metric name, for :meth:`reconcile`."""
    out = {}
    for row in metrics:
        if row.monitor == "performance" and row.metric.startswith("expected_"):
            d = row.to_dict()
            name = row.metric.removeprefix("expected_")
            out[name] = {"estimated": d["value"], "low": d["low"], "high": d["high"]}
    return out
