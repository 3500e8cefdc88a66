"""Online label refinement: swap a label for the model's answer once that answer settles.

Follows "Online Label Refinement" (OLR; "Can LLMs Learn to Reason Robustly under Noisy
Supervision?", 2026). Every round the model casts several votes per example (stochastic
predictions, ensemble members, or a single prediction). Per example we keep the majority answer
``m`` (the unique mode of the votes; a tie means no answer) and its pass rate ``pi`` (the share of
votes equal to ``m``). A label is replaced by ``m`` in a round only when both hold:

1. the pass rate is rising: the least-squares slope of ``pi`` over the last ``window`` rounds is
   at least ``min_slope`` (a slope is 0 with fewer than 2 points);
2. the answer is historically stable: ``m`` is the unique mode of the majority answers of the
   earlier rounds (or, with ``stability`` set, it was the majority in at least that share of them).

As in the paper, the decision is recomputed every round from the original labels: a refinement is
never a permanent overwrite.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from labelwise._params import Interval, check_params
from labelwise._validate import labels_array, sorted_unique
from labelwise.errors import InputTypeError, LabelError, ShapeError
from labelwise.learn._base import CheckedParams

__all__ = ["OnlineLabelRefiner", "BootstrapVotes", "fit_with_refinement"]

#: Code of "no majority answer" (the votes tied).
_NO_ANSWER = -1
_CHANGE_COLUMNS = ["round", "index", "old", "new", "slope", "stability"]
#: A number of rounds, votes or ensemble members.
_COUNT = Interval(Integral, 1, None)


def _votes_array(predictions: Any) -> np.ndarray:
    """predictions as an (n_examples, n_votes) array, or a clear error."""
    if isinstance(predictions, (pd.DataFrame, pd.Series)):
        predictions = predictions.to_numpy()
    if isinstance(predictions, (str, bytes)) or not hasattr(predictions, "__len__"):
        raise InputTypeError(
            "predictions must be an array of shape (n_examples,) or (n_examples, n_votes), got "
            f"{type(predictions).__name__}."
        )
    try:
        votes = np.asarray(predictions)
    except ValueError:  # ragged rows
        raise ShapeError(
            "predictions has rows of different lengths; pass the same number of votes per example."
        ) from None
    if votes.ndim == 1:
        votes = votes[:, None]
    if votes.ndim != 2:
        raise ShapeError(
            f"predictions must be (n_examples,) or (n_examples, n_votes), got shape {votes.shape}."
        )
    if votes.size == 0:
        raise ShapeError(f"predictions is empty (shape {votes.shape}): there is nothing to count.")
    if (votes.dtype == object or votes.dtype.kind == "f") and pd.isna(votes).any():
        raise LabelError("predictions has missing values (NaN/None); every vote must be a label.")
    return votes


def _row_mode(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of non-negative ``codes``: the unique mode (or -1 on a tie) and its count."""
    n_rows = codes.shape[0]
    flat = (np.arange(n_rows)[:, None] * n_codes + codes).ravel()
    counts = np.bincount(flat, minlength=n_rows * n_codes).reshape(n_rows, n_codes)
    mode = counts.argmax(axis=1)
    top = counts[np.arange(n_rows), mode]
    unique = (counts == top[:, None]).sum(axis=1) == 1
    return np.where(unique, mode, _NO_ANSWER), top


