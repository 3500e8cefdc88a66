"""The statistics every kind of monitor shares: feature drift and the multivariate signal.

Each function works on two tallies (a reference and a window), stacked or not: the null
distribution calls them on hundreds of resampled pairs at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from labelwise.monitor._counts import Layout
from labelwise.monitor._output import Rows, ratio
from labelwise.monitor._stats import bh_reject, g_test_pvalue, psi, psi_null_mean

__all__ = [
    "feature_statistics",
    "multivariate_statistics",
    "shifted_features",
    "feature_rows",
    "multivariate_rows",
]


def feature_statistics(
    layout: Layout,
    importance: Mapping[str, float],
    ref: dict,
    cur: dict,
    smoothing: float,
    light: bool,
) -> dict[str, Any]:
    """Largest and importance-weighted feature PSI, missing-rate change; the table unless light."""
    n_r, n_c = ref["n"][..., 0], cur["n"][..., 0]
    table, psis, missing = [], [], []
    for fb in layout.features:
        key = "feat:" + fb.name
        value, parts = psi(ref[key], cur[key], smoothing)
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
            "importance": importance[fb.name],
            "pvalue": g_test_pvalue(ref[key], cur[key]),
            "psi_corrected": max(0.0, value - psi_null_mean(fb.n_bins, n_r, n_c)),
            "bins": fb.labels,
            "contributions": parts.tolist(),
        }
        if fb.kind == "categorical":
            row["unseen_share"] = float(cur[key][-2] / n_c)
        table.append(row)
    s: dict[str, Any] = {}
    if psis:
        weights = np.array([importance[fb.name] for fb in layout.features])
        stacked = np.stack(psis, axis=-1)
        s["features_max_psi"] = stacked.max(axis=-1)
        s["features_weighted_psi"] = stacked @ weights
        s["missing_max_delta"] = np.stack(missing, axis=-1).max(axis=-1)
    else:
        s["features_max_psi"] = s["features_weighted_psi"] = float("nan")
        s["missing_max_delta"] = float("nan")
    if not light:
        s["feature_table"] = table
    return s


def multivariate_statistics(ref: dict, cur: dict) -> dict[str, Any]:
    """Change of the mean PCA reconstruction error, and the share of rows above its 99th centile."""
    if "pca_err" not in cur:
        return {"multivariate_delta": float("nan")}
    n_rc, n_cc = ref["pca_n"][..., 0], cur["pca_n"][..., 0]
    err_ratio = ratio(ratio(cur["pca_err"][..., 0], n_cc), ratio(ref["pca_err"][..., 0], n_rc))
    return {
        "multivariate_delta": np.abs(err_ratio - 1.0),
        "multivariate_error_ratio": err_ratio,
        "multivariate_high_share": ratio(cur["pca_high"][..., 0], n_cc),
    }


def shifted_features(table: list[dict], fdr: float, floor: float) -> list[str]:
    """Features with a significant shift after BH control and a material PSI (rows marked)."""
    if not table:
        return []
    reject = bh_reject(np.array([r["pvalue"] for r in table]), fdr)
    out = []
    for row, rej in zip(table, reject, strict=True):
        row["shifted"] = bool(rej and row["psi"] > floor)
        if row["shifted"]:
            out.append(row["feature"])
    return out


def feature_rows(rows: Rows, shifted: list[str]) -> float:
    """The features monitor's rows; returns its ratio (NaN without features)."""
    table = rows.stats["feature_table"]
    if not table:
        return float("nan")
    ratio_ = rows.gated("features", "max_psi", "features_max_psi")
    rows.gated("features", "weighted_psi", "features_weighted_psi")
    rows.info("features", "n_shifted", float(len(shifted)))
    rows.gated("features", "missing_rate_change_max", "missing_max_delta")
    rows.info("features", "unseen_share_max", max(r.get("unseen_share", 0.0) for r in table))
    return ratio_


def multivariate_rows(rows: Rows) -> float:
    """The multivariate monitor's rows; returns its ratio (NaN without a PCA)."""
    if not np.isfinite(rows.stats["multivariate_delta"]):
        return float("nan")
    ratio_ = rows.gated("multivariate", "reconstruction_error_change", "multivariate_delta")
    rows.info("multivariate", "high_error_share", rows.stats["multivariate_high_share"])
    return ratio_
