"""A latent-class model of annotators (Dawid and Skene 1979), with a model's opinion as the prior.

Each item has an unknown true class; each annotator draws their label from a row of their own
confusion matrix. Expectation-maximization alternates the posterior of every item's class
(E-step) with every annotator's confusion matrix (M-step).

Two additions make it hold up on real crowds:

- **Shrinkage.** An annotator's confusion row is their soft counts plus ``smoothing``
  pseudo-votes spread like their *one-coin* matrix: their own overall accuracy on the diagonal,
  the crowd's kind of errors off it. An annotator with a few labels gets a one-coin matrix,
  one with thousands a matrix of their own. The number of pseudo-votes is fitted by empirical
  Bayes (the Dirichlet-multinomial evidence of the soft counts), so a crowd of plain annotators
  leans on the one-coin form and a crowd with biased or adversarial ones on the full matrices.
- **The model as prior.** With out-of-sample ``pred_probs``, the prior of item *i* is
  ``softmax(w * log pred_probs[i])`` instead of one class prior for all items. The weight ``w``
  (an inverse temperature) is fitted with everything else by maximum likelihood of the votes:
  a model the annotators contradict is flattened toward uniform, one they confirm is sharpened.
  That is how much the model's opinion counts, learned from how well it agrees with the crowd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from labelwise.annotators._votes import Votes

#: Probabilities are floored here before logs: a model's hard zero must not veto the votes.
PROBABILITY_FLOOR = 1e-6
#: The range of the model weight w searched, as log(w). Above 5 a confident model would
#: outvote any number of unanimous annotators, trusting it more than a model trained on the
#: same noisy labels deserves.
LOG_WEIGHT_BOUNDS = (np.log(0.02), np.log(5.0))
#: EM stops when the log-likelihood of the votes grows by less than this share in a round
#: (looser and the labels have not settled on crowds with adversarial annotators).
LIKELIHOOD_TOL = 1e-8
#: Pseudo-votes (count, accuracy) that hold the crowd's accuracy above chance where the votes
#: say little about it (few items with two votes): without them EM may settle on "every item
#: is one class and the annotators mislabel the rest", which explains lone votes just as well.
ACCURACY_ANCHOR = (10.0, 0.7)
#: Pseudo-votes that pull an annotator's overall accuracy toward the crowd's.
COIN_PRIOR = 2.0
#: The range of pseudo-votes per confusion row searched, as log(count).
LOG_SMOOTHING_BOUNDS = (np.log(0.5), np.log(1000.0))
#: Refit the model weight and the smoothing on these EM iterations (they settle fast; fitting
#: them every time costs more than EM).
REFIT_EVERY = 10


@dataclass(frozen=True)
class LatentClassFit:
    """What the latent-class model learned.

    posterior : (items, classes) probability of each true class given votes (and model)
    confusion : (annotators, classes, classes) row ``k`` is the annotator's label distribution
        when the true class is ``k``
    class_prior : (classes,) share of each true class (without a model)
    model_weight : the fitted inverse temperature of the model, None without a model
    smoothing : the pseudo-votes per confusion row (fitted unless given)
    n_iter, converged : how EM ended
    """

    posterior: np.ndarray
    confusion: np.ndarray
    class_prior: np.ndarray
    model_weight: float | None
    smoothing: float
    n_iter: int
    converged: bool


def dawid_skene(
    votes: Votes,
    probs: np.ndarray | None = None,
    *,
    smoothing: float | None = None,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> LatentClassFit:
    """Fit the latent-class model by EM, starting from the vote shares (with the model counted
    as one more vote)."""
    log_model = None if probs is None else np.log(np.maximum(probs, PROBABILITY_FLOOR))
    # Without a model, an item's only vote agrees with whatever posterior it made itself: it
    # says nothing about the annotator, and counting it lets EM drift to one class for all.
    informative = np.ones(votes.n_items) if probs is not None else (votes.n_votes >= 2) * 1.0
    posterior = _start(votes, probs)
    weight = None if probs is None else 1.0
    strength = smoothing
    prior = None
    previous = -np.inf
    converged = False
    for n_iter in range(1, max_iter + 1):
        soft = _soft_counts(votes, posterior, informative)
        target = _one_coin(soft)
        refit = n_iter == 1 or n_iter % REFIT_EVERY == 0
        if smoothing is None and refit:
            strength = _fit_smoothing(soft, target)
        confusion = _confusion(soft, target, strength)
        evidence = _vote_evidence(votes, confusion)
        if log_model is None:
            class_prior = (posterior.sum(axis=0) + 1.0) / (votes.n_items + votes.n_classes)
            prior = np.log(class_prior)
        elif refit:
            weight = _fit_weight(log_model, evidence)
            prior = _log_prior(log_model, weight)
        updated, log_likelihood = _softmax(prior + evidence)
        change = np.abs(updated - posterior).max()
        posterior = updated
        # The posterior settles, or the likelihood of the votes stops growing: on votes that
        # carry little information the posterior creeps for hundreds of rounds to no purpose.
        if change < tol or abs(log_likelihood - previous) < LIKELIHOOD_TOL * abs(log_likelihood):
            converged = True
            break
        previous = log_likelihood
    class_prior = posterior.mean(axis=0)
    return LatentClassFit(posterior, confusion, class_prior, weight, strength, n_iter, converged)


def _log_sum_exp(x: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp (scipy's general one costs several times more on tall arrays)."""
    top = x.max(axis=1, keepdims=True)
    return np.log(np.exp(x - top).sum(axis=1, keepdims=True)) + top


