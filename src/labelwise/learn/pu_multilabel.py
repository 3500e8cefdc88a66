"""Multi-label training from positive labels only (PU-MLC).

When annotators mark only some of the classes present, a 0 in a multi-label target means
"not marked", not "absent". Binary cross-entropy reads every 0 as a negative, and a network large
enough to memorize its training set learns to deny the missing positives. PU-MLC ("Positive Label
Is All You Need for Multi-Label Classification", Yuan et al., 2023) trusts only the positives and
treats every other entry as unlabeled, with a variational positive-unlabeled loss per class ``c``
over a batch:

- adaptive temperature ``tau_c = min(alpha * std_batch(Z_c), 1)`` (held fixed), scores
  ``s = sigmoid(Z / tau)``, and their batch mean ``m_c``;
- adaptive re-balance factor ``w_c = m_c ** gamma`` (held fixed);
- ``L = sum_c [w_c log m_c - mean_{i in P_c} log s_ic]``, ``P_c`` the batch's marked positives
  of class ``c``;
- plus a mixup regularizer: inputs mixed with ``lambda ~ Beta(0.3, 0.3)``, targets mixed the same
  way from 1 for a marked positive and the model's own (fixed) score otherwise, and the squared
  difference of the logarithms of the mixed target and of the mixed input's score.

Our choices where the method leaves room: the regularizer's targets are detached (the authors'
code lets gradients through them), and each example is mixed with a random other one of its
batch.
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from labelwise._params import Interval, Options
from labelwise._validate import as_array
from labelwise.errors import ConfigError, InputError, ShapeError
from labelwise.learn._base import estimator_parameters
from labelwise.learn._torch import NeuralClassifier, require_torch

__all__ = ["LOSSES", "PositiveUnlabeledMultiLabel"]

#: The training losses :class:`PositiveUnlabeledMultiLabel` knows.
LOSSES = ("pu", "bce")
#: Numerical floor inside logarithms.
EPS = 1e-10


@estimator_parameters
class PositiveUnlabeledMultiLabel(NeuralClassifier):
    """An MLP for multi-label data whose only reliable labels are the positives.

    Parameters
    ----------
    hidden, epochs, lr, weight_decay, progress
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.
    batch_size : int, default 128
        The loss is computed per batch (its means and standard deviations), so batches should
        hold several positives of each class.
    random_state : int, default 0
        Seeds initialization, batches and mixup; training is deterministic on CPU.
    loss : {"pu", "bce"}, default "pu"
        ``"pu"``: the PU-MLC loss of the module docstring. ``"bce"``: binary cross-entropy
        (summed over classes) of the same network, reading every 0 as a negative: the baseline.
    alpha : float, default 1.0
        Scale of the adaptive temperature.
    gamma : float, default 0.55
        Exponent of the adaptive re-balance factor.
    mixup : float, default 1.0
        Weight of the mixup regularizer (``"pu"`` only; 0 turns it off).
    mixup_alpha : float, default 0.3
        Both parameters of the Beta distribution of the mixing weight.
    threshold : float or array-like (K,), default 0.5
        Score at or above which :meth:`predict` calls a class present; one per class allowed.

    Attributes
    ----------
    classes_ : ndarray (K,)
        Column indices ``0..K-1`` of ``Y``.
    network_, history_, n_features_in_
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn.pu_multilabel import PositiveUnlabeledMultiLabel
    >>> X = np.random.default_rng(0).normal(size=(64, 4))
    >>> Y = (X[:, :3] > 0).astype(int)
    >>> model = PositiveUnlabeledMultiLabel(hidden=(8,), epochs=2)
    >>> model.fit(X, Y).predict_proba(X).shape  # doctest: +SKIP
    (64, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        **NeuralClassifier._parameter_constraints,
        "loss": [Options(LOSSES)],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "gamma": [Interval(Real, 0, None)],
        "mixup": [Interval(Real, 0, None)],
        "mixup_alpha": [Interval(Real, 0, None, closed="neither")],
    }

    loss: str = "pu"
    alpha: float = 1.0
    gamma: float = 0.55
    mixup: float = 1.0
    mixup_alpha: float = 0.3
    threshold: Any = 0.5

    def fit(self, X: Any, Y: Any):
        """Train on inputs and their observed positives.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        Y : array-like (n_samples, K) of 0/1 or bool
            1 where a class is marked present; 0 where it is absent *or* merely unmarked.

        Returns
        -------
        self
        """
        self._check_setup()
        X = validate_data(self, X, dtype=np.float64)
        Y = _check_targets(Y, X.shape[0])
        self.classes_ = np.arange(Y.shape[1])
        Z = self._fit_standardizer(X)
        self.network_ = self._new_network(Z.shape[1])
        torch = require_torch()
        step = _pu_step if self.loss == "pu" else _bce_step

        def step_fn(model: Any, xb: Any, yb: Any, _index: Any) -> Any:
            return step(self, torch, model, xb, yb)

        self.history_ = self._train(self.network_, Z, Y.astype(np.float32), step_fn=step_fn)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Per-class scores in [0, 1], ``sigmoid`` of the logits: an (n_samples, K) array."""
        return 1.0 / (1.0 + np.exp(-self._logits(X)))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 (n_samples, K): 1 where the score reaches ``threshold`` (per class if given)."""
        check_is_fitted(self, "network_")
        thresholds = _thresholds(self.threshold, self.classes_.size)
        return (self.predict_proba(X) >= thresholds).astype(int)

    def decision_function(self, X: Any) -> np.ndarray:
        """The raw logits (n_samples, K)."""
        return self._logits(X)


