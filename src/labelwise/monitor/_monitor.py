"""The :class:`Monitor`: fit on a labelled reference window, check unlabelled windows."""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.metrics import roc_auc_score

from labelwise._optional import require
from labelwise._parallel import one_blas_thread, resolve_n_jobs
from labelwise.errors import ConfigError, DataFileError, InputError, InputTypeError
from labelwise.io import _jsonable, write_json
from labelwise.monitor._composite import (
    LEVELS,
    MONITORS,
    PRESETS,
    SeverityTracker,
    composite_score,
)
from labelwise.monitor._counts import (
    Layout,
    WindowCounts,
    check_scores,
    quantile_edges,
    tally,
    tally_many,
)
from labelwise.monitor._fit import (
    check_labels,
    default_features,
    feature_bins,
    fine_edges,
    fit_calibration,
    fit_pca,
    frame_hash,
    importance_weights,
)
from labelwise.monitor._results import (
    BLIND_SPOT,
    MetricRow,
    Reconciliation,
    WindowResult,
    clip_to_range,
)
from labelwise.monitor._stats import (
    bh_reject,
    binned_ks,
    binned_wasserstein,
    expected_auc,
    g_test_pvalue,
    psi,
    psi_null_mean,
    upper_quantile_bound,
)

__all__ = ["Monitor", "DEFAULT_FLOORS"]

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
}
#: Statistics that get a null-quantile threshold.
_THRESHOLDED = tuple(k for k in DEFAULT_FLOORS if k != "feature_psi")
#: Label-free performance estimates, banded by their sampling error.
_PERFORMANCE = ("bad_rate", "auc", "precision", "recall")
_FORMAT_VERSION = 1


