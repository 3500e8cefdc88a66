"""Data issues beyond wrong labels: copies, outliers, ordered rows, rare classes, weak regions.

Every check works on plain arrays and can be used alone; :func:`find_data_issues` runs several
at once and shares one nearest-neighbour search between the checks that need it. Features are
numeric (the caller encodes tables) and are standardized per column before any distance is taken,
so that no feature dominates because of its units.

Each check returns an :class:`IssueResult`. Scores follow one convention everywhere: per row (or
column) in [0, 1], where 0 is the worst case and 1 means no sign of the issue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans

from labelwise._params import Interval, check_params
from labelwise._shared.serialize import json_scalar as _plain
from labelwise._validate import (
    as_array,
    check_inputs,
    check_pred_probs,
    labels_array,
    sorted_unique,
)
from labelwise.errors import ConfigError, InputError, InputTypeError, ShapeError
from labelwise.neighbours import Neighbours, nearest_neighbours

__all__ = [
    "ISSUE_TYPES",
    "DataIssues",
    "IssueResult",
    "find_class_imbalance",
    "find_data_issues",
    "find_near_duplicates",
    "find_non_iid",
    "find_null_columns",
    "find_nulls",
    "find_outliers",
    "find_outliers_from_pred_probs",
    "find_underperforming_groups",
    "outlier_scores_from_pred_probs",
]

#: The checks :func:`find_data_issues` knows, in the order it runs them.
ISSUE_TYPES = (
    "near_duplicate",
    "outlier",
    "non_iid",
    "class_imbalance",
    "underperforming_group",
    "null",
)
#: Near copies: neighbours closer than this fraction of the median nearest-neighbour distance...
NEAR_DUPLICATE_FRACTION = 0.1
#: ... or, in few dimensions, the smaller fraction that flags about this share of rows by chance.
NEAR_DUPLICATE_CHANCE = 1e-4
#: Outliers: log-scale distances beyond Q3 + this many interquartile ranges (Tukey's far fence).
OUTLIER_FENCE_IQRS = 3.0
#: Outliers without features: a pred_probs score at most this (see find_outliers_from_pred_probs).
OOD_SCORE_CUT = 0.05
#: Rare classes: share below this fraction of the uniform share 1 / K.
IMBALANCE_THRESHOLD = 0.1
#: Weak regions: cluster accuracy at most this fraction of the accuracy on the other rows.
UNDERPERFORMING_RATIO = 0.7
#: Columns missing in at least this share of rows are almost empty.
NULL_FRACTION = 0.95
#: The leading columns of every findings frame (``data_issues.csv``).
FRAME_COLUMNS = ["issue", "row", "column", "score", "detail"]

#: The options of the checks, each declared once; limits that depend on the number of rows are
#: checked where that number is known.
NEIGHBOUR_CONSTRAINTS = {"k": [Interval(Integral, 1, None)]}
NEAR_DUPLICATE_CONSTRAINTS = {"threshold": [Interval(Real, 0, None), None]}
NON_IID_CONSTRAINTS = {"n_permutations": [Interval(Integral, 1, None)]}
IMBALANCE_CONSTRAINTS = {"threshold": [Interval(Real, 0, 1, closed="right")]}
GROUP_CONSTRAINTS = {"n_clusters": [Interval(Integral, 2, None), None]}


@dataclass(frozen=True, eq=False)
class IssueResult:
    """What one check found.

    Attributes
    ----------
    issue : str
        The check's name, one of :data:`ISSUE_TYPES`.
    mask : ndarray of bool or None
        Flagged rows; None for checks about the whole dataset or only about columns.
    scores : ndarray of float or None
        Per row in [0, 1]; 0 is the worst case, 1 the best.
    details : DataFrame
        One row per example, with at least a ``detail`` text column.
    score : float
        Dataset-level score in [0, 1] (1 = no sign of the issue).
    count : int
        The number of findings: rows flagged, plus columns flagged for ``null``; 1 or 0 for
        ``non_iid``, which judges the dataset as a whole.
    is_issue : bool
        Whether the check found the issue at all.
    extra : dict
        Check-specific numbers such as ``threshold`` or ``p_value``.
    columns : DataFrame or None
        For checks about columns (``null``): one record per column, with ``column``,
        ``detail``, ``flagged`` and ``score``.
    """

    issue: str
    mask: np.ndarray | None
    scores: np.ndarray | None
    details: pd.DataFrame
    score: float
    count: int
    is_issue: bool
    extra: dict = field(default_factory=dict)
    columns: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The findings, worst score first: flagged rows, then flagged columns.

        Columns ``issue``, ``row`` (empty for a column finding), ``column`` (empty for a row
        finding), ``score``, ``detail``, then any check-specific columns. A verdict on the
        whole dataset (``non_iid``) is one record with neither row nor column.
        """
        frames = [self._row_frame(), self._column_frame(), self._dataset_frame()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=FRAME_COLUMNS).astype({"row": "Int64"})
        return pd.concat(frames, ignore_index=True)

    def _row_frame(self) -> pd.DataFrame:
        flagged = np.flatnonzero(self.mask) if self.mask is not None else np.array([], int)
        if self.scores is not None:
            flagged = flagged[np.argsort(self.scores[flagged], kind="stable")]
        part = self.details.iloc[flagged].reset_index(drop=True)
        scores = self.scores[flagged] if self.scores is not None else np.full(flagged.size, np.nan)
        head = pd.DataFrame(
            {
                "issue": self.issue,
                "row": pd.array(flagged, dtype="Int64"),
                "column": None,
                "score": scores,
                "detail": part["detail"],
            }
        )
        return pd.concat([head, part.drop(columns=["detail"])], axis=1)

    def _column_frame(self) -> pd.DataFrame:
        if self.columns is None:
            return pd.DataFrame(columns=FRAME_COLUMNS)
        part = self.columns[self.columns["flagged"]]
        part = part.sort_values("score", kind="stable").reset_index(drop=True)
        head = pd.DataFrame(
            {
                "issue": self.issue,
                "row": pd.array([pd.NA] * len(part), dtype="Int64"),
                "column": part["column"],
                "score": part["score"],
                "detail": part["detail"],
            }
        )
        rest = part.drop(columns=["column", "score", "detail", "flagged"])
        return pd.concat([head, rest], axis=1)

    def _dataset_frame(self) -> pd.DataFrame:
        # A verdict on the whole dataset (non_iid): one record, with neither row nor column.
        if self.mask is not None or self.columns is not None or not self.is_issue:
            return pd.DataFrame(columns=FRAME_COLUMNS)
        record = {"issue": self.issue, "row": pd.array([pd.NA], dtype="Int64"), "column": None}
        return pd.DataFrame({**record, "score": self.score, "detail": self.details["detail"][:1]})

    def summary(self) -> dict:
        """JSON-ready ``count``, ``score``, ``is_issue`` (and ``p_value`` when there is one)."""
        out = {
            "count": int(self.count),
            "score": float(self.score),
            "is_issue": bool(self.is_issue),
        }
        if "p_value" in self.extra:
            out["p_value"] = float(self.extra["p_value"])
        if self.columns is not None:
            out["rows"] = int(self.mask.sum()) if self.mask is not None else 0
            out["columns"] = int(self.columns["flagged"].sum())
        return out

    def __repr__(self) -> str:
        return (
            f"IssueResult(issue={self.issue!r}, count={self.count}, score={self.score:.3f}, "
            f"is_issue={self.is_issue})"
        )


