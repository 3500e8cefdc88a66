"""Auditing the labels of a table in one call: cross-validated probabilities, issues and noise."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import BOOLEAN, Options, check_params, warn
from labelwise._shared.serialize import json_scalar as _plain
from labelwise._validate import check_choice
from labelwise.errors import ConfigError, InputError, InputTypeError, LabelError, LabelwiseWarning
from labelwise.issues._crossfit import CrossFit, Fitted
from labelwise.issues._stream import row_source
from labelwise.issues.audit_data import check_issue_types, table_data_issues
from labelwise.issues.audit_regression import (
    TASKS,
    RegressionAuditReport,
    detect_task,
    regression_report,
    regression_targets,
    with_table_rows,
)
from labelwise.issues.data_issues import DataIssues
from labelwise.issues.filter import (
    METHODS,
    LabelIssues,
    issues_from_scan,
    scan_for_issues,
)
from labelwise.issues.model_quality import ModelQuality, assess_model
from labelwise.issues.noise import (
    BOOTSTRAP_CONSTRAINTS,
    NoiseEstimate,
    check_bootstrap,
    noise_from_scan,
)
from labelwise.models import AUTO_CANDIDATES, ModelChoice, choose_model, resolve_model
from labelwise.predict import cross_val_pred_probs, resolve_classes

__all__ = ["AuditReport", "audit", "audit_predictions"]

#: Confused (given, true) pairs listed by :meth:`AuditReport.summary` and its repr.
TOP_PAIRS = 5


@dataclass(frozen=True, eq=False)
class AuditReport:
    """The result of :func:`audit`: which labels look wrong, and how noisy the labels are.

    Attributes
    ----------
    issues : LabelIssues
        The flagged examples (``issues.indices`` are row positions in the table).
    noise : NoiseEstimate
        The estimated joint of given and true labels and the noise rate.
    pred_probs : ndarray of shape (n_rows, n_classes)
        The out-of-sample predicted probabilities, columns in ``classes`` order.
    classes : ndarray of shape (n_classes,)
        The class of each ``pred_probs`` column.
    label : str
        The label column.
    features : list of str
        The feature columns the model used.
    model : estimator, tuple of estimators or None
        The unfitted estimator that was cross-validated (a tuple of them for an ensemble;
        None when the probabilities were given).
    n_rows : int
        The number of rows audited.
    model_choice : ModelChoice or None
        Which model was used and how every candidate did out of sample (``model="auto"``),
        or the single model's name when one was given.
    quality : ModelQuality or None
        The out-of-sample accuracy, log loss and calibration error of the probabilities, the
        classes each class is confused with, and plain-words ``doubts`` when the model's own
        errors could explain the noise estimate (``quality.trusted`` is False then).
    data_issues : DataIssues or None
        The other data issues found from the features (``issue_types=`` of :func:`audit`).
    """

    issues: LabelIssues
    noise: NoiseEstimate
    pred_probs: np.ndarray
    classes: np.ndarray
    label: str
    features: list[str]
    model: Any
    n_rows: int
    model_choice: ModelChoice | None = None
    quality: ModelQuality | None = None
    data_issues: DataIssues | None = None
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def model_name(self) -> str | None:
        """The model used: a candidate's name, an ensemble, an estimator's class, or None."""
        if self.model_choice is not None:
            return self.model_choice.name
        return None if self.model is None else type(self.model).__name__

    @property
    def trusted(self) -> bool:
        """False when the model's own errors could explain the noise estimate (see quality)."""
        return self.quality is None or self.quality.trusted

    def to_frame(self, include_features: bool = False) -> pd.DataFrame:
        """The flagged rows as a table, most suspicious first.

        Columns: ``rank`` (1 = most suspicious), ``row`` (position in the table), ``index`` (the
        table's own index value), ``given``, ``suggested`` and ``score``; with
        ``include_features=True`` the row's feature values follow (a feature whose name clashes
        with one of these columns gets a ``feature_`` prefix).
        """
        return with_table_rows(self.issues.to_frame(), self._frame, include_features)

    def summary(self) -> dict:
        """A JSON-ready overview (plain numbers, strings and lists; NaN becomes None)."""
        noise = self.noise
        pairs = noise.confused_pairs(top=TOP_PAIRS)
        return {
            "label": _plain(self.label),
            "features": [_plain(f) for f in self.features],
            "model": self.model_name,
            "n_rows": self.n_rows,
            "n_classes": int(self.classes.size),
            "classes": [_plain(c) for c in self.classes],
            "method": self.issues.method,
            "num_issues": self.issues.num_issues,
            "issue_share": self.issues.num_issues / self.n_rows,
            "noise_rate": _plain(noise.noise_rate),
            "noise_rate_interval": [_plain(v) for v in noise.noise_rate_interval],
            "confidence": noise.confidence,
            "expected_issues": noise.expected_issues,
            "top_confused_pairs": [
                {key: _plain(val) for key, val in record.items()}
                for record in pairs[["given", "true", "count", "share_of_given"]].to_dict(
                    orient="records"
                )
            ],
            "model_choice": None if self.model_choice is None else self.model_choice.summary(),
            "model_quality": None if self.quality is None else self.quality.summary(),
            "trusted": self.trusted,
            "data_issues": None if self.data_issues is None else self.data_issues.summary(),
        }

    def __repr__(self) -> str:
        noise, n = self.noise, self.n_rows
        lo, hi = noise.noise_rate_interval
        interval = "" if np.isnan(lo) else f" [{lo:.1%}, {hi:.1%}] at {noise.confidence:.0%}"
        pairs = noise.confused_pairs(top=TOP_PAIRS)
        confused = ", ".join(
            f"{g!r} -> {t!r}: {c}" for g, t, c in pairs[["given", "true", "count"]].to_numpy()
        )
        return (
            f"AuditReport(label={self.label!r}, n_rows={n}, n_classes={self.classes.size}, "
            f"n_features={len(self.features)}, model={self.model_name})\n"
            f"  issues ({self.issues.method}): {self.issues.num_issues} rows "
            f"({self.issues.num_issues / n:.1%})\n"
            f"  noise rate: {noise.noise_rate:.1%}{interval}, expected issues: "
            f"{noise.expected_issues}\n"
            f"  most confused (given -> true): {confused or 'none'}" + self._quality_lines()
        )

    def _quality_lines(self) -> str:
        if self.quality is None:
            return ""
        q = self.quality
        lines = (
            f"\n  model out of sample: accuracy {q.accuracy:.1%}, log loss {q.log_loss:.3f}, "
            f"calibration error {q.calibration_error:.3f}"
        )
        return lines + "".join(f"\n  caution: {doubt}" for doubt in q.doubts)


