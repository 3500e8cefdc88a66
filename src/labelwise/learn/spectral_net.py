"""Train, probe, truncate: explicit spectral truncation of a network's penultimate layer.

The claim tested here comes from "The Malignant Tail" (2026), a paper its author **withdrew**
in April 2026 (only the abstract is available, no code): SGD keeps the label signal in a
low-rank subspace of the penultimate features and pushes memorized label noise into the
orthogonal tail, so keeping only the top-d directions after training recovers the
generalization the network had before it memorized, more stably than early stopping.

:class:`SpectralTruncatedNet` is **our** operationalization, on an MLP trained with the shared
loop of :mod:`labelwise.learn._torch`: it holds out a share of the noisy training rows that the
network never trains on, records :func:`~labelwise.learn.spectral.spectral_probe` on the
penultimate features at chosen epochs (epoch 0 is the untrained network of the same shape), and
after training truncates the penultimate layer with
:class:`~labelwise.learn.spectral.SpectralTruncation`, d chosen by accuracy on the held-out
noisy rows. The same held-out rows pick the early-stopping epoch, the baseline it competes with.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import column_or_1d

from labelwise._params import Options
from labelwise.errors import ConfigError, InputError, LabelError, ShapeError
from labelwise.learn._base import estimator_parameters
from labelwise.learn._torch import NeuralClassifier, evaluate, state_copy
from labelwise.learn.spectral import (
    PROBE_COLUMNS,
    SpectralTruncation,
    _default_grid,
    spectral_probe,
)

__all__ = ["SpectralTruncatedNet"]

_HEADS = ("network", "lda", "logistic")


@estimator_parameters
class SpectralTruncatedNet(NeuralClassifier):
    """An MLP whose penultimate layer is spectrally truncated after training on noisy labels.

    Fit trains :func:`~labelwise.learn._torch.make_mlp` with cross-entropy on all but
    ``validation_size`` of the rows (stratified); the rest, with their noisy labels, are never
    trained on. After training, the penultimate features ``H`` of the training rows give the
    mean ``mu`` and the top-d right singular vectors ``V_d`` of ``H - mu``, and predictions use
    ``(h - mu) V_d`` under a linear head refit on the training rows (LDA by default), or
    ``((h - mu) V_d V_d^T + mu) W + b`` with the network's own last layer ``W, b``
    (``head="network"``). Along the way it
    records the spectral probe at ``probe_epochs`` and the held-out noisy accuracy at every
    epoch, whose best epoch is the early-stopping baseline (:meth:`predict_early_stopped`).

    The idea is that of "The Malignant Tail" (2026, **withdrawn** by its author); this
    operationalization is ours.

    Parameters
    ----------
    hidden, epochs, batch_size, lr, weight_decay, random_state, progress
        As in :class:`~labelwise.learn._torch.NeuralClassifier`. The default 200 epochs fit
        noisy digits labels exactly: the setting the truncation is meant to repair.
    n_components : int, "classes" or "auto", default "auto"
        d. ``"auto"`` picks it among ``candidates`` by accuracy on the held-out noisy rows (an
        affine, increasing proxy of clean accuracy under symmetric noise); ``"classes"`` is the
        number of classes.
    candidates : sequence of int, optional
        The d tried by ``"auto"``; default 1, 2, 4, ... up to the feature width, and the number
        of classes.
    validation_size : float, default 0.2
        Share of the rows held out from training to choose d and the early-stopping epoch.
    head : {"lda", "network", "logistic"}, default "lda"
        Classify truncated features with LDA refit on the d coordinates (training rows, noisy
        labels), with the network's own last layer, or with a refit logistic regression. LDA's
        pooled covariance cannot single out one memorized direction the way a logistic head can;
        on digits with 40% symmetric noise (seeds 0-1) it gave 0.82-0.87 test accuracy against
        0.74 for the network's own head.
    probe_epochs : sequence of int, optional
        Epochs at which to run the spectral probe (0 = untrained). Default: 0, 5% and 25% of
        ``epochs``, and the last epoch.
    probe_dims : sequence of int, optional
        The d of the probe; default the number of classes.

    Attributes
    ----------
    classes_, network_, history_, n_features_in_
        As in :class:`~labelwise.learn._torch.NeuralClassifier`; ``network_`` holds the final
        (untruncated) weights.
    truncation_ : SpectralTruncation
        Fitted on the training rows' final penultimate features, with ``n_components_`` kept.
    n_components_ : int
        The d kept.
    d_scores_ : dict of int to float
        Held-out noisy accuracy of each candidate d (``"auto"`` only).
    head_ : estimator or None
        The refit head (None with ``head="network"``).
    validation_accuracy_ : ndarray (epochs + 1,)
        Held-out noisy accuracy after each epoch (index 0: untrained).
    early_stopping_epoch_ : int
        The epoch with the best held-out noisy accuracy (the earliest on ties).
    early_stopped_network_ : torch.nn.Module
        The network's weights at that epoch.
    probe_ : DataFrame
        One row per probed epoch and d: ``epoch, trained, d``, the columns of
        :func:`~labelwise.learn.spectral.spectral_probe`, and ``fit_noisy`` / ``fit_clean``
        (the network's own training accuracy against the given labels on the noisy / clean
        rows), ``validation_accuracy`` and ``flags`` (``"true_labels"`` when fit got them,
        else ``"early_stopped"``: rows whose label disagrees with the early-stopped network
        are taken as the noisy ones).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from labelwise.learn.spectral_net import SpectralTruncatedNet
    >>> X, y = load_digits(return_X_y=True)
    >>> net = SpectralTruncatedNet(hidden=(64,), epochs=5).fit(X[:300], y[:300])  # doctest: +SKIP
    >>> net.n_components_ <= 64, net.probe_["epoch"].max()  # doctest: +SKIP
    (True, 5)
    """

    _parameter_constraints: ClassVar[dict] = {
        **NeuralClassifier._parameter_constraints,
        "n_components": SpectralTruncation._parameter_constraints["n_components"],
        "validation_size": SpectralTruncation._parameter_constraints["validation_size"],
        "head": [Options(_HEADS)],
    }
    # Predictions need the truncation, which fit sets last.
    _fitted_attribute: ClassVar[str] = "truncation_"

    epochs: int = 200
    n_components: int | str = "auto"
    candidates: Sequence[int] | None = None
    validation_size: float = 0.2
    head: str = "lda"
    probe_epochs: Sequence[int] | None = None
    probe_dims: Sequence[int] | None = None

    def fit(self, X: Any, y: Any, *, true_labels: Any = None):
        """Train, probe and truncate.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        y : array-like (n_samples,)
            The given, possibly noisy, labels (any hashable type).
        true_labels : array-like (n_samples,), optional
            The true labels, for a study: the probe then knows which rows are noisy and
            measures the noise energy. Never used for training or for choosing d.

        Returns
        -------
        self
        """
        Z, codes = self._prepare(X, y)
        truth = self._truth(true_labels, codes.size)
        train_rows, valid_rows = self._split(codes)
        self._train_rows, self._valid_rows = train_rows, valid_rows
        probe_at = self._probe_epochs()
        self.network_ = self._new_network(Z.shape[1])
        tracker = _EarlyStopping(Z[valid_rows], codes[valid_rows])
        tracker.observe(0, self.network_)
        self.history_ = self._train(
            self.network_,
            Z[train_rows],
            codes[train_rows],
            record_epochs=probe_at,
            on_epoch=lambda epoch, model, _: tracker.observe(epoch, model),
        )
        self.validation_accuracy_ = np.asarray(tracker.scores)
        self.early_stopping_epoch_ = tracker.best_epoch
        self.early_stopped_network_ = self._new_network(Z.shape[1])
        self.early_stopped_network_.load_state_dict(tracker.best_state)
        self.early_stopped_network_.eval()
        self._truncate(Z, codes, train_rows, valid_rows)
        self.probe_ = self._probe(Z, codes, truth, train_rows, probe_at)
        return self

    # -- checks --

    def _truth(self, true_labels: Any, n: int) -> np.ndarray | None:
        if true_labels is None:
            return None
        values = column_or_1d(np.asarray(true_labels), warn=False)
        if values.size != n:
            raise ShapeError(f"X has {n} rows but true_labels has {values.size}.")
        known = np.isin(values, self.classes_)
        if not known.all():
            raise LabelError(
                f"true_labels holds classes absent from y, e.g. {values[~known][0]!r}; the "
                "probe needs every true class among the given labels."
            )
        return np.searchsorted(self.classes_, values)

    def _split(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(codes.size)
        try:
            return train_test_split(
                rows, test_size=self.validation_size, stratify=codes, random_state=self._seed()
            )
        except ValueError as exc:
            raise InputError(
                f"cannot hold out a stratified validation split of size {self.validation_size} "
                f"({exc}); give more examples per class."
            ) from None

    def _probe_epochs(self) -> tuple[int, ...]:
        if self.probe_epochs is None:
            return tuple(
                sorted({0, round(0.05 * self.epochs), round(0.25 * self.epochs), self.epochs})
            )
        try:
            epochs = tuple(int(e) for e in self.probe_epochs)
        except (TypeError, ValueError):
            raise ConfigError(
                f"probe_epochs must be a sequence of ints, got {self.probe_epochs!r}."
            ) from None
        if any(not 0 <= e <= self.epochs for e in epochs):
            raise ConfigError(f"probe_epochs must lie in 0..epochs={self.epochs}, got {epochs}.")
        return tuple(sorted(set(epochs)))

    # -- truncation --

    def _truncate(self, Z, codes, train_rows, valid_rows) -> None:
        _, H = evaluate(self.network_, Z[train_rows])
        _, H_val = evaluate(self.network_, Z[valid_rows])
        y_fit, y_val = codes[train_rows], codes[valid_rows]
        max_d = min(H.shape)
        self.d_scores_: dict[int, float] = {}
        if self.n_components == "auto":
            # One SVD serves every candidate: the top-d directions are nested.
            full = SpectralTruncation(n_components=max_d).fit(H)
            for d in self._candidates(max_d):
                trunc = _sliced(full, d)
                head = self._fit_head(trunc, H, y_fit)
                self.d_scores_[d] = float(np.mean(self._head_predict(trunc, head, H_val) == y_val))
            best = max(self.d_scores_.values())
            # Ties go to the smallest d: fewer directions leave less room for memorized noise.
            d = min(k for k, score in self.d_scores_.items() if score == best)
        elif self.n_components == "classes":
            d = min(self.classes_.size, max_d)
        else:
            if self.n_components > max_d:
                raise ConfigError(
                    f"n_components={self.n_components} exceeds the feature width / rows "
                    f"({max_d}); keep at most {max_d} directions."
                )
            d = int(self.n_components)
        self.n_components_ = d
        self.truncation_, self.head_ = self._fit_d(H, y_fit, d)

    def _candidates(self, max_d: int) -> list[int]:
        if self.candidates is None:
            return _default_grid(max_d, self.classes_.size)
        try:
            grid = sorted({int(d) for d in self.candidates})
        except (TypeError, ValueError):
            raise ConfigError(f"candidates must be ints, got {self.candidates!r}.") from None
        if not grid or grid[0] < 1 or grid[-1] > max_d:
            raise ConfigError(f"candidates must be ints in 1..{max_d}, got {self.candidates!r}.")
        return grid

    def _fit_d(self, H: np.ndarray, y: np.ndarray, d: int) -> tuple[SpectralTruncation, Any]:
        trunc = SpectralTruncation(n_components=d).fit(H)
        return trunc, self._fit_head(trunc, H, y)

    def _fit_head(self, trunc: SpectralTruncation, H: np.ndarray, y: np.ndarray) -> Any:
        if self.head == "network":
            return None
        base = (
            LinearDiscriminantAnalysis()
            if self.head == "lda"
            else LogisticRegression(max_iter=1000)
        )
        return clone(base).fit(trunc.project(H), y)

    def _head_predict(self, trunc: SpectralTruncation, head: Any, H: np.ndarray) -> np.ndarray:
        if head is None:
            return self._network_head(trunc.transform(H)).argmax(axis=1)
        return np.asarray(head.predict(trunc.project(H)))

    def _network_head(self, H: np.ndarray) -> np.ndarray:
        weight = self.network_.head.weight.detach().cpu().numpy().astype(np.float64)
        bias = self.network_.head.bias.detach().cpu().numpy().astype(np.float64)
        return H @ weight.T + bias

    # -- the probe --

    def _probe(self, Z, codes, truth, train_rows, probe_at) -> pd.DataFrame:
        y_fit = codes[train_rows]
        if truth is not None:
            flags, source, true_fit = truth[train_rows] != y_fit, "true_labels", truth[train_rows]
        else:
            early = evaluate(self.early_stopped_network_, Z[train_rows])[0].argmax(axis=1)
            flags, source, true_fit = early != y_fit, "early_stopped", None
        frames = []
        for epoch in probe_at:
            H = self.history_.features(epoch)
            fits = self.history_.preds(epoch) == y_fit
            table = spectral_probe(
                H, y_fit, flags, self._probe_dims(H), true_labels=true_fit, random_state=0
            )
            table.insert(0, "trained", epoch > 0)
            table.insert(0, "epoch", epoch)
            table["fit_noisy"] = float(fits[flags].mean()) if flags.any() else np.nan
            table["fit_clean"] = float(fits[~flags].mean()) if (~flags).any() else np.nan
            table["validation_accuracy"] = self.validation_accuracy_[epoch]
            table["flags"] = source
            frames.append(table)
        columns = ["epoch", "trained", *PROBE_COLUMNS, "fit_noisy", "fit_clean"]
        columns += ["validation_accuracy", "flags"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def _probe_dims(self, H: np.ndarray) -> list[int]:
        max_d = min(H.shape)
        if self.probe_dims is None:
            return [min(self.classes_.size, max_d)]
        return sorted({int(d) for d in self.probe_dims})

    # -- prediction --

    def _logits(self, X: Any) -> np.ndarray:
        _, H = self._outputs(X)
        if self.head_ is None:
            return self._network_head(self.truncation_.transform(H))
        proba = self.head_.predict_proba(self.truncation_.project(H))
        return np.log(np.clip(proba, 1e-12, None))

    def predict_untruncated(self, X: Any) -> np.ndarray:
        """Predictions of the final network without truncation (plain training)."""
        logits, _ = self._outputs(X)
        return self.classes_[logits.argmax(axis=1)]

    def predict_early_stopped(self, X: Any) -> np.ndarray:
        """Predictions of the network at ``early_stopping_epoch_`` (the baseline)."""
        logits, _ = self._outputs(X, self.early_stopped_network_)
        return self.classes_[logits.argmax(axis=1)]


class _EarlyStopping:
    """Held-out noisy accuracy after each epoch, and the weights of the best one."""

    def __init__(self, Z_val: np.ndarray, y_val: np.ndarray) -> None:
        self.Z_val, self.y_val = Z_val, y_val
        self.scores: list[float] = []
        self.best_epoch, self.best_state = 0, None

    def observe(self, epoch: int, model: Any) -> bool:
        score = float(np.mean(evaluate(model, self.Z_val)[0].argmax(axis=1) == self.y_val))
        self.scores.append(score)
        if self.best_state is None or score > max(self.scores[:-1]):
            self.best_epoch, self.best_state = epoch, state_copy(model)
        return False


def _sliced(full: SpectralTruncation, d: int) -> SpectralTruncation:
    """A copy of a fitted truncation keeping only its top ``d`` directions."""
    trunc = copy.copy(full)
    trunc.components_ = full.components_[:d]
    trunc.explained_variance_ratio_ = full.explained_variance_ratio_[:d]
    trunc.n_components_ = d
    return trunc
