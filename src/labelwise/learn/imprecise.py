"""Imprecise label learning: one EM objective for noisy, partial and missing labels.

Following "Imprecise Label Learning" (Chen et al., 2023), the true label is a latent variable and
each example carries some *information* ``I`` about it: a label that may be wrong, a set of
candidate classes, or nothing. Training alternates, batch by batch, an E-step (the posterior
``q(y) = p(y | x, I)`` under the current network, held fixed) and an M-step (fit the network to
``q`` and to ``p(I | x)``):

- noisy label ``l``: ``p(l | x) = sum_y p(y | x) T[y, l]`` with a learned transition matrix ``T``
  (row ``y`` is ``p(noisy | true = y)``, a softmax over each row of free logits, initialized to
  the identity); ``q(y) ∝ p(y | x) T[y, l]``; loss ``CE(l, p T) + CE(q, p)``;
- candidate set ``S``: ``q(y) ∝ p(y | x) 1[y in S]``; loss ``-sum_{y not in S} log(1 - p(y | x))
  + CE(q, p)``;
- unlabeled: ``q = p(y | x)`` after distribution alignment (rescaled by the label prior over the
  running mean prediction), kept on its top 3 classes and renormalized; loss ``CE(q, p)``.

A class-balance term ``KL(uniform || mean batch prediction)``, weighted 0.1, keeps the network
from collapsing onto a few classes. ``q`` is computed on a weakly perturbed view of ``x`` and
fitted on a strongly perturbed one; both views add Gaussian noise to the standardized inputs,
our stand-in for image augmentations on tabular features.

Where we differ from the authors' code, on purpose: their first noisy-label term uses a
column-softmaxed ``T`` while ``q`` uses it row-wise; we use the row-softmaxed ``T`` (``p(noisy |
true)``) in both, so that the two terms are one likelihood.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from labelwise._params import Interval, Options
from labelwise._validate import as_array
from labelwise.errors import InputError, InputTypeError, LabelError, ShapeError
from labelwise.learn._base import estimator_parameters
from labelwise.learn._torch import NeuralClassifier, require_torch

__all__ = ["OBJECTIVES", "ImpreciseLabelClassifier"]

#: The training objectives :class:`ImpreciseLabelClassifier` knows.
OBJECTIVES = ("em", "naive")

# Row kinds: what an example tells about its true label.
NOISY, PARTIAL, UNLABELED = 0, 1, 2
#: Numerical floor inside logarithms.
EPS = 1e-7


@estimator_parameters
class ImpreciseLabelClassifier(NeuralClassifier):
    """An MLP trained by expectation-maximization on noisy, partial or missing labels, or a mix.

    Parameters
    ----------
    hidden, epochs, batch_size, weight_decay, progress
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.
    lr : float, default 1e-3
        Learning rate of the network and of the transition matrix.
    random_state : int, default 0
        Seeds initialization, batches and view noise; training is deterministic on CPU.
    objective : {"em", "naive"}, default "em"
        ``"em"``: the imprecise-label objective described in the module docstring. ``"naive"``:
        plain training of the same network, the baseline: cross-entropy to the given label,
        to a uniform distribution over a candidate set, and unlabeled rows ignored.
    balance : float, default 0.1
        Weight of the class-balance term (``"em"`` only).
    consistency : float, default 0.0
        Weight of an extra cross-entropy between the weak view's prediction (fixed) and the
        strong view's, on every row (``"em"`` only).
    weak_noise, strong_noise : float, default 0.1 and 0.5
        Standard deviation of the Gaussian noise added to the standardized inputs for the weak
        view (posteriors) and the strong view (fitted) during training.
    top_k : int, default 3
        Unlabeled rows keep their ``top_k`` most probable classes in ``q``.
    classes : array-like (K,), optional
        Every class name. Required to name the columns of a boolean ``candidates`` matrix
        (default ``0..K-1``); otherwise the sorted distinct labels and candidates.

    Attributes
    ----------
    classes_ : ndarray (K,)
    transition_ : ndarray (K, K)
        The learned ``p(noisy = j | true = i)`` at ``[i, j]`` (rows sum to 1); the identity when
        no row carries a single noisy label or with ``objective="naive"``.
    kinds_ : dict
        How many training rows were noisy, partial and unlabeled.
    network_, history_, n_features_in_
        As in :class:`~labelwise.learn._torch.NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.learn.imprecise import ImpreciseLabelClassifier
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> y = np.where(X[:, 0] > 0, "pos", "neg").astype(object)
    >>> y[::4] = -1  # a quarter unlabeled
    >>> clf = ImpreciseLabelClassifier(hidden=(8,), epochs=2)
    >>> clf.fit(X, y).classes_.tolist()  # doctest: +SKIP
    ['neg', 'pos']
    """

    _parameter_constraints: ClassVar[dict] = {
        **NeuralClassifier._parameter_constraints,
        "objective": [Options(OBJECTIVES)],
        "balance": [Interval(Real, 0, None)],
        "consistency": [Interval(Real, 0, None)],
        "weak_noise": [Interval(Real, 0, None)],
        "strong_noise": [Interval(Real, 0, None)],
        "top_k": [Interval(Integral, 1, None)],
    }

    objective: str = "em"
    balance: float = 0.1
    consistency: float = 0.0
    weak_noise: float = 0.1
    strong_noise: float = 0.5
    top_k: int = 3
    classes: Any = None

    def fit(self, X: Any, y: Any = None, *, candidates: Any = None, unlabeled: Any = -1):
        """Train on labels that may be noisy, candidate sets, unlabeled rows, or a mix.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        y : array-like (n_samples,), optional
            One label per row, of any hashable type, possibly wrong (a noisy label). Rows whose
            label is ``unlabeled``, None or NaN are unlabeled.
        candidates : optional
            Candidate sets (partial labels), either a boolean (n_samples, K) matrix, True where
            a class is a candidate (columns named by ``classes``, default ``0..K-1``), or a list
            of n_samples sets of class names. With ``y`` too, a row may carry a label or a set,
            not both: a set is given where ``y`` is unlabeled; ``None`` in the list (an
            all-False row of the matrix) means no set. Without ``y``, every row needs a
            non-empty set (``None`` marks an unlabeled row).
        unlabeled : hashable, default -1
            The marker of unlabeled rows in ``y``.

        Returns
        -------
        self

        Raises
        ------
        LabelError
            An empty candidate set, a class outside ``classes``, a row with both a label and a
            set, fewer than two classes, or no row with any label information.
        ShapeError
            ``y`` or ``candidates`` does not have one entry per row of ``X``, or the matrix has
            a different number of columns than ``classes``.
        """
        self._check_setup()
        X = validate_data(self, X, dtype=np.float64)
        self.classes_, kind, label, mask = _parse_information(
            y, candidates, unlabeled, self.classes, X.shape[0]
        )
        self.kinds_ = {
            "noisy": int((kind == NOISY).sum()),
            "partial": int((kind == PARTIAL).sum()),
            "unlabeled": int((kind == UNLABELED).sum()),
        }
        self._fit_imprecise(self._fit_standardizer(X), kind, label, mask)
        return self

    # -- training --

    def _fit_imprecise(
        self, Z: np.ndarray, kind: np.ndarray, label: np.ndarray, mask: np.ndarray
    ) -> None:
        torch = require_torch()
        k = self.classes_.size
        self.network_ = self._new_network(Z.shape[1])
        # Free logits of T, identity at the start: softmax rows put most mass on the diagonal.
        transition = torch.nn.Parameter(torch.eye(k))
        params = [{"params": self.network_.parameters()}]
        if self.objective == "em" and (kind == NOISY).any():
            params.append({"params": [transition]})
        optimizer = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        state = _TrainingState.build(torch, kind, label, mask, k)
        step = _em_step if self.objective == "em" else _naive_step

        def step_fn(model: Any, xb: Any, _targets: Any, index: Any) -> Any:
            return step(self, torch, model, xb, index, state, transition)

        self.history_ = self._train(self.network_, Z, None, step_fn=step_fn, optimizer=optimizer)
        if self.objective == "em" and (kind == NOISY).any():
            self.transition_ = torch.softmax(transition.detach(), dim=1).numpy().astype(np.float64)
        else:
            self.transition_ = np.eye(k)


class _TrainingState:
    """Per-row tensors and the running statistics of distribution alignment."""

    def __init__(self, kind, label, mask, target_prior, running_mean) -> None:
        self.kind = kind
        self.label = label
        self.mask = mask
        self.target_prior = target_prior
        self.running_mean = running_mean

    @classmethod
    def build(cls, torch: Any, kind: np.ndarray, label: np.ndarray, mask: np.ndarray, k: int):
        informed = kind != UNLABELED
        if informed.any():
            # Each informed row spreads one unit over its candidates (its label when noisy).
            rows = mask[informed] / mask[informed].sum(axis=1, keepdims=True)
            prior = rows.mean(axis=0)
        else:
            prior = np.full(k, 1.0 / k)
        prior = np.maximum(prior, 1e-3)
        prior /= prior.sum()
        return cls(
            kind=torch.as_tensor(kind),
            label=torch.as_tensor(label),
            mask=torch.as_tensor(mask, dtype=torch.float32),
            target_prior=torch.as_tensor(prior, dtype=torch.float32),
            running_mean=torch.full((k,), 1.0 / k),
        )


#: Momentum of the running mean prediction on unlabeled rows (distribution alignment).
ALIGN_MOMENTUM = 0.99


def _views(est: ImpreciseLabelClassifier, torch: Any, model: Any, xb: Any) -> tuple[Any, Any]:
    weak = model(xb + est.weak_noise * torch.randn_like(xb))
    strong = model(xb + est.strong_noise * torch.randn_like(xb))
    return weak, strong


def _soft_ce(q: Any, log_p: Any) -> Any:
    return -(q * log_p).sum(dim=1)


def _normalized(torch: Any, weights: Any) -> Any:
    return weights / weights.sum(dim=1, keepdim=True).clamp_min(EPS)


def _em_step(est, torch, model, xb, index, state: _TrainingState, transition) -> Any:
    """The per-row EM losses of one batch (plus the batch's class-balance term)."""
    logits_w, logits_s = _views(est, torch, model, xb)
    p_w = torch.softmax(logits_w, dim=1)
    log_p_s = torch.log_softmax(logits_s, dim=1)
    kind, label, mask = state.kind[index], state.label[index], state.mask[index]
    loss = torch.zeros(xb.shape[0])
    q = torch.zeros_like(p_w)
    p_fixed = p_w.detach()

    noisy = kind == NOISY
    if noisy.any():
        T = torch.softmax(transition, dim=1)
        p_noisy = p_w[noisy] @ T  # p(noisy label | x)
        observed = label[noisy]
        likelihood = -torch.log(p_noisy.gather(1, observed[:, None]).squeeze(1) + EPS)
        loss = loss.index_put((noisy.nonzero().squeeze(1),), likelihood)
        q[noisy] = _normalized(torch, p_fixed[noisy] * T.detach()[:, observed].T)

    partial = kind == PARTIAL
    if partial.any():
        outside = 1.0 - mask[partial]
        negatives = -(torch.log(1.0 - p_w[partial] + EPS) * outside).sum(dim=1)
        loss = loss.index_put((partial.nonzero().squeeze(1),), negatives)
        q[partial] = _normalized(torch, p_fixed[partial] * mask[partial])

    blank = kind == UNLABELED
    if blank.any():
        q[blank] = _aligned_top_k(torch, p_fixed[blank], state, est.top_k)

    loss = loss + _soft_ce(q, log_p_s)
    loss = loss * _group_weights(torch, blank)
    if est.consistency > 0:
        loss = loss + est.consistency * _soft_ce(p_fixed, log_p_s)
    if est.balance > 0:
        mean_p = p_w.mean(dim=0)
        k = mean_p.shape[0]
        loss = loss + est.balance * (torch.log(1.0 / (k * (mean_p + EPS)))).mean()
    return loss


def _group_weights(torch: Any, blank: Any) -> Any:
    """Row weights that make the batch mean the sum of the labeled and the unlabeled means.

    Without them, a batch that is 90% unlabeled would drown the few labels it holds.
    """
    n_blank = int(blank.sum())
    n_informed = blank.numel() - n_blank
    weights = torch.ones(blank.numel())
    if n_blank and n_informed:
        weights[blank] = blank.numel() / n_blank
        weights[~blank] = blank.numel() / n_informed
    return weights


def _aligned_top_k(torch: Any, p: Any, state: _TrainingState, top_k: int) -> Any:
    """Distribution alignment, then keep the ``top_k`` classes of each row and renormalize."""
    state.running_mean = ALIGN_MOMENTUM * state.running_mean + (1 - ALIGN_MOMENTUM) * p.mean(0)
    aligned = _normalized(torch, p * state.target_prior / state.running_mean.clamp_min(EPS))
    k = min(top_k, aligned.shape[1])
    kept = torch.zeros_like(aligned).scatter(1, aligned.topk(k, dim=1).indices, 1.0)
    return _normalized(torch, aligned * kept)


def _naive_step(est, torch, model, xb, index, state: _TrainingState, transition) -> Any:
    """Plain cross-entropy: to the label, to uniform over a set; unlabeled rows count 0."""
    del transition  # the baseline has no noise model
    log_p = torch.log_softmax(model(xb), dim=1)
    mask = state.mask[index]
    informed = (state.kind[index] != UNLABELED).float()
    return _soft_ce(_normalized(torch, mask), log_p) * informed


# --- reading the label information --------------------------------------------------------------


def _parse_information(
    y: Any, candidates: Any, unlabeled: Any, classes: Any, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(classes, kind, label code, candidate mask)`` from ``y`` and ``candidates``.

    ``kind`` is NOISY, PARTIAL or UNLABELED per row; ``mask`` is one-hot at the label for a
    noisy row, the set for a partial row and all ones for an unlabeled row.
    """
    if y is None and candidates is None:
        raise LabelError(
            "fit needs labels: pass y (one label per row, the unlabeled marker for none) and/or "
            "candidates (a candidate set per row)."
        )
    values, has_label = (None, np.zeros(n, dtype=bool)) if y is None else _read_y(y, unlabeled, n)
    sets = None
    if candidates is not None:
        sets = _read_candidates(candidates, n, require_all=y is None)
    names = _class_names(classes, values, has_label, sets)
    k = names.size
    if k == 0:
        raise LabelError(_NOTHING_TO_LEARN)
    if k < 2:
        raise LabelError(
            f"the labels name a single class ({names.tolist()}); a classifier needs two or more. "
            "Pass classes=[...] listing every class."
        )
    index = pd.Index(names)
    kind = np.full(n, UNLABELED, dtype=np.int64)
    label = np.zeros(n, dtype=np.int64)
    mask = np.ones((n, k), dtype=bool)
    if has_label.any():
        codes = index.get_indexer(values[has_label])
        _check_known(codes, values[has_label], names, "y")
        label[has_label] = codes
        kind[has_label] = NOISY
        mask[has_label] = np.eye(k, dtype=bool)[codes]
    if sets is not None:
        _fill_sets(sets, index, names, has_label, kind, mask)
    if (kind == UNLABELED).all():
        raise LabelError(_NOTHING_TO_LEARN)
    return names, kind, label, mask


_NOTHING_TO_LEARN = (
    "no row carries a label or a candidate set, so there is nothing to learn from; give at least "
    "some labels."
)


def _read_y(y: Any, unlabeled: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise InputTypeError(
            f"y must be a sequence with one label per row, got {type(y).__name__}."
        )
    values = y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y)
    if values.dtype.kind not in "OUSbiuf":
        values = values.astype(object)
    if values.ndim != 1:
        raise ShapeError(
            f"y must be 1-D with one label per row, got shape {values.shape}; for candidate sets "
            "use candidates=..."
        )
    if values.size != n:
        raise ShapeError(f"X has {n} rows but y has {values.size} labels; give one per row.")
    missing = np.asarray(pd.isna(values), dtype=bool)
    return values, ~(missing | _equals(values, unlabeled))


def _equals(values: np.ndarray, marker: Any) -> np.ndarray:
    """Elementwise ``values == marker``, False where the types cannot be compared."""
    if marker is None:
        return np.zeros(values.size, dtype=bool)
    if values.dtype != object:
        try:
            out = np.asarray(values == marker)
            if out.shape == values.shape:
                return out.astype(bool)
        except (TypeError, ValueError):
            pass
        return np.zeros(values.size, dtype=bool)
    return np.array([_same(v, marker) for v in values], dtype=bool)


def _same(value: Any, marker: Any) -> bool:
    try:
        return bool(value == marker)
    except (TypeError, ValueError):
        return False


def _read_candidates(candidates: Any, n: int, require_all: bool) -> list | np.ndarray:
    """A boolean (n, K) matrix, or a list of n sets (None where a row has no set)."""
    if _is_set_list(candidates):
        sets = list(candidates)
        if len(sets) != n:
            raise ShapeError(
                f"X has {n} rows but candidates has {len(sets)} sets; give one per row."
            )
        for i, s in enumerate(sets):
            if s is not None and len(s) == 0:
                raise LabelError(
                    f"candidate set of row {i} is empty, but the true class must be among the "
                    "candidates; list at least one class (or None for an unlabeled row)."
                )
        return [None if s is None else list(dict.fromkeys(s)) for s in sets]
    expected = "a boolean (n, K) matrix or a list of sets of class names"
    matrix = as_array("candidates", candidates, expected)
    if matrix.ndim != 2:
        raise ShapeError(
            f"candidates must be a boolean (n_samples, n_classes) matrix or a list of sets, got "
            f"shape {matrix.shape}."
        )
    if matrix.shape[0] != n:
        raise ShapeError(
            f"X has {n} rows but candidates has {matrix.shape[0]}; give one row per example."
        )
    if matrix.dtype.kind not in "biuf" or (matrix.size and not np.isin(matrix, (0, 1)).all()):
        raise InputError("a candidates matrix must hold only True/False (or 1/0).")
    matrix = matrix.astype(bool)
    empty = ~matrix.any(axis=1)
    if require_all and empty.any():
        raise LabelError(
            f"{int(empty.sum())} candidate rows are empty (first: row {int(np.argmax(empty))}), "
            "but the true class must be among the candidates. Mark at least one class per row, "
            "or pass y with the unlabeled marker for rows without information."
        )
    return matrix


def _is_set_list(candidates: Any) -> bool:
    if isinstance(candidates, np.ndarray) and candidates.dtype != object:
        return False
    if not isinstance(candidates, (list, tuple, pd.Series, np.ndarray)):
        return False
    first = next((s for s in candidates if s is not None), None)
    if isinstance(first, (list, tuple)):
        # A nested list of True/False is a matrix written in Python, not sets of class names.
        return not all(isinstance(v, (bool, np.bool_)) for v in first)
    return first is None or isinstance(first, (set, frozenset))


def _class_names(
    classes: Any, values: np.ndarray | None, has_label: np.ndarray, sets: Any
) -> np.ndarray:
    if classes is not None:
        names = np.asarray(list(classes)) if not isinstance(classes, np.ndarray) else classes
        if names.ndim != 1 or len(pd.unique(names)) != names.size:
            raise LabelError("classes must be a 1-D list of distinct class names.")
        if isinstance(sets, np.ndarray) and sets.shape[1] != names.size:
            raise ShapeError(
                f"candidates has {sets.shape[1]} columns but classes names {names.size}; give "
                "one column per class, in classes order."
            )
        return names
    if isinstance(sets, np.ndarray):
        return np.arange(sets.shape[1])
    found: list[Any] = [] if values is None else list(pd.unique(values[has_label]))
    if sets is not None:
        found += [c for s in sets if s is not None for c in s]
    unique = pd.unique(np.asarray(found, dtype=object)) if found else np.array([])
    try:
        return np.asarray(sorted(unique.tolist()))
    except TypeError:
        raise LabelError(
            "the labels mix types that cannot be sorted (e.g. numbers and strings); pass "
            "classes=[...] to fix their order."
        ) from None


def _check_known(codes: np.ndarray, values: Any, names: np.ndarray, source: str) -> None:
    unknown = codes < 0
    if unknown.any():
        shown = list(dict.fromkeys(np.asarray(values, dtype=object)[unknown].tolist()))[:5]
        raise LabelError(
            f"{int(unknown.sum())} entries of {source} are not among the classes, e.g. {shown}; "
            f"the classes are {names[:10].tolist()}. Add them to classes=[...] or fix {source}."
        )


def _fill_sets(
    sets: Any,
    index: pd.Index,
    names: np.ndarray,
    has_label: np.ndarray,
    kind: np.ndarray,
    mask: np.ndarray,
) -> None:
    """Write the candidate sets into ``kind`` and ``mask`` in place."""
    if isinstance(sets, np.ndarray):
        given = sets.any(axis=1)
        rows = np.flatnonzero(given)
        row_masks = sets[given]
    else:
        rows = np.array([i for i, s in enumerate(sets) if s is not None], dtype=np.int64)
        row_masks = np.zeros((rows.size, names.size), dtype=bool)
        for r, i in enumerate(rows):
            codes = index.get_indexer(sets[i])
            _check_known(codes, sets[i], names, f"candidates[{i}]")
            row_masks[r, codes] = True
    both = rows[has_label[rows]] if rows.size else rows
    if both.size:
        raise LabelError(
            f"{both.size} rows (first: row {int(both[0])}) have both a label in y and a "
            "candidate set; give one of them per row (put the unlabeled marker in y where a set "
            "is given, or drop the set)."
        )
    kind[rows] = PARTIAL
    mask[rows] = row_masks
