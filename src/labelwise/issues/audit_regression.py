"""Auditing a numeric target: out-of-sample predictions, per-row uncertainty and flagged rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from labelwise._shared.serialize import json_scalar as _plain
from labelwise.errors import ConfigError, InputTypeError, LabelError
from labelwise.issues._crossfit import CrossFit, Fitted
from labelwise.issues.data_issues import DataIssues
from labelwise.issues.regression import (
    RegressionIssues,
    cross_val_predictions,
    find_regression_issues,
    residual_scale,
)
from labelwise.models import (
    AUTO_REGRESSORS,
    ModelChoice,
    choose_regressor,
    load_estimator,
    make_regressor,
    regression_quality,
)
from labelwise.predict import table_preprocessor

__all__ = [
    "RegressionAuditReport",
    "RegressionQuality",
    "audit_regression",
    "detect_task",
    "with_table_rows",
]

TASKS = ("auto", "classification", "regression")
#: A numeric label is read as a regression target when it has more distinct values than this
#: (and either non-integer values or more distinct values than the square root of the rows).
MAX_CLASSES_AUTO = 20
#: Below this R² on the rows it does not flag, the model misses much of the target's variation.
WEAK_R2 = 0.5


def with_table_rows(
    frame: pd.DataFrame, table: pd.DataFrame | None, include_features: bool
) -> pd.DataFrame:
    """An issues frame with the table's own ``index`` after ``row``, and optionally the rows'
    feature values (a feature named like an issues column gets a ``feature_`` prefix)."""
    rows = frame["row"].to_numpy()
    index = table.index[rows] if table is not None else rows
    frame.insert(2, "index", np.asarray(index))
    if not include_features or table is None:
        return frame
    values = table.iloc[rows].reset_index(drop=True)
    renamed = {c: f"feature_{c}" for c in values.columns if c in frame.columns}
    return pd.concat([frame, values.rename(columns=renamed)], axis=1)


def detect_task(labels: pd.Series) -> tuple[str, str]:
    """``("classification" | "regression", why)`` for a label column.

    Examples
    --------
    >>> import pandas as pd
    >>> from labelwise.issues.audit_regression import detect_task
    >>> detect_task(pd.Series(["a", "b", "a"]))[0]
    'classification'
    >>> detect_task(pd.Series([0.5 * i for i in range(100)]))[0]
    'regression'
    """
    dtype = labels.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if not numeric or isinstance(dtype, pd.CategoricalDtype):
        return "classification", "the label is not numeric"
    values = labels.to_numpy(dtype=float)
    distinct = int(pd.unique(values).size)
    fractional = bool((values != np.round(values)).any())
    many = distinct > np.sqrt(values.size)
    if distinct > MAX_CLASSES_AUTO and (fractional or many):
        return "regression", (
            f"a numeric label with {distinct:,} distinct values is read as a regression target; "
            "pass task='classification' (--task classification) to treat the values as classes"
        )
    return "classification", f"a numeric label with {distinct} distinct values"


@dataclass(frozen=True)
class RegressionQuality:
    """Out-of-sample quality of the predictions, and any doubts about the flagged rows."""

    r2: float
    mae: float
    rmse: float
    clean_r2: float
    doubts: tuple[str, ...]

    @property
    def trusted(self) -> bool:
        return not self.doubts

    def summary(self) -> dict[str, Any]:
        return {
            "r2": _plain(self.r2),
            "mae": self.mae,
            "rmse": self.rmse,
            "clean_r2": _plain(self.clean_r2),
            "trusted": self.trusted,
            "doubts": list(self.doubts),
        }


def _assess(targets: np.ndarray, predictions: np.ndarray, flagged: np.ndarray) -> RegressionQuality:
    metrics = regression_quality(targets, predictions)
    clean = ~flagged
    clean_r2 = (
        regression_quality(targets[clean], predictions[clean])["r2"] if clean.sum() > 1 else np.nan
    )
    doubts = []
    if not np.isnan(clean_r2) and clean_r2 < WEAK_R2:
        doubts.append(
            f"The model explains only {max(clean_r2, 0):.0%} of the target's variance on the "
            "rows it does not flag: a large residual may be a row it cannot predict rather than "
            "a wrong target. A stronger model or more informative features would sharpen it."
        )
    return RegressionQuality(**metrics, clean_r2=float(clean_r2), doubts=tuple(doubts))


@dataclass(frozen=True, eq=False)
class RegressionAuditReport:
    """The result of auditing a numeric target: which values look wrong, and how good the model is.

    Attributes
    ----------
    issues : RegressionIssues
        The flagged rows (``issues.indices`` are row positions, most suspicious first), their
        scores, the suggested values (the out-of-sample predictions) and the estimated share of
        corrupted targets (``issues.noise_rate``).
    predictions : ndarray of shape (n_rows,)
        Out-of-sample predictions.
    uncertainty : ndarray of shape (n_rows,)
        The per-row scale residuals are measured in.
    label, features, model, n_rows, model_choice
        As in :class:`labelwise.AuditReport`.
    quality : RegressionQuality
        R², mean absolute and root mean squared error out of sample, and plain-words doubts.
    task_reason : str
        Why the label was read as a regression target.
    data_issues : DataIssues or None
        The data issues found from the features (``issue_types=`` of :func:`labelwise.audit`);
        the class-based checks are skipped for a numeric target.
    """

    issues: RegressionIssues
    predictions: np.ndarray
    uncertainty: np.ndarray
    label: str
    features: list
    model: Any
    n_rows: int
    model_choice: ModelChoice
    quality: RegressionQuality
    task_reason: str = ""
    data_issues: DataIssues | None = None
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    task = "regression"

    @property
    def model_name(self) -> str:
        return self.model_choice.name

    @property
    def trusted(self) -> bool:
        return self.quality.trusted

    def to_frame(self, include_features: bool = False) -> pd.DataFrame:
        """The flagged rows, most suspicious first: rank, row, index, given, suggested, score,
        residual, z (and the features with ``include_features=True``)."""
        return with_table_rows(self.issues.to_frame(), self._frame, include_features)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready overview."""
        return {
            "task": "regression",
            "task_reason": self.task_reason,
            "label": _plain(self.label),
            "features": [_plain(f) for f in self.features],
            "model": self.model_name,
            "n_rows": self.n_rows,
            "method": self.issues.method,
            "threshold": self.issues.threshold,
            "num_issues": self.issues.num_issues,
            "issue_share": self.issues.num_issues / self.n_rows,
            "noise_rate": self.issues.noise_rate,
            "model_choice": self.model_choice.summary(),
            "model_quality": self.quality.summary(),
            "trusted": self.trusted,
            "data_issues": None if self.data_issues is None else self.data_issues.summary(),
        }

    def __repr__(self) -> str:
        q = self.quality
        cautions = "".join(f"\n  caution: {d}" for d in q.doubts)
        return (
            f"RegressionAuditReport(label={self.label!r}, n_rows={self.n_rows}, "
            f"n_features={len(self.features)}, model={self.model_name})\n"
            f"  issues: {self.issues.num_issues} rows ({self.issues.num_issues / self.n_rows:.1%})"
            f", estimated corrupted share {self.issues.noise_rate:.1%}\n"
            f"  model out of sample: R² {q.r2:.3f}, MAE {q.mae:.4g}, RMSE {q.rmse:.4g}"
            f"{cautions}"
        )


