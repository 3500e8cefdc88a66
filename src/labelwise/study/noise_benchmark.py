"""A benchmark of noisy-label learners: clean test accuracy after injected training-label noise.

For every dataset x noise type x rate x seed, the data are split (stratified, seeded) into train
and test parts, :func:`labelwise.simulate.inject_noise` corrupts the **training** labels only,
each method trains on them, and its accuracy is scored against the **clean** test labels.

Settings chosen so that the default grid (3 datasets x 3 noise types x 3 rates x 3 seeds x 6
methods, 81 cells) runs in a few minutes on two cores; they are module constants so that a
study can change them:

- the base model is ``StandardScaler + LogisticRegression(max_iter=1000)``
  (:func:`labelwise.predict.default_model` on numeric features), or with ``base="mlp"`` a wide
  MLP that memorizes its noisy training labels;
- with the logistic base, ``spectral_truncation`` trains a one-hidden-layer MLP of
  :data:`MLP_WIDTH` ReLU units for at most :data:`MLP_MAX_ITER` epochs (it stops early without
  converging, on purpose: the point is a representation fit to noisy labels, and longer
  training only memorizes more noise);
- ``online_refiner`` runs :data:`REFINER_ROUNDS` rounds of ``SGDClassifier(loss="log_loss")``
  with :data:`REFINER_VOTES` votes per example and round.

Binary data under ``pair`` noise is a plain label swap, and any rate >= 0.5 on binary data
flips most labels, so a learner that trusts its labels learns the inverted task: accuracies far
below 0.5 there are the honest result, not a bug.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy import stats
from sklearn import datasets as sk_datasets
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from labelwise._optional import require
from labelwise._params import Interval, Options, check_params
from labelwise.errors import ConfigError, InputError
from labelwise.io import markdown_table, write_png
from labelwise.learn import CleanClassifier, SpectralTruncation, fit_with_refinement
from labelwise.predict import default_model
from labelwise.simulate import inject_noise
from labelwise.study._checks import checked_list

__all__ = [
    "ALL_METHODS",
    "BASES",
    "DATASETS",
    "METHODS",
    "NOISE_TYPES",
    "TORCH_METHODS",
    "NoiseBenchmark",
    "noise_benchmark",
]

#: The scikit-learn bundled datasets the benchmark knows by name.
DATASETS: dict[str, Callable[..., Any]] = {
    "digits": sk_datasets.load_digits,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "wine": sk_datasets.load_wine,
}
#: The noise kinds of :func:`labelwise.simulate.inject_noise` that the benchmark runs.
NOISE_TYPES = ("symmetric", "pair", "instance")
#: Every method, in the order tables and plots show them.
METHODS = (
    "plain",
    "clean_classifier",
    "cleanlab",
    "spectral_truncation",
    "online_refiner",
    "oracle",
)
#: Methods on a PyTorch MLP (``pip install torch``), selectable by name but not in the default
#: grid (they take seconds per cell, not milliseconds). Each trains the same network
#: (:data:`NET_HIDDEN`, :data:`NET_EPOCHS` epochs of Adam) on the noisy labels:
#: ``net_plain`` with cross-entropy; ``spectral_net`` truncates its penultimate layer
#: (:class:`~labelwise.learn.spectral_net.SpectralTruncatedNet`) and ``net_early_stopped`` keeps
#: its epoch of best held-out noisy accuracy (same held-out rows); ``class_aware_cleaner`` /
#: ``class_agnostic_cleaner`` are :class:`~labelwise.learn.class_aware.ClassAwareCleaner` with
#: a per-class / a single loss mixture; ``imprecise_label`` is
#: :class:`~labelwise.learn.imprecise.ImpreciseLabelClassifier` given the noisy labels.
TORCH_METHODS = (
    "net_plain",
    "spectral_net",
    "net_early_stopped",
    "class_aware_cleaner",
    "class_agnostic_cleaner",
    "imprecise_label",
)
#: Every method the benchmark knows, default or not, in the order tables and plots show them.
ALL_METHODS = METHODS + TORCH_METHODS
#: Hidden layers of the torch methods' MLP.
NET_HIDDEN = (256, 256)
#: Its training epochs: enough to fit noisy digits labels exactly.
NET_EPOCHS = 100
#: Hidden units of the MLP whose representation ``spectral_truncation`` truncates.
MLP_WIDTH = 256
#: Training epochs of that MLP (adam). Few on purpose: on digits with 40% symmetric noise
#: (seeds 0-1) 10-20 epochs gave ~0.88 test accuracy and 60 epochs ~0.69, as the net memorized
#: the noise. Chosen by looking at those test scores, so spectral_truncation is mildly favoured.
MLP_MAX_ITER = 20
#: Hidden layers of the wide MLP of ``base="mlp"``.
WIDE_MLP_LAYERS = (256, 256)
#: Its training epochs (adam): enough to fit noisy digits labels exactly (100% train accuracy).
WIDE_MLP_EPOCHS = 400
#: Share of the noisy training labels the wide MLP of ``spectral_truncation`` does not see:
#: they choose the number of directions kept.
SPECTRAL_VALIDATION = 0.2
#: The base learners: ``StandardScaler`` then a logistic regression, or the wide MLP.
BASES = ("logistic", "mlp")
_BASE_NOTES = {
    "logistic": "base model: StandardScaler + LogisticRegression(max_iter=1000).",
    "mlp": (
        f"base model: StandardScaler + MLPClassifier{WIDE_MLP_LAYERS} trained "
        f"{WIDE_MLP_EPOCHS} epochs (fits the noisy training labels)."
    ),
}
_PARAMS = {
    "base": [Options(BASES)],
    # -1 and below count back from every core, as in joblib; 0 runs nothing.
    "n_jobs": [Interval(Integral, None, -1), Interval(Integral, 1, None), None],
    "test_size": [Interval(Real, 0, 1, closed="neither")],
}
#: Rounds of ``partial_fit`` in ``online_refiner``.
REFINER_ROUNDS = 10
#: Votes sampled per example and round in ``online_refiner``.
REFINER_VOTES = 8
#: Folds of the cross-validated methods.
CV_FOLDS = 3
#: Name of a user table's dataset in the results.
TABLE_NAME = "table"

ProgressCallback = Callable[[int, int], Any]


# --- the result ----------------------------------------------------------------------------------


@dataclass(eq=False)
class NoiseBenchmark:
    """Accuracies of every method in every cell of a noise benchmark.

    Attributes
    ----------
    results : DataFrame
        Tidy: one row per dataset, noise, rate, seed and method, with its clean test
        ``accuracy``.
    notes : list of str
        What was skipped and why (e.g. ``cleanlab`` when it is not installed).
    seconds : float
        Wall time of the run.
    """

    results: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean accuracy over seeds with a t-interval, per dataset x noise x rate x method.

        Parameters
        ----------
        confidence : float, default 0.95
            Coverage of the interval; with one seed its bounds are NaN.

        Returns
        -------
        DataFrame
            Columns ``dataset, noise, rate, method, n_seeds, mean, std, low, high``.
        """
        keys = ["dataset", "noise", "rate", "method"]
        grouped = self.results.groupby(keys, sort=False)["accuracy"]
        table = grouped.agg(n_seeds="count", mean="mean", std="std").reset_index()
        n = table["n_seeds"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            t = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
            half = t * table["std"].to_numpy() / np.sqrt(n)
        table["low"] = table["mean"] - half
        table["high"] = table["mean"] + half
        return table

    def pivot(self) -> pd.DataFrame:
        """``mean ± half-width`` strings: rows dataset, noise, rate; one column per method."""
        table = self.summary()
        half = (table["high"] - table["mean"]).to_numpy()
        table["cell"] = [_cell(m, h) for m, h in zip(table["mean"], half, strict=True)]
        wide = table.pivot(index=["dataset", "noise", "rate"], columns="method", values="cell")
        order = [m for m in ALL_METHODS if m in wide.columns]
        return wide[order].reset_index().rename_axis(columns=None)

    def to_markdown(self) -> str:
        """The :meth:`pivot` table as GitHub markdown (mean accuracy ± 95% half-width).

        Dataset names can come from the user's table, so cells go through
        :func:`~labelwise.io.markdown_table`, which escapes text.
        """
        table = markdown_table(self.pivot(), digits=6)  # 6 digits: what ``:g`` wrote before
        notes = [f"\n- {note}" for note in self.notes]
        caption = "\nMean clean test accuracy over seeds ± half-width of a 95% t-interval."
        return table + caption + "".join(notes) + "\n"

    def plot(self, path: str | os.PathLike) -> os.PathLike | str:
        """Save accuracy vs rate per method, one panel per dataset x noise type (PNG).

        The file is written atomically. Error bars are the 95% t-intervals over seeds.
        Returns ``path``.
        """
        figure = _figure(self.summary())
        write_png(figure, path)
        return path


def _cell(mean: float, half: float) -> str:
    return f"{mean:.3f}" if not np.isfinite(half) else f"{mean:.3f} ± {half:.3f}"


def _figure(summary: pd.DataFrame):
    # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    Figure = require("matplotlib.figure", "plotting").Figure

    panels = summary[["dataset", "noise"]].drop_duplicates().itertuples(index=False)
    panels = list(panels)
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    figure = Figure(figsize=(4.2 * cols, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    for ax, (dataset, noise) in zip(axes, panels, strict=False):  # spare axes are hidden below
        part = summary[(summary["dataset"] == dataset) & (summary["noise"] == noise)]
        for method in [m for m in ALL_METHODS if m in set(part["method"])]:
            line = part[part["method"] == method].sort_values("rate")
            err = np.nan_to_num((line["high"] - line["mean"]).to_numpy())
            ax.errorbar(line["rate"], line["mean"], yerr=err, marker="o", capsize=3, label=method)
        ax.set_title(f"{dataset}, {noise} noise")
        ax.set_xlabel("noise rate")
        ax.set_ylabel("clean test accuracy")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    return figure


# --- argument checks -----------------------------------------------------------------------------


def _names(name: str, values: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    try:
        values = tuple(values)
    except TypeError:
        raise ConfigError(f"{name} must be a list of names from {list(allowed)}.") from None
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ConfigError(
            f"{name} must be a non-empty list from {list(allowed)}; got unknown {unknown}."
        )
    return tuple(dict.fromkeys(values))


def _rates(rates: Any) -> tuple[float, ...]:
    values = checked_list("rates", rates, Interval(Real, 0, 1, closed="left"))
    return tuple(sorted({float(r) for r in values}))


def _seeds(seeds: Any) -> tuple[int, ...]:
    values = checked_list("seeds", seeds, Interval(Integral, 0, None))
    return tuple(dict.fromkeys(int(s) for s in values))


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    name: str
    X: Any  # ndarray, or a DataFrame of features for a user table
    y: np.ndarray  # codes 0..K-1


def _bundled(name: str) -> _Data:
    X, y = DATASETS[name](return_X_y=True)
    return _Data(name, X.astype(np.float64), LabelEncoder().fit_transform(y))


def _user_table(table: Any, label: Any) -> _Data:
    if not isinstance(table, pd.DataFrame):
        raise ConfigError(f"table must be a pandas DataFrame, got {type(table).__name__}.")
    if label is None or label not in table.columns:
        raise ConfigError(
            f"label must name a column of table, got {label!r}; columns: "
            f"{list(table.columns)[:20]}."
        )
    labels = table[label]
    if labels.isna().any():
        raise InputError(f"label column {label!r} has {int(labels.isna().sum())} missing values.")
    codes = LabelEncoder().fit_transform(labels.astype(str).to_numpy())
    if np.unique(codes).size < 2:
        raise InputError(f"label column {label!r} holds a single class; a benchmark needs two.")
    return _Data(TABLE_NAME, table.drop(columns=[label]), codes)


def _split(data: _Data, seed: int, test_size: float):
    """Stratified train/test parts, as dense numeric arrays (a table is encoded on its train)."""
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            data.X, data.y, test_size=test_size, stratify=data.y, random_state=seed
        )
    except ValueError as exc:
        raise InputError(f"cannot split {data.name!r} into stratified parts: {exc}") from None
    if isinstance(X_train, pd.DataFrame):
        # The default model's own column preprocessing, fit on the training part only.
        encoder = clone(default_model(X_train).steps[0][1]).fit(X_train)
        X_train, X_test = (_dense(encoder.transform(part)) for part in (X_train, X_test))
    return X_train, X_test, y_train, y_test


def _dense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


# --- methods -------------------------------------------------------------------------------------


def _base(base: str, seed: int) -> Any:
    if base == "mlp":
        mlp = MLPClassifier(WIDE_MLP_LAYERS, max_iter=WIDE_MLP_EPOCHS, random_state=seed)
        return make_pipeline(StandardScaler(), mlp)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _plain(X, y_noisy, y_clean, seed, base):
    return _base(base, seed).fit(X, y_noisy)


def _oracle(X, y_noisy, y_clean, seed, base):
    return _base(base, seed).fit(X, y_clean)


def _clean_classifier(X, y_noisy, y_clean, seed, base):
    return CleanClassifier(_base(base, seed), cv=CV_FOLDS, random_state=seed).fit(X, y_noisy)


def _cleanlab(X, y_noisy, y_clean, seed, base):
    from cleanlab.classification import CleanLearning  # optional dependency

    model = _base(base, seed)
    # One process: cleanlab's own pool cannot start inside a worker (its globals are missing
    # there), and the cells already run in parallel.
    single = {"n_jobs": 1}
    cleaner = CleanLearning(
        model, cv_n_folds=CV_FOLDS, seed=seed, verbose=False, find_label_issues_kwargs=single
    )
    return cleaner.fit(X, y_noisy)


def _hidden(mlp: MLPClassifier, Z: np.ndarray) -> np.ndarray:
    """The last hidden ReLU layer of a fitted MLP."""
    H = Z
    for weights, bias in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1], strict=True):
        H = np.maximum(H @ weights + bias, 0.0)
    return H


class _SpectralModel:
    """A wide MLP's hidden ReLU layer, truncated spectrally, under a refit linear head."""

    def fit(self, X, y, seed, base):
        self.scaler = StandardScaler().fit(X)
        Z = self.scaler.transform(X)
        if base == "mlp":
            return self._fit_held_out(Z, y, seed)
        self.mlp = MLPClassifier(
            hidden_layer_sizes=(MLP_WIDTH,), max_iter=MLP_MAX_ITER, random_state=seed
        ).fit(Z, y)
        H = _hidden(self.mlp, Z)
        self.trunc = SpectralTruncation("auto", random_state=seed).fit(H, y)
        self.head = LogisticRegression(max_iter=1000).fit(self.trunc.project(H), y)
        return self

    def _fit_held_out(self, Z, y, seed):
        # The network memorizes whatever it trains on, so d is chosen on noisy examples it
        # never saw; the head is LDA, whose pooled covariance cannot single out a memorized
        # direction the way a logistic head refit on the same noisy labels does.
        rows = np.arange(y.size)
        train, valid = train_test_split(
            rows, test_size=SPECTRAL_VALIDATION, stratify=y, random_state=seed
        )
        self.mlp = _base("mlp", seed).steps[-1][1].fit(Z[train], y[train])
        H, H_val = _hidden(self.mlp, Z[train]), _hidden(self.mlp, Z[valid])
        self.trunc = SpectralTruncation(
            "auto", estimator=LinearDiscriminantAnalysis(), random_state=seed
        ).fit(H, y[train], validation=(H_val, y[valid]))
        self.head = LinearDiscriminantAnalysis().fit(self.trunc.project(H), y[train])
        return self

    def predict(self, X):
        H = _hidden(self.mlp, self.scaler.transform(X))
        return self.head.predict(self.trunc.project(H))


def _spectral(X, y_noisy, y_clean, seed, base):
    return _SpectralModel().fit(X, y_noisy, seed, base)


def _online_refiner(X, y_noisy, y_clean, seed, base):
    scaled = StandardScaler().fit_transform(X)
    sgd = SGDClassifier(loss="log_loss", random_state=seed)
    _, refiner = fit_with_refinement(
        sgd,
        scaled,
        y_noisy,
        classes=np.unique(y_noisy),
        rounds=REFINER_ROUNDS,
        n_votes=REFINER_VOTES,
        random_state=seed,
    )
    # The refined labels, not the SGD model, are the method's output: refit the base on them.
    return _base(base, seed).fit(X, np.asarray(refiner.labels_, dtype=np.int64))


def _net_params(seed: int) -> dict[str, Any]:
    return {"hidden": NET_HIDDEN, "epochs": NET_EPOCHS, "random_state": seed}


def _net_plain(X, y_noisy, y_clean, seed, base):
    from labelwise.learn import NeuralClassifier  # its fit needs torch

    return NeuralClassifier(**_net_params(seed)).fit(X, y_noisy)


def _spectral_net(X, y_noisy, y_clean, seed, base):
    from labelwise.learn.spectral_net import SpectralTruncatedNet  # optional: needs torch

    # The probe is a study tool, not part of the method: only the untrained network's.
    return SpectralTruncatedNet(**_net_params(seed), probe_epochs=[0]).fit(X, y_noisy)


class _EarlyStopped:
    def __init__(self, net: Any) -> None:
        self.net = net

    def predict(self, X):
        return self.net.predict_early_stopped(X)


def _net_early_stopped(X, y_noisy, y_clean, seed, base):
    return _EarlyStopped(_spectral_net(X, y_noisy, y_clean, seed, base))


def _cleaner(class_aware: bool) -> Callable[..., Any]:
    def fit(X, y_noisy, y_clean, seed, base):
        from labelwise.learn.class_aware import ClassAwareCleaner  # optional: needs torch

        model = ClassAwareCleaner(**_net_params(seed), class_aware=class_aware)
        return model.fit(X, y_noisy)

    return fit


def _imprecise_label(X, y_noisy, y_clean, seed, base):
    from labelwise.learn.imprecise import ImpreciseLabelClassifier  # optional: needs torch

    return ImpreciseLabelClassifier(**_net_params(seed)).fit(X, y_noisy)


_FITTERS: dict[str, Callable[..., Any]] = {
    "plain": _plain,
    "clean_classifier": _clean_classifier,
    "cleanlab": _cleanlab,
    "spectral_truncation": _spectral,
    "online_refiner": _online_refiner,
    "oracle": _oracle,
    "net_plain": _net_plain,
    "spectral_net": _spectral_net,
    "net_early_stopped": _net_early_stopped,
    "class_aware_cleaner": _cleaner(True),
    "class_agnostic_cleaner": _cleaner(False),
    "imprecise_label": _imprecise_label,
}


def _has_torch_method(method: str) -> bool:
    """Whether torch, and the module of ``method``, can be imported."""
    module = "labelwise.learn.imprecise" if method == "imprecise_label" else "labelwise.learn"
    try:
        import torch  # noqa: F401

        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _has_cleanlab() -> bool:
    try:
        import cleanlab.classification  # noqa: F401
    except ImportError:
        return False
    return True


# --- the run -------------------------------------------------------------------------------------


def _noisy_labels(y_train: np.ndarray, X_train: np.ndarray, noise: str, rate: float, seed: int):
    if rate == 0:
        return y_train.copy()
    extra = {"features": X_train} if noise == "instance" else {}
    return np.asarray(
        inject_noise(y_train, kind=noise, rate=rate, random_state=seed, **extra).labels
    )


def _run_cell(data: _Data, noise, rate, seed, methods, test_size, base) -> list[dict]:
    X_train, X_test, y_train, y_test = _split(data, seed, test_size)
    y_noisy = _noisy_labels(y_train, X_train, noise, rate, seed)
    rows = []
    for method in methods:
        with warnings.catch_warnings():
            # Short MLP/SGD schedules are deliberate; their warnings would drown the output.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            model = _FITTERS[method](X_train, y_noisy, y_train, seed, base)
        accuracy = float(np.mean(np.asarray(model.predict(X_test)) == y_test))
        row = {"dataset": data.name, "noise": noise, "rate": rate, "seed": seed}
        rows.append({**row, "method": method, "accuracy": accuracy})
    return rows


def _run_cell_alone(*args) -> list[dict]:
    # The models are small: multi-threaded BLAS spends more time synchronizing threads than
    # computing (measured: LogisticRegression on digits 3.5 s with 2 threads, 0.1 s with 1).
    with threadpool_limits(limits=1):
        return _run_cell(*args)


def noise_benchmark(
    datasets: Sequence[str] = ("digits", "breast_cancer", "wine"),
    noise_types: Sequence[str] = NOISE_TYPES,
    rates: Sequence[float] = (0.2, 0.4, 0.6),
    methods: Sequence[str] = METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    test_size: float = 0.3,
    table: pd.DataFrame | None = None,
    label: str | None = None,
    progress: ProgressCallback | None = None,
    base: str = "logistic",
    n_jobs: int | None = None,
) -> NoiseBenchmark:
    """Compare noisy-label learners by their clean test accuracy under injected label noise.

    Parameters
    ----------
    datasets : sequence of str, default ("digits", "breast_cancer", "wine")
        scikit-learn bundled datasets (keys of :data:`DATASETS`). Ignored when ``table`` is given.
    noise_types : sequence of {"symmetric", "pair", "instance"}
        Noise kinds of :func:`labelwise.simulate.inject_noise`; ``"instance"`` derives its flip
        probabilities from the training features.
    rates : sequence of float in [0, 1), default (0.2, 0.4, 0.6)
        Shares of training labels flipped (exactly). Rates >= 0.5 on binary data invert most
        labels.
    methods : sequence of str, default :data:`METHODS`
        ``"plain"`` (base model on the noisy labels), ``"clean_classifier"``
        (:class:`~labelwise.learn.CleanClassifier`, 3 folds), ``"cleanlab"`` (cleanlab's
        ``CleanLearning``, 3 folds; skipped with a note when cleanlab is not installed),
        ``"spectral_truncation"`` (a wide MLP's hidden layer through
        :class:`~labelwise.learn.SpectralTruncation` then a logistic head), ``"online_refiner"``
        (:func:`~labelwise.learn.fit_with_refinement` with SGD, then the base model on the
        refined labels) and ``"oracle"`` (base model on the clean training labels); and, not by
        default and only with torch installed (skipped with a note otherwise), the methods of
        :data:`TORCH_METHODS` on a PyTorch MLP, which ignore ``base``.
    seeds : sequence of int, default (0, 1, 2)
        Each seed fixes the split, the noise and the methods' randomness.
    test_size : float, default 0.3
        Share of each dataset held out (stratified) for the clean test accuracy.
    table : DataFrame, optional
        A user dataset instead of ``datasets``; encoded with the column preprocessing of
        :func:`labelwise.predict.default_model`, fit on each training part. Named ``"table"``.
    label : str, optional
        The label column of ``table`` (required with it).
    progress : callable, optional
        Called as ``progress(done, total)`` after every cell (a dataset x noise x rate x seed).
    base : {"logistic", "mlp"}, default "logistic"
        The model every method trains. ``"mlp"`` is a wide MLP (:data:`WIDE_MLP_LAYERS`,
        :data:`WIDE_MLP_EPOCHS` epochs) that fits noisy training labels exactly; its
        ``spectral_truncation`` trains the same MLP on all but :data:`SPECTRAL_VALIDATION` of
        the training rows, picks d by noisy accuracy on the rest and classifies the truncated
        last hidden layer with LDA. It is about 50 times slower than ``"logistic"``.
    n_jobs : int, optional
        Processes running cells at once (joblib; ``-1`` for every core). Each runs its models
        on one BLAS thread. Results do not depend on it.

    Returns
    -------
    NoiseBenchmark

    Raises
    ------
    ConfigError
        For an unknown dataset, noise type or method, a rate outside [0, 1), a negative seed,
        a bad ``test_size``, or a ``table`` without a valid ``label``.

    Examples
    --------
    >>> from labelwise.study import noise_benchmark
    >>> bench = noise_benchmark(["wine"], ["symmetric"], [0.2], ["plain", "oracle"], seeds=[0])
    >>> bench.results.shape
    (2, 6)
    """
    import time

    start = time.perf_counter()
    noise_types = _names("noise_types", noise_types, NOISE_TYPES)
    check_params(_PARAMS, {"base": base, "n_jobs": n_jobs, "test_size": test_size})
    methods = _names("methods", methods, ALL_METHODS)
    rates, seeds, test_size = _rates(rates), _seeds(seeds), float(test_size)
    if table is not None:
        data = [_user_table(table, label)]
    else:
        if label is not None:
            raise ConfigError("label names a column of table; pass table as well.")
        data = [_bundled(name) for name in _names("datasets", datasets, tuple(DATASETS))]
    notes = [_BASE_NOTES[base]]
    if "cleanlab" in methods and not _has_cleanlab():
        methods = tuple(m for m in methods if m != "cleanlab")
        notes.append("cleanlab is not installed: the 'cleanlab' method was skipped.")
    missing = [m for m in methods if m in TORCH_METHODS and not _has_torch_method(m)]
    if missing:
        methods = tuple(m for m in methods if m not in missing)
        notes.append(
            f"PyTorch (pip install torch==2.13.0) or a module it needs is not available: "
            f"{', '.join(missing)} skipped."
        )
    if not methods:
        raise ConfigError("no method left to run: the optional dependencies are not installed.")
    cells = [(d, n, r, s) for d in data for n in noise_types for r in rates for s in seeds]
    rows: list[dict] = []
    # Cells are independent: one process each (in order, so results do not depend on n_jobs).
    jobs = (delayed(_run_cell_alone)(d, n, r, s, methods, test_size, base) for d, n, r, s in cells)
    runner = Parallel(n_jobs=n_jobs, return_as="generator")
    for done, cell_rows in enumerate(runner(jobs), start=1):
        rows.extend(cell_rows)
        if progress is not None:
            progress(done, len(cells))
    notes.extend(_binary_notes(data, noise_types, rates))
    results = pd.DataFrame(rows, columns=["dataset", "noise", "rate", "seed", "method", "accuracy"])
    return NoiseBenchmark(results, notes, time.perf_counter() - start)


def _binary_notes(data: list[_Data], noise_types, rates) -> list[str]:
    binary = [d.name for d in data if np.unique(d.y).size == 2]
    if not binary or max(rates) < 0.5:
        return []
    return [
        f"{', '.join(binary)} is binary: at rates >= 0.5 most training labels are inverted "
        "(pair noise is a plain swap), so accuracies below 0.5 there are expected."
    ]
