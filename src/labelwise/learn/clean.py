"""A classifier that finds label issues by confident learning and refits without them.

:class:`CleanClassifier` behaves like cleanlab's ``CleanLearning``: out-of-sample probabilities by
cross-validation, label issues by :func:`labelwise.find_label_issues`, then a final model fit on
the examples that were kept, each kept example of given class k weighted by
``1 / P(given = k | true = k)`` so that the pruned classes keep their apparent size.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from labelwise._params import BOOLEAN, Options, warn
from labelwise.errors import InputError, LabelError, ShapeError, SmallClassWarning
from labelwise.issues import METHODS, LabelIssues, NoiseEstimate, estimate_noise, find_label_issues
from labelwise.learn._base import CheckedParams
from labelwise.predict import cross_val_pred_probs

__all__ = ["CleanClassifier"]

#: The smallest recall P(given = k | true = k) used in a weight, as in the reference (at most 1000).
_MIN_RECALL = 1e-3


def _indexable(X: Any) -> Any:
    """X in a form whose rows can be taken by position, keeping DataFrames and sparse data."""
    if sp.issparse(X):
        # COO, DIA and BSR matrices cannot be indexed by row.
        return X if X.format in ("csr", "csc") else X.tocsr()
    if hasattr(X, "iloc") or isinstance(X, np.ndarray):
        return X
    return np.asarray(X)


def _rows(X: Any, mask: np.ndarray) -> Any:
    """The rows of X where ``mask`` is True, keeping X's type (DataFrame, sparse, array)."""
    return X.iloc[np.flatnonzero(mask)] if hasattr(X, "iloc") else X[np.flatnonzero(mask)]


def _estimator_has(attr: str):
    """For available_if: the fitted model, or else the unfitted one, has ``attr``."""

    def check(self: CleanClassifier) -> bool:
        model = getattr(self, "estimator_", None)
        return hasattr(self._base_estimator() if model is None else model, attr)

    return check


