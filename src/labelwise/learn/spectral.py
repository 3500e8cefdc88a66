"""Explicit spectral truncation of learned representations, and a probe of where noise lives.

The idea comes from "The Malignant Tail" (2026), a paper its author **withdrew** in April 2026;
only its abstract is available and no code was released. Its claim: SGD keeps the label signal in
a low-rank subspace of a network's penultimate features and pushes the memorized label noise into
high-frequency orthogonal directions, so that keeping only the top-d directions after training
recovers the generalization the model had before it memorized.

What follows is **our** operationalization of that claim, not the paper's: with ``H`` the training
features and ``mu`` their mean, ``V_d`` the top-d right singular vectors of ``H - mu``, features
are truncated to ``(h - mu) V_d V_d^T + mu`` (:class:`SpectralTruncation`), and
:func:`spectral_probe` measures how much of the memorized noise and of the clean signal each
subspace carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.linalg
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.extmath import svd_flip
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from labelwise._params import Interval, Options, is_integer
from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, ShapeError
from labelwise.learn._base import CheckedParams

__all__ = ["SpectralTruncation", "spectral_probe"]

#: Columns of the table that :func:`spectral_probe` returns, in order.
PROBE_COLUMNS = (
    "d",
    "head_clean_acc",
    "head_noisy_acc",
    "tail_clean_acc",
    "tail_noisy_acc",
    "noise_energy_in_tail",
    "signal_energy_in_tail",
)


def _default_head() -> LogisticRegression:
    return LogisticRegression(max_iter=1000)


def _default_grid(max_d: int, n_classes: int) -> list[int]:
    """1, 2, 4, ... up to ``max_d``, plus ``max_d`` itself and the number of classes."""
    grid = {max_d}
    d = 1
    while d < max_d:
        grid.add(d)
        d *= 2
    if 1 <= n_classes <= max_d:
        grid.add(n_classes)
    return sorted(grid)


def _check_dims(name: str, dims: Any, max_d: int) -> list[int]:
    """Sorted unique ints in ``1..max_d``, else a :class:`ConfigError`."""
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise ConfigError(f"{name} must be a sequence of ints, got {dims!r}.")
    values = list(dims)
    if not values:
        raise ConfigError(f"{name} is empty; give at least one number of components.")
    for d in values:
        _check_d(name, d, max_d)
    return sorted({int(d) for d in values})


def _check_d(name: str, d: Any, max_d: int) -> int:
    if not is_integer(d):
        raise ConfigError(f"{name} must hold ints, got {d!r}.")
    if not 1 <= d <= max_d:
        raise ConfigError(
            f"{name}={int(d)} is out of range: it must be between 1 and "
            f"min(n_samples, n_features) = {max_d}."
        )
    return int(d)


def _centred_svd(H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``mean, U, s, Vt`` of the thin SVD of ``H - mean``, signs made deterministic."""
    mean = H.mean(axis=0)
    centred = H - mean
    try:
        U, s, Vt = scipy.linalg.svd(centred, full_matrices=False, check_finite=False)
    except np.linalg.LinAlgError:
        # gesdd occasionally fails to converge; the slower gesvd is the standard fallback.
        U, s, Vt = scipy.linalg.svd(
            centred, full_matrices=False, check_finite=False, lapack_driver="gesvd"
        )
    U, Vt = svd_flip(U, Vt, u_based_decision=False)
    return mean, U, s, Vt


def _labels(name: str, labels: Any, n: int) -> np.ndarray:
    if labels is None:
        raise ConfigError(f"{name} is required here; pass one label per row of the features.")
    values = column_or_1d(np.asarray(labels), warn=False)
    if values.size != n:
        raise ShapeError(f"the features have {n} rows but {name} has {values.size} labels.")
    try:
        check_classification_targets(values)
    except ValueError as exc:
        raise LabelError(f"{name} must hold class labels: {exc}") from None
    return values


def _set_seed(estimator: Any, random_state: Any) -> Any:
    """A clone of ``estimator`` seeded with ``random_state`` when it takes one."""
    model = clone(estimator)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=random_state)
    return model


