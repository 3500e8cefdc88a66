"""Majority vote and CROWDLAB (Goh, Tkachenko, Mueller 2022), vectorized over the votes.

Both give cleanlab 2.9's answers (``get_majority_vote_label`` and
``get_label_quality_multiannotator``) on the inputs cleanlab accepts, up to the rounding of
sums taken in another order. Where cleanlab would draw a random label to break a tie that
survives every rule, labelwise takes the first tied class, so the result is reproducible.

Items nobody labeled, which cleanlab refuses, get the model's opinion alone: the CROWDLAB
average over no annotators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelwise.annotators._votes import Votes
from labelwise.errors import InputError

#: cleanlab's floor for weights that would be zero or negative.
WEIGHT_FLOOR = 1e-6


def majority_vote(votes: Votes, probs: np.ndarray | None = None) -> np.ndarray:
    """The most voted class of each item, ties broken as cleanlab breaks them.

    Ties go to the class the model finds likelier, then to the class with fewer votes overall,
    then to the class whose voters agree best with the untied majority; a tie left after that
    goes to the first class. An item without votes gets the model's top class, or without a
    model the class with the most votes overall.
    """
    counts = votes.counts
    voted = votes.n_votes > 0
    tied = counts == counts.max(axis=1, keepdims=True)
    tied &= voted[:, None]
    untied = tied.sum(axis=1) == 1
    still = tied.sum(axis=1) > 1
    if probs is not None:
        tied[still] = _keep_best(tied[still], probs[still])
        still = tied.sum(axis=1) > 1
    if still.any():
        frequency = counts.sum(axis=0)
        tied[still] = _keep_best(tied[still], np.broadcast_to(-frequency, tied[still].shape))
        still = tied.sum(axis=1) > 1
    if still.any():
        trust = _voter_trust(votes, np.argmax(tied, axis=1), untied)
        tied[still] = _keep_best(tied[still], trust[still])
    labels = np.argmax(tied, axis=1)
    if not voted.all():
        fallback = probs[~voted].argmax(axis=1) if probs is not None else counts.sum(0).argmax()
        labels[~voted] = fallback
    return labels


def _keep_best(candidates: np.ndarray, score: np.ndarray) -> np.ndarray:
    masked = np.where(candidates, score, -np.inf)
    return candidates & (masked == masked.max(axis=1, keepdims=True))


def _voter_trust(votes: Votes, settled: np.ndarray, untied: np.ndarray) -> np.ndarray:
    """Per item and class, the mean agreement with the untied majority of those who voted it."""
    agreement = votes.agreement(settled, untied)
    unseen = np.isnan(agreement)
    agreement[unseen] = agreement[~unseen].mean() if (~unseen).any() else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return votes.per_item_class(agreement[votes.annotator]) / votes.counts


@dataclass(frozen=True)
class CrowdlabFit:
    """CROWDLAB's consensus, its posterior and the weights behind it."""

    labels: np.ndarray
    posterior: np.ndarray
    model_weight: float
    annotator_weight: np.ndarray
    annotator_quality: np.ndarray


def crowdlab(votes: Votes, probs: np.ndarray) -> CrowdlabFit:
    """CROWDLAB's best-quality consensus: majority vote, then the weighted average of model and
    annotators, whose top class (the majority vote where that is tied) is the consensus."""
    multi = votes.n_votes >= 2
    if not multi.any():
        raise InputError(
            "CROWDLAB weighs annotators by how they agree on items with two or more votes, and "
            "no item has two; use method='dawid_skene', which also learns from the model."
        )
    first = majority_vote(votes, probs)
    posterior, _, _ = _weighted_average(votes, probs, first, multi)
    top = posterior == posterior.max(axis=1, keepdims=True)
    labels = np.where(top.sum(axis=1) == 1, posterior.argmax(axis=1), first)
    posterior, model_weight, weights = _weighted_average(votes, probs, labels, multi)
    quality = _annotator_quality(votes, posterior, labels, multi, model_weight, weights)
    return CrowdlabFit(labels, posterior, model_weight, weights, quality)


