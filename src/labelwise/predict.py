"""Out-of-sample predicted probabilities by cross-validation, and a default model for tables.

Confident learning needs, for every example, probabilities from a model that never saw that
example's label. :func:`cross_val_pred_probs` produces them with K-fold cross-validation;
:func:`default_model` builds a reasonable classifier for a table of numeric and categorical
columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.parallel import Parallel, delayed

from labelwise._parallel import one_blas_thread, one_openmp_thread, resolve_n_jobs
from labelwise._params import is_integer, warn
from labelwise._validate import check_pred_probs, encode_labels
from labelwise.errors import (
    ConfigError,
    InputError,
    InputTypeError,
    LabelError,
    ShapeError,
    SmallClassWarning,
)

__all__ = ["cross_val_pred_probs", "default_model"]

ProgressCallback = Callable[[int, int], Any]
#: Most one-hot columns per text column in :func:`default_model`; rarer values share one column.
MAX_CATEGORIES = 100


def resolve_classes(labels: Any, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Code ``labels`` as 0..K-1 and return ``(codes, classes)``.

    With ``classes`` the columns follow its order. Without it the classes follow
    :func:`labelwise._validate.encode_labels`: a pandas Categorical's categories, integer labels
    that already are 0..K-1, or else the sorted distinct labels.
    """
    if classes is not None:
        return encode_labels(labels, len(_as_list(classes, "classes")), classes)
    categories = getattr(getattr(labels, "dtype", None), "categories", None)
    if categories is not None:
        return encode_labels(labels, len(categories))
    try:
        n_classes = pd.Series(np.asarray(labels, dtype=object).ravel()).nunique()
    except TypeError:  # unhashable labels: encode_labels explains what is wrong with them
        n_classes = 2
    return encode_labels(labels, n_classes)


def _sized(values: Any) -> bool:
    return hasattr(values, "__len__") and not isinstance(values, (str, bytes))


def _as_list(values: Any, name: str) -> list:
    if not _sized(values):
        raise InputTypeError(f"{name} must be a list of class names, got {type(values).__name__}.")
    return list(values)


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    if not _sized(X):
        raise InputTypeError(
            f"X must be an array-like or DataFrame with one row per example, got "
            f"{type(X).__name__}."
        )
    return len(X)


