"""How to split a labeling budget between cheap noisy labels and expensive clean ones.

After "Balancing Label Quantity and Quality for Scalable Elicitation" (2024): a weak label costs
a fraction of a strong one (0.1 by default), a budget ``B`` is counted in strong-label units, and
a share ``f`` of it buys strong labels: ``n_strong = f B / strong_cost`` and
``n_weak = (1 - f) B / weak_cost``, on disjoint examples of a pool. For every budget and share,
a linear softmax model is trained by SGD either **sequentially** (weak labels first, then the
strong ones with a fresh optimizer, starting from the weak solution) or on a **weighted** mix of
both (strong examples weighted up). The regime of a budget is named by its best share:
*quantity-dominant* (``f* = 0``, all weak), *quality-dominant* (``f* = 1``, all strong) or
*mixed*.

Accuracy-vs-count curves ``acc(n) = a - b n^(-c)`` are fitted (scipy ``curve_fit``) to the
weak-only and strong-only runs, and give the budget at which all-strong overtakes all-weak; the
Pareto frontier of cost vs accuracy lists the runs no cheaper run beats.

The pool is finite: when ``n_weak`` would exceed the unused pool, it is capped there (and the
result's notes say so), which is what happens to an all-weak budget on a small dataset.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit
from sklearn import datasets as sk_datasets
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

from labelwise._optional import require
from labelwise._params import Interval, check_params
from labelwise.errors import ConfigError, InputError, ShapeError
from labelwise.io import markdown_table, write_png
from labelwise.simulate import inject_noise
from labelwise.study._checks import checked_list

__all__ = [
    "DATASETS",
    "METHODS",
    "REGIMES",
    "WEAK_LABELERS",
    "LabelBudget",
    "label_budget",
    "saturating_curve",
]

#: Bundled datasets known by name.
DATASETS: dict[str, Callable[..., Any]] = {
    "digits": sk_datasets.load_digits,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
}
#: How weak and strong labels are combined when both are bought.
METHODS = ("sequential", "weighted")
#: Simulated cheap labelers: a weak model, or a noisy annotator with class-dependent confusions.
WEAK_LABELERS = ("model", "annotator")
REGIMES = ("quantity-dominant", "mixed", "quality-dominant")
#: Clean examples the weak model is trained on (they are not part of the pool).
LABELER_SIZE = 200
#: Principal components the weak model sees: 4 gives ~80% accuracy on digits, the weak
#: labeler's accuracy in the paper's small-scale check (79%).
WEAK_COMPONENTS = 4
#: Epochs per training phase, and the fewest SGD steps a phase takes (small sets get more
#: epochs, so that 10 labels are not fit with 10 steps).
EPOCHS, MIN_STEPS = 30, 8000
#: SGD settings: a constant step keeps no optimizer state, so the strong phase of sequential
#: training starts with a fresh optimizer from the weak phase's weights.
SGD_PARAMS = dict(loss="log_loss", alpha=1e-3, learning_rate="constant", eta0=0.01)
#: Weight of a strong example relative to a weak one in the weighted mix.
STRONG_WEIGHT = 3.0
#: Share of the annotator's mistakes that go to each class's most confusable class.
PARTNER_SHARE = 0.7

ProgressCallback = Callable[[int, int], Any]


def saturating_curve(n: Any, a: float, b: float, c: float) -> np.ndarray:
    """``a - b * n ** (-c)``: accuracy rising toward ``a`` as the label count ``n`` grows.

    >>> float(saturating_curve(4.0, 1.0, 1.0, 0.5))
    0.5
    """
    return a - b * np.power(np.asarray(n, dtype=np.float64), -c)


# --- the result ----------------------------------------------------------------------------------


@dataclass(eq=False)
class LabelBudget:
    """Accuracies of every budget x strong share x method x seed, and what they imply.

    Attributes
    ----------
    results : DataFrame
        Tidy: ``budget, fraction, method, seed, n_strong, n_weak, cost, accuracy``. Shares 0 and
        1 use one kind of label only and have method ``single``.
    curves : DataFrame
        The fitted ``acc(n) = a - b n^(-c)`` per label ``source`` (weak, strong), with the
        ``n_points`` it was fitted on.
    weak_accuracy : float
        Accuracy of the weak labels on the pool.
    notes : list of str
    seconds : float
    """

    results: pd.DataFrame
    curves: pd.DataFrame
    weak_accuracy: float
    weak_cost: float
    strong_cost: float
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over seeds per budget, share and method."""
        keys = ["budget", "fraction", "method"]
        grouped = self.results.groupby(keys, sort=True)
        table = grouped.agg(
            n_strong=("n_strong", "mean"),
            n_weak=("n_weak", "mean"),
            cost=("cost", "mean"),
            n_seeds=("accuracy", "count"),
            mean=("accuracy", "mean"),
            std=("accuracy", "std"),
        )
        return table.reset_index()

    def regimes(self, tolerance: float = 0.01) -> pd.DataFrame:
        """Per budget: the best share and method, all-weak and all-strong accuracy, the regime.

        Parameters
        ----------
        tolerance : float, default 0.01
            A budget is called *mixed* only when its best mix beats the better of all-weak and
            all-strong by more than this (in accuracy); otherwise the better pure strategy
            names the regime. ``best_fraction`` is the plain argmax either way, and ``margin``
            how far the best mix is above the better pure strategy.
        """
        summary = self.summary()
        rows = []
        for budget, part in summary.groupby("budget", sort=True):
            best = part.loc[part["mean"].idxmax()]
            weak = part.loc[part["fraction"] == 0, "mean"]
            strong = part.loc[part["fraction"] == 1, "mean"]
            weak = float(weak.iloc[0]) if len(weak) else -np.inf
            strong = float(strong.iloc[0]) if len(strong) else -np.inf
            mixes = part.loc[(part["fraction"] > 0) & (part["fraction"] < 1), "mean"]
            margin = float(mixes.max()) - max(weak, strong) if len(mixes) else np.nan
            if np.isfinite(margin) and margin > tolerance:
                regime = REGIMES[1]
            else:
                regime = REGIMES[0] if weak >= strong else REGIMES[2]
            rows.append(
                {
                    "budget": budget,
                    "best_fraction": float(best["fraction"]),
                    "best_method": best["method"],
                    "best_accuracy": float(best["mean"]),
                    "all_weak": weak if np.isfinite(weak) else np.nan,
                    "all_strong": strong if np.isfinite(strong) else np.nan,
                    "mix_margin": margin,
                    "regime": regime,
                }
            )
        return pd.DataFrame(rows)

    def frontier(self) -> pd.DataFrame:
        """The Pareto frontier of cost vs mean accuracy: runs that no cheaper run beats."""
        summary = self.summary().sort_values(["cost", "mean"], ascending=[True, False])
        best, keep = -np.inf, []
        for idx, acc in zip(summary.index, summary["mean"], strict=True):
            if acc > best:
                keep.append(idx)
                best = acc
        return summary.loc[keep].reset_index(drop=True)

    def crossover_budget(self) -> float:
        """The budget from which all-strong beats all-weak, by the fitted curves (NaN if none).

        Ignores the pool cap: it answers for an unlimited supply of weak labels.
        """
        curves = self.curves.set_index("source")
        if (
            not {"weak", "strong"} <= set(curves.index)
            or curves[["a", "b", "c"]].isna().any().any()
        ):
            return np.nan
        budgets = np.geomspace(1, 1e5, 2001)
        strong = saturating_curve(
            budgets / self.strong_cost, *curves.loc["strong", ["a", "b", "c"]]
        )
        weak = saturating_curve(budgets / self.weak_cost, *curves.loc["weak", ["a", "b", "c"]])
        ahead = np.flatnonzero(strong > weak)
        return float(budgets[ahead[0]]) if ahead.size else np.nan

    def to_markdown(self) -> str:
        """Regimes per budget, the accuracy grid, the fitted curves and the Pareto frontier."""
        grid = self.summary()
        # One seed has no spread: the mean alone, rather than a misleading "± 0.000".
        grid["cell"] = [
            f"{m:.3f}" if np.isnan(s) else f"{m:.3f} ± {s:.3f}"
            for m, s in zip(grid["mean"], grid["std"], strict=True)
        ]
        grid["column"] = [
            f"f={f:g}" if m == "single" else f"f={f:g} {m}"
            for f, m in zip(grid["fraction"], grid["method"], strict=True)
        ]
        wide = grid.pivot(index="budget", columns="column", values="cell")
        order = grid.drop_duplicates("column").sort_values(["fraction", "method"])["column"]
        wide = wide[list(order)].reset_index()
        crossover = self.crossover_budget()
        parts = [
            f"Weak labels {self.weak_accuracy:.1%} accurate, cost {self.weak_cost:g}; strong "
            f"labels cost {self.strong_cost:g}. Budgets in strong-label units.\n",
            markdown_table(self.regimes()),
            "\nA budget is *mixed* when its best mix beats both pure strategies by more than 0.01 "
            "(mix_margin); otherwise the better pure strategy names it.\n",
            "\nMean test accuracy ± standard deviation over seeds (f: share of the budget spent "
            "on strong labels):\n",
            markdown_table(wide),
            "\nFitted accuracy-vs-count curves acc(n) = a - b n^(-c):\n",
            markdown_table(self.curves),
            "\nAll-strong overtakes all-weak (fitted curves, unlimited weak labels) from budget "
            + ("–" if not np.isfinite(crossover) else f"{crossover:.3g}")
            + ".\n",
            "\nPareto frontier (cost vs mean accuracy):\n",
            markdown_table(self.frontier()[["cost", "budget", "fraction", "method", "mean"]]),
        ]
        parts += [f"\n- {note}" for note in self.notes]
        return "\n".join(parts) + "\n"

    def plot(self, path: str | os.PathLike) -> os.PathLike | str:
        """Save accuracy vs strong share per budget and the cost-accuracy frontier (PNG, atomic)."""
        write_png(_figure(self), path)
        return path


