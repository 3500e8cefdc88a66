"""Benchmark stability under test-set label errors (Northcutt, Athalye and Mueller, 2021).

The 2021 study flagged likely label errors in the test sets of ten benchmarks with confident
learning, had five crowd workers review each flagged example, and built a *corrected* test set:
examples most workers relabeled to the suggested class are relabeled, the other validated errors
are removed. It then removed correctly labeled test examples at random, raising the share of
originally mislabeled ones (the *prevalence*), and found that model rankings flip at modest
prevalences (ResNet-18 overtakes ResNet-50 on ImageNet once it rises by about 6%).

This module does the same for any set of models:

- :func:`read_crowd_votes` and :func:`read_review_csv` read human reviews (the crowd-vote JSON
  of the study's release, or a plain CSV of reviewed labels) into one tidy *reviews* frame;
  :func:`simulate_reviews` makes one up from known true labels;
- :func:`correct_test_set` applies a consensus rule (``agreement`` of the workers) to it;
- :func:`benchmark_stability` scores every model on the original and the corrected labels, runs
  the prevalence sweep and finds the prevalence at which each pair of models changes places;
- :func:`digits_stability_data` builds a small reproduction on scikit-learn's digits.

A reviews frame has one row per reviewed example: ``index`` (its row in the test set),
``given`` (its original label), ``suggested`` (the label the flagging proposed), and the vote
counts ``n_given``, ``n_suggested``, ``n_both`` (both labels apply) and ``n_neither``.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise._optional import require
from labelwise._params import Interval, Options, check_params
from labelwise._validate import labels_array
from labelwise.errors import ConfigError, DataFileError, InputError, ShapeError
from labelwise.io import markdown_table, read_table, write_png

__all__ = [
    "MULTILABEL_POLICIES",
    "OUTCOMES",
    "REVIEW_COLUMNS",
    "BenchmarkStability",
    "CorrectedTestSet",
    "DigitsStabilityData",
    "benchmark_stability",
    "correct_test_set",
    "digits_stability_data",
    "load_mturk_folder",
    "read_crowd_votes",
    "read_review_csv",
    "simulate_reviews",
]

#: Columns of a reviews frame.
REVIEW_COLUMNS = ("index", "given", "suggested", "n_given", "n_suggested", "n_both", "n_neither")
#: What a review concludes about an example, under a consensus rule of ``agreement`` votes.
#: ``label_ok``: fewer than ``agreement`` workers rejected the given label; the other four are
#: validated errors: ``correctable`` (>= agreement chose the suggested label), ``multi_label``
#: (>= agreement chose both), ``neither`` (>= agreement chose neither) and ``no_agreement``.
OUTCOMES = ("label_ok", "correctable", "multi_label", "neither", "no_agreement")
#: What to do with multi-label items: remove them (as the 2021 study did) or keep their label.
MULTILABEL_POLICIES = ("drop", "keep")
#: Vote tokens of a review CSV that are not class labels.
BOTH, NEITHER = "both", "neither"

_REVIEW_PARAMS = {"n_workers": [Interval(Integral, 1, None)], "accuracy": [Interval(Real, 0, 1)]}
# "3 of 5" is agreement=3, "5 of 5" is agreement=5.
_AGREEMENT = {"agreement": [Interval(Integral, 1, None)]}
_MULTILABEL = {"multilabel": [Options(MULTILABEL_POLICIES)]}
_STABILITY_PARAMS = {"repeats": [Interval(Integral, 1, None)]}


# --- reading reviews -----------------------------------------------------------------------------


def _reviews_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    for column in REVIEW_COLUMNS[3:]:
        frame[column] = frame[column].astype(np.int64)
    frame["index"] = frame["index"].astype(np.int64)
    if frame["index"].duplicated().any():
        dup = frame.loc[frame["index"].duplicated(), "index"].tolist()[:5]
        raise InputError(f"reviews hold the same test index more than once: {dup}.")
    return frame.sort_values("index", kind="stable").reset_index(drop=True)


def read_crowd_votes(source: str | os.PathLike | Sequence[Mapping]) -> pd.DataFrame:
    """Read crowd reviews in the JSON format of the 2021 study's release (``mturk.json``).

    Parameters
    ----------
    source : path or list of dict
        A JSON file, or its parsed list. Each record holds ``id`` (the test index),
        ``given_original_label``, ``our_guessed_label`` and ``mturk``: the vote counts
        ``{"given": n, "guessed": n, "neither": n}``, optionally with ``"both": n``.
        Where the guessed label equals the given one, the release counts each vote under both
        keys; such votes are counted once, as votes for the given label.

    Returns
    -------
    DataFrame
        A reviews frame (columns :data:`REVIEW_COLUMNS`), sorted by index.

    Examples
    --------
    >>> votes = [{"id": 7, "given_original_label": 4, "our_guessed_label": 9,
    ...           "mturk": {"given": 1, "guessed": 4, "neither": 0}}]
    >>> read_crowd_votes(votes)[["index", "given", "suggested", "n_suggested"]]
       index  given  suggested  n_suggested
    0      7      4          9            4
    """
    records = _load_json(source) if isinstance(source, (str, os.PathLike)) else source
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        raise InputError("crowd votes must be a list of records, one per reviewed example.")
    rows = []
    for position, record in enumerate(records):
        try:
            votes = record["mturk"]
            given, suggested = record["given_original_label"], record["our_guessed_label"]
            row = {
                "index": int(record["id"]),
                "given": given,
                "suggested": suggested,
                "n_given": int(votes["given"]),
                "n_suggested": 0 if suggested == given else int(votes["guessed"]),
                "n_both": int(votes.get("both", 0)),
                "n_neither": int(votes["neither"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"crowd vote record {position} is malformed ({exc!r}); each needs id, "
                "given_original_label, our_guessed_label and mturk: {given, guessed, neither}."
            ) from None
        rows.append(row)
    return _reviews_frame(rows)


def _load_json(path: str | os.PathLike) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataFileError(f"no crowd vote file at {str(path)!r}.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFileError(f"cannot read crowd votes from {str(path)!r}: {exc}") from None


def read_review_csv(
    source: str | os.PathLike | pd.DataFrame, labels: Any, suggested: Any = None
) -> pd.DataFrame:
    """Read a plain table of reviewed labels into a reviews frame.

    Parameters
    ----------
    source : path or DataFrame
        Columns ``index`` (the test row) and ``label`` (what the reviewer chose: a class label,
        or ``both`` / ``neither``), plus either ``reviewer`` (one row per reviewer and example)
        or ``votes`` (how many reviewers chose that label). An optional ``suggested`` column
        names the label the flagging proposed.
    labels : array-like (N,)
        The original test labels; the ``given`` label of row ``index`` is ``labels[index]``.
    suggested : array-like (N,), optional
        The proposed label of every test row (e.g. ``LabelIssues.suggested``), used when the
        table has no ``suggested`` column. Without either, an example's suggested label is the
        class other than the given one that most reviewers chose.

    Returns
    -------
    DataFrame
        A reviews frame. Votes for a class that is neither the given nor the suggested label
        count as ``neither``. Labels are matched by their text, so ``"3"`` in the table matches
        the integer label 3.

    Examples
    --------
    >>> table = pd.DataFrame({"index": [0, 0, 0, 1, 1, 1], "reviewer": [1, 2, 3] * 2,
    ...                       "label": ["cat", "dog", "dog", "dog", "dog", "neither"]})
    >>> reviews = read_review_csv(table, labels=["cat", "dog"])
    >>> reviews["n_suggested"].tolist(), reviews["suggested"].iloc[0]
    ([2, 0], 'dog')
    >>> bool(reviews["suggested"].isna().iloc[1])  # no majority for example 1
    True
    """
    table = source if isinstance(source, pd.DataFrame) else read_table(source)
    given_all = labels_array(labels)
    counts = _vote_counts(table)
    by_text = {str(v): v for v in given_all.tolist()}
    rows = []
    for index, votes in counts.groupby("index", sort=True):
        index = int(index)
        if not 0 <= index < given_all.size:
            raise InputError(
                f"review table names test row {index}, outside 0..{given_all.size - 1}; "
                "index must be a row of the test labels."
            )
        given = given_all[index]
        tally = dict(zip(votes["label"].astype(str), votes["votes"].astype(int), strict=True))
        proposal = _proposal(votes, suggested, index, str(given), tally)
        n_given = tally.pop(str(given), 0)
        n_both = tally.pop(BOTH, 0)
        n_suggested = tally.pop(proposal, 0) if proposal is not None else 0
        rows.append(
            {
                "index": index,
                "given": given.item() if hasattr(given, "item") else given,
                "suggested": _as_label(proposal, by_text, given_all.dtype),
                "n_given": n_given,
                "n_suggested": n_suggested,
                "n_both": n_both,
                "n_neither": sum(tally.values()),
            }
        )
    return _reviews_frame(rows)


def _as_label(text: str | None, by_text: dict[str, Any], dtype: np.dtype) -> Any:
    """A label read as text, in the type of the test labels where it can be."""
    if text is None or text in by_text:
        return None if text is None else by_text[text]
    if dtype.kind in "iu":
        try:
            return int(text)
        except ValueError:
            return text
    return text


def _vote_counts(table: pd.DataFrame) -> pd.DataFrame:
    """(index, label, votes[, suggested]) rows, one per example and chosen label."""
    missing = {"index", "label"} - set(table.columns)
    if missing or not {"reviewer", "votes"} & set(table.columns):
        raise InputError(
            f"a review table needs columns index, label and reviewer (or votes); it has "
            f"{list(table.columns)}."
        )
    keys = ["index", "label"] + (["suggested"] if "suggested" in table.columns else [])
    frame = table.copy()
    if "votes" not in frame.columns:
        frame["votes"] = 1
    frame["label"] = frame["label"].astype(str).str.strip()
    try:
        frame["index"] = frame["index"].astype(np.int64)
        frame["votes"] = frame["votes"].astype(np.int64)
    except (TypeError, ValueError):
        raise InputError("review table columns index and votes must hold integers.") from None
    if (frame["votes"] < 0).any():
        raise InputError("review table column votes must not be negative.")
    return frame.groupby(keys, sort=False, as_index=False)["votes"].sum()


def _proposal(
    votes: pd.DataFrame, suggested: Any, index: int, given: str, tally: dict[str, int]
) -> str | None:
    if "suggested" in votes.columns:
        return str(votes["suggested"].iloc[0])
    if suggested is not None:
        return str(labels_array(suggested)[index])
    others = {k: v for k, v in tally.items() if k not in (given, BOTH, NEITHER) and v > 0}
    return max(sorted(others), key=others.__getitem__) if others else None


def simulate_reviews(
    true_labels: Any,
    given_labels: Any,
    indices: Any,
    suggested: Any,
    *,
    n_workers: int = 5,
    accuracy: float = 0.85,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Simulate a crowd reviewing flagged examples, as the 2021 study's workers did.

    Each worker sees the given and the suggested label of an example and answers "given",
    "suggested" or "neither". With probability ``accuracy`` the worker gives the right answer
    (the option holding the true label, else "neither"), otherwise one of the two wrong
    options at random.

    Parameters
    ----------
    true_labels, given_labels : array-like (N,)
        The true and the original labels of the whole test set.
    indices : array-like of int
        The reviewed rows (e.g. ``LabelIssues.indices``).
    suggested : array-like (N,)
        The proposed label of every row (e.g. ``LabelIssues.suggested``).
    n_workers : int, default 5
    accuracy : float in [0, 1], default 0.85
    random_state : int or Generator, default 0

    Returns
    -------
    DataFrame
        A reviews frame (columns :data:`REVIEW_COLUMNS`).

    Examples
    --------
    >>> reviews = simulate_reviews([1, 2], [1, 3], [1], [1, 2], accuracy=1.0)
    >>> reviews[["index", "n_given", "n_suggested", "n_neither"]].values.tolist()
    [[1, 0, 5, 0]]
    """
    truth, given, proposed = (labels_array(v) for v in (true_labels, given_labels, suggested))
    if not truth.size == given.size == proposed.size:
        raise ShapeError(
            f"true_labels, given_labels and suggested must have one entry per test row; got "
            f"{truth.size}, {given.size} and {proposed.size}."
        )
    check_params(_REVIEW_PARAMS, {"n_workers": n_workers, "accuracy": accuracy})
    rows_idx = np.asarray(indices, dtype=np.int64).ravel()
    if rows_idx.size and (rows_idx.min() < 0 or rows_idx.max() >= truth.size):
        raise InputError(f"indices must be rows 0..{truth.size - 1} of the test set.")
    rng = np.random.default_rng(random_state)
    rows = []
    for i in rows_idx.tolist():
        # Options 0 = given, 1 = suggested, 2 = neither; a suggestion equal to the given label
        # is one option, so its votes go to "given".
        right = 0 if truth[i] == given[i] else 1 if truth[i] == proposed[i] else 2
        wrong = rng.integers(1, 3, size=n_workers)  # one of the two other options
        answer = np.where(rng.random(n_workers) < accuracy, right, (right + wrong) % 3)
        if proposed[i] == given[i]:
            answer = np.where(answer == 1, 0, answer)
        tally = np.bincount(answer, minlength=3)
        rows.append(
            {
                "index": i,
                "given": given[i],
                "suggested": proposed[i],
                "n_given": tally[0],
                "n_suggested": tally[1],
                "n_both": 0,
                "n_neither": tally[2],
            }
        )
    return _reviews_frame(rows)


