"""How an audit cross-validates its model, shared by the classification and regression audits.

Both audits either compare candidate models under the same folds or cross-validate one given
model; the folds, seed, threads and progress callback are the same settings in every case, so
they travel together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelwise.models import ModelChoice

__all__ = ["CrossFit"]

#: ``(out-of-sample output, the estimator or ensemble used, how it was chosen)``.
Fitted = tuple[np.ndarray, Any, ModelChoice]


@dataclass(frozen=True)
class CrossFit:
    """The cross-validation settings of one audit.

    Attributes
    ----------
    cv : int, splitter or iterable
        The folds.
    random_state : int or None
        Seeds the folds and the models.
    n_jobs : int or None
        Threads for the fits.
    progress : callable or None
        Called as ``progress(done_fits, total_fits)``.
    """

    cv: Any = 5
    random_state: Any = 0
    n_jobs: int | None = -1
    progress: Callable[[int, int], Any] | None = None

    def options(self) -> dict[str, Any]:
        """The keywords every chooser and cross-validator of labelwise takes."""
        return {
            "cv": self.cv,
            "random_state": self.random_state,
            "n_jobs": self.n_jobs,
            "progress": self.progress,
        }

    def choose(
        self,
        chooser: Callable[..., tuple[np.ndarray, ModelChoice]],
        X: Any,
        y: Any,
        candidates: Sequence[str],
        ensemble: bool,
        **extra: Any,
    ) -> Fitted:
        """Compare ``candidates`` with ``chooser`` (or average them all, with ``ensemble``)."""
        # Without ensemble=True the chooser may still pick an average, when it does better.
        fitting = {"candidates": candidates, "ensemble": True if ensemble else None, **extra}
        output, choice = chooser(X, y, **fitting, **self.options())
        return output, choice.model, choice

    def given(
        self,
        cross_validate: Callable[..., np.ndarray],
        name: str,
        estimator: Any,
        X: Any,
        y: Any,
        **extra: Any,
    ) -> Fitted:
        """Cross-validate the one model the caller named."""
        output = cross_validate(estimator, X, y, **extra, **self.options())
        return output, estimator, ModelChoice.given(name, estimator, len(y))