def _figure(study: LabelBudget):
    # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    Figure = require("matplotlib.figure", "plotting").Figure

    summary = study.summary()
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    for i, (budget, part) in enumerate(summary.groupby("budget", sort=True)):
        color = f"C{i % 10}"
        for method, style in (("sequential", "-"), ("weighted", ":")):
            line = part[part["method"].isin(["single", method])].sort_values("fraction")
            label = f"B={budget:g}" if method == "sequential" else None
            left.plot(line["fraction"], line["mean"], style, marker=".", color=color, label=label)
        best = part.loc[part["mean"].idxmax()]
        left.plot(best["fraction"], best["mean"], "*", color=color, ms=12)
    left.set_xlabel("share of budget on strong labels (f)")
    left.set_ylabel("test accuracy")
    left.set_title("solid: sequential, dotted: weighted; star: best f")
    left.grid(alpha=0.3)
    left.legend(fontsize="small")
    right.scatter(summary["cost"], summary["mean"], s=12, c="lightgrey", label="all runs")
    for f, marker in ((0.0, "v"), (1.0, "^")):
        part = summary[summary["fraction"] == f]
        right.scatter(part["cost"], part["mean"], marker=marker, s=30, label=f"f={f:g}")
    frontier = study.frontier()
    right.step(frontier["cost"], frontier["mean"], where="post", color="black", label="Pareto")
    right.set_xscale("log")
    right.set_xlabel("cost (strong-label units)")
    right.set_ylabel("test accuracy")
    right.grid(alpha=0.3)
    right.legend(fontsize="small")
    return figure