# --- the corrected test set ----------------------------------------------------------------------


@dataclass(eq=False)
class CorrectedTestSet:
    """The test set after human review under one consensus rule.

    Attributes
    ----------
    labels : ndarray (N,)
        Corrected labels for every test row (correctable errors relabeled); rows outside
        ``keep`` still hold their original label.
    keep : ndarray of bool (N,)
        Rows of the corrected test set (validated errors that cannot be corrected removed).
    corrected : ndarray of bool (N,)
        Rows whose label was changed: the originally mislabeled part of the corrected set.
    outcomes : DataFrame
        The reviews frame with an ``outcome`` column (one of :data:`OUTCOMES`).
    agreement : int
        Votes needed for a consensus.
    multilabel : str
        What happened to multi-label items (:data:`MULTILABEL_POLICIES`).
    """

    labels: np.ndarray
    keep: np.ndarray
    corrected: np.ndarray
    outcomes: pd.DataFrame
    agreement: int
    multilabel: str

    @property
    def prevalence(self) -> float:
        """Share of the corrected test set whose original label was wrong."""
        return float(self.corrected.sum() / max(int(self.keep.sum()), 1))

    def counts(self) -> dict[str, int]:
        """Test size, reviewed, validated errors, each outcome, removed, relabeled, kept."""
        outcome = self.outcomes["outcome"]
        counts = {
            "test_size": int(self.keep.size),
            "reviewed": int(len(outcome)),
            "validated_errors": int((outcome != "label_ok").sum()),
        }
        counts.update({name: int((outcome == name).sum()) for name in OUTCOMES[1:]})
        counts.update(
            relabeled=int(self.corrected.sum()),
            removed=int((~self.keep).sum()),
            corrected_size=int(self.keep.sum()),
        )
        return counts