def _ratio(a: Any, b: Any) -> Any:
    """a / b where b > 0, else NaN; elementwise for the stacked null draws."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b > 0)
    return float(out) if out.ndim == 0 else out


class Monitor:
    """Label-free monitor of a deployed binary risk classifier.

    Fit it on a reference window (scores, features and, for the performance estimate, labels);
    then :meth:`check` each production window. Every statistic is computed from histogram counts
    over bins fixed on the reference, and every threshold from a null distribution obtained by
    resampling the reference into windows of the production window's size.

    Parameters
    ----------
    n_bins : int, default 10
        Reference-quantile bins for PSI (score and numeric features); tied edges are merged.
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
        A case is "near the cut-off" when ``|score - cutoff| <= near_band``.
    importance : dict, optional
        Feature weights for the weighted feature PSI; default: association with the score.
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
        Isotonic calibration of reference scores, kept (auto) only if it lowers calibration error.
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

    # --- fitting ------------------------------------------------------------------------------

    def fit(
        self,
        reference: pd.DataFrame,
        *,
        score: str,
        features: Sequence[str] | None = None,
        label: str | None = None,
        cutoff: float = 0.5,
        model: str | None = None,
        model_version: str | None = None,
    ) -> Monitor:
        """Fit bins, calibration, PCA and reference counts on ``reference``.

        Parameters
        ----------
        reference : DataFrame
            The reference window: one row per scored case.
        score : str
            Column of model scores, P(bad) in [0, 1].
        features : list of str, optional
            Feature columns to monitor (numeric or categorical). Default: every column of
            ``reference`` except ``score`` and ``label`` (see :func:`default_features`), the
            same columns ``labelwise monitor fit`` watches; ``[]`` watches none.
        label : str, optional
            Column of reference outcomes (1 = bad). Needed for calibration; without it the
            expected performance treats the raw scores as calibrated.
        cutoff : float
            Decision cut-off: a case with score >= cutoff is declined.
        model, model_version : str, optional
            Stored on the monitor and in every result.

        Returns
        -------
        self
        """
        settings = self._settings()
        frame = self._check_frame(reference)
        features = self._features(frame, score, features, label)
        self._check_columns(frame, score, features, label)
        if not (isinstance(cutoff, (int, float)) and 0 < float(cutoff) < 1):
            raise ConfigError(f"cutoff must be a number strictly between 0 and 1, got {cutoff!r}.")
        scores = check_scores(frame[score], score)
        if np.ptp(scores) == 0:
            raise InputError(
                f"reference scores in {score!r} are all {scores[0]:.6g}; a constant score has no "
                "distribution to monitor."
            )
        labels = None if label is None else check_labels(frame[label])
        with self._pool() as pool:
            self._fit_reference(frame, score, float(cutoff), scores, labels, features, pool)
        self.reference_hash = frame_hash(frame, [score, *features] + ([label] if label else []))
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
        self.settings_ = settings
        self.null_cache_: dict[int, dict] = {}
        self._null_reference_tallies = None
        self.tracker_ = SeverityTracker(
            settings["cutoffs"], self.hysteresis, settings["k"], settings["m"]
        )
        self.estimates_: dict[str, dict] = {}
        self.reference_stats_ = self._statistics(self.reference_counts_, self.reference_counts_)
        return self

    def _fit_reference(
        self,
        frame: pd.DataFrame,
        score: str,
        cutoff: float,
        scores: np.ndarray,
        labels: np.ndarray | None,
        features: list[str],
        pool: Executor | None,
    ) -> None:
        """Bins, calibration, PCA, importance and reference counts (independent parts in a pool)."""
        run = _submitter(pool)
        calibration = (
            run(fit_calibration, scores, labels, self.calibrate, self.random_state)
            if labels is not None
            else _done((None, {"calibrated": False, "reason": "no reference labels"}))
        )
        categorical = list(self.categorical or [])
        pending = [run(feature_bins, frame, f, self.n_bins, categorical) for f in features]
        conf = np.maximum(scores, 1 - scores)
        edges = [
            run(quantile_edges, scores, self.n_bins),
            run(fine_edges, scores, self.fine_bins),
            run(fine_edges, conf, self.fine_bins),
        ]
        bins = [f.result() for f in pending]
        numeric = [b.name for b in bins if b.kind == "numeric"]
        pca = run(fit_pca, frame, numeric, self.pca_variance, self.random_state)
        importance = run(importance_weights, frame, bins, scores, self.importance)
        if labels is not None:
            auc = run(roc_auc_score, labels, scores)
        calibration, cal_info = calibration.result()
        self.layout_ = Layout(
            score=score,
            cutoff=cutoff,
            near_band=float(self.near_band),
            score_edges=edges[0].result(),
            fine_edges=edges[1].result(),
            confidence_edges=edges[2].result(),
            features=bins,
            calibration=calibration,
            pca=None,
        )
        pca_rows, self.layout_.pca = pca.result()
        enc = self.layout_.encode(frame)
        if pca_rows is not None:
            # Rows the PCA was fitted on do not count towards the reference error.
            for key in ("pca_err", "pca_high", "pca_n"):
                enc[key] = np.where(pca_rows, 0.0, enc[key])
        if labels is not None:
            enc["label"] = labels.astype(float)
        self.reference_counts_ = tally(self.layout_, enc)
        self.null_sample_ = _subsample(enc, self.null_rows, self.random_state)
        self.importance_ = importance.result()
        self.score_std_ = float(np.std(scores))
        self.calibration_info_ = cal_info
        if labels is not None:
            self.calibration_info_["reference_bad_rate"] = float(labels.mean())
            self.calibration_info_["reference_auc"] = float(auc.result())
        self.n_reference_ = int(len(frame))

    @staticmethod
    def _check_frame(reference: Any) -> pd.DataFrame:
        """The reference with a fresh index, or an error if it is no frame or too short."""
        if not isinstance(reference, pd.DataFrame):
            raise InputTypeError(f"reference must be a pandas DataFrame, not {type(reference)}.")
        if len(reference) < 20:
            raise InputError(
                f"the reference has {len(reference)} rows; at least 20 are needed to fit bins "
                "(thousands for stable thresholds)."
            )
        return reference.reset_index(drop=True)

    @staticmethod
    def _features(
        frame: pd.DataFrame, score: str, features: Sequence[str] | None, label: str | None
    ) -> list[str]:
        """The features to watch: those given, else every column but the score and label."""
        if features is None:
            return default_features(frame.columns, score, label)
        if isinstance(features, str):
            # list("income") would watch the columns "i", "n", "c", ...
            raise ConfigError(
                f"features must be a list of column names, not the string {features!r}; "
                f"write features=[{features!r}]."
            )
        return list(features)

    @staticmethod
    def _check_columns(
        frame: pd.DataFrame, score: str, features: list[str], label: str | None
    ) -> None:
        if len(set(features)) != len(features) or score in features or label in features:
            raise ConfigError("features must be distinct and exclude the score and label columns.")
        wanted = [score, *features] + ([label] if label is not None else [])
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise InputError(
                f"the reference lacks column(s) {missing}; it has {list(frame.columns)[:20]}."
            )

    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            raise ConfigError("this Monitor is not fitted yet; call fit(reference, ...) first.")

    # --- statistics ---------------------------------------------------------------------------

    def _statistics(self, ref: dict, cur: dict, light: bool = False) -> dict:
        """Every window statistic from two tallies; ``light`` skips p-values and tables.

        Tallies may be stacked (a leading draw axis, as :func:`tally_many` gives): every
        statistic then comes out as an array with one value per draw.
        """
        layout = self.layout_
        n_r, n_c = ref["n"][..., 0], cur["n"][..., 0]
        sm = self.smoothing
        s: dict[str, Any] = {}
        s["score_psi"], parts = psi(ref["score_coarse"], cur["score_coarse"], sm)
        s["score_ks"] = binned_ks(ref["score_fine"], cur["score_fine"])
        w = binned_wasserstein(
            ref["score_fine"],
            cur["score_fine"],
            layout.fine_edges,
            (ref["below"][..., 0], cur["below"][..., 0]),
            (ref["above"][..., 0], cur["above"][..., 0]),
        )
        s["score_wasserstein"] = w / self.score_std_ if self.score_std_ > 0 else float("nan")
        table, psis, missing = [], [], []
        for fb in layout.features:
            key = "feat:" + fb.name
            value, f_parts = psi(ref[key], cur[key], sm)
            miss_r, miss_c = ref[key][..., -1] / n_r, cur[key][..., -1] / n_c
            psis.append(value)
            missing.append(np.abs(miss_c - miss_r))
            if light:
                continue
            row = {
                "feature": fb.name,
                "kind": fb.kind,
                "psi": value,
                "missing_reference": float(miss_r),
                "missing_current": float(miss_c),
                "missing_delta": float(abs(miss_c - miss_r)),
                "importance": self.importance_[fb.name],
                "pvalue": g_test_pvalue(ref[key], cur[key]),
                "psi_corrected": max(0.0, value - psi_null_mean(fb.n_bins, n_r, n_c)),
                "bins": fb.labels,
                "contributions": f_parts.tolist(),
            }
            if fb.kind == "categorical":
                row["unseen_share"] = float(cur[key][-2] / n_c)
            table.append(row)
        if psis:
            weights = np.array([self.importance_[fb.name] for fb in layout.features])
            stacked = np.stack(psis, axis=-1)
            s["features_max_psi"] = stacked.max(axis=-1)
            s["features_weighted_psi"] = stacked @ weights
            s["missing_max_delta"] = np.stack(missing, axis=-1).max(axis=-1)
        else:
            s["features_max_psi"] = s["features_weighted_psi"] = float("nan")
            s["missing_max_delta"] = float("nan")
        s["entropy_reference"] = ref["entropy"][..., 0] / n_r
        s["entropy_current"] = cur["entropy"][..., 0] / n_c
        s["entropy_delta"] = np.abs(s["entropy_current"] - s["entropy_reference"])
        s["near_reference"] = ref["near"][..., 0] / n_r
        s["near_current"] = cur["near"][..., 0] / n_c
        s["near_delta"] = np.abs(s["near_current"] - s["near_reference"])
        s["confidence_ks"] = binned_ks(ref["conf_fine"], cur["conf_fine"])
        if "pca_err" in cur:
            n_rc, n_cc = ref["pca_n"][..., 0], cur["pca_n"][..., 0]
            err_ratio = _ratio(
                _ratio(cur["pca_err"][..., 0], n_cc), _ratio(ref["pca_err"][..., 0], n_rc)
            )
            s["multivariate_delta"] = np.abs(err_ratio - 1.0)
            s["multivariate_error_ratio"] = err_ratio
            s["multivariate_high_share"] = _ratio(cur["pca_high"][..., 0], n_cc)
        else:
            s["multivariate_delta"] = float("nan")
        s.update(_performance(cur))
        # Shifts against the reference's own estimate: their spread over the null draws carries
        # the reference's sampling error too, which matters when the window dwarfs the reference.
        ref_perf = _performance(ref, realized=False)
        for name, value in ref_perf.items():
            s[name + "_shift"] = s[name] - value
        s["out_of_range_share"] = (cur["score_fine"][..., 0] + cur["score_fine"][..., -1]) / n_c
        s = {k: _as_float(v) for k, v in s.items()}  # floats for one window, arrays for draws
        if not light:
            s["score_psi_corrected"] = max(
                0.0, s["score_psi"] - psi_null_mean(len(ref["score_coarse"]), n_r, n_c)
            )
            s["score_pvalue"] = g_test_pvalue(ref["score_coarse"], cur["score_coarse"])
            s["score_contributions"] = parts.tolist()
            s["feature_table"] = table
        return s

    # --- null distribution --------------------------------------------------------------------

    @staticmethod
    def _size_key(n_rows: int) -> int:
        """Window size rounded to two significant digits: windows of similar size share a null."""
        if n_rows < 100:
            return max(int(n_rows), 1)
        digits = int(np.floor(np.log10(n_rows))) - 1
        return int(round(n_rows, -digits))

    def null_thresholds(self, n_rows: int) -> dict:
        """Thresholds and sampling errors for windows of about ``n_rows`` rows (cached).

        Each of ``n_null`` draws pairs a resampled reference (of the reference's size) with a
        resampled window of ``n_rows`` rows, both drawn from the stored reference sample as row
        multiplicities (see :func:`_row_weights`, so the cost does not grow with the window
        size), and computes every statistic on the pair. The reference draws do not depend on
        the window size and are shared by all sizes. A threshold is an upper 90% confidence
        bound on the (1 - alpha) quantile of its statistic over the draws (so the finite number
        of draws does not raise the false-alarm rate above alpha), raised to the materiality
        floor; the sampling error of a performance estimate is its standard deviation over the
        draws.
        """
        self._check_fitted()
        key = self._size_key(n_rows)
        if key in self.null_cache_:
            return self.null_cache_[key]
        rng = np.random.default_rng([int(self.random_state), key])
        t = len(self.null_sample_["score_fine"])
        current = tally_many(
            self.layout_, self.null_sample_, _row_weights(rng, key, t, self.n_null)
        )
        stats = self._statistics(self._null_references(), current, light=True)
        # A statistic that is undefined for this monitor (no PCA, no features) is one NaN.
        draws = {k: np.broadcast_to(np.asarray(v, float), (self.n_null,)) for k, v in stats.items()}
        floors = self.settings_["floors"]
        entry: dict[str, Any] = {
            "n_rows": key,
            "thresholds": {},
            "quantiles": {},
            "se": {},
            "se_estimate": {},
            "se_shift": {},
        }
        for name in _THRESHOLDED:
            q = upper_quantile_bound(draws[name], 1.0 - self.alpha)
            entry["quantiles"][name] = q
            entry["thresholds"][name] = max(q, floors[name]) if np.isfinite(q) else floors[name]
        for name in (*_PERFORMANCE, "approval_rate"):
            # With reference labels the band is the spread of the realized metric over windows
            # of this size (what reconciliation will compare against); without, the spread of
            # the estimate itself.
            source = draws.get("realized_" + name, draws[name])
            entry["se"][name] = _spread(source)
            entry["se_estimate"][name] = _spread(draws[name])
            entry["se_shift"][name] = _spread(draws[name + "_shift"])
        self.null_cache_[key] = entry
        return entry

    def _null_references(self) -> dict:
        """The stacked tallies of the resampled references (drawn once, for every window size)."""
        cached = getattr(self, "_null_reference_tallies", None)
        if cached is None:
            rng = np.random.default_rng([int(self.random_state), 0])
            t = len(self.null_sample_["score_fine"])
            weights = _row_weights(rng, self.n_reference_, t, self.n_null)
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
        with self._pool() as pool:
            return self._count(window, chunk_rows, pool)

    @contextmanager
    def _pool(self) -> Iterator[Executor | None]:
        """A thread pool of ``n_jobs`` workers (BLAS on one thread each), or None for one."""
        workers = resolve_n_jobs(self.n_jobs)
        if workers <= 1:
            yield None
            return
        with one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            yield pool

    def _count(self, window: Any, chunk_rows: int, pool: Executor | None) -> WindowCounts:
        if isinstance(window, WindowCounts):
            return window
        if isinstance(window, (str, os.PathLike)):
            return self._count_parquet(Path(window), chunk_rows, pool)
        if type(window).__module__.startswith("dask."):
            return self._count_dask(window)
        if not isinstance(window, pd.DataFrame):
            raise InputTypeError(
                f"a window must be a DataFrame, a Parquet path or a Dask DataFrame, not "
                f"{type(window).__name__}."
            )
        self.layout_.check_columns(window.columns)
        starts = range(0, len(window), chunk_rows)
        chunks = (window.iloc[start : start + chunk_rows] for start in starts)
        return self._count_chunks(chunks, pool)

    def _count_chunks(self, chunks: Any, pool: Executor | None) -> WindowCounts:
        """Sum the counts of ``chunks`` (DataFrames, or callables returning one), in order.

        With a pool, a few chunks are counted at once; at most twice the workers are in flight,
        so a streamed file stays in bounded memory.
        """

        def one(chunk: Any) -> WindowCounts:
            return self.counts().update(chunk() if callable(chunk) else chunk)

        counts = self.counts()
        if pool is None:
            for chunk in chunks:
                counts = counts + one(chunk)
            return counts
        pending: deque = deque()
        in_flight = 2 * resolve_n_jobs(self.n_jobs)
        for chunk in chunks:
            pending.append(pool.submit(one, chunk))
            if len(pending) >= in_flight:
                counts = counts + pending.popleft().result()
        while pending:
            counts = counts + pending.popleft().result()
        return counts

    def _count_parquet(self, path: Path, chunk_rows: int, pool: Executor | None) -> WindowCounts:
        handle = self._open_parquet(path)
        self.layout_.check_columns(handle.schema_arrow.names)
        # Only the monitored columns are read, one row group slice at a time: memory stays at
        # a few chunks of those columns whatever the file size.
        batches = handle.iter_batches(batch_size=chunk_rows, columns=self.layout_.columns)
        return self._count_chunks((batch.to_pandas for batch in batches), pool)

    @staticmethod
    def _open_parquet(path: Path) -> Any:
        import pyarrow.parquet as pq

        if not path.is_file():
            raise DataFileError(f"window file {str(path)!r} does not exist or is not a file.")
        try:
            return pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own types for corrupt files
            raise DataFileError(f"could not read {str(path)!r} as Parquet: {exc}") from exc

    def _rows_hint(self, window: Any) -> int | None:
        """The window's row count when it is known before counting (to draw its null early)."""
        if isinstance(window, pd.DataFrame):
            return len(window)
        if isinstance(window, (str, os.PathLike)) and Path(window).is_file():
            try:
                return int(self._open_parquet(Path(window)).metadata.num_rows)
            except DataFileError:
                return None
        return None

    def _count_dask(self, frame: Any) -> WindowCounts:
        dask = require("dask", "check_dask")
        self.layout_.check_columns(frame.columns)
        parts = frame[self.layout_.columns].to_delayed()
        tasks = [dask.delayed(_count_partition)(self.layout_, part) for part in parts]
        counts = self.counts()
        for part in dask.compute(*tasks):
            counts = counts.merge(part)
        return counts

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
            The window's rows (score and feature columns); paths are streamed in chunks.
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
        with self._pool() as pool:
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
        n = self._rows_hint(window) if pool is not None else None
        if not n or self._size_key(n) in self.null_cache_:
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
        thr = null["thresholds"]
        ref_stats = self.reference_stats_
        metrics: list[MetricRow] = []

        def gated(monitor: str, metric: str, name: str) -> float:
            value, limit = stats[name], thr[name]
            fired = None if not np.isfinite(value) else bool(value > limit)
            metrics.append(MetricRow(monitor, metric, value, limit, fired=fired))
            return _ratio(value, limit) if np.isfinite(value) else float("nan")

        def info(monitor: str, metric: str, value: float) -> None:
            metrics.append(MetricRow(monitor, metric, value))

        ratios: dict[str, float] = {}
        ratios["score"] = gated("score", "psi", "score_psi")
        info("score", "psi_corrected", stats["score_psi_corrected"])
        info("score", "psi_pvalue", stats["score_pvalue"])
        gated("score", "ks", "score_ks")
        gated("score", "wasserstein_norm", "score_wasserstein")

        table = stats["feature_table"]
        shifted = self._shifted_features(table)
        if table:
            ratios["features"] = gated("features", "max_psi", "features_max_psi")
            gated("features", "weighted_psi", "features_weighted_psi")
            info("features", "n_shifted", float(len(shifted)))
            gated("features", "missing_rate_change_max", "missing_max_delta")
            unseen = [r.get("unseen_share", 0.0) for r in table]
            info("features", "unseen_share_max", max(unseen))
        else:
            ratios["features"] = float("nan")

        info("entropy", "mean_entropy", stats["entropy_current"])
        info("entropy", "mean_entropy_reference", stats["entropy_reference"])
        ratios["entropy"] = gated("entropy", "entropy_change", "entropy_delta")
        info("entropy", "near_cutoff_share", stats["near_current"])
        gated("entropy", "near_cutoff_change", "near_delta")

        ratios["confidence"] = gated("confidence", "ks", "confidence_ks")

        ratios["performance"] = self._performance_rows(stats, ref_stats, null, metrics)

        info("operational", "volume", float(n))
        appr, appr_ref, appr_se = (
            clip_to_range("approval_rate", stats["approval_rate"]),
            ref_stats["approval_rate"],
            null["se_shift"]["approval_rate"],
        )
        half = self.n_sigma * appr_se
        appr_fired = bool(abs(appr - appr_ref) > half) if np.isfinite(half) else None
        metrics.append(
            MetricRow(
                "operational",
                "approval_rate",
                appr,
                None,
                clip_to_range("approval_rate", appr_ref - half),
                clip_to_range("approval_rate", appr_ref + half),
                appr_fired,
            )
        )
        oor = gated("operational", "out_of_range_share", "out_of_range_share")
        appr_ratio = _ratio(abs(appr - appr_ref), half) if np.isfinite(half) else float("nan")
        ratios["operational"] = float(np.nanmax([oor, appr_ratio]))

        if np.isfinite(stats["multivariate_delta"]):
            ratios["multivariate"] = gated(
                "multivariate", "reconstruction_error_change", "multivariate_delta"
            )
            info("multivariate", "high_error_share", stats["multivariate_high_share"])
        else:
            ratios["multivariate"] = float("nan")

        settings = self.settings_
        composite = composite_score(ratios, settings["weights"], settings["composite"])
        raw_before = self.tracker_.raw
        severity = self.tracker_.step(composite)
        fired = [m for m in MONITORS if np.isfinite(ratios.get(m, np.nan)) and ratios[m] > 1]
        details = self._details(stats, ratios, fired, shifted, counts, null, raw_before)
        self.estimates_[window_id] = self._estimates(metrics)
        return WindowResult(window_id, start, end, n, composite, severity, metrics, details)

    @staticmethod
    def _estimates(metrics: list[MetricRow]) -> dict:
        """The window's performance estimates and bands, kept for :meth:`reconcile`."""
        out = {}
        for row in metrics:
            if row.monitor == "performance":
                d = row.to_dict()
                name = row.metric.removeprefix("expected_")
                out[name] = {"estimated": d["value"], "low": d["low"], "high": d["high"]}
        return out

    def _shifted_features(self, table: list[dict]) -> list[str]:
        """Features with a significant shift after BH control and a material PSI."""
        if not table:
            return []
        reject = bh_reject(np.array([r["pvalue"] for r in table]), self.fdr)
        floor = self.settings_["floors"]["feature_psi"]
        out = []
        for row, rej in zip(table, reject, strict=True):
            row["shifted"] = bool(rej and row["psi"] > floor)
            if row["shifted"]:
                out.append(row["feature"])
        return out

    def _performance_rows(
        self, stats: dict, ref_stats: dict, null: dict, metrics: list[MetricRow]
    ) -> float:
        """Expected-performance rows with ±n_sigma sampling-error bands; returns the ratio.

        The band around an estimate is the spread of the realized metric over reference windows
        of this size (what reconciliation compares with), clipped to the metric's range; a metric
        fires when its shift from the reference estimate exceeds n_sigma times the null spread of
        that shift.
        """
        ratios = []
        for name in _PERFORMANCE:
            value, ref_value = clip_to_range(name, stats[name]), ref_stats[name]
            half = self.n_sigma * null["se"][name]
            limit = self.n_sigma * null["se_shift"][name]
            if not (np.isfinite(value) and np.isfinite(half) and half > 0 and limit > 0):
                metrics.append(MetricRow("performance", f"expected_{name}", value))
                continue
            shift = abs(value - ref_value)
            ratios.append(shift / limit)
            metrics.append(
                MetricRow(
                    "performance",
                    f"expected_{name}",
                    value,
                    None,
                    clip_to_range(name, value - half),
                    clip_to_range(name, value + half),
                    bool(shift > limit),
                )
            )
        return float(max(ratios)) if ratios else float("nan")

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
        notes = [BLIND_SPOT]
        if counts.unseen:
            notes.append(
                "unseen categories (counted in each feature's 'unseen' bin): "
                + "; ".join(f"{k}: {v}" for k, v in counts.unseen.items())
            )
        all_missing = [r["feature"] for r in stats["feature_table"] if r["missing_current"] >= 1]
        if all_missing:
            notes.append(f"features entirely missing in this window: {all_missing}")
        if stats["out_of_range_share"] > 0:
            notes.append(
                f"{stats['out_of_range_share']:.2%} of scores lie outside the reference range "
                f"[{self.layout_.fine_edges[0]:.4g}, {self.layout_.fine_edges[-1]:.4g}]"
            )
        if not self.calibration_info_.get("calibrated") and self.fit_params_["label"] is None:
            notes.append("no reference labels: expected performance assumes calibrated scores")
        return {
            "model": self.model,
            "model_version": self.model_version,
            "reference_hash": self.reference_hash,
            "config_hash": self.config_hash,
            "ratios": {k: (v if np.isfinite(v) else None) for k, v in ratios.items()},
            "fired_monitors": fired,
            "raw_level": LEVELS[self.tracker_.raw],
            "previous_raw_level": LEVELS[raw_before],
            "score_bins": {
                "edges": self.layout_.score_edges.tolist(),
                "contributions": stats["score_contributions"],
            },
            "features": stats["feature_table"],
            "shifted_features": shifted,
            "null": {"n_rows": null["n_rows"], "alpha": self.alpha, "n_null": self.n_null},
            "notes": notes,
        }

    # --- reconciliation -----------------------------------------------------------------------

    def reconcile(self, window_id: str, labels: Any, scores: Any = None) -> Reconciliation:
        """Compare a past window's label-free estimates with its matured labels.

        Parameters
        ----------
        window_id : str
            A window checked earlier by this monitor.
        labels : array-like of 0/1
            Realized outcomes (1 = bad).
        scores : array-like, optional
            The window's scores, row-aligned with ``labels``; needed for AUC, precision, recall.

        Returns
        -------
        Reconciliation
        """
        self._check_fitted()
        if str(window_id) not in self.estimates_:
            raise InputError(
                f"window {window_id!r} was not checked by this monitor; known windows: "
                f"{list(self.estimates_)[-10:]}."
            )
        estimates = self.estimates_[str(window_id)]
        y = check_labels(labels, need_both=False)
        realized = {"bad_rate": float(y.mean())}
        notes = []
        if scores is not None:
            p = check_scores(pd.Series(np.asarray(scores)), "scores")
            if p.size != y.size:
                raise InputError(f"got {p.size} scores for {y.size} labels; they must match.")
            declined = p >= self.layout_.cutoff
            if np.unique(y).size == 2:
                realized["auc"] = float(roc_auc_score(y, p))
            if declined.any():
                realized["precision"] = float(y[declined].mean())
            if y.sum() > 0:
                realized["recall"] = float(y[declined].sum() / y.sum())
        else:
            notes.append("no scores given: only the bad rate can be reconciled")
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
        return Reconciliation(str(window_id), int(y.size), rows, notes)

    # --- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Everything needed to check and reconcile later, as JSON-able data."""
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
                "null_cache": {str(k): v for k, v in self.null_cache_.items()},
                "importance": self.importance_,
                "score_std": self.score_std_,
                "calibration_info": self.calibration_info_,
                "n_reference": self.n_reference_,
                "reference_hash": self.reference_hash,
                "config_hash": self.config_hash,
                "tracker": self.tracker_.to_dict(),
                "estimates": self.estimates_,
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the fitted monitor to ``path`` atomically; returns the path."""
        return write_json(self.to_dict(), path, indent=None)

    @classmethod
    def from_dict(cls, data: Mapping) -> Monitor:
        if data.get("format") != _FORMAT_VERSION:
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
        mon.layout_ = Layout.from_dict(data["layout"])
        mon.reference_counts_ = {
            k: np.asarray(v, float) for k, v in data["reference_counts"].items()
        }
        sample = {}
        for key, values in data["null_sample"].items():
            arr = np.asarray(values)
            sample[key] = (
                arr.astype(np.intp)
                if key.startswith(("score_", "conf_", "feat:"))
                else arr.astype(float)
            )
        sample["unseen"] = {}
        mon.null_sample_ = sample
        mon.null_cache_ = {int(k): v for k, v in data["null_cache"].items()}
        mon.importance_ = dict(data["importance"])
        mon.score_std_ = float(data["score_std"])
        mon.calibration_info_ = dict(data["calibration_info"])
        mon.n_reference_ = int(data["n_reference"])
        mon.reference_hash = data["reference_hash"]
        mon.tracker_ = SeverityTracker(
            mon.settings_["cutoffs"], mon.hysteresis, mon.settings_["k"], mon.settings_["m"]
        )
        mon.tracker_.load(data["tracker"])
        mon.estimates_ = {k: dict(v) for k, v in data["estimates"].items()}
        mon.reference_stats_ = mon._statistics(mon.reference_counts_, mon.reference_counts_)
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
        return cls.from_dict(data)

    def __repr__(self) -> str:
        fitted = f", fitted on {self.n_reference_} rows" if hasattr(self, "layout_") else ""
        return f"Monitor(preset={self.preset!r}{fitted})"


def _performance(t: dict, realized: bool = True) -> dict:
    """Expected (and, for labelled reference draws, realized) performance from one tally."""
    n, declined, pos = t["n"][..., 0], t["declined"][..., 0], t["pos"][..., 0]
    out = {
        "bad_rate": pos / n,
        "precision": _ratio(t["pos_declined"][..., 0], declined),
        "recall": _ratio(t["pos_declined"][..., 0], pos),
        "auc": expected_auc(t["score_fine"], t["fine_pos"]),
        "approval_rate": 1.0 - declined / n,
    }
    if realized and "label" in t:  # resampled reference windows: what the labels say
        lab, lab_declined = t["label"][..., 0], t["label_declined"][..., 0]
        out["realized_bad_rate"] = lab / n
        out["realized_precision"] = _ratio(lab_declined, declined)
        out["realized_recall"] = _ratio(lab_declined, lab)
        out["realized_auc"] = expected_auc(t["score_fine"], t["fine_label"])
    return out


def _as_float(value: Any) -> Any:
    """A Python float for a single window's statistic; arrays (stacked draws) unchanged."""
    return float(value) if np.ndim(value) == 0 else value