class CleanClassifier(CheckedParams, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier on the examples whose labels confident learning does not flag.

    ``fit`` computes out-of-sample predicted probabilities by cross-validation, flags label
    issues with :func:`labelwise.find_label_issues`, estimates the noise with
    :func:`labelwise.estimate_noise`, and fits a clone of ``estimator`` on the kept examples.

    Parameters
    ----------
    estimator : classifier, optional
        An unfitted scikit-learn classifier with ``predict_proba``; cloned for every fit. The
        default is ``LogisticRegression(max_iter=1000)``.
    cv : int, splitter or iterable, default 5
        Folds for the out-of-sample probabilities, as in :func:`labelwise.cross_val_pred_probs`
        (fewer folds, with a warning, when a class has fewer than ``cv`` examples).
    method : str, default "prune_by_noise_rate"
        The flagging method of :func:`labelwise.find_label_issues`.
    reweight : bool, default True
        Weight each kept example of given class k by ``1 / max(noise_matrix[k, k], 1e-3)``
        (``noise_matrix[k, k]`` = P(given = k | true = k)), as cleanlab's ``CleanLearning``
        does, when the estimator's ``fit`` accepts ``sample_weight``.
    random_state : int, RandomState or None, default 0
        Seeds the fold shuffle.
    n_jobs : int, optional
        Folds fit in parallel (joblib).

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
        The sorted class names.
    label_issues_ : LabelIssues or None
        The flagged examples; None when no class had two examples to cross-validate.
    noise_ : NoiseEstimate or None
        The noise estimate (no bootstrap interval); None when ``label_issues_`` is None.
    pred_probs_ : ndarray (n_examples, n_classes) or None
        The out-of-sample probabilities used, columns in ``classes_`` order.
    sample_weight_ : ndarray (n_examples,)
        The weight each example got in the final fit (0 for flagged ones).
    estimator_ : classifier
        The final model, fit on the kept examples with labels coded as ``0..n_classes-1``.
    n_features_in_, feature_names_in_
        Those of ``estimator_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from labelwise.learn import CleanClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = CleanClassifier(cv=3).fit(X, y)
    >>> model.classes_.tolist(), model.predict(X[:3]).tolist()
    ([0, 1, 2], [0, 0, 0])
    """

    _parameter_constraints: ClassVar[dict] = {"method": [Options(METHODS)], "reweight": [BOOLEAN]}

    label_issues_: LabelIssues | None
    noise_: NoiseEstimate | None

    def __init__(
        self,
        estimator: Any = None,
        *,
        cv: Any = 5,
        method: str = "prune_by_noise_rate",
        reweight: bool = True,
        random_state: Any = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.cv = cv
        self.method = method
        self.reweight = reweight
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _base_estimator(self) -> Any:
        if self.estimator is None:
            return LogisticRegression(max_iter=1000)
        return self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._base_estimator())
        # What X may hold is whatever the wrapped model accepts.
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, pred_probs: Any = None):
        """Find the label issues in ``(X, y)`` and fit the estimator on the other examples.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame (n_examples, ...)
            Features, in whatever form the estimator accepts.
        y : array-like (n_examples,)
            The given (possibly noisy) labels: any hashable class names.
        sample_weight : array-like (n_examples,), optional
            Weights for the final fit, multiplied with the automatic ones (``reweight``). The
            cross-validation that finds the issues does not use them.
        pred_probs : array-like (n_examples, n_classes), optional
            Out-of-sample probabilities, columns in sorted class order; skips cross-validation.

        Returns
        -------
        self
        """
        # Options first, so that a typo fails before the cross-validation runs.
        self._check_params()
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        X = _indexable(X)
        n = X.shape[0] if X.ndim else 0
        if n != y.size:
            raise ShapeError(f"X has {n} rows but y has {y.size} labels; they must match.")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            # sklearn's checks look for "class" in this message.
            raise LabelError(
                f"y holds one class ({self.classes_.tolist()}); a classifier needs at least two."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty(n))
        keep = self._find_issues(X, codes, pred_probs)
        self.sample_weight_ = self._final_weights(codes, keep, sample_weight)
        self.estimator_ = clone(self._base_estimator())
        kwargs = {}
        if has_fit_parameter(self.estimator_, "sample_weight"):
            kwargs["sample_weight"] = self.sample_weight_[keep]
        self.estimator_.fit(_rows(X, keep), codes[keep], **kwargs)
        return self

    def _find_issues(self, X: Any, codes: np.ndarray, pred_probs: Any) -> np.ndarray:
        """Set ``pred_probs_``, ``label_issues_`` and ``noise_``; return the mask of kept rows."""
        self.pred_probs_ = self.label_issues_ = self.noise_ = None
        if pred_probs is None and np.bincount(codes).min() < 2:
            # No model can predict a class out of sample without another example of it.
            warn(
                "a class has a single example, so label issues cannot be found; fitting on "
                "every example.",
                SmallClassWarning,
            )
            return np.ones(codes.size, dtype=bool)
        if pred_probs is None:
            try:
                pred_probs = cross_val_pred_probs(
                    clone(self._base_estimator()),
                    X,
                    codes,
                    cv=self.cv,
                    random_state=self.random_state,
                    n_jobs=self.n_jobs,
                )
            except InputError as exc:
                # The model's own TypeError (X of a type it cannot use) is what sklearn callers
                # expect, not the ValueError that wraps it.
                if isinstance(exc.__cause__, TypeError):
                    raise exc.__cause__ from None
                raise
        self.pred_probs_ = np.asarray(pred_probs, dtype=np.float64)
        if self.pred_probs_.shape != (codes.size, self.classes_.size):
            raise ShapeError(
                f"pred_probs has shape {self.pred_probs_.shape}; expected "
                f"{(codes.size, self.classes_.size)}, one column per class in sorted order."
            )
        self.label_issues_ = find_label_issues(codes, self.pred_probs_, method=self.method)
        self.noise_ = estimate_noise(codes, self.pred_probs_, n_bootstrap=0)
        return ~self.label_issues_.mask

    def _final_weights(self, codes: np.ndarray, keep: np.ndarray, sample_weight: Any) -> np.ndarray:
        weights = np.ones(codes.size) if sample_weight is None else sample_weight.copy()
        if self.reweight and self.noise_ is not None:
            recall = np.maximum(self.noise_.noise_matrix.diagonal(), _MIN_RECALL)
            weights *= 1.0 / recall[codes]
        weights[~keep] = 0.0
        return weights

    @property
    def n_features_in_(self) -> int:
        """The number of features the final model was fit on."""
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The feature names the final model was fit on (when X was a DataFrame)."""
        return self.estimator_.feature_names_in_

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class names of ``X``."""
        check_is_fitted(self, "estimator_")
        return self.classes_[np.asarray(self.estimator_.predict(X), dtype=np.intp)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of ``X``, columns in ``classes_`` order."""
        check_is_fitted(self, "estimator_")
        proba = np.asarray(self.estimator_.predict_proba(X))
        seen = np.asarray(self.estimator_.classes_, dtype=np.intp)
        if seen.size == self.classes_.size:
            return proba
        # A class pruned away entirely gets probability 0.
        out = np.zeros((proba.shape[0], self.classes_.size), dtype=proba.dtype)
        out[:, seen] = proba
        return out

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """The final model's decision function on ``X``.

        Its columns are the classes the final model saw, which are all of ``classes_`` unless
        pruning removed every example of a class.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)