@dataclass(frozen=True, eq=False)
class DataIssues:
    """The results of :func:`find_data_issues`, by issue type, and the checks it skipped."""

    results: dict[str, IssueResult]
    skipped: dict[str, str]

    def __getitem__(self, issue: str) -> IssueResult:
        return self.results[issue]

    def __contains__(self, issue: object) -> bool:
        return issue in self.results

    def to_frame(self) -> pd.DataFrame:
        """Every flagged row of every check, one check after another, each worst first."""
        frames = [r.to_frame() for r in self.results.values()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=FRAME_COLUMNS).astype({"row": "Int64"})
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> dict:
        """JSON-ready dict per issue type; a skipped type maps to ``{"skipped": reason}``."""
        out: dict[str, dict] = {name: r.summary() for name, r in self.results.items()}
        out.update({name: {"skipped": why} for name, why in self.skipped.items()})
        return out

    def __repr__(self) -> str:
        found = ", ".join(f"{n}={r.count}" for n, r in self.results.items()) or "none run"
        return f"DataIssues({found}; skipped={sorted(self.skipped)})"


# --------------------------------------------------------------------------------------------
# validation


def _check_features(X: Any) -> np.ndarray:
    arr = as_array("X", X, "a 2-D numeric array (n_rows, n_features)")
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"X has dtype {arr.dtype}; it must hold numbers. Encode categorical columns first "
            "(e.g. pd.get_dummies or an ordinal encoding)."
        )
    if arr.ndim != 2:
        hint = " For a single feature use X.reshape(-1, 1)." if arr.ndim == 1 else ""
        raise ShapeError(f"X must be 2-D (n_rows, n_features), got shape {arr.shape}.{hint}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeError(f"X is empty (shape {arr.shape}): there is nothing to check.")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise InputError(
            f"X holds {int((~finite).sum())} NaN or infinite values (first at row {r}, column "
            f"{c}); impute them or drop those rows. Use find_nulls on the table to see "
            "which columns are missing."
        )
    return arr


def _check_k(k: Any, n: int) -> int:
    check_params(NEIGHBOUR_CONSTRAINTS, {"k": k})
    if n < 2:
        raise ShapeError(f"X has {n} row; neighbour checks need at least 2 rows.")
    if k >= n:
        raise ConfigError(
            f"k={k} neighbours need at least {k + 1} rows, but X has {n}; pass k <= {n - 1}."
        )
    return int(k)


def _check_length(name: str, size: int, n: int) -> None:
    if size != n:
        raise ShapeError(
            f"{name} has {size} rows but X has {n}; they must describe the same examples in the "
            "same order."
        )


