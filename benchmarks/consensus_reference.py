"""Reference implementations of multi-annotator consensus, behind one input format.

The consensus benchmark (``benchmarks/consensus.py``) compares labelwise with these tools:
cleanlab's CROWDLAB (``crowdlab``) and ActiveLab (``activelab_scores``), crowd-kit's
Dawid-Skene (``crowdkit_dawid_skene``) and majority vote (``crowdkit_majority_vote``). Only
the benchmark imports this module; labelwise itself never imports cleanlab or crowd-kit.

Votes come in long form: three equal-length int arrays ``items`` (0..n_items-1),
``annotators`` (0..n_annotators-1) and ``labels`` (class codes 0..K-1), one entry per vote.
Every result is a numpy array indexed by item code or annotator code, whatever the tool
returns internally.

The benchmark checks the wrappers as it runs: labelwise's ``method="crowdlab"`` must give the
labels the ``crowdlab`` wrapper returns, item for item.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "activelab_scores",
    "crowdkit_dawid_skene",
    "crowdkit_majority_vote",
    "crowdlab",
    "versions",
]


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def _check_votes(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the three vote arrays as int64, raising ValueError if they are malformed."""
    items, annotators, labels = (np.asarray(a) for a in (items, annotators, labels))
    if not (items.ndim == annotators.ndim == labels.ndim == 1):
        raise ValueError("items, annotators and labels must be 1-D arrays")
    if not (len(items) == len(annotators) == len(labels)):
        raise ValueError(
            f"items, annotators and labels differ in length: "
            f"{len(items)}, {len(annotators)}, {len(labels)}"
        )
    out = []
    for name, arr, bound in (
        ("items", items, n_items),
        ("annotators", annotators, n_annotators),
        ("labels", labels, n_classes),
    ):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must hold integer codes, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= bound):
            raise ValueError(f"{name} must lie in 0..{bound - 1}")
        out.append(arr)
    return out[0], out[1], out[2]


def _check_pred_probs(pred_probs: np.ndarray, n_items: int) -> np.ndarray:
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    if pred_probs.ndim != 2 or pred_probs.shape[0] != n_items:
        raise ValueError(
            f"pred_probs must have shape (n_items={n_items}, K), got {pred_probs.shape}"
        )
    return pred_probs


def _check_one_vote_per_pair(items: np.ndarray, annotators: np.ndarray, n_annotators: int) -> None:
    # cleanlab's wide matrix holds one label per (item, annotator); silently keeping one of
    # several votes would hand cleanlab different data than crowd-kit gets.
    pair = items * n_annotators + annotators
    if len(np.unique(pair)) != len(pair):
        raise ValueError("an annotator voted more than once on the same item; cleanlab cannot")


