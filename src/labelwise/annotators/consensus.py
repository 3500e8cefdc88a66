"""Consensus labels and annotator quality from many annotators' votes (and a model).

:func:`consensus` settles disagreeing annotators: the best label for each item, how likely it
is right, how much the votes agree, and how good each annotator is. :func:`relabel_priority`
says which items one more vote would help most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from labelwise._params import Interval, Options, check_params
from labelwise._shared.serialize import jsonable
from labelwise._validate import check_pred_probs
from labelwise.annotators._crowdlab import crowdlab, majority_vote
from labelwise.annotators._latent import dawid_skene
from labelwise.annotators._votes import LONG_COLUMNS, VOTE_FORMATS, Votes, read_votes
from labelwise.errors import ConfigError, ShapeError

#: How the consensus is found: a latent-class model of the annotators (weighing in the model when
#: there is one), CROWDLAB's weighted average of model and annotators, or plain majority vote.
CONSENSUS_METHODS = ("dawid_skene", "crowdlab", "majority")

_CONSTRAINTS = {
    "method": [Options(CONSENSUS_METHODS)],
    "format": [Options(VOTE_FORMATS)],
    "smoothing": [Interval(Real, 0, None, closed="neither"), None],
    "max_iter": [Interval(Integral, 1, None)],
}


@dataclass(frozen=True, repr=False)
class Consensus:
    """The settled label of every item and the quality of every annotator.

    Attributes
    ----------
    labels : ndarray, shape (n_items,)
        The consensus class of each item (class names, as the votes name them).
    quality : ndarray, shape (n_items,)
        How likely the consensus is right: its posterior probability given the votes (and the
        model). For ``method="majority"`` without a model, the share of votes it got.
    agreement : ndarray, shape (n_items,)
        The share of the item's votes that chose the consensus; NaN for an item with no votes.
    n_votes : ndarray, shape (n_items,)
        How many annotators labeled each item.
    posterior : ndarray, shape (n_items, n_classes)
        The probability of each class, in the order of ``classes``.
    annotators : DataFrame
        One row per annotator (the wide table's column order; for long votes, sorted by id
        where the ids sort, else in order of appearance): ``annotator``, ``quality`` (the
        estimated share of their labels that are right), ``n_labels``, ``agreement`` (share of
        their labels equal to the consensus) and ``worst_class`` (the label they give least
        reliably).
    items, classes : ndarray
        The item ids (row numbers for a plain wide array) and the class names.
    method : str
    model_weight : float or None
        How much the model's opinion counted: the fitted inverse temperature of pred_probs for
        ``"dawid_skene"``, CROWDLAB's model weight for ``"crowdlab"``; None without a model.
    confusion : ndarray or None, shape (n_annotators, n_classes, n_classes)
        For ``"dawid_skene"``: each annotator's estimated confusion matrix, row = true class.
    """

    labels: np.ndarray
    quality: np.ndarray
    agreement: np.ndarray
    n_votes: np.ndarray
    posterior: np.ndarray
    annotators: pd.DataFrame
    items: np.ndarray
    classes: np.ndarray
    method: str
    model_weight: float | None = None
    confusion: np.ndarray | None = None
    votes: Votes | None = field(default=None, compare=False)

    @property
    def n_disputed(self) -> int:
        """How many items have a vote against their consensus."""
        return int(np.sum(self.agreement < 1))  # NaN (no votes) compares False

    @property
    def n_unvoted(self) -> int:
        """How many items nobody labeled."""
        return int(np.sum(self.n_votes == 0))

    def __repr__(self) -> str:
        return (
            f"Consensus({len(self.labels)} items, {len(self.annotators)} annotators, "
            f"{len(self.classes)} classes, method={self.method!r}; {self.n_disputed} items with "
            f"disagreement, {self.n_unvoted} with no votes)"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item``, ``consensus``, ``quality``, ``agreement``, ``n_votes``."""
        frame = pd.DataFrame(
            {
                "item": self.items,
                "consensus": self.labels,
                "quality": self.quality,
                "agreement": self.agreement,
                "n_votes": self.n_votes,
            }
        )
        frame.index.name = "row"
        return frame

    def to_dict(self) -> dict:
        """A JSON-ready summary: the method, the classes, one record per item and per annotator
        (NaN as None)."""
        return jsonable(
            {
                "method": self.method,
                "model_weight": self.model_weight,
                "classes": self.classes,
                "items": self.to_frame().reset_index().to_dict(orient="records"),
                "annotators": self.annotators.to_dict(orient="records"),
            },
            default=str,
        )

    def worst_annotators(self, n: int | None = 10) -> pd.DataFrame:
        """The annotators of lowest quality first (those with no labels last)."""
        ranked = self.annotators.sort_values(["quality", "agreement"], na_position="last")
        return ranked if n is None else ranked.head(n)

    def doubtful_items(self, n: int | None = 10) -> pd.DataFrame:
        """The items whose consensus is least likely right, first."""
        ranked = self.to_frame().sort_values("quality", kind="stable")
        return ranked if n is None else ranked.head(n)

    def relabel_priority(self, n: int | None = None) -> pd.DataFrame:
        """Which items one more vote would help most; see :func:`relabel_priority`."""
        from labelwise.annotators.relabel import priority_from_consensus

        return priority_from_consensus(self, n)


