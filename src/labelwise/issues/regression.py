"""Finding the rows of a numeric target whose given value is likely wrong.

A regression target has no classes to be confused with one another: a wrong value shows up as a
residual, ``target - prediction``, far larger than the model's usual error at that row. The
pieces here, over plain arrays:

- :func:`cross_val_predictions`: out-of-sample predictions, each row predicted by a model that
  never saw its target;
- :func:`residual_scale`: how large the residual of each row usually is (an out-of-sample model
  of ``|residual|`` given the features), so that a noisy region of the table is not mistaken for
  a region of errors;
- :func:`regression_quality_scores`: the two-sided normal tail probability of each residual
  measured in units of that scale (1 = best);
- :func:`find_regression_issues`: the rows whose score is too low to be ordinary noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import erfc
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold

from labelwise._params import Interval, check_params, is_integer
from labelwise._validate import as_array
from labelwise.errors import ConfigError, InputError, InputTypeError, ShapeError
from labelwise.issues.filter import FlaggedRows
from labelwise.predict import check_progress, cv_splits, fit_on_fold, rows_matching, run_folds

__all__ = [
    "DEFAULT_THRESHOLD",
    "REGRESSION_METHODS",
    "RegressionIssues",
    "cross_val_predictions",
    "default_scale_model",
    "estimate_noise_rate",
    "find_regression_issues",
    "regression_quality_scores",
    "residual_scale",
    "robust_scale",
]

ProgressCallback = Callable[[int, int], Any]

#: The values of :attr:`RegressionIssues.method`: where the scale of each residual came from.
REGRESSION_METHODS = ("robust_scale", "uncertainty")
#: 1 / Phi^-1(3/4): turns a median absolute deviation into a normal standard deviation.
MAD_TO_SD = 1.482602218505602
#: The default flagging threshold on the score: the two-sided normal tail beyond z = 3.
DEFAULT_THRESHOLD = float(erfc(3 / np.sqrt(2)))
#: No row's scale from :func:`residual_scale` falls below this share of the global scale.
SCALE_FLOOR = 0.1
#: The smallest score: the normal tail underflows to 0 beyond z of about 38.
_SCORE_FLOOR = np.finfo(np.float64).tiny
#: Most distinct codes of a text column in the default scale model (HGB's categorical limit).
_MAX_CODES = 254
#: The noise-rate mixture's uniform part spans at least [-6, 6] standardized units.
_MIN_HALF_WIDTH = 6.0
_EM_STEPS = 1000
#: Below this many rows the default scale model is fit on one core.
_ONE_CORE_ROWS = 100_000


# -- validation ------------------------------------------------------------------------------


def _as_vector(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite numbers, or a labelwise error that says why."""
    if isinstance(values, (pd.Series, pd.Index)):
        try:
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            values = values.to_numpy()
    elif isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    elif sp.issparse(values):
        raise InputTypeError(f"{name} is a sparse matrix; pass a 1-D array of numbers.")
    if isinstance(values, (str, bytes)) or values is None:
        raise InputTypeError(f"{name} must be a 1-D array of numbers, got {type(values).__name__}.")
    arr = as_array(name, values, "a 1-D array of numbers")
    if arr.ndim != 1:
        hint = " Use .ravel() for a single column." if arr.ndim == 2 and 1 in arr.shape else ""
        raise ShapeError(f"{name} must be 1-D (one number per row), got shape {arr.shape}.{hint}")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InputTypeError(
                f"{name} must hold numbers, got dtype {arr.dtype} (e.g. {arr[:3].tolist()}). "
                "Convert the column to numbers first; a column of class names is a "
                "classification target (labelwise.find_label_issues)."
            ) from None
    arr = arr.astype(np.float64, copy=False)
    if arr.size == 0:
        raise InputError(f"{name} is empty; it needs one number per row.")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"{name} has {rows.size} missing or infinite values (rows {rows[:5].tolist()}); "
            "drop those rows or fill them before scoring."
        )
    return arr