class SpectralTruncation(CheckedParams, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Keep the top-d principal directions of a representation and drop its spectral tail.

    Fits ``mean_`` and the right singular vectors of the centred representation ``H`` (e.g. a
    network's penultimate features on its training set); :meth:`transform` maps ``h`` to
    ``(h - mean_) V_d V_d^T + mean_`` (same dimension, the tail removed) and :meth:`project`
    to the d coordinates ``(h - mean_) V_d``. The motivation is the claim of "The Malignant
    Tail" (2026, **withdrawn** by its author) that memorized label noise lives in the tail; this
    operationalization is ours (see the module docstring).

    Parameters
    ----------
    n_components : int, "classes" or "auto", default "auto"
        The number d of directions kept. An int is used as is (at most
        ``min(n_samples, n_features)``). ``"classes"`` uses the number of classes in ``y``.
        ``"auto"`` picks d among ``candidates`` by the accuracy, on a held-out split of the
        **noisy** labels, of a linear head trained on the projected rest. Under symmetric label
        noise the accuracy against noisy labels is an affine, increasing function of the
        accuracy against the true labels, so the noisy split ranks the candidates as a clean one
        would. Both strings need ``y``.
    estimator : classifier, optional
        The linear head for ``"auto"``; cloned for each candidate. The default is
        ``LogisticRegression(max_iter=1000)``.
    validation_size : float, default 0.2
        The share of rows held out (stratified by ``y``) to score the candidates of ``"auto"``.
    candidates : sequence of int, optional
        The d tried by ``"auto"``. The default is 1, 2, 4, ... up to
        ``min(n_samples, n_features)``, that bound itself, and the number of classes.
    random_state : int, RandomState or None, default 0
        Seeds the validation split of ``"auto"`` (and the head, when it takes a seed).

    Attributes
    ----------
    mean_ : ndarray (n_features,)
        The mean of the fitted representation.
    components_ : ndarray (n_components_, n_features)
        The kept right singular vectors of ``H - mean_``, as rows, largest first.
    singular_values_ : ndarray (min(n_samples, n_features),)
        The full singular spectrum of ``H - mean_``, largest first.
    explained_variance_ratio_ : ndarray (n_components_,)
        The share of the total variance along each kept direction.
    n_components_ : int
        The number d of directions kept.
    scores_ : dict of int to float
        For ``"auto"``: the noisy-validation accuracy of each candidate d; empty otherwise.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn.spectral import SpectralTruncation
    >>> rng = np.random.default_rng(0)
    >>> H = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 6))  # rank 2 in 6 dimensions
    >>> trunc = SpectralTruncation(n_components=2).fit(H)
    >>> trunc.transform(H).shape, trunc.project(H).shape
    ((50, 6), (50, 2))
    >>> bool(np.allclose(trunc.transform(H), H))  # nothing lives in the tail
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None), Options(("auto", "classes"))],
        "validation_size": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        n_components: int | str = "auto",
        *,
        estimator: Any = None,
        validation_size: float = 0.2,
        candidates: Sequence[int] | None = None,
        random_state: Any = 0,
    ) -> None:
        self.n_components = n_components
        self.estimator = estimator
        self.validation_size = validation_size
        self.candidates = candidates
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Only the label-driven choices of d need y; an int d is purely unsupervised.
        tags.target_tags.required = isinstance(self.n_components, str)
        return tags

    def fit(self, H: Any, y: Any = None, *, validation: tuple[Any, Any] | None = None):
        """Fit the mean and singular directions of ``H`` and choose the number to keep.

        Parameters
        ----------
        H : array-like (n_samples, n_features)
            The representation, e.g. penultimate features of the training set.
        y : array-like (n_samples,), optional
            The given (possibly noisy) labels; required when ``n_components`` is ``"classes"``
            or ``"auto"``, ignored otherwise.
        validation : (H_val, y_val), optional
            For ``"auto"``: features and noisy labels of examples the network did **not**
            train on. The heads then train on all of ``H`` and are scored on these. Give them
            when ``H`` comes from a network that fit its training labels exactly: a split of
            memorized training features scores the memorized noise as signal and favours a
            large d. Without it, ``validation_size`` of ``H`` is held out.

        Returns
        -------
        self
        """
        self._check_params()
        H = validate_data(self, H, dtype=np.float64)
        max_d = min(H.shape)
        mean, U, s, Vt = _centred_svd(H)
        self.mean_, self.singular_values_ = mean, s
        self.scores_: dict[int, float] = {}
        if isinstance(self.n_components, str):
            labels = _labels("y", y, H.shape[0])
            held_out = self._held_out(validation, mean, Vt)
            d = self._choose(U * s, labels, max_d, held_out)
        else:
            d = self._check_int_d(H.shape)
        self.n_components_ = d
        self.components_ = Vt[:d]
        total = float(np.sum(s**2))
        self.explained_variance_ratio_ = s[:d] ** 2 / total if total > 0 else np.zeros(d)
        return self

    def _check_int_d(self, shape: tuple[int, int]) -> int:
        n, D = shape
        if self.n_components > min(n, D):
            # sklearn's checks look for "n_samples = 1" / "n_features = 1" in this message.
            raise ConfigError(
                f"n_components={self.n_components} exceeds min(n_samples, n_features) with "
                f"n_samples = {n} and n_features = {D}; keep at most {min(n, D)} directions."
            )
        return int(self.n_components)

    def _held_out(
        self, validation: Any, mean: np.ndarray, Vt: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``validation`` as (coordinates in the full singular basis, labels), or None."""
        if validation is None:
            return None
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise ConfigError("validation must be a pair (H_val, y_val).")
        H_val = check_array(validation[0], dtype=np.float64, input_name="H_val")
        if H_val.shape[1] != mean.size:
            raise ShapeError(
                f"H_val has {H_val.shape[1]} features but H has {mean.size}; give the same "
                "representation of the held-out examples."
            )
        return (H_val - mean) @ Vt.T, _labels("y_val", validation[1], H_val.shape[0])

    def _choose(
        self,
        coords: np.ndarray,
        labels: np.ndarray,
        max_d: int,
        held_out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> int:
        """The d of ``n_components="classes"`` or ``"auto"``; fills ``scores_`` for "auto"."""
        n_classes = np.unique(labels).size
        if self.n_components == "classes":
            # Centred data has rank at most min(n, D) - so might fewer classes fit; clip.
            return min(n_classes, max_d)
        if self.candidates is None:
            grid = _default_grid(max_d, n_classes)
        else:
            grid = _check_dims("candidates", self.candidates, max_d)
        if held_out is None:
            train, valid = self._split(labels)
            fit_x, fit_y, val_x, val_y = coords[train], labels[train], coords[valid], labels[valid]
        else:
            (val_x, val_y), fit_x, fit_y = held_out, coords, labels
        head = self._head()
        for d in grid:
            model = clone(head).fit(fit_x[:, :d], fit_y)
            self.scores_[d] = float(np.mean(model.predict(val_x[:, :d]) == val_y))
        best = max(self.scores_.values())
        # Ties go to the smallest d: fewer directions leave less room for memorized noise.
        return min(d for d, score in self.scores_.items() if score == best)

    def _split(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(labels.size)
        try:
            return train_test_split(
                rows,
                test_size=self.validation_size,
                stratify=labels,
                random_state=self.random_state,
            )
        except ValueError as exc:
            raise InputError(
                f"cannot hold out a stratified validation split of size {self.validation_size}"
                f" ({exc}); give more examples per class or an int n_components."
            ) from None

    def _head(self) -> Any:
        base = _default_head() if self.estimator is None else self.estimator
        return _set_seed(base, self.random_state)

    def transform(self, H: Any) -> np.ndarray:
        """``(H - mean_) V_d V_d^T + mean_``: ``H`` with its spectral tail removed.

        Parameters
        ----------
        H : array-like (n_samples, n_features)

        Returns
        -------
        ndarray (n_samples, n_features)
        """
        return self.project(H) @ self.components_ + self.mean_

    def project(self, H: Any) -> np.ndarray:
        """``(H - mean_) V_d``: the coordinates of ``H`` in the kept subspace.

        Parameters
        ----------
        H : array-like (n_samples, n_features)

        Returns
        -------
        ndarray (n_samples, n_components_)
        """
        check_is_fitted(self, "components_")
        H = validate_data(self, H, dtype=np.float64, reset=False)
        return (H - self.mean_) @ self.components_.T


def spectral_probe(
    features: Any,
    noisy_labels: Any,
    is_noisy: Any,
    dims: Sequence[int] | None = None,
    *,
    true_labels: Any = None,
    estimator: Any = None,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Measure how much of the memorized label noise the top-d subspace and its tail explain.

    With ``features - mean = U S V^T``, for each d: a linear head is fit on the top-d
    coordinates ``U_d S_d`` and, separately, on the tail coordinates, both against the noisy
    labels; its **training** accuracy against the noisy labels, on the clean rows and on the
    noisy rows apart, says how much of the memorized noise each subspace can reproduce. The
    energies are ``1 - ||U_d^T E||^2 / ||E||^2``: the share of ``E`` outside the top-d left
    singular subspace, with ``E = onehot(noisy) - onehot(true)`` for the noise and the centred
    one-hot true labels for the signal. This is our operationalization of the claim of "The
    Malignant Tail" (2026, **withdrawn** by its author).

    Parameters
    ----------
    features : array-like (n_examples, n_features)
        The representation, e.g. penultimate features of the training set.
    noisy_labels : array-like (n_examples,)
        The labels the model was trained on.
    is_noisy : array-like of bool (n_examples,)
        True where ``noisy_labels`` is wrong.
    dims : sequence of int, optional
        The d to probe, each in ``1..min(n_examples, n_features)``. The default is 1, 2, 4, ...,
        that bound, and the number of classes.
    true_labels : array-like (n_examples,), optional
        The true labels. Without them ``noise_energy_in_tail`` is NaN, and the signal energy is
        computed on the clean rows only (their given labels are true; the noisy rows count 0).
    estimator : classifier, optional
        The linear head, cloned for every fit; default ``LogisticRegression(max_iter=1000)``.
    random_state : int, RandomState or None, default 0
        Seeds the head when it takes a seed.

    Returns
    -------
    pandas.DataFrame
        One row per d with columns ``d, head_clean_acc, head_noisy_acc, tail_clean_acc,
        tail_noisy_acc, noise_energy_in_tail, signal_energy_in_tail``. An accuracy is NaN when
        its subset of rows is empty or the tail is (d = the bound).

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn.spectral import spectral_probe
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> X = 4.0 * y[:, None] * np.eye(5)[0] + rng.normal(size=(40, 5))
    >>> noisy, flip = y.copy(), np.arange(40) % 10 == 0
    >>> noisy[flip] = 1 - noisy[flip]
    >>> table = spectral_probe(X, noisy, flip, dims=[1, 2], true_labels=y)
    >>> table.columns.tolist()[:3], table["d"].tolist()
    (['d', 'head_clean_acc', 'head_noisy_acc'], [1, 2])
    >>> bool(table.loc[0, "signal_energy_in_tail"] < table.loc[0, "noise_energy_in_tail"])
    True
    """
    X = check_array(features, dtype=np.float64)
    n = X.shape[0]
    noisy = _labels("noisy_labels", noisy_labels, n)
    flags = _flags(is_noisy, n)
    truth = None if true_labels is None else _labels("true_labels", true_labels, n)
    max_d = min(X.shape)
    classes = np.unique(noisy if truth is None else np.concatenate([noisy, truth]))
    dims = _default_grid(max_d, classes.size) if dims is None else _check_dims("dims", dims, max_d)
    _, U, s, _ = _centred_svd(X)
    coords = U * s
    head = _set_seed(_default_head() if estimator is None else estimator, random_state)
    noise, signal = _energy_targets(noisy, truth, flags, classes)
    rows = []
    for d in dims:
        head_acc = _train_accuracy(head, coords[:, :d], noisy, flags)
        tail_acc = _train_accuracy(head, coords[:, d:], noisy, flags)
        rows.append(
            (d, *head_acc, *tail_acc, _tail_share(U[:, :d], noise), _tail_share(U[:, :d], signal))
        )
    return pd.DataFrame(rows, columns=list(PROBE_COLUMNS))


def _flags(is_noisy: Any, n: int) -> np.ndarray:
    values = np.asarray(is_noisy)
    if values.ndim != 1 or values.size != n:
        raise ShapeError(f"is_noisy has shape {values.shape}; expected ({n},), one flag per row.")
    if values.dtype != bool:
        if values.dtype.kind not in "iuf" or not np.isin(values, (0, 1)).all():
            raise InputTypeError("is_noisy must hold booleans (True where the label is wrong).")
        values = values.astype(bool)
    return values


def _one_hot(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return (labels[:, None] == classes[None, :]).astype(np.float64)


def _energy_targets(
    noisy: np.ndarray, truth: np.ndarray | None, flags: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """The noise matrix ``E`` (None without true labels) and the centred clean one-hot labels."""
    if truth is not None:
        clean = _one_hot(truth, classes)
        return _one_hot(noisy, classes) - clean, clean - clean.mean(axis=0)
    # Without true labels only the clean rows' labels are known; the noisy rows carry nothing.
    clean = _one_hot(noisy, classes)
    keep = ~flags
    if keep.any():
        clean -= clean[keep].mean(axis=0)
    clean[flags] = 0.0
    return None, clean


def _tail_share(basis: np.ndarray, target: np.ndarray | None) -> float:
    """``1 - ||basis^T target||^2 / ||target||^2``; NaN when ``target`` is missing or zero."""
    if target is None:
        return float("nan")
    total = float(np.sum(target**2))
    if total == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((basis.T @ target) ** 2)) / total


def _train_accuracy(
    head: Any, coords: np.ndarray, labels: np.ndarray, flags: np.ndarray
) -> tuple[float, float]:
    """Training accuracy against ``labels`` on the clean rows and on the noisy rows."""
    if coords.shape[1] == 0 or np.unique(labels).size < 2:
        return float("nan"), float("nan")
    hits = clone(head).fit(coords, labels).predict(coords) == labels
    clean = float(hits[~flags].mean()) if (~flags).any() else float("nan")
    noisy = float(hits[flags].mean()) if flags.any() else float("nan")
    return clean, noisy
