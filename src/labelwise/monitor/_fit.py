"""Fitting the reference side of a monitor: bins, calibration map, PCA, feature importance."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError
from labelwise.monitor._counts import (
    FeatureBins,
    _fine_edges,
    _numeric_values,
    quantile_edges,
    reconstruction_error,
    standardize,
)

__all__ = [
    "default_features",
    "check_labels",
    "feature_bins",
    "fit_calibration",
    "fit_pca",
    "importance_weights",
    "frame_hash",
    "calibration_error",
]

#: Rows used to fit the PCA; more adds time, not accuracy.
_PCA_ROWS = 100_000


def default_features(
    columns: Iterable[Hashable],
    score: Hashable | Sequence[Hashable],
    label: Hashable | None = None,
) -> list[Hashable]:
    """The columns a monitor watches when no features are named: all but the outputs and label.

    ``Monitor.fit`` and ``labelwise monitor fit`` both take their default from here, so a
    monitor fitted in Python watches the same columns as one fitted on the command line.

    Parameters
    ----------
    columns : iterable of hashable
        The reference's columns, in order.
    score : hashable or list of hashable
        The model's output column (a score or a prediction), or its columns (one probability
        per class).
    label : hashable, optional
        The label column, if any.

    Returns
    -------
    list
        The remaining columns, in their original order.

    Examples
    --------
    >>> default_features(["p", "income", "y", "region"], score="p", label="y")
    ['income', 'region']
    """
    special = set(score) if isinstance(score, (list, tuple)) else {score}
    if label is not None:
        special.add(label)
    return [c for c in columns if c not in special]


def check_labels(labels: Any, n: int | None = None, need_both: bool = True) -> np.ndarray:
    """0/1 labels as an int array (booleans accepted), or a LabelError."""
    arr = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
    if arr.ndim != 1:
        raise LabelError(f"labels must be one-dimensional, got shape {arr.shape}.")
    if arr.size == 0:
        raise LabelError("labels are empty: there is nothing to reconcile or calibrate against.")
    if n is not None and arr.size != n:
        raise LabelError(f"got {arr.size} labels for {n} scored rows; they must match one to one.")
    if arr.dtype == bool:
        arr = arr.astype(int)
    try:
        values = arr.astype(float)
    except (TypeError, ValueError):
        raise LabelError("labels must be 0 (good) / 1 (bad); got non-numeric values.") from None
    if not np.isin(values, (0.0, 1.0)).all():
        raise LabelError(
            "labels must be 0 (good) / 1 (bad) with no missing values; got "
            f"{sorted(set(np.unique(values[~np.isin(values, (0.0, 1.0))]).tolist()))[:5]}."
        )
    out = values.astype(int)
    if need_both and np.unique(out).size < 2:
        raise LabelError(
            f"the labels hold one class only ({int(out[0])}); calibration and AUC need both good "
            "and bad outcomes. Use a longer reference window."
        )
    return out


def feature_bins(
    frame: pd.DataFrame, name: str, n_bins: int, categorical: Sequence[str]
) -> FeatureBins:
    """Reference bins of one feature: quantiles if numeric, observed categories otherwise."""
    column = frame[name]
    if column.isna().all():
        raise InputError(
            f"feature {name!r} is entirely missing in the reference; its bins cannot be fitted. "
            "Drop it from features=[...] or use a reference where it is collected."
        )
    numeric = pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
    if name in categorical or not numeric:
        try:
            cats = pd.unique(column.dropna()).tolist()
        except TypeError:
            raise InputTypeError(
                f"feature {name!r} holds unhashable values; features must be numbers or labels."
            ) from None
        return FeatureBins(name, "categorical", categories=sorted(cats, key=str))
    values = _numeric_values(column, name)
    return FeatureBins(name, "numeric", edges=quantile_edges(values, n_bins))


def calibration_error(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error on equal-count bins of ``p``.

    >>> calibration_error(np.array([0.2, 0.2, 0.8, 0.8]), np.array([0, 0, 1, 1]), 2)
    0.2
    """
    order = np.argsort(p, kind="stable")
    err = 0.0
    for idx in np.array_split(order, n_bins):
        if idx.size:
            err += idx.size * abs(p[idx].mean() - y[idx].mean())
    return round(float(err / p.size), 12)


def fit_calibration(
    scores: np.ndarray, labels: np.ndarray, mode: Any, random_state: int
) -> tuple[tuple[np.ndarray, np.ndarray] | None, dict]:
    """Isotonic map of scores to probabilities, kept only if it lowers calibration error.

    The comparison uses out-of-fold isotonic predictions: in-sample, isotonic regression always
    looks better than the raw scores.
    """
    if mode in (False, None, "none"):
        return None, {"calibrated": False, "reason": "calibration disabled"}
    if mode not in (True, "auto", "isotonic"):
        raise ConfigError(f"calibrate={mode!r} is not supported; use 'auto', True or False.")
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=random_state)
    oof = np.empty_like(scores)
    for train, test in folds.split(scores.reshape(-1, 1), labels):
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        oof[test] = iso.fit(scores[train], labels[train]).predict(scores[test])
    raw_err, iso_err = calibration_error(scores, labels), calibration_error(oof, labels)
    info = {"ece_raw": raw_err, "ece_isotonic_oof": iso_err}
    if mode == "auto" and iso_err >= raw_err:
        return None, {**info, "calibrated": False}
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
    return (iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)), {
        **info,
        "calibrated": True,
    }