def _check_agreement(agreement: Any) -> int:
    check_params(_AGREEMENT, {"agreement": agreement})
    return int(agreement)


def _check_reviews(reviews: Any, n: int) -> pd.DataFrame:
    if not isinstance(reviews, pd.DataFrame) or set(REVIEW_COLUMNS) - set(reviews.columns):
        raise InputError(
            f"reviews must be a DataFrame with columns {list(REVIEW_COLUMNS)}, as "
            "read_crowd_votes, read_review_csv and simulate_reviews return."
        )
    index = reviews["index"].to_numpy()
    if index.size and (index.min() < 0 or index.max() >= n):
        raise InputError(f"reviews name test rows outside 0..{n - 1}; is this the right test set?")
    return reviews


def review_outcomes(reviews: pd.DataFrame, agreement: int = 3) -> pd.Series:
    """The outcome (one of :data:`OUTCOMES`) of every review under a consensus rule.

    An example is a validated error when at least ``agreement`` workers did not choose its
    given label alone (the 2021 study's "fewer than 3 of 5 chose the given label" is
    ``agreement=3`` with five workers); its outcome is then the option that got at least
    ``agreement`` votes, or ``no_agreement``.
    """
    k = _check_agreement(agreement)
    total = reviews[["n_given", "n_suggested", "n_both", "n_neither"]].sum(axis=1)
    rejected = total - reviews["n_given"]
    outcome = np.select(
        [
            rejected < k,
            reviews["n_suggested"] >= k,
            reviews["n_both"] >= k,
            reviews["n_neither"] >= k,
        ],
        list(OUTCOMES[:4]),
        default=OUTCOMES[4],
    )
    return pd.Series(outcome, index=reviews.index, name="outcome")


