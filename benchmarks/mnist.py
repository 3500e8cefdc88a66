"""MNIST test set: which labels each method flags, checked against human validation.

Data: the MNIST files of the 2021 "Pervasive Label Errors in Test Sets" study, in
``<shared>/data/label-errors-mnist`` (see ``<shared>/data/README.md``). ``<shared>`` is the
``shared`` folder beside the repository, or ``$LABELWISE_SHARED``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from cleanlab.count import estimate_joint

import labelwise as lw
from labelwise.issues import METHODS
from reference import COMPOSED_METHODS, SHARED_METHODS, cleanlab_mask

#: A real label error (the paper's rule): fewer than this many of 5 workers chose the given label.
AGREEING_WORKERS_FOR_CORRECT = 3


def mnist_dir() -> Path:
    shared = os.environ.get("LABELWISE_SHARED")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return root / "data" / "label-errors-mnist"


def _load(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """labels, pred_probs, the 100 paper candidates and the human-validated errors among them."""
    pred_probs = np.load(folder / "pred_probs.npy")
    # The file stores uint16 class indices; widen losslessly so both tools see plain integers.
    labels = np.load(folder / "given_labels.npy").astype(np.int64)
    checked = json.loads((folder / "mturk.json").read_text())
    candidates = np.array([entry["id"] for entry in checked])
    validated = np.array(
        [e["id"] for e in checked if e["mturk"]["given"] < AGREEING_WORKERS_FOR_CORRECT]
    )
    return labels, pred_probs, candidates, validated


def _hits(mask: np.ndarray, candidates: np.ndarray, validated: np.ndarray) -> dict[str, int]:
    return {
        "flagged": int(mask.sum()),
        "validated_flagged": int(mask[validated].sum()),
        "candidates_flagged": int(mask[candidates].sum()),
    }


def _method_row(method: str, labels, pred_probs, candidates, validated) -> dict[str, Any]:
    ours = lw.find_label_issues(labels, pred_probs, method=method).mask
    row = {"method": method, "labelwise": _hits(ours, candidates, validated)}
    if method in SHARED_METHODS + COMPOSED_METHODS:
        ref = cleanlab_mask(labels, pred_probs, method)
        row["cleanlab"] = _hits(ref, candidates, validated)
        row["composed"] = method in COMPOSED_METHODS
        row["masks_identical"] = bool(np.array_equal(ref, ours))
    return row


def _noise(labels: np.ndarray, pred_probs: np.ndarray) -> dict[str, Any]:
    estimate = lw.estimate_noise(labels, pred_probs)
    lo, hi = estimate.noise_rate_interval
    # cleanlab's joint Q[given, true]; labelwise promises the same joint, hence the same rate.
    reference_rate = float(1.0 - np.trace(estimate_joint(labels, pred_probs)))
    return {
        "noise_rate": estimate.noise_rate,
        "interval": [lo, hi],
        "confidence": estimate.confidence,
        "expected_issues": estimate.expected_issues,
        "cleanlab_noise_rate": reference_rate,
    }


def run_mnist() -> dict[str, Any]:
    """Results for every labelwise method, or ``{"skipped": reason}`` when the data is absent."""
    folder = mnist_dir()
    if not (folder / "pred_probs.npy").exists():
        return {
            "skipped": f"MNIST data not found in {folder}; set LABELWISE_SHARED to the folder "
            "holding data/label-errors-mnist to run this benchmark."
        }
    labels, pred_probs, candidates, validated = _load(folder)
    return {
        "data": str(folder),
        "n": int(labels.size),
        "k": int(pred_probs.shape[1]),
        "candidates": int(candidates.size),
        "validated_errors": int(validated.size),
        "methods": [_method_row(m, labels, pred_probs, candidates, validated) for m in METHODS],
        "noise": _noise(labels, pred_probs),
    }
