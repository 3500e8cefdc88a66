"""Per-column statistics, correlations, pair plots and the binned model of the table.

Every function returns plain JSON-ready values (numbers, strings, lists, dicts) and reads the
columns once with vectorized numpy/pandas, so a million rows by thirty columns takes seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from labelwise._shared.serialize import json_scalar as plain

#: Bins of the numeric histograms.
HIST_BINS = 20
#: Tukey's far-out fences: a value is an outlier beyond this many IQRs outside the quartiles.
OUTLIER_IQR = 3.0
#: Most frequent values kept per categorical column.
TOP_VALUES = 10
#: Rows sampled for the correlation matrix (all rows when the table is smaller).
CORR_SAMPLE = 100_000
#: Bins per axis of a pair plot, and pairs shown.
PAIR_BINS = 15
PAIR_PLOTS = 3
#: Quantile bins of a numeric column, and categories kept, in the probabilistic model.
MODEL_BINS = 8
MODEL_CATEGORIES = 8
MODEL_FEATURES = 3


def column_kind(series: pd.Series) -> str:
    """``numeric``, ``boolean``, ``datetime`` or ``categorical`` (everything else)."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "categorical"


def as_float(series: pd.Series) -> np.ndarray:
    """A numeric column as float64, missing values (nullable dtypes too) as NaN."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _moments(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, sample standard deviation and sample skewness of finite values."""
    mean = float(values.mean())
    dev = values - mean
    square = dev * dev
    m2 = float(square.mean())
    m3 = float((square * dev).mean())
    std = float(np.sqrt(m2 * values.size / (values.size - 1))) if values.size > 1 else 0.0
    skew = m3 / m2**1.5 if m2 > 0 else 0.0
    return mean, std, skew


def numeric_stats(series: pd.Series) -> dict[str, Any]:
    """Count, missing, zeros, infinite, unique, min/median/max, mean/std, skew and a histogram."""
    x = as_float(series)
    n = x.size
    missing = int(np.isnan(x).sum())
    finite_mask = np.isfinite(x)
    values = x[finite_mask]
    infinite = n - missing - values.size
    # One sort gives min, median, max and the distinct count (faster than a hash table).
    values = np.sort(values)
    distinct = int(np.count_nonzero(values[1:] != values[:-1])) + 1 if values.size else 0
    infinities = np.unique(x[np.isinf(x)]).size
    stats: dict[str, Any] = {
        "kind": "numeric",
        "count": n - missing,
        "missing": missing,
        "missing_share": missing / n if n else 0.0,
        "infinite": int(infinite),
        "unique": distinct + infinities,
    }
    if values.size == 0:
        # An empty column has every key a numeric one has, so that every view can show it.
        empty = dict.fromkeys(("min", "median", "max", "mean", "std", "skew"))
        return {**stats, **empty, "zeros": 0, "zeros_share": 0.0, "outliers": 0,
                "outlier_share": 0.0, "histogram": None}  # fmt: skip
    mean, std, skew = _moments(values)
    counts, edges = np.histogram(values, bins=HIST_BINS, range=(values[0], values[-1]))
    zeros = int((values == 0).sum())
    middle = values.size // 2
    median = values[middle] if values.size % 2 else (values[middle - 1] + values[middle]) / 2
    return {
        **stats,
        "min": float(values[0]),
        "median": float(median),
        "max": float(values[-1]),
        "mean": mean,
        "std": std,
        "skew": skew,
        "zeros": zeros,
        "zeros_share": zeros / n,
        **_outliers(values, n),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def _outliers(values: np.ndarray, n: int) -> dict[str, Any]:
    """Values beyond Tukey's far-out fences (quartile -+ OUTLIER_IQR x IQR) of sorted ``values``.

    A zero IQR (a column mostly of one value) gives no fences: those columns are flagged as
    imbalanced or zero-heavy instead, not as a mass of outliers.
    """
    q1, q3 = np.quantile(values, [0.25, 0.75], method="linear")
    iqr = q3 - q1
    if iqr <= 0:
        return {"outliers": 0, "outlier_share": 0.0}
    low, high = q1 - OUTLIER_IQR * iqr, q3 + OUTLIER_IQR * iqr
    count = int(np.searchsorted(values, low, "left") + values.size)
    count -= int(np.searchsorted(values, high, "right"))
    return {"outliers": count, "outlier_share": count / n}


def normalized_entropy(counts: np.ndarray) -> float:
    """Shannon entropy of a count vector divided by log(number of categories): 1 is uniform."""
    counts = np.asarray(counts, dtype=np.float64)
    counts = counts[counts > 0]
    if counts.size < 2:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum() / np.log(counts.size))