# --- argument checks -----------------------------------------------------------------------------


_POSITIVE = Interval(Real, 0, None, closed="neither")
_PARAMS = {
    "weak_cost": [_POSITIVE],
    "strong_cost": [_POSITIVE],
    "weak_accuracy": [Interval(Real, 0, 1, closed="right")],
}


def _sorted_numbers(name: str, values: Any, rule: Interval) -> tuple[float, ...]:
    return tuple(sorted({float(v) for v in checked_list(name, values, rule)}))


# --- data and labelers ---------------------------------------------------------------------------


def _load(dataset: str | None, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, LabelEncoder]:
    if X is None and y is None:
        if dataset not in DATASETS:
            raise ConfigError(f"dataset must be one of {list(DATASETS)}, got {dataset!r}.")
        X, y = DATASETS[dataset](return_X_y=True)
    elif X is None or y is None:
        raise ConfigError("give X and y together, or neither (and a bundled dataset name).")
    X = np.asarray(X, dtype=np.float64)
    encoder = LabelEncoder()
    y = encoder.fit_transform(np.asarray(y))
    if X.ndim != 2 or X.shape[0] != y.size:
        raise ShapeError(
            f"X must be (n_examples, n_features) with one row per label; got {X.shape}."
        )
    if not np.isfinite(X).all():
        raise InputError("X holds NaN or infinite values; impute or drop them first.")
    return X, y, encoder