def _check_table(table: Any) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputTypeError(
            f"table must be a pandas DataFrame, got {type(table).__name__}; read files with "
            "pandas first (e.g. pd.read_csv(path))."
        )
    if table.shape[0] == 0:
        raise InputError("the table has no rows: there are no labels to audit.")


def _column_list(table: pd.DataFrame) -> str:
    names = [str(c) for c in table.columns]
    return ", ".join(repr(c) for c in names[:20]) + (" ..." if len(names) > 20 else "")


def _labels(table: pd.DataFrame, label: Any) -> pd.Series:
    """The label column, with no missing values."""
    if not isinstance(label, Hashable):
        raise InputTypeError(f"label must be one column name, got {type(label).__name__}.")
    if label not in table.columns:
        close = difflib.get_close_matches(str(label), [str(c) for c in table.columns], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise LabelError(
            f"the table has no label column {label!r}.{hint} Available columns: "
            f"{_column_list(table)}."
        )
    labels = table[label]
    if isinstance(labels, pd.DataFrame):
        raise LabelError(f"the table has several columns named {label!r}; rename all but one.")
    missing = labels.isna().to_numpy()
    if missing.any():
        shown = table.index[missing][:5].tolist()
        raise LabelError(
            f"{int(missing.sum())} of {missing.size} rows have no label in column {label!r} "
            f"(index {shown}{' ...' if missing.sum() > 5 else ''}). Drop them first, e.g. "
            f"table.dropna(subset=[{label!r}]), or fill them in."
        )
    return labels


#: In ``features``, this item stands for every column except the label.
ALL_COLUMNS = "*"


def _is_array_item(item: Any, table: pd.DataFrame) -> bool:
    """Embeddings: an array, a Path, or a ``.npy`` file name that is not a column."""
    if isinstance(item, (np.ndarray, pd.DataFrame)) or hasattr(item, "__array__"):
        return True
    if isinstance(item, Path):
        return True
    return isinstance(item, str) and item.endswith(".npy") and item not in table.columns


def _embedding(item: Any, n_rows: int, position: int, index: pd.Index) -> pd.DataFrame:
    """One embedding matrix as numeric columns ``embedding_0`` (``embedding2_0``...)."""
    if isinstance(item, (str, Path)):
        path = Path(item)
        if not path.is_file():
            raise InputError(f"the features file {str(path)!r} does not exist.")
        try:
            item = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {str(path)!r} as a .npy array: {exc}.") from None
    values = np.asarray(item)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.dtype.kind not in "biuf":
        raise InputTypeError(
            f"embeddings must be a 2-D numeric array (one row per table row), got shape "
            f"{values.shape} of dtype {values.dtype}."
        )
    if values.shape[0] != n_rows:
        raise InputError(
            f"the embeddings have {values.shape[0]} rows but the table has {n_rows}; they must "
            "hold one row per table row, in the table's order."
        )
    if not np.isfinite(values).all():
        raise InputError(
            "the embeddings hold NaN or infinite values; fill or drop those rows first."
        )
    prefix = "embedding" if position == 0 else f"embedding{position + 1}"
    names = [f"{prefix}_{j}" for j in range(values.shape[1])]
    return pd.DataFrame(values, index=index, columns=names)


def _feature_table(table: pd.DataFrame, label: Any, features: Any) -> pd.DataFrame:
    """The model's input: chosen columns, embedding matrices, or both, side by side."""
    if features is None or (isinstance(features, str) and features == ALL_COLUMNS):
        return table[_features(table, label, None)]
    items = [features] if _is_array_item(features, table) or isinstance(features, str) else None
    if items is None:
        try:
            items = list(features)
        except TypeError:
            raise InputTypeError(
                f"features must be column names, an embeddings array or .npy path, or a list "
                f"of these; got {type(features).__name__}."
            ) from None
    arrays = [item for item in items if _is_array_item(item, table)]
    names = [item for item in items if not _is_array_item(item, table)]
    if ALL_COLUMNS in names and ALL_COLUMNS not in table.columns:
        rest = [c for c in names if c != ALL_COLUMNS]
        names = rest + [c for c in table.columns if c != label and c not in rest]
    parts = [table[_features(table, label, names)]] if names else []
    parts += [_embedding(a, table.shape[0], i, table.index) for i, a in enumerate(arrays)]
    if not parts:
        raise InputError("features is empty; name at least one column or pass embeddings.")
    frame = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    if not frame.columns.is_unique:
        raise InputError(
            "an embedding column name clashes with a table column (embedding_0, ...); rename "
            "the table's column."
        )
    return frame


def _features(table: pd.DataFrame, label: Any, features: Any) -> list:
    """The feature columns: as given, or every other column; entirely empty ones are dropped."""
    if features is None:
        chosen = [c for c in table.columns if c != label]
    else:
        chosen = list(dict.fromkeys([features] if isinstance(features, str) else features))
        unknown = [c for c in chosen if c not in table.columns]
        if unknown:
            raise InputError(
                f"features {unknown[:10]} are not columns of the table. Available columns: "
                f"{_column_list(table)}."
            )
        if label in chosen:
            raise InputError(
                f"the label column {label!r} is among the features; remove it, or the model "
                "would copy the labels it should check."
            )
    repeated = [c for c in chosen if (table.columns == c).sum() > 1]
    if repeated:
        raise InputError(
            f"columns {repeated[:10]} appear more than once in the table; rename them."
        )
    empty = [c for c in chosen if table[c].isna().all()]
    if empty:
        # A column with no values carries no information and would break most imputers.
        warn(f"dropping feature columns with no values at all: {empty[:10]}.", LabelwiseWarning)
        chosen = [c for c in chosen if c not in empty]
    if not chosen:
        raise InputError(
            "no usable feature columns are left; the table needs at least one column besides "
            f"the label {label!r} with some values."
        )
    return chosen


def _probabilities(
    X: pd.DataFrame,
    labels: pd.Series,
    model: Any,
    ensemble: bool,
    candidates: Any,
    classes: np.ndarray,
    fit: CrossFit,
) -> Fitted:
    """Out-of-sample probabilities from the chosen (or given) model, and the choice made."""
    name, estimator = resolve_model(model, X)
    if name == "auto" or ensemble:
        if estimator is not None:
            raise ConfigError(
                "ensemble=True averages the 'auto' candidates; it cannot be combined with a "
                f"given model ({name}). Pass candidates=[...] to choose which are averaged."
            )
        if candidates is None:
            candidates = AUTO_CANDIDATES
        return fit.choose(choose_model, X, labels, candidates, ensemble, classes=classes)
    return fit.given(cross_val_pred_probs, name, estimator, X, labels, classes=classes)


def _table_issues(
    table: pd.DataFrame,
    label: Any,
    X: pd.DataFrame,
    wanted: list[str],
    random_state: Any,
    labels: pd.Series | None = None,
    pred_probs: np.ndarray | None = None,
) -> DataIssues | None:
    """The data issues asked for (None when none are), from the table without its label."""
    if not wanted:
        return None
    rest = table.drop(columns=[label])
    return table_data_issues(rest, X, labels, pred_probs, wanted, random_state)


#: The options of :func:`audit` checked before any model runs (``method`` by check_choice, whose
#: message quotes the call as written).
AUDIT_CONSTRAINTS = {
    "n_bootstrap": BOOTSTRAP_CONSTRAINTS["n_bootstrap"],
    "ensemble": [BOOLEAN],
    "task": [Options(TASKS)],
}


def audit(
    table: pd.DataFrame,
    label: str,
    *,
    features: Any = None,
    model: Any = "auto",
    ensemble: bool = False,
    candidates: Any = None,
    task: str = "auto",
    cv: Any = 5,
    method: str = "prune_by_noise_rate",
    classes: Any = None,
    random_state: Any = 0,
    n_bootstrap: int = 500,
    n_jobs: int | None = -1,
    issue_types: Any = "all",
    progress: Callable[[int, int], Any] | None = None,
) -> AuditReport | RegressionAuditReport:
    """Find the rows of a table whose label looks wrong, and estimate how noisy the labels are.

    A model is cross-validated on the features to get out-of-sample probabilities; by default
    (``model="auto"``) several candidates are compared under the same folds and the one, or the
    average of several, with the lowest out-of-sample log loss is used
    (:func:`labelwise.models.choose_model`). Confident learning then flags the suspicious
    labels (:func:`labelwise.find_label_issues`) and estimates the noise
    (:func:`labelwise.estimate_noise`), and the model's own quality is reported beside them
    with plain-words doubts when its errors could explain the estimate (``report.quality``).

    Parameters
    ----------
    table : DataFrame
        One row per example, holding the label column and the feature columns.
    label : str
        The name of the label column. It must have no missing values.
    features : list, optional
        What the model reads: by default every column except ``label``. Items may be column
        names, ``"*"`` (every other column), and embeddings (a 2-D array or a ``.npy`` path with
        one row per table row, e.g. from a text or image model); ``features=emb`` uses the
        embeddings alone, ``features=[emb, "*"]`` beside the table's columns. Columns with no
        values at all are dropped with a :class:`~labelwise.errors.LabelwiseWarning`.
    model : str or classifier, default "auto"
        ``"auto"`` chooses among ``candidates``; a name from :data:`labelwise.models.MODELS`
        (``"logistic"``, ``"boosting"``, ``"knn"``, ``"forest"``); a ``"module:Class"`` path
        (any scikit-learn classifier, behind the default table encoding); or an unfitted
        scikit-learn classifier with ``predict_proba`` that accepts the features as a table.
    ensemble : bool, default False
        Average every candidate's out-of-sample probabilities instead of choosing.
    candidates : sequence of str, optional
        The models ``"auto"`` compares; by default ``("logistic", "boosting", "knn")``, or
        ``("linear", "boosting", "knn")`` for a regression target.
    task : {"auto", "classification", "regression"}, default "auto"
        A numeric label with more than 20 distinct values (non-integer ones, or more than the
        square root of the rows) is audited as a regression target: out-of-sample predictions,
        a per-row uncertainty and the rows whose residual is too large for it
        (:class:`~labelwise.issues.audit_regression.RegressionAuditReport`). ``method`` and
        ``classes`` apply to classification only.
    cv : int, splitter or iterable, default 5
        Cross-validation folds (see :func:`labelwise.predict.cross_val_pred_probs`).
    method : str, default "prune_by_noise_rate"
        How issues are flagged (see :func:`labelwise.find_label_issues`).
    classes : sequence, optional
        The class order; by default the sorted distinct labels (a Categorical's categories).
    random_state : int, default 0
        Seeds the folds, the models and the noise-rate bootstrap.
    n_bootstrap : int, default 500
        Bootstrap replicates of the noise-rate interval (0 to skip it).
    n_jobs : int, default -1
        Folds fit side by side in threads, one core each; -1 means every core, 1 one at a time.
    issue_types : "all", "none" or list of str
        Data issues to look for besides the labels, from
        :data:`labelwise.issues.data_issues.ISSUE_TYPES`: ``near_duplicate``, ``outlier``,
        ``non_iid``, ``class_imbalance``, ``underperforming_group``, ``null`` (all by default;
        ``"none"`` or None runs none). The distance checks read the features as the
        ``logistic`` model encodes them; ``report.data_issues`` holds the results. For a
        numeric target the class-based checks are skipped.
    progress : callable, optional
        Called as ``progress(done_fits, total_fits)`` after each model fit.

    Returns
    -------
    AuditReport or RegressionAuditReport
        ``.to_frame()`` lists the flagged rows, ``.summary()`` gives a JSON-ready overview,
        ``.model_choice`` and ``.quality`` describe the model.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from labelwise.issues.audit import audit
    >>> rng = np.random.default_rng(0)
    >>> size = np.r_[rng.normal(0, 1, 40), rng.normal(4, 1, 40)]
    >>> table = pd.DataFrame({"size": size, "kind": ["small"] * 40 + ["large"] * 40})
    >>> table.loc[3, "kind"] = "large"  # a wrong label
    >>> report = audit(table, "kind", n_bootstrap=0)
    >>> 3 in report.to_frame()["index"].tolist()
    True
    """
    check_choice("method", method, METHODS)
    options = {"n_bootstrap": n_bootstrap, "ensemble": ensemble, "task": task}
    check_params(AUDIT_CONSTRAINTS, options)
    wanted = check_issue_types(issue_types)
    fit = CrossFit(cv, random_state, n_jobs, progress)
    _check_table(table)
    labels = _labels(table, label)
    X = _feature_table(table, label, features)
    kind, why = detect_task(labels) if task == "auto" else (task, f"task={task!r} was given")
    if kind == "regression":
        targets = regression_targets(labels, label)
        regression = regression_report(X, targets, label, model, bool(ensemble), candidates, fit)
        found = _table_issues(table, label, X, wanted, random_state)
        return replace(regression, task_reason=why, data_issues=found)
    _, classes_used = resolve_classes(labels, classes)
    pred_probs, estimator, choice = _probabilities(
        X, labels, model, bool(ensemble), candidates, classes_used, fit
    )
    report = audit_predictions(
        labels,
        pred_probs,
        classes=classes_used,
        method=method,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        label=label,
        choice=choice,
    )
    found = _table_issues(table, label, X, wanted, random_state, labels, report.pred_probs)
    return replace(report, features=list(X.columns), model=estimator, data_issues=found, _frame=X)


def audit_predictions(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Any = None,
    method: str = "prune_by_noise_rate",
    rank_by: str = "self_confidence",
    n_bootstrap: int = 500,
    random_state: Any = 0,
    n_jobs: int | None = None,
    label: str = "label",
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
    choice: ModelChoice | None = None,
) -> AuditReport:
    """Audit labels against out-of-sample probabilities you already have: issues and noise.

    The same as :func:`labelwise.find_label_issues` plus :func:`labelwise.estimate_noise`, from
    one validation and one pass over the rows.

    Parameters
    ----------
    labels, pred_probs, classes, method, rank_by, n_jobs
        As in :func:`labelwise.find_label_issues`.
    n_bootstrap, random_state
        As in :func:`labelwise.estimate_noise`.
    label : str, default "label"
        What the labels are called in reports.
    chunk_rows, memory_limit
        Read ``pred_probs`` in chunks (out of core), as in :func:`labelwise.find_label_issues`.
    progress : callable, optional
        With chunked reading, called as ``progress(pass_name, rows_done, n_rows)``.
    choice : ModelChoice, optional
        How the probabilities were made, when known (:func:`audit` passes it).

    Returns
    -------
    AuditReport
        With ``model=None`` and no features. ``quality`` scores the probabilities against the
        labels (None for chunked input, which is never loaded whole).

    Examples
    --------
    >>> import numpy as np
    >>> from labelwise.issues.audit import audit_predictions
    >>> probs = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9], [.3, .7], [.1, .9]])
    >>> report = audit_predictions(["a", "a", "b", "b", "b", "a"], probs, n_bootstrap=0)
    >>> report.issues.indices.tolist()
    [5]
    """
    check_choice("method", method, METHODS)
    check_bootstrap(n_bootstrap, 0.95)
    source = row_source(
        pred_probs, labels, chunk_rows, memory_limit, progress=progress, n_jobs=n_jobs
    )
    scanned = scan_for_issues(labels, source, classes, method, rank_by)
    issues = issues_from_scan(scanned, method, rank_by)
    checked = scanned.checked
    noise = noise_from_scan(scanned.scan, checked.classes, n_bootstrap, 0.95, random_state)
    quality = None
    if source.whole:
        quality = assess_model(
            checked.labels, checked.pred_probs, checked.classes, issues.mask, choice
        )
    return AuditReport(
        issues=issues,
        noise=noise,
        # Chunked input stays where it is (a path or memory map), never loaded whole.
        pred_probs=checked.pred_probs if source.whole else pred_probs,
        classes=checked.classes,
        label=label,
        features=[],
        model=None,
        n_rows=int(checked.labels.size),
        model_choice=choice,
        quality=quality,
    )