def _standardized(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0  # a constant column adds nothing to any distance
    return (X - X.mean(axis=0)) / sd


def _row_details(texts: np.ndarray, **columns: Any) -> pd.DataFrame:
    return pd.DataFrame({"detail": texts, **columns})


def _row_result(
    issue: str, mask: np.ndarray, scores: np.ndarray, details: pd.DataFrame, extra: dict
) -> IssueResult:
    """The result of a check that flags rows one by one: scored by the share left unflagged."""
    count = int(mask.sum())
    return IssueResult(
        issue=issue,
        mask=mask,
        scores=scores,
        details=details,
        score=1.0 - count / mask.size,
        count=count,
        is_issue=count > 0,
        extra=extra,
    )


# --------------------------------------------------------------------------------------------
# near duplicates


def find_near_duplicates(
    X: Any, *, k: int = 10, threshold: float | None = None, neighbours: str = "auto"
) -> IssueResult:
    """Find exact and near copies of rows, grouped into sets of copies.

    Rule: two rows are copies when their distance (standardized features) is at most
    ``threshold``, by default ``f`` times the median distance of a row to its nearest other row
    (median over positive distances, so that a dataset full of copies still has a scale). The
    threshold adapts to the data's own spacing, so it needs no units. Under a locally uniform
    density in ``d`` dimensions a row's nearest-neighbour distance falls below ``f`` times the
    median with probability about ``ln 2 * f**d``, so a fixed ``f`` would flag many distinct
    rows of low-dimensional data. Hence ``f = min(0.1, (1e-4 / ln 2) ** (1 / d))`` with ``d`` the
    number of non-constant features: about 1 row in 10,000 is flagged by chance for ``d <= 3``
    (``f`` = 0.0001, 0.012, 0.052 for ``d`` = 1, 2, 3), fewer from ``d = 4`` on, where ``f`` =
    0.1. Exact copies (distance 0) are always flagged. Pairs among each row's ``k`` nearest
    neighbours are linked, and linked rows form one group (a connected component).

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Numeric features, without NaN.
    k : int
        Neighbours examined per row; a group larger than ``k + 1`` may be split if ``k`` is small.
    threshold : float, optional
        An absolute distance (standardized units) to use instead of the adaptive rule.
    neighbours : {"auto", "exact", "approximate"}
        How the neighbours are found: ``"auto"`` is exact up to 20,000 rows and uses an
        approximate index above (:func:`labelwise.neighbours.nearest_neighbours`). The same
        option exists on :func:`find_outliers` and :func:`find_non_iid`.

    Returns
    -------
    IssueResult
        ``scores`` are ``1 - exp(-d / m)`` with ``d`` the nearest-neighbour distance and ``m``
        its median (0 = exact copy). ``details`` has ``group`` (-1 when not flagged),
        ``nearest`` (the nearest copy, -1 when not flagged) and ``distance``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> X[7] = X[3]
    >>> res = find_near_duplicates(X, k=5)
    >>> np.flatnonzero(res.mask).tolist(), int(res.details.loc[7, "nearest"])
    ([3, 7], 3)
    """
    Z = _standardized(_check_features(X))
    k = _check_k(k, Z.shape[0])
    return _near_duplicates(nearest_neighbours(Z, k, method=neighbours), threshold, _n_varying(Z))


def _n_varying(Z: np.ndarray) -> int:
    return max(1, int(np.count_nonzero(np.ptp(Z, axis=0) > 0)))


def _near_duplicates(nb: Neighbours, threshold: float | None, n_dims: int) -> IssueResult:
    n = nb.distances.shape[0]
    nearest_d = nb.distances[:, 0]
    positive = nearest_d[nearest_d > 0]
    scale = float(np.median(positive)) if positive.size else 0.0
    if threshold is None:
        chance_fraction = (NEAR_DUPLICATE_CHANCE / np.log(2.0)) ** (1.0 / n_dims)
        threshold = min(NEAR_DUPLICATE_FRACTION, chance_fraction) * scale
    else:
        check_params(NEAR_DUPLICATE_CONSTRAINTS, {"threshold": threshold})
    linked = nb.distances <= threshold
    rows = np.repeat(np.arange(n), nb.indices.shape[1])[linked.ravel()]
    cols = nb.indices.ravel()[linked.ravel()]
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    mask = sizes[component] > 1
    # Number the groups 0, 1, ... in the order of their first row.
    uniq, first = np.unique(component[mask], return_index=True)
    renumber = np.full(n, -1)
    renumber[uniq[np.argsort(first)]] = np.arange(uniq.size)
    group = np.where(mask, renumber[component], -1)
    nearest = np.where(mask, nb.indices[:, 0], -1)
    scores = 1.0 - np.exp(-nearest_d / scale) if scale > 0 else (nearest_d > 0).astype(float)
    texts = np.full(n, "", dtype=object)
    for i in np.flatnonzero(mask):
        kind = "exact copy" if nearest_d[i] == 0 else f"near copy (distance {nearest_d[i]:.3g})"
        texts[i] = f"{kind} of row {nearest[i]}; group {group[i]} of {sizes[component[i]]} rows"
    details = _row_details(texts, group=group, nearest=nearest, distance=nearest_d)
    extra = {"threshold": float(threshold), "median_nn_distance": scale, "n_groups": uniq.size}
    return _row_result("near_duplicate", mask, scores, details, extra)


# --------------------------------------------------------------------------------------------
# outliers


def find_outliers(X: Any, *, k: int = 10, neighbours: str = "auto") -> IssueResult:
    """Find rows far from the rest, by their mean distance to their ``k`` nearest neighbours.

    Rule: with ``d`` a row's mean distance to its ``k`` nearest neighbours (standardized
    features) and ``m`` the median of ``d``, let ``t = log(d / m)``. Distances are scale-like and
    right-skewed, and the log makes them roughly symmetric; a row is flagged when ``t`` lies
    beyond Tukey's far fence ``Q3 + 3 * IQR`` of ``t`` (quartiles of the data itself). In a
    Gaussian sample of 5 or more dimensions this cut is practically never crossed; in 2 or 3
    dimensions it flags at most a few tenths of a percent of rows, the far tail.

    Returns
    -------
    IssueResult
        ``scores`` are ``exp(-ln 2 * d / m)``: 1 at distance 0, 0.5 for a typical row, towards 0
        far away. ``extra`` holds the ``threshold`` (the fence as a distance).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> X[0] = 6.0
    >>> np.flatnonzero(find_outliers(X).mask).tolist()
    [0]
    """
    Z = _standardized(_check_features(X))
    k = _check_k(k, Z.shape[0])
    return _outliers(nearest_neighbours(Z, k, method=neighbours))


def _outliers(nb: Neighbours) -> IssueResult:
    d = nb.distances.mean(axis=1)
    m = float(np.median(d))
    if m == 0:  # over half the rows are copies: fall back to the mean positive distance
        m = float(d[d > 0].mean()) if (d > 0).any() else 1.0
    t = np.log(np.maximum(d / m, 1e-3))  # exact copies (d = 0) are no outliers
    q1, q3 = np.percentile(t, [25, 75])
    fence = q3 + OUTLIER_FENCE_IQRS * (q3 - q1)
    mask = t > fence
    scores = np.exp(-np.log(2.0) * d / m)
    texts = np.full(d.size, "", dtype=object)
    for i in np.flatnonzero(mask):
        texts[i] = f"mean neighbour distance {d[i]:.3g}, {d[i] / m:.1f}x the median"
    extra = {"threshold": float(m * np.exp(fence)), "median_distance": m}
    return _row_result("outlier", mask, scores, _row_details(texts, distance=d), extra)


def outlier_scores_from_pred_probs(pred_probs: Any, labels: Any = None) -> np.ndarray:
    """Out-of-distribution scores from predicted probabilities alone (0 = most unusual).

    Each class ``k`` gets a threshold ``t_k``: the mean probability of ``k`` over the rows
    labelled ``k`` (or predicted ``k`` without labels), i.e. how confident the model usually is
    about that class. A row predicted as ``k`` with top probability ``p`` scores
    ``(p - 1/K) / (t_k - 1/K)``, clipped to [0, 1]: 0 for a row spread evenly over the classes
    (as inputs unlike the training data tend to be), 1 for a row at least as confident as the
    model usually is about ``k``. Measuring against ``t_k`` keeps rows of classes the model is
    habitually unsure of from all looking unusual.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.95, 0.05], [0.1, 0.9], [0.5, 0.5]])
    >>> outlier_scores_from_pred_probs(p).round(2).tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    if labels is None:
        probs = check_pred_probs(pred_probs)
        codes = probs.argmax(axis=1)
    else:
        checked = check_inputs(labels, pred_probs)
        probs, codes = checked.pred_probs, checked.labels
    probs = probs.astype(np.float64)
    n, n_classes = probs.shape
    counts = np.bincount(codes, minlength=n_classes)
    sums = np.bincount(codes, weights=probs[np.arange(n), codes], minlength=n_classes)
    # A class that no row claims has no evidence of habitual doubt: measure it against certainty.
    thresholds = np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)
    predicted = probs.argmax(axis=1)
    floor = 1.0 / n_classes
    span = np.maximum(thresholds[predicted] - floor, 1e-12)
    return np.clip((probs[np.arange(n), predicted] - floor) / span, 0.0, 1.0)


def find_outliers_from_pred_probs(pred_probs: Any, labels: Any = None) -> IssueResult:
    """Flag rows the model sees as unlike its training data, when there are no features.

    Scores are :func:`outlier_scores_from_pred_probs`; a row is flagged when its score is at
    most :data:`OOD_SCORE_CUT` (0.05): its top probability has come less than 5% of the way
    from a uniform guess to the confidence the model usually has in that class.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1]] * 8 + [[0.1, 0.9]] * 8 + [[0.51, 0.49]])
    >>> np.flatnonzero(find_outliers_from_pred_probs(p).mask).tolist()
    [16]
    """
    scores = outlier_scores_from_pred_probs(pred_probs, labels)
    mask = scores <= OOD_SCORE_CUT
    texts = np.where(mask, "predicted probabilities close to a uniform guess", "").astype(object)
    extra = {"threshold": OOD_SCORE_CUT, "source": "pred_probs"}
    return _row_result("outlier", mask, scores, _row_details(texts), extra)


# --------------------------------------------------------------------------------------------
# non-iid order


def find_non_iid(
    X: Any,
    *,
    k: int = 10,
    n_permutations: int = 200,
    random_state: Any = 0,
    neighbours: str = "auto",
) -> IssueResult:
    """Test whether the row order carries information (drift, sorted or grouped rows).

    For every row and each of its ``k`` nearest neighbours, the gap ``|i - j|`` between their row
    positions is taken. In a random order, the gap of two distinct positions out of ``n`` has the
    exact law ``P(gap = g) = 2 (n - g) / (n (n - 1))``; ordered data makes neighbours sit close
    in the order, so small gaps are too frequent. The statistic is the Kolmogorov-Smirnov
    distance between the observed gaps and that law. Gaps of one graph are not independent, so the
    p-value comes from a permutation test: the rows are shuffled ``n_permutations`` times
    (keeping the same neighbour graph) and ``p = (1 + #{KS_perm >= KS}) / (1 + n_permutations)``.
    The issue is reported when ``p < 0.05``.

    Returns
    -------
    IssueResult
        Dataset-level: ``mask`` and ``scores`` are None, ``score`` is the p-value, ``count`` is
        1 when the issue is found, and ``extra`` holds ``p_value`` and ``statistic``.

    Examples
    --------
    >>> X = np.linspace(0, 1, 300)[:, None] + np.random.default_rng(0).normal(0, 0.01, (300, 1))
    >>> find_non_iid(X, n_permutations=50).is_issue
    True
    """
    Z = _standardized(_check_features(X))
    k = _check_k(k, Z.shape[0])
    nb = nearest_neighbours(Z, k, method=neighbours)
    return _non_iid(nb, n_permutations, random_state)


def _ks_against_uniform_gaps(gaps: np.ndarray, null_cdf: np.ndarray) -> float:
    counts = np.bincount(gaps, minlength=null_cdf.size)
    observed = np.cumsum(counts) / gaps.size
    return float(np.max(np.abs(observed - null_cdf)))


def _non_iid(nb: Neighbours, n_permutations: int, random_state: Any) -> IssueResult:
    check_params(NON_IID_CONSTRAINTS, {"n_permutations": n_permutations})
    n = nb.indices.shape[0]
    g = np.arange(n)
    pmf = np.where(g >= 1, 2.0 * (n - g) / (n * (n - 1.0)), 0.0)
    null_cdf = np.cumsum(pmf)
    rows = np.repeat(np.arange(n), nb.indices.shape[1])
    cols = nb.indices.ravel()
    statistic = _ks_against_uniform_gaps(np.abs(rows - cols), null_cdf)
    rng = np.random.default_rng(random_state)
    exceed = 0
    for _ in range(int(n_permutations)):
        pos = rng.permutation(n)
        exceed += _ks_against_uniform_gaps(np.abs(pos[rows] - pos[cols]), null_cdf) >= statistic
    p_value = (1 + exceed) / (1 + int(n_permutations))
    is_issue = p_value < 0.05
    text = (
        f"neighbour index gaps differ from a random order (KS {statistic:.3f}, p {p_value:.3g})"
        if is_issue
        else ""
    )
    return IssueResult(
        issue="non_iid",
        mask=None,
        scores=None,
        details=pd.DataFrame({"detail": [text]}),
        score=float(p_value),
        count=int(is_issue),
        is_issue=bool(is_issue),
        extra={
            "p_value": float(p_value),
            "statistic": statistic,
            "n_permutations": int(n_permutations),
        },
    )


# --------------------------------------------------------------------------------------------
# class imbalance


def find_class_imbalance(labels: Any, *, threshold: float = IMBALANCE_THRESHOLD) -> IssueResult:
    """Flag the rows of classes much rarer than a balanced split would make them.

    Rule: with ``K`` classes, a class is rare when its share of rows is below ``threshold / K``,
    i.e. below ``threshold`` times its share under a uniform split (10% of it by default: a
    class of 3 rows out of 100 among 3 classes is rare, one of 20 is not). All rare classes are
    flagged, not only the rarest, since a model may neglect each of them.

    Returns
    -------
    IssueResult
        ``scores`` per row are ``min(1, K * share)`` of the row's class; ``score`` is the lowest
        class score. ``extra["shares"]`` maps each class (as text) to its share.

    Examples
    --------
    >>> res = find_class_imbalance(["a"] * 60 + ["b"] * 38 + ["c"] * 2)
    >>> res.extra["rare_classes"], res.count
    (['c'], 2)
    """
    check_params(IMBALANCE_CONSTRAINTS, {"threshold": threshold})
    values = labels_array(labels)
    sorted_unique(values)  # raises a clear error for labels of mixed, unsortable types
    codes, classes = pd.factorize(values, sort=True)
    return _class_imbalance(codes, np.asarray(classes), threshold)


def _class_imbalance(codes: np.ndarray, classes: np.ndarray, threshold: float) -> IssueResult:
    n, n_classes = codes.size, classes.size
    shares = np.bincount(codes, minlength=n_classes) / n
    rare = shares < threshold / n_classes if n_classes > 1 else np.zeros(1, dtype=bool)
    class_scores = np.minimum(1.0, shares * n_classes)
    mask = rare[codes]
    texts = np.full(n, "", dtype=object)
    for c in np.flatnonzero(rare):
        texts[codes == c] = (
            f"class {_plain(classes[c])!r} holds {shares[c]:.2%} of rows "
            f"(uniform share {1 / n_classes:.2%})"
        )
    count = int(mask.sum())
    return IssueResult(
        issue="class_imbalance",
        mask=mask,
        scores=class_scores[codes],
        details=_row_details(texts),
        score=float(class_scores.min()),
        count=count,
        is_issue=bool(rare.any()),
        extra={
            "threshold": float(threshold),
            "rare_classes": [_plain(c) for c in classes[rare]],
            "shares": {str(c): float(s) for c, s in zip(classes, shares, strict=True)},
        },
    )


# --------------------------------------------------------------------------------------------
# underperforming groups


def find_underperforming_groups(
    X: Any,
    labels: Any,
    pred_probs: Any,
    *,
    n_clusters: int | None = None,
    random_state: Any = 0,
    feature_names: Any = None,
    min_group_size: int | None = None,
) -> IssueResult:
    """Find regions of the feature space where the model is much less accurate.

    The standardized features are split by KMeans into ``n_clusters`` groups (by default
    ``round(sqrt(n / 10))`` clipped to 2..20, so groups hold tens of rows or more). A group is
    flagged when all of these hold:

    - it has at least ``min_group_size`` rows (default ``max(10, 1% of rows)``): smaller groups
      have accuracies too noisy to judge;
    - its accuracy (argmax of ``pred_probs`` against ``labels``) is at most 0.7 times the
      accuracy on all other rows: a gap large enough to matter;
    - a one-sided binomial test of its correct count against the other rows' accuracy gives
      ``p < 0.05 / n_clusters`` (Bonferroni), so uniform accuracy is not flagged by chance.

    Each flagged group is described by the (up to 3) features whose group mean differs most from
    the overall mean, in standard deviations; ``feature_names`` names them (DataFrame columns by
    default, else ``x0, x1, ...``).

    Returns
    -------
    IssueResult
        ``scores`` per row are the row's group accuracy over the overall accuracy (clipped to
        [0, 1]); ``details`` has the ``group`` of each row; ``extra["groups"]`` lists the flagged
        groups with size, accuracy, p-value and description.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(8, 1, (100, 2))])
    >>> y = np.r_[np.zeros(300, int), np.zeros(100, int)]
    >>> pred = np.r_[np.zeros(300, int), rng.integers(0, 2, 100)]
    >>> res = find_underperforming_groups(X, y, np.eye(2)[pred], n_clusters=2)
    >>> int(res.mask[300:].sum()), int(res.mask[:300].sum())
    (100, 0)
    """
    names = list(X.columns) if feature_names is None and isinstance(X, pd.DataFrame) else None
    arr = _check_features(X)
    n = arr.shape[0]
    checked = check_inputs(labels, pred_probs)
    _check_length("labels", checked.labels.size, n)
    if feature_names is not None:
        names = list(feature_names)
        if len(names) != arr.shape[1]:
            raise ShapeError(
                f"feature_names has {len(names)} names but X has {arr.shape[1]} columns."
            )
    names = [str(c) for c in names] if names else [f"x{j}" for j in range(arr.shape[1])]
    check_params(GROUP_CONSTRAINTS, {"n_clusters": n_clusters})
    if n_clusters is None:
        n_clusters = int(np.clip(round(math.sqrt(n / 10)), 2, 20))
    if n_clusters > n:
        raise ConfigError(f"n_clusters={n_clusters} must lie between 2 and the {n} rows of X.")
    if min_group_size is None:
        min_group_size = max(10, math.ceil(0.01 * n))
    Z = _standardized(arr)
    group = KMeans(n_clusters=int(n_clusters), n_init=3, random_state=random_state).fit_predict(Z)
    correct = checked.pred_probs.argmax(axis=1) == checked.labels
    return _underperforming(Z, group, correct, names, int(min_group_size))


def _underperforming(
    Z: np.ndarray, group: np.ndarray, correct: np.ndarray, names: list[str], min_size: int
) -> IssueResult:
    n = group.size
    n_groups = int(group.max()) + 1
    sizes = np.bincount(group, minlength=n_groups)
    hits = np.bincount(group, weights=correct, minlength=n_groups)
    overall = correct.mean()
    accuracy = hits / np.maximum(sizes, 1)
    flagged_groups = []
    texts = np.full(n, "", dtype=object)
    mask = np.zeros(n, dtype=bool)
    for g in range(n_groups):
        rest_n = n - sizes[g]
        if sizes[g] < min_size or rest_n == 0:
            continue
        rest_acc = (correct.sum() - hits[g]) / rest_n
        if not accuracy[g] <= UNDERPERFORMING_RATIO * rest_acc:
            continue
        p = stats.binomtest(int(hits[g]), int(sizes[g]), float(rest_acc), alternative="less")
        if not p.pvalue < 0.05 / n_groups:
            continue
        in_g = group == g
        shift = Z[in_g].mean(axis=0)  # Z is standardized: the overall mean is 0, sd 1
        top = np.argsort(-np.abs(shift), kind="stable")[:3]
        description = ", ".join(f"{names[j]} {shift[j]:+.1f} sd" for j in top)
        mask |= in_g
        texts[in_g] = (
            f"group {g} ({sizes[g]} rows): accuracy {accuracy[g]:.1%} vs {rest_acc:.1%} "
            f"elsewhere; {description}"
        )
        flagged_groups.append(
            {
                "group": g,
                "size": int(sizes[g]),
                "accuracy": float(accuracy[g]),
                "rest_accuracy": float(rest_acc),
                "p_value": float(p.pvalue),
                "description": description,
            }
        )
    ratio = np.clip(accuracy / overall, 0.0, 1.0) if overall > 0 else np.ones(n_groups)
    count = int(mask.sum())
    return IssueResult(
        issue="underperforming_group",
        mask=mask,
        scores=ratio[group],
        details=_row_details(texts, group=group),
        score=float(ratio[sizes >= min_size].min()) if (sizes >= min_size).any() else 1.0,
        count=count,
        is_issue=count > 0,
        extra={
            "groups": flagged_groups,
            "overall_accuracy": float(overall),
            "ratio": UNDERPERFORMING_RATIO,
            "min_group_size": min_size,
        },
    )


# --------------------------------------------------------------------------------------------
# null columns


def find_nulls(table: Any) -> IssueResult:
    """Flag rows missing in every column, and columns that are empty, almost empty or constant.

    Rows: a row is flagged when every column is missing (it carries no information at all);
    each row's score is its share of present values. Columns: a column is flagged when it is
    empty, at least 95% missing or constant (one distinct value); see
    :func:`find_null_columns`.

    Returns
    -------
    IssueResult
        ``mask``/``scores`` per row; ``columns`` holds one record per column (``column``,
        ``score``, ``missing_fraction``, ``n_unique``, ``problem``). ``count`` is flagged rows
        plus flagged columns; ``score`` is the mean column score.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1, None, 3], "b": [None] * 3, "c": [5, None, 5]})
    >>> res = find_nulls(t)
    >>> np.flatnonzero(res.mask).tolist(), res.extra["columns"]
    ([1], ['b', 'c'])
    """
    table = _check_table(table)
    present = table.notna().to_numpy()
    row_share = present.mean(axis=1)
    mask = ~present.any(axis=1)
    texts = np.where(mask, f"every one of the {table.shape[1]} columns is missing", "")
    columns = _null_columns(table)
    n_rows = int(mask.sum())
    n_columns = int(columns["flagged"].sum())
    return IssueResult(
        issue="null",
        mask=mask,
        scores=row_share,
        details=_row_details(texts.astype(object)),
        score=float(columns["score"].mean()),
        count=n_rows + n_columns,
        is_issue=n_rows + n_columns > 0,
        extra={
            "columns": columns.loc[columns["flagged"], "column"].tolist(),
            "threshold": NULL_FRACTION,
            "missing_share": float(1.0 - present.mean()),
        },
        columns=columns,
    )


def find_null_columns(table: Any) -> IssueResult:
    """Flag columns that are empty, almost empty (at least 95% missing) or constant.

    The column half of :func:`find_nulls`. ``columns`` holds one record per column
    (``column``, ``score``, ``missing_fraction``, ``n_unique``, ``problem``); a column's score
    is ``1 - missing_fraction``, and 0 for a constant column, which carries no information
    either.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1, 2, 3], "b": [None] * 3, "c": [5, 5, 5]})
    >>> find_null_columns(t).to_frame()["column"].tolist()
    ['b', 'c']
    """
    columns = _null_columns(_check_table(table))
    count = int(columns["flagged"].sum())
    return IssueResult(
        issue="null",
        mask=None,
        scores=None,
        details=_row_details(np.array([], dtype=object)),
        score=float(columns["score"].mean()),
        count=count,
        is_issue=count > 0,
        extra={
            "columns": columns.loc[columns["flagged"], "column"].tolist(),
            "threshold": NULL_FRACTION,
        },
        columns=columns,
    )


def _check_table(table: Any) -> pd.DataFrame:
    if isinstance(table, np.ndarray) and table.ndim == 2:
        table = pd.DataFrame(table)
    if not isinstance(table, pd.DataFrame):
        raise InputTypeError(
            f"table must be a pandas DataFrame (or a 2-D array), got {type(table).__name__}."
        )
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ShapeError(f"table is empty (shape {table.shape}): there is nothing to check.")
    return table


def _null_columns(table: pd.DataFrame) -> pd.DataFrame:
    missing = table.isna().mean().to_numpy(dtype=float)
    n_unique = table.nunique(dropna=True).to_numpy()
    problem = np.full(missing.size, "", dtype=object)
    problem[n_unique == 1] = "constant"
    problem[missing >= NULL_FRACTION] = "almost empty"
    problem[missing == 1.0] = "empty"
    detail = [
        f"{p}: {m:.1%} missing, {u} distinct value(s)" if p else ""
        for p, m, u in zip(problem, missing, n_unique, strict=True)
    ]
    return pd.DataFrame(
        {
            "column": [str(c) for c in table.columns],
            "score": np.where(problem == "constant", 0.0, 1.0 - missing),
            "detail": detail,
            "flagged": problem != "",
            "missing_fraction": missing,
            "n_unique": n_unique,
            "problem": problem,
        }
    )


# --------------------------------------------------------------------------------------------
# all at once


def find_data_issues(
    X: Any,
    *,
    labels: Any = None,
    pred_probs: Any = None,
    issue_types: Any = None,
    **options: Any,
) -> DataIssues:
    """Run several data checks at once; those whose inputs are missing are skipped with a reason.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_features), or None
        Numeric features. A DataFrame is also checked column by column for ``null``; only the
        checks that use features (neighbour checks, underperforming groups) reject NaN in X.
        Without features (None), ``outlier`` reads ``pred_probs``
        (:func:`find_outliers_from_pred_probs`) and the feature checks are skipped.
    labels, pred_probs : array-like, optional
        Needed by ``class_imbalance`` (labels) and ``underperforming_group`` (both).
    issue_types : sequence of str, optional
        Names from :data:`ISSUE_TYPES`; all by default.
    **options
        ``k`` (neighbours, default 10), ``threshold`` (near duplicates), ``n_permutations``,
        ``random_state``, ``imbalance_threshold``, ``n_clusters``, ``feature_names``,
        ``min_group_size``, ``neighbours`` (``"auto"``, ``"exact"`` or ``"approximate"``; see
        :func:`labelwise.neighbours.nearest_neighbours`).

    Notes
    -----
    ``near_duplicate``, ``outlier`` and ``non_iid`` share one nearest-neighbour search: exact up
    to 20,000 rows, through an approximate (faiss inverted-file) index above.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> res = find_data_issues(X, issue_types=["outlier", "class_imbalance"])
    >>> sorted(res.results), res.skipped["class_imbalance"]
    (['outlier'], 'needs labels')
    """
    known = {"k", "threshold", "n_permutations", "random_state", "imbalance_threshold"}
    known |= {"n_clusters", "feature_names", "min_group_size", "neighbours"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown}; known options are {sorted(known)}.")
    chosen = _chosen_types(issue_types)
    results: dict[str, IssueResult] = {}
    skipped: dict[str, str] = {}
    random_state = options.get("random_state", 0)

    if "null" in chosen:
        if isinstance(X, pd.DataFrame):
            results["null"] = find_nulls(X)
        else:
            skipped["null"] = "needs X as a pandas DataFrame"
    knn_types = [t for t in ("near_duplicate", "outlier", "non_iid") if t in chosen]
    if X is None:
        n = _rows_without_features(labels, pred_probs)
    elif not knn_types and "underperforming_group" not in chosen:
        n = len(X)  # only column checks and labels: the features need not be numeric
    else:
        arr = _check_features(X)
        n = arr.shape[0]
    if labels is not None:
        _check_length("labels", labels_array(labels).size, n)
    if pred_probs is not None:
        _check_length("pred_probs", np.shape(pred_probs)[0], n)

    if X is None:
        for name in knn_types:
            skipped[name] = "needs features"
        if "outlier" in knn_types and pred_probs is not None:
            results["outlier"] = find_outliers_from_pred_probs(pred_probs, labels)
            del skipped["outlier"]
    elif knn_types:
        k = _check_k(options.get("k", 10), n)
        Z = _standardized(arr)
        nb = nearest_neighbours(Z, k, method=options.get("neighbours", "auto"))
        for name in knn_types:
            if name == "near_duplicate":
                results[name] = _near_duplicates(nb, options.get("threshold"), _n_varying(Z))
            elif name == "outlier":
                results[name] = _outliers(nb)
            else:
                perms = options.get("n_permutations", 200)
                results[name] = _non_iid(nb, perms, random_state)
    if "class_imbalance" in chosen:
        if labels is None:
            skipped["class_imbalance"] = "needs labels"
        else:
            threshold = options.get("imbalance_threshold", IMBALANCE_THRESHOLD)
            results["class_imbalance"] = find_class_imbalance(labels, threshold=threshold)
    if "underperforming_group" in chosen:
        if X is None:
            skipped["underperforming_group"] = "needs features"
        elif labels is None or pred_probs is None:
            skipped["underperforming_group"] = "needs labels and pred_probs"
        else:
            results["underperforming_group"] = find_underperforming_groups(
                X,
                labels,
                pred_probs,
                n_clusters=options.get("n_clusters"),
                random_state=random_state,
                feature_names=options.get("feature_names"),
                min_group_size=options.get("min_group_size"),
            )
    ordered = {t: results[t] for t in ISSUE_TYPES if t in results}
    return DataIssues(results=ordered, skipped={t: skipped[t] for t in ISSUE_TYPES if t in skipped})


def _chosen_types(issue_types: Any) -> list[str]:
    if issue_types is None:
        return list(ISSUE_TYPES)
    if isinstance(issue_types, str):
        issue_types = [issue_types]
    chosen = list(issue_types)
    bad = [t for t in chosen if t not in ISSUE_TYPES]
    if bad:
        listed = ", ".join(repr(t) for t in ISSUE_TYPES)
        raise ConfigError(f"unknown issue type(s) {bad}; choose from {listed}.")
    return chosen


def _rows_without_features(labels: Any, pred_probs: Any) -> int:
    if pred_probs is not None:
        return int(np.shape(pred_probs)[0])
    if labels is not None:
        return int(labels_array(labels).size)
    raise InputError(
        "find_data_issues needs something to check: features X, or at least labels or pred_probs."
    )
