"""Finding the examples whose given label is wrong, from out-of-sample predicted probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import warn
from labelwise.errors import ConfigError, SmallClassWarning
from labelwise.issues._counting import (
    ConfidentPass,
    raise_diagonal,
    round_preserving_row_totals,
    smallest_n,
)
from labelwise.issues._options import (
    FLAGGING_METHODS,
    LOW_SCORE_METHODS,
    check_flagging_options,
)
from labelwise.issues._passes import Scanned, pruned_rows, scan_source
from labelwise.issues._sparse import calibrate, prune, rescale_sparse
from labelwise.issues._stream import row_source

__all__ = ["METHODS", "LabelIssues", "find_label_issues"]

#: The names accepted by ``method``, default first.
METHODS = (*FLAGGING_METHODS, "pervasive2021")
_RANKED = (*LOW_SCORE_METHODS, "pervasive2021")
#: The small classes a warning names before it says how many more there are.
SHOWN_SMALL_CLASSES = 5


def engine_options(
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
) -> dict:
    """The options every flagging path hands down, in one place."""
    return {
        "min_examples_per_class": min_examples_per_class,
        "frac_noise": frac_noise,
        "num_to_remove_per_class": num_to_remove_per_class,
    }


def rank_flagged(mask: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Flagged rows, lowest score first; equal scores keep row order."""
    flagged = np.flatnonzero(mask)
    return flagged[np.argsort(scores[flagged], kind="stable")]


