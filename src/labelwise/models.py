"""The model behind an audit: named candidates, and an out-of-sample choice among them.

Confident learning reads a model's out-of-sample probabilities, so a model that fits the table
poorly makes its own errors look like label errors. :func:`choose_model` cross-validates a small
set of candidates whose errors differ (a regularized linear model, gradient-boosted trees with
native categorical support, k-nearest neighbours on scaled features) under the same folds and
keeps the one, or the equal-weight average of several, with the lowest out-of-sample log loss:
the probabilities closest to the given labels' conditional distribution, which is what the
confident-learning thresholds assume.
"""

from __future__ import annotations

import importlib
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder, StandardScaler

from labelwise._params import InstanceOf, check_params, is_integer
from labelwise._shared.serialize import json_scalar
from labelwise.errors import ConfigError, InputError, InputTypeError
from labelwise.predict import (
    categories_as_text,
    check_progress,
    classifier_splits,
    column_kinds,
    cross_val_pred_probs,
    default_model,
    resolve_classes,
    table_preprocessor,
)

__all__ = [
    "AUTO_CANDIDATES",
    "MODELS",
    "CandidateResult",
    "ModelChoice",
    "choose_model",
    "make_model",
    "probability_quality",
]

#: Every named model: ``make_model(name, X)`` builds it.
MODELS = ("logistic", "boosting", "knn", "forest")
#: The candidates ``model="auto"`` compares: their errors differ (linear, trees, neighbours).
AUTO_CANDIDATES = ("logistic", "boosting", "knn")
#: Above this many rows the choice is made on a stratified sample of this size; the chosen
#: model(s) are then cross-validated on every row.
SELECTION_ROWS = 10_000
#: An average of several candidates replaces the best single one only when its out-of-sample
#: log loss is lower by at least this share: a tie goes to the simpler model.
ENSEMBLE_GAIN = 0.005
#: Equal-width confidence bins of the expected calibration error.
CALIBRATION_BINS = 15
#: Probabilities are clipped here when scoring, so one zero does not make the log loss infinite.
_EPS = 1e-15
#: What :func:`choose_model`'s options may be, beyond the model names it checks itself.
_CHOICE_CONSTRAINTS = {"ensemble": [InstanceOf(bool, "True, False"), None]}


# --- the candidates -----------------------------------------------------------------------


class SmoothedNeighbors(ClassifierMixin, BaseEstimator):
    """k-nearest neighbours whose probabilities are shrunk toward the class frequencies.

    A neighbourhood vote gives probability exactly 0 to every class absent from it, which makes
    one disagreeing label cost an infinite log loss and leaves no ranking among such rows.
    Adding ``prior_weight`` pseudo-neighbours spread by the training class frequencies keeps
    every probability positive and changes the vote's order nowhere.

    Parameters
    ----------
    n_neighbors : int, default 25
    prior_weight : float, default 1.0
        Pseudo-neighbours added to every vote.
    max_samples : int, default 20,000
        At most this many training rows (a seeded random sample) are kept as neighbours:
        prediction time grows with them, and past a few thousand per class more neighbours
        barely change a vote.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.models import SmoothedNeighbors
    >>> X = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]])
    >>> model = SmoothedNeighbors(n_neighbors=3).fit(X, [0, 0, 0, 1, 1, 1])
    >>> model.predict_proba([[0.05]]).round(3).tolist()
    [[0.875, 0.125]]
    """

    def __init__(self, n_neighbors: int = 25, prior_weight: float = 1.0, max_samples: int = 20_000):
        self.n_neighbors = n_neighbors
        self.prior_weight = prior_weight
        self.max_samples = max_samples

    def fit(self, X: Any, y: Any) -> SmoothedNeighbors:
        y = np.asarray(y)
        counts = np.unique(y, return_counts=True)[1].astype(float)
        kept = np.arange(y.size)
        if y.size > self.max_samples:
            kept = np.sort(np.random.default_rng(0).choice(y.size, self.max_samples, False))
        k = int(min(self.n_neighbors, max(1, kept.size - 1)))
        self.neighbors_ = KNeighborsClassifier(n_neighbors=k).fit(_take(X, kept), y[kept])
        self.classes_ = np.unique(y)
        self.prior_ = counts / counts.sum()
        self.k_ = k
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        # A class missing from the kept sample gets no votes, only its share of the prior.
        vote = np.zeros((_n_rows(X), self.classes_.size))
        columns = np.searchsorted(self.classes_, self.neighbors_.classes_)
        vote[:, columns] = self.neighbors_.predict_proba(X)
        weight = float(self.prior_weight)
        return (self.k_ * vote + weight * self.prior_) / (self.k_ + weight)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _neighbours(n_rows: int) -> int:
    # About sqrt(n) neighbours, bounded: enough votes for a probability, few enough to stay local.
    return int(np.clip(round(np.sqrt(max(n_rows, 1)) / 2), 10, 50))


