"""The reference tool (cleanlab 2.9), called the way labelwise's methods are meant to match."""

from __future__ import annotations

import numpy as np
from cleanlab.count import compute_confident_joint
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

import labelwise

#: labelwise methods cleanlab has no ``filter_by`` for; we compose them from its primitives.
COMPOSED_METHODS = ("pervasive2021",)
#: labelwise methods that cleanlab offers as a ``filter_by`` of the same name.
SHARED_METHODS = tuple(m for m in labelwise.METHODS if m not in COMPOSED_METHODS)


def cleanlab_mask(
    labels: np.ndarray, pred_probs: np.ndarray, method: str, n_jobs: int | None = None
) -> np.ndarray:
    """cleanlab's issue mask for ``method``; ``n_jobs=None`` is its default (all physical cores)."""
    if method == "pervasive2021":
        return _pervasive2021(labels, pred_probs)
    return find_label_issues(labels, pred_probs, filter_by=method, n_jobs=n_jobs)


def _pervasive2021(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """The 2021 test-set study's recipe from cleanlab parts.

    Count ``floor(N * (1 - trace(C / sum(C))))`` with C the uncalibrated confident joint, then
    flag that many lowest normalized margins (cleanlab's own ``argsort`` tie order).
    """
    joint = compute_confident_joint(labels, pred_probs, calibrate=False)
    count = int(np.floor(len(labels) * (1 - np.trace(joint / joint.sum()))))
    scores = get_label_quality_scores(labels, pred_probs, method="normalized_margin")
    mask = np.zeros(len(labels), dtype=bool)
    mask[np.argsort(scores)[:count]] = True
    return mask
