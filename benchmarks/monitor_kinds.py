"""labelwise.monitor's multiclass and regression monitors against NannyML (CBPE and DLE).

    .bench-anchors-venv/bin/python benchmarks/monitor_kinds.py                # full run
    .bench-anchors-venv/bin/python benchmarks/monitor_kinds.py --quick        # small sizes
    .bench-anchors-venv/bin/python benchmarks/monitor_kinds.py --only quality # one section

Runs in the anchors' environment (requirements/bench-monitor.txt). Both tools see the same rows
in the same run. The data: a seeded population of 12 numeric features (``x0`` .. ``x11``; ``x4``
correlated with ``x0``, ``x5`` skewed, ``x6`` .. ``x11`` noise) and two categorical ones (``c0``,
four levels; ``c1``, three). Two fixed models are trained once on 20,000 rows of it and never
refitted:

- multiclass (classes a, b, c): the true P(y | x) is softmax(s(x) z(x)), with linear logits
  z(x) in ``x0``, ``x1``, ``x2``, ``x5``, ``c1`` and a sharpness s(x) = exp(0.45 x3) times a
  factor per level of ``c0`` (1.3, 1.0, 0.7, 0.45): classes overlap more where ``x3`` is low
  or ``c0`` is k3. The model is a small histogram gradient-boosting classifier (60 trees of depth
  3): close to the truth where the training data was dense, off in the tails.
- regression: y = 2 x0 + x1^2 + 0.8 x2 [c1 = m1] + 0.5 x5 + sigma(x) e, e ~ N(0, 1), sigma(x) =
  0.4 exp(0.5 x3) times a factor per level of ``c0`` (0.8, 1.0, 1.5, 2.5). The model is least
  squares on the features (one-hot categories): it misses the square and the interaction, and
  the noise grows with ``x3`` and in level k3, so the error depends on x.

Sections:

- ``speed``: reference 100,000 rows, window 1,000,000 rows, each tool once in a fresh process
  after reading Parquet (see :data:`WHAT`); seconds per step, peak memory growth.
- ``quality``: windows of 5,000 rows under covariate shift of increasing strength (feature means
  moved, the mix of ``c0`` changed, rows selected by ``x3``), labels from the same P(y | x);
  labelwise's expected accuracy / MAE and NannyML's estimate for the same window (one chunk =
  one window) against the realized value; and the MNIST test set (cross-validated
  probabilities, no features), reference a random half, windows of 1,000 rows drawn from the
  other half with a bias on confidence or class.
- ``false-alarms``: windows with no change (fresh draws) at 500, 10,000 and 1,000,000 rows: how
  often each labelwise statistic fires (alpha = 0.05), any monitor fires, the composite reaches
  warn or alert; NannyML's alert rate on the same windows (500 and 10,000 rows).

labelwise runs with its defaults (only ``categorical=[c0, c1]`` named); nothing is tuned on these
windows. Telemetry of NannyML is switched off before it is imported. Writes
benchmarks/results/monitor_kinds/monitor_kinds.{md,json} (``--quick``: *.quick.*).
"""

from __future__ import annotations

import os