def correct_test_set(
    labels: Any, reviews: pd.DataFrame, *, agreement: int = 3, multilabel: str = "drop"
) -> CorrectedTestSet:
    """Build the corrected test set from human reviews under a consensus rule.

    Parameters
    ----------
    labels : array-like (N,)
        The original test labels.
    reviews : DataFrame
        A reviews frame (:data:`REVIEW_COLUMNS`).
    agreement : int, default 3
        Votes needed for a consensus: 3 is the study's "3 of 5", 5 the strict "5 of 5".
    multilabel : {"drop", "keep"}, default "drop"
        Remove multi-label items, or keep them with their original label.

    Returns
    -------
    CorrectedTestSet
        Correctable errors are relabeled to the suggested label; the other validated errors
        (and multi-label ones unless kept) are removed.

    Examples
    --------
    >>> reviews = read_crowd_votes([
    ...     {"id": 0, "given_original_label": 1, "our_guessed_label": 7,
    ...      "mturk": {"given": 1, "guessed": 4, "neither": 0}},
    ...     {"id": 2, "given_original_label": 3, "our_guessed_label": 5,
    ...      "mturk": {"given": 2, "guessed": 1, "neither": 2}}])
    >>> fixed = correct_test_set([1, 2, 3, 4], reviews)
    >>> fixed.labels.tolist(), fixed.keep.tolist()
    ([7, 2, 3, 4], [True, True, False, True])
    >>> correct_test_set([1, 2, 3, 4], reviews, agreement=5).keep.tolist()
    [True, True, True, True]
    """
    given = labels_array(labels)
    reviews = _check_reviews(reviews, given.size)
    check_params(_MULTILABEL, {"multilabel": multilabel})
    outcomes = reviews.assign(outcome=review_outcomes(reviews, agreement).to_numpy())
    rows = outcomes["index"].to_numpy()
    outcome = outcomes["outcome"].to_numpy()
    fixed = given.astype(object) if given.dtype.kind in "US" else given.copy()
    fix = rows[outcome == "correctable"]
    proposals = outcomes.loc[outcome == "correctable", "suggested"].to_list()
    fixed[fix] = np.array(proposals, dtype=object) if fixed.dtype == object else proposals
    keep = np.ones(given.size, dtype=bool)
    removed = np.isin(outcome, ["neither", "no_agreement"])
    if multilabel == "drop":
        removed |= outcome == "multi_label"
    keep[rows[removed]] = False
    corrected = np.zeros(given.size, dtype=bool)
    corrected[fix] = fixed[fix] != given[fix]
    return CorrectedTestSet(fixed, keep, corrected, outcomes, int(agreement), multilabel)


