"""Finding the examples whose given label is wrong, from out-of-sample predicted probabilities."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelwise._parallel import ordered_map
from labelwise._validate import Checked, check_choice, check_inputs
from labelwise.errors import ConfigError, SmallClassWarning
from labelwise.issues import _kernels as kernels
from labelwise.issues._counting import (
    DENSE_MAX_CLASSES,
    ClassGroups,
    ConfidentPass,
    confident_pass,
    group_by_class,
    grouped_thresholds,
    largest_margins,
    raise_diagonal,
    round_preserving_row_totals,
    smallest_n,
)
from labelwise.issues._selection import (
    Kept,
    Marked,
    Pairs,
    first_floors,
    keep_rows,
    mark_rows,
    pair_values,
    sample_stride,
    select,
)
from labelwise.issues._sparse import calibrate, column, prune, rescale_sparse
from labelwise.issues._stream import chunked_source, streamed_prune, streamed_scan_inputs
from labelwise.issues.scores import SCORE_METHODS, _scores

__all__ = ["METHODS", "LabelIssues", "find_label_issues"]

#: The names accepted by ``method``, default first.
METHODS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_self_confidence",
    "low_normalized_margin",
    "pervasive2021",
)
_PRUNING = ("prune_by_noise_rate", "prune_by_class", "both")
#: Classes at least this big (on average) are pruned in parallel threads.
_ROWS_PER_THREADED_CLASS = 20_000
_RANKED = ("low_self_confidence", "low_normalized_margin", "pervasive2021")
#: The small classes a warning names before it says how many more there are.
SHOWN_SMALL_CLASSES = 5


def engine_options(
    n_jobs: int | None = None,
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
) -> dict:
    """The options every flagging path hands down, in one place."""
    return {
        "n_jobs": n_jobs,
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


def _check_options(
    method: str,
    rank_by: str,
    min_examples_per_class: int,
    frac_noise: float,
    num_to_remove_per_class: Any,
) -> None:
    check_choice("method", method, METHODS)
    check_choice("rank_by", rank_by, SCORE_METHODS)
    if not isinstance(min_examples_per_class, (int, np.integer)) or min_examples_per_class < 0:
        raise ConfigError(
            f"min_examples_per_class must be a whole number >= 0, got {min_examples_per_class!r}."
        )
    if not 0 <= frac_noise <= 1:
        raise ConfigError(f"frac_noise must lie in [0, 1], got {frac_noise!r}.")
    if num_to_remove_per_class is not None and method not in _PRUNING:
        raise ConfigError(
            f"num_to_remove_per_class only applies to the pruning methods {list(_PRUNING)}, "
            f"not to method={method!r}."
        )


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


def _pruned(
    labels: np.ndarray,
    pred_probs: np.ndarray,
    groups: ClassGroups,
    prune: np.ndarray,
    by_class: bool,
    options: dict,
) -> np.ndarray:
    """Flag by noise rate (largest margins toward each other class) or by class (lowest p_k)."""
    checked = _checked_classes(groups.counts, options["min_examples_per_class"])
    if kernels.enabled() and pred_probs.shape[1] <= DENSE_MAX_CLASSES:
        pairs = Pairs.of(prune, checked, groups.counts, by_class)
        return _selected(labels, pred_probs, groups, pairs, options["n_jobs"])

    def flag_class(k: int) -> np.ndarray:
        rows = groups.rows(k)
        toward = column(prune, k)
        if by_class:
            return rows[smallest_n(pred_probs[rows, k], int(groups.counts[k] - toward[k]))]
        probs = np.take(pred_probs, rows, axis=0)  # much faster than fancy indexing
        return rows[largest_margins(probs, k, toward)]

    # Threads pay only when each class is big: many small classes are dominated by the
    # interpreter (which holds the GIL), and threads then slow them down.
    big = pred_probs.shape[0] >= _ROWS_PER_THREADED_CLASS * max(len(checked), 1)
    mask = np.zeros(pred_probs.shape[0], dtype=bool)
    for rows in ordered_map(flag_class, checked, options["n_jobs"] if big else 1):
        mask[rows] = True
    return mask


def _selected(
    labels: np.ndarray,
    pred_probs: np.ndarray,
    groups: ClassGroups,
    pairs: Pairs,
    n_jobs: int | None,
) -> np.ndarray:
    """Pruning's rows by the compiled two-pass selection, the rows split among the threads."""
    n, k = pred_probs.shape
    stride = sample_stride(n, k)
    floors = first_floors(pred_probs[::stride], labels[::stride], pairs, groups.counts)

    def keep(floors: np.ndarray) -> list[Kept]:
        return [keep_rows(pred_probs, labels, pairs, floors, n_jobs)]

    def mark(table: np.ndarray) -> list[Marked]:
        return [mark_rows(pred_probs, labels, 0, pairs, table, n_jobs)]

    def resolve(unsettled: dict) -> dict:
        out = {}
        for (j, c), count in unsettled.items():
            rows = groups.rows(c)
            out[(j, c)] = rows[smallest_n(pair_values(pred_probs, j, c, rows), count)]
        return out

    return select(keep, mark, pairs, floors, resolve, n)


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
        warnings.warn(
            f"{small.size} class(es) have at most min_examples_per_class={minimum} examples, "
            f"so their labels are not checked: column {shown}{more}.",
            SmallClassWarning,
            stacklevel=5,
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
    _check_options(method, rank_by, min_examples_per_class, frac_noise, num_to_remove_per_class)
    options = engine_options(n_jobs, min_examples_per_class, frac_noise, num_to_remove_per_class)
    chunked = chunked_source(pred_probs, labels, chunk_rows, memory_limit, n_jobs=n_jobs)
    if chunked is not None:
        return find_streamed(labels, chunked, classes, method, rank_by, options)[0]
    checked, groups, scan = scan_inputs(labels, pred_probs, classes, n_jobs)
    return issues_from_scan(
        checked,
        groups,
        scan,
        method,
        rank_by,
        n_jobs=n_jobs,
        min_examples_per_class=min_examples_per_class,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
    )


def scan_inputs(
    labels: Any, pred_probs: Any, classes: Any, n_jobs: int | None
) -> tuple[Checked, ClassGroups, ConfidentPass]:
    """Validate once and make the one pass over the rows that every result is built from."""
    checked = check_inputs(labels, pred_probs, classes, n_jobs)
    # The kernels loop several times faster over small codes: make them once for both passes.
    codes = kernels.compact(checked.labels, checked.n_classes)
    groups, own = group_by_class(codes, checked.pred_probs)
    scan = confident_pass(codes, checked.pred_probs, grouped_thresholds(own, groups), n_jobs)
    return checked, groups, scan


def issues_from_scan(
    checked: Checked,
    groups: ClassGroups,
    scan: ConfidentPass,
    method: str = "prune_by_noise_rate",
    rank_by: str = "self_confidence",
    *,
    n_jobs: int | None = None,
    min_examples_per_class: int = 1,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
) -> LabelIssues:
    """:func:`find_label_issues` on inputs already scanned by :func:`scan_inputs`."""
    options = engine_options(n_jobs, min_examples_per_class, frac_noise, num_to_remove_per_class)
    labels, probs = checked.labels, checked.pred_probs
    mask = _flag(
        labels,
        method,
        scan,
        lambda name: _scores(labels, probs, name),
        lambda prune, by_class: _pruned(labels, probs, groups, prune, by_class, options),
        options,
    )
    return _result(checked, scan, mask, method, rank_by, _scores(labels, probs, rank_by))


def _result(
    checked: Checked,
    scan: ConfidentPass,
    mask: np.ndarray,
    method: str,
    rank_by: str,
    scores: np.ndarray,
) -> LabelIssues:
    return LabelIssues(
        mask=mask,
        indices=rank_flagged(mask, scores),
        scores=scores,
        classes=checked.classes,
        method=method,
        rank_by=rank_by,
        given_codes=checked.labels,
        suggested_codes=scan.predicted,
    )


def find_streamed(
    labels: Any, chunked: Any, classes: Any, method: str, rank_by: str, options: dict
) -> tuple[LabelIssues, Checked, ConfidentPass]:
    """:func:`find_label_issues` over pred_probs read in chunks (two to four passes)."""
    checked, scan, scores, sample = streamed_scan_inputs(
        labels, chunked, classes, [rank_by, _selection_score(method)]
    )
    counts = scan.label_counts
    mask = _flag(
        checked.labels,
        method,
        scan,
        scores.__getitem__,
        lambda prune, by_class: streamed_prune(
            checked.labels,
            chunked,
            prune,
            _checked_classes(counts, options["min_examples_per_class"]),
            counts,
            by_class,
            sample,
        ),
        options,
    )
    return _result(checked, scan, mask, method, rank_by, scores[rank_by]), checked, scan