def _pu_step(est: PositiveUnlabeledMultiLabel, torch: Any, model: Any, xb: Any, yb: Any) -> Any:
    logits = model(xb)
    loss = _pu_loss(torch, logits, yb, est.alpha, est.gamma)
    if est.mixup > 0 and xb.shape[0] > 1:
        loss = loss + est.mixup * _mixup_penalty(torch, model, xb, yb, logits, est.mixup_alpha)
    return loss


def _pu_loss(torch: Any, logits: Any, positives: Any, alpha: float, gamma: float) -> Any:
    """The variational PU loss of one batch, summed over classes."""
    n = logits.shape[0]
    spread = logits.std(dim=0, unbiased=False) if n > 1 else torch.ones(logits.shape[1])
    tau = torch.clamp(alpha * spread, min=1e-3, max=1.0).detach()
    scaled = logits / tau
    log_s = torch.nn.functional.logsigmoid(scaled)
    mean_s = torch.sigmoid(scaled).mean(dim=0)
    weight = mean_s.detach() ** gamma
    counts = positives.sum(dim=0)
    # A class without marked positives in this batch contributes only its re-balance term.
    positive_term = (log_s * positives).sum(dim=0) / counts.clamp_min(1.0)
    return (weight * torch.log(mean_s + EPS) - positive_term).sum()


def _mixup_penalty(
    torch: Any, model: Any, xb: Any, yb: Any, logits: Any, mixup_alpha: float
) -> Any:
    """Squared log-difference between mixed targets and the score of the mixed input."""
    lam = torch.distributions.Beta(float(mixup_alpha), float(mixup_alpha)).sample()
    perm = torch.randperm(xb.shape[0])
    target = yb + (1.0 - yb) * torch.sigmoid(logits).detach()
    mixed_target = lam * target + (1.0 - lam) * target[perm]
    mixed_log_s = torch.nn.functional.logsigmoid(model(lam * xb + (1.0 - lam) * xb[perm]))
    return ((torch.log(mixed_target + EPS) - mixed_log_s) ** 2).sum(dim=1).mean()


def _bce_step(est: PositiveUnlabeledMultiLabel, torch: Any, model: Any, xb: Any, yb: Any) -> Any:
    del est
    bce = torch.nn.functional.binary_cross_entropy_with_logits(model(xb), yb, reduction="none")
    return bce.sum(dim=1)


def _check_targets(Y: Any, n: int) -> np.ndarray:
    arr = as_array("Y", Y, "a 0/1 matrix")
    if arr.ndim != 2:
        raise ShapeError(
            f"Y must be a 2-D (n_samples, n_classes) 0/1 matrix, got shape {arr.shape}. For a "
            "list of label sets, use sklearn.preprocessing.MultiLabelBinarizer first."
        )
    if arr.shape[0] != n:
        raise ShapeError(f"X has {n} rows but Y has {arr.shape[0]}; give one row per example.")
    if arr.shape[1] < 1:
        raise ShapeError("Y has no columns; give one column per class.")
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise InputError(
            "Y must hold only 0 and 1 (1 = a marked positive); binarize it first, e.g. "
            "(Y > 0).astype(int)."
        )
    return arr.astype(np.float64)


def _thresholds(threshold: Any, k: int) -> np.ndarray:
    try:
        values = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (k,))
    except (TypeError, ValueError):
        raise ConfigError(
            f"threshold must be a number or one number per class ({k}), got {threshold!r}."
        ) from None
    if not np.isfinite(values).all():
        raise ConfigError("threshold must be finite.")
    return values