# --- the study -----------------------------------------------------------------------------------


@dataclass(eq=False)
class BenchmarkStability:
    """Model accuracies on original and corrected test labels, and the prevalence sweep.

    Attributes
    ----------
    test_set : CorrectedTestSet
    accuracy : DataFrame
        One row per model: ``model, accuracy_original, accuracy_corrected, rank_original,
        rank_corrected, accuracy_on_errors, accuracy_on_rest`` (the last two on the corrected
        set's originally mislabeled rows and on its other rows, against corrected labels).
    sweep : DataFrame
        Tidy: ``prevalence, repeat, model, accuracy`` on corrected labels after removing
        correctly labeled rows at random.
    flips : DataFrame
        One row per pair of models: ``leader, trailer`` at the base prevalence, ``flip_prevalence``
        (where the mean sweep accuracies cross, linearly interpolated; NaN when they never do in
        the sweep), ``flip_increase`` (over the base prevalence) and ``expected_flip`` (where the
        lines cross in expectation: accuracy is linear in the prevalence).
    base_prevalence : float
    seconds : float
    notes : list of str
    """

    test_set: CorrectedTestSet
    accuracy: pd.DataFrame
    sweep: pd.DataFrame
    flips: pd.DataFrame
    base_prevalence: float
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of the sweep accuracies per prevalence and model."""
        grouped = self.sweep.groupby(["prevalence", "model"], sort=False)["accuracy"]
        return grouped.agg(n_repeats="count", mean="mean", std="std").reset_index()

    def to_markdown(self) -> str:
        """Review outcomes, accuracies and rankings, and the ranking flips, as markdown."""
        counts = self.test_set.counts()
        parts = [
            f"Consensus: {self.test_set.agreement} votes; multi-label items: "
            f"{self.test_set.multilabel}.\n",
            markdown_table(pd.DataFrame([counts])),
            f"\nBase prevalence of originally mislabeled examples in the corrected test set: "
            f"{self.base_prevalence:.2%}.\n",
            markdown_table(self.accuracy),
        ]
        if len(self.flips):
            parts += ["\nRanking flips in the prevalence sweep:\n", markdown_table(self.flips)]
        parts += [f"\n- {note}" for note in self.notes]
        return "\n".join(parts) + "\n"

    def plot(self, path: str | os.PathLike) -> os.PathLike | str:
        """Save accuracy on corrected labels vs prevalence per model, flips marked (PNG).

        Written atomically; the bands are one standard deviation over repeats. Returns ``path``.
        """
        write_png(_figure(self), path)
        return path


def _figure(study: BenchmarkStability):
    # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    Figure = require("matplotlib.figure", "plotting").Figure

    summary = study.summary()
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = figure.subplots()
    for model in study.accuracy["model"]:
        line = summary[summary["model"] == model].sort_values("prevalence")
        x, mean = line["prevalence"].to_numpy(), line["mean"].to_numpy()
        std = np.nan_to_num(line["std"].to_numpy())
        ax.plot(x, mean, marker=".", label=model)
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    ax.axvline(study.base_prevalence, color="grey", lw=0.8, ls=":", label="base prevalence")
    for flip in study.flips.itertuples(index=False):
        if np.isfinite(flip.flip_prevalence):
            ax.axvline(flip.flip_prevalence, color="black", lw=1.0, ls="--")
            ax.annotate(
                f"{flip.trailer} overtakes {flip.leader}\nat {flip.flip_prevalence:.1%}",
                (flip.flip_prevalence, ax.get_ylim()[1]),
                xytext=(4, -4),
                textcoords="offset points",
                va="top",
                fontsize="small",
            )
    ax.set_xlabel("prevalence of originally mislabeled test examples")
    ax.set_ylabel("accuracy on corrected labels")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    return figure


def _predicted_labels(name: str, values: Any, n: int, classes: np.ndarray) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2:
        if array.shape != (n, classes.size):
            raise ShapeError(
                f"pred_probs of model {name!r} have shape {array.shape}; expected ({n}, "
                f"{classes.size}), one column per class in classes order."
            )
        return classes[np.argmax(array, axis=1)]
    predicted = labels_array(values)
    if predicted.shape != (n,):
        raise ShapeError(
            f"predictions of model {name!r} have shape {predicted.shape}; expected ({n},) "
            "labels or (n, n_classes) pred_probs."
        )
    return predicted


def _prevalence_grid(base: float, prevalences: Any, max_prevalence: float, n: int) -> np.ndarray:
    if prevalences is not None:
        grid = np.unique(np.asarray(prevalences, dtype=np.float64))
        if grid.size == 0 or grid.min() <= 0 or grid.max() >= 1:
            raise ConfigError(f"prevalences must be numbers in (0, 1), got {prevalences!r}.")
        return grid[grid >= base - 1e-12]
    if not 0 < max_prevalence < 1:
        raise ConfigError(f"max_prevalence must be in (0, 1), got {max_prevalence!r}.")
    return np.linspace(base, max(base, max_prevalence), n)


def _sweep(
    hits: dict[str, np.ndarray],
    errors: np.ndarray,
    rest: np.ndarray,
    grid: np.ndarray,
    repeats: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Accuracy after keeping every error and a random subset of the other rows."""
    rows = []
    n_err = errors.size
    for p in grid:
        # Keep n_rest rows so that n_err / (n_err + n_rest) is p.
        n_rest = min(rest.size, int(round(n_err * (1 - p) / p))) if p > 0 else rest.size
        for r in range(repeats):
            kept = np.concatenate([errors, rng.choice(rest, size=n_rest, replace=False)])
            for model, hit in hits.items():
                rows.append((float(p), r, model, float(hit[kept].mean())))
    return pd.DataFrame(rows, columns=["prevalence", "repeat", "model", "accuracy"])


