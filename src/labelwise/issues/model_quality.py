"""How good the model behind an audit is, and whether its errors could explain the noise estimate.

Confident learning cannot tell a wrong label from an example the model cannot predict: both look
like a confident disagreement. These checks read the audit's own numbers and say, in plain
words, when the estimate may be measuring the model rather than the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelwise._shared.serialize import json_scalar as _plain
from labelwise.models import ModelChoice, probability_quality

__all__ = ["ModelQuality", "assess_model"]

#: Below this out-of-sample accuracy on the rows the audit calls clean, the model cannot
#: predict many rows whose labels it accepts, so much of what it flags may be its own error.
CLEAN_ACCURACY = 0.93
#: Candidates within this share of the best log loss are "as good"; if they disagree on the
#: noise rate by more than NOISE_SPREAD points (or half the estimate), the estimate is shaky.
NEAR_BEST = 0.10
NOISE_SPREAD = 0.05
#: A model whose log loss is above this share of the labels' own entropy (predicting the class
#: frequencies) has learned little about the labels.
INFORMATIVE = 0.90
#: Off-diagonal (given, predicted) pairs listed by :meth:`ModelQuality.confused_with`.
CONFUSED_SHOWN = 10


@dataclass(frozen=True, eq=False)
class ModelQuality:
    """The out-of-sample quality of the probabilities an audit used, and any doubts.

    Attributes
    ----------
    accuracy : float
        Share of rows whose top class is the given label.
    log_loss : float
        Mean ``-log p[i, given_i]``.
    calibration_error : float
        Top-label expected calibration error (15 bins).
    baseline_log_loss : float
        The log loss of predicting the given-label frequencies for every row (their entropy).
    clean_accuracy : float
        Accuracy on the rows the audit did not flag (NaN when every row is flagged).
    pairs : DataFrame
        Rows per (given, predicted) pair that occurs: columns ``given``, ``predicted``, ``rows``.
        Only pairs seen are kept, so it grows with the data, not with the square of the classes.
    classes : ndarray
        Every class, in column order.
    doubts : tuple of str
        Plain-words reasons the noise estimate may reflect model error; empty when none.
    """

    accuracy: float
    log_loss: float
    calibration_error: float
    baseline_log_loss: float
    clean_accuracy: float
    pairs: pd.DataFrame
    classes: np.ndarray
    doubts: tuple[str, ...]

    @property
    def trusted(self) -> bool:
        """True when no check casts doubt on the noise estimate."""
        return not self.doubts

    @property
    def confusion(self) -> pd.DataFrame:
        """Rows per (given, predicted) pair as a (K, K) table: given as rows, predicted as columns.

        Built on demand from :attr:`pairs`; with thousands of classes prefer ``pairs``.
        """
        names = pd.Index(list(self.classes))
        table = self.pairs.pivot(index="given", columns="predicted", values="rows")
        table = table.reindex(index=names, columns=names, fill_value=0).fillna(0).astype(int)
        table.index.name, table.columns.name = "given", "predicted"
        return table

    def confused_with(self, top: int | None = CONFUSED_SHOWN) -> pd.DataFrame:
        """The (given, predicted) pairs the model disagrees on most: given, predicted, rows."""
        frame = self.pairs[self.pairs["given"] != self.pairs["predicted"]]
        frame = frame.sort_values("rows", ascending=False, kind="stable")
        return frame.head(top).reset_index(drop=True) if top is not None else frame

    def summary(self) -> dict[str, Any]:
        """A JSON-ready overview."""
        pairs = self.confused_with()
        return {
            "accuracy": self.accuracy,
            "log_loss": self.log_loss,
            "calibration_error": self.calibration_error,
            "baseline_log_loss": self.baseline_log_loss,
            "clean_accuracy": _plain(self.clean_accuracy),
            "confused_with": [
                {key: _plain(value) for key, value in row.items()}
                for row in pairs.to_dict(orient="records")
            ],
            "trusted": self.trusted,
            "doubts": list(self.doubts),
        }


def _entropy(codes: np.ndarray, n_classes: int) -> float:
    share = np.bincount(codes, minlength=n_classes) / codes.size
    share = share[share > 0]
    return float(-(share * np.log(share)).sum())


def _pairs(codes: np.ndarray, top: np.ndarray, classes: np.ndarray) -> pd.DataFrame:
    """Rows per (given, predicted) pair that occurs, in (given, predicted) column order."""
    k = classes.size
    seen, rows = np.unique(codes.astype(np.int64) * k + top, return_counts=True)
    given, predicted = np.divmod(seen, k)
    return pd.DataFrame(
        {"given": classes[given], "predicted": classes[predicted], "rows": rows.astype(np.int64)}
    )


def _doubt_clean(clean_accuracy: float, accuracy: float) -> str | None:
    if np.isnan(clean_accuracy) or clean_accuracy >= CLEAN_ACCURACY:
        return None
    return (
        f"The model is {accuracy:.1%} accurate out of sample, and only {clean_accuracy:.1%} on "
        "the rows it calls clean: it cannot predict many labels it accepts, so part of what it "
        "flags may be rows it cannot predict rather than wrong labels. Read the noise rate as "
        "an upper bound; a stronger model or more informative features would sharpen it."
    )


def _doubt_informative(log_loss: float, baseline: float) -> str | None:
    if baseline <= 0 or log_loss <= INFORMATIVE * baseline:
        return None
    return (
        f"The model predicts the labels little better than their frequencies alone (log loss "
        f"{log_loss:.3f} against {baseline:.3f}): the features say little about the label, so "
        "confident learning cannot separate wrong labels from hard ones."
    )


def _doubt_spread(choice: ModelChoice | None) -> str | None:
    if choice is None or len(choice.candidates) < 2:
        return None
    best = min(c.log_loss for c in choice.candidates)
    near = [c for c in choice.candidates if c.log_loss <= best * (1 + NEAR_BEST)]
    if len(near) < 2:
        return None
    rates = {c.name: c.noise_rate for c in near}
    low, high = min(rates, key=rates.get), max(rates, key=rates.get)
    spread = rates[high] - rates[low]
    if spread <= max(NOISE_SPREAD, 0.5 * rates[high]):
        return None
    return (
        f"Models that fit about equally well disagree on the noise rate: {rates[low]:.1%} "
        f"({low}) against {rates[high]:.1%} ({high}). The estimate depends on the model more "
        "than on the labels."
    )


def assess_model(
    codes: np.ndarray,
    pred_probs: np.ndarray,
    classes: np.ndarray,
    flagged: np.ndarray,
    choice: ModelChoice | None = None,
) -> ModelQuality:
    """Score the audit's probabilities and list plain-words doubts about its noise estimate.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        The given labels as column indices.
    pred_probs : ndarray, shape (n, K)
        The out-of-sample probabilities the audit used.
    classes : ndarray, shape (K,)
        The class of each column.
    flagged : ndarray of bool, shape (n,)
        The rows the audit flagged.
    choice : ModelChoice, optional
        The model choice, whose candidates' noise estimates are compared.

    Returns
    -------
    ModelQuality

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.issues.model_quality import assess_model
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> quality = assess_model(np.array([0, 1, 1, 1]), probs, np.array(["a", "b"]),
    ...                        np.array([False, False, True, False]))
    >>> quality.accuracy, quality.clean_accuracy
    (0.75, 1.0)
    """
    metrics = probability_quality(codes, pred_probs)
    top = np.argmax(pred_probs, axis=1)
    clean = ~np.asarray(flagged, dtype=bool)
    clean_accuracy = float((top[clean] == codes[clean]).mean()) if clean.any() else float("nan")
    baseline = _entropy(codes, classes.size)
    doubts = [
        _doubt_clean(clean_accuracy, metrics["accuracy"]),
        _doubt_informative(metrics["log_loss"], baseline),
        _doubt_spread(choice),
    ]
    return ModelQuality(
        **metrics,
        baseline_log_loss=baseline,
        clean_accuracy=clean_accuracy,
        pairs=_pairs(codes, top, classes),
        classes=classes,
        doubts=tuple(d for d in doubts if d is not None),
    )