def _weak_model(X_lab: np.ndarray, y_lab: np.ndarray, seed: int):
    components = min(WEAK_COMPONENTS, X_lab.shape[1])
    return make_pipeline(PCA(components, random_state=seed), LogisticRegression(max_iter=1000)).fit(
        X_lab, y_lab
    )


def _annotator_matrix(X: np.ndarray, y: np.ndarray, accuracy: float) -> np.ndarray:
    """P(weak | true): ``accuracy`` on the diagonal; most errors go to the nearest class."""
    k = int(y.max()) + 1
    centroids = np.stack([X[y == c].mean(axis=0) for c in range(k)])
    dist = ((centroids[:, None] - centroids[None]) ** 2).sum(axis=-1)
    np.fill_diagonal(dist, np.inf)
    matrix = np.full((k, k), (1 - accuracy) * (1 - PARTNER_SHARE) / max(k - 2, 1))
    for true in range(k):
        matrix[np.argmin(dist[true]), true] = (1 - accuracy) * (PARTNER_SHARE if k > 2 else 1)
        matrix[true, true] = accuracy
    return matrix / matrix.sum(axis=0, keepdims=True)


def _weak_labels(
    labeler: Any,
    X: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    lab: np.ndarray,
    acc: float,
    seed: int,
) -> np.ndarray:
    if isinstance(labeler, str):
        if labeler == "model":
            return _weak_model(X[lab], y[lab], seed).predict(X[pool])
        if labeler == "annotator":
            matrix = _annotator_matrix(X[pool], y[pool], acc)
            noisy = inject_noise(
                y[pool],
                kind="matrix",
                noise_matrix=matrix,
                classes=np.arange(matrix.shape[0]),
                random_state=seed,
            )
            return np.asarray(noisy.labels)
        raise ConfigError(
            f"weak_labeler must be one of {list(WEAK_LABELERS)} or an array of weak labels, got "
            f"{labeler!r}."
        )
    raise ConfigError("weak_labeler must be a name; pass your own weak labels as weak_labels.")


# --- training ------------------------------------------------------------------------------------


def _schedule(n: int, rng: np.random.Generator) -> np.ndarray:
    """Row order of one phase: whole shuffled epochs, at least ``MIN_STEPS`` steps."""
    epochs = max(EPOCHS, math.ceil(MIN_STEPS / max(n, 1)))
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])


def _train(
    method: str,
    Z_weak: np.ndarray,
    t_weak: np.ndarray,
    Z_strong: np.ndarray,
    t_strong: np.ndarray,
    classes: np.ndarray,
    seed: int,
) -> SGDClassifier:
    rng = np.random.default_rng(seed)
    clf = SGDClassifier(**SGD_PARAMS, random_state=seed)
    # One partial_fit call per phase over a tiled index: SGD's compiled loop does the epochs.
    if method == "weighted":
        Z = np.vstack([Z_weak, Z_strong])
        t = np.concatenate([t_weak, t_strong])
        w = np.concatenate([np.ones(t_weak.size), np.full(t_strong.size, STRONG_WEIGHT)])
        order = _schedule(t.size, rng)
        return clf.partial_fit(Z[order], t[order], classes=classes, sample_weight=w[order])
    for Z, t in ((Z_weak, t_weak), (Z_strong, t_strong)):  # sequential; "single" has one phase
        if t.size:
            order = _schedule(t.size, rng)
            clf.partial_fit(Z[order], t[order], classes=classes)
    return clf