def _flips(
    summary: pd.DataFrame, accuracy: pd.DataFrame, base: float, models: list[str]
) -> pd.DataFrame:
    means = summary.pivot(index="prevalence", columns="model", values="mean").sort_index()
    spread = summary.pivot(index="prevalence", columns="model", values="std").sort_index()
    repeats = summary.pivot(index="prevalence", columns="model", values="n_repeats").sort_index()
    acc = accuracy.set_index("model")
    rows = []
    for a, b in itertools.combinations(models, 2):
        diff = (means[a] - means[b]).to_numpy()
        x = means.index.to_numpy()
        lead_a = acc.at[a, "accuracy_corrected"] >= acc.at[b, "accuracy_corrected"]
        leader, trailer = (a, b) if lead_a else (b, a)
        sign = 1.0 if lead_a else -1.0
        d = sign * diff  # leader minus trailer: positive until the flip
        # A flip counts only once the trailer leads by more than twice the sampling error of
        # the difference (a conservative bound from each model's spread over the repeats), and
        # only between models whose corrected accuracies differ at all.
        error = np.sqrt(spread[a] ** 2 + spread[b] ** 2) / np.sqrt(repeats[a])
        margin = 2.0 * np.nan_to_num(error.to_numpy())
        tied = acc.at[a, "accuracy_corrected"] == acc.at[b, "accuracy_corrected"]
        flip = np.nan
        below = np.flatnonzero(d < -margin) if not tied else np.array([], dtype=int)
        if below.size:
            j = below[0]
            flip = x[j] if j == 0 else x[j - 1] + (x[j] - x[j - 1]) * d[j - 1] / (d[j - 1] - d[j])
        # Accuracy is linear in the prevalence p: (1 - p) acc_rest + p acc_errors.
        d_rest = acc.at[leader, "accuracy_on_rest"] - acc.at[trailer, "accuracy_on_rest"]
        d_err = acc.at[leader, "accuracy_on_errors"] - acc.at[trailer, "accuracy_on_errors"]
        expected = d_rest / (d_rest - d_err) if d_rest - d_err > 0 and d_err < 0 else np.nan
        rows.append(
            {
                "leader": leader,
                "trailer": trailer,
                "flip_prevalence": flip,
                "flip_increase": flip - base,
                "expected_flip": expected,
            }
        )
    columns = ["leader", "trailer", "flip_prevalence", "flip_increase", "expected_flip"]
    return pd.DataFrame(rows, columns=columns)


