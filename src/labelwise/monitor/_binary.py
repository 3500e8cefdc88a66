"""A binary risk classifier's output: one score, P(bad), and a decision cut-off.

Drift of the score (PSI on reference deciles, KS and Wasserstein on a fine reference-quantile
grid), uncertainty (entropy, the share near the cut-off, the confidence max(p, 1 - p)), expected
performance from the calibrated scores (bad rate, AUC, precision and recall of the declined
cases: confidence-based estimation), and the approval rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from labelwise.errors import InputError
from labelwise.monitor._classifier import uncertainty_rows, uncertainty_statistics
from labelwise.monitor._counts import check_scores, fine_codes, interp, quantile_edges
from labelwise.monitor._fit import check_labels, fine_edges, fit_calibration
from labelwise.monitor._output import Output, Rows, ratio
from labelwise.monitor._results import MetricRow, clip_to_range
from labelwise.monitor._stats import (
    binary_entropy,
    binned_ks,
    expected_auc,
)
from labelwise.monitor._values import encode_values, value_rows, value_sizes, value_statistics

__all__ = ["BinaryOutput"]


@dataclass
class BinaryOutput(Output):
    """Bins and calibration of a binary score (picklable, JSON-able)."""

    kind: ClassVar[str] = "binary"
    thresholded: ClassVar[tuple[str, ...]] = (
        "score_psi",
        "score_ks",
        "score_wasserstein",
        "entropy_delta",
        "near_delta",
        "confidence_ks",
        "out_of_range_share",
    )

    score: str
    cutoff: float
    near_band: float
    score_edges: np.ndarray  # inner decile edges, PSI
    fine_edges: np.ndarray  # fine grid, KS / Wasserstein / expected AUC
    confidence_edges: np.ndarray  # fine grid of max(p, 1 - p)
    calibration: tuple[np.ndarray, np.ndarray] | None = None
    score_std: float = 0.0

    @classmethod
    def fit(
        cls,
        scores: np.ndarray,
        labels: np.ndarray | None,
        *,
        score: str,
        cutoff: float,
        near_band: float,
        n_bins: int,
        fine_bins: int,
        calibrate: Any,
        random_state: int,
    ) -> tuple[BinaryOutput, dict]:
        """The output fitted on reference scores (and labels); returns it and calibration info."""
        if labels is not None:
            calibration, info = fit_calibration(scores, labels, calibrate, random_state)
            info["reference_bad_rate"] = float(labels.mean())
            info["reference_auc"] = float(roc_auc_score(labels, scores))
        else:
            calibration, info = None, {"calibrated": False, "reason": "no reference labels"}
        output = cls(
            score=score,
            cutoff=cutoff,
            near_band=float(near_band),
            score_edges=quantile_edges(scores, n_bins),
            fine_edges=fine_edges(scores, fine_bins),
            confidence_edges=fine_edges(np.maximum(scores, 1 - scores), fine_bins),
            calibration=calibration,
            score_std=float(np.std(scores)),
        )
        return output, info

    @property
    def columns(self) -> list[str]:
        return [self.score]

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (the isotonic map, or the scores unchanged)."""
        if self.calibration is None:
            return scores
        x, y = self.calibration
        return interp(scores, x, y)

    # --- encoding -------------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame) -> dict[str, Any]:
        p = check_scores(frame[self.score], self.score)
        conf = np.maximum(p, 1.0 - p)
        declined = (p >= self.cutoff).astype(float)
        pos = self.calibrate(p)
        return {
            **encode_values(p, self.score_edges, self.fine_edges),
            "conf_fine": fine_codes(conf, self.confidence_edges),
            "entropy": binary_entropy(p),
            "near": (np.abs(p - self.cutoff) <= self.near_band).astype(float),
            "declined": declined,
            "pos": pos,
            "pos_declined": pos * declined,
        }

    def encode_labels(self, enc: dict[str, Any], labels: np.ndarray) -> dict[str, Any]:
        label = labels.astype(float)
        return {"label": label, "label_declined": label * enc["declined"]}

    def sizes(self) -> dict[str, int]:
        sizes = value_sizes(self.score_edges, self.fine_edges)
        return {**sizes, "conf_fine": len(self.confidence_edges) + 1}

    def weighted(self, enc: Mapping[str, Any]) -> dict[str, tuple[str, str, int]]:
        # Expected (and, on the reference, realized) positives per fine bin: the AUC.
        size = len(self.fine_edges) + 1
        out = {"fine_pos": ("score_fine", "pos", size)}
        if "label" in enc:
            out["fine_label"] = ("score_fine", "label", size)
        return out

    def summed(self, enc: Mapping[str, Any]) -> tuple[str, ...]:
        keys = ("below", "above", "entropy", "near", "declined", "pos", "pos_declined")
        return keys + (("label", "label_declined") if "label" in enc else ())

    # --- statistics -----------------------------------------------------------------------------

    def statistics(self, ref: dict, cur: dict, smoothing: float, light: bool) -> dict:
        s = value_statistics(ref, cur, self.fine_edges, self.score_std, smoothing, light)
        s.update(uncertainty_statistics(ref, cur))
        s["confidence_ks"] = binned_ks(ref["conf_fine"], cur["conf_fine"])
        return s

    def performance(self, t: dict, realized: bool = True) -> dict:
        """Expected (and, for labelled reference draws, realized) performance from one tally."""
        n, declined, pos = t["n"][..., 0], t["declined"][..., 0], t["pos"][..., 0]
        out = {
            "bad_rate": pos / n,
            "precision": ratio(t["pos_declined"][..., 0], declined),
            "recall": ratio(t["pos_declined"][..., 0], pos),
            "auc": expected_auc(t["score_fine"], t["fine_pos"]),
            "approval_rate": 1.0 - declined / n,
        }
        if realized and "label" in t:  # resampled reference windows: what the labels say
            lab, lab_declined = t["label"][..., 0], t["label_declined"][..., 0]
            out["realized_bad_rate"] = lab / n
            out["realized_precision"] = ratio(lab_declined, declined)
            out["realized_recall"] = ratio(lab_declined, lab)
            out["realized_auc"] = expected_auc(t["score_fine"], t["fine_label"])
        return out

    @property
    def banded(self) -> tuple[str, ...]:
        return ("bad_rate", "auc", "precision", "recall", "approval_rate")

    def drift_rows(self, rows: Rows) -> dict[str, float]:
        return value_rows(rows)

    def rows(self, rows: Rows) -> dict[str, float]:
        ratios = uncertainty_rows(rows, "near_cutoff")
        ratios["performance"] = rows.estimates(("bad_rate", "auc", "precision", "recall"))
        rows.info("operational", "volume", float(rows.n_rows))
        ratios["operational"] = float(
            np.nanmax([self._approval_row(rows), self._out_of_range_row(rows)])
        )
        return ratios

    @staticmethod
    def _approval_row(rows: Rows) -> float:
        """The approval rate against a band around the reference's own (a drift, not a guess)."""
        appr = clip_to_range("approval_rate", rows.stats["approval_rate"])
        appr_ref = rows.ref_stats["approval_rate"]
        half = rows.n_sigma * rows.null["se_shift"]["approval_rate"]
        fired = bool(abs(appr - appr_ref) > half) if np.isfinite(half) else None
        rows.metrics.append(
            MetricRow(
                "operational",
                "approval_rate",
                appr,
                None,
                clip_to_range("approval_rate", appr_ref - half),
                clip_to_range("approval_rate", appr_ref + half),
                fired,
            )
        )
        return ratio(abs(appr - appr_ref), half) if np.isfinite(half) else float("nan")

    @staticmethod
    def _out_of_range_row(rows: Rows) -> float:
        return rows.gated("operational", "out_of_range_share", "out_of_range_share")

    def notes(self, stats: dict) -> list[str]:
        if stats["out_of_range_share"] > 0:
            return [
                f"{stats['out_of_range_share']:.2%} of scores lie outside the reference range "
                f"[{self.fine_edges[0]:.4g}, {self.fine_edges[-1]:.4g}]"
            ]
        return []

    def bin_details(self, stats: dict) -> dict:
        return {"edges": self.score_edges.tolist(), "contributions": stats["score_contributions"]}

    # --- reconciliation -------------------------------------------------------------------------

    def realize(self, labels: Any, outputs: Any) -> tuple[dict[str, float], list[str]]:
        y = check_labels(labels, need_both=False)
        realized = {"bad_rate": float(y.mean())}
        if outputs is None:
            return realized, ["no scores given: only the bad rate can be reconciled"]
        p = check_scores(pd.Series(np.asarray(outputs)), "scores")
        if p.size != y.size:
            raise InputError(f"got {p.size} scores for {y.size} labels; they must match.")
        declined = p >= self.cutoff
        if np.unique(y).size == 2:
            realized["auc"] = float(roc_auc_score(y, p))
        if declined.any():
            realized["precision"] = float(y[declined].mean())
        if y.sum() > 0:
            realized["recall"] = float(y[declined].sum() / y.sum())
        return realized, []

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "score": self.score,
            "cutoff": self.cutoff,
            "near_band": self.near_band,
            "score_edges": self.score_edges,
            "fine_edges": self.fine_edges,
            "confidence_edges": self.confidence_edges,
            "calibration": None if self.calibration is None else list(self.calibration),
            "score_std": self.score_std,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> BinaryOutput:
        cal = d["calibration"]
        return cls(
            score=d["score"],
            cutoff=float(d["cutoff"]),
            near_band=float(d["near_band"]),
            score_edges=np.asarray(d["score_edges"], float),
            fine_edges=np.asarray(d["fine_edges"], float),
            confidence_edges=np.asarray(d["confidence_edges"], float),
            calibration=None if cal is None else (np.asarray(cal[0]), np.asarray(cal[1])),
            score_std=float(d.get("score_std", 0.0)),
        )
