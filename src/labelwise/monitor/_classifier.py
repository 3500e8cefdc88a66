"""What both classifier outputs share: the uncertainty of their predictions.

A binary score and a vector of class probabilities are both read for how unsure the model is:
the mean normalized entropy of its outputs, and the share of rows near its decision (the
cut-off for a binary score, a tie between the two likeliest classes for a multiclass one). Each
kind encodes the per-row values as ``entropy`` and ``near``; the statistics and the metric rows
are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelwise.monitor._output import Rows

__all__ = ["uncertainty_statistics", "uncertainty_rows"]


def uncertainty_statistics(ref: dict, cur: dict) -> dict[str, Any]:
    """Mean entropy and near-decision share of two tallies, and how much each moved."""
    n_r, n_c = ref["n"][..., 0], cur["n"][..., 0]
    s: dict[str, Any] = {}
    for name in ("entropy", "near"):
        s[f"{name}_reference"] = ref[name][..., 0] / n_r
        s[f"{name}_current"] = cur[name][..., 0] / n_c
        s[f"{name}_delta"] = np.abs(s[f"{name}_current"] - s[f"{name}_reference"])
    return s


def uncertainty_rows(rows: Rows, near: str) -> dict[str, float]:
    """The entropy and confidence monitors' rows; ``near`` names the near-decision share
    (``"near_cutoff"`` or ``"near_tie"``). Returns the two monitors' ratios."""
    stats = rows.stats
    rows.info("entropy", "mean_entropy", stats["entropy_current"])
    rows.info("entropy", "mean_entropy_reference", stats["entropy_reference"])
    entropy = rows.gated("entropy", "entropy_change", "entropy_delta")
    rows.info("entropy", f"{near}_share", stats["near_current"])
    rows.gated("entropy", f"{near}_change", "near_delta")
    confidence = rows.gated("confidence", "ks", "confidence_ks")
    return {"entropy": entropy, "confidence": confidence}
