"""Shared fixtures and hypothesis strategies."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("default")

#: Real data beside the repository (absent in a user's fresh clone: tests using it skip).
SHARED_DATA = Path(
    os.environ.get("LABELWISE_SHARED", Path(__file__).resolve().parents[2] / "shared")
)


def shared_path(*parts: str) -> Path:
    path = SHARED_DATA.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the ../shared data folder ships only with the dev setup)")
    return path


@st.composite
def noisy_problems(draw, max_n: int = 60, max_k: int = 5, grid: int = 4):
    """(labels, pred_probs) with many ties: probabilities on a coarse grid, some classes empty."""
    k = draw(st.integers(2, max_k))
    n = draw(st.integers(1, max_n))
    weights = np.array(
        draw(st.lists(st.integers(0, grid), min_size=n * k, max_size=n * k)), dtype=float
    ).reshape(n, k)
    top = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    weights[np.arange(n), top] += 1  # no all-zero row
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    pred_probs = (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return labels, pred_probs


def random_problem(rng: np.random.Generator, n: int, k: int, noise: float = 0.2, dtype=np.float64):
    """Dirichlet predictions whose argmax agrees with the label except on a ``noise`` share."""
    pred_probs = rng.dirichlet(np.full(k, 0.5), size=n).astype(dtype)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    labels = pred_probs.argmax(axis=1)
    flip = rng.random(n) < noise
    labels[flip] = rng.integers(0, k, flip.sum())
    return labels, pred_probs