def _ordinal_preprocessor(frame: pd.DataFrame) -> tuple[ColumnTransformer, list[bool]]:
    """Numbers as they are (trees split on them, NaN included); categories as ordinal codes."""
    numeric, categorical = column_kinds(frame)
    parts = []
    if numeric:
        parts.append(("numeric", "passthrough", numeric))
    if categorical:
        codes = make_pipeline(
            FunctionTransformer(categories_as_text, feature_names_out="one-to-one"),
            # Unseen and missing values become NaN, which the trees send down their own branch;
            # at most 250 codes per column (the rest share one) fit the trees' 255 bins.
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
                max_categories=250,
            ),
        )
        parts.append(("categorical", codes, categorical))
    mask = [False] * len(numeric) + [True] * len(categorical)
    return ColumnTransformer(parts), mask


#: Gradient-boosting settings shared by the classifier and the regressor.
_TREES = dict(
    max_iter=500,
    early_stopping=True,
    validation_fraction=0.1,
    n_iter_no_change=15,
    l2_regularization=1.0,
)


def _bare(name: str, n_rows: int, random_state: Any, regression: bool) -> tuple[Any, str]:
    """The named estimator and the encoding of a table it reads: ordinal, one-hot or dense."""
    if name == "boosting":
        cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        return cls(random_state=random_state, **_TREES), "ordinal"
    if name == "forest":
        cls = RandomForestRegressor if regression else RandomForestClassifier
        return cls(n_estimators=200, min_samples_leaf=2, random_state=random_state), "ordinal"
    if name == "knn":
        k = _neighbours(n_rows)
        if regression:
            return KNeighborsRegressor(n_neighbors=k, weights="distance"), "dense"
        return SmoothedNeighbors(n_neighbors=k), "dense"
    return RidgeCV(alphas=np.logspace(-3, 3, 13)), "one-hot"  # "linear"


def _encoded(model: Any, X: Any, encoding: str, step: str) -> Any:
    """``model`` behind the encoding ``X`` needs: table columns, or scaling of a matrix."""
    if not isinstance(X, pd.DataFrame):
        if encoding == "ordinal":  # trees need no scaling
            return model
        return make_pipeline(StandardScaler(with_mean=not sp.issparse(X)), model)
    if encoding == "ordinal":
        columns, mask = _ordinal_preprocessor(X)
        if "categorical_features" in model.get_params():
            model.set_params(categorical_features=mask)
    else:
        columns = table_preprocessor(X, dense=encoding == "dense")
    return Pipeline([("columns", columns), (step, model)])