def _rows(X: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` of X, by position, keeping X's type (DataFrame, sparse matrix, array)."""
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def fit_on_fold(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    one_core: bool,
    method: str,
) -> tuple[Any, np.ndarray]:
    """Fit a clone of ``estimator`` on the ``train`` rows and apply ``method`` to the ``test`` rows.

    Parameters
    ----------
    estimator : estimator
        Unfitted; it is cloned, so it stays unfitted.
    X : array-like, sparse matrix or DataFrame
        Indexable by row position (see :func:`rows_matching`).
    y : ndarray
        The targets of every row.
    train, test : ndarray of int
        Row positions.
    one_core : bool
        Keep the fit on one OpenMP thread, for folds running side by side in threads.
    method : str
        The fitted model's method whose output is wanted, e.g. ``"predict_proba"``.

    Returns
    -------
    model : estimator
        The fitted clone.
    output : ndarray
        ``method``'s output on the ``test`` rows.
    """
    model = clone(estimator)
    # Folds running side by side in threads take one core each (see one_openmp_thread).
    with one_openmp_thread() if one_core else contextlib.nullcontext():
        model.fit(_rows(X, train), y[train])
        output = np.asarray(getattr(model, method)(_rows(X, test)))
    return model, output


def _check_estimator(estimator: Any) -> None:
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise InputTypeError(
            f"estimator must be a scikit-learn style classifier (with fit, predict_proba and "
            f"get_params), got {type(estimator).__name__}. Use e.g. "
            "labelwise.predict.default_model(X)."
        )
    if not hasattr(estimator, "predict_proba"):
        raise InputTypeError(
            f"{type(estimator).__name__} has no predict_proba, and confident learning needs "
            "probabilities. Use a probabilistic classifier (e.g. LogisticRegression), wrap this "
            "one in sklearn.calibration.CalibratedClassifierCV, or set its probability option "
            "(e.g. SVC(probability=True))."
        )


def _stratified(n_splits: Any, codes: np.ndarray, classes: np.ndarray, random_state: Any):
    """StratifiedKFold with as many folds as the smallest class allows, at most ``n_splits``.

    Every training part then holds every class; a class of a single example cannot be both
    trained on and predicted out of sample, so it is an error.
    """
    if isinstance(n_splits, bool) or n_splits < 2:
        raise ConfigError(f"cv must be at least 2 folds, got cv={n_splits!r}.")
    counts = np.bincount(codes, minlength=classes.size)
    present = counts > 0
    if np.count_nonzero(present) < 2:
        raise LabelError(
            f"labels hold a single class ({classes[present].tolist()}); a classifier needs at "
            "least two classes to learn from."
        )
    smallest = int(counts[present].min())
    rare = [c.item() if hasattr(c, "item") else c for c in classes[present & (counts == smallest)]]
    if smallest < 2:
        raise InputError(
            f"class {rare[:5]} has a single example, so no model can learn it and predict it out "
            "of sample. Fix or drop that row (it is often itself a label error), merge the class "
            "into another, or pass a splitter (e.g. cv=KFold(5, shuffle=True)) to predict it "
            "with a model that never saw its class."
        )
    if smallest < n_splits:
        warn(
            f"class {rare[:5]} has only {smallest} examples, fewer than cv={n_splits} folds; "
            f"using {smallest} folds so that every class is in every training part. Pass "
            f"cv={smallest} to silence this, or a splitter object to keep more folds.",
            SmallClassWarning,
        )
    return StratifiedKFold(min(n_splits, smallest), shuffle=True, random_state=random_state)


def classifier_splits(
    cv: Any, X: Any, codes: np.ndarray, classes: np.ndarray, random_state: Any
) -> list:
    """The (train, test) index pairs of a classifier's cross-validation.

    An int ``cv`` gives shuffled stratified folds, fewer when a class is too small for ``cv``
    of them (with a :class:`~labelwise.errors.SmallClassWarning`); a splitter or a list of
    pairs is used as given. The test parts must cover every row exactly once.

    Parameters
    ----------
    cv : int, splitter or iterable
    X : array-like, sparse matrix or DataFrame
    codes : ndarray of int
        The labels as codes 0..K-1.
    classes : ndarray (K,)
        The class names, for messages.
    random_state : int, RandomState or None
        Seeds the fold shuffle when ``cv`` is an int.

    Returns
    -------
    list of (ndarray, ndarray)
    """
    splitter = None
    if is_integer(cv):
        splitter = _stratified(int(cv), codes, classes, random_state)
    return cv_splits(cv, X, codes, splitter)


def cv_splits(cv: Any, X: Any, y: np.ndarray, splitter: Any = None) -> list:
    """The (train, test) pairs of ``splitter``, or of ``cv`` (a splitter or pairs) as given.

    The test parts must cover every row exactly once, or a :class:`ConfigError` says why not.
    """
    if splitter is None:
        try:
            splitter = check_cv(cv, y)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"cv={cv!r} is not usable ({exc}); pass a number of folds, a scikit-learn "
                "splitter (e.g. KFold(5, shuffle=True)) or a list of (train, test) index arrays."
            ) from None
    try:
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y)]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"the cv splitter {splitter!r} failed to split the data ({exc}). Splitters that "
            "need groups are not supported here; pass the splits as a list of (train, test) "
            "index arrays instead."
        ) from None
    _check_partition(splits, y.size)
    return splits


def _check_partition(splits: list, n: int) -> None:
    if not splits:
        raise ConfigError("cv produced no splits; it must yield at least one (train, test) pair.")
    seen = np.zeros(n, dtype=np.intp)
    for train, test in splits:
        for part in (train, test):
            if part.dtype.kind not in "iu" or (part.size and (part.min() < 0 or part.max() >= n)):
                raise ConfigError(
                    f"cv yielded indices that are not row positions 0..{n - 1}; splits must be "
                    "integer index arrays."
                )
        np.add.at(seen, test, 1)
    if (seen != 1).any():
        missed, twice = int(np.count_nonzero(seen == 0)), int(np.count_nonzero(seen > 1))
        raise ConfigError(
            f"cv must put every row in exactly one test part, but {missed} rows are in none and "
            f"{twice} in several. Use a K-fold splitter (KFold, StratifiedKFold, GroupKFold with "
            "splits precomputed), not ShuffleSplit-like ones."
        )


def _fit_fold(
    estimator: Any,
    X: Any,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    threaded: bool = False,
):
    """Fit a clone on ``train`` and return its probabilities for ``test`` with its classes."""
    model, proba = fit_on_fold(estimator, X, codes, train, test, threaded, "predict_proba")
    # Without classes_ a fitted classifier follows the sklearn convention: sorted training labels.
    fold_classes = np.asarray(getattr(model, "classes_", np.unique(codes[train])))
    return test, proba.astype(np.float64, copy=False), fold_classes


def check_progress(progress: Any) -> None:
    """A progress callback must be callable as ``progress(done, total)``, or None."""
    if progress is not None and not callable(progress):
        raise InputTypeError(
            f"progress must be a callable progress(done, total), got {type(progress).__name__}."
        )


def rows_matching(X: Any, size: int, what: str) -> Any:
    """X, indexable by row position, after checking it has one row per entry of ``what``."""
    n = _n_rows(X)
    if n != size:
        raise ShapeError(
            f"X has {n} rows but {what} has {size} entries; they must describe the same rows, "
            "the same examples in the same order."
        )
    if not hasattr(X, "iloc") and not sp.issparse(X) and not isinstance(X, np.ndarray):
        X = np.asarray(X)  # lists index by position only once they are arrays
    return X


def run_folds(
    fit_fold: Callable[..., Any],
    estimator: Any,
    X: Any,
    y: np.ndarray,
    splits: list,
    *,
    n_jobs: int | None,
    progress: ProgressCallback | None,
    one_core: bool = False,
    hint: str = "",
) -> Iterator[Any]:
    """Each fold's ``fit_fold(estimator, X, y, train, test, one_core)``, in fold order.

    Folds run side by side in ``n_jobs`` threads (scikit-learn's estimators release the GIL
    while they fit), each on one core, with BLAS on one thread; ``progress(done, total)`` is
    called after each. A fit that fails on bad input becomes one clear :class:`InputError`.
    """
    threads = min(resolve_n_jobs(1 if n_jobs is None else n_jobs), len(splits))
    # A list, not a generator: joblib would otherwise draw the jobs from its dispatch thread,
    # where scikit-learn's configuration does not follow them.
    jobs = [
        delayed(fit_fold)(estimator, X, y, train, test, one_core or threads > 1)
        for train, test in splits
    ]
    # For model fits on modest matrices a multithreaded BLAS mostly synchronizes.
    with one_blas_thread():
        results = Parallel(n_jobs=threads, prefer="threads", return_as="generator")(jobs)
        try:
            for done in range(1, len(splits) + 1):
                try:
                    result = next(results)
                except (TypeError, ValueError) as exc:
                    raise InputError(
                        f"{type(estimator).__name__} could not be fit or predict on fold {done} "
                        f"of {len(splits)}: {exc}. Check that X holds what the model expects "
                        f"(numbers, no missing values for most models). {hint}".rstrip()
                    ) from exc
                yield result
                if progress is not None:
                    progress(done, len(splits))
        finally:
            # Folds still running in other threads finish before an error leaves here.
            results.close()


def _place(out: np.ndarray, test: np.ndarray, proba: np.ndarray, fold_classes: np.ndarray) -> None:
    """Write a fold's columns into the classes they belong to; absent classes keep 0."""
    n_classes = out.shape[1]
    if (
        proba.shape != (test.size, fold_classes.size)
        or fold_classes.dtype.kind not in "iu"
        or (fold_classes.size and (fold_classes.min() < 0 or fold_classes.max() >= n_classes))
    ):
        raise InputError(
            f"the estimator's predict_proba returned shape {proba.shape} with classes_ "
            f"{fold_classes.tolist()[:10]} for {test.size} rows; expected one column per class "
            "it was fit on, in classes_ order, as scikit-learn classifiers do."
        )
    out[np.ix_(test, fold_classes)] = proba


def cross_val_pred_probs(
    estimator: Any,
    X: Any,
    labels: Any,
    *,
    cv: Any = 5,
    classes: Any = None,
    random_state: Any = 0,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Out-of-sample predicted probabilities for every example, by K-fold cross-validation.

    Each example's row comes from a clone of ``estimator`` fit on the other folds, so it never
    saw that example's label: the input :func:`labelwise.find_label_issues` expects.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn style classifier with ``predict_proba``; it is cloned per fold.
    X : array-like, sparse matrix or DataFrame of shape (n_examples, ...)
        The features, in whatever form ``estimator`` accepts.
    labels : array-like of shape (n_examples,)
        The given labels: any hashable class names (strings included).
    cv : int, splitter or iterable, default 5
        An int gives ``StratifiedKFold(cv, shuffle=True, random_state=random_state)``, with fewer
        folds (and a :class:`~labelwise.errors.SmallClassWarning`) when a class has fewer than
        ``cv`` examples. A splitter object (``KFold(...)``) or an iterable of (train, test) index
        arrays is used as given; its test parts must cover every row exactly once.
    classes : sequence, optional
        The class of each output column. By default, as in :func:`labelwise.find_label_issues`:
        a Categorical's categories, integer labels 0..K-1 as they are, else the sorted labels.
    random_state : int, RandomState or None, default 0
        Seeds the fold shuffle when ``cv`` is an int.
    n_jobs : int, optional
        Folds fit side by side in threads, each on one core (scikit-learn's estimators release
        the GIL while they fit); -1 means every core. None means 1.
    progress : callable, optional
        Called as ``progress(done_folds, total_folds)`` after each fold finishes.

    Returns
    -------
    ndarray of float64, shape (n_examples, n_classes)
        Column ``k`` is class ``classes[k]``. A class missing from a fold's training part gets
        probability 0 for that fold's test rows; every row sums to 1.

    Raises
    ------
    InputTypeError
        When ``estimator`` has no ``predict_proba``.
    InputError
        When a class has a single example (with an int ``cv``) or the model cannot be fit.
    ConfigError
        When ``cv`` is invalid or its test parts do not cover every row exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from labelwise.predict import cross_val_pred_probs
    >>> X = np.array([[0.0], [0.1], [0.2], [0.3], [1.0], [1.1], [1.2], [1.3]])
    >>> labels = ["low"] * 4 + ["high"] * 4
    >>> probs = cross_val_pred_probs(LogisticRegression(), X, labels, cv=2)
    >>> probs.shape, bool(np.allclose(probs.sum(axis=1), 1))
    ((8, 2), True)
    """
    _check_estimator(estimator)
    check_progress(progress)
    codes, names = resolve_classes(labels, classes)
    X = rows_matching(X, codes.size, "labels")
    splits = classifier_splits(cv, X, codes, names, random_state)
    out = np.zeros((codes.size, names.size), dtype=np.float64)
    hint = "labelwise.predict.default_model(X) handles mixed tables with missing values."
    for test, proba, fold_classes in run_folds(
        _fit_fold, estimator, X, codes, splits, n_jobs=n_jobs, progress=progress, hint=hint
    ):
        _place(out, test, proba, fold_classes)
    # Surfaces NaN or unnormalized model output as a clear ProbabilityError.
    return check_pred_probs(out).astype(np.float64, copy=False)


def categories_as_text(frame: pd.DataFrame) -> np.ndarray:
    """Categorical columns as strings with np.nan for missing values.

    SimpleImputer only recognises np.nan as missing (not None or pd.NA), and OneHotEncoder
    refuses columns that mix strings, numbers and booleans; text categories avoid both.

    Parameters
    ----------
    frame : DataFrame
        The categorical columns.

    Returns
    -------
    ndarray of object
    """
    values = np.asarray(frame, dtype=object)
    missing = pd.isna(values)
    text = values.astype(str).astype(object)
    text[missing] = np.nan
    return text


# Pipelines pickled with an earlier release refer to the function by this name.
_as_text = categories_as_text


def column_kinds(frame: pd.DataFrame) -> tuple[list, list]:
    """The numeric and the categorical columns of a table, by name.

    Booleans, categoricals, objects and strings are categorical; other numbers (not complex) are
    numeric. Any other column type is an :class:`InputTypeError`.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    numeric, categorical : list
    """
    numeric, categorical, other = [], [], []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            categorical.append(name)
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            numeric.append(name)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            categorical.append(name)
        else:
            other.append(name)
    if other:
        raise InputTypeError(
            f"columns {other[:10]} have types the default model cannot use "
            f"({sorted({str(frame[c].dtype) for c in other})}). Convert them to numbers (e.g. "
            "dates to day counts) or leave them out of the features."
        )
    return numeric, categorical


def _classifier() -> LogisticRegression:
    return LogisticRegression(max_iter=1000)


def default_model(frame_or_X: Any) -> Pipeline:
    """A default probabilistic classifier for a table of numeric and categorical columns.

    For a DataFrame: numeric columns are median-imputed and standardized; boolean, categorical,
    object and string columns are imputed with their most frequent value and one-hot encoded
    (at most :data:`MAX_CATEGORIES` columns each, the rarest values sharing one; categories
    unseen in training are ignored). For a numeric array or sparse matrix: a
    standard scaler. Both end in ``LogisticRegression(max_iter=1000)``, whose log-loss fit gives
    reasonably calibrated out-of-sample probabilities, fits in seconds with one deterministic
    model per fold, and needs no tuning; tree ensembles rank well but their probabilities are
    often over- or under-confident, which shifts confident-learning thresholds.

    Parameters
    ----------
    frame_or_X : DataFrame, ndarray or sparse matrix
        The features the model will be fit on (only their columns and types are read).

    Returns
    -------
    Pipeline
        An unfitted scikit-learn pipeline.

    Examples
    --------
    >>> import pandas as pd
    >>> from labelwise.predict import default_model
    >>> frame = pd.DataFrame({"size": [1.0, 2.5, None], "color": ["red", "blue", "red"]})
    >>> default_model(frame).steps[-1][1]
    LogisticRegression(max_iter=1000)
    """
    if isinstance(frame_or_X, pd.DataFrame):
        return _table_model(frame_or_X)
    if sp.issparse(frame_or_X):
        # Centering would densify a sparse matrix.
        return make_pipeline(StandardScaler(with_mean=False), _classifier())
    try:
        arr = np.asarray(frame_or_X)
    except (TypeError, ValueError):
        arr = np.asarray([], dtype=object)
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"default_model needs a DataFrame or a numeric array, got "
            f"{type(frame_or_X).__name__} of dtype {arr.dtype}. Put mixed or text columns in a "
            "pandas DataFrame so that they can be one-hot encoded."
        )
    return make_pipeline(StandardScaler(), _classifier())


def table_preprocessor(frame: pd.DataFrame, dense: bool = False) -> ColumnTransformer:
    """The default encoding of a table: scaled numbers, one-hot categories, missing imputed.

    Numeric columns are median-imputed and standardized; boolean, categorical, object and
    string columns are imputed with their most frequent value and one-hot encoded (at most
    :data:`MAX_CATEGORIES` columns each, the rarest values sharing one; categories unseen in
    training are ignored). ``dense=True`` returns a dense array (distance-based models are
    much slower on sparse input).
    """
    if frame.shape[1] == 0:
        raise InputError("the table has no feature columns; the model needs at least one.")
    if not frame.columns.is_unique:
        duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise InputError(f"feature columns {duplicated[:10]} appear more than once; rename them.")
    numeric, categorical = column_kinds(frame)
    parts = []
    if numeric:
        numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        parts.append(("numeric", numbers, numeric))
    if categorical:
        categories = make_pipeline(
            FunctionTransformer(categories_as_text, feature_names_out="one-to-one"),
            SimpleImputer(strategy="most_frequent"),
            # An ID-like text column would add one column per row; the rarest values share one.
            OneHotEncoder(
                handle_unknown="ignore", max_categories=MAX_CATEGORIES, sparse_output=not dense
            ),
        )
        parts.append(("categorical", categories, categorical))
    return ColumnTransformer(parts, sparse_threshold=0.0 if dense else 0.3)


def _table_model(frame: pd.DataFrame) -> Pipeline:
    return Pipeline([("columns", table_preprocessor(frame)), ("classifier", _classifier())])