def _weighted_average(
    votes: Votes, probs: np.ndarray, consensus: np.ndarray, multi: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    k = votes.n_classes
    voted = votes.n_votes > 0
    agreement = votes.counts[multi, consensus[multi]] / votes.n_votes[multi]
    likely = agreement.mean()
    unlikely = (1 - likely) / (k - 1)
    common = np.bincount(consensus[multi], minlength=k).argmax()
    baseline_error = max(np.mean(consensus[multi] != common), WEIGHT_FLOOR)
    weights = np.clip(
        1 - (1 - _pairwise_agreement(votes, multi)) / baseline_error, WEIGHT_FLOOR, None
    )
    model_error = np.mean(probs[multi].argmax(axis=1) != consensus[multi])
    model_weight = max(1 - model_error / baseline_error, WEIGHT_FLOOR)
    model_weight *= np.sqrt(votes.n_votes[voted].mean())
    posterior = _average(votes, probs, model_weight, weights, (likely, unlikely))
    return posterior, float(model_weight), weights


def _average(
    votes: Votes,
    probs: np.ndarray,
    model_weight: float,
    weights: np.ndarray,
    likelihood: tuple[float, float],
) -> np.ndarray:
    """The weighted average of the model and each vote's likelihood vector, summed one
    annotator after another as cleanlab sums them: on an exact tie between two classes, the
    rounding then falls the same way and so does the consensus."""
    likely, unlikely = likelihood
    order = np.lexsort((votes.item, votes.annotator))
    item, label, weight = votes.item[order], votes.label[order], weights[votes.annotator[order]]
    contribution = np.where(
        label[:, None] == np.arange(votes.n_classes)[None, :],
        (weight * likely)[:, None],
        (weight * unlikely)[:, None],
    )
    posterior = probs * model_weight
    np.add.at(posterior, item, contribution)
    total = np.zeros(votes.n_items)
    np.add.at(total, item, weight)
    return posterior / (total + model_weight)[:, None]


def _pairwise_agreement(votes: Votes, multi: np.ndarray) -> np.ndarray:
    """Per annotator, the share of the other votes on their items that match theirs, averaged
    over items with two or more votes weighted by the other votes; an annotator alone on every
    item gets the mean of the rest."""
    on_multi = multi[votes.item]
    others = votes.n_votes[votes.item] - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(on_multi, (votes.counts[votes.item, votes.label] - 1) / others, 0.0)
    order = np.lexsort((votes.item, votes.annotator))
    bounds = np.cumsum(votes.n_labels)[:-1]
    agreement = np.full(votes.n_annotators, np.nan)
    groups = zip(np.split(share[order], bounds), np.split(others[order], bounds), strict=True)
    for annotator, (values, weight) in enumerate(groups):
        if weight.sum() > 0:  # np.average, as cleanlab takes it, for the same rounding
            agreement[annotator] = np.average(values, weights=weight)
    alone = np.isnan(agreement)
    agreement[alone] = agreement[~alone].mean()
    return agreement


def _annotator_quality(
    votes: Votes,
    posterior: np.ndarray,
    consensus: np.ndarray,
    multi: np.ndarray,
    model_weight: float,
    weights: np.ndarray,
) -> np.ndarray:
    """CROWDLAB's annotator quality: the mean posterior of their labels and their agreement
    with the consensus on shared items, mixed by the model's share of the total weight."""
    label_quality = votes.per_annotator_mean(posterior[votes.item, votes.label])
    agreement = votes.agreement(consensus, multi)
    mean_votes = votes.n_votes[votes.n_votes > 0].mean()
    share = model_weight / (model_weight + weights.sum() * mean_votes / votes.n_annotators)
    return share * label_quality + (1 - share) * agreement