def make_model(name: str, X: Any, *, random_state: Any = 0) -> Any:
    """The named candidate model, with the preprocessing ``X`` needs.

    Parameters
    ----------
    name : {"logistic", "boosting", "knn", "forest"}
        - ``logistic``: :func:`labelwise.predict.default_model` (one-hot and scaled columns,
          L2-regularized logistic regression);
        - ``boosting``: scikit-learn's HistGradientBoostingClassifier with native categorical
          support and early stopping on a held-out tenth;
        - ``knn``: about sqrt(n)/2 nearest neighbours on the scaled, one-hot columns, with
          probabilities shrunk toward the class frequencies (:class:`SmoothedNeighbors`);
        - ``forest``: a 200-tree random forest on ordinal-coded columns.
    X : DataFrame, ndarray or sparse matrix
        The features (only their columns, types and row count are read).
    random_state : int, default 0
        Seeds the trees.

    Returns
    -------
    estimator
        An unfitted scikit-learn classifier with ``predict_proba``.

    Examples
    --------
    >>> import pandas as pd
    >>> from labelwise.models import make_model
    >>> frame = pd.DataFrame({"size": [1.0, 2.5, None], "color": ["red", "blue", "red"]})
    >>> type(make_model("boosting", frame).steps[-1][1]).__name__
    'HistGradientBoostingClassifier'
    """
    return _named_model(name, X, random_state, regression=False)


