"""Benchmark tables for ``labelwise.audit``, most of them hard for a linear model.

Every table function takes ``(n_rows, seed)`` and returns ``(frame, description)``: a DataFrame
whose column ``"y"`` holds CLEAN labels (noise is injected separately, by
:func:`noisy_copy`), and one line saying what the table tests. The labels follow a known rule:

- *deterministic* tables have a label that is a function of the columns (Bayes error 0);
- *blurred* tables draw the label from a rule applied to a latent value, a visible column plus a
  little Gaussian noise of known scale, so every row's class probabilities are known exactly.

``frame.attrs`` carries what is known about the clean labels: ``bayes_error`` (the expected
share of clean labels that are not their row's most probable class; 0 for deterministic tables,
None where unknown, as for scikit-learn's real datasets) and ``off_bayes_share`` (the realized
share in this sample, where known).

:data:`TABLES` lists every table with its default size and its group: *development* tables may be
looked at while tuning how ``audit`` picks its model; *held-out* tables are kept for the honest
figure. :func:`timing_table` is a 100,000 x 30 mixed table for end-to-end timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn import datasets

from labelwise.simulate import NoisyLabels, inject_noise

__all__ = ["DEVELOPMENT", "HELD_OUT", "TABLES", "BenchTable", "noisy_copy", "timing_table"]

LABEL = "y"
DEVELOPMENT = "development"
HELD_OUT = "held-out"
#: Share of values blanked in the columns that allow it.
MISSING = 0.02

Maker = Callable[[int, int], tuple[pd.DataFrame, str]]


# --- helpers ------------------------------------------------------------------------------------


def _blank(rng: np.random.Generator, values: np.ndarray, share: float = MISSING) -> np.ndarray:
    """A copy of ``values`` with ``share`` of them set to NaN (object arrays get np.nan too)."""
    out = values.astype(object if values.dtype.kind in "OUS" else np.float64, copy=True)
    out[rng.random(out.size) < share] = np.nan
    return out


def _levels(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}_{i:02d}" for i in range(n)], dtype=object)


def _add_irrelevant(
    frame: pd.DataFrame, rng: np.random.Generator, n_numeric: int, n_categorical: int
) -> pd.DataFrame:
    """Columns unrelated to the label: normal, skewed and string-valued, with missing values."""
    n = len(frame)
    for i in range(n_numeric):
        draw = rng.normal(size=n) if i % 2 == 0 else rng.lognormal(1.0, 0.8, size=n)
        frame[f"noise_num{i}"] = _blank(rng, draw)
    for i in range(n_categorical):
        levels = _levels(f"n{i}", 4 + 5 * i)
        # Uneven level frequencies, as real categorical columns have.
        weights = rng.dirichlet(np.ones(levels.size))
        frame[f"noise_cat{i}"] = _blank(rng, rng.choice(levels, size=n, p=weights))
    return frame


def _finish(frame: pd.DataFrame, y: np.ndarray, probs: np.ndarray | None) -> pd.DataFrame:
    """Put the label last and record the Bayes error (``probs``: (n, K) exact class
    probabilities, in the order of ``np.unique(y)``; None for a deterministic rule)."""
    frame[LABEL] = y
    if probs is None:
        frame.attrs.update(bayes_error=0.0, off_bayes_share=0.0)
    else:
        classes = np.unique(y)
        best = classes[probs.argmax(axis=1)]
        frame.attrs.update(
            bayes_error=float(np.mean(1.0 - probs.max(axis=1))),
            off_bayes_share=float(np.mean(best != y)),
        )
    return frame


def _unknown_bayes(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs.update(bayes_error=None, off_bayes_share=None)
    return frame


def _draw(rng: np.random.Generator, probs: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One class per row from its probabilities."""
    cumulative = probs.cumsum(axis=1)
    u = rng.random(probs.shape[0])[:, None]
    return classes[np.minimum((u > cumulative).sum(axis=1), classes.size - 1)]


def _band_probs(latent_mean: np.ndarray, scale: float, cuts: list[float]) -> np.ndarray:
    """P(class k) when a value ``latent_mean + N(0, scale)`` is cut at ``cuts`` (ascending)."""
    cdf = np.column_stack([ndtr((c - latent_mean) / scale) for c in cuts])
    edges = np.column_stack([np.zeros(latent_mean.size), cdf, np.ones(latent_mean.size)])
    return np.diff(edges, axis=1)