def categorical_stats(series: pd.Series, kind: str = "categorical") -> dict[str, Any]:
    """Count, missing, unique, most and least frequent value, entropy and the top values."""
    n = int(series.size)
    counts = series.value_counts(dropna=True, sort=True)
    missing = n - int(counts.sum())
    stats: dict[str, Any] = {
        "kind": kind,
        "count": n - missing,
        "missing": missing,
        "missing_share": missing / n if n else 0.0,
        "unique": int(counts.size),
    }
    if counts.size == 0:
        return {**stats, "values": [], "other_count": 0}
    top = counts.head(TOP_VALUES)
    return {
        **stats,
        "top": plain(counts.index[0]),
        "top_count": int(counts.iloc[0]),
        "least": plain(counts.index[-1]),
        "least_count": int(counts.iloc[-1]),
        "normalized_entropy": normalized_entropy(counts.to_numpy()),
        "values": [
            {"value": plain(v), "count": int(c), "share": int(c) / n}
            for v, c in zip(top.index, top.to_numpy(), strict=True)
        ],
        "other_count": int(counts.iloc[TOP_VALUES:].sum()),
    }


def datetime_stats(series: pd.Series) -> dict[str, Any]:
    """Count, missing, unique and the date range of a datetime column."""
    n = int(series.size)
    missing = int(series.isna().sum())
    present = series.dropna()
    return {
        "kind": "datetime",
        "count": n - missing,
        "missing": missing,
        "missing_share": missing / n if n else 0.0,
        "unique": int(present.nunique()),
        "min": present.min().isoformat() if present.size else None,
        "max": present.max().isoformat() if present.size else None,
    }


def column_stats(series: pd.Series, kind: str) -> dict[str, Any]:
    """The statistics of one column, by kind."""
    if kind == "numeric":
        return numeric_stats(series)
    if kind == "datetime":
        return datetime_stats(series)
    return categorical_stats(series, kind)


def correlations(
    table: pd.DataFrame, columns: list, seed: int, sample: int = CORR_SAMPLE
) -> dict[str, Any]:
    """Pearson correlations of the numeric columns, on a seeded row sample when the table is big.

    Columns with fewer than two distinct values are left out (their correlation is undefined).
    """
    n = len(table)
    rows = n if n <= sample else sample
    frame = table[columns]
    if n > sample:
        picked = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
        frame = frame.iloc[picked]
    data = np.column_stack([as_float(frame[c]) for c in columns]) if columns else np.empty((0, 0))
    data[~np.isfinite(data)] = np.nan
    # Mean imputation keeps one matrix product (fast) at the cost of shrinking r a little when
    # values are missing; the card says the coefficients are computed this way.
    means = np.nanmean(data, axis=0) if data.size else np.empty(0)
    data = np.where(np.isnan(data), means, data)
    matrix = np.corrcoef(data, rowvar=False) if len(columns) > 1 else np.ones((len(columns),) * 2)
    matrix = np.atleast_2d(matrix)
    pairs = [
        {"a": plain(columns[i]), "b": plain(columns[j]), "r": float(matrix[i, j])}
        for i in range(len(columns))
        for j in range(i + 1, len(columns))
        if np.isfinite(matrix[i, j])
    ]
    pairs.sort(key=lambda p: -abs(p["r"]))
    return {
        "method": "pearson",
        "rows_used": rows,
        "sampled": n > sample,
        "columns": [plain(c) for c in columns],
        "matrix": [[plain(v) for v in row] for row in matrix.tolist()],
        "top_pairs": pairs[:10],
    }


def pair_plot(table: pd.DataFrame, a: Any, b: Any, r: float) -> dict[str, Any]:
    """A 2-D histogram of two numeric columns over all rows where both are finite."""
    x, y = as_float(table[a]), as_float(table[b])
    keep = np.isfinite(x) & np.isfinite(y)
    counts, x_edges, y_edges = np.histogram2d(x[keep], y[keep], bins=PAIR_BINS)
    counts = counts.astype(np.int64)
    return {
        "x": plain(a),
        "y": plain(b),
        "r": r,
        "rows": int(keep.sum()),
        "x_edges": x_edges.tolist(),
        "y_edges": y_edges.tolist(),
        "counts": counts.tolist(),
        "x_marginal": counts.sum(axis=1).tolist(),
        "y_marginal": counts.sum(axis=0).tolist(),
    }