def benchmark_stability(
    predictions: Mapping[str, Any],
    labels: Any,
    reviews: pd.DataFrame,
    *,
    agreement: int = 3,
    multilabel: str = "drop",
    classes: Any = None,
    prevalences: Any = None,
    max_prevalence: float = 0.3,
    n_prevalences: int = 25,
    repeats: int = 20,
    random_state: Any = 0,
) -> BenchmarkStability:
    """Score models on original and corrected test labels and find where their ranking flips.

    Parameters
    ----------
    predictions : mapping of str to array-like
        Each model's test predictions: labels (N,) or pred_probs (N, K).
    labels : array-like (N,)
        The original test labels.
    reviews : DataFrame
        Human reviews of flagged examples (:func:`read_crowd_votes`, :func:`read_review_csv`,
        :func:`simulate_reviews`).
    agreement : int, default 3
        Votes needed for a consensus (3: "3 of 5"; 5: "5 of 5").
    multilabel : {"drop", "keep"}, default "drop"
    classes : array-like (K,), optional
        The class of each pred_probs column; by default the sorted distinct original labels.
    prevalences : array-like, optional
        The prevalences of the sweep; by default ``n_prevalences`` points from the base
        prevalence to ``max_prevalence``. Points below the base prevalence are dropped.
    max_prevalence : float, default 0.3
    n_prevalences : int, default 25
    repeats : int, default 20
        Random removals per prevalence.
    random_state : int or Generator, default 0

    Returns
    -------
    BenchmarkStability

    Examples
    --------
    >>> reviews = read_crowd_votes([{"id": 0, "given_original_label": 1,
    ...     "our_guessed_label": 0, "mturk": {"given": 0, "guessed": 5, "neither": 0}}])
    >>> study = benchmark_stability({"a": [1, 1, 0, 1], "b": [0, 1, 1, 1]}, [1, 1, 0, 1],
    ...                             reviews, repeats=2, n_prevalences=3)
    >>> study.accuracy[["model", "accuracy_original", "accuracy_corrected"]]
      model  accuracy_original  accuracy_corrected
    0     a                1.0                0.75
    1     b                0.5                0.75
    """
    start = time.perf_counter()
    if not isinstance(predictions, Mapping) or not predictions:
        raise InputError("predictions must be a non-empty mapping of model name to predictions.")
    check_params(_STABILITY_PARAMS, {"repeats": repeats})
    given = labels_array(labels)
    fixed = correct_test_set(given, reviews, agreement=agreement, multilabel=multilabel)
    names = np.asarray(np.unique(given) if classes is None else labels_array(classes))
    models = [str(m) for m in predictions]
    predicted = {
        str(m): _predicted_labels(str(m), v, given.size, names) for m, v in predictions.items()
    }
    keep, err = fixed.keep, fixed.corrected
    rest = keep & ~err
    hits = {m: p == fixed.labels for m, p in predicted.items()}
    rows = []
    for m, p in predicted.items():
        rows.append(
            {
                "model": m,
                "accuracy_original": float(np.mean(p == given)),
                "accuracy_corrected": float(hits[m][keep].mean()) if keep.any() else np.nan,
                "accuracy_on_errors": float(hits[m][err].mean()) if err.any() else np.nan,
                "accuracy_on_rest": float(hits[m][rest].mean()) if rest.any() else np.nan,
            }
        )
    accuracy = pd.DataFrame(rows)
    for which in ("original", "corrected"):
        ranks = accuracy[f"accuracy_{which}"].rank(ascending=False, method="min")
        accuracy[f"rank_{which}"] = ranks.astype("Int64")
    accuracy = accuracy[
        [
            "model",
            "accuracy_original",
            "accuracy_corrected",
            "rank_original",
            "rank_corrected",
            "accuracy_on_errors",
            "accuracy_on_rest",
        ]
    ]
    base = fixed.prevalence
    notes = []
    if err.any():
        grid = _prevalence_grid(base, prevalences, max_prevalence, n_prevalences)
        rng = np.random.default_rng(random_state)
        sweep = _sweep(hits, np.flatnonzero(err), np.flatnonzero(rest), grid, repeats, rng)
    else:
        notes.append("no review made a correctable error, so there is no prevalence to raise.")
        sweep = pd.DataFrame(columns=["prevalence", "repeat", "model", "accuracy"])
    study = BenchmarkStability(fixed, accuracy, sweep, pd.DataFrame(), base, notes=notes)
    summary = study.summary() if len(sweep) else None
    study.flips = (
        _flips(summary, accuracy, base, models)
        if summary is not None and len(models) > 1
        else pd.DataFrame(
            columns=["leader", "trailer", "flip_prevalence", "flip_increase", "expected_flip"]
        )
    )
    study.seconds = time.perf_counter() - start
    return study