def _counts(budget: float, fraction: float, weak_cost: float, strong_cost: float, pool: int):
    n_strong = min(int(math.floor(fraction * budget / strong_cost + 1e-9)), pool)
    wanted = int(math.floor((1 - fraction) * budget / weak_cost + 1e-9))
    return n_strong, min(wanted, pool - n_strong), wanted


def _fit_curve(counts: np.ndarray, acc: np.ndarray) -> tuple[float, float, float]:
    counts, acc = np.asarray(counts, float), np.asarray(acc, float)
    if np.unique(counts).size < 3:
        return (np.nan, np.nan, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            params, _ = curve_fit(
                saturating_curve,
                counts,
                acc,
                p0=(float(acc.max()), 1.0, 0.5),
                bounds=([0.0, 0.0, 0.0], [1.0, np.inf, 3.0]),
                maxfev=20000,
            )
        except (RuntimeError, ValueError):
            return (np.nan, np.nan, np.nan)
    return tuple(float(p) for p in params)


def label_budget(
    X: Any = None,
    y: Any = None,
    *,
    dataset: str = "digits",
    budgets: Sequence[float] = (10, 20, 40, 80, 160, 320),
    fractions: Sequence[float] = (0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 1.0),
    methods: Sequence[str] = METHODS,
    weak_cost: float = 0.1,
    strong_cost: float = 1.0,
    weak_labeler: str = "model",
    weak_accuracy: float = 0.79,
    weak_labels: Any = None,
    seeds: Sequence[int] = (0, 1, 2),
    test_size: float = 0.25,
    progress: ProgressCallback | None = None,
) -> LabelBudget:
    """Train at every budget and weak/strong mix and find the regime of each budget.

    Parameters
    ----------
    X, y : array-like, optional
        Features (n, d) and clean labels (n,); by default the bundled ``dataset``.
    dataset : {"digits", "wine", "breast_cancer"}, default "digits"
    budgets : sequence of float
        Total budgets, in units of one strong label's cost.
    fractions : sequence of float in [0, 1]
        Shares of the budget spent on strong labels (0: all weak, 1: all strong).
    methods : sequence of {"sequential", "weighted"}
        How mixes (0 < f < 1) are trained.
    weak_cost, strong_cost : float, default 0.1 and 1
    weak_labeler : {"model", "annotator"}, default "model"
        ``"model"``: a logistic regression on the first principal components of
        :data:`LABELER_SIZE` clean examples held out from the pool (~80% accurate on digits,
        wrong in systematic, instance-dependent ways). ``"annotator"``: each label is right
        with probability ``weak_accuracy``, and most mistakes go to the class whose mean is
        nearest (class-dependent confusions).
    weak_accuracy : float, default 0.79
        The annotator's accuracy (``weak_labeler="annotator"``).
    weak_labels : array-like (n,), optional
        Your own cheap labels for every row of ``X``, instead of a simulated labeler.
    seeds : sequence of int
        Each seed draws its own test split, pool order and SGD order.
    test_size : float, default 0.25
    progress : callable, optional
        ``progress(done, total)`` after each seed.

    Returns
    -------
    LabelBudget

    Examples
    --------
    >>> study = label_budget(budgets=[5, 20], fractions=[0, 1], seeds=[0])  # doctest: +SKIP
    >>> study.regimes()[["budget", "regime"]]  # doctest: +SKIP
    """
    start = time.perf_counter()
    X, y, encoder = _load(dataset, X, y)
    budgets = _sorted_numbers("budgets", budgets, _POSITIVE)
    fractions = _sorted_numbers("fractions", fractions, Interval(Real, 0, 1))
    methods = tuple(dict.fromkeys([methods] if isinstance(methods, str) else methods))
    if not methods or set(methods) - set(METHODS):
        raise ConfigError(
            f"methods must be a non-empty list from {list(METHODS)}, got {methods!r}."
        )
    check_params(
        _PARAMS,
        {"weak_cost": weak_cost, "strong_cost": strong_cost, "weak_accuracy": weak_accuracy},
    )
    weak_cost, strong_cost = float(weak_cost), float(strong_cost)
    if weak_labels is not None:
        weak_all = _encode_weak(weak_labels, encoder, y.size)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ConfigError("seeds must be a non-empty list of integers.")
    classes = np.unique(y)
    rows, notes, weak_acc = [], set(), []
    for done, seed in enumerate(seeds, start=1):
        rest, test = train_test_split(
            np.arange(y.size), test_size=test_size, stratify=y, random_state=seed
        )
        if weak_labels is None and weak_labeler == "model":
            lab, pool = train_test_split(
                rest,
                train_size=min(LABELER_SIZE, rest.size // 3),
                stratify=y[rest],
                random_state=seed,
            )
        else:
            lab, pool = rest[:0], rest
        pool = np.random.default_rng(seed).permutation(pool)
        if weak_labels is None:
            weak = _weak_labels(weak_labeler, X, y, pool, lab, weak_accuracy, seed)
        else:
            weak = weak_all[pool]
        weak_acc.append(float(np.mean(weak == y[pool])))
        scaler = StandardScaler().fit(X[rest])  # unlabeled features are free
        Z_pool, Z_test = scaler.transform(X[pool]), scaler.transform(X[test])
        for budget in budgets:
            for fraction in fractions:
                n_strong, n_weak, wanted = _counts(
                    budget, fraction, weak_cost, strong_cost, pool.size
                )
                if n_weak < wanted:
                    notes.add(
                        f"budget {budget:g} at f={fraction:g} could buy {wanted} weak labels but "
                        f"the pool had {n_weak} examples left; the rest of the budget is unspent."
                    )
                strong_rows = slice(0, n_strong)
                weak_rows = slice(n_strong, n_strong + n_weak)
                single = n_strong == 0 or n_weak == 0
                for method in ("single",) if single else methods:
                    clf = _train(
                        method,
                        Z_pool[weak_rows],
                        weak[weak_rows],
                        Z_pool[strong_rows],
                        y[pool][strong_rows],
                        classes,
                        seed,
                    )
                    rows.append(
                        {
                            "budget": budget,
                            "fraction": fraction,
                            "method": method,
                            "seed": seed,
                            "n_strong": n_strong,
                            "n_weak": n_weak,
                            "cost": n_strong * strong_cost + n_weak * weak_cost,
                            "accuracy": float(np.mean(clf.predict(Z_test) == y[test])),
                        }
                    )
        if progress is not None:
            progress(done, len(seeds))
    results = pd.DataFrame(rows)
    curves = _curves(results)
    study = LabelBudget(
        results,
        curves,
        float(np.mean(weak_acc)),
        weak_cost,
        strong_cost,
        notes=sorted(notes),
    )
    study.seconds = time.perf_counter() - start
    return study


def _encode_weak(weak_labels: Any, encoder: LabelEncoder, n: int) -> np.ndarray:
    weak = np.asarray(weak_labels)
    if weak.shape != (n,):
        raise ShapeError(f"weak_labels must have one label per row of X ({n}), got {weak.shape}.")
    unknown = set(weak.tolist()) - set(encoder.classes_.tolist())
    if unknown:
        raise InputError(
            f"weak_labels hold classes absent from y: {sorted(map(str, unknown))[:5]}."
        )
    return encoder.transform(weak)


def _curves(results: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for source, fraction, column in (("weak", 0.0, "n_weak"), ("strong", 1.0, "n_strong")):
        part = results[(results["fraction"] == fraction) & (results[column] > 0)]
        a, b, c = _fit_curve(part[column].to_numpy(), part["accuracy"].to_numpy())
        rows.append({"source": source, "a": a, "b": b, "c": c, "n_points": len(part)})
    return pd.DataFrame(rows)