def pair_plots(table: pd.DataFrame, corr: dict[str, Any]) -> list[dict[str, Any]]:
    """Pair plots of the most correlated numeric pairs."""
    return [pair_plot(table, p["a"], p["b"], p["r"]) for p in corr["top_pairs"][:PAIR_PLOTS]]


def binned(series: pd.Series, kind: str, seed: int) -> tuple[np.ndarray, list[str]]:
    """Codes 0..B-1 of a column cut into a few bins, with a name per bin; -1 for missing.

    Numeric columns get quantile bins (edges from a seeded sample of at most 100,000 values);
    other columns keep their most frequent categories and put the rest in ``(other)``.
    """
    if kind == "numeric":
        x = as_float(series)
        finite = x[np.isfinite(x)]
        if finite.size == 0:
            return np.full(x.size, -1, dtype=np.int64), []
        rng = np.random.default_rng(seed)
        sample = finite if finite.size <= 100_000 else rng.choice(finite, 100_000, replace=False)
        edges = np.unique(np.quantile(sample, np.linspace(0, 1, MODEL_BINS + 1)))
        if edges.size < 2:
            edges = np.array([edges[0], edges[0]])
        inner = edges[1:-1]
        codes = np.searchsorted(inner, x, side="right").astype(np.int64)
        codes[~np.isfinite(x)] = -1
        names = [f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        return codes, names
    codes, uniques = pd.factorize(series, use_na_sentinel=True, sort=False)
    codes = codes.astype(np.int64)
    if uniques.size <= MODEL_CATEGORIES:
        return codes, [str(v) for v in uniques]
    counts = np.bincount(codes[codes >= 0], minlength=uniques.size)
    keep = np.argsort(-counts, kind="stable")[:MODEL_CATEGORIES]
    remap = np.full(uniques.size + 1, MODEL_CATEGORIES, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    remap[-1] = -1
    return remap[codes], [str(uniques[i]) for i in keep] + ["(other)"]


def _joint(x: np.ndarray, nx: int, y: np.ndarray, ny: int) -> np.ndarray:
    keep = (x >= 0) & (y >= 0)
    flat = np.bincount(x[keep] * ny + y[keep], minlength=nx * ny)
    return flat.reshape(nx, ny)


def mutual_information(joint: np.ndarray) -> tuple[float, float]:
    """Mutual information (nats) of a contingency table, and its share of H(columns)."""
    total = joint.sum()
    if total == 0:
        return 0.0, 0.0
    p = joint / total
    px, py = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / (px @ py)[nz])).sum())
    hy = float(-(py[py > 0] * np.log(py[py > 0])).sum())
    return mi, (mi / hy if hy > 0 else 0.0)


def label_model(
    table: pd.DataFrame,
    label_codes: np.ndarray,
    classes: list,
    features: list,
    kinds: dict,
    seed: int,
) -> dict[str, Any]:
    """A categorical model of the table: P(label | feature bin) for the most informative features.

    Every feature is binned (:func:`binned`); its mutual information with the label ranks it,
    and the conditional label distribution in each bin of the top features is kept.
    """
    k = len(classes)
    ranking, tables = [], {}
    for column in features:
        if kinds[column] == "datetime":
            continue
        codes, names = binned(table[column], kinds[column], seed)
        if not names:
            continue
        joint = _joint(codes, len(names), label_codes, k)
        mi, share = mutual_information(joint)
        ranking.append({"column": plain(column), "mutual_information": mi, "share_of_label": share})
        tables[plain(column)] = (names, joint)
    ranking.sort(key=lambda r: -r["mutual_information"])
    conditionals = []
    for entry in ranking[:MODEL_FEATURES]:
        names, joint = tables[entry["column"]]
        rows = joint.sum(axis=1)
        shares = joint / np.where(rows > 0, rows, 1)[:, None]
        conditionals.append(
            {
                "feature": entry["column"],
                "bins": names,
                "bin_counts": rows.tolist(),
                "label_given_bin": shares.tolist(),
            }
        )
    return {
        "kind": "categorical model of binned columns",
        "classes": [plain(c) for c in classes],
        "feature_ranking": ranking,
        "conditionals": conditionals,
    }
