"""The distribution of one real-valued output (a binary score, a regression prediction).

Binned on the reference twice: deciles for PSI, and a fine grid of reference quantiles (with a
bin below and one above the reference range) for KS, Wasserstein and the out-of-range share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelwise.monitor._counts import bin_codes, fine_codes
from labelwise.monitor._output import Rows
from labelwise.monitor._stats import (
    binned_ks,
    binned_wasserstein,
    g_test_pvalue,
    psi,
    psi_null_mean,
)

__all__ = ["encode_values", "value_sizes", "value_statistics", "value_rows"]


def encode_values(values: np.ndarray, coarse: np.ndarray, fine: np.ndarray) -> dict[str, Any]:
    """Decile and fine-grid codes, and the distances beyond the reference range."""
    return {
        "score_coarse": bin_codes(values, coarse),
        "score_fine": fine_codes(values, fine),
        "below": np.maximum(fine[0] - values, 0.0),
        "above": np.maximum(values - fine[-1], 0.0),
    }


def value_sizes(coarse: np.ndarray, fine: np.ndarray) -> dict[str, int]:
    return {"score_coarse": len(coarse) + 1, "score_fine": len(fine) + 1}


def value_statistics(
    ref: dict, cur: dict, fine: np.ndarray, std: float, smoothing: float, light: bool
) -> dict[str, Any]:
    """PSI, KS, Wasserstein (in reference standard deviations), the share out of range.

    Unless ``light``: the sample-size-corrected PSI, its G-test p-value and per-bin parts.
    """
    n_r, n_c = ref["n"][..., 0], cur["n"][..., 0]
    s: dict[str, Any] = {}
    s["score_psi"], parts = psi(ref["score_coarse"], cur["score_coarse"], smoothing)
    s["score_ks"] = binned_ks(ref["score_fine"], cur["score_fine"])
    w = binned_wasserstein(
        ref["score_fine"],
        cur["score_fine"],
        fine,
        (ref["below"][..., 0], cur["below"][..., 0]),
        (ref["above"][..., 0], cur["above"][..., 0]),
    )
    s["score_wasserstein"] = w / std if std > 0 else float("nan")
    s["out_of_range_share"] = (cur["score_fine"][..., 0] + cur["score_fine"][..., -1]) / n_c
    if not light:
        s["score_psi_corrected"] = max(
            0.0, float(s["score_psi"]) - psi_null_mean(len(ref["score_coarse"]), n_r, n_c)
        )
        s["score_pvalue"] = g_test_pvalue(ref["score_coarse"], cur["score_coarse"])
        s["score_contributions"] = parts.tolist()
    return s


def value_rows(rows: Rows) -> dict[str, float]:
    """The score monitor's rows; returns its ratio (the PSI's)."""
    ratios = {"score": rows.gated("score", "psi", "score_psi")}
    rows.info("score", "psi_corrected", rows.stats["score_psi_corrected"])
    rows.info("score", "psi_pvalue", rows.stats["score_pvalue"])
    rows.gated("score", "ks", "score_ks")
    rows.gated("score", "wasserstein_norm", "score_wasserstein")
    return ratios