def _wide_matrix(items: np.ndarray, annotators: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Build cleanlab's (voted items x active annotators) float matrix, NaN where no vote.

    Only items with a vote and annotators with a label get a row / column, because cleanlab
    rejects all-NaN rows and columns. The index holds item codes and the columns annotator
    codes (ints), so cleanlab's outputs, which keep both, map back without position tricks.
    """
    voted = np.unique(items)
    active = np.unique(annotators)
    wide = np.full((len(voted), len(active)), np.nan)
    wide[np.searchsorted(voted, items), np.searchsorted(active, annotators)] = labels
    return pd.DataFrame(
        wide,
        index=pd.Index(voted, name="item"),
        columns=pd.Index(active, name="annotator"),
    )


def _long_frame(items: np.ndarray, annotators: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Build crowd-kit's long frame (task, worker, label), rows sorted by label.

    crowd-kit orders its probability columns by the order in which labels first appear in the
    data and breaks ties with ``idxmax`` (first column wins). Sorting by label makes that
    order the class-code order, so ties go to the lowest class code whatever the vote order.
    """
    order = np.lexsort((annotators, items, labels))
    return pd.DataFrame({"task": items[order], "worker": annotators[order], "label": labels[order]})


@contextmanager
def _quiet_crowdkit() -> Iterator[None]:
    # crowd-kit 1.4.2 still uses inplace=/copy= keywords that pandas 3 deprecates; the
    # results are unaffected, and the warnings would drown the benchmark output.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"crowdkit(\.|$)")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"crowdkit(\.|$)")
        yield


# ---------------------------------------------------------------------------------------------
# cleanlab
# ---------------------------------------------------------------------------------------------


def crowdlab(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    pred_probs: np.ndarray,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Consensus labels and qualities from cleanlab's CROWDLAB.

    Calls ``cleanlab.multiannotator.get_label_quality_multiannotator`` on the wide matrix of
    the items that have votes and the annotators that gave labels (cleanlab refuses items and
    annotators without any). Items with no votes are filled in afterwards from the model
    alone: label ``argmax(pred_probs)`` and quality ``max(pred_probs)``.

    Parameters
    ----------
    items, annotators, labels
        One entry per vote; at most one vote per (item, annotator).
    n_items, n_annotators
        Number of item and annotator codes.
    pred_probs
        Model probabilities, shape (n_items, K); K sets the number of classes.
    **kwargs
        Passed to ``get_label_quality_multiannotator`` (``verbose`` defaults to False).

    Returns
    -------
    dict
        ``labels`` int (n_items,), ``quality`` float (n_items,) (cleanlab's
        ``consensus_quality_score``), ``annotator_quality`` float (n_annotators,), NaN for
        annotators without labels and wherever cleanlab itself gives NaN.
    """
    from cleanlab.multiannotator import get_label_quality_multiannotator

    pred_probs = _check_pred_probs(pred_probs, n_items)
    items, annotators, labels = _check_votes(
        items, annotators, labels, n_items, n_annotators, pred_probs.shape[1]
    )
    _check_one_vote_per_pair(items, annotators, n_annotators)

    out_labels = pred_probs.argmax(axis=1)
    out_quality = pred_probs.max(axis=1)
    out_annotator = np.full(n_annotators, np.nan)
    if len(items) == 0:
        return {"labels": out_labels, "quality": out_quality, "annotator_quality": out_annotator}

    wide = _wide_matrix(items, annotators, labels)
    voted = wide.index.to_numpy()
    kwargs.setdefault("verbose", False)
    result = get_label_quality_multiannotator(wide, pred_probs[voted], **kwargs)

    label_quality = result["label_quality"]
    rows = label_quality.index.to_numpy(dtype=np.int64)
    out_labels[rows] = label_quality["consensus_label"].to_numpy(dtype=np.int64)
    out_quality[rows] = label_quality["consensus_quality_score"].to_numpy(dtype=np.float64)
    stats = result.get("annotator_stats")
    if stats is not None:
        # annotator_stats is sorted by quality; its index carries the annotator codes.
        out_annotator[stats.index.to_numpy(dtype=np.int64)] = stats["annotator_quality"].to_numpy(
            dtype=np.float64
        )
    return {"labels": out_labels, "quality": out_quality, "annotator_quality": out_annotator}


def activelab_scores(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    pred_probs: np.ndarray,
) -> np.ndarray:
    """ActiveLab scores from cleanlab's ``get_active_learning_scores``, in item order.

    Items with votes go in as labeled data (annotators without labels are left out, as
    cleanlab requires); items with no votes go in as unlabeled, through
    ``pred_probs_unlabeled``. As in cleanlab, a lower score means "label this item next".

    Returns
    -------
    numpy.ndarray
        float (n_items,).
    """
    from cleanlab.multiannotator import get_active_learning_scores

    pred_probs = _check_pred_probs(pred_probs, n_items)
    items, annotators, labels = _check_votes(
        items, annotators, labels, n_items, n_annotators, pred_probs.shape[1]
    )
    _check_one_vote_per_pair(items, annotators, n_annotators)

    scores = np.full(n_items, np.nan)
    unvoted = np.setdiff1d(np.arange(n_items), items)
    if len(items):
        wide = _wide_matrix(items, annotators, labels)
        voted = wide.index.to_numpy()
        labeled_scores, unlabeled_scores = get_active_learning_scores(
            wide,
            pred_probs[voted],
            pred_probs[unvoted] if len(unvoted) else None,
        )
        scores[voted] = labeled_scores
    else:
        _, unlabeled_scores = get_active_learning_scores(None, None, pred_probs[unvoted])
    if len(unvoted):
        scores[unvoted] = unlabeled_scores
    return scores


# ---------------------------------------------------------------------------------------------
# crowd-kit
# ---------------------------------------------------------------------------------------------


def crowdkit_dawid_skene(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    n_classes: int,
    n_iter: int = 100,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Dawid-Skene consensus from ``crowdkit.aggregation.DawidSkene``.

    Parameters
    ----------
    items, annotators, labels
        One entry per vote; repeated votes count as separate votes, as in crowd-kit.
    n_items, n_annotators, n_classes
        Number of item, annotator and class codes.
    n_iter
        Maximum EM iterations (crowd-kit also stops once the ELBO gain is below 1e-5).
    seed
        Accepted for a uniform signature; crowd-kit's Dawid-Skene is deterministic (majority
        vote initialisation, no randomness), so it is not used.

    Returns
    -------
    dict
        ``labels`` int (n_items,), -1 for items with no votes; ``probas`` float
        (n_items, n_classes), columns in class-code order, 0 for classes nobody voted for and
        uniform rows for items with no votes; ``annotator_quality`` float (n_annotators,):
        each worker's estimated accuracy, the diagonal of its confusion matrix weighted by the
        estimated class priors, NaN for workers with no labels.
    """
    del seed
    from crowdkit.aggregation import DawidSkene

    items, annotators, labels = _check_votes(
        items, annotators, labels, n_items, n_annotators, n_classes
    )
    probas = np.full((n_items, n_classes), 1.0 / n_classes)
    out_labels = np.full(n_items, -1, dtype=np.int64)
    out_annotator = np.full(n_annotators, np.nan)
    if len(items) == 0:
        return {"labels": out_labels, "probas": probas, "annotator_quality": out_annotator}

    model = DawidSkene(n_iter=n_iter)
    with _quiet_crowdkit():
        fitted = model.fit_predict_proba(_long_frame(items, annotators, labels))

    # crowd-kit only knows the classes that were voted for: the others get probability 0.
    fitted = fitted.reindex(columns=pd.Index(range(n_classes)), fill_value=0.0)
    rows = fitted.index.to_numpy(dtype=np.int64)
    probas[rows] = fitted.to_numpy(dtype=np.float64)
    out_labels[rows] = model.labels_.reindex(fitted.index).to_numpy(dtype=np.int64)

    # errors_ rows are (worker, observed label), columns the true label; a worker's accuracy
    # is sum_c prior[c] * P(observed c | true c). Pairs a worker never produced are absent
    # from errors_ and contribute 0.
    errors = model.errors_
    observed = errors.index.get_level_values("label").to_numpy()
    workers = errors.index.get_level_values("worker").to_numpy(dtype=np.int64)
    diagonal = errors.to_numpy(dtype=np.float64)[
        np.arange(len(errors)), errors.columns.get_indexer(observed)
    ]
    prior = model.priors_.reindex(observed).to_numpy(dtype=np.float64)
    out_annotator[np.unique(workers)] = 0.0
    np.add.at(out_annotator, workers, diagonal * prior)
    return {"labels": out_labels, "probas": probas, "annotator_quality": out_annotator}


def crowdkit_majority_vote(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    n_classes: int,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Majority-vote consensus from ``crowdkit.aggregation.MajorityVote``.

    Ties go to the lowest class code (see ``_long_frame``).

    Parameters
    ----------
    seed
        Accepted for a uniform signature; crowd-kit's majority vote is deterministic.

    Returns
    -------
    dict
        ``labels`` int (n_items,), -1 for items with no votes; ``annotator_quality`` float
        (n_annotators,): crowd-kit's ``skills_`` (each worker's agreement with the majority,
        own vote included), NaN for workers with no labels.
    """
    del seed
    from crowdkit.aggregation import MajorityVote

    items, annotators, labels = _check_votes(
        items, annotators, labels, n_items, n_annotators, n_classes
    )
    out_labels = np.full(n_items, -1, dtype=np.int64)
    out_annotator = np.full(n_annotators, np.nan)
    if len(items) == 0:
        return {"labels": out_labels, "annotator_quality": out_annotator}

    model = MajorityVote()
    with _quiet_crowdkit():
        predicted = model.fit_predict(_long_frame(items, annotators, labels))
    out_labels[predicted.index.to_numpy(dtype=np.int64)] = predicted.to_numpy(dtype=np.int64)

    skills = getattr(model, "skills_", None)
    if skills is not None:
        out_annotator[skills.index.to_numpy(dtype=np.int64)] = skills.to_numpy(dtype=np.float64)
    else:
        agree = (labels == out_labels[items]).astype(np.float64)
        counts = np.bincount(annotators, minlength=n_annotators)
        with np.errstate(invalid="ignore", divide="ignore"):
            out_annotator = np.bincount(annotators, agree, minlength=n_annotators) / counts
        out_annotator[counts == 0] = np.nan
    return {"labels": out_labels, "annotator_quality": out_annotator}


def versions() -> dict[str, str]:
    """Versions of the reference packages, for the benchmark report."""
    return {"cleanlab": version("cleanlab"), "crowd-kit": version("crowd-kit")}
