"""Seeded synthetic inputs: Dirichlet pred_probs and argmax labels with some labels replaced."""

from __future__ import annotations

import numpy as np

#: Share of labels replaced by a uniformly random class, so that there is noise to find.
NOISE_SHARE = 0.10
#: Dirichlet concentration below 1: peaked rows, as a trained model's probabilities look.
ALPHA = 0.3


def make_inputs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(labels, pred_probs)`` with ``pred_probs`` float32 of shape (n, k)."""
    rng = np.random.default_rng(seed)
    pred_probs = rng.dirichlet(np.full(k, ALPHA), size=n).astype(np.float32)
    # Renormalize in float32, so rows sum to 1 at float32 precision (as a float32 model's do).
    pred_probs /= pred_probs.sum(axis=1, keepdims=True, dtype=np.float32)
    labels = pred_probs.argmax(axis=1)
    replaced = rng.random(n) < NOISE_SHARE
    labels[replaced] = rng.integers(0, k, size=int(replaced.sum()))
    return labels, pred_probs