def consensus(
    votes: Any,
    pred_probs: Any = None,
    *,
    method: str = "dawid_skene",
    format: str = "auto",
    classes: Any = None,
    items: Sequence | None = None,
    columns: Sequence[str] = LONG_COLUMNS,
    smoothing: float | None = None,
    max_iter: int = 200,
) -> Consensus:
    """Settle disagreeing annotators: a consensus label per item and a quality per annotator.

    Parameters
    ----------
    votes : DataFrame or array-like
        **Wide**: one row per item, one column per annotator (column names are annotator ids),
        missing (NaN, None) where the annotator did not label the item. **Long**: a DataFrame
        with one row per vote and columns ``item``, ``annotator``, ``label`` (see ``columns``).
        Labels may be any hashable class names; an item may have any number of votes, none
        included.
    pred_probs : array-like of shape (n_items, n_classes), optional
        A model's out-of-sample predicted probabilities, one row per item. Its opinion is weighed
        by how well it agrees with the annotators. Long votes then need ``item`` to hold row
        numbers, or ``items`` to list each row's item id.
    method : {"dawid_skene", "crowdlab", "majority"}, default "dawid_skene"
        ``"dawid_skene"`` fits each annotator's confusion matrix (Dawid and Skene 1979), shrunk
        toward the crowd's, with pred_probs as each item's prior at a fitted temperature.
        ``"crowdlab"`` is CROWDLAB, as cleanlab computes it (needs pred_probs). ``"majority"`` is
        majority vote, ties broken by the model, then as cleanlab does.
    format : {"auto", "wide", "long"}, default "auto"
        "auto" reads a DataFrame that has the three ``columns`` as long, anything else as wide.
    classes : list, optional
        The class names, in the order of the pred_probs columns. Without it, integer labels
        0..K-1 index the columns, and other labels are taken in sorted order.
    items : sequence, optional
        The item id of each row (of pred_probs; of the wide table). For long votes it also lists
        items nobody labeled.
    columns : (str, str, str), default ("item", "annotator", "label")
        The long table's column names.
    smoothing : float, optional
        Pseudo-votes per row that pull each annotator's confusion matrix toward their one-coin
        matrix (their overall accuracy, the crowd's kind of errors); by default fitted to the
        votes by empirical Bayes (``"dawid_skene"``).
    max_iter : int, default 200
        EM iterations at most (``"dawid_skene"``).

    Returns
    -------
    Consensus

    Examples
    --------
    >>> import pandas as pd
    >>> import labelwise as lw
    >>> votes = pd.DataFrame({"ann": ["cat", "dog", "dog"], "bo": ["cat", "dog", None],
    ...                       "cy": ["dog", "dog", "cat"]})
    >>> result = lw.consensus(votes, method="majority")
    >>> result.labels.tolist()
    ['cat', 'dog', 'cat']
    """
    check_params(_CONSTRAINTS, locals())
    if classes is None and isinstance(pred_probs, pd.DataFrame):
        classes = list(pred_probs.columns)
    probs = None if pred_probs is None else check_pred_probs(pred_probs)
    shape = (None, None) if probs is None else probs.shape
    read = read_votes(
        votes,
        format=format,
        classes=classes,
        n_classes=shape[1],
        n_items=shape[0],
        items=items,
        columns=columns,
    )
    if probs is not None and read.n_items != probs.shape[0]:
        raise ShapeError(
            f"votes cover {read.n_items} items but pred_probs has {probs.shape[0]} rows."
        )
    if method == "crowdlab" and probs is None:
        raise ConfigError(
            "method='crowdlab' weighs a model against the annotators and needs pred_probs; "
            "without a model use method='dawid_skene' or 'majority'."
        )
    return _settle(read, probs, method, smoothing, max_iter)


