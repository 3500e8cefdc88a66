"""A multiclass classifier's output: one probability column per class.

Drift of each class's probability (PSI on reference deciles), of the prediction mix (PSI of the
predicted classes) and of the confidence (KS of the largest probability), uncertainty (normalized
entropy, the share of rows whose two best classes lie within ``near_band``), and expected
performance from the calibrated probabilities (confidence-based estimation): a row predicted as
class k is right with probability q_k, so the expected confusion counts are sums over rows and
accuracy, per-class precision, recall and F1 and their macro averages follow from them.

Calibration is per class, one class against the rest (isotonic), then every row is renormalized
to sum to one; it is kept when it lowers the Brier score out of fold.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from labelwise.errors import ConfigError, InputError, LabelError, ProbabilityError
from labelwise.monitor._classifier import uncertainty_rows, uncertainty_statistics
from labelwise.monitor._counts import bin_codes, check_scores, fine_codes, interp, quantile_edges
from labelwise.monitor._fit import fine_edges
from labelwise.monitor._output import Output, Rows, as_float, largest, ratio
from labelwise.monitor._stats import binned_ks, psi

__all__ = ["MulticlassOutput", "check_probabilities", "class_codes", "class_names"]

#: How far a row's probabilities may sum from one before it is refused (rounding in files).
_SUM_TOLERANCE = 0.01
#: Per-class metrics, each estimated and realized from the expected confusion counts.
_PER_CLASS = ("precision", "recall", "f1")


def class_names(columns: Sequence[str], classes: Sequence[Hashable] | None = None) -> list:
    """Class names for probability columns: ``classes`` if given, else the columns' suffixes.

    The suffix is what follows the columns' longest common prefix, cut back to its last
    separator (``_``, ``-``, ``.``, ``:`` or a space); without one, the column names themselves.

    >>> class_names(["p_cat", "p_dog", "p_owl"])
    ['cat', 'dog', 'owl']
    >>> class_names(["pcat", "pcow"])
    ['pcat', 'pcow']
    """
    if classes is not None:
        classes = list(classes)
        if len(classes) != len(columns):
            raise ConfigError(
                f"got {len(classes)} class names for {len(columns)} probability columns; give "
                "one name per column, in the same order."
            )
    else:
        prefix = os.path.commonprefix([str(c) for c in columns])
        cut = max(prefix.rfind(sep) for sep in "_-.: ") + 1
        classes = [str(c)[cut:] for c in columns] if cut else [str(c) for c in columns]
    if len(set(classes)) != len(classes) or any(c == "" for c in classes):
        raise ConfigError(
            f"class names {classes!r} must be distinct and non-empty; name them with classes=[...]."
        )
    return classes


def class_codes(labels: Any, classes: Sequence[Hashable], what: str = "labels") -> np.ndarray:
    """Index of each label in ``classes`` (labels of any hashable type; text matches too)."""
    values = pd.Series(
        np.asarray(labels, dtype=object) if not isinstance(labels, pd.Series) else labels
    )
    missing = values.isna().to_numpy()
    if missing.any():
        raise LabelError(
            f"{what}: a missing label at row {int(missing.argmax())}; drop the rows whose "
            "outcome is not known yet, or fill them in."
        )
    codes = pd.Index(list(classes)).get_indexer(values.to_numpy(dtype=object))
    unknown = codes < 0
    if unknown.any():
        # Labels read from a file are often text while the class names are numbers, or back.
        by_text = {str(c): i for i, c in enumerate(classes)}
        codes[unknown] = [by_text.get(str(v), -1) for v in values[unknown]]
    if (codes < 0).any():
        bad = values[codes < 0].iloc[0]
        raise LabelError(
            f"{what}: {bad!r} is none of the monitor's classes {list(classes)[:20]}; "
            "every label must be one of the classes of the probability columns."
        )
    return codes.astype(np.intp)


def _isotonic_maps(probs: np.ndarray, labels: np.ndarray) -> list:
    """One isotonic map per class (one against the rest); None for a class absent or ubiquitous."""
    maps: list = []
    for j in range(probs.shape[1]):
        hit = (labels == j).astype(float)
        if 0 < hit.sum() < hit.size:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(probs[:, j], hit)
            maps.append((iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)))
        else:
            maps.append(None)
    return maps


def _apply_maps(probs: np.ndarray, maps: list) -> np.ndarray:
    """Probabilities through per-class maps, each row renormalized to sum to one."""
    if all(m is None for m in maps):
        return probs
    q = probs.copy()
    for j, m in enumerate(maps):
        if m is not None:
            q[:, j] = interp(probs[:, j], m[0], m[1])
    total = q.sum(axis=1, keepdims=True)
    return np.divide(q, total, out=probs.copy(), where=total > 0)


def _brier(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean multiclass Brier score (a proper scoring rule: lower is better calibrated)."""
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(labels)), labels] = 1.0
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def fit_class_calibration(
    probs: np.ndarray, labels: np.ndarray, mode: Any, random_state: int
) -> tuple[list, dict]:
    """Per-class isotonic maps and whether they are kept.

    ``"auto"`` keeps them only when the out-of-fold calibrated, renormalized probabilities have
    a lower multiclass Brier score than the raw ones. A proper score, not a binned calibration
    error: with a few thousand rows, binned errors favour the step functions of isotonic
    regression even when the raw probabilities are already calibrated, and the maps then make
    the expected accuracy optimistic.
    """
    k = probs.shape[1]
    if mode in (False, None, "none"):
        return [None] * k, {"calibrated": False, "reason": "calibration disabled"}
    if mode not in (True, "auto", "isotonic"):
        raise ConfigError(f"calibrate={mode!r} is not supported; use 'auto', True or False.")
    folds = np.random.default_rng([random_state, 3]).permutation(len(labels)) % 2 == 0
    oof = np.empty_like(probs)
    for part in (folds, ~folds):
        oof[part] = _apply_maps(probs[part], _isotonic_maps(probs[~part], labels[~part]))
    raw, calibrated = _brier(probs, labels), _brier(oof, labels)
    info = {"brier_raw": raw, "brier_isotonic_oof": calibrated}
    if mode == "auto" and calibrated >= raw:
        return [None] * k, {**info, "calibrated": False}
    return _isotonic_maps(probs, labels), {**info, "calibrated": True}