#: Row multiplicities are drawn exactly (sampled row indices) up to this many draws per row...
_EXACT_PER_ROW = 4.0
#: ... and from the normal approximation of the multinomial above this many; Poisson between.
_NORMAL_PER_ROW = 25.0


def _row_weights(rng: np.random.Generator, n: int, t: int, draws: int) -> np.ndarray:
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
        return _poisson(rng, lam, (draws, t))
    z = rng.standard_normal((draws, t), dtype=np.float32)
    z -= z.mean(axis=1, keepdims=True)
    z *= np.float32(np.sqrt(lam))
    z += np.float32(lam)
    return np.maximum(z, 0.0, out=z)


def _poisson(rng: np.random.Generator, lam: float, shape: tuple[int, int]) -> np.ndarray:
    """Poisson(lam) draws by inversion of the CDF with a guide table (Chen and Asau, 1974).

    Exact (up to a tail below 1e-30), and several times faster than numpy's own sampler or a
    plain binary search at these means. ``u * cells`` is exact for a power-of-two ``cells``, so
    the cell of every uniform is exact; a cell whose two ends invert to the same value decides
    it, and the few others are searched.
    """
    cdf = sps.poisson.cdf(np.arange(int(lam + 12 * np.sqrt(lam) + 12)), lam)
    cells = 4096
    ends = np.arange(cells + 1) / cells
    low = np.searchsorted(cdf, ends[:-1], side="right")  # the value at each cell's left end
    high = np.searchsorted(cdf, ends[1:], side="left")  # the largest value inside the cell
    u = rng.random(shape, dtype=np.float32)
    cell = (u * np.float32(cells)).astype(np.intp)
    out = low[cell]
    unsure = np.flatnonzero(out != high[cell])
    flat = out.reshape(-1)
    flat[unsure] = np.searchsorted(cdf, u.reshape(-1)[unsure], side="right")
    return out.astype(np.float32)