def _softmax(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Row-wise softmax, and the sum of the rows' log-normalizers (the log-likelihood)."""
    top = x.max(axis=1, keepdims=True)
    e = np.exp(x - top)
    total = e.sum(axis=1, keepdims=True)
    return e / total, float((np.log(total) + top).sum())


def _start(votes: Votes, probs: np.ndarray | None) -> np.ndarray:
    counts = votes.counts + (1.0 / votes.n_classes if probs is None else probs)
    return counts / counts.sum(axis=1, keepdims=True)


def _soft_counts(votes: Votes, posterior: np.ndarray, informative: np.ndarray) -> np.ndarray:
    """Per annotator, soft counts of (true class, chosen class) under the posterior, over the
    ``informative`` items only."""
    m, k = votes.n_annotators, votes.n_classes
    soft = np.asarray(votes.design_t @ (posterior * informative[:, None])).reshape(m, k, k)
    return soft.transpose(0, 2, 1)


def _confusion(soft: np.ndarray, target: np.ndarray, smoothing: float) -> np.ndarray:
    """Each annotator's confusion matrix: their soft counts plus ``smoothing`` pseudo-votes per
    row spread like their one-coin matrix."""
    confusion = soft + smoothing * target
    return confusion / confusion.sum(axis=2, keepdims=True)


def _fit_smoothing(soft: np.ndarray, target: np.ndarray) -> float:
    """The pseudo-vote count that makes the soft counts likeliest under a Dirichlet-multinomial
    centred on each annotator's one-coin matrix (empirical Bayes): large when annotators behave
    as one-coin annotators do, small when their confusions have a structure of their own."""
    totals = soft.sum(axis=2)

    def negative_evidence(log_strength: float) -> float:
        strength = np.exp(log_strength)
        alpha = strength * target
        rows = gammaln(strength) - gammaln(strength + totals)
        cells = gammaln(alpha + soft) - gammaln(alpha)
        return -float(rows.sum() + cells.sum())

    found = minimize_scalar(
        negative_evidence, bounds=LOG_SMOOTHING_BOUNDS, method="bounded", options={"xatol": 1e-2}
    )
    return float(np.exp(found.x))


def _one_coin(soft: np.ndarray) -> np.ndarray:
    """Per annotator, a confusion matrix with one accuracy for every class (their soft share
    of right labels, itself pulled toward the crowd's) and errors spread as the crowd's are."""
    k = soft.shape[1]
    pooled = soft.sum(axis=0) + 1.0 / k
    diagonal = np.trace(soft, axis1=1, axis2=2)
    anchor_votes, anchor_accuracy = ACCURACY_ANCHOR
    crowd_accuracy = (np.trace(pooled) + anchor_votes * anchor_accuracy) / (
        pooled.sum() + anchor_votes
    )
    accuracy = (diagonal + COIN_PRIOR * crowd_accuracy) / (soft.sum(axis=(1, 2)) + COIN_PRIOR)
    errors = pooled * (1 - np.eye(k))
    errors /= errors.sum(axis=1, keepdims=True)
    eye = np.eye(k)[None]
    return eye * accuracy[:, None, None] + (1 - accuracy[:, None, None]) * errors[None]


def _vote_evidence(votes: Votes, confusion: np.ndarray) -> np.ndarray:
    """Per item and class, the log-likelihood of all the item's votes if that class were true."""
    m, k = votes.n_annotators, votes.n_classes
    table = np.log(confusion).transpose(0, 2, 1).reshape(m * k, k)  # (annotator, chosen), true
    return np.asarray(votes.design @ table)


def _log_prior(log_model: np.ndarray, weight: float) -> np.ndarray:
    scaled = weight * log_model
    return scaled - _log_sum_exp(scaled)


def _fit_weight(log_model: np.ndarray, evidence: np.ndarray) -> float:
    """The model weight that makes the votes likeliest, given the annotators' matrices."""

    def negative_log_likelihood(log_weight: float) -> float:
        prior = _log_prior(log_model, np.exp(log_weight))
        return -float(_log_sum_exp(prior + evidence).sum())

    found = minimize_scalar(
        negative_log_likelihood, bounds=LOG_WEIGHT_BOUNDS, method="bounded", options={"xatol": 1e-2}
    )
    return float(np.exp(found.x))
