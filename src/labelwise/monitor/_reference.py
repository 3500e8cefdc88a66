"""Fitting a monitor's reference: checks, the model output, feature bins, PCA, resampling pool.

Everything a window is later compared with is fitted here, once, on the labelled reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelwise.errors import ConfigError, InputError, InputTypeError
from labelwise.monitor._binary import BinaryOutput
from labelwise.monitor._counts import Layout, check_scores, tally
from labelwise.monitor._fit import (
    check_labels,
    default_features,
    feature_bins,
    fit_pca,
    importance_weights,
)
from labelwise.monitor._kinds import OutputSpec
from labelwise.monitor._multiclass import MulticlassOutput, check_probabilities, class_codes
from labelwise.monitor._regression import RegressionOutput, check_predictions, check_targets
from labelwise.monitor._window_reading import submitter

__all__ = [
    "FittedReference",
    "check_reference",
    "fit_reference",
    "read_sample",
    "reference_outputs",
    "sample_rows",
]


@dataclass
class FittedReference:
    """What :func:`fit_reference` returns: the layout and the reference's counts and pool."""

    layout: Layout
    counts: dict
    sample: dict
    importance: dict[str, float]
    info: dict
    n_reference: int


def check_reference(
    reference: Any, spec: OutputSpec, features: Sequence[str] | None, label: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """The reference with a fresh index and the features to watch, or a clear error."""
    if not isinstance(reference, pd.DataFrame):
        raise InputTypeError(f"reference must be a pandas DataFrame, not {type(reference)}.")
    if len(reference) < 20:
        raise InputError(
            f"the reference has {len(reference)} rows; at least 20 are needed to fit bins "
            "(thousands for stable thresholds)."
        )
    frame = reference.reset_index(drop=True)
    features = _features(frame, spec.columns, features, label)
    _check_columns(frame, spec.columns, features, label)
    return frame, features


def _features(
    frame: pd.DataFrame, outputs: list[str], features: Sequence[str] | None, label: str | None
) -> list[str]:
    """The features to watch: those given, else every column but the outputs and label."""
    if features is None:
        return default_features(frame.columns, outputs, label)
    if isinstance(features, str):
        # list("income") would watch the columns "i", "n", "c", ...
        raise ConfigError(
            f"features must be a list of column names, not the string {features!r}; "
            f"write features=[{features!r}]."
        )
    return list(features)


def _check_columns(
    frame: pd.DataFrame, outputs: list[str], features: list[str], label: str | None
) -> None:
    taken = set(outputs) | {label}
    if len(set(features)) != len(features) or taken & set(features):
        raise ConfigError(
            "features must be distinct and exclude the model's output and label columns."
        )
    wanted = [*outputs, *features] + ([label] if label is not None else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(
            f"the reference lacks column(s) {missing}; it has {list(frame.columns)[:20]}."
        )


def reference_outputs(
    frame: pd.DataFrame, spec: OutputSpec, label: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's outputs and the labels of the reference, checked for the kind."""
    if spec.kind == "multiclass":
        values = check_probabilities(frame, spec.columns)
        labels = (
            None if label is None else class_codes(frame[label], spec.classes, f"column {label!r}")
        )
        return values, labels
    if spec.kind == "regression":
        values = check_predictions(frame[spec.columns[0]], spec.columns[0])
        labels = None if label is None else check_targets(frame[label], f"column {label!r}")
    else:
        values = check_scores(frame[spec.columns[0]], spec.columns[0])
        labels = None if label is None else check_labels(frame[label])
    if np.ptp(values) == 0:
        raise InputError(
            f"reference values in {spec.columns[0]!r} are all {values[0]:.6g}; a constant "
            "output has no distribution to monitor."
        )
    return values, labels


def _fit_output(
    frame: pd.DataFrame,
    spec: OutputSpec,
    cutoff: float,
    values: np.ndarray,
    labels: np.ndarray | None,
    bins: list,
    params: Mapping[str, Any],
) -> tuple[Any, dict, tuple | None]:
    """The output part of the layout, its fit information and, for regression, the
    reference's own error estimates out of fold."""
    common = {k: params[k] for k in ("n_bins", "fine_bins", "random_state")}
    if spec.kind == "regression":
        return RegressionOutput.fit(
            frame, values, labels, prediction=spec.columns[0], bins=bins, **common
        )
    common.update(near_band=params["near_band"], calibrate=params["calibrate"])
    if spec.kind == "multiclass":
        output, info = MulticlassOutput.fit(
            values, labels, columns=spec.columns, classes=spec.classes, **common
        )
    else:
        output, info = BinaryOutput.fit(
            values, labels, score=spec.columns[0], cutoff=cutoff, **common
        )
    return output, info, None


def fit_reference(
    frame: pd.DataFrame,
    spec: OutputSpec,
    cutoff: float,
    values: np.ndarray,
    labels: np.ndarray | None,
    features: list[str],
    params: Mapping[str, Any],
    pool: Executor | None,
) -> FittedReference:
    """Bins, PCA, importance, the output and reference counts (independent parts in a pool).

    ``params`` are the monitor's constructor parameters.
    """
    run = submitter(pool)
    categorical = list(params["categorical"] or [])
    pending = [run(feature_bins, frame, f, params["n_bins"], categorical) for f in features]
    bins = [f.result() for f in pending]
    output = run(_fit_output, frame, spec, cutoff, values, labels, bins, params)
    numeric = [b.name for b in bins if b.kind == "numeric"]
    pca = run(fit_pca, frame, numeric, params["pca_variance"], params["random_state"])
    # Feature weights follow the association with what the model outputs for each row.
    target = values.max(axis=1) if values.ndim == 2 else values
    importance = run(importance_weights, frame, bins, target, params["importance"])
    output, info, out_of_fold = output.result()
    layout = Layout(output, bins, None)
    pca_rows, layout.pca = pca.result()
    enc = layout.encode(frame)
    if pca_rows is not None:
        # Rows the PCA was fitted on do not count towards the reference error.
        for key in ("pca_err", "pca_high", "pca_n"):
            enc[key] = np.where(pca_rows, 0.0, enc[key])
    if out_of_fold is not None:
        output.use_out_of_fold(enc, out_of_fold)
    if labels is not None:
        enc.update(output.encode_labels(enc, labels))
    return FittedReference(
        layout=layout,
        counts=tally(layout, enc),
        sample=_subsample(enc, params["null_rows"], params["random_state"]),
        importance=importance.result(),
        info=info,
        n_reference=int(len(frame)),
    )


#: Sample keys that hold bin codes (integers); every other key holds per-row values.
_CODE_PREFIXES = ("score_", "conf_", "feat:")
_CODE_KEYS = ("pred", "label_code")


def read_sample(stored: Mapping[str, Any]) -> dict:
    """The resampling pool as a monitor file holds it, with its dtypes back."""
    sample = {}
    for key, values in stored.items():
        arr = np.asarray(values)
        codes = key in _CODE_KEYS or key.startswith(_CODE_PREFIXES)
        sample[key] = arr.astype(np.intp) if codes else arr.astype(float)
    if "label" in sample and "label_declined" not in sample:  # older files computed it per tally
        sample["label_declined"] = sample["label"] * sample["declined"]
    sample["unseen"] = {}
    return sample


def sample_rows(sample: Mapping[str, Any]) -> int:
    """Rows of an encoded chunk or of the resampling pool."""
    return len(next(v for k, v in sample.items() if k != "unseen"))


def _subsample(enc: dict, rows: int, random_state: int) -> dict:
    """At most ``rows`` encoded reference rows, chosen at random (the resampling pool)."""
    n = sample_rows(enc)
    if n <= rows:
        return dict(enc)
    keep = np.sort(np.random.default_rng(random_state).choice(n, rows, replace=False))
    return {k: (v if k == "unseen" else v[keep]) for k, v in enc.items()}