def regression_targets(labels: pd.Series, label: Any) -> np.ndarray:
    """The label column as finite floats, or a clear error."""
    try:
        values = labels.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"task='regression' needs a numeric label column, but {label!r} holds "
            f"{labels.dtype} values; use task='classification' for class names."
        ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        raise LabelError(
            f"{int(bad.sum())} values of {label!r} are infinite; drop or fix those rows first."
        )
    return values


def _predictions(
    X: pd.DataFrame, targets: np.ndarray, model: Any, ensemble: bool, candidates: Any, fit: CrossFit
) -> Fitted:
    """Out-of-sample predictions from the chosen (or given) regressor, and the choice made."""
    if model is None or (isinstance(model, str) and model == "auto") or ensemble:
        if model not in (None, "auto"):
            raise ConfigError("ensemble=True averages the 'auto' candidates; leave model='auto'.")
        if candidates is None:
            candidates = AUTO_REGRESSORS
        return fit.choose(choose_regressor, X, targets, candidates, ensemble)
    if isinstance(model, str):
        name = model
        estimator = _imported(model, X) if ":" in model else make_regressor(model, X)
    else:
        name, estimator = type(model).__name__, model
    return fit.given(cross_val_predictions, name, estimator, X, targets)


def _imported(path: str, X: pd.DataFrame) -> Any:
    estimator = load_estimator(path, kind="regressor")
    return Pipeline([("columns", table_preprocessor(X)), ("regressor", estimator)])


def audit_regression(
    X: pd.DataFrame,
    targets: np.ndarray,
    *,
    label: str,
    model: Any = "auto",
    ensemble: bool = False,
    candidates: Any = None,
    cv: Any = 5,
    random_state: Any = 0,
    n_jobs: int | None = -1,
    threshold: float | None = None,
    task_reason: str = "",
    progress: Callable[[int, int], Any] | None = None,
) -> RegressionAuditReport:
    """Audit a numeric target against out-of-sample predictions (see :func:`labelwise.audit`).

    Predictions come from the chosen regressor; each row's uncertainty from an out-of-sample
    model of the residuals' size (:func:`labelwise.issues.regression.residual_scale`); rows
    whose residual is too large for that uncertainty are flagged
    (:func:`labelwise.issues.regression.find_regression_issues`).
    """
    fit = CrossFit(cv, random_state, n_jobs, progress)
    report = regression_report(X, targets, label, model, ensemble, candidates, fit, threshold)
    return replace(report, task_reason=task_reason)


def regression_report(
    X: pd.DataFrame,
    targets: np.ndarray,
    label: str,
    model: Any,
    ensemble: bool,
    candidates: Any,
    fit: CrossFit,
    threshold: float | None = None,
) -> RegressionAuditReport:
    """:func:`audit_regression` with its cross-validation settings already gathered."""
    predictions, estimator, choice = _predictions(X, targets, model, ensemble, candidates, fit)
    uncertainty = residual_scale(
        X, targets - predictions, cv=fit.cv, random_state=fit.random_state, predictions=predictions
    )
    issues = find_regression_issues(
        targets, predictions, uncertainty=uncertainty, threshold=threshold
    )
    return RegressionAuditReport(
        issues=issues,
        predictions=predictions,
        uncertainty=uncertainty,
        label=label,
        features=list(X.columns),
        model=estimator,
        n_rows=int(targets.size),
        model_choice=choice,
        quality=_assess(targets, predictions, issues.mask),
        _frame=X,
    )
