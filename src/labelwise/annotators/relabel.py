"""What to label next: the items where one more vote would most raise the chance that the
consensus is right (the idea of ActiveLab, Goh and Mueller 2023, scored as value of information).

For an item whose classes have posterior probabilities ``q`` and a typical annotator whose
confusion matrix is ``T`` (row = true class), one more vote ``l`` arrives with probability
``sum_k q_k T[k, l]`` and moves the posterior to ``q_k T[k, l]`` normalized. The expected
probability that the consensus is then right is ``sum_l max_k q_k T[k, l]``; the score is how
much that exceeds ``max_k q_k``, the chance it is right now. Items nobody labeled start from the
model (or the class shares), so they compete with labeled ones on the same scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise._params import Interval, check_params
from labelwise.annotators._votes import LONG_COLUMNS, Votes

if TYPE_CHECKING:
    from labelwise.annotators.consensus import Consensus

#: Rows of the (items, classes, classes) product taken at once, to bound memory.
_BLOCK = 4096
#: Gains below this are rounding in the sums, not information.
_ROUNDING = 1e-12


def relabel_priority(
    votes: Any,
    pred_probs: Any = None,
    *,
    n: int | None = None,
    method: str = "dawid_skene",
    format: str = "auto",
    classes: Any = None,
    items: Sequence | None = None,
    columns: Sequence[str] = LONG_COLUMNS,
) -> pd.DataFrame:
    """Rank items by how much one more vote would improve their consensus label.

    Parameters
    ----------
    votes, pred_probs, method, format, classes, items, columns
        As for :func:`labelwise.consensus`.
    n : int, optional
        Return the ``n`` best items only (all of them by default).

    Returns
    -------
    DataFrame
        One row per item, best first: ``row`` (position), ``item``, ``score`` (the expected gain
        in the probability that the consensus is right after one more vote), ``n_votes``,
        ``consensus`` and ``quality``. Ties in score go to the less certain item.

    Examples
    --------
    >>> import numpy as np
    >>> import labelwise as lw
    >>> votes = np.array([[0, 0, 0], [0, 1, np.nan], [1, np.nan, np.nan]])
    >>> lw.relabel_priority(votes, n=2)["row"].tolist()  # a lone vote, then a split
    [2, 1]
    """
    from labelwise.annotators.consensus import consensus

    check_params({"n": [Interval(Integral, 1, None), None]}, {"n": n})
    result = consensus(
        votes,
        pred_probs,
        method=method,
        format=format,
        classes=classes,
        items=items,
        columns=columns,
    )
    return priority_from_consensus(result, n)


def priority_from_consensus(result: Consensus, n: int | None = None) -> pd.DataFrame:
    """:func:`relabel_priority` for a consensus already settled."""
    typical = typical_confusion(result.votes, result.posterior)
    score = expected_gain(result.posterior, typical)
    order = np.lexsort((result.quality, -score))
    frame = result.to_frame().reset_index()
    frame.insert(2, "score", score)
    frame = frame[["row", "item", "score", "n_votes", "consensus", "quality"]]
    ranked = frame.iloc[order].reset_index(drop=True)
    return ranked if n is None else ranked.head(n)


def typical_confusion(votes: Votes, posterior: np.ndarray) -> np.ndarray:
    """The confusion matrix of an average vote: soft counts of (true class, chosen class) over
    every vote, with one pseudo-vote per row so no row is empty."""
    m, k = votes.n_annotators, votes.n_classes
    by_chosen = np.asarray(votes.design_t @ posterior).reshape(m, k, k).sum(axis=0)
    soft = by_chosen.T + np.eye(k) * 0.5 + 0.5 / k  # (true class, chosen class)
    return soft / soft.sum(axis=1, keepdims=True)


def expected_gain(posterior: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Per item, the expected rise of the top posterior probability after one more vote."""
    gain = np.empty(len(posterior))
    for start in range(0, len(posterior), _BLOCK):
        q = posterior[start : start + _BLOCK]
        joint = q[:, :, None] * confusion[None, :, :]  # (items, true class, vote)
        gain[start : start + _BLOCK] = joint.max(axis=1).sum(axis=1) - q.max(axis=1)
    gain[gain < _ROUNDING] = 0.0  # a vote that cannot change the consensus gains nothing
    return gain