def _settle(
    votes: Votes, probs: np.ndarray | None, method: str, smoothing: float | None, max_iter: int
) -> Consensus:
    model_weight = confusion = None
    if votes.n_classes == 1:  # nothing to settle: every vote names the one class
        codes = np.zeros(votes.n_items, dtype=np.intp)
        posterior = np.ones((votes.n_items, 1))
        annotator_quality = np.where(votes.n_labels > 0, 1.0, np.nan)
    elif method == "dawid_skene":
        fit = dawid_skene(votes, probs, smoothing=smoothing, max_iter=max_iter)
        posterior, confusion, model_weight = fit.posterior, fit.confusion, fit.model_weight
        codes = posterior.argmax(axis=1)
        annotator_quality = votes.per_annotator_mean(posterior[votes.item, votes.label])
    elif method == "crowdlab":
        fit = crowdlab(votes, probs)
        posterior, codes, model_weight = fit.posterior, fit.labels, fit.model_weight
        annotator_quality = fit.annotator_quality
    else:
        codes = majority_vote(votes, probs)
        posterior = _vote_shares(votes, probs)
        annotator_quality = votes.agreement(codes, votes.n_votes >= 2)  # a lone vote agrees
    quality = posterior[np.arange(votes.n_items), codes]
    return Consensus(
        labels=votes.classes[codes],
        quality=quality,
        agreement=_item_agreement(votes, codes),
        n_votes=votes.n_votes,
        posterior=posterior,
        annotators=_annotator_table(votes, codes, quality, annotator_quality),
        items=votes.item_ids,
        classes=votes.classes,
        method=method,
        model_weight=model_weight,
        confusion=confusion,
        votes=votes,
    )


def _vote_shares(votes: Votes, probs: np.ndarray | None) -> np.ndarray:
    """Majority vote's posterior: the vote shares; the model (or uniform) where nobody voted."""
    shares = votes.counts.copy()
    empty = votes.n_votes == 0
    shares[empty] = 1.0 / votes.n_classes if probs is None else probs[empty]
    return shares / shares.sum(axis=1, keepdims=True)


def _item_agreement(votes: Votes, codes: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return votes.counts[np.arange(votes.n_items), codes] / votes.n_votes


def _annotator_table(
    votes: Votes, codes: np.ndarray, item_quality: np.ndarray, quality: np.ndarray
) -> pd.DataFrame:
    worst = _worst_class(votes, codes, item_quality)
    return pd.DataFrame(
        {
            "annotator": votes.annotator_ids,
            "quality": quality,
            "n_labels": votes.n_labels,
            "agreement": votes.agreement(codes),
            "worst_class": pd.Series(votes.classes, dtype=object)
            .reindex(worst)
            .where(worst >= 0, None)
            .to_numpy(),
        }
    )


def _worst_class(votes: Votes, codes: np.ndarray, item_quality: np.ndarray) -> np.ndarray:
    """Per annotator, the label they give that least often matches the consensus; ties go to
    the label they give most, then to the one on the surest items (as cleanlab ranks them).
    -1 for an annotator with no labels."""
    m, k = votes.n_annotators, votes.n_classes
    cell = votes.annotator * k + votes.label
    given = np.bincount(cell, minlength=m * k).reshape(m, k)
    right = np.bincount(cell, votes.label == codes[votes.item], m * k).reshape(m, k)
    sure = np.bincount(cell, item_quality[votes.item], m * k).reshape(m, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        keys = (-(right / given), given, sure / given)
    candidates = given > 0
    for key in keys:
        masked = np.where(candidates, key, -np.inf)
        candidates &= masked == masked.max(axis=1, keepdims=True)
    worst = candidates.argmax(axis=1)
    worst[votes.n_labels == 0] = -1
    return worst