class FlaggedRows:
    """What every result of flagged examples shares: one count, its length, a short repr."""

    mask: np.ndarray
    indices: np.ndarray
    method: str
    rank_by: str

    @property
    def num_issues(self) -> int:
        """How many examples this method flags: ``mask.sum()``, the one count it reports."""
        return int(self.indices.size)

    def __len__(self) -> int:
        return self.num_issues

    def _tidy(self, columns: dict[str, np.ndarray], all_rows: bool) -> pd.DataFrame:
        """``columns`` (one value per example) for the flagged rows, most suspicious first,
        after ``rank`` and ``row``; or for every row, in input order, with ``is_issue`` and
        ``rank`` (missing for unflagged rows) at the end."""
        if all_rows:
            rank = pd.array([pd.NA] * self.mask.size, dtype="Int64")
            rank[self.indices] = np.arange(1, self.num_issues + 1)
            frame = {"row": np.arange(self.mask.size), **columns}
            return pd.DataFrame({**frame, "is_issue": self.mask, "rank": rank})
        rows = self.indices
        picked = {name: values[rows] for name, values in columns.items()}
        return pd.DataFrame({"rank": np.arange(1, rows.size + 1), "row": rows, **picked})

    def __repr__(self) -> str:
        n = self.mask.size
        return (
            f"{type(self).__name__}(method={self.method!r}, num_issues={self.num_issues} of {n} "
            f"({self.num_issues / n:.2%}), rank_by={self.rank_by!r})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class LabelIssues(FlaggedRows):
    """The examples whose given label looks wrong, and why.

    Attributes
    ----------
    mask : ndarray of bool, shape (n_examples,)
        True where the label is flagged as an issue.
    indices : ndarray of int
        Rows of the flagged examples, most suspicious (lowest score) first; ties keep row order.
    scores : ndarray of float, shape (n_examples,)
        The label-quality score of every example (method ``rank_by``; lower = more suspicious).
    suggested : ndarray, shape (n_examples,)
        The most likely true label of every example (the model's top class), as a class name.
    given : ndarray, shape (n_examples,)
        The given labels, as class names.
    classes : ndarray, shape (n_classes,)
        The class of each ``pred_probs`` column.
    method, rank_by : str
        The flagging method and the score used for ranking.
    given_codes, suggested_codes : ndarray of int
        ``given`` and ``suggested`` as column indices (names are made from them on access).
    """

    mask: np.ndarray
    indices: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    method: str
    rank_by: str
    given_codes: np.ndarray = field(repr=False)
    suggested_codes: np.ndarray = field(repr=False)

    @property
    def given(self) -> np.ndarray:
        """The given label of every example, as a class name."""
        return self.classes[self.given_codes]

    @property
    def suggested(self) -> np.ndarray:
        """The most likely true label of every example (the model's top class)."""
        return self.classes[self.suggested_codes]

    def to_frame(self, *, all_rows: bool = False) -> pd.DataFrame:
        """A tidy table: one row per flagged example, most suspicious first.

        Columns: ``rank`` (1 = most suspicious), ``row`` (position in the input), ``given``,
        ``suggested`` and ``score``. With ``all_rows=True`` every example is listed in input
        order, with ``is_issue`` and ``rank`` (missing for unflagged rows).
        """
        columns = {"given": self.given, "suggested": self.suggested, "score": self.scores}
        return self._tidy(columns, all_rows)


def _wanted_per_class(
    prune: np.ndarray, label_counts: np.ndarray, num_to_remove: Any
) -> np.ndarray:
    """Rescale R so that each given class k loses ``num_to_remove[k]`` examples."""
    target = np.asarray(num_to_remove, dtype=float)
    if target.shape != label_counts.shape or (target < 0).any():
        raise ConfigError(
            f"num_to_remove_per_class needs one count >= 0 per class ({label_counts.size}), "
            f"got {num_to_remove!r}."
        )
    if not isinstance(prune, np.ndarray):
        return rescale_sparse(prune, label_counts, target)
    share = prune / np.sum(prune, axis=1)
    noise = share.sum(axis=1) - share.diagonal()
    scaled = (share.T * target / noise).T
    np.fill_diagonal(scaled, label_counts - target)
    return round_preserving_row_totals(scaled)


def _pervasive_count(scan: ConfidentPass, n: int) -> int:
    # The diagonal is raised to 1 only for classes that occur: an empty class must not add a
    # phantom example to the count (the reference raises all, which changes nothing else here).
    present = scan.label_counts > 0
    if not isinstance(scan.cells, np.ndarray):
        joint = raise_diagonal(scan.cells[:, :-1], present)
        return int(np.floor(n * (1 - joint.diagonal().sum() / joint.sum())))
    joint = scan.cells[:, :-1].copy()
    diagonal = joint.diagonal().copy()
    diagonal[present] = np.maximum(diagonal[present], 1)
    np.fill_diagonal(joint, diagonal)
    return int(np.floor(n * (1 - np.trace(joint) / joint.sum())))


def _flag(
    labels: np.ndarray,
    method: str,
    scan: ConfidentPass,
    score: Callable[[str], np.ndarray],
    pruned: Callable[[np.ndarray, bool], np.ndarray],
    options: dict,
) -> np.ndarray:
    """The mask of ``method``; rows are read only through ``score`` and ``pruned``."""
    n = labels.size
    if method == "confident_learning":
        mask = np.zeros(n, dtype=bool)
        mask[scan.off_diagonal] = True
    elif method == "predicted_neq_given":
        mask = scan.predicted != labels
    elif method in _RANKED:
        mask = np.zeros(n, dtype=bool)
        mask[smallest_n(score(_selection_score(method)), _ranked_count(method, scan, n))] = True
        return mask
    else:
        counts = scan.label_counts
        calibrated = calibrate(scan.confident_joint, counts)
        kept = prune(calibrated, options["min_examples_per_class"], options["frac_noise"])
        if options["num_to_remove_per_class"] is not None:
            kept = _wanted_per_class(kept, counts, options["num_to_remove_per_class"])
        mask = np.ones(n, dtype=bool)
        if method in ("prune_by_class", "both"):
            mask &= pruned(kept, True)
        if method in ("prune_by_noise_rate", "both"):
            mask &= pruned(kept, False)
    # Rule 6: never flag an example whose (edged) prediction is its given label.
    mask &= ~scan.given_wins
    return mask


def _selection_score(method: str) -> str | None:
    if method not in _RANKED:
        return None
    return "self_confidence" if method == "low_self_confidence" else "normalized_margin"


def _ranked_count(method: str, scan: ConfidentPass, n: int) -> int:
    if method == "pervasive2021":
        return _pervasive_count(scan, n)
    off = np.zeros(n, dtype=bool)
    off[scan.off_diagonal] = True
    return int(np.count_nonzero(off & ~scan.given_wins))


def _checked_classes(counts: np.ndarray, minimum: int) -> list[int]:
    """Classes whose labels are checked; one warning names those too small to check."""
    small = np.flatnonzero((counts > 0) & (counts <= minimum))
    if small.size:
        shown = ", ".join(f"{k} ({counts[k]})" for k in small[:SHOWN_SMALL_CLASSES])
        more = small.size - SHOWN_SMALL_CLASSES
        more = f" and {more} more" if more > 0 else ""
        warn(
            f"{small.size} class(es) have at most min_examples_per_class={minimum} examples, "
            f"so their labels are not checked: column {shown}{more}.",
            SmallClassWarning,
        )
    # The reference never flags the single member of a class, whatever the minimum.
    return [k for k, n_k in enumerate(counts) if n_k > max(minimum, 1)]


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    method: str = "prune_by_noise_rate",
    *,
    classes: Any = None,
    rank_by: str = "self_confidence",
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    n_jobs: int | None = None,
    chunk_rows: int | None = None,
    memory_limit: int | str | None = None,
) -> LabelIssues:
    """Find the examples whose given label is likely wrong (confident learning).

    Parameters
    ----------
    labels : array-like of shape (n_examples,)
        The given labels: integers 0..K-1, or any hashable class names (strings included).
    pred_probs : array-like of shape (n_examples, n_classes)
        Out-of-sample predicted probabilities (each row sums to 1), for example from
        :func:`labelwise.cross_val_pred_probs`. A DataFrame's columns name the classes.
    method : str, default "prune_by_noise_rate"
        - ``prune_by_noise_rate``: from each given class k, flag the R[j, k] examples with the
          largest margin ``p_j - p_k`` toward each other class j (R: the calibrated confident
          joint, pruned).
        - ``prune_by_class``: from each class k, flag its ``n_k - R[k, k]`` lowest ``p_k``.
        - ``both``: flagged by both of the above.
        - ``confident_learning``: the examples counted off the diagonal of the confident joint.
        - ``predicted_neq_given``: the model's top class differs from the given label.
        - ``low_self_confidence`` / ``low_normalized_margin``: the lowest-scoring examples, as
          many as ``confident_learning`` flags.
        - ``pervasive2021``: the configuration of the 2021 test-set study: as many as
          ``floor(N * (1 - trace(C / sum(C))))`` for the uncalibrated confident joint C, the
          lowest normalized margins first.
        Every method except the three ranked ones never flags an example whose top class
        (with a 1e-6 edge for the given label) is its given label.
    classes : sequence, optional
        The class of each ``pred_probs`` column. By default, integer labels 0..K-1 index the
        columns and other labels name them in sorted order.
    rank_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The score that orders ``indices`` and fills ``scores``.
    min_examples_per_class : int, default 1
        Pruning leaves at least this many examples in each class; a class with no more than this
        many examples is not checked (with a :class:`~labelwise.errors.SmallClassWarning`).
    frac_noise : float, default 1.0
        Pruning methods flag only this fraction of the estimated noise in each class.
    num_to_remove_per_class : sequence of int, optional
        Pruning methods flag exactly this many examples per given class (before rule 6).
    n_jobs : int, optional
        Threads to use (default: every core). Results do not depend on it.
    chunk_rows : int, optional
        Read ``pred_probs`` in chunks of this many rows, never holding it whole (out of core).
        Implied when ``pred_probs`` is a path (``.npy``, memory-mapped, or ``.parquet``) or an
        ``np.memmap``. Results are identical to the in-memory ones for any chunk size.
    memory_limit : int or str, optional
        A working-memory budget such as ``"1GB"``, from which ``chunk_rows`` is chosen.

    Returns
    -------
    LabelIssues
        ``.mask``, ``.indices`` (most suspicious first), ``.scores``, ``.suggested`` and
        ``.to_frame()``. The mask equals the reference tool's (cleanlab 2.9
        ``filter.find_label_issues``) for every method both offer.

    Examples
    --------
    >>> import numpy as np, labelwise as lw
    >>> labels = ["cat", "cat", "dog", "dog", "dog", "cat"]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.1, .9]])
    >>> issues = lw.find_label_issues(labels, pred_probs)
    >>> issues.indices, issues.suggested[issues.indices]
    (array([5]), array(['dog'], dtype='<U3'))
    """
    check_flagging_options(
        METHODS, method, rank_by, min_examples_per_class, frac_noise, num_to_remove_per_class
    )
    source = row_source(pred_probs, labels, chunk_rows, memory_limit, n_jobs=n_jobs)
    scanned = scan_for_issues(labels, source, classes, method, rank_by)
    return issues_from_scan(
        scanned,
        method,
        rank_by,
        min_examples_per_class=min_examples_per_class,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
    )