def _check_pair(targets: Any, predictions: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _as_vector(targets, "targets")
    p = _as_vector(predictions, "predictions")
    if t.size != p.size:
        raise ShapeError(
            f"targets has {t.size} values but predictions has {p.size}; they must describe the "
            "same rows in the same order."
        )
    with np.errstate(over="ignore"):
        overflow = ~np.isfinite(t - p)
    if overflow.any():
        rows = np.flatnonzero(overflow)
        raise InputError(
            f"targets and predictions differ by more than the largest float at rows "
            f"{rows[:5].tolist()}; rescale the target (e.g. divide it by a power of 10)."
        )
    return t, p


def _check_uncertainty(uncertainty: Any, n: int) -> np.ndarray:
    """A positive finite scale per row, from a scalar or one value per row."""
    if np.ndim(uncertainty) == 0 and not isinstance(uncertainty, (str, bytes)):
        try:
            value = float(uncertainty)
        except (TypeError, ValueError):
            raise InputTypeError(
                f"uncertainty must be a number or one number per row, got {uncertainty!r}."
            ) from None
        scale = np.full(n, value)
    else:
        scale = _as_vector(uncertainty, "uncertainty")
        if scale.size != n:
            raise ShapeError(
                f"uncertainty has {scale.size} values for {n} rows; pass a single number or "
                "one per row."
            )
    if not (np.isfinite(scale) & (scale > 0)).all():
        bad = np.flatnonzero(~(np.isfinite(scale) & (scale > 0)))
        raise InputError(
            f"uncertainty must be positive and finite, but {bad.size} values are not (rows "
            f"{bad[:5].tolist()}, e.g. {scale[bad[0]]!r}). A scale of 0 would make every "
            "residual infinitely suspicious; floor it, e.g. np.maximum(u, 0.1 * np.median(u))."
        )
    return scale


def _check_threshold(threshold: Any) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = np.nan
    if isinstance(threshold, bool) or not 0 <= value <= 1:
        raise ConfigError(
            f"threshold must be a score in [0, 1] (rows scoring below it are flagged), got "
            f"{threshold!r}. For a cut-off in standard deviations z, use "
            "scipy.special.erfc(z / 2 ** 0.5)."
        )
    return value


# -- scores ----------------------------------------------------------------------------------


def robust_scale(residuals: Any) -> float:
    """1.4826 x the median absolute deviation of ``residuals``; the std, then 1, when it is 0.

    The median ignores a minority of gross errors, which the standard deviation does not: 10% of
    corrupted targets can double the standard deviation but move the median deviation little.

    Parameters
    ----------
    residuals : array-like of float
        Residuals ``targets - predictions`` (already validated: finite).

    Returns
    -------
    float
        A positive scale; for normal residuals, an estimate of their standard deviation.

    Examples
    --------
    >>> from labelwise.issues.regression import robust_scale
    >>> round(robust_scale([-1.0, 0.0, 1.0, 2.0, 100.0]), 4)
    1.4826
    """
    r = np.asarray(residuals, dtype=np.float64)
    scale = MAD_TO_SD * float(np.median(np.abs(r - np.median(r))))
    if not scale > 0:
        # More than half the residuals are equal (an exact model, or ties): fall back.
        scale = float(np.std(r))
    return scale if scale > 0 else 1.0


def _z(targets: np.ndarray, predictions: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.abs(targets - predictions) / scale


def _tail(z: np.ndarray) -> np.ndarray:
    # erfc keeps full relative precision far into the tail, where 1 - Phi(z) rounds to 0.
    return np.maximum(erfc(z / np.sqrt(2.0)), _SCORE_FLOOR)


def _scale(targets: np.ndarray, predictions: np.ndarray, uncertainty: Any) -> np.ndarray:
    if uncertainty is None:
        return np.full(targets.size, robust_scale(targets - predictions))
    return _check_uncertainty(uncertainty, targets.size)


def regression_quality_scores(
    targets: Any, predictions: Any, *, uncertainty: Any = None
) -> np.ndarray:
    """Score how likely each numeric target is correct (1 = best, near 0 = suspicious).

    Each residual is measured in units of its expected size,
    ``z_i = |targets_i - predictions_i| / s_i``, and scored by the two-sided normal tail
    probability ``score_i = 2 * (1 - Phi(z_i)) = erfc(z_i / sqrt(2))``: the chance that a
    correct target deviates this much from the prediction if its error is normal with standard
    deviation ``s_i``. So a score is a p-value: under that model a share ``t`` of correct rows
    scores below ``t``.

    Parameters
    ----------
    targets : array-like of shape (n_rows,)
        The given targets, finite numbers.
    predictions : array-like of shape (n_rows,)
        Out-of-sample predictions of the targets, e.g. from :func:`cross_val_predictions`.
    uncertainty : float or array-like of shape (n_rows,), optional
        ``s_i``: the standard deviation of a correct target around its prediction, one number
        for all rows or one per row (e.g. from :func:`residual_scale`); positive and finite.
        By default a robust global scale of the residuals ``r``:
        ``1.4826 * median(|r - median(r)|)`` (the standard deviation of normal residuals, and
        barely moved by a minority of gross errors), or their standard deviation when that is 0,
        or 1 when both are.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        Scores in (0, 1]; lower means more suspicious. They are floored at the smallest normal
        float (about 2e-308), which the tail reaches near z = 38.

    Raises
    ------
    ShapeError
        When an input is not 1-D or the lengths differ.
    InputError
        When a value is missing or infinite, or ``uncertainty`` is not positive.

    Examples
    --------
    >>> from labelwise.issues.regression import regression_quality_scores
    >>> scores = regression_quality_scores([1.0, 2.0, 9.0], [1.0, 3.0, 3.0], uncertainty=1.0)
    >>> scores.round(4)
    array([1.    , 0.3173, 0.    ])
    >>> bool(scores[2] > 0)
    True
    """
    t, p = _check_pair(targets, predictions)
    return _tail(_z(t, p, _scale(t, p, uncertainty)))


# -- flagging --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class RegressionIssues(FlaggedRows):
    """The rows whose given numeric target looks wrong, and why.

    Attributes
    ----------
    mask : ndarray of bool, shape (n_rows,)
        True where the target is flagged (score below ``threshold``).
    indices : ndarray of int
        Rows of the flagged targets, most suspicious first: ascending score, then (where the
        score has underflowed to its floor) descending ``z``; remaining ties keep row order.
    scores : ndarray of float, shape (n_rows,)
        The score of every row (:func:`regression_quality_scores`; lower = more suspicious).
    suggested : ndarray of float, shape (n_rows,)
        The out-of-sample prediction of every row: a likelier value than a flagged target.
    given : ndarray of float, shape (n_rows,)
        The given targets.
    scale : ndarray of float, shape (n_rows,)
        The standard deviation each residual was measured against (``uncertainty``, or the
        robust global scale repeated).
    noise_rate : float
        The estimated share of rows whose target is wrong (see :func:`find_regression_issues`).
    threshold : float
        Rows scoring below it are flagged.
    method : str
        ``"uncertainty"`` when a scale was given, ``"robust_scale"`` for the global one.
    """

    mask: np.ndarray
    indices: np.ndarray
    scores: np.ndarray
    suggested: np.ndarray
    given: np.ndarray
    scale: np.ndarray
    noise_rate: float
    threshold: float
    method: str

    @property
    def residuals(self) -> np.ndarray:
        """``given - suggested`` for every row."""
        return self.given - self.suggested

    @property
    def z(self) -> np.ndarray:
        """Every residual's size in units of its scale, ``|given - suggested| / scale``."""
        return _z(self.given, self.suggested, self.scale)

    def __repr__(self) -> str:
        n = self.mask.size
        return (
            f"RegressionIssues(method={self.method!r}, num_issues={self.num_issues} of {n} "
            f"({self.num_issues / n:.2%}), threshold={self.threshold:.3g}, "
            f"noise_rate={self.noise_rate:.2%})"
        )

    def to_frame(self, *, all_rows: bool = False) -> pd.DataFrame:
        """A tidy table: one row per flagged target, most suspicious first.

        Columns: ``rank`` (1 = most suspicious), ``row`` (position in the input), ``given``,
        ``suggested``, ``score``, ``residual`` (given - suggested) and ``z``. With
        ``all_rows=True`` every row is listed in input order, with ``is_issue`` and ``rank``
        (missing for unflagged rows).
        """
        columns = {
            "given": self.given,
            "suggested": self.suggested,
            "score": self.scores,
            "residual": self.residuals,
            "z": self.z,
        }
        return self._tidy(columns, all_rows)


def _ranked(mask: np.ndarray, scores: np.ndarray, z: np.ndarray) -> np.ndarray:
    flagged = np.flatnonzero(mask)
    # lexsort is stable and sorts by its last key first: score, then -z, then row order.
    return flagged[np.lexsort((-z[flagged], scores[flagged]))]


def estimate_noise_rate(standardized: np.ndarray) -> float:
    """The share of wrong targets, from the signed standardized residuals ``(t - p) / s``.

    Fits, by maximum likelihood (EM), the mixture ``(1 - q) N(0, k^2) + q U(lo, hi)``: correct
    rows have normal errors, with a free ``k`` that absorbs a scale somewhat too large or small,
    and wrong targets land anywhere over a wide range. Returns ``q``. Unlike the excess of flagged
    rows over the expected false alarms, this also counts the wrong targets that happen to lie
    near their prediction, through the uniform density there.

    The uniform spans the observed range, widened to at least [-6, 6]: over a narrower range it
    looks like the normal's shoulders, and pure normal noise would then be given a few percent of
    errors. It is also cut at twice the 99th percentile of ``|z|`` (at least 6), so that a single
    wild value (a typo of 1e6) cannot spread the uniform so thin that the other errors are read
    as normal noise. Heavy-tailed correct errors are partly counted as wrong.

    Parameters
    ----------
    standardized : array-like of float
        ``(targets - predictions) / scale`` for every row.

    Returns
    -------
    float
        The estimated share of wrong targets, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.issues.regression import estimate_noise_rate
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=10_000)
    >>> round(estimate_noise_rate(z), 3)
    0.0
    >>> z[:1000] = rng.uniform(-30, 30, 1000)  # 10% wrong, some of them near 0
    >>> round(estimate_noise_rate(z), 2)
    0.1
    """
    z = np.asarray(standardized, dtype=np.float64)
    cap = max(_MIN_HALF_WIDTH, 2 * float(np.quantile(np.abs(z), 0.99)))
    lo = float(np.clip(z.min(), -cap, -_MIN_HALF_WIDTH))
    hi = float(np.clip(z.max(), _MIN_HALF_WIDTH, cap))
    z = np.clip(z, lo, hi)
    uniform = 1.0 / (hi - lo)
    share, spread = 0.05, 1.0
    for _ in range(_EM_STEPS):
        normal = (1 - share) * np.exp(-0.5 * (z / spread) ** 2) / (np.sqrt(2 * np.pi) * spread)
        wrong = share * uniform / (normal + share * uniform)
        updated = float(wrong.mean())
        right = 1 - wrong
        spread = max(float(np.sqrt(np.sum(right * z**2) / max(np.sum(right), 1e-12))), 1e-6)
        converged = abs(updated - share) < 1e-7
        share = updated
        if converged or share < 1e-9:
            break
    return float(np.clip(share, 0.0, 1.0))


def find_regression_issues(
    targets: Any,
    predictions: Any,
    *,
    uncertainty: Any = None,
    threshold: float | None = None,
) -> RegressionIssues:
    """Flag the rows whose numeric target is too far from its prediction to be ordinary noise.

    Parameters
    ----------
    targets : array-like of shape (n_rows,)
        The given targets, finite numbers.
    predictions : array-like of shape (n_rows,)
        Out-of-sample predictions, e.g. from :func:`cross_val_predictions`.
    uncertainty : float or array-like of shape (n_rows,), optional
        The standard deviation of a correct target around its prediction, e.g. from
        :func:`residual_scale`; by default a robust global scale of the residuals
        (see :func:`regression_quality_scores`).
    threshold : float, optional
        Rows whose score is below it are flagged. The default, :data:`DEFAULT_THRESHOLD`
        (about 0.0027), flags residuals beyond 3 standard deviations: under normal errors it
        flags 0.27% of correct rows (3 in 1,000), while a gross error is many deviations out.
        On the benchmark's tuning seeds (benchmarks/regression_scores.py, scale from
        :func:`residual_scale`) it flagged 0.35-0.6% of correct rows, at a precision of 87%
        (5% of targets wrong) and 95% (10% wrong); z > 3.5 cut recall by 7-9 points for little
        gain in precision, z > 2.5 flagged 1-1.7% of correct rows. Multiple-testing control
        (Benjamini-Hochberg at 5%) flagged nearly the same rows at these sizes.

    Returns
    -------
    RegressionIssues
        ``.mask``, ``.indices`` (most suspicious first), ``.scores``, ``.suggested``,
        ``.noise_rate`` and ``.to_frame()``. ``noise_rate`` is estimated by
        :func:`estimate_noise_rate` from every residual, whatever the threshold; it counts wrong
        targets near their prediction too, so it is usually above the share of flagged rows.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.issues.regression import find_regression_issues
    >>> rng = np.random.default_rng(0)
    >>> predictions = np.linspace(0, 10, 200)
    >>> targets = predictions + rng.normal(0, 1, 200)
    >>> targets[[20, 150]] += [8.0, -12.0]
    >>> issues = find_regression_issues(targets, predictions)
    >>> issues.indices
    array([150,  20])
    >>> issues.to_frame().columns.tolist()
    ['rank', 'row', 'given', 'suggested', 'score', 'residual', 'z']
    """
    t, p = _check_pair(targets, predictions)
    cut = DEFAULT_THRESHOLD if threshold is None else _check_threshold(threshold)
    scale = _scale(t, p, uncertainty)
    z = _z(t, p, scale)
    scores = _tail(z)
    mask = scores < cut
    return RegressionIssues(
        mask=mask,
        indices=_ranked(mask, scores, z),
        scores=scores,
        suggested=p,
        given=t,
        scale=scale,
        noise_rate=estimate_noise_rate((t - p) / scale),
        threshold=cut,
        method="robust_scale" if uncertainty is None else "uncertainty",
    )


# -- out-of-sample models --------------------------------------------------------------------


def _check_regressor(estimator: Any, name: str) -> None:
    if not all(hasattr(estimator, a) for a in ("fit", "predict", "get_params")):
        raise InputTypeError(
            f"{name} must be a scikit-learn style regressor (with fit, predict and get_params), "
            f"got {type(estimator).__name__}. Use e.g. "
            "sklearn.ensemble.HistGradientBoostingRegressor()."
        )


class _FoldCount(Interval):
    """A number of folds from 2 to the number of rows: every test part needs a row."""

    def __init__(self, n_rows: int) -> None:
        super().__init__(Integral, 2, n_rows)

    def __str__(self) -> str:
        return f"between 2 and the number of rows ({self.right})"


def _regression_splits(cv: Any, X: Any, y: np.ndarray, random_state: Any) -> list:
    """The (train, test) index pairs; the test parts must cover every row exactly once."""
    splitter = None
    if is_integer(cv):
        check_params({"cv": [_FoldCount(y.size)]}, {"cv": cv})
        splitter = KFold(int(cv), shuffle=True, random_state=random_state)
    return cv_splits(cv, X, y, splitter)


def _fit_predict(
    estimator: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, one_core: bool
) -> tuple[np.ndarray, np.ndarray]:
    return test, fit_on_fold(estimator, X, y, train, test, one_core, "predict")[1]


def _out_of_sample(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    cv: Any,
    random_state: Any,
    n_jobs: int | None,
    progress: ProgressCallback | None,
    what: str,
    one_core: bool = False,
) -> np.ndarray:
    """Each row's prediction from a clone of ``estimator`` fit on the folds without it."""
    check_progress(progress)
    X = rows_matching(X, y.size, what)
    splits = _regression_splits(cv, X, y, random_state)
    out = np.full(y.size, np.nan)
    for test, pred in run_folds(
        _fit_predict, estimator, X, y, splits, n_jobs=n_jobs, progress=progress, one_core=one_core
    ):
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred[:, 0]
        if pred.shape != test.shape or pred.dtype.kind not in "biuf":
            raise InputError(
                f"{type(estimator).__name__}.predict returned {pred.dtype} values of shape "
                f"{pred.shape} for {test.size} rows; a regressor must return one number per row."
            )
        out[test] = pred
    if not np.isfinite(out).all():
        bad = np.flatnonzero(~np.isfinite(out))
        raise InputError(
            f"{type(estimator).__name__} predicted missing or infinite values for {bad.size} "
            f"rows (rows {bad[:5].tolist()}); check the features for extreme or missing values."
        )
    return out


def cross_val_predictions(
    estimator: Any,
    X: Any,
    targets: Any,
    *,
    cv: Any = 5,
    random_state: Any = 0,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Out-of-sample predictions of a numeric target, by K-fold cross-validation.

    Each row's prediction comes from a clone of ``estimator`` fit on the other folds, so a wrong
    target never pulls its own prediction toward itself.

    Parameters
    ----------
    estimator : regressor
        An unfitted scikit-learn style regressor; it is cloned per fold.
    X : array-like, sparse matrix or DataFrame of shape (n_rows, ...)
        The features, in whatever form ``estimator`` accepts.
    targets : array-like of shape (n_rows,)
        The given targets, finite numbers.
    cv : int, splitter or iterable, default 5
        An int gives ``KFold(cv, shuffle=True, random_state=random_state)``. A splitter object
        or an iterable of (train, test) index arrays is used as given; its test parts must
        cover every row exactly once.
    random_state, n_jobs, progress
        As in :func:`labelwise.predict.cross_val_pred_probs`: the seed of the fold shuffle when
        ``cv`` is an int (default 0); the threads that fit folds side by side, one core each (-1:
        every core; default None: one); a callable ``progress(done_folds, total_folds)``.

    Returns
    -------
    ndarray of float64, shape (n_rows,)

    Raises
    ------
    InputTypeError
        When ``estimator`` is not a regressor.
    InputError
        When a target is not a finite number, or the model cannot be fit or predicts non-finite
        values.
    ConfigError
        When ``cv`` is out of range or unusable, or its test parts miss a row or hold one twice.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from labelwise.issues.regression import cross_val_predictions
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> cross_val_predictions(LinearRegression(), X, 2 * X.ravel() + 1, cv=5).round(6)
    array([ 1.,  3.,  5.,  7.,  9., 11., 13., 15., 17., 19.])
    """
    _check_regressor(estimator, "estimator")
    y = _as_vector(targets, "targets")
    return _out_of_sample(estimator, X, y, cv, random_state, n_jobs, progress, "targets")


def _encoded(X: Any) -> tuple[Any, Any]:
    """X for the default scale model: numbers as they are, other columns as ordinal codes.

    Returns the matrix and the ``categorical_features`` mask for HistGradientBoosting, which
    splits natively on codes (so no one-hot blow-up) and treats NaN as missing.
    """
    if sp.issparse(X):
        raise InputTypeError(
            "residual_scale's default model cannot take a sparse X; pass model= a regressor "
            "that accepts it (e.g. a pipeline ending in Ridge), or X.toarray() if it fits."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        arr = X.astype(np.float64, copy=False)
        return (arr.reshape(-1, 1) if arr.ndim == 1 else arr), None
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
    columns, categorical = [], []
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col.dtype) or (
            pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_complex_dtype(col)
        ):
            columns.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
            categorical.append(False)
            continue
        numbers = pd.to_numeric(col, errors="coerce")
        if numbers.notna().sum() == col.notna().sum() and not isinstance(
            col.dtype, pd.CategoricalDtype
        ):
            # An object column of numbers (e.g. read from an array of mixed dtypes).
            columns.append(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
            categorical.append(False)
            continue
        codes, uniques = pd.factorize(col.astype(str).where(col.notna()), sort=True)
        if uniques.size > _MAX_CODES:
            # HGB splits on at most 255 categories: the rarest values share the last code.
            order = np.argsort(-np.bincount(codes[codes >= 0]), kind="stable")
            remap = np.full(uniques.size, _MAX_CODES, dtype=np.int64)
            remap[order[:_MAX_CODES]] = np.arange(_MAX_CODES)
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        columns.append(np.where(codes >= 0, codes, np.nan).astype(np.float64))
        categorical.append(True)
    if not columns:
        raise InputError("X has no feature columns; residual_scale needs at least one.")
    return np.column_stack(columns), (np.array(categorical) if any(categorical) else None)


def default_scale_model(categorical_features: Any = None) -> HistGradientBoostingRegressor:
    """The default model of ``|residual|``: a small, regularized gradient-boosted median.

    The absolute-error loss fits the conditional median, so the few huge residuals of wrong
    targets barely move it; shallow trees with large leaves keep it close to a constant where
    the data show no real change in noise level.

    Parameters
    ----------
    categorical_features : array-like of bool, optional
        Which columns hold category codes (as ``HistGradientBoostingRegressor`` takes it).

    Returns
    -------
    HistGradientBoostingRegressor
        Unfitted.

    Examples
    --------
    >>> from labelwise.issues.regression import default_scale_model
    >>> default_scale_model().loss
    'absolute_error'
    """
    return HistGradientBoostingRegressor(
        loss="absolute_error",
        learning_rate=0.05,
        max_iter=150,
        max_leaf_nodes=8,
        min_samples_leaf=40,
        categorical_features=categorical_features,
        random_state=0,
    )


def _calibrated(raw: np.ndarray, residuals: np.ndarray, overall: float) -> np.ndarray:
    """Shrink the per-row scales toward the global one by how much of their spread is real.

    ``raw`` comes from a model fit on a few hundred noisy ``|residual|`` values per leaf, so part
    of its variation across rows is estimation noise. Regressing ``log |r_i|`` on
    ``log raw_i`` (both out of sample, so the slope is honest) gives slope ``b``: about 1 when
    the scales vary for real, about 0 when they are noise (regression calibration: ``b`` is the
    share of the variance of ``log raw`` that is signal). Rows then get
    ``overall^(1 - w) * raw^w`` with ``w = b / 2``. Taking half of ``b`` is a deliberate extra
    pull toward the global scale: a row whose scale is underestimated looks like an error, so
    noise in the scales costs precision among the top-ranked rows. On the benchmark's tuning
    seeds ``w = b / 2`` did better than ``w = b``, ``b^2``, ``b^3``, no shrinkage or a fixed
    ``w`` in 0.25-0.5, both on average and in the worst case.
    """
    x = np.log(raw)
    y = np.log(np.maximum(np.abs(residuals), 1e-3 * overall))  # log 0 would be -inf
    x_centered = x - x.mean()
    spread = float(x_centered @ x_centered)
    slope = float(x_centered @ (y - y.mean())) / spread if spread > 0 else 0.0
    weight = float(np.clip(slope, 0.0, 1.0)) / 2
    return overall ** (1 - weight) * raw**weight


def residual_scale(
    X: Any,
    residuals: Any,
    *,
    cv: Any = 5,
    random_state: Any = 0,
    model: Any = None,
    predictions: Any = None,
) -> np.ndarray:
    """The typical size of each row's residual given its features: a per-row uncertainty.

    Fits, out of sample, a model of ``|residual|`` given X and multiplies its prediction by
    1.4826, so that for normal errors it estimates their standard deviation at each row (the
    median of ``|N(0, s^2)|`` is ``s / 1.4826``). Each row's scale comes from a model that never
    saw its own residual, so a wrong target does not excuse itself. These scales are floored at
    :data:`SCALE_FLOOR` (10%) of the global robust scale :func:`robust_scale`, so that no row
    gets a near-zero scale, and then shrunk toward the global scale in proportion to how much
    of their variation is noise (see ``_calibrated``): a small or evenly noisy table gets
    nearly one scale for all rows, a clearly heteroscedastic one keeps much of its contrast.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_rows, n_features)
        The features. With the default model, numeric and boolean columns are used as they are
        (missing values allowed) and any other column as ordinal codes split on natively as
        categories.
    residuals : array-like of shape (n_rows,)
        Out-of-sample residuals ``targets - predictions``, finite numbers.
    cv : int, splitter or iterable, default 5
        As in :func:`cross_val_predictions`.
    random_state : int, RandomState or None, default 0
        Seeds the fold shuffle when ``cv`` is an int.
    model : regressor, optional
        A model of the conditional median of ``|residual|`` given X, fit on X as given (put any
        preprocessing in a pipeline). Default: :func:`default_scale_model`.
    predictions : array-like of shape (n_rows,), optional
        The out-of-sample predictions the residuals came from, given to the default model as
        one more feature. Recommended: noise often grows with the size of the target (prices,
        counts), and a model's own error is often larger at the extremes of what it predicts,
        where training data are sparse; both are easier to learn from the prediction than from
        the raw features. On the benchmark's tuning seeds it raised the mean average precision
        of finding corrupted targets in 13 of 22 table x corruption-level cases (by up to
        0.02) and lowered it in 7 (by at most 0.005).
        With ``model``, add the predictions to X yourself.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        Positive scales, for ``uncertainty=`` of :func:`regression_quality_scores`.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.issues.regression import residual_scale
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, (1000, 1))
    >>> residuals = rng.normal(0, 0.1 + 2 * X[:, 0])  # noisier as x grows
    >>> scale = residual_scale(X, residuals)
    >>> bool(scale[X[:, 0] > 0.8].mean() > 2 * scale[X[:, 0] < 0.2].mean())
    True
    """
    r = _as_vector(residuals, "residuals")
    if model is None:
        features, categorical = _encoded(X)
        if predictions is not None:
            p = _as_vector(predictions, "predictions")
            if p.size != r.size:
                raise ShapeError(
                    f"predictions has {p.size} values but residuals has {r.size}; they must "
                    "describe the same rows in the same order."
                )
            if features.shape[0] == p.size:  # else the row check below explains the mismatch
                features = np.column_stack([features, p])
                if categorical is not None:
                    categorical = np.append(categorical, False)
        estimator = default_scale_model(categorical)
    else:
        _check_regressor(model, "model")
        if predictions is not None:
            raise ConfigError(
                "predictions= is a feature of the default scale model; with model=, add the "
                "predictions to X yourself (e.g. as a column the model's pipeline uses)."
            )
        features, estimator = X, model
    # The default model's small trees on a modest table leave an OpenMP team little to share
    # and much to synchronize: on a busy two-core machine 5 folds of 1,000 rows took 39 s with
    # two threads and 1 s with one.
    one_core = model is None and r.size < _ONE_CORE_ROWS
    fitted = _out_of_sample(
        estimator, features, np.abs(r), cv, random_state, None, None, "residuals", one_core
    )
    overall = robust_scale(r)
    raw = np.maximum(MAD_TO_SD * fitted, SCALE_FLOOR * overall)
    return _calibrated(raw, r, overall)