def check_probabilities(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The probability columns as rows x classes, checked: in [0, 1], rows summing to one."""
    probs = np.column_stack([check_scores(frame[c], c) for c in columns])
    total = probs.sum(axis=1)
    off = np.abs(total - 1.0) > _SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise ProbabilityError(
            f"the probability columns {list(columns)[:5]} sum to {total[row]:.4g} at row {row}; a "
            "multiclass monitor needs every class's probability, summing to one per row (add the "
            "missing classes' columns, or apply softmax to logits)."
        )
    return probs


@dataclass
class MulticlassOutput(Output):
    """Bins and per-class calibration of class probabilities (picklable, JSON-able)."""

    kind: ClassVar[str] = "multiclass"
    thresholded: ClassVar[tuple[str, ...]] = (
        "score_psi",
        "prediction_mix_psi",
        "entropy_delta",
        "near_delta",
        "confidence_ks",
    )

    columns: list[str]
    classes: list
    near_band: float
    score_edges: list[np.ndarray]  # per class: inner decile edges of its probability
    confidence_edges: np.ndarray  # fine grid of the largest probability
    calibration: list[tuple[np.ndarray, np.ndarray] | None]

    @classmethod
    def fit(
        cls,
        probs: np.ndarray,
        labels: np.ndarray | None,
        *,
        columns: list[str],
        classes: list,
        near_band: float,
        n_bins: int,
        fine_bins: int,
        calibrate: Any,
        random_state: int,
    ) -> tuple[MulticlassOutput, dict]:
        """The output fitted on reference probabilities (rows x classes) and label codes."""
        k = probs.shape[1]
        calibration: list = [None] * k
        info: dict[str, Any] = {"calibrated": False, "reason": "no reference labels"}
        if labels is not None:
            calibration, info = fit_class_calibration(probs, labels, calibrate, random_state)
            info["reference_accuracy"] = float((probs.argmax(axis=1) == labels).mean())
            info["reference_class_shares"] = np.bincount(labels, minlength=k) / labels.size
        output = cls(
            columns=list(columns),
            classes=list(classes),
            near_band=float(near_band),
            score_edges=[quantile_edges(probs[:, j], n_bins) for j in range(k)],
            confidence_edges=fine_edges(probs.max(axis=1), fine_bins),
            calibration=calibration,
        )
        return output, info

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        return check_probabilities(frame, self.columns)

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """Per-class isotonic maps, then each row renormalized to sum to one."""
        return _apply_maps(probs, self.calibration)

    # --- encoding -------------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame) -> dict[str, Any]:
        probs = self.probabilities(frame)
        n, k = probs.shape
        pred = probs.argmax(axis=1)
        top2 = np.partition(probs, k - 2, axis=1)[:, k - 2 :] if k > 1 else probs
        conf = top2[:, -1]
        q = self.calibrate(probs)
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(probs > 0, probs * np.log(np.where(probs > 0, probs, 1.0)), 0.0)
        enc: dict[str, Any] = {
            "pred": pred,
            "conf_fine": fine_codes(conf, self.confidence_edges),
            "entropy": -plogp.sum(axis=1) / np.log(k),
            "near": (top2[:, -1] - top2[:, 0] <= self.near_band).astype(float),
            "q": q,
            "q_pred": q[np.arange(n), pred],
        }
        for j in range(k):
            enc[f"score_coarse:{j}"] = bin_codes(probs[:, j], self.score_edges[j])
        return enc

    def encode_labels(self, enc: dict[str, Any], labels: np.ndarray) -> dict[str, Any]:
        hit = (labels == enc["pred"]).astype(float)
        return {"label_code": labels, "hit": hit, "ones": np.ones_like(hit)}

    def sizes(self) -> dict[str, int]:
        out = {"pred": self.n_classes, "conf_fine": len(self.confidence_edges) + 1}
        for j, edges in enumerate(self.score_edges):
            out[f"score_coarse:{j}"] = len(edges) + 1
        return out

    def weighted(self, enc: Mapping[str, Any]) -> dict[str, tuple[str, str, int]]:
        k = self.n_classes
        out = {"tp": ("pred", "q_pred", k)}  # expected right predictions, by predicted class
        if "label_code" in enc:
            out["tp_real"] = ("pred", "hit", k)
            out["actual_real"] = ("label_code", "ones", k)
        return out

    def summed(self, enc: Mapping[str, Any]) -> tuple[str, ...]:
        return ("entropy", "near")

    def vectors(self, enc: Mapping[str, Any]) -> dict[str, int]:
        return {"q": self.n_classes}  # expected rows of each class

    # --- statistics -----------------------------------------------------------------------------

    def statistics(self, ref: dict, cur: dict, smoothing: float, light: bool) -> dict:
        n_c = cur["n"][..., 0]
        s: dict[str, Any] = {}
        per_class = [
            psi(ref[f"score_coarse:{j}"], cur[f"score_coarse:{j}"], smoothing)[0]
            for j in range(self.n_classes)
        ]
        s["score_psi"] = largest(per_class)
        s["prediction_mix_psi"] = psi(ref["pred"], cur["pred"], smoothing)[0]
        s["confidence_ks"] = binned_ks(ref["conf_fine"], cur["conf_fine"])
        s.update(uncertainty_statistics(ref, cur))
        if not light:
            s["class_psi"] = [float(v) for v in per_class]
            s["prediction_share"] = (cur["pred"] / n_c).tolist()
        return s

    def performance(self, t: dict, realized: bool = True) -> dict:
        """Expected (and, for labelled reference draws, realized) performance from one tally."""
        out = self._metrics(t["n"][..., 0], t["pred"], t["tp"], t["q"])
        if realized and "tp_real" in t:
            truth = self._metrics(t["n"][..., 0], t["pred"], t["tp_real"], t["actual_real"])
            out.update({"realized_" + k: v for k, v in truth.items()})
        return out

    def _metrics(self, n: Any, predicted: Any, right: Any, actual: Any) -> dict:
        """Accuracy, per-class and macro precision, recall and F1 from confusion sums."""
        per = {
            "precision": ratio(right, predicted),
            "recall": ratio(right, actual),
            "f1": ratio(2 * np.asarray(right), np.asarray(predicted) + np.asarray(actual)),
        }
        out = {"accuracy": ratio(np.asarray(right).sum(axis=-1), n)}
        for name, values in per.items():
            values = np.asarray(values, float)
            out["macro_" + name] = _nanmean(values)
            for j, cls in enumerate(self.classes):
                out[f"{name}[{cls}]"] = as_float(values[..., j])
        return out

    @property
    def banded(self) -> tuple[str, ...]:
        per_class = tuple(f"{m}[{c}]" for c in self.classes for m in _PER_CLASS)
        return ("accuracy", "macro_precision", "macro_recall", "macro_f1", *per_class)

    def drift_rows(self, rows: Rows) -> dict[str, float]:
        ratios = {"score": rows.gated("score", "psi", "score_psi")}
        for cls, value in zip(self.classes, rows.stats["class_psi"], strict=True):
            rows.info("score", f"psi[{cls}]", value)
        return ratios

    def rows(self, rows: Rows) -> dict[str, float]:
        stats = rows.stats
        ratios = uncertainty_rows(rows, "near_tie")
        ratios["performance"] = rows.estimates(
            ("accuracy", "macro_precision", "macro_recall", "macro_f1")
        )
        # Per-class estimates carry bands but do not fire: with K classes and three metrics each,
        # 3K tests per window would raise false alarms; the macro averages speak for them.
        for cls in self.classes:
            for metric in _PER_CLASS:
                rows.estimate(f"{metric}[{cls}]", gate=False)
        rows.info("operational", "volume", float(rows.n_rows))
        ratios["operational"] = rows.gated(
            "operational", "prediction_mix_psi", "prediction_mix_psi"
        )
        for cls, share in zip(self.classes, stats["prediction_share"], strict=True):
            rows.info("operational", f"prediction_share[{cls}]", share)
        return ratios

    def details(self) -> dict:
        return {"kind": self.kind, "classes": list(self.classes)}

    def bin_details(self, stats: dict) -> dict:
        return {"class_psi": dict(zip(map(str, self.classes), stats["class_psi"], strict=True))}

    # --- reconciliation -------------------------------------------------------------------------

    def realize(self, labels: Any, outputs: Any) -> tuple[dict[str, float], list[str]]:
        codes = class_codes(labels, self.classes)
        if outputs is None:
            return {}, ["no probabilities given: the window's predictions are needed to reconcile"]
        probs = self.probabilities(_as_frame(outputs, self.columns))
        if len(probs) != codes.size:
            raise InputError(f"got {len(probs)} rows of probabilities for {codes.size} labels.")
        k = self.n_classes
        pred = probs.argmax(axis=1)
        hit = (pred == codes).astype(float)
        metrics = self._metrics(
            float(codes.size),
            np.bincount(pred, minlength=k).astype(float),
            np.bincount(pred, weights=hit, minlength=k),
            np.bincount(codes, minlength=k).astype(float),
        )
        return {k: float(v) for k, v in metrics.items() if np.isfinite(v)}, []

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "columns": self.columns,
            "classes": self.classes,
            "near_band": self.near_band,
            "score_edges": [e.tolist() for e in self.score_edges],
            "confidence_edges": self.confidence_edges,
            "calibration": [None if c is None else list(c) for c in self.calibration],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> MulticlassOutput:
        return cls(
            columns=list(d["columns"]),
            classes=list(d["classes"]),
            near_band=float(d["near_band"]),
            score_edges=[np.asarray(e, float) for e in d["score_edges"]],
            confidence_edges=np.asarray(d["confidence_edges"], float),
            calibration=[
                None if c is None else (np.asarray(c[0], float), np.asarray(c[1], float))
                for c in d["calibration"]
            ],
        )


def _nanmean(values: np.ndarray) -> Any:
    """Mean over the last axis of the finite values (classes never predicted are left out)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=-1)
    total = np.where(finite, values, 0.0).sum(axis=-1)
    return ratio(total, count)


def _as_frame(outputs: Any, columns: list[str]) -> pd.DataFrame:
    """Probabilities given as a frame with the monitor's columns, or as rows x classes."""
    if isinstance(outputs, pd.DataFrame):
        missing = [c for c in columns if c not in outputs.columns]
        if missing:
            raise InputError(f"the probabilities lack column(s) {missing}.")
        return outputs
    array = np.asarray(outputs, dtype=float)
    if array.ndim != 2 or array.shape[1] != len(columns):
        raise InputError(
            f"probabilities must be rows x {len(columns)} classes, got shape {array.shape}."
        )
    return pd.DataFrame(array, columns=columns)
