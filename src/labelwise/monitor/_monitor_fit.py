"""Fitting a monitor on its reference window, and the state a fitted monitor starts from.

One reason to change: what :meth:`Monitor.fit <labelwise.monitor.Monitor.fit>` learns from the
reference and keeps. The fitting itself (bins, calibration, PCA, the error model, the resampling
pool) is :func:`~labelwise.monitor._reference.fit_reference`; this module checks the call, runs
it and stores what it returns on the monitor.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Real
from typing import TYPE_CHECKING

import pandas as pd

from labelwise._params import Interval, check_params
from labelwise.errors import ConfigError
from labelwise.monitor._fit import frame_hash
from labelwise.monitor._kinds import resolve_output
from labelwise.monitor._reference import check_reference, fit_reference, reference_outputs
from labelwise.monitor._window_reading import thread_pool

if TYPE_CHECKING:
    from labelwise.monitor._monitor import Monitor

__all__ = ["FittedMonitor"]

_CUTOFF = {"cutoff": [Interval(Real, 0, 1, closed="neither")]}


class FittedMonitor:
    """:meth:`fit`, and what a fitted monitor knows: its kind, its columns, its fresh state."""

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
        if spec.kind == "binary":
            check_params(_CUTOFF, {"cutoff": cutoff})
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
        watched = [*spec.columns, *features] + ([label] if label else [])
        self.reference_hash = frame_hash(frame, watched)
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
