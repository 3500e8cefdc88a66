"""The shared PyTorch training loop and base estimator of labelwise's neural noisy-label methods.

torch is an optional dependency (``pip install "labelwise[torch]"``). This module imports it
only inside the functions that need it, so that ``import labelwise.learn`` works without it;
fitting a neural estimator without torch raises :class:`TorchUnavailableError`.

The pieces, all small:

- :func:`make_mlp` builds a multi-layer perceptron whose :meth:`MLP.features` returns the
  penultimate (last hidden) layer and whose ``head`` is the final linear layer;
- :func:`train` fits any ``nn.Module`` on arrays, tensors or a torch ``Dataset`` with Adam,
  seeded, calling ``loss_fn(logits, targets_batch, index_batch)`` so that per-example losses
  (soft targets, EM posteriors, PU risks) plug in; at chosen epochs it records the per-example
  losses, predictions and penultimate features of the whole training set in a :class:`History`;
- :func:`evaluate` returns a model's logits and penultimate features on an array;
- :class:`NeuralClassifier` is a scikit-learn classifier around an MLP trained by :func:`train`
  with plain cross-entropy: the baseline every method is compared with, and the base class the
  methods subclass (label encoding of any hashable labels, input standardization,
  ``predict``/``predict_proba``).

Training is deterministic on CPU for a given seed: the weights are initialized, the batches
shuffled and dropout drawn from generators seeded by it, inside a forked global RNG state.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from labelwise._optional import require
from labelwise._params import Interval, check_params
from labelwise._shared.progress import progress_bar
from labelwise.errors import ConfigError, InputError, LabelError, MissingDependencyError
from labelwise.learn._base import (
    LAYER_WIDTHS,
    CheckedParams,
    estimator_parameters,
    layer_widths,
)

__all__ = [
    "TORCH_PIN",
    "History",
    "NeuralClassifier",
    "TorchUnavailableError",
    "evaluate",
    "make_mlp",
    "require_torch",
    "train",
]

#: The torch release labelwise is tested with.
TORCH_PIN = "torch==2.13.0"


class TorchUnavailableError(MissingDependencyError):
    """A neural estimator was used but torch is not installed."""


def require_torch() -> Any:
    """Import and return :mod:`torch`, or raise :class:`TorchUnavailableError` saying how.

    Examples
    --------
    >>> from labelwise.learn._torch import require_torch
    >>> require_torch().__name__  # doctest: +SKIP
    'torch'
    """
    try:
        return require("torch", "the neural methods")
    except MissingDependencyError as exc:
        raise TorchUnavailableError(str(exc)) from None


# --- the network ---------------------------------------------------------------------------------


def _mlp_class() -> type:
    """The :class:`MLP` class, defined on first use so that importing this module needs no torch."""
    cached = globals().get("_MLP")
    if cached is not None:
        return cached
    torch = require_torch()
    nn = torch.nn

    class MLP(nn.Module):
        """Linear-ReLU blocks (``body``) then a linear ``head``; ``features`` is the body."""

        def __init__(self, n_in: int, n_out: int, hidden: Sequence[int], dropout: float) -> None:
            super().__init__()
            layers: list[Any] = []
            width = n_in
            for units in hidden:
                layers += [nn.Linear(width, units), nn.ReLU()]
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
                width = units
            self.body = nn.Sequential(*layers)
            self.head = nn.Linear(width, n_out)
            self.n_features = width

        def features(self, x: Any) -> Any:
            """The penultimate representation (the last hidden layer, after its ReLU)."""
            return self.body(x)

        def forward(self, x: Any) -> Any:
            return self.head(self.body(x))

    # Pickle finds the class through the module's ``__getattr__`` below.
    MLP.__module__, MLP.__qualname__ = __name__, "MLP"
    globals()["_MLP"] = MLP
    return MLP


def __getattr__(name: str) -> Any:
    if name == "MLP":
        return _mlp_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_NETWORK_CONSTRAINTS = {
    "hidden": [LAYER_WIDTHS],
    "n_in": [Interval(Integral, 1, None)],
    "n_out": [Interval(Integral, 1, None)],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def make_mlp(
    n_in: int,
    n_out: int,
    hidden: Sequence[int] = (256, 256),
    *,
    dropout: float = 0.0,
    seed: int | None = 0,
) -> Any:
    """A multi-layer perceptron exposing its penultimate features.

    Parameters
    ----------
    n_in, n_out : int
        Input features and outputs (classes).
    hidden : sequence of int, default (256, 256)
        Widths of the hidden ReLU layers; ``()`` gives a linear model whose features are the
        inputs.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    seed : int or None, default 0
        Seeds the weight initialization (PyTorch's default init); None uses the global RNG.

    Returns
    -------
    MLP (a ``torch.nn.Module``)
        ``model(x)`` gives logits, ``model.features(x)`` the last hidden layer,
        ``model.head`` the final ``nn.Linear`` and ``model.n_features`` its input width.

    Examples
    --------
    >>> from labelwise.learn._torch import make_mlp  # doctest: +SKIP
    >>> net = make_mlp(64, 10, hidden=(32,))  # doctest: +SKIP
    >>> net.features(torch.zeros(2, 64)).shape  # doctest: +SKIP
    torch.Size([2, 32])
    """
    torch = require_torch()
    values = {"hidden": hidden, "n_in": n_in, "n_out": n_out, "dropout": dropout}
    check_params(_NETWORK_CONSTRAINTS, values)
    context = torch.random.fork_rng() if seed is not None else contextlib.nullcontext()
    with context:
        if seed is not None:
            torch.manual_seed(int(seed))
        return _mlp_class()(int(n_in), int(n_out), layer_widths(hidden), float(dropout))


# --- the loop ------------------------------------------------------------------------------------


@dataclass
class EpochRecord:
    """What :func:`train` saw of the whole training set after one epoch (in eval mode).

    ``losses`` are the per-example values of ``loss_fn`` (NaN when it returns a scalar),
    ``logits`` the outputs, ``preds`` their argmax and ``features`` the penultimate layer
    (None when the model has no ``features`` method).
    """

    epoch: int
    losses: np.ndarray
    logits: np.ndarray
    preds: np.ndarray
    features: np.ndarray | None


@dataclass
class History:
    """The trace of one :func:`train` run.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of each epoch (index 0 is epoch 1).
    records : dict of int to EpochRecord
        The full-training-set records at the requested epochs; epoch 0 is the untrained model.
    stopped_epoch : int
        The last epoch run (less than ``epochs`` when ``on_epoch`` stopped training).
    """

    train_loss: list[float] = field(default_factory=list)
    records: dict[int, EpochRecord] = field(default_factory=dict)
    stopped_epoch: int = 0

    def losses(self, epoch: int) -> np.ndarray:
        """Per-example losses recorded after ``epoch``."""
        return self._record(epoch).losses

    def preds(self, epoch: int) -> np.ndarray:
        """Predicted class indices recorded after ``epoch``."""
        return self._record(epoch).preds

    def features(self, epoch: int) -> np.ndarray | None:
        """Penultimate features recorded after ``epoch``."""
        return self._record(epoch).features

    def _record(self, epoch: int) -> EpochRecord:
        if epoch not in self.records:
            raise ConfigError(
                f"epoch {epoch} was not recorded; recorded: {sorted(self.records)}. Add it to "
                "record_epochs."
            )
        return self.records[epoch]


def cross_entropy(logits: Any, targets: Any, index: Any = None) -> Any:
    """Per-example cross-entropy with integer class targets (or soft targets, rows of probs)."""
    torch = require_torch()
    if targets.dtype.is_floating_point and targets.ndim == 2:
        return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1)
    return torch.nn.functional.cross_entropy(logits, targets.long(), reduction="none")


def _as_tensor(torch: Any, values: Any, name: str) -> Any:
    if isinstance(values, torch.Tensor):
        return values
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return torch.as_tensor(array, dtype=torch.float32)
    if array.dtype.kind in "iub":
        return torch.as_tensor(array.astype(np.int64))
    raise InputError(
        f"{name} must be numeric (float features, int class indices), got {array.dtype}."
    )


class _Indexed:
    """A torch Dataset view yielding ``(x, target, index)``."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[Any, Any, int]:
        x, target = self.dataset[i][:2]
        return x, target, i


def _batches(torch: Any, data: Any, n: int, batch_size: int, generator: Any, shuffle: bool):
    """Yield ``(x, target, index)`` batches from tensors ``(X, T)`` or an indexed Dataset."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if isinstance(data, tuple):
        X, T = data
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            yield X[index], (None if T is None else T[index]), index
        return
    loader = torch.utils.data.DataLoader(
        _Indexed(data), batch_size=batch_size, sampler=order.tolist(), shuffle=False
    )
    yield from loader


def evaluate(model: Any, X: Any, *, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray | None]:
    """A model's logits and penultimate features on ``X``, in eval mode, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        Its ``features`` method, when it has one, gives the penultimate layer.
    X : array-like, tensor or torch Dataset
        Inputs (a Dataset yields ``(x, target)`` pairs).
    batch_size : int, default 1024

    Returns
    -------
    logits : ndarray (n, n_out)
    features : ndarray (n, n_features) or None
    """
    torch = require_torch()
    data = X if _is_dataset(torch, X) else (_as_tensor(torch, X, "X").float(), None)
    n = len(data) if not isinstance(data, tuple) else data[0].shape[0]
    logits, feats = [], []
    has_features = callable(getattr(model, "features", None))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for xb, _, _ in _batches(torch, data, n, batch_size, None, shuffle=False):
                out = _forward(model, xb, has_features, feats)
                logits.append(out.cpu().numpy())
    finally:
        model.train(was_training)
    features = np.concatenate(feats).astype(np.float64) if has_features else None
    return np.concatenate(logits).astype(np.float64), features


def _forward(model: Any, xb: Any, has_features: bool, feats: list) -> Any:
    """The logits of a batch; its penultimate features are appended to ``feats`` when exposed."""
    if not has_features:
        return model(xb)
    z = model.features(xb)
    feats.append(z.cpu().numpy())
    return model.head(z) if hasattr(model, "head") else model(xb)


def _is_dataset(torch: Any, X: Any) -> bool:
    return isinstance(X, torch.utils.data.Dataset) and not isinstance(X, torch.Tensor)


#: The rules of :func:`train`'s arguments, which the estimators' parameters of the same names share.
_TRAINING_CONSTRAINTS = {
    "epochs": [Interval(Integral, 0, None)],
    "batch_size": [Interval(Integral, 1, None)],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None)],
}


def _check_train_args(epochs, batch_size, lr, weight_decay, record_epochs) -> tuple[int, ...]:
    values = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay}
    check_params(_TRAINING_CONSTRAINTS, values)
    try:
        epochs_kept = tuple(int(e) for e in record_epochs)
    except (TypeError, ValueError):
        raise ConfigError(
            f"record_epochs must be a sequence of ints, got {record_epochs!r}."
        ) from None
    bad = [e for e in epochs_kept if not 0 <= e <= epochs]
    if bad:
        raise ConfigError(f"record_epochs {bad} are outside 0..epochs={epochs}.")
    return tuple(sorted(set(epochs_kept)))


def _per_example(values: Any, n: int) -> Any:
    return values if values.ndim == 1 and values.shape[0] == n else None


def _record(torch, model, data, n, epoch, loss_fn, batch_size) -> EpochRecord:
    """Losses, logits, predictions and features of the whole training set, in eval mode."""
    losses, logits, feats = [], [], []
    has_features = callable(getattr(model, "features", None))
    model.eval()
    with torch.no_grad():
        for xb, tb, ib in _batches(torch, data, n, 1024, None, shuffle=False):
            out = _forward(model, xb, has_features, feats)
            value = loss_fn(out, tb, ib)
            per = _per_example(value, out.shape[0])
            losses.append(np.full(out.shape[0], np.nan) if per is None else per.cpu().numpy())
            logits.append(out.cpu().numpy())
    model.train()
    logit_array = np.concatenate(logits).astype(np.float64)
    return EpochRecord(
        epoch=epoch,
        losses=np.concatenate(losses).astype(np.float64),
        logits=logit_array,
        preds=logit_array.argmax(axis=1),
        features=np.concatenate(feats).astype(np.float64) if has_features else None,
    )


def train(
    model: Any,
    X: Any,
    targets: Any = None,
    loss_fn: Callable[[Any, Any, Any], Any] | None = None,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    record_epochs: Sequence[int] = (),
    weight_decay: float = 0.0,
    on_epoch: Callable[[int, Any, History], Any] | None = None,
    progress: bool = False,
    *,
    step_fn: Callable[[Any, Any, Any, Any], Any] | None = None,
    optimizer: Any = None,
) -> History:
    """Train ``model`` with Adam on mini-batches, recording what it does along the way.

    Parameters
    ----------
    model : torch.nn.Module
        Any module mapping a batch of inputs to logits. When it has a ``features`` method (and a
        ``head``), as :func:`make_mlp`'s networks do, the penultimate features are recorded.
    X : array-like, tensor or torch Dataset (n, ...)
        Inputs. A Dataset yields ``(x, target)`` pairs and ``targets`` must then be None.
    targets : array-like or tensor (n, ...), optional
        Anything indexable by example: class indices (int), soft targets (n, K) floats,
        multi-label 0/1 matrices... Passed batch by batch to ``loss_fn``.
    loss_fn : callable, optional
        ``loss_fn(logits, targets_batch, index_batch)`` returns per-example losses (shape
        ``(batch,)``, averaged for the gradient and recorded per example) or a scalar.
        ``index_batch`` holds the batch's row numbers in ``X``, so a closure can look up
        per-example state (posteriors, weights) that ``on_epoch`` updates. The default is
        cross-entropy (integer or soft targets).
    epochs : int, default 50
        Passes over the data.
    batch_size : int, default 128
    lr : float, default 1e-3
        Adam's learning rate.
    seed : int, default 0
        Seeds the shuffling and any dropout; the global RNG state is restored afterwards.
    record_epochs : sequence of int, default ()
        Epochs after which to record per-example losses, predictions and features of the whole
        training set (eval mode); 0 records the model before training.
    weight_decay : float, default 0.0
        Adam's (L2) weight decay.
    on_epoch : callable, optional
        ``on_epoch(epoch, model, history)`` after each epoch (1-based), after its record; return
        True to stop training.
    progress : bool, default False
        Show a progress bar over the epochs.
    step_fn : callable, optional
        ``step_fn(model, x_batch, targets_batch, index_batch)`` returns the batch's loss,
        replacing ``loss_fn(model(x_batch), ...)`` for training steps that need the inputs
        (mixup, two views, feature-space losses). ``loss_fn`` is still used for the records.
    optimizer : torch.optim.Optimizer, optional
        Used instead of a fresh Adam (e.g. to continue training with its state).

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn._torch import make_mlp, train  # doctest: +SKIP
    >>> X = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")  # doctest: +SKIP
    >>> y = (X[:, 0] > 0).astype(int)  # doctest: +SKIP
    >>> net = make_mlp(5, 2, hidden=(16,), seed=0)  # doctest: +SKIP
    >>> history = train(net, X, y, epochs=5, record_epochs=[0, 5])  # doctest: +SKIP
    >>> history.features(5).shape  # doctest: +SKIP
    (64, 16)
    """
    torch = require_torch()
    record_at = _check_train_args(epochs, batch_size, lr, weight_decay, record_epochs)
    loss_fn = cross_entropy if loss_fn is None else loss_fn
    if _is_dataset(torch, X):
        if targets is not None:
            raise ConfigError("give targets inside the Dataset (x, target) pairs, not both.")
        data: Any = X
        n = len(X)
    else:
        Xt = _as_tensor(torch, X, "X").float()
        Tt = None if targets is None else _as_tensor(torch, targets, "targets")
        n = Xt.shape[0]
        if Tt is not None and Tt.shape[0] != n:
            raise InputError(f"X has {n} rows but targets has {Tt.shape[0]}; give one per row.")
        data = (Xt, Tt)
    if n == 0:
        raise InputError("X is empty; give at least one example to train on.")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    shown = progress_bar("training", "epochs", total=epochs, show=bool(progress))
    with torch.random.fork_rng(), shown as bar:
        torch.manual_seed(int(seed))
        generator = torch.Generator().manual_seed(int(seed))
        if 0 in record_at:
            history.records[0] = _record(torch, model, data, n, 0, loss_fn, batch_size)
        model.train()
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for xb, tb, ib in _batches(torch, data, n, batch_size, generator, shuffle=True):
                if step_fn is not None:
                    loss = step_fn(model, xb, tb, ib)
                else:
                    loss = loss_fn(model(xb), tb, ib)
                loss = loss.mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(ib)
                count += len(ib)
            history.train_loss.append(total / count)
            history.stopped_epoch = epoch
            if epoch in record_at:
                history.records[epoch] = _record(torch, model, data, n, epoch, loss_fn, batch_size)
            bar.advance()
            if on_epoch is not None and on_epoch(epoch, model, history):
                break
    model.eval()
    return history


# --- the base estimator --------------------------------------------------------------------------


@estimator_parameters
class NeuralClassifier(CheckedParams, ClassifierMixin, BaseEstimator):
    """An MLP trained with plain cross-entropy on the given labels (PyTorch, CPU).

    The baseline the neural noisy-label methods are compared with, and their base class: it
    encodes labels of any hashable type, standardizes the inputs (training mean and standard
    deviation), builds :func:`make_mlp` and trains it with :func:`train`. Subclasses declare
    only their own parameters and constraints (see :mod:`labelwise.learn._base`), override
    :meth:`_fit_network` or ``fit``, and keep the batched ``predict``/``predict_proba``.

    Parameters
    ----------
    hidden : sequence of int, default (256, 256)
        Hidden layer widths.
    epochs : int, default 100
        Training epochs (Adam). Long enough to memorize noisy labels on small data.
    batch_size : int, default 128
    lr : float, default 1e-3
    weight_decay : float, default 0.0
    random_state : int or None, default 0
        Seeds the initialization, the batches and every split (None counts as 0); training is
        deterministic on CPU.
    progress : bool, default False
        Show a progress bar over the epochs.

    Attributes
    ----------
    classes_ : ndarray
        The distinct labels, sorted.
    network_ : torch.nn.Module
        The trained network (in eval mode).
    history_ : History
        Its training trace.
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from labelwise.learn._torch import NeuralClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NeuralClassifier(hidden=(32,), epochs=3).fit(X[:200], y[:200])  # doctest: +SKIP
    >>> clf.predict(X[:3]).shape  # doctest: +SKIP
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden": [LAYER_WIDTHS],
        **_TRAINING_CONSTRAINTS,
        "random_state": [Interval(Integral, 0, None), None],
    }
    #: The attribute whose presence means fitted, for the prediction methods.
    _fitted_attribute: ClassVar[str] = "network_"

    hidden: Sequence[int] = (256, 256)
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    random_state: int | None = 0
    progress: bool = False

    # -- shared steps of every subclass's fit --

    def _check_setup(self) -> None:
        """Fail before any data is read when torch is missing or a parameter is not allowed."""
        require_torch()
        self._check_params()

    def _seed(self) -> int:
        # Unseeded training would not be reproducible; None means the default seed.
        return 0 if self.random_state is None else int(self.random_state)

    def _prepare(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Check, encode the labels into ``classes_`` and standardize: ``(Z, codes)``."""
        self._check_setup()
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        y = column_or_1d(y, warn=False)
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise LabelError(f"y must hold class labels: {exc}") from None
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.size < 2:
            raise LabelError(
                f"y holds a single class ({self.classes_[0]!r}); a classifier needs two or more."
            )
        return self._fit_standardizer(X), encoder.transform(y)

    def _fit_standardizer(self, X: np.ndarray) -> np.ndarray:
        """Set ``mean_`` and ``scale_`` from the training inputs; return them standardized."""
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        # Constant columns (e.g. always-blank pixels) would divide by zero.
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self._standardize(X)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _new_network(self, n_in: int) -> Any:
        return make_mlp(n_in, self.classes_.size, self.hidden, seed=self._seed())

    def _train(self, network: Any, Z: np.ndarray, targets: Any, **kwargs: Any) -> History:
        params = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "seed": self._seed(),
            "progress": self.progress,
        }
        params.update(kwargs)
        return train(network, Z, targets, **params)

    def _fit_network(self, Z: np.ndarray, codes: np.ndarray) -> None:
        """Set ``network_`` and ``history_`` from standardized inputs and label codes."""
        self.network_ = self._new_network(Z.shape[1])
        self.history_ = self._train(self.network_, Z, codes)

    # -- the estimator API --

    def fit(self, X: Any, y: Any):
        """Train the network on ``X`` and the (possibly noisy) labels ``y``.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        y : array-like (n_samples,)
            Class labels of any hashable type.

        Returns
        -------
        self
        """
        Z, codes = self._prepare(X, y)
        self._fit_network(Z, codes)
        return self

    def _outputs(self, X: Any, network: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits and penultimate features of ``X`` from ``network`` (default ``network_``)."""
        check_is_fitted(self, self._fitted_attribute)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return evaluate(self.network_ if network is None else network, self._standardize(X))

    def _logits(self, X: Any) -> np.ndarray:
        return self._outputs(X)[0]

    def features(self, X: Any) -> np.ndarray:
        """The network's penultimate features of ``X`` (n_samples, last hidden width)."""
        return self._outputs(X)[1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits), columns in ``classes_`` order."""
        return _softmax(self._logits(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as a label from ``classes_``."""
        return self.classes_[self._logits(X).argmax(axis=1)]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def state_copy(model: Any) -> dict[str, Any]:
    """A deep copy of a model's ``state_dict`` (to restore e.g. the early-stopped weights)."""
    return copy.deepcopy(model.state_dict())