def fit_pca(
    frame: pd.DataFrame, columns: list[str], variance: float, random_state: int
) -> tuple[np.ndarray | None, dict | None]:
    """PCA on standardized numeric reference features and the rows it was fitted on.

    (None, None) with fewer than two numeric features.
    """
    if len(columns) < 2:
        return None, None
    values = [_numeric_values(frame[c], c) for c in columns]
    finite = [_finite(x) for x in values]
    mean = np.array([f.mean() if f.size else 0.0 for f in finite])
    scale = np.array([f.std() if f.size else 0.0 for f in finite])
    scale = np.where(scale > 0, scale, 1.0)
    z = standardize(values, mean, scale)
    # Fit on a random half; the other half gives the reference error. In-sample reconstruction
    # error is biased low (the smallest sample eigenvalues are too small), which would make every
    # fresh window look a few percent worse than the reference.
    rng = np.random.default_rng([random_state, 1])  # its own stream, apart from the null sample
    fit_rows = np.zeros(z.shape[0], dtype=bool)
    fit_rows[rng.choice(z.shape[0], min(z.shape[0] // 2, _PCA_ROWS), replace=False)] = True
    # Eigenvectors of the covariance: for a few dozen columns, 20x faster than an SVD of the rows.
    pca = PCA(n_components=variance, svd_solver="covariance_eigh", random_state=random_state)
    pca.fit(z[fit_rows])
    # Keeping every component leaves no residual: cap at one fewer than the feature count.
    components = pca.components_[: min(pca.n_components_, len(columns) - 1)]
    err = reconstruction_error(z[~fit_rows], components)
    return fit_rows, {
        "columns": list(columns),
        "mean": mean,
        "scale": scale,
        "components": components,
        "high": float(np.quantile(err, 0.99)),
    }


def _finite(x: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    return x if finite.all() else x[finite]


def _association(column: pd.Series, scores: np.ndarray, kind: str) -> float:
    """|Pearson r| for numeric features, the correlation ratio for categorical ones."""
    present = column.notna().to_numpy()
    complete = bool(present.all())
    if present.sum() < 3:
        return 0.0
    s = scores if complete else scores[present]
    if kind == "numeric":
        x = column.to_numpy(dtype=float, na_value=np.nan)
        x = x if complete else x[present]
        if np.std(x) == 0 or np.std(s) == 0:
            return 0.0
        return float(abs(np.corrcoef(x, s)[0, 1]))
    groups = pd.Series(s).groupby(_group_keys(column, present))
    between = float((groups.count() * (groups.mean() - s.mean()) ** 2).sum())
    total = float(((s - s.mean()) ** 2).sum())
    return float(np.sqrt(between / total)) if total > 0 else 0.0


def _group_keys(column: pd.Series, present: np.ndarray) -> np.ndarray:
    """Keys of the present values that group and sort as the values do.

    Text categories become their rank among the categories: small integers group several
    times faster than a hundred thousand strings, into the same groups in the same order.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = column.cat.categories
        if pd.api.types.infer_dtype(names, skipna=False) == "string":
            rank = np.empty(len(names), dtype=np.intp)
            rank[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
            return rank[column.cat.codes.to_numpy()[present]]
    return column[present].to_numpy()


def importance_weights(
    frame: pd.DataFrame,
    bins: list[FeatureBins],
    scores: np.ndarray,
    given: Mapping[str, float] | None,
) -> dict[str, float]:
    """Feature weights summing to 1: the user's, else the association with the score."""
    names = [b.name for b in bins]
    if given is not None:
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ConfigError(f"importance names unknown features {unknown}; known: {names}.")
        raw = {n: float(given.get(n, 0.0)) for n in names}
        if any(v < 0 or not np.isfinite(v) for v in raw.values()):
            raise ConfigError("importance weights must be finite and non-negative.")
    else:
        raw = {b.name: _association(frame[b.name], scores, b.kind) for b in bins}
    total = sum(raw.values())
    if total <= 0:
        return {n: 1.0 / len(names) for n in names} if names else {}
    return {n: v / total for n, v in raw.items()}


def frame_hash(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """sha256 of the canonical bytes of ``columns``: name, then float64 or text values.

    Independent of row index, column order in the frame and pandas version.

    >>> a = pd.DataFrame({"s": [0.1, 0.2], "x": ["a", None]})
    >>> frame_hash(a, ["s", "x"]) == frame_hash(a[["x", "s"]].reset_index(drop=True), ["x", "s"])
    True
    """
    digest = hashlib.sha256()
    for name in sorted(columns, key=str):
        column = frame[name]
        digest.update(b"\x1ecol\x1f" + str(name).encode())
        numeric = pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        if numeric:
            values = column.to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(values)
            if missing.any():
                values = np.where(missing, np.nan, values)  # one NaN bit pattern
            digest.update(b"f8")
            digest.update(np.ascontiguousarray(values, dtype="<f8"))
        else:
            digest.update(b"tx")
            digest.update("\x1f".join(_shown(column).tolist()).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _shown(column: pd.Series) -> np.ndarray:
    """The text of every value (object array), missing values as NUL."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # The few categories as text, then looked up by code (-1, missing, picks the NUL).
        categories = pd.Series(column.cat.categories.astype(object), dtype=object)
        names = np.empty(len(categories) + 1, dtype=object)
        names[:-1] = categories.astype(str).to_numpy(dtype=object)
        names[-1] = "\x00"  # not through a numpy string: it would drop a trailing NUL
        return names[column.cat.codes.to_numpy()]
    # Vectorized: a Python-level isna per value took a second per 400,000 values.
    shown = column.astype(object).astype(str).to_numpy(dtype=object)
    shown[column.isna().to_numpy()] = "\x00"
    return shown


def fine_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Public alias of the fine-grid edges (minimum, quantiles, maximum)."""
    return _fine_edges(values, n_bins)