def _named_model(name: str, X: Any, random_state: Any, regression: bool) -> Any:
    """The classifier of :data:`MODELS` or regressor of :data:`REGRESSORS` called ``name``."""
    kind = "regressor" if regression else "classifier"
    names = REGRESSORS if regression else MODELS
    if name not in names:
        listed = ", ".join(repr(m) for m in names)
        raise ConfigError(
            f"model={name!r} is not a {'regression ' if regression else ''}model name; choose "
            f"one of {listed}, 'auto', a 'module:Class' path, or pass a scikit-learn {kind}."
        )
    if name == "logistic":
        return default_model(X)
    model, encoding = _bare(name, _n_rows(X), random_state, regression)
    return _encoded(model, X, encoding, kind)


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def load_estimator(path: str, kind: str = "classifier") -> Any:
    """An estimator from ``"package.module:Class"``, constructed with no arguments.

    ``kind`` is ``"classifier"`` (it must have ``predict_proba``) or ``"regressor"``.

    Examples
    --------
    >>> from labelwise.models import load_estimator
    >>> load_estimator("sklearn.naive_bayes:GaussianNB")
    GaussianNB()
    """
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ConfigError(
            f"model={path!r} is neither a model name nor a 'module:Class' path such as "
            "'sklearn.ensemble:ExtraTreesClassifier'."
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a module may fail on import in any way: say so in one line
        raise ConfigError(
            f"cannot import module {module_name!r} for model={path!r}: {type(exc).__name__}: {exc}."
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None or not isinstance(cls, type):
        raise ConfigError(f"module {module_name!r} has no class {class_name!r} (model={path!r}).")
    try:
        estimator = cls()
    except TypeError as exc:
        raise ConfigError(
            f"{path} cannot be constructed without arguments ({exc}); build it in Python and "
            "pass the estimator to labelwise.audit(model=...) instead."
        ) from None
    if kind == "regressor":
        if not is_regressor(estimator):
            raise ConfigError(f"{path} is not a scikit-learn regressor (the target is numeric).")
    elif not is_classifier(estimator) or not hasattr(estimator, "predict_proba"):
        raise ConfigError(
            f"{path} is not a scikit-learn classifier with predict_proba; the audit needs "
            "class probabilities."
        )
    return estimator


def wrap_for_table(estimator: Any, X: Any) -> Any:
    """``estimator`` behind the default table encoding, unless it is a pipeline already."""
    if isinstance(estimator, Pipeline) or not isinstance(X, pd.DataFrame):
        return estimator
    return Pipeline([("columns", table_preprocessor(X)), ("classifier", estimator)])


# --- scoring probabilities ----------------------------------------------------------------


def probability_quality(codes: np.ndarray, pred_probs: np.ndarray) -> dict[str, float]:
    """Accuracy, log loss and expected calibration error of probabilities against labels.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        The given labels as column indices of ``pred_probs``.
    pred_probs : ndarray, shape (n, K)

    Returns
    -------
    dict
        ``accuracy`` (share of rows whose top class is the given label), ``log_loss`` (mean
        ``-log p[i, given_i]``, probabilities clipped at 1e-15) and ``calibration_error`` (the
        top-label expected calibration error over 15 equal-width confidence bins: the
        row-weighted mean of ``|accuracy - confidence|`` per bin).

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.models import probability_quality
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> q = probability_quality(np.array([0, 0, 1, 1]), probs)
    >>> q["accuracy"], round(q["log_loss"], 3)
    (0.75, 0.4)
    """
    rows = np.arange(codes.size)
    top = np.argmax(pred_probs, axis=1)
    confidence = pred_probs[rows, top]
    correct = (top == codes).astype(float)
    given = np.clip(pred_probs[rows, codes], _EPS, 1.0)
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    gap = np.bincount(bins, weights=correct - confidence, minlength=CALIBRATION_BINS)
    return {
        "accuracy": float(correct.mean()),
        "log_loss": float(-np.log(given).mean()),
        "calibration_error": float(np.abs(gap[counts > 0]).sum() / codes.size),
    }


# --- choosing -------------------------------------------------------------------------------


class _Scores:
    """A record of scores that reads as a JSON-ready dict."""

    def to_dict(self) -> dict[str, Any]:
        return {key: json_scalar(value) for key, value in self.__dict__.items()}


@dataclass(frozen=True)
class CandidateResult(_Scores):
    """One candidate's out-of-sample quality, on the rows the choice was made on."""

    name: str
    accuracy: float
    log_loss: float
    calibration_error: float
    noise_rate: float
    seconds: float


@dataclass(frozen=True, eq=False)
class ModelChoice:
    """Which model an audit used, and how every candidate did out of sample.

    Attributes
    ----------
    name : str
        The model used: a candidate's name, ``"ensemble(a+b)"`` for an equal-weight average of
        candidates' probabilities, or the class name of an estimator passed in.
    members : tuple of str
        The candidates averaged (one for a single model).
    candidates : tuple of CandidateResult
        Every candidate's accuracy, log loss, calibration error and the noise rate confident
        learning estimates from its probabilities; empty when a model was given.
    selection_rows : int
        The rows the candidates were compared on (a stratified sample of large tables).
    n_rows : int
        The rows of the table.
    reason : str
        Why this model, in words.
    estimators : dict
        The unfitted estimator of each member.
    """

    name: str
    members: tuple[str, ...]
    candidates: tuple[CandidateResult, ...]
    selection_rows: int
    n_rows: int
    reason: str
    estimators: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def given(cls, name: str, estimator: Any, n_rows: int) -> ModelChoice:
        """The record of a model the caller chose: no candidates, nothing compared."""
        return cls(name, (name,), (), n_rows, n_rows, "given by the caller", {name: estimator})

    @property
    def model(self) -> Any:
        """The unfitted estimator used, or a tuple of them for an average."""
        members = tuple(self.estimators[m] for m in self.members)
        return members[0] if len(members) == 1 else members

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate: its scores and whether it is in the model used."""
        frame = pd.DataFrame([c.to_dict() for c in self.candidates])
        if frame.empty:
            return frame
        frame.insert(1, "used", frame["name"].isin(self.members))
        return frame

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of the choice."""
        return {
            "name": self.name,
            "members": list(self.members),
            "selection_rows": self.selection_rows,
            "n_rows": self.n_rows,
            "reason": self.reason,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _noise_rate(codes: np.ndarray, pred_probs: np.ndarray) -> float:
    # Imported here: the issues package imports this module through the audit.
    from labelwise.issues.noise import estimate_noise

    return float(estimate_noise(codes, pred_probs, n_bootstrap=0).noise_rate)


def _selection_rows(codes: np.ndarray, limit: int, random_state: Any) -> np.ndarray:
    """All rows, or a stratified sample of ``limit`` rows keeping every class."""
    if codes.size <= limit:
        return np.arange(codes.size)
    splitter = StratifiedShuffleSplit(n_splits=1, train_size=limit, random_state=random_state)
    try:
        sample, _ = next(splitter.split(np.zeros(codes.size), codes))
    except ValueError:  # a class too small to stratify: a plain random sample
        rng = np.random.default_rng(random_state if isinstance(random_state, int) else None)
        sample = rng.choice(codes.size, size=limit, replace=False)
    return np.sort(sample)


def _best_subset(
    outputs: dict[str, np.ndarray], losses: dict[str, float], loss: Callable[[np.ndarray], float]
) -> tuple[tuple[str, ...], float]:
    """The candidate, or equal-weight average of candidates' outputs, with the lowest loss."""
    best_name = min(losses, key=losses.get)
    best, best_loss = (best_name,), losses[best_name]
    for size in range(2, len(outputs) + 1):
        for subset in itertools.combinations(outputs, size):
            value = loss(np.mean([outputs[n] for n in subset], axis=0))
            if value < best_loss * (1 - ENSEMBLE_GAIN):
                best, best_loss = subset, value
    return best, best_loss


def _decide_between(
    outputs: dict[str, np.ndarray],
    losses: dict[str, float],
    loss: Callable[[np.ndarray], float],
    ensemble: bool | None,
    what: str,
    digits: str,
) -> tuple[tuple[str, ...], str]:
    """The members to use and why: every candidate, the best one, or a better average."""
    best = min(losses, key=losses.get)
    if ensemble is True:
        return tuple(outputs), "every candidate averaged (ensemble requested)"
    members, value = (best,), losses[best]
    if ensemble is None and len(outputs) > 1:
        members, value = _best_subset(outputs, losses, loss)
    if len(members) == 1:
        return members, f"lowest out-of-sample {what} ({value:{digits}})"
    return members, (
        f"the average of {', '.join(members)} had a lower out-of-sample {what} "
        f"({value:{digits}}) than the best single model, {best} ({losses[best]:{digits}})"
    )


def _check_some_fit(results: list, failed: dict[str, str]) -> None:
    if not results:
        first = next(iter(failed.values()))
        raise InputError(f"no candidate model could be fit on these data; the first said: {first}")


def _failures(failed: dict[str, str]) -> str:
    """Candidates left out because they could not be fit, for the reason text."""
    if not failed:
        return ""
    return f"; left out, could not be fit: {', '.join(failed)}"


def _ensemble_name(members: Sequence[str]) -> str:
    return members[0] if len(members) == 1 else f"ensemble({'+'.join(members)})"


def choose_model(
    X: Any,
    labels: Any,
    *,
    candidates: Sequence[str] = AUTO_CANDIDATES,
    ensemble: bool | None = None,
    cv: Any = 5,
    classes: Any = None,
    random_state: Any = 0,
    selection_rows: int = SELECTION_ROWS,
    n_jobs: int | None = -1,
    progress: Callable[[int, int], Any] | None = None,
) -> tuple[np.ndarray, ModelChoice]:
    """Cross-validate candidate models and return the best out-of-sample probabilities.

    Every candidate is cross-validated under the same folds; the one with the lowest
    out-of-sample log loss is used, or the equal-weight average of several candidates when
    that is lower still (by at least 0.5%). Tables larger than ``selection_rows`` are compared
    on a stratified sample of that size, and the chosen model(s) are then cross-validated on
    every row.

    Parameters
    ----------
    X : DataFrame, ndarray or sparse matrix
        The features.
    labels : array-like of shape (n,)
        The given labels (any hashable class names).
    candidates : sequence of str, default ("logistic", "boosting", "knn")
        Names from :data:`MODELS`.
    ensemble : bool, optional
        None: choose between single models and averages as above; True: always average every
        candidate; False: only single models.
    cv : int, splitter or iterable, default 5
        Folds, as in :func:`labelwise.predict.cross_val_pred_probs`.
    classes : sequence, optional
        The class order of the output columns.
    random_state : int, default 0
        Seeds the folds, the sample and the trees.
    selection_rows : int, default 10,000
    n_jobs : int, default -1
        Folds fit side by side in threads, one core each; -1 means every core.
    progress : callable, optional
        Called as ``progress(done_fits, total_fits)`` after each model fit.

    Returns
    -------
    pred_probs : ndarray of shape (n, K)
        Out-of-sample probabilities of the model used, for every row.
    choice : ModelChoice
        What was chosen, and every candidate's scores.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.models import choose_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(300, 2))
    >>> y = np.where(X[:, 0] * X[:, 1] > 0, "same", "opposite")  # an XOR: not linear
    >>> probs, choice = choose_model(X, y, candidates=("logistic", "boosting"))
    >>> choice.members
    ('boosting',)
    """
    names = _check_candidates(candidates)
    check_params(_CHOICE_CONSTRAINTS, {"ensemble": ensemble})
    codes, class_names = resolve_classes(labels, classes)
    n = codes.size
    sample = _selection_rows(codes, int(selection_rows), random_state)
    full = sample.size == n
    final_fits = 0 if full else len(names)  # an upper bound: only the chosen are refit
    X_sample = _take(X, sample)
    # The same folds for every candidate, made (and any small-class warning given) once.
    sample_cv = classifier_splits(cv, X_sample, codes[sample], class_names, random_state)
    folds = len(sample_cv)
    counter = _Counter(progress, folds * (len(names) + final_fits))
    y_sample = codes[sample]
    k = class_names.size

    def predict(estimator: Any) -> np.ndarray:
        return _fold_probs(
            estimator, X_sample, y_sample, sample_cv, k, random_state, n_jobs, counter
        )

    def score(name: str, probs: np.ndarray, seconds: float) -> CandidateResult:
        quality = probability_quality(y_sample, probs)
        noise = _noise_rate(y_sample, probs)
        return CandidateResult(name, **quality, noise_rate=noise, seconds=seconds)

    probs, results, estimators, failed = _cross_validate_each(
        names, lambda name: make_model(name, X, random_state=random_state), predict, score, counter
    )
    losses = {r.name: r.log_loss for r in results}
    members, reason = _decide(codes[sample], probs, losses, ensemble)
    reason += _failures(failed)
    if full:
        pred_probs = np.mean([probs[m] for m in members], axis=0)
    else:
        counter.total = folds * (len(names) + len(members))
        every_row = classifier_splits(cv, X, codes, class_names, random_state)
        refits = []
        for m in members:
            refits.append(
                _fold_probs(estimators[m], X, codes, every_row, k, random_state, n_jobs, counter)
            )
            counter.commit()
        pred_probs = np.mean(refits, axis=0)
    choice = ModelChoice(
        name=_ensemble_name(members),
        members=members,
        candidates=tuple(results),
        selection_rows=int(sample.size),
        n_rows=n,
        reason=reason if full else f"{reason} (compared on a stratified {sample.size:,} rows)",
        estimators={m: estimators[m] for m in members},
    )
    return pred_probs, choice


def _decide(
    codes: np.ndarray, probs: dict, losses: dict, ensemble: bool | None
) -> tuple[tuple[str, ...], str]:
    def log_loss(mean: np.ndarray) -> float:
        return probability_quality(codes, mean)["log_loss"]

    return _decide_between(probs, losses, log_loss, ensemble, "log loss", ".3f")


def _fold_probs(
    estimator: Any,
    X: Any,
    codes: np.ndarray,
    cv: list,
    n_classes: int,
    random_state: Any,
    n_jobs: int | None,
    counter: _Counter,
) -> np.ndarray:
    """Out-of-sample probabilities over columns 0..K-1 under the given folds, counted by fold."""
    return cross_val_pred_probs(
        estimator,
        X,
        codes,
        cv=cv,
        classes=np.arange(n_classes),
        random_state=random_state,
        n_jobs=n_jobs,
        progress=counter.fold,
    )


def _check_candidates(candidates: Any, allowed: Sequence[str] = MODELS) -> list[str]:
    if isinstance(candidates, str) or not isinstance(candidates, Sequence):
        raise ConfigError(
            f"candidates must be a list of model names from {list(allowed)}, got {candidates!r}."
        )
    names = list(dict.fromkeys(candidates))
    unknown = [c for c in names if c not in allowed]
    if unknown or not names:
        raise ConfigError(
            f"candidates {unknown or names} are not model names; choose from {list(allowed)}."
        )
    return names


def _cross_validate_each(
    names: list[str],
    build: Callable[[str], Any],
    predict: Callable[[Any], np.ndarray],
    score: Callable[[str, np.ndarray, float], Any],
    counter: _Counter,
) -> tuple[dict[str, np.ndarray], list, dict[str, Any], dict[str, str]]:
    """Each candidate's out-of-sample output and scores; one that cannot fit is left out.

    Returns the outputs and scores of those that fit, every unfitted estimator, and why each
    left-out candidate failed (an error when none fits, or when it was the only one).
    """
    outputs, results, estimators, failed = {}, [], {}, {}
    for name in names:
        estimators[name] = build(name)
        started = time.perf_counter()
        try:
            outputs[name] = predict(estimators[name])
        except InputError as exc:
            if len(names) == 1:
                raise
            failed[name] = str(exc)  # one candidate that cannot fit must not stop the choice
            continue
        finally:
            counter.commit()
        results.append(score(name, outputs[name], _since(started)))
    _check_some_fit(results, failed)
    return outputs, results, estimators, failed


def _take(X: Any, rows: np.ndarray) -> Any:
    if rows.size == _n_rows(X):
        return X
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows]
    if sp.issparse(X):
        return X[rows]
    return np.asarray(X)[rows]


def _since(started: float) -> float:
    return time.perf_counter() - started


class _Counter:
    """Turns each cross-validation's fold count into one running count over every fit."""

    def __init__(self, progress: Callable[[int, int], Any] | None, total: int):
        check_progress(progress)
        self.progress, self.total, self.done, self.current = progress, total, 0, 0

    def fold(self, done: int, total: int) -> None:
        self.current = done
        if self.progress is not None:
            self.progress(self.done + done, max(self.total, self.done + done))

    def commit(self) -> None:
        self.done += self.current
        self.current = 0


def resolve_model(model: Any, X: Any) -> tuple[str, Any]:
    """``("auto", None)``, or a name and an unfitted estimator for anything else ``model`` is."""
    if model is None or (isinstance(model, str) and model == "auto"):
        return "auto", None
    if isinstance(model, str):
        if ":" in model:
            return model, wrap_for_table(load_estimator(model), X)
        return model, make_model(model, X)
    if not hasattr(model, "fit"):
        raise InputTypeError(
            f"model must be 'auto', a model name ({', '.join(MODELS)}), a 'module:Class' path "
            f"or a scikit-learn classifier, got {type(model).__name__}."
        )
    return type(model).__name__, model


def check_features_shape(X: Any, n_rows: int) -> None:
    """Embeddings must have one row per table row."""
    if _n_rows(X) != n_rows:
        raise InputError(
            f"the features have {_n_rows(X)} rows but the table has {n_rows}; embeddings must "
            "hold one row per table row, in the table's order."
        )


# --- regression -----------------------------------------------------------------------------

#: Every named regressor: ``make_regressor(name, X)`` builds it.
REGRESSORS = ("linear", "boosting", "knn", "forest")
#: The regressors ``model="auto"`` compares for a numeric target.
AUTO_REGRESSORS = ("linear", "boosting", "knn")


def make_regressor(name: str, X: Any, *, random_state: Any = 0) -> Any:
    """The named candidate regressor, with the preprocessing ``X`` needs.

    ``linear``: ridge regression (penalty chosen by efficient leave-one-out) on the
    ``logistic`` encoding; ``boosting``: HistGradientBoostingRegressor with native categorical
    support and early stopping; ``knn``: about sqrt(n)/2 neighbours, distance-weighted, on the
    scaled encoding; ``forest``: 200 trees on ordinal-coded columns.

    Examples
    --------
    A numeric matrix is scaled for the neighbours:

    >>> import numpy as np
    >>> from labelwise.models import make_regressor
    >>> [step for step, _ in make_regressor("knn", np.zeros((400, 3))).steps]
    ['standardscaler', 'kneighborsregressor']
    """
    return _named_model(name, X, random_state, regression=True)


def regression_quality(targets: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """R², mean absolute error and root mean squared error of out-of-sample predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.models import regression_quality
    >>> q = regression_quality(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 3.0, 3.5]))
    >>> q["r2"], q["mae"]
    (0.9, 0.25)
    """
    residual = targets - predictions
    total = float(((targets - targets.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else float("nan")
    return {
        "r2": r2,
        "mae": float(np.abs(residual).mean()),
        "rmse": float(np.sqrt((residual**2).mean())),
    }


@dataclass(frozen=True)
class RegressorResult(_Scores):
    """One candidate regressor's out-of-sample quality."""

    name: str
    r2: float
    mae: float
    rmse: float
    seconds: float


def choose_regressor(
    X: Any,
    targets: np.ndarray,
    *,
    candidates: Sequence[str] = AUTO_REGRESSORS,
    ensemble: bool | None = None,
    cv: Any = 5,
    random_state: Any = 0,
    n_jobs: int | None = -1,
    progress: Callable[[int, int], Any] | None = None,
) -> tuple[np.ndarray, ModelChoice]:
    """Cross-validate candidate regressors under the same folds; keep the best or an average.

    The criterion is the out-of-sample mean **absolute** error: a corrupted target makes a
    huge residual under every model, which a squared error would let dominate the comparison,
    while the absolute error adds about the same amount to every candidate. An equal-weight
    average replaces the best single model only when it is better by at least 0.5%.

    Returns
    -------
    predictions : ndarray of shape (n,)
    choice : ModelChoice
        With :class:`RegressorResult` candidates.

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.models import choose_regressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(300, 2))
    >>> y = np.where(X[:, 0] > 0, 5.0, -5.0) + rng.normal(0, 0.1, 300)  # a step: not linear
    >>> predictions, choice = choose_regressor(X, y, candidates=("linear", "boosting"))
    >>> choice.members
    ('boosting',)
    """
    from labelwise.issues.regression import cross_val_predictions

    names = _check_candidates(candidates, REGRESSORS)
    folds = int(cv) if is_integer(cv) else 1
    counter = _Counter(progress, folds * len(names))

    def predict(estimator: Any) -> np.ndarray:
        return cross_val_predictions(
            estimator,
            X,
            targets,
            cv=cv,
            random_state=random_state,
            n_jobs=n_jobs,
            progress=counter.fold,
        )

    def score(name: str, output: np.ndarray, seconds: float) -> RegressorResult:
        return RegressorResult(name, **regression_quality(targets, output), seconds=seconds)

    predictions, results, estimators, failed = _cross_validate_each(
        names,
        lambda name: make_regressor(name, X, random_state=random_state),
        predict,
        score,
        counter,
    )
    errors = {r.name: r.mae for r in results}
    members, reason = _decide_regression(targets, predictions, errors, ensemble)
    reason += _failures(failed)
    choice = ModelChoice(
        name=_ensemble_name(members),
        members=members,
        candidates=tuple(results),
        selection_rows=int(targets.size),
        n_rows=int(targets.size),
        reason=reason,
        estimators={m: estimators[m] for m in members},
    )
    return np.mean([predictions[m] for m in members], axis=0), choice


def _decide_regression(
    targets: np.ndarray, predictions: dict, errors: dict, ensemble: bool | None
) -> tuple[tuple[str, ...], str]:
    def mean_absolute_error(mean: np.ndarray) -> float:
        return float(np.abs(targets - mean).mean())

    return _decide_between(
        predictions, errors, mean_absolute_error, ensemble, "mean absolute error", ".4g"
    )