def _frame_of(X: np.ndarray, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"{prefix}{i}" for i in range(X.shape[1])])


def _subsample(frame: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """Up to ``n_rows`` rows of a fixed-size dataset, drawn without replacement (all of them
    when ``n_rows`` is at least its size), keeping the order."""
    if n_rows >= len(frame):
        return frame.reset_index(drop=True)
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), n_rows, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


# --- synthetic tables ---------------------------------------------------------------------------


def xor_thresholds(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """2 classes: the XOR of two numeric thresholds."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n_rows)
    b = rng.exponential(1.0, size=n_rows)
    frame = pd.DataFrame({"a": a, "b": b})
    y = np.where((a > 0.3) != (b > 1.0), "yes", "no").astype(object)
    frame = _add_irrelevant(frame, rng, n_numeric=4, n_categorical=2)
    return _finish(frame, y, None), (
        "2 classes, y = (a > 0.3) XOR (b > 1.0); 4 irrelevant numeric and 2 irrelevant string "
        "columns with 2% missing; deterministic"
    )


def ring_bands(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """3 classes: bands of the distance from the origin, with a slightly blurred boundary."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(2, n_rows))
    radius = np.hypot(u, v)
    probs = _band_probs(radius, 0.012, [0.9, 1.6])
    classes = np.array(["inner", "middle", "outer"], dtype=object)
    y = _draw(rng, probs, classes)
    frame = _add_irrelevant(pd.DataFrame({"u": u, "v": v}), rng, n_numeric=3, n_categorical=2)
    return _finish(frame, y, probs), (
        "3 classes, bands of hypot(u, v) + N(0, 0.012) cut at 0.9 and 1.6 (a ring); 3 irrelevant "
        "numeric and 2 string columns with missing values; blurred boundary"
    )


_PLAN_GROUP = {"basic": 0, "trial": 0, "plus": 1, "pro": 1, "team": 2, "enterprise": 2}
#: [plan group][usage band] -> class.
_PLAN_TABLE = np.array(
    [
        ["churn_risk", "stable", "upsell"],
        ["stable", "upsell", "expand"],
        ["review", "expand", "stable"],
    ],
    dtype=object,
)


def plan_usage(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """5 classes: a lookup on a string column crossed with bands of a numeric one."""
    rng = np.random.default_rng(seed)
    plans = np.array(list(_PLAN_GROUP), dtype=object)
    plan = rng.choice(plans, size=n_rows, p=[0.25, 0.1, 0.2, 0.2, 0.15, 0.1])
    usage = rng.lognormal(3.0, 1.0, size=n_rows)
    tenure = rng.uniform(0, 10, size=n_rows)
    band = np.digitize(usage, [12.0, 40.0])
    plan = _blank(rng, plan)
    # A missing plan is billed as basic.
    group = np.array([_PLAN_GROUP.get(p, 0) if isinstance(p, str) else 0 for p in plan])
    y = _PLAN_TABLE[group, band]
    y = np.where((tenure < 1.0) & (band == 0), "churn_risk", y).astype(object)
    frame = pd.DataFrame({"plan": plan, "usage": usage, "tenure": tenure})
    frame["region"] = _blank(rng, rng.choice(_levels("region", 8), size=n_rows))
    frame = _add_irrelevant(frame, rng, n_numeric=3, n_categorical=1)
    return _finish(frame, y, None), (
        "5 classes, a lookup of plan group (string, 2% missing = basic) x usage band, "
        "churn_risk when tenure < 1 and usage is low; irrelevant region and 4 more columns; "
        "deterministic"
    )


def age_region(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """2 classes: an OR of two ANDs over numeric thresholds and string categories."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 81, size=n_rows).astype(np.float64)
    regions = np.array(["north", "south", "east", "west", "central"], dtype=object)
    region = _blank(rng, rng.choice(regions, size=n_rows))
    income = rng.lognormal(np.log(45_000), 0.5, size=n_rows).round(-2)
    member = rng.choice(np.array(["yes", "no"], dtype=object), size=n_rows, p=[0.4, 0.6])
    in_set = np.isin(region, ["north", "east"])  # a missing region is in no set
    rule = ((age > 40) & in_set) | ((income > 60_000) & (member == "no"))
    y = np.where(rule, "approve", "decline").astype(object)
    frame = pd.DataFrame({"age": age, "region": region, "income": income, "member": member})
    frame = _add_irrelevant(frame, rng, n_numeric=3, n_categorical=2)
    return _finish(frame, y, None), (
        "2 classes, approve = (age > 40 and region in {north, east}) or (income > 60,000 and "
        "not a member); region 2% missing (in no set); 5 irrelevant columns; deterministic"
    )


def product_score(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """3 classes: bands of a product of two features plus a linear term, slightly blurred."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n_rows))
    x3 = rng.uniform(-1, 1, size=n_rows)
    score = x1 * x2 + 0.5 * x3
    probs = _band_probs(score, 0.01, [-0.4, 0.4])
    classes = np.array(["high", "low", "mid"], dtype=object)  # sorted, as np.unique orders them
    y = _draw(rng, probs[:, [2, 0, 1]], classes)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3})
    frame = _add_irrelevant(frame, rng, n_numeric=3, n_categorical=2)
    return _finish(frame, y, probs[:, [2, 0, 1]]), (
        "3 classes, bands of x1 * x2 + 0.5 x3 + N(0, 0.01) cut at -0.4 and 0.4; 5 irrelevant "
        "columns; blurred boundary"
    )


def checker(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """5 classes: a 5 x 5 checkerboard of two numeric columns."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0, 5, size=(2, n_rows))
    cell = (np.floor(x1) + 2 * np.floor(x2)).astype(int) % 5
    y = np.array([f"c{k}" for k in range(5)], dtype=object)[cell]
    frame = pd.DataFrame({"x1": x1, "x2": x2})
    frame["zone"] = _blank(rng, rng.choice(_levels("zone", 12), size=n_rows))
    frame = _add_irrelevant(frame, rng, n_numeric=3, n_categorical=1)
    return _finish(frame, y, None), (
        "5 classes, (floor(x1) + 2 floor(x2)) mod 5 on [0, 5)^2 (a checkerboard); irrelevant "
        "zone and 4 more columns; deterministic"
    )


#: Fixed weights of the linear tables: the rule is the same for every seed.
_SCORE_WEIGHTS = np.array(
    [[1.0, -0.6, 0.4, 0.0, 0.8], [-0.7, 1.0, 0.3, 0.9, -0.2], [-0.3, -0.4, -0.7, -0.9, -0.6]]
)
_CHANNEL_OFFSET = {"web": [0.4, 0.0, -0.2], "store": [0.0, 0.5, 0.0], "phone": [-0.3, 0.0, 0.6],
                   "partner": [0.0, -0.4, 0.2]}  # fmt: skip


def linear_scores(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """3 classes: the largest of three linear scores, where a linear model is right."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 5))
    channels = np.array(list(_CHANNEL_OFFSET), dtype=object)
    channel = rng.choice(channels, size=n_rows)
    offsets = np.array([_CHANNEL_OFFSET[c] for c in channel])
    y = np.array(["bronze", "gold", "silver"], dtype=object)[(X @ _SCORE_WEIGHTS.T + offsets)
                                                           .argmax(axis=1)]  # fmt: skip
    frame = _frame_of(X, "s")
    frame["channel"] = channel
    frame = _add_irrelevant(frame, rng, n_numeric=2, n_categorical=1)
    return _finish(frame, y, None), (
        "3 classes, the largest of three linear scores of 5 numeric columns plus a per-channel "
        "(string) offset; 3 irrelevant columns with missing values; deterministic; linear is "
        "right"
    )


def linear_margin(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """2 classes: one side of a hyperplane over numeric and one-hot columns."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n_rows))
    amount = rng.uniform(0, 100, size=n_rows)
    segments = np.array(["a", "b", "c", "d", "e"], dtype=object)
    segment = rng.choice(segments, size=n_rows)
    margin = x1 - 0.8 * x2 + 0.5 * x3 + 0.02 * (amount - 50) + 0.7 * np.isin(segment, ["b", "d"])
    y = np.where(margin > 0.3, "pos", "neg").astype(object)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "amount": amount, "segment": segment})
    frame = _add_irrelevant(frame, rng, n_numeric=2, n_categorical=2)
    return _finish(frame, y, None), (
        "2 classes, pos = x1 - 0.8 x2 + 0.5 x3 + 0.02 (amount - 50) + 0.7 [segment in {b, d}] > "
        "0.3; 4 irrelevant columns with missing values; deterministic; linear is right"
    )


# --- scikit-learn generators --------------------------------------------------------------------


def sk_moons(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    X, y = datasets.make_moons(n_rows, noise=0.1, random_state=seed)
    frame = _add_irrelevant(_frame_of(X, "m"), np.random.default_rng(seed), 3, 0)
    frame[LABEL] = y
    return _unknown_bayes(frame), (
        "2 classes, make_moons(noise=0.1), two interleaved half circles; 3 irrelevant numeric "
        "columns; almost separable"
    )


def sk_circles(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    X, y = datasets.make_circles(n_rows, factor=0.5, noise=0.06, random_state=seed)
    frame = _add_irrelevant(_frame_of(X, "c"), np.random.default_rng(seed), 3, 0)
    frame[LABEL] = y
    return _unknown_bayes(frame), (
        "2 classes, make_circles(factor=0.5, noise=0.06), one circle inside another; 3 "
        "irrelevant numeric columns; almost separable"
    )


def sk_classification(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    X, y = datasets.make_classification(
        n_rows,
        n_features=12,
        n_informative=6,
        n_redundant=2,
        n_classes=4,
        n_clusters_per_class=3,
        class_sep=2.5,
        flip_y=0.0,
        random_state=seed,
    )
    frame = _frame_of(X, "f")
    frame[LABEL] = y
    return _unknown_bayes(frame), (
        "4 classes, make_classification(12 features, 6 informative, 3 clusters per class, "
        "class_sep=2.5, flip_y=0): each class is 3 Gaussian blobs at hypercube corners"
    )


def sk_gaussian_quantiles(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    X, y = datasets.make_gaussian_quantiles(
        n_samples=n_rows, n_features=3, n_classes=3, random_state=seed
    )
    frame = _add_irrelevant(_frame_of(X, "g"), np.random.default_rng(seed), 3, 0)
    frame[LABEL] = y
    return _finish(frame, y, None), (
        "3 classes, make_gaussian_quantiles(3 features): nested shells of the distance from "
        "the centre; 3 irrelevant numeric columns; deterministic"
    )


# --- scikit-learn's bundled real datasets -------------------------------------------------------


def _bundled(loader: Callable, n_rows: int, seed: int, named: bool) -> pd.DataFrame:
    bunch = loader(as_frame=True)
    frame = bunch.frame.rename(columns={"target": LABEL})
    if named:
        frame[LABEL] = np.asarray(bunch.target_names, dtype=object)[frame[LABEL].to_numpy()]
    return _unknown_bayes(_subsample(frame, n_rows, seed))


def sk_digits(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    frame = _bundled(datasets.load_digits, n_rows, seed, named=False)
    return frame, "10 classes, load_digits: 8 x 8 handwritten digits, 64 pixel columns"


def sk_breast_cancer(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    frame = _bundled(datasets.load_breast_cancer, n_rows, seed, named=True)
    return frame, "2 classes, load_breast_cancer: 30 numeric cell measurements"


def sk_wine(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    frame = _bundled(datasets.load_wine, n_rows, seed, named=True)
    return frame, (
        "3 classes, load_wine: 13 chemical measurements; 178 rows, so 2 points is 3.6 rows"
    )


def sk_iris(n_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    frame = _bundled(datasets.load_iris, n_rows, seed, named=True)
    return frame, ("3 classes, load_iris: 4 flower measurements; 150 rows, so 2 points is 3 rows")


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchTable:
    """A benchmark table: how to make it, its default size and group, and whether a linear
    model is expected to fit it well."""

    name: str
    make: Maker
    rows: int
    group: str
    linear_fits: bool

    def build(self, n_rows: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, str]:
        return self.make(self.rows if n_rows is None else n_rows, seed)


def _table(name: str, make: Maker, rows: int, group: str, linear_fits: bool) -> BenchTable:
    return BenchTable(name, make, rows, group, linear_fits)


TABLES: dict[str, BenchTable] = {
    t.name: t
    for t in (
        # Development: for tuning the choice of model.
        _table("xor_thresholds", xor_thresholds, 5000, DEVELOPMENT, False),
        _table("ring_bands", ring_bands, 5000, DEVELOPMENT, False),
        _table("plan_usage", plan_usage, 8000, DEVELOPMENT, False),
        _table("sk_moons", sk_moons, 3000, DEVELOPMENT, False),
        _table("sk_classification", sk_classification, 6000, DEVELOPMENT, False),
        _table("linear_scores", linear_scores, 5000, DEVELOPMENT, True),
        _table("sk_digits", sk_digits, 1797, DEVELOPMENT, True),
        _table("sk_iris", sk_iris, 150, DEVELOPMENT, True),
        # Held out: the honest figure.
        _table("age_region", age_region, 6000, HELD_OUT, False),
        _table("product_score", product_score, 6000, HELD_OUT, False),
        _table("checker", checker, 8000, HELD_OUT, False),
        _table("sk_gaussian_quantiles", sk_gaussian_quantiles, 10000, HELD_OUT, False),
        _table("sk_circles", sk_circles, 3000, HELD_OUT, False),
        _table("linear_margin", linear_margin, 5000, HELD_OUT, True),
        _table("sk_breast_cancer", sk_breast_cancer, 569, HELD_OUT, True),
        _table("sk_wine", sk_wine, 178, HELD_OUT, True),
    )
}


def noisy_copy(frame: pd.DataFrame, rate: float, seed: int) -> tuple[pd.DataFrame, NoisyLabels]:
    """``frame`` with symmetric label noise at ``rate`` injected into ``"y"``, and the truth.

    Exactly ``round(rate * n)`` labels move to another class chosen uniformly; the true share of
    wrong labels is ``noisy.is_noisy.mean()``.
    """
    noisy = inject_noise(frame[LABEL].to_numpy(), kind="symmetric", rate=rate, random_state=seed)
    out = frame.copy()
    out[LABEL] = noisy.labels
    return out, noisy


# --- timing -------------------------------------------------------------------------------------

#: Levels of the 10 categorical columns of :func:`timing_table`.
TIMING_LEVELS = (3, 5, 8, 12, 20, 30, 50, 4, 6, 10)


def timing_table(n_rows: int = 100_000, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """A 100,000 x 30 table: 20 numeric and 10 string columns (3 to 50 levels), 3 classes."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {f"x{i:02d}": rng.normal(size=n_rows) if i % 3 else rng.gamma(2.0, size=n_rows)
         for i in range(20)}
    )  # fmt: skip
    for i, n_levels in enumerate(TIMING_LEVELS):
        frame[f"c{i}"] = rng.choice(_levels(f"c{i}", n_levels), size=n_rows)
    c0_first = (frame["c0"] == "c0_00").to_numpy()
    c1_low = np.isin(frame["c1"], ["c1_00", "c1_01"])
    score = (
        frame["x01"] * frame["x02"]
        + 1.2 * c0_first
        + 0.8 * (frame["x03"] > 0.5)
        - 0.6 * c1_low
        + 0.3 * frame["x04"]
    ).to_numpy()
    y = np.array(["a", "b", "c"], dtype=object)[np.digitize(score, [-0.4, 0.6])]
    # Missing values only where the rule does not look.
    for name in [*(f"x{i:02d}" for i in range(10, 20)), *(f"c{i}" for i in range(5, 10))]:
        frame[name] = _blank(rng, frame[name].to_numpy(), 0.01)
    return _finish(frame, y, None), (
        "3 classes, bands of x01 x02 + 1.2 [c0 = c0_00] + 0.8 [x03 > 0.5] - 0.6 [c1 in "
        "{c1_00, c1_01}] + 0.3 x04 cut at -0.4 and 0.6; 20 numeric and 10 string columns "
        "(3 to 50 levels), 1% missing in 15 columns the rule does not use; deterministic"
    )