# Before NannyML is imported: this machine has no network but the package registries.
os.environ.update(DO_NOT_TRACK="1", NML_DISABLE_USAGE_LOGGING="1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from labelwise.io import write_json, write_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from monitor_anchors import _current_mib, _peak_mib, _reset_peak, environment  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "monitor_kinds"
ALPHA = 0.05
KINDS = ("multiclass", "regression")
TOOLS = ("labelwise", "labelwise-1-thread", "nannyml")
CLASSES = ("a", "b", "c")
PROBS = [f"p_{c}" for c in CLASSES]
NUMERIC = [f"x{j}" for j in range(12)]
CATEGORICAL = ["c0", "c1"]
FEATURES = NUMERIC + CATEGORICAL
C0 = ("k0", "k1", "k2", "k3")
C0_SHARES = np.array([0.4, 0.3, 0.2, 0.1])
C1 = ("m0", "m1", "m2")
C1_SHARES = np.array([0.5, 0.3, 0.2])
SHARPNESS = np.array([1.3, 1.0, 0.7, 0.45])  # multiclass: per level of c0
NOISE = np.array([0.8, 1.0, 1.5, 2.5])  # regression: per level of c0
SHARED = Path(os.environ.get("LABELWISE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
MNIST = SHARED / "data" / "label-errors-mnist"
#: Mean absolute errors closer than this count as equal (the estimates can coincide).
TIE = 1e-6

#: What each side computes in the speed section.
WHAT = {
    "multiclass": {
        "labelwise": "fit + check: PSI of each class probability, prediction mix, confidence KS, "
        "entropy and near-tie share, 14 feature PSIs, missing values, PCA reconstruction, null "
        "thresholds for the window size; expected accuracy, macro and per-class precision, "
        "recall, F1 with bands",
        "nannyml": "UnivariateDriftCalculator (Jensen-Shannon) on the 14 features, 3 "
        "probabilities and the predicted class + CBPE (accuracy, macro precision, recall, F1), "
        "each fit on the reference and run on the window, chunk_number=10",
    },
    "regression": {
        "labelwise": "fit (incl. two 100-tree error models of depth 4 on the reference, and four "
        "more on its halves for its own out-of-fold estimate) + check: PSI, "
        "KS, Wasserstein of the prediction, out-of-range share, 14 feature PSIs, missing values, "
        "PCA reconstruction, null thresholds; expected MAE and RMSE with bands",
        "nannyml": "UnivariateDriftCalculator (Jensen-Shannon) on the 14 features and the "
        "prediction + DLE (MAE, RMSE; LightGBM, no tuning), each fit on the reference and run on "
        "the window, chunk_number=10",
    },
}


# --- the population and its two fixed models ----------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """A covariate shift: ``mean`` moves x0, x1, x3 by ``strength`` standard deviations; ``mix``
    moves the shares of c0 a fraction ``strength`` of the way to their reverse; ``select`` keeps a
    row with probability sigmoid(-strength * x3)."""

    kind: str = "none"
    strength: float = 0.0

    @property
    def label(self) -> str:
        if self.kind == "none":
            return "no shift"
        what = {"mean": "means +", "mix": "c0 mix ", "select": "select on x3, beta "}
        return f"{what[self.kind]}{self.strength:g}"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _features(n: int, rng: np.random.Generator, shift: Shift) -> pd.DataFrame:
    """``n`` feature rows of the population under ``shift``."""
    if shift.kind == "select":
        parts, kept = [], 0
        while kept < n:
            pool = _features(3 * n, rng, Shift())
            keep = rng.random(len(pool)) < _sigmoid(-shift.strength * pool["x3"].to_numpy())
            parts.append(pool[keep])
            kept += int(keep.sum())
        return pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
    x = rng.standard_normal((n, len(NUMERIC)))
    x[:, 4] = 0.6 * x[:, 0] + 0.8 * x[:, 4]
    x[:, 5] = np.exp(0.5 * x[:, 5])
    if shift.kind == "mean":
        x[:, [0, 1, 3]] += shift.strength
    shares = C0_SHARES
    if shift.kind == "mix":
        shares = (1 - shift.strength) * C0_SHARES + shift.strength * C0_SHARES[::-1]
    frame = pd.DataFrame(x, columns=NUMERIC)
    frame["c0"] = np.asarray(C0, dtype=object)[rng.choice(len(C0), n, p=shares)]
    frame["c1"] = np.asarray(C1, dtype=object)[rng.choice(len(C1), n, p=C1_SHARES)]
    return frame


def _codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        pd.Index(C0).get_indexer(frame["c0"]).astype(np.intp),
        pd.Index(C1).get_indexer(frame["c1"]).astype(np.intp),
    )


def _true_probabilities(frame: pd.DataFrame) -> np.ndarray:
    c0, c1 = _codes(frame)
    x = frame[NUMERIC].to_numpy()
    z = np.column_stack(
        [
            1.2 * x[:, 0] + 0.6 * x[:, 2],
            1.2 * x[:, 1] - 0.6 * x[:, 2] + 0.3 * x[:, 5],
            0.4 * (c1 == 1) - 0.3,
        ]
    )
    z *= (np.exp(0.45 * x[:, 3]) * SHARPNESS[c0])[:, None]
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _true_mean_and_noise(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    c0, c1 = _codes(frame)
    x = frame[NUMERIC].to_numpy()
    mean = 2 * x[:, 0] + x[:, 1] ** 2 + 0.8 * x[:, 2] * (c1 == 1) + 0.5 * x[:, 5]
    return mean, 0.4 * np.exp(0.5 * x[:, 3]) * NOISE[c0]


def _design(frame: pd.DataFrame, one_hot: bool) -> np.ndarray:
    c0, c1 = _codes(frame)
    x = frame[NUMERIC].to_numpy()
    if not one_hot:
        return np.column_stack([x, c0, c1])
    dummies = [(c0 == j) for j in range(1, len(C0))] + [(c1 == j) for j in range(1, len(C1))]
    return np.column_stack([np.ones(len(frame)), x, *dummies]).astype(float)


class Population:
    """The population and the two deployed models, fixed by ``seed``."""

    def __init__(self, seed: int = 0) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.seed = seed
        rng = np.random.default_rng([seed, 999])
        train = _features(20_000, rng, Shift())
        labels = _draw_classes(_true_probabilities(train), rng)
        self.classifier = HistGradientBoostingClassifier(
            max_iter=60,
            max_depth=3,
            learning_rate=0.1,
            categorical_features=[len(NUMERIC), len(NUMERIC) + 1],
            early_stopping=False,
            random_state=seed,
        ).fit(_design(train, one_hot=False), labels)
        mean, noise = _true_mean_and_noise(train)
        y = mean + noise * rng.standard_normal(len(train))
        self.coef = np.linalg.lstsq(_design(train, one_hot=True), y, rcond=None)[0]

    def sample(self, kind: str, n: int, stream: Any, shift: Shift = Shift()) -> pd.DataFrame:
        """``n`` rows: features, the model's output and the label, from seed stream ``stream``."""
        rng = np.random.default_rng([self.seed, *np.atleast_1d(stream)])
        frame = _features(n, rng, shift)
        if kind == "multiclass":
            probs = self.classifier.predict_proba(_design(frame, one_hot=False))
            for j, column in enumerate(PROBS):
                frame[column] = probs[:, j]
            frame["pred"] = np.asarray(CLASSES, dtype=object)[probs.argmax(axis=1)]
            codes = _draw_classes(_true_probabilities(frame), rng)
            frame["y"] = np.asarray(CLASSES, dtype=object)[codes]
        else:
            mean, noise = _true_mean_and_noise(frame)
            frame["yhat"] = _design(frame, one_hot=True) @ self.coef
            frame["y"] = mean + noise * rng.standard_normal(n)
        return frame


def _draw_classes(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(p))[:, None]
    return np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), p.shape[1] - 1)


def _output_columns(kind: str) -> list[str]:
    return PROBS if kind == "multiclass" else ["yhat"]


# --- the two tools -------------------------------------------------------------------------------


def _labelwise_fit(kind: str, reference: pd.DataFrame, n_jobs: int | None = None) -> Any:
    from labelwise.monitor import Monitor

    monitor = Monitor(categorical=CATEGORICAL, alpha=ALPHA, n_jobs=n_jobs)
    if kind == "multiclass":
        return monitor.fit(reference, score=PROBS, features=FEATURES, label="y")
    return monitor.fit(reference, prediction="yhat", features=FEATURES, label="y")


def _nannyml_estimator(kind: str, chunking: dict[str, int], features: list[str] = FEATURES):
    import nannyml as nml

    if kind == "multiclass":
        classes = sorted({c.removeprefix("p_") for c in PROBS})
        return nml.CBPE(
            y_pred_proba={c: f"p_{c}" for c in classes},
            y_pred="pred",
            y_true="y",
            problem_type="classification_multiclass",
            metrics=["accuracy", "precision", "recall", "f1"],
            **chunking,
        )
    return nml.DLE(
        feature_column_names=features,
        y_pred="yhat",
        y_true="y",
        metrics=["mae", "rmse"],
        tune_hyperparameters=False,
        hyperparameters={"verbosity": -1},
        **chunking,
    )


def _nannyml_drift(kind: str, chunking: dict[str, int]):
    import nannyml as nml

    outputs = [*PROBS, "pred"] if kind == "multiclass" else ["yhat"]
    categorical = CATEGORICAL + (["pred"] if kind == "multiclass" else [])
    return nml.UnivariateDriftCalculator(
        column_names=[*FEATURES, *outputs], treat_as_categorical=categorical, **chunking
    )


def _alerts(frame: pd.DataFrame) -> np.ndarray:
    """Per chunk: whether any of NannyML's alert columns is set."""
    alert = frame.xs("alert", axis=1, level=-1)
    return alert.to_numpy(dtype=bool).any(axis=1)


# --- speed: one tool, one fresh process ----------------------------------------------------------


def _run_labelwise(kind: str, ref: pd.DataFrame, win: pd.DataFrame, n_jobs: int | None) -> dict:
    t0 = time.perf_counter()
    monitor = _labelwise_fit(kind, ref, n_jobs)
    t1 = time.perf_counter()
    result = monitor.check(win[[*FEATURES, *_output_columns(kind)]], window_id="big")
    t2 = time.perf_counter()
    metric = "expected_accuracy" if kind == "multiclass" else "expected_mae"
    estimate = result.metric("performance", metric).value
    return {
        "steps": {"fit": t1 - t0, "check": t2 - t1},
        "verdict": f"{metric} {estimate:.4f}, composite {result.composite:.3f}, severity "
        f"{result.severity}, fired: {', '.join(result.fired) or 'none'}",
    }


def _run_nannyml(kind: str, ref: pd.DataFrame, win: pd.DataFrame, n_jobs: int | None) -> dict:
    chunking = {"chunk_number": 10}
    t0 = time.perf_counter()
    drift = _nannyml_drift(kind, chunking).fit(ref)
    t1 = time.perf_counter()
    drift_result = drift.calculate(win).filter(period="analysis").to_df()
    t2 = time.perf_counter()
    estimator = _nannyml_estimator(kind, chunking).fit(ref)
    t3 = time.perf_counter()
    estimate = estimator.estimate(win).filter(period="analysis").to_df()
    t4 = time.perf_counter()
    name = "CBPE" if kind == "multiclass" else "DLE"
    metric = "accuracy" if kind == "multiclass" else "mae"
    return {
        "steps": {
            "drift fit": t1 - t0,
            "drift calculate": t2 - t1,
            f"{name} fit": t3 - t2,
            f"{name} estimate": t4 - t3,
        },
        "performance_s": t4 - t2,
        "verdict": f"{metric} {estimate[(metric, 'value')].mean():.4f} (mean of chunks), "
        f"{int(_alerts(drift_result).sum())} chunks with a drift alert, "
        f"{int(_alerts(estimate).sum())} with a {name} alert",
    }


def time_tool(kind: str, tool: str, folder: str) -> dict[str, Any]:
    """Run in a fresh process: import the tool, read the data, time the tool's calls."""
    import importlib

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    importlib.import_module("nannyml" if tool == "nannyml" else "labelwise.monitor")
    imported = time.perf_counter() - t0
    ref = pd.read_parquet(Path(folder) / f"{kind}-reference.parquet")
    win = pd.read_parquet(Path(folder) / f"{kind}-window.parquet")
    reset = _reset_peak()
    current = _current_mib()
    before = _peak_mib()
    run = _run_nannyml if tool == "nannyml" else _run_labelwise
    out = run(kind, ref, win, 1 if tool == "labelwise-1-thread" else None)
    out["seconds"] = sum(out["steps"].values())
    out["import_s"] = imported
    out["peak_growth_mib"] = max(0.0, _peak_mib() - (current if reset else before))
    out["data_mib"] = float(win.memory_usage(deep=True).sum() / 2**20)
    return out


def speed(pop: Population, n_ref: int, n_win: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="monitor-kinds-", dir="/tmp") as folder:
        for kind in KINDS:
            pop.sample(kind, n_ref, 0).to_parquet(Path(folder) / f"{kind}-reference.parquet")
            pop.sample(kind, n_win, 101).to_parquet(Path(folder) / f"{kind}-window.parquet")
            out[kind] = {}
            for tool in TOOLS:
                print(f"  {kind}: {tool} ...", file=sys.stderr, flush=True)
                with context.Pool(1) as pool:
                    out[kind][tool] = pool.apply(time_tool, (kind, tool, folder))
            nml, lw = out[kind]["nannyml"], out[kind]["labelwise"]
            serial = out[kind]["labelwise-1-thread"]
            nml["ratio"] = nml["seconds"] / lw["seconds"]
            nml["ratio_1_thread"] = nml["seconds"] / serial["seconds"]
            nml["performance_ratio"] = nml["performance_s"] / lw["seconds"]
    return out


# --- estimation quality ---------------------------------------------------------------------------


def _settings(quick: bool) -> list[Shift]:
    if quick:
        return [Shift(), Shift("mean", 0.5), Shift("mix", 1.0), Shift("select", 2.0)]
    return [
        Shift(),
        Shift("mean", 0.25),
        Shift("mean", 0.5),
        Shift("mean", 1.0),
        Shift("mix", 0.5),
        Shift("mix", 1.0),
        Shift("select", 1.0),
        Shift("select", 3.0),
    ]


def _labelwise_estimates(
    monitor: Any, kind: str, windows: list[pd.DataFrame], metrics: tuple[str, ...], tag: str
) -> list[dict[str, dict]]:
    """labelwise's estimate, band and the realized value of ``metrics`` in each window."""
    outputs = monitor.output_columns
    out = []
    for i, window in enumerate(windows):
        watched = monitor.fit_params_["features"]
        result = monitor.check(window[[*watched, *outputs]], window_id=f"{tag}-{i}")
        scores = window[outputs] if kind == "multiclass" else window["yhat"]
        rows = {r["metric"]: r for r in monitor.reconcile(result, window["y"], scores).to_rows()}
        out.append({m: rows[m] for m in metrics})
    return out


def _nannyml_estimates(
    kind: str,
    reference: pd.DataFrame,
    windows: list[pd.DataFrame],
    metrics: dict[str, str],
    features: list[str],
) -> list[dict[str, dict]]:
    """NannyML's estimate and confidence band per window: one chunk per window, one call."""
    size = len(windows[0])
    estimator = _nannyml_estimator(kind, {"chunk_size": size}, features).fit(reference)
    analysis = pd.concat(windows, ignore_index=True).drop(columns="y")
    frame = estimator.estimate(analysis).filter(period="analysis").to_df()
    if len(frame) != len(windows):
        raise RuntimeError(f"NannyML made {len(frame)} chunks of {len(windows)} windows")
    out = []
    for i in range(len(windows)):
        row = {}
        for ours, theirs in metrics.items():
            row[ours] = {
                "estimated": float(frame[(theirs, "value")].iloc[i]),
                "low": float(frame[(theirs, "lower_confidence_boundary")].iloc[i]),
                "high": float(frame[(theirs, "upper_confidence_boundary")].iloc[i]),
                "alert": bool(frame[(theirs, "alert")].iloc[i]),
            }
        out.append(row)
    return out


def _summary(
    groups: dict[str, list[pd.DataFrame]],
    ours: list[dict],
    theirs: list[dict],
    metric: str,
) -> list[dict[str, Any]]:
    """Per setting and overall: realized mean, each tool's mean/worst error and band coverage."""
    rows = []
    start = 0
    spans = {}
    for label, windows in groups.items():
        spans[label] = range(start, start + len(windows))
        start += len(windows)
    spans["all settings"] = range(0, start)
    for label, span in spans.items():
        realized = np.array([ours[i][metric]["realized"] for i in span])
        row: dict[str, Any] = {"setting": label, "windows": len(span)}
        row["realized_mean"] = float(realized.mean())
        row["realized_min"], row["realized_max"] = float(realized.min()), float(realized.max())
        for tool, found in (("labelwise", ours), ("nannyml", theirs)):
            est = np.array([found[i][metric]["estimated"] for i in span])
            low = np.array([found[i][metric]["low"] for i in span], dtype=float)
            high = np.array([found[i][metric]["high"] for i in span], dtype=float)
            err = est - realized
            inside = (low <= realized) & (realized <= high)
            row[tool] = {
                "estimate_mean": float(est.mean()),
                "bias": float(err.mean()),
                "mae": float(np.abs(err).mean()),
                "worst": float(err[np.argmax(np.abs(err))]),
                "coverage": float(inside.mean()),
                "band_width": float(np.nanmean(high - low)),
            }
        gap = [abs(ours[i][metric]["estimated"] - theirs[i][metric]["estimated"]) for i in span]
        row["largest_estimate_gap"] = float(max(gap))
        rows.append(row)
    return rows


def quality_synthetic(
    pop: Population, monitors: dict, references: dict, quick: bool
) -> dict[str, Any]:
    size, count = (2_000, 5) if quick else (5_000, 20)
    settings = _settings(quick)
    out: dict[str, Any] = {"window_rows": size, "windows_per_setting": count}
    plan = {
        "multiclass": ({"accuracy": "accuracy", "macro_f1": "f1"}, ("accuracy", "macro_f1")),
        "regression": ({"mae": "mae", "rmse": "rmse"}, ("mae", "rmse")),
    }
    for kind in KINDS:
        print(f"  quality: {kind} ...", file=sys.stderr, flush=True)
        groups = {
            s.label: [pop.sample(kind, size, (200, k, i), s) for i in range(count)]
            for k, s in enumerate(settings)
        }
        windows = [w for ws in groups.values() for w in ws]
        names, metrics = plan[kind]
        t0 = time.perf_counter()
        ours = _labelwise_estimates(monitors[kind], kind, windows, metrics, "q")
        t1 = time.perf_counter()
        theirs = _nannyml_estimates(kind, references[kind], windows, names, FEATURES)
        t2 = time.perf_counter()
        out[kind] = {m: _summary(groups, ours, theirs, m) for m in metrics}
        out[kind].update(labelwise_s=t1 - t0, nannyml_s=t2 - t1)
    return out


def quality_mnist(quick: bool) -> dict[str, Any] | None:
    """The MNIST test set: reference a random half, biased windows from the other half."""
    if not (MNIST / "pred_probs.npy").exists():
        print(f"  MNIST data not found in {MNIST}: skipped", file=sys.stderr)
        return None
    print("  quality: MNIST ...", file=sys.stderr, flush=True)
    from labelwise.monitor import Monitor

    probs = np.load(MNIST / "pred_probs.npy")
    labels = np.load(MNIST / "given_labels.npy").astype(int)
    k = probs.shape[1]
    columns = [f"p_{j}" for j in range(k)]
    frame = pd.DataFrame(probs, columns=columns)
    frame["pred"] = probs.argmax(axis=1)
    frame["y"] = labels
    rng = np.random.default_rng(7)
    order = rng.permutation(len(frame))
    half = len(frame) // 2
    reference = frame.iloc[order[:half]].reset_index(drop=True)
    pool = frame.iloc[order[half:]].reset_index(drop=True)
    conf = pool[columns].to_numpy().max(axis=1)
    size, count = (1_000, 5) if quick else (1_000, 20)
    biases = {
        "random": np.ones(len(pool)),
        "low confidence, weight exp(-5 conf)": np.exp(-5 * conf),
        "low confidence, weight exp(-20 conf)": np.exp(-20 * conf),
        "high confidence, weight exp(+20 conf)": np.exp(20 * conf),
        "digits 0-4 x4": np.where(pool["pred"] < 5, 4.0, 1.0),
        "digits 7, 8, 9 x10": np.where(pool["pred"].isin([7, 8, 9]), 10.0, 1.0),
    }
    groups = {}
    for label, weight in biases.items():
        p = weight / weight.sum()
        groups[label] = [
            pool.iloc[np.sort(rng.choice(len(pool), size, replace=False, p=p))].reset_index(
                drop=True
            )
            for _ in range(count)
        ]
    windows = [w for ws in groups.values() for w in ws]
    monitor = Monitor(alpha=ALPHA).fit(reference, score=columns, features=[], label="y")
    ours = _labelwise_estimates(monitor, "multiclass", windows, ("accuracy", "macro_f1"), "m")
    import nannyml as nml

    estimator = nml.CBPE(
        y_pred_proba={j: f"p_{j}" for j in range(k)},
        y_pred="pred",
        y_true="y",
        problem_type="classification_multiclass",
        metrics=["accuracy", "f1"],
        chunk_size=size,
    ).fit(reference)
    analysis = pd.concat(windows, ignore_index=True).drop(columns="y")
    est = estimator.estimate(analysis).filter(period="analysis").to_df()
    theirs = [
        {
            ours_name: {
                "estimated": float(est[(name, "value")].iloc[i]),
                "low": float(est[(name, "lower_confidence_boundary")].iloc[i]),
                "high": float(est[(name, "upper_confidence_boundary")].iloc[i]),
            }
            for ours_name, name in (("accuracy", "accuracy"), ("macro_f1", "f1"))
        }
        for i in range(len(windows))
    ]
    return {
        "reference_rows": half,
        "window_rows": size,
        "windows_per_setting": count,
        "reference_accuracy": float((reference["pred"] == reference["y"]).mean()),
        "calibration": {
            "calibrated": bool(monitor.calibration_info_.get("calibrated")),
        },
        "accuracy": _summary(groups, ours, theirs, "accuracy"),
        "macro_f1": _summary(groups, ours, theirs, "macro_f1"),
    }


# --- false alarms ---------------------------------------------------------------------------------


def _no_change(pop: Population, kind: str, size: int, count: int) -> list[pd.DataFrame]:
    per_draw = max(1, 1_000_000 // size)
    out: list[pd.DataFrame] = []
    draw = 1
    while len(out) < count:
        rows = min(count - len(out), per_draw) * size
        frame = pop.sample(kind, rows, (300, size, draw))
        out += [frame.iloc[i : i + size].reset_index(drop=True) for i in range(0, rows, size)]
        draw += 1
    return out


def false_alarms(
    pop: Population, monitors: dict, references: dict, plan: dict[int, tuple[int, bool]]
) -> dict[str, list[dict[str, Any]]]:
    from labelwise.monitor import PRESETS, level_of

    cutoffs = tuple(PRESETS["default"]["cutoffs"])
    out: dict[str, list] = {}
    for kind in KINDS:
        monitor, rows = monitors[kind], []
        for size, (count, with_nannyml) in plan.items():
            print(f"  false alarms: {kind}, {count} x {size:,} rows ...", file=sys.stderr)
            windows = _no_change(pop, kind, size, count)
            fired: dict[str, int] = {}
            any_fired = warn = alert = 0
            t0 = time.perf_counter()
            for i, window in enumerate(windows):
                result = monitor.check(
                    window[[*FEATURES, *_output_columns(kind)]], window_id=f"fa-{size}-{i}"
                )
                for m in result.metrics:
                    if m.fired is not None:
                        key = f"{m.monitor}/{m.metric}"
                        fired[key] = fired.get(key, 0) + int(m.fired)
                any_fired += bool(result.fired)
                level = level_of(result.composite, cutoffs)
                warn += level >= 2
                alert += level >= 3
            seconds = time.perf_counter() - t0
            worst = max(fired, key=fired.get)
            row: dict[str, Any] = {
                "size": size,
                "windows": count,
                "statistic_rates": {k: v / count for k, v in fired.items()},
                "worst_statistic": worst,
                "worst_statistic_rate": fired[worst] / count,
                "any_monitor_fired_rate": any_fired / count,
                "warn_or_worse_rate": warn / count,
                "alert_or_worse_rate": alert / count,
                "labelwise_s_per_window": seconds / count,
            }
            if with_nannyml:
                row.update(_nannyml_alarms(kind, references[kind], windows))
            rows.append(row)
            del windows
        out[kind] = rows
    return out


def _nannyml_alarms(kind: str, reference: pd.DataFrame, windows: list[pd.DataFrame]) -> dict:
    """NannyML's alert rates on the same windows: one chunk per window."""
    chunking = {"chunk_size": len(windows[0])}
    analysis = pd.concat(windows, ignore_index=True).drop(columns="y")
    t0 = time.perf_counter()
    estimate = _nannyml_estimator(kind, chunking).fit(reference).estimate(analysis)
    perf = _alerts(estimate.filter(period="analysis").to_df())
    drift = _nannyml_drift(kind, chunking).fit(reference).calculate(analysis)
    drift_frame = drift.filter(period="analysis").to_df()
    columns = drift_frame.xs("alert", axis=1, level=-1).to_numpy(dtype=bool)
    return {
        "nannyml_performance_alert_rate": float(perf.mean()),
        "nannyml_drift_alert_rate": float(columns.any(axis=1).mean()),
        "nannyml_column_alert_rate": float(columns.mean()),
        "nannyml_s": time.perf_counter() - t0,
    }


# --- report ---------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _quality_table(rows: list[dict], metric: str, digits: int = 4) -> str:
    f = f"{{:.{digits}f}}"
    lines = [
        f"| setting | realized {metric} (min–max) | labelwise estimate | labelwise mean abs error "
        "| labelwise worst error | labelwise in band | NannyML estimate | NannyML mean abs "
        "error | NannyML worst error | NannyML in band |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lw, nm = r["labelwise"], r["nannyml"]
        name = f"**{r['setting']}**" if r["setting"] == "all settings" else r["setting"]
        lines.append(
            f"| {name} | {f.format(r['realized_mean'])} ({f.format(r['realized_min'])}–"
            f"{f.format(r['realized_max'])}) | {f.format(lw['estimate_mean'])} | "
            f"{f.format(lw['mae'])} | {lw['worst']:+.{digits}f} | {_pct(lw['coverage'])} | "
            f"{f.format(nm['estimate_mean'])} | {f.format(nm['mae'])} | "
            f"{nm['worst']:+.{digits}f} | {_pct(nm['coverage'])} |"
        )
    overall = rows[-1]
    lines.append(
        f"\nMean band width (high − low): labelwise {f.format(overall['labelwise']['band_width'])}"
        f", NannyML {f.format(overall['nannyml']['band_width'])}."
    )
    return "\n".join(lines)


def _speed_table(sp: dict[str, Any]) -> str:
    lines = [
        "| model | tool | steps (s) | total | NannyML / labelwise (performance part only) "
        "| peak memory growth | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        for tool in TOOLS:
            r = sp[kind][tool]
            steps = ", ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
            if tool == "nannyml":
                ratio = f"{r['ratio']:.1f}× ({r['performance_ratio']:.1f}×)"
            elif tool == "labelwise":
                ratio = "1"
            else:
                ratio = f"{sp[kind]['nannyml']['ratio_1_thread']:.1f}× (NannyML / this)"
            lines.append(
                f"| {kind} | {tool} | {steps} | {r['seconds']:.2f} s | {ratio} | "
                f"{r['peak_growth_mib']:.0f} MiB | {r['verdict']} |"
            )
    return "\n".join(lines)


def _alarm_table(fa: dict[str, list]) -> str:
    lines = [
        "| model | window rows | windows | worst statistic | its rate | any monitor fired "
        "| composite ≥ warn | ≥ alert | NannyML CBPE/DLE alert | NannyML drift alert (any "
        "column) | NannyML column alerts |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        for r in fa[kind]:
            n = r["windows"]
            nml = [r.get(k) for k in ("nannyml_performance_alert_rate", "nannyml_drift_alert_rate")]
            col = r.get("nannyml_column_alert_rate")
            lines.append(
                f"| {kind} | {r['size']:,} | {n} | {r['worst_statistic']} | "
                f"{r['worst_statistic_rate']:.3f} ({round(r['worst_statistic_rate'] * n)}/{n}) | "
                f"{r['any_monitor_fired_rate']:.3f} | {r['warn_or_worse_rate']:.3f} | "
                f"{r['alert_or_worse_rate']:.3f} | {_pct(nml[0])} | {_pct(nml[1])} | "
                f"{'–' if col is None else f'{col:.1%}'} |"
            )
    return "\n".join(lines)


def _statistic_table(fa: dict[str, list]) -> str:
    lines = []
    for kind in KINDS:
        rows = fa[kind]
        names = sorted({k for r in rows for k in r["statistic_rates"]})
        head = " | ".join(f"{r['size']:,} rows" for r in rows)
        lines += [f"| {kind} statistic | {head} |", "|---|" + "---|" * len(rows)]
        for name in names:
            cells = " | ".join(f"{r['statistic_rates'].get(name, 0):.3f}" for r in rows)
            lines.append(f"| {name} | {cells} |")
        lines.append("")
    return "\n".join(lines).strip()


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    v = env["versions"]
    q, sp, fa = results["quality"], results["speed"], results["false_alarms"]
    blocks = [
        "## labelwise multiclass and regression monitors against NannyML",
        f"labelwise {v['labelwise']}, NannyML {v['nannyml']} (LightGBM {v['lightgbm']}), "
        f"scikit-learn {v['scikit-learn']}, pandas {v['pandas']}, numpy {v['numpy']}, Python "
        f"{env['python']}, {env['cpus']} CPUs, 1-minute load average {env['load_start']:.1f} at "
        f"the start and {env['load_end']:.1f} at the end (other jobs shared the machine: "
        f"timings are noisy). Whole run {results['seconds'] / 60:.1f} min. Reproduce: "
        f"`{results['command']}`.",
        "Data: a seeded synthetic population (12 numeric and 2 categorical features) and two "
        "fixed models trained once on 20,000 rows of it, both imperfect with an error that "
        "depends on x (see the script's docstring): a 3-class gradient-boosting classifier "
        "whose true class overlap varies with `x3` and `c0`, and a least-squares regression "
        "that misses a square and an interaction, with noise growing in `x3` and `c0 = k3`. "
        "labelwise runs with its defaults (`Monitor(categorical=['c0', 'c1'])`), nothing tuned "
        "on these windows.",
        f"### Speed and memory: reference {results['reference_rows']:,} rows, window "
        f"{results['window_rows']:,} rows × 14 features",
        _speed_table(sp),
        "What each side computes:\n\n"
        + "\n".join(
            f"- {kind}, {tool}: {WHAT[kind][tool]}." for kind in KINDS for tool in WHAT[kind]
        ),
        "Each tool ran once in a fresh process after reading the Parquet files; imports are not "
        "timed. Peak memory growth = the process's peak resident set during the calls (peak "
        "mark reset at their start) minus the resident set at their start. `labelwise` runs "
        "with `n_jobs=None` (a thread per core), `labelwise-1-thread` with `n_jobs=1`. The "
        "ratio in brackets compares labelwise's whole fit + check with NannyML's performance "
        "estimator alone (CBPE or DLE, no drift).",
    ]
    qs = q["synthetic"]
    blocks += [
        f"### Estimation under covariate shift: {qs['windows_per_setting']} windows of "
        f"{qs['window_rows']:,} rows per setting",
        "Settings: `means +d` moves x0, x1 and x3 by d standard deviations; `c0 mix t` moves "
        "the shares of c0 (0.4, 0.3, 0.2, 0.1) a fraction t of the way to their reverse; "
        "`select on x3, beta b` keeps a row with probability sigmoid(-b x3). Labels always follow "
        "the same P(y | x). Estimates: labelwise `check` then `reconcile` (band: estimate ± 3 "
        "sampling standard errors of the realized metric in reference windows of this size); "
        "NannyML CBPE / DLE fitted on the same reference with `chunk_size` = the window, all "
        "windows in one `estimate` call so that each chunk is one window (band: its "
        "`lower_/upper_confidence_boundary`, ± 3 sampling errors). Error = estimate − realized.",
        "**Multiclass, expected accuracy**",
        _quality_table(qs["multiclass"]["accuracy"], "accuracy"),
        "**Multiclass, expected macro F1** (NannyML `f1`, macro averaged)",
        _quality_table(qs["multiclass"]["macro_f1"], "macro F1"),
        "**Regression, expected MAE**",
        _quality_table(qs["regression"]["mae"], "MAE"),
        "**Regression, expected RMSE**",
        _quality_table(qs["regression"]["rmse"], "RMSE"),
    ]
    mn = q.get("mnist")
    if mn:
        blocks += [
            f"### Real data: MNIST test set, {mn['windows_per_setting']} windows of "
            f"{mn['window_rows']:,} rows per setting",
            f"Cross-validated probabilities of the 10,000 MNIST test images "
            f"(`../shared/data/label-errors-mnist`), given labels as truth. Reference: a random "
            f"half ({mn['reference_rows']:,} rows, accuracy {mn['reference_accuracy']:.4f}); "
            "windows drawn without replacement from the other half with weights on the model's "
            "confidence (largest probability) or predicted class. No features (`features=[]`). "
            "NannyML CBPE with `chunk_size` = 1,000 on the same reference.",
            "**Expected accuracy**",
            _quality_table(mn["accuracy"], "accuracy"),
            "**Expected macro F1**",
            _quality_table(mn["macro_f1"], "macro F1"),
        ]
    blocks += [
        f"### False alarms with no change (alpha = {ALPHA} per statistic)",
        _alarm_table(fa),
        "No-change windows are fresh draws of the reference population, checked by the monitors "
        "fitted above. A statistic counts when labelwise reports whether it fired: the null "
        "thresholds (quantile 1 − alpha, raised to a materiality floor) and the gated "
        "performance estimates (shift from the reference estimate beyond 3 null standard "
        "errors). Composite levels against the default cut-offs. NannyML on the same windows "
        "(not at 1,000,000 rows), one chunk per window: CBPE / DLE alert on any metric (its "
        "thresholds: ± 3 standard deviations of the metric over reference chunks of that size), "
        "and `UnivariateDriftCalculator` alerts on any of the features and outputs (its default: "
        "Jensen-Shannon distance above the mean + 3 standard deviations of its values on the "
        "reference's own chunks of that size; those chunks are part of the reference they are "
        "compared with, which keeps their distances low).",
        "Each statistic's firing rate:",
        _statistic_table(fa),
        "### Targets",
        "\n".join(f"- {note}" for note in results["notes"]),
    ]
    return "\n\n".join(blocks) + "\n"


def notes(results: dict[str, Any]) -> list[str]:
    out = []
    for kind in KINDS:
        sp = results["speed"][kind]
        lw, nml = sp["labelwise"], sp["nannyml"]
        slowest = max(lw["steps"], key=lw["steps"].get)
        if nml["ratio"] >= 1:
            verdict = f"labelwise {nml['ratio']:.1f}× faster than NannyML"
        else:
            verdict = f"labelwise SLOWER than NannyML, by {1 / nml['ratio']:.1f}×"
        out.append(
            f"Speed, {kind}: {verdict} ({lw['seconds']:.1f} s against {nml['seconds']:.1f} s for "
            f"drift + {'CBPE' if kind == 'multiclass' else 'DLE'}, "
            f"{nml['performance_s']:.1f} s for the latter alone); labelwise's largest step is "
            f"{slowest}, {lw['steps'][slowest]:.1f} s. Peak memory growth "
            f"{lw['peak_growth_mib']:.0f} MiB against {nml['peak_growth_mib']:.0f} MiB."
        )
    q = results["quality"]
    cases = [
        ("synthetic multiclass accuracy", q["synthetic"]["multiclass"]["accuracy"]),
        ("synthetic multiclass macro F1", q["synthetic"]["multiclass"]["macro_f1"]),
        ("synthetic regression MAE", q["synthetic"]["regression"]["mae"]),
        ("synthetic regression RMSE", q["synthetic"]["regression"]["rmse"]),
    ]
    if q.get("mnist"):
        cases += [
            ("MNIST accuracy", q["mnist"]["accuracy"]),
            ("MNIST macro F1", q["mnist"]["macro_f1"]),
        ]
    for name, rows in cases:
        overall = rows[-1]
        lw, nm = overall["labelwise"], overall["nannyml"]
        met = lw["mae"] <= nm["mae"] + TIE
        worse = [
            f"{r['setting']} ({r['labelwise']['mae']:.4f} vs {r['nannyml']['mae']:.4f})"
            for r in rows[:-1]
            if r["labelwise"]["mae"] > r["nannyml"]["mae"] + TIE
        ]
        worst = max(rows[:-1], key=lambda r: abs(r["labelwise"]["worst"]))
        text = (
            f"Estimation error, {name} (labelwise at most NannyML's): "
            f"{'met' if met else 'NOT met'} over all windows (mean absolute error "
            f"{lw['mae']:.4f} vs {nm['mae']:.4f}; realized value inside labelwise's band in "
            f"{lw['coverage']:.0%} of windows, NannyML's {nm['coverage']:.0%}). labelwise's "
            f"worst window: {worst['labelwise']['worst']:+.4f} ({worst['setting']})."
        )
        if overall["largest_estimate_gap"] < TIE:
            text += " The two tools' estimates coincide in every window (largest gap "
            text += f"{overall['largest_estimate_gap']:.1e})."
        if worse:
            text += " labelwise is worse in: " + "; ".join(worse) + "."
        out.append(text)
    for kind in KINDS:
        for r in results["false_alarms"][kind]:
            n, rates = r["windows"], list(r["statistic_rates"].values())
            slack = 2 * np.sqrt(ALPHA * (1 - ALPHA) / n)
            over = [k for k, v in r["statistic_rates"].items() if v > ALPHA + slack]
            ok = not over
            text = (
                f"False alarms, {kind}, {r['size']:,} rows: every statistic at most alpha plus 2 "
                f"binomial standard errors ({ALPHA + slack:.1%} with {n} windows): "
                f"{'met' if ok else 'NOT met'} (worst {r['worst_statistic']} at "
                f"{r['worst_statistic_rate']:.1%}); some monitor fired in "
                f"{r['any_monitor_fired_rate']:.1%} of windows, composite >= warn in "
                f"{r['warn_or_worse_rate']:.1%}; mean over the {len(rates)} statistics "
                f"{np.mean(rates):.1%}."
            )
            if over:
                text += " Above: " + ", ".join(
                    f"{k} {r['statistic_rates'][k]:.1%}" for k in sorted(over)
                )
                text += "."
            if n < 20:
                text += f" ({n} windows only: a check for gross failure, not a rate.)"
            out.append(text)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer windows")
    parser.add_argument(
        "--only",
        choices=["speed", "quality", "false-alarms"],
        help="run one section; the others are kept from the saved results",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    n_ref, n_win = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    plan = (
        {500: (30, True), 10_000: (10, True), 100_000: (1, False)}
        if args.quick
        else {500: (200, True), 10_000: (100, True), 1_000_000: (3, False)}
    )
    suffix = ".quick" if args.quick else ""
    saved = OUT / f"monitor_kinds{suffix}.json"
    results: dict[str, Any] = json.loads(saved.read_text()) if args.only and saved.exists() else {}
    results.update(reference_rows=n_ref, window_rows=n_win)
    pop = Population(seed=0)
    if args.only in (None, "speed"):
        print("speed and memory ...", file=sys.stderr, flush=True)
        results["speed"] = speed(pop, n_ref, n_win)
    if args.only in (None, "quality", "false-alarms"):
        references = {kind: pop.sample(kind, n_ref, 0) for kind in KINDS}
        monitors = {kind: _labelwise_fit(kind, references[kind]) for kind in KINDS}
        if args.only in (None, "quality"):
            print("estimation quality ...", file=sys.stderr, flush=True)
            results["quality"] = {
                "synthetic": quality_synthetic(pop, monitors, references, args.quick),
                "mnist": quality_mnist(args.quick),
            }
        if args.only in (None, "false-alarms"):
            print("false alarms ...", file=sys.stderr, flush=True)
            results["false_alarms"] = false_alarms(pop, monitors, references, plan)
    packages = ("labelwise", "nannyml", "lightgbm", "pandas", "numpy", "scipy", "scikit-learn")
    results["environment"] = environment(load_start, packages)
    results["command"] = ".bench-anchors-venv/bin/python benchmarks/monitor_kinds.py" + (
        " --quick" if args.quick else ""
    )
    results["seconds"] = time.perf_counter() - started
    write_json(results, saved)  # before the report: a section that ran is never lost
    complete = all(k in results for k in ("speed", "quality", "false_alarms"))
    if complete:
        results["notes"] = notes(results)
        write_text(markdown(results), OUT / f"monitor_kinds{suffix}.md")
        write_json(results, saved)
    print(markdown(results) if complete else "one section only; run all to render the report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