def _slopes(rates: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row against 0, 1, 2...; 0 with fewer than 2 points."""
    n_points = rates.shape[1]
    if n_points < 2:
        return np.zeros(rates.shape[0])
    x = np.arange(n_points) - (n_points - 1) / 2
    return (rates - rates.mean(axis=1, keepdims=True)) @ x / (x @ x)


class OnlineLabelRefiner(CheckedParams):
    """Track the model's answers round by round and relabel where they settle (OLR).

    Parameters
    ----------
    window : int or None, default 5
        The slope of the pass rate is fit over the last ``window`` rounds (the spec's "about 5
        epochs" for long schedules); None uses the whole history, as the authors' code does.
    min_slope : float, default 0.05
        The least slope of the pass rate (per round) for a label to be replaced.
    stability : float in (0, 1] or None, default None
        None: the answer must be the unique mode of the earlier rounds' majority answers (the
        spec's rule). A number: it must have been the majority answer in at least that share of
        the earlier rounds (our variant).
    min_rounds : int, default 5
        Labels are kept as given until this many rounds are recorded. The spec refines when
        "epoch > 4"; counting rounds from 1, that is from the 5th round (our reading).

    Attributes
    ----------
    n_rounds_ : int
        Rounds recorded.
    classes_ : ndarray
        Every answer seen so far; the codes in ``majority_history_`` index it.
    majority_history_ : ndarray (n_examples, n_rounds_) of int
        Code of each round's majority answer in ``classes_``; -1 where the votes tied.
    pass_rate_history_ : ndarray (n_examples, n_rounds_)
        Share of each round's votes equal to its majority answer (the top share on a tie).
    slope_, stability_ : ndarray (n_examples,)
        This round's pass-rate slope, and the share of earlier rounds whose majority answer was
        this round's.
    refined_ : ndarray (n_examples,) of bool
        Where this round's majority answer replaces the label.
    labels_ : ndarray (n_examples,)
        The original labels with this round's replacements.
    changes_ : pandas.DataFrame
        One row per replaced label per round (``round`` counted from 1, ``index``, ``old``,
        ``new``, ``slope``, ``stability``), rows whose answer equals the label left out. An
        example relabeled in several rounds appears once per round.

    Examples
    --------
    >>> from labelwise.learn.refine import OnlineLabelRefiner
    >>> refiner = OnlineLabelRefiner(window=3, min_slope=0.1, min_rounds=3)
    >>> for votes in (["a", "a", "a", "b", "b"], ["a", "a", "a", "a", "b"], ["a"] * 5):
    ...     labels = refiner.update([votes], labels=["b"])
    >>> labels.tolist(), refiner.changes_[["round", "old", "new"]].values.tolist()
    (['a'], [[3, 'b', 'a']])
    """

    _parameter_constraints: ClassVar[dict] = {
        "window": [Interval(Integral, 2, None), None],
        "min_slope": [Interval(Real, -math.inf, math.inf, closed="neither")],
        "stability": [Interval(Real, 0, 1, closed="right"), None],
        "min_rounds": [Interval(Integral, 1, None)],
    }

    def __init__(
        self,
        window: int | None = 5,
        min_slope: float = 0.05,
        stability: float | None = None,
        min_rounds: int = 5,
    ) -> None:
        self.window = window
        self.min_slope = min_slope
        self.stability = stability
        self.min_rounds = min_rounds

    def update(self, predictions: Any, labels: Any = None) -> np.ndarray:
        """Record one round of votes and return the labels to train on next.

        Parameters
        ----------
        predictions : array-like (n_examples,) or (n_examples, n_votes)
            This round's predictions: one per example, or several votes per example.
        labels : array-like (n_examples,), optional
            The original (noisy) labels. Required on the first call; later calls may omit it.

        Returns
        -------
        ndarray (n_examples,)
            The original labels with this round's replacements (also ``labels_``).
        """
        self._check_params()
        votes = _votes_array(predictions)
        self._start(votes.shape[0], labels)
        majority, rate = self._count(votes)
        self.majority_history_ = np.column_stack([self.majority_history_, majority])
        self.pass_rate_history_ = np.column_stack([self.pass_rate_history_, rate])
        self.n_rounds_ += 1
        self._decide()
        self._record_changes()
        return self.labels_

    def _start(self, n_examples: int, labels: Any) -> None:
        """Store the original labels (first call) and check the number of examples."""
        if labels is not None:
            given = labels_array(labels)
            if given.shape[0] != n_examples:
                raise ShapeError(
                    f"labels has {given.shape[0]} entries but predictions has {n_examples} rows."
                )
            if getattr(self, "n_rounds_", 0) == 0:
                self.original_labels_ = given
        if not hasattr(self, "original_labels_"):
            raise LabelError("pass labels=... on the first update: the labels to refine.")
        if getattr(self, "n_rounds_", 0) == 0:
            self.n_rounds_ = 0
            self.classes_ = np.empty(0, dtype=object)
            self._codes: dict[Any, int] = {}
            self.majority_history_ = np.empty((n_examples, 0), dtype=np.int64)
            self.pass_rate_history_ = np.empty((n_examples, 0))
            self._changes: list[pd.DataFrame] = []
        expected = self.original_labels_.shape[0]
        if n_examples != expected:
            raise ShapeError(
                f"predictions has {n_examples} rows but the refiner tracks {expected} examples."
            )

    def _count(self, votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This round's majority answer (global code, -1 on a tie) and pass rate per example."""
        local, uniques = pd.factorize(votes.ravel())
        mode, top = _row_mode(local.reshape(votes.shape), len(uniques))
        to_global = np.array([self._code(value) for value in uniques], dtype=np.int64)
        majority = np.where(mode == _NO_ANSWER, _NO_ANSWER, to_global[np.maximum(mode, 0)])
        return majority, top / votes.shape[1]

    def _code(self, value: Any) -> int:
        if value not in self._codes:
            self._codes[value] = len(self._codes)
            self.classes_ = np.append(self.classes_, np.array([value], dtype=object))
        return self._codes[value]

    def _decide(self) -> None:
        """Apply the slope and stability conditions to this round's answers."""
        rates = self.pass_rate_history_
        self.slope_ = _slopes(rates if self.window is None else rates[:, -self.window :])
        current = self.majority_history_[:, -1]
        past = self.majority_history_[:, :-1]
        self.stability_ = (
            (past == current[:, None]).mean(axis=1) if past.shape[1] else 0.0 * current
        )
        if self.stability is None:
            # The spec's rule: the historical majority h (unique mode of past answers) equals m.
            stable = _row_mode(past + 1, len(self.classes_) + 1)[0] - 1 == current
            stable &= past.shape[1] > 0
        else:
            stable = self.stability_ >= self.stability
        self.refined_ = (
            (self.n_rounds_ >= self.min_rounds)
            & (current != _NO_ANSWER)
            & (self.slope_ >= self.min_slope)
            & stable
        )
        self.labels_ = self.refine(self.original_labels_)

    def refine(self, labels: Any) -> np.ndarray:
        """Return a copy of ``labels`` with this round's replacements applied.

        Parameters
        ----------
        labels : array-like (n_examples,)
            Labels in the order of the tracked examples.

        Returns
        -------
        ndarray (n_examples,)
            ``labels`` where no replacement applies, else the majority answer.
        """
        if not hasattr(self, "refined_"):
            raise LabelError("call update(predictions, labels=...) before refine().")
        given = labels_array(labels)
        if given.shape[0] != self.refined_.shape[0]:
            raise ShapeError(
                f"labels has {given.shape[0]} entries; the refiner tracks "
                f"{self.refined_.shape[0]} examples."
            )
        new = self.classes_[self.majority_history_[self.refined_, -1]]
        out = given.astype(_common_dtype(given, new), copy=True)
        out[self.refined_] = new
        return out

    def _record_changes(self) -> None:
        old = self.original_labels_
        index = np.flatnonzero(self.refined_ & (self.labels_ != old))
        if index.size:
            self._changes.append(
                pd.DataFrame(
                    {
                        "round": self.n_rounds_,
                        "index": index,
                        "old": old[index],
                        "new": self.labels_[index],
                        "slope": self.slope_[index],
                        "stability": self.stability_[index],
                    }
                )
            )

    @property
    def changes_(self) -> pd.DataFrame:
        frames = getattr(self, "_changes", [])
        if not frames:
            return pd.DataFrame({name: [] for name in _CHANGE_COLUMNS})
        return pd.concat(frames, ignore_index=True)


def _common_dtype(labels: np.ndarray, new: np.ndarray) -> np.dtype:
    """A dtype that holds both the labels and the replacements (object where none does)."""
    if new.size == 0:
        return labels.dtype
    values = np.asarray(new.tolist())
    # numpy would turn numbers into strings next to strings; keep each label's own type instead.
    for kinds in ("US", "iubf"):
        if labels.dtype.kind in kinds and values.dtype.kind in kinds:
            return np.result_type(labels.dtype, values.dtype)
    return np.dtype(object)


class BootstrapVotes(CheckedParams):
    """Votes of an ensemble refit on bootstrap samples, one call per round.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier; cloned for every member.
    n_estimators : int, default 8
        Members, i.e. votes per example (the spec's 8 rollouts).
    random_state : int, RandomState or None, default 0
        Seeds the bootstrap draws; successive calls draw fresh samples.

    Attributes
    ----------
    estimators_ : list
        The members of the last call.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from labelwise.learn.refine import BootstrapVotes, OnlineLabelRefiner
    >>> X, y = load_iris(return_X_y=True)
    >>> votes = BootstrapVotes(DecisionTreeClassifier(max_depth=2), n_estimators=4)
    >>> refiner = OnlineLabelRefiner()
    >>> labels = y
    >>> for _ in range(3):
    ...     labels = refiner.update(votes(X, labels), labels=y)
    >>> refiner.pass_rate_history_.shape
    (150, 3)
    """

    _parameter_constraints: ClassVar[dict] = {"n_estimators": [_COUNT]}

    def __init__(self, estimator: Any, n_estimators: int = 8, random_state: Any = 0) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> np.ndarray:
        """Fit the members on bootstrap samples of (X, y); return their (n_examples, n) votes."""
        self._check_params()
        labels = labels_array(y)
        X = np.asarray(X) if not hasattr(X, "iloc") else X
        if len(X) != labels.shape[0]:
            raise ShapeError(f"X has {len(X)} rows but y has {labels.shape[0]} labels.")
        if not hasattr(self, "_rng"):
            # Kept across calls so that each round draws new bootstrap samples.
            self._rng = check_random_state(self.random_state)
        self.estimators_ = [self._fit_one(X, labels) for _ in range(self.n_estimators)]
        return np.column_stack([model.predict(X) for model in self.estimators_])

    def _fit_one(self, X: Any, labels: np.ndarray) -> Any:
        rows = self._rng.randint(0, labels.shape[0], labels.shape[0])
        X_boot = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
        return clone(self.estimator).fit(X_boot, labels[rows])


def _sample_votes(model: Any, X: Any, n_votes: int, rng: np.random.RandomState) -> np.ndarray:
    """``n_votes`` labels per example drawn from predict_proba, or one ``predict`` per example."""
    if not hasattr(model, "predict_proba") or n_votes == 1:
        return np.asarray(model.predict(X))
    probs = np.asarray(model.predict_proba(X))
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random_sample((probs.shape[0], n_votes, 1)) * cumulative[:, None, -1:]
    picks = (draws >= cumulative[:, None, :]).sum(axis=2)
    return np.asarray(model.classes_)[np.minimum(picks, probs.shape[1] - 1)]


def fit_with_refinement(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    classes: Any = None,
    rounds: int = 30,
    refiner: OnlineLabelRefiner | None = None,
    n_votes: int = 8,
    random_state: Any = 0,
) -> tuple[Any, OnlineLabelRefiner]:
    """Train with ``partial_fit`` round by round on labels refined online.

    Each round: one ``partial_fit`` pass on the current labels, then ``n_votes`` labels per
    example sampled from ``predict_proba`` (or one ``predict`` without it) update ``refiner``,
    whose labels the next round trains on.

    Parameters
    ----------
    estimator : classifier with ``partial_fit``
        Cloned before training.
    X : array-like (n_examples, n_features)
    y : array-like (n_examples,)
        The noisy labels, of any hashable type.
    classes : array-like, optional
        Every class, passed to the first ``partial_fit``; defaults to the sorted labels of ``y``.
    rounds : int, default 30
        Training rounds (the spec's 30 epochs).
    refiner : OnlineLabelRefiner, optional
        A fresh refiner; defaults to ``OnlineLabelRefiner()``.
    n_votes : int, default 8
        Votes sampled per example and round (the spec's 8 rollouts).
    random_state : int, RandomState or None, default 0
        Seeds the vote sampling.

    Returns
    -------
    estimator : the fitted clone
    refiner : OnlineLabelRefiner
        The refiner after the last round (``labels_``, ``changes_``...).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import SGDClassifier
    >>> from labelwise.learn.refine import fit_with_refinement
    >>> X, y = load_iris(return_X_y=True)
    >>> model, refiner = fit_with_refinement(SGDClassifier(loss="log_loss"), X, y, rounds=6)
    >>> refiner.n_rounds_, refiner.labels_.shape
    (6, (150,))
    """
    if not hasattr(estimator, "partial_fit"):
        raise InputTypeError(f"{type(estimator).__name__} has no partial_fit method.")
    check_params({"rounds": [_COUNT], "n_votes": [_COUNT]}, {"rounds": rounds, "n_votes": n_votes})
    labels = labels_array(y)
    if len(X) != labels.shape[0]:
        raise ShapeError(f"X has {len(X)} rows but y has {labels.shape[0]} labels.")
    classes = sorted_unique(labels) if classes is None else np.asarray(classes)
    refiner = OnlineLabelRefiner() if refiner is None else refiner
    model, rng, current = clone(estimator), check_random_state(random_state), labels
    for _ in range(rounds):
        model.partial_fit(X, current, classes=classes)
        current = refiner.update(_sample_votes(model, X, n_votes, rng), labels=labels)
    return model, refiner