def scan_for_issues(labels: Any, source: Any, classes: Any, method: str, rank_by: str) -> Scanned:
    """The scan :func:`find_label_issues` makes of ``source``: with the scores that ``method``
    and ``rank_by`` read, so that no chunked source is read again for them."""
    return scan_source(labels, source, classes, [rank_by, _selection_score(method)])


def issues_from_scan(
    scanned: Scanned,
    method: str = "prune_by_noise_rate",
    rank_by: str = "self_confidence",
    *,
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
) -> LabelIssues:
    """:func:`find_label_issues` on rows already scanned by :func:`scan_for_issues` (several
    methods may share one scan); the source's own threads do the work."""
    options = engine_options(min_examples_per_class, frac_noise, num_to_remove_per_class)
    counts = scanned.scan.label_counts
    checked: list[list[int]] = []  # found (and warned about) once, at the first pruning

    def pruned(prune: Any, by_class: bool) -> np.ndarray:
        if not checked:
            checked.append(_checked_classes(counts, min_examples_per_class))
        return pruned_rows(scanned, prune, checked[0], by_class)

    mask = _flag(scanned.checked.labels, method, scanned.scan, scanned.score, pruned, options)
    return _result(scanned, mask, method, rank_by)


def _result(scanned: Scanned, mask: np.ndarray, method: str, rank_by: str) -> LabelIssues:
    scores = scanned.score(rank_by)
    return LabelIssues(
        mask=mask,
        indices=rank_flagged(mask, scores),
        scores=scores,
        classes=scanned.checked.classes,
        method=method,
        rank_by=rank_by,
        # Compact codes serve the passes; the result's are intp, whatever the source.
        given_codes=scanned.checked.labels.astype(np.intp),
        suggested_codes=scanned.scan.predicted,
    )
