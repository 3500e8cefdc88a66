"""CPC-style training: a class-aware clean/noisy split, class prototypes and semi-supervision.

After the idea of "CPC" (2022): noisy labels are not spread evenly over classes, so a split of
clean from noisy examples by their training loss, as DivideMix makes it with one Gaussian
mixture over all losses, mistakes the clean examples of hard classes (high loss) for noise and
the noisy examples of easy classes for clean. Fitting one mixture **per given class** adapts the
threshold to each class; a prototype consistency loss pulls the features of the clean examples
towards their class prototype.

The paper's code could not be read, so the prototype loss's exact form and weight here are
**ours** ("CPC-style"); so is the semi-supervised part, a single-network MixMatch-lite in place
of DivideMix's two networks (see :class:`ClassAwareCleaner`).
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from labelwise._params import BOOLEAN, Interval
from labelwise.errors import ConfigError, InputError
from labelwise.learn._base import estimator_parameters
from labelwise.learn._torch import NeuralClassifier, _softmax, evaluate, require_torch

__all__ = ["ClassAwareCleaner", "loss_split"]

#: DivideMix's mixture settings, which the CPC paper keeps.
GMM_SETTINGS = {"max_iter": 10, "tol": 1e-2, "reg_covar": 5e-4}


def loss_split(
    losses: Any, labels: Any, *, class_aware: bool = True, random_state: int = 0
) -> np.ndarray:
    """The probability that each example is clean, from a two-component mixture on its loss.

    Losses are min-max normalized within each group (each given class when ``class_aware``,
    else all examples together), a two-component :class:`~sklearn.mixture.GaussianMixture`
    (``max_iter=10, tol=1e-2, reg_covar=5e-4``, as in DivideMix) is fit to each group, and the
    clean probability is the posterior of the component with the lower mean. A group with fewer
    than 4 examples, or constant losses, counts as clean (probability 1).

    Parameters
    ----------
    losses : array-like (n,)
        Per-example training losses (e.g. cross-entropy against the given label).
    labels : array-like (n,)
        The given labels (any hashable), defining the groups when ``class_aware``.
    class_aware : bool, default True
        One mixture per given class (CPC) or one over every loss (DivideMix).
    random_state : int, default 0
        Seeds the mixtures' initialization.

    Returns
    -------
    ndarray (n,)
        Clean probabilities in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn.class_aware import loss_split
    >>> losses = np.r_[np.linspace(0.0, 0.2, 20), np.linspace(2.0, 2.5, 5)]
    >>> prob = loss_split(losses, np.zeros(25, dtype=int))
    >>> bool((prob[:20] > 0.5).all() and (prob[20:] < 0.5).all())
    True
    """
    values = np.asarray(losses, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if values.size != labels.size:
        raise InputError(f"losses has {values.size} values but labels has {labels.size}.")
    if not np.isfinite(values).all():
        raise InputError("losses holds NaN or infinite values; give finite per-example losses.")
    prob = np.ones(values.size)
    groups = np.unique(labels, return_inverse=True)[1] if class_aware else np.zeros(values.size)
    for group in np.unique(groups):
        rows = groups == group
        prob[rows] = _group_split(values[rows], random_state)
    return prob


def _group_split(values: np.ndarray, seed: int) -> np.ndarray:
    low, high = values.min(), values.max()
    if values.size < 4 or high - low <= 1e-12:
        return np.ones(values.size)
    scaled = ((values - low) / (high - low))[:, None]
    with warnings.catch_warnings():
        # Ten EM steps are DivideMix's choice; the mixture need not converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm = GaussianMixture(n_components=2, random_state=seed, **GMM_SETTINGS).fit(scaled)
    return gmm.predict_proba(scaled)[:, int(np.argmin(gmm.means_.ravel()))]


@estimator_parameters
class ClassAwareCleaner(NeuralClassifier):
    """CPC-style noisy-label training: per-class loss split, prototypes, semi-supervision.

    1. **Warm-up**: ``warmup`` epochs of cross-entropy on every example.
    2. After every later epoch, **split**: the per-example cross-entropy against the given
       labels (eval mode) goes through :func:`loss_split` (one mixture per given class, or one
       overall with ``class_aware=False``); examples with clean probability above
       ``threshold`` form the labeled set, the rest the unlabeled set.
    3. **Targets** for the next epoch: a labeled example's target is its label refined by the
       network, ``w * onehot(label) + (1 - w) * p`` with ``w`` its clean probability and ``p``
       the network's prediction; an unlabeled one's is ``p``; both sharpened with temperature
       ``sharpen`` (MixMatch).
    4. **Training step**: mixup of the batch with itself (``lambda ~ Beta(alpha, alpha)``,
       ``lambda >= 0.5``), soft cross-entropy on the mixed targets (unlabeled rows weighted
       ``unlabeled_weight``), DivideMix's uniform-prior penalty against collapse, and the
       **prototype consistency** loss, weighted ``prototype_weight``: with ``z`` the
       L2-normalized penultimate features and ``P`` the class prototypes (an exponential moving
       average, momentum ``momentum``, of the normalized features of the labeled examples of
       each class), the cross-entropy of ``softmax(cos(z, P) / temperature)`` against the
       label, on the labeled rows.

    Versus DivideMix and CPC: one network splits for itself instead of two networks splitting
    for each other (which halves the cost but lets the network confirm its own mistakes), the
    inputs are not augmented (tabular data have no natural augmentation, so there is one view
    and no averaging over augmentations), and the unlabeled loss is a soft cross-entropy rather
    than a squared error. The prototype loss's form and weight are ours.

    Parameters
    ----------
    hidden, epochs, batch_size, lr, weight_decay, random_state, progress
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.
    warmup : int, default 10
        Epochs of plain cross-entropy before the first split (short: before memorization).
    class_aware : bool, default True
        Split per given class (CPC) or over all losses at once (DivideMix's class-agnostic
        split).
    threshold : float, default 0.5
        Clean probability above which an example is labeled.
    prototype_weight : float, default 1.0
        Weight of the prototype consistency loss (0 turns it off).
    temperature : float, default 0.1
        Temperature of the cosine-similarity softmax over prototypes.
    momentum : float, default 0.9
        EMA momentum of the prototypes.
    sharpen : float, default 0.5
        Temperature sharpening the targets.
    alpha : float, default 0.75
        Mixup's Beta parameter (0 turns mixup off).
    unlabeled_weight : float, default 1.0
        Weight of the unlabeled rows' loss.

    Attributes
    ----------
    classes_, network_, history_, n_features_in_
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.
    clean_probability_ : ndarray (n_samples,)
        Clean probability of each training example at the last split.
    clean_mask_ : ndarray of bool (n_samples,)
        ``clean_probability_ > threshold``.
    prototypes_ : ndarray (n_classes, n_features)
        The final class prototypes (unit norm).
    split_history_ : list of ndarray
        The clean mask after each split (one per epoch after the warm-up).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from labelwise.learn.class_aware import ClassAwareCleaner
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ClassAwareCleaner(hidden=(32,), epochs=4, warmup=2)  # doctest: +SKIP
    >>> clf.fit(X[:200], y[:200]).clean_mask_.shape  # doctest: +SKIP
    (200,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **NeuralClassifier._parameter_constraints,
        "warmup": [Interval(Integral, 1, None)],  # and < epochs: see _check_params
        "class_aware": [BOOLEAN],
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="neither")],
        "prototype_weight": [Interval(Real, 0, math.inf, closed="left")],
        "unlabeled_weight": [Interval(Real, 0, math.inf, closed="left")],
        "alpha": [Interval(Real, 0, math.inf, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "sharpen": [Interval(Real, 0, None, closed="neither")],
    }

    epochs: int = 60
    warmup: int = 10
    class_aware: bool = True
    threshold: float = 0.5
    prototype_weight: float = 1.0
    temperature: float = 0.1
    momentum: float = 0.9
    sharpen: float = 0.5
    alpha: float = 0.75
    unlabeled_weight: float = 1.0

    def _check_params(self) -> None:
        super()._check_params()
        if self.warmup >= self.epochs:
            raise ConfigError(
                f"warmup must be an int in 1..epochs-1 = {self.epochs - 1}, got {self.warmup!r}; "
                "the split needs a warmed-up network and at least one epoch left to use it."
            )

    def _fit_network(self, Z: np.ndarray, codes: np.ndarray) -> None:
        """Train, splitting clean from noisy rows after every epoch past the warm-up."""
        self.network_ = self._new_network(Z.shape[1])
        state = _State(self, Z, codes)
        self.history_ = self._train(
            self.network_, Z, codes, step_fn=state.step, on_epoch=state.on_epoch
        )
        self.clean_probability_ = state.clean_prob
        self.clean_mask_ = state.clean_prob > self.threshold
        self.split_history_ = state.masks
        self.prototypes_ = state.prototypes.numpy().astype(np.float64)


class _State:
    """The split, targets and prototypes that the training step reads and each epoch refreshes."""

    def __init__(self, owner: ClassAwareCleaner, Z: np.ndarray, codes: np.ndarray) -> None:
        self.torch = require_torch()
        self.owner, self.Z, self.codes = owner, Z, codes
        self.n_classes = owner.classes_.size
        self.clean_prob = np.ones(codes.size)
        self.masks: list[np.ndarray] = []
        self.targets = None  # (n, K) soft targets once split
        self.labeled = None  # (n,) bool tensor
        self.prototypes = None  # (K, D) unit rows

    # -- once per epoch --

    def on_epoch(self, epoch: int, model: Any, history: Any) -> bool:
        if epoch < self.owner.warmup:
            return False
        torch = self.torch
        logits, feats = evaluate(model, self.Z)
        probs = _softmax(logits)
        losses = -np.log(np.clip(probs[np.arange(self.codes.size), self.codes], 1e-12, None))
        self.clean_prob = loss_split(
            losses, self.codes, class_aware=self.owner.class_aware, random_state=self.owner._seed()
        )
        labeled = self.clean_prob > self.owner.threshold
        self.masks.append(labeled)
        onehot = np.eye(self.n_classes)[self.codes]
        w = self.clean_prob[:, None]
        refined = np.where(labeled[:, None], w * onehot + (1 - w) * probs, probs)
        sharp = refined ** (1.0 / self.owner.sharpen)
        self.targets = torch.as_tensor(
            sharp / sharp.sum(axis=1, keepdims=True), dtype=torch.float32
        )
        self.labeled = torch.as_tensor(labeled)
        if self.prototypes is None:
            self.prototypes = self._initial_prototypes(feats, labeled)
        return False

    def _initial_prototypes(self, feats: np.ndarray, labeled: np.ndarray) -> Any:
        unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        protos = np.zeros((self.n_classes, feats.shape[1]))
        for c in range(self.n_classes):
            rows = labeled & (self.codes == c)
            protos[c] = (
                unit[rows].mean(axis=0) if rows.any() else unit[self.codes == c].mean(axis=0)
            )
        protos /= np.maximum(np.linalg.norm(protos, axis=1, keepdims=True), 1e-12)
        return self.torch.as_tensor(protos, dtype=self.torch.float32)

    # -- every batch --

    def step(self, model: Any, xb: Any, tb: Any, ib: Any) -> Any:
        torch = self.torch
        F = torch.nn.functional
        if self.targets is None:
            return F.cross_entropy(model(xb), tb)
        owner = self.owner
        targets, labeled = self.targets[ib], self.labeled[ib]
        weights = torch.where(labeled, 1.0, float(owner.unlabeled_weight))
        x_mix, t_mix, w_mix = self._mixup(xb, targets, weights)
        logits_mix = model(x_mix)
        log_p = torch.log_softmax(logits_mix, dim=1)
        loss = (w_mix * -(t_mix * log_p).sum(dim=1)).sum() / w_mix.sum().clamp_min(1e-12)
        # DivideMix's penalty: the mean prediction should not collapse onto a few classes.
        prior = torch.full((self.n_classes,), 1.0 / self.n_classes)
        mean_p = log_p.exp().mean(dim=0)
        loss = loss + (prior * torch.log(prior / mean_p.clamp_min(1e-12))).sum()
        if owner.prototype_weight > 0 and bool(labeled.any()):
            loss = loss + owner.prototype_weight * self._prototype_loss(model, xb, tb, labeled)
        return loss

    def _mixup(self, xb: Any, targets: Any, weights: Any) -> tuple[Any, Any, Any]:
        torch = self.torch
        if self.owner.alpha == 0:
            return xb, targets, weights
        beta = torch.distributions.Beta(float(self.owner.alpha), float(self.owner.alpha))
        lam = float(beta.sample())
        lam = max(lam, 1.0 - lam)  # the mixed row stays closer to its own example
        perm = torch.randperm(xb.shape[0])
        mix = lambda a: lam * a + (1.0 - lam) * a[perm]  # noqa: E731
        return mix(xb), mix(targets), mix(weights)

    def _prototype_loss(self, model: Any, xb: Any, tb: Any, labeled: Any) -> Any:
        torch = self.torch
        F = torch.nn.functional
        z = F.normalize(model.features(xb), dim=1)
        with torch.no_grad():
            self._update_prototypes(z[labeled].detach(), tb[labeled])
        sims = z[labeled] @ self.prototypes.T / float(self.owner.temperature)
        return F.cross_entropy(sims, tb[labeled])

    def _update_prototypes(self, z: Any, labels: Any) -> None:
        m = float(self.owner.momentum)
        for c in labels.unique().tolist():
            centre = z[labels == c].mean(dim=0)
            self.prototypes[c] = m * self.prototypes[c] + (1.0 - m) * centre
        self.prototypes = self.torch.nn.functional.normalize(self.prototypes, dim=1)