def _done(value: Any) -> Future:
    """A future that already holds ``value``."""
    future: Future = Future()
    future.set_result(value)
    return future


def _submitter(pool: Executor | None) -> Any:
    """``run(fn, *args) -> Future``: in ``pool``, or at once in this thread without one."""

    def run(fn: Any, *args: Any) -> Future:
        if pool is not None:
            return pool.submit(fn, *args)
        return _done(fn(*args))

    return run


def _spread(values: list) -> float:
    """Standard deviation of the finite values (NaN with fewer than three)."""
    arr = np.asarray(values, float)
    arr = arr[np.isfinite(arr)]
    return float(arr.std(ddof=1)) if arr.size > 2 else float("nan")


def _count_partition(layout: Layout, part: pd.DataFrame) -> WindowCounts:
    """Counts of one Dask partition (runs on a worker)."""
    return WindowCounts(layout).update(part)


def _subsample(enc: dict, rows: int, random_state: int) -> dict:
    """At most ``rows`` encoded reference rows, chosen at random (the resampling pool)."""
    n = len(enc["score_fine"])
    if n <= rows:
        return {k: v for k, v in enc.items()}
    keep = np.sort(np.random.default_rng(random_state).choice(n, rows, replace=False))
    return {k: (v if k == "unseen" else v[keep]) for k, v in enc.items()}
