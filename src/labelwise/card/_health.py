"""The label-health section: the engine's audit, summarized as plain numbers."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from labelwise.card._stats import plain
from labelwise.errors import InputTypeError
from labelwise.issues.audit import AuditReport, audit, audit_predictions

#: Suspected label errors listed in the card (most suspicious first).
TOP_ERRORS = 20
CONFUSED_PAIRS = 10
#: The noise matrix shows at most this many classes: the largest by given count.
MATRIX_CLASSES = 30


def _model_name(report: AuditReport) -> str | None:
    """The model used: a candidate's name or an ensemble; for a pipeline its last step too."""
    model = report.model
    if report.model_choice is not None and report.model_choice.candidates:
        return report.model_choice.name
    if model is None:
        return None
    steps = getattr(model, "steps", None)
    name = type(model).__name__
    return f"{name}({type(steps[-1][1]).__name__})" if steps else name


def run_audit(
    table: pd.DataFrame,
    label: Any,
    features: list,
    *,
    pred_probs: Any,
    report: AuditReport | None,
    cv: int,
    seed: int,
    n_bootstrap: int,
) -> tuple[AuditReport, dict[str, Any]]:
    """The audit to summarize and how it was obtained (source, model, folds, seed, seconds)."""
    if report is not None:
        if not isinstance(report, AuditReport):
            raise InputTypeError(
                f"audit must be an AuditReport from labelwise.audit, got {type(report).__name__}."
            )
        return report, {"source": "audit report passed in", "model": _model_name(report)}
    if pred_probs is not None:
        started = time.perf_counter()
        done = audit_predictions(
            table[label], pred_probs, n_bootstrap=n_bootstrap, random_state=seed, label=str(label)
        )
        return done, {
            "source": "pred_probs passed in",
            "model": None,
            "seconds": time.perf_counter() - started,
        }
    started = time.perf_counter()
    done = audit(
        _finite(table, features),
        label,
        features=features,
        cv=cv,
        random_state=seed,
        n_bootstrap=n_bootstrap,
        issue_types="none",  # the card runs the data checks itself, on its compared columns
    )
    return done, {
        "source": "cross-validated model chosen out of sample",
        "model": _model_name(done),
        "folds": cv,
        "seed": seed,
        "features": len(done.features),
        "cv_seconds": time.perf_counter() - started,
    }


def _finite(table: pd.DataFrame, features: list) -> pd.DataFrame:
    """The table with infinite feature values as missing, which the default model imputes."""
    numeric = [
        c
        for c in features
        if pd.api.types.is_float_dtype(table[c]) and np.isinf(table[c].to_numpy()).any()
    ]
    if not numeric:
        return table
    fixed = table.copy(deep=False)
    for column in numeric:
        fixed[column] = table[column].replace([np.inf, -np.inf], np.nan)
    return fixed


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _shown_noise_matrix(noise: Any) -> tuple[list[Any], list[list[float]]]:
    """The classes the card's noise matrix shows, and the matrix among them.

    With many classes a K x K grid is unreadable (and K^2 numbers): only the
    :data:`MATRIX_CLASSES` classes with the most given labels are shown, in class order.
    """
    counts = np.asarray(noise.calibrated_joint.sum(axis=1))
    shown = np.sort(np.argsort(-counts, kind="stable")[:MATRIX_CLASSES])
    matrix = noise.noise_matrix
    if isinstance(matrix, np.ndarray):
        part = matrix[np.ix_(shown, shown)]
    else:
        part = matrix[shown][:, shown].toarray()
    return [plain(c) for c in noise.classes[shown]], np.asarray(part, dtype=float).tolist()


def label_health(report: AuditReport, how: dict[str, Any]) -> dict[str, Any]:
    """Noise rate with its interval, noise matrix, confused pairs, class quality, top errors."""
    noise = report.noise
    lo, hi = noise.noise_rate_interval
    quality = noise.class_quality()
    errors = report.to_frame().head(TOP_ERRORS)
    matrix_classes, matrix = _shown_noise_matrix(noise)
    return {
        **how,
        "method": report.issues.method,
        "n_rows": report.n_rows,
        "classes": [plain(c) for c in report.classes],
        "noise_rate": float(noise.noise_rate),
        "noise_rate_interval": [plain(lo), plain(hi)],
        "confidence": noise.confidence,
        "expected_issues": noise.expected_issues,
        "num_issues": int(report.issues.num_issues),
        "issue_share": report.issues.num_issues / report.n_rows,
        "noise_matrix": matrix,
        "noise_matrix_classes": matrix_classes,
        "noise_matrix_indexed": "[given][true], columns sum to 1: P(given | true)",
        "confused_pairs": _records(noise.confused_pairs(top=CONFUSED_PAIRS)),
        "class_quality": _records(quality),
        "top_errors": _records(errors[["rank", "row", "index", "given", "suggested", "score"]]),
        "model_quality": _model_quality(report),
        "trusted": report.trusted,
    }


def _model_quality(report: AuditReport) -> dict[str, Any] | None:
    """The model's out-of-sample scores, its candidates and any doubts, as plain numbers."""
    if report.quality is None:
        return None
    quality = report.quality.summary()
    choice = report.model_choice
    quality["candidates"] = [] if choice is None else [c.to_dict() for c in choice.candidates]
    quality["reason"] = None if choice is None else choice.reason
    return quality