# --- a reproduction on digits --------------------------------------------------------------------


@dataclass(eq=False)
class DigitsStabilityData:
    """A test set with systematic label errors, two models' predictions and a crowd's reviews.

    Attributes
    ----------
    predictions : dict of str to ndarray
        Test predictions of the high-capacity model (``"rbf_svm"``) and the low-capacity one
        (``"linear"``), both trained on equally noisy training labels.
    labels, true_labels : ndarray
        Original (noisy) and true test labels.
    reviews : DataFrame
        Simulated crowd reviews of the examples flagged by :func:`labelwise.find_label_issues`.
    n_flagged : int
    """

    predictions: dict[str, np.ndarray]
    labels: np.ndarray
    true_labels: np.ndarray
    reviews: pd.DataFrame
    n_flagged: int


def _blind_spot_noise(
    X: np.ndarray, y: np.ndarray, rate: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Labels from an annotator with blind spots: around random examples of a class, the
    ``size`` nearest examples of that class all get one other class. The errors are local in
    feature space, so a flexible model learns them from training labels and repeats them on
    test examples, while a smooth model cannot."""
    noisy = y.copy()
    classes = np.unique(y)
    target = int(round(rate * y.size))
    for center in rng.permutation(y.size):
        if np.count_nonzero(noisy != y) >= target:
            break
        same = np.flatnonzero(y == y[center])
        nearest = same[np.argsort(((X[same] - X[center]) ** 2).sum(axis=1))[:size]]
        noisy[nearest] = rng.choice(classes[classes != y[center]])
    return noisy


def digits_stability_data(
    noise_rate: float = 0.04,
    *,
    blind_spot_size: int = 10,
    test_size: float = 0.5,
    n_workers: int = 5,
    worker_accuracy: float = 0.85,
    random_state: int = 0,
) -> DigitsStabilityData:
    """A small reproduction of the 2021 study's setting on scikit-learn's digits.

    One annotator labels all of digits with systematic, local mistakes (``noise_rate`` of the
    labels, in blind spots of ``blind_spot_size`` neighbours), so training and test labels share
    them, as a benchmark's do. An RBF-kernel SVM (high capacity) and a strongly regularized
    logistic regression (low capacity) are trained on the noisy training labels. The test
    examples flagged by :func:`labelwise.find_label_issues` (cross-validated logistic-regression
    pred_probs on the test set) are reviewed by a simulated crowd.

    Examples
    --------
    >>> data = digits_stability_data(random_state=0)  # doctest: +SKIP
    >>> sorted(data.predictions)  # doctest: +SKIP
    ['linear', 'rbf_svm']
    """
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from labelwise.issues import find_label_issues
    from labelwise.predict import cross_val_pred_probs

    rng = np.random.default_rng(random_state)
    X, y = load_digits(return_X_y=True)
    noisy = _blind_spot_noise(X, y, noise_rate, blind_spot_size, rng)
    X_train, X_test, n_train, n_test, _, y_test = train_test_split(
        X, noisy, y, test_size=test_size, stratify=y, random_state=random_state
    )
    models = {
        "rbf_svm": SVC(C=100.0, gamma=0.002),
        "linear": make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000)),
    }
    predictions = {
        name: model.fit(X_train, n_train).predict(X_test) for name, model in models.items()
    }
    flagger = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    pred_probs = cross_val_pred_probs(flagger, X_test, n_test, cv=5, random_state=random_state)
    issues = find_label_issues(n_test, pred_probs)
    reviews = simulate_reviews(
        y_test,
        n_test,
        issues.indices,
        issues.suggested,
        n_workers=n_workers,
        accuracy=worker_accuracy,
        random_state=rng,
    )
    return DigitsStabilityData(predictions, n_test, y_test, reviews, int(issues.num_issues))


def load_mturk_folder(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Read ``given_labels.npy``, ``pred_probs.npy`` and ``mturk.json`` from one folder."""
    folder = Path(folder)
    given = np.load(folder / "given_labels.npy")
    pred_probs = np.load(folder / "pred_probs.npy")
    return given, pred_probs, read_crowd_votes(folder / "mturk.json")
