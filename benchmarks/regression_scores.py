"""Regression label-quality scores: labelwise against cleanlab 2.9 on the same predictions.

    .venv/bin/python benchmarks/regression_scores.py            # seeds 0-4, about 6 minutes
    .venv/bin/python benchmarks/regression_scores.py --quick    # 1,000-row tables, seeds 0-1
    .venv/bin/python benchmarks/regression_scores.py --tuning   # seeds 10-14 (method choice)

For every table, corruption level (5% and 10% of targets) and seed: corrupt the targets, get
out-of-sample predictions once with ``labelwise.issues.regression.cross_val_predictions`` (5-fold,
the dataset's model), and score every row with four scorers on those same predictions:

- ``lw_scale``: labelwise's ``regression_quality_scores`` with ``uncertainty=`` the per-row
  ``residual_scale`` (its time includes fitting that scale model);
- ``lw_global``: labelwise with no uncertainty (one robust global scale for all rows);
- ``cl_outre``: cleanlab ``regression.rank.get_label_quality_scores(method="outre")`` (default);
- ``cl_residual``: the same with ``method="residual"``.

The metric is the average precision of finding the corrupted rows
(``sklearn.metrics.average_precision_score``, corrupted = positive class), ranking by
``-score``. ``1 - score`` ranks the same in exact arithmetic, but in float64 every score below
1.1e-16 gives 1 - score = 1 exactly, which ties the most suspicious rows of every scorer
(cleanlab's ``residual`` score ``exp(-|r|)`` reaches that at |r| = 37, labelwise's at z = 8.3);
``-score`` keeps their order. Also labelwise's flagged precision, recall and estimated share of
corrupted targets (``find_regression_issues`` with the per-row scale, default threshold).

Writes benchmarks/results/regression_scores.{md,json} (``--quick``: *.quick.*, ``--tuning``:
*.tuning.*, so neither overwrites the held-out figures).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cleanlab
import numpy as np
import pandas as pd
import sklearn
from cleanlab.regression.rank import get_label_quality_scores
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, make_friedman1, make_friedman2, make_friedman3
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import average_precision_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

import labelwise
from labelwise.io import markdown_table, write_json, write_text
from labelwise.issues.regression import (
    cross_val_predictions,
    find_regression_issues,
    regression_quality_scores,
    residual_scale,
)

RESULTS = Path(__file__).resolve().parent / "results"
NOISE_RATES = (0.05, 0.10)
SCORERS = ("lw_scale", "lw_global", "cl_outre", "cl_residual")
#: Said with the held-out figures, so that the one earlier look at these seeds is on record.
EARLIER_RUN = (
    "One earlier version was also run on these seeds: the scale model without the "
    "predictions as a feature (`residual_scale(X, residuals)`). It scored a mean AP of 0.813 "
    "over all cases (cleanlab 0.797) and was below the better cleanlab method in 3 of the 22 "
    "table × level means: friedman2_1k 5% (0.802 vs 0.806), friedman2_1k 10% (0.830 vs 0.833) "
    "and friedman3_1k 5% (0.769 vs 0.771). Adding the predictions was then chosen on the "
    "tuning seeds (there it raised 13 of the 22 table × level means, by up to 0.02, and lowered "
    "7, by at most 0.005) and run here once."
)
#: The seed of the one corrupted copy each table's model is chosen on (never a reported seed).
SELECTION_SEED = 1000


# -- tables ----------------------------------------------------------------------------------


def _diabetes(seed: int, n: int) -> tuple[Any, np.ndarray]:
    return load_diabetes(return_X_y=True)  # fixed data: the seed only moves corruption and folds


def _friedman(make: Callable, noise: float) -> Callable[[int, int], tuple[Any, np.ndarray]]:
    def load(seed: int, n: int) -> tuple[Any, np.ndarray]:
        return make(n_samples=n, noise=noise, random_state=seed)

    return load


def _heteroscedastic(seed: int, n: int) -> tuple[Any, np.ndarray]:
    """Smooth signal; the noise sd grows 11-fold along x4 (0.25 to 2.75)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 6))
    signal = 5 * X[:, 0] + 10 * np.sin(np.pi * X[:, 1] * X[:, 2]) + 4 * (X[:, 3] - 0.5) ** 2
    sd = 0.25 + 2.5 * X[:, 4]
    return X, signal + rng.normal(0, sd)


def _categorical(seed: int, n: int) -> tuple[Any, np.ndarray]:
    """Four numeric columns and an 8-level category that sets both an offset and the noise sd."""
    rng = np.random.default_rng(seed)
    levels = np.array(list("ABCDEFGH"))
    offset = np.array([0.0, 3.0, -2.0, 5.0, 1.0, -4.0, 2.0, 7.0])
    sd = np.array([0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0, 4.0])
    code = rng.integers(0, levels.size, n)
    x = rng.uniform(0, 1, (n, 4))
    signal = 4 * x[:, 0] + 4 * np.sin(2 * np.pi * x[:, 1]) + 2 * x[:, 2] * x[:, 3] + offset[code]
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(4)])
    frame["segment"] = pd.Categorical(levels[code], categories=levels)
    return frame, signal + rng.normal(0, sd[code])


#: name -> (loader(seed, n), rows). Friedman noise: signal-to-noise 3:1 for #2 and #3 as in
#: Friedman (1991), and the customary sd 1 for #1.
DATASETS: dict[str, tuple[Callable, int]] = {
    "diabetes": (_diabetes, 442),
    "friedman1_1k": (_friedman(make_friedman1, 1.0), 1000),
    "friedman1_5k": (_friedman(make_friedman1, 1.0), 5000),
    "friedman2_1k": (_friedman(make_friedman2, 125.0), 1000),
    "friedman2_5k": (_friedman(make_friedman2, 125.0), 5000),
    "friedman3_1k": (_friedman(make_friedman3, 0.11), 1000),
    "friedman3_5k": (_friedman(make_friedman3, 0.11), 5000),
    "hetero_1k": (_heteroscedastic, 1000),
    "hetero_5k": (_heteroscedastic, 5000),
    "categorical_1k": (_categorical, 1000),
    "categorical_5k": (_categorical, 5000),
}


def corrupt(y: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt ``round(rate * n)`` random targets; half each way (a coin flip per row).

    - replaced by a value uniform over the observed range [min y, max y] (a value entered for
      the wrong row): some land near the truth and cannot be detected by anyone;
    - shifted by +-U(1, 3) standard deviations of y (a unit or offset slip).
    """
    n = y.size
    rows = rng.choice(n, size=round(rate * n), replace=False)
    noisy = y.copy()
    uniform = rng.random(rows.size) < 0.5
    noisy[rows[uniform]] = rng.uniform(y.min(), y.max(), uniform.sum())
    shift = rng.choice([-1.0, 1.0], (~uniform).sum()) * rng.uniform(1, 3, (~uniform).sum())
    noisy[rows[~uniform]] += shift * y.std()
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return noisy, mask


# -- models ----------------------------------------------------------------------------------


def _candidates(X: Any) -> dict[str, Any]:
    if isinstance(X, pd.DataFrame):
        numeric = [c for c in X.columns if X[c].dtype.kind == "f"]
        other = [c for c in X.columns if c not in numeric]
        columns = ColumnTransformer(
            [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(), other)]
        )
        ridge = make_pipeline(columns, RidgeCV(np.logspace(-3, 3, 13)))
    else:
        ridge = make_pipeline(StandardScaler(), RidgeCV(np.logspace(-3, 3, 13)))
    # categorical_features="from_dtype" (the default) splits natively on the category column.
    return {"ridge": ridge, "hgb": HistGradientBoostingRegressor(random_state=0)}


def choose_model(name: str) -> tuple[str, dict[str, float]]:
    """Ridge or HGB for a table: the lower out-of-sample squared error on one corrupted copy.

    The copy uses :data:`SELECTION_SEED` and 5% corruption; as a user would, it measures error
    against the given (corrupted) targets.
    """
    load, n = DATASETS[name]
    X, y = load(SELECTION_SEED, n)
    noisy, _ = corrupt(y, 0.05, np.random.default_rng(SELECTION_SEED))
    mse = {
        key: float(np.mean((cross_val_predictions(model, X, noisy, random_state=0) - noisy) ** 2))
        for key, model in _candidates(X).items()
    }
    return min(mse, key=mse.get), mse


# -- one case --------------------------------------------------------------------------------


def _timed(func: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def run_case(name: str, rate: float, seed: int, model_name: str) -> dict[str, Any]:
    load, n = DATASETS[name]
    X, y = load(seed, n)
    rng = np.random.default_rng([seed, round(rate * 1000)])
    noisy, truth = corrupt(y, rate, rng)
    model = _candidates(X)[model_name]
    pred, cv_s = _timed(lambda: cross_val_predictions(model, X, noisy, random_state=seed))
    scale, scale_s = _timed(
        lambda: residual_scale(X, noisy - pred, predictions=pred, random_state=seed)
    )
    scorers = {
        "lw_scale": lambda: regression_quality_scores(noisy, pred, uncertainty=scale),
        "lw_global": lambda: regression_quality_scores(noisy, pred),
        "cl_outre": lambda: get_label_quality_scores(noisy, pred, method="outre"),
        "cl_residual": lambda: get_label_quality_scores(noisy, pred, method="residual"),
    }
    row: dict[str, Any] = {"dataset": name, "noise": rate, "seed": seed, "n": int(y.size)}
    for key, score in scorers.items():
        scores, seconds = _timed(score)
        row[f"ap_{key}"] = float(average_precision_score(truth, -scores))
        row[f"time_{key}"] = seconds + (scale_s if key == "lw_scale" else 0.0)
    issues = find_regression_issues(noisy, pred, uncertainty=scale)
    hits = int(np.count_nonzero(issues.mask & truth))
    row.update(
        flagged=issues.num_issues,
        precision=hits / issues.num_issues if issues.num_issues else float("nan"),
        recall=hits / int(truth.sum()),
        false_alarm=int(np.count_nonzero(issues.mask & ~truth)) / int((~truth).sum()),
        noise_est=issues.noise_rate,
        noise_true=float(truth.mean()),
        cv_s=cv_s,
        rmse_clean=float(np.sqrt(np.mean((pred - y)[~truth] ** 2))),
    )
    return row


# -- report ----------------------------------------------------------------------------------


def summarize(rows: pd.DataFrame, models: dict[str, str]) -> dict[str, pd.DataFrame]:
    groups = rows.groupby(["dataset", "noise"], sort=False)
    ap = groups[[f"ap_{k}" for k in SCORERS]].agg(["mean", "min"])
    # Per seed: does labelwise (per-row scale) reach the better cleanlab method?
    best_cl = rows[["ap_cl_outre", "ap_cl_residual"]].max(axis=1)
    rows = rows.assign(win=rows["ap_lw_scale"] >= best_cl - 1e-12)
    table = pd.DataFrame(
        {
            "dataset": [d for d, _ in ap.index],
            "model": [models[d] for d, _ in ap.index],
            "noise": [f"{r:.0%}" for _, r in ap.index],
        }
    )
    for key in SCORERS:
        table[f"{key} mean"] = ap[(f"ap_{key}", "mean")].to_numpy()
        table[f"{key} worst"] = ap[(f"ap_{key}", "min")].to_numpy()
    table["lw_scale ≥ best cl (seeds)"] = [
        f"{int(w.sum())}/{w.size}" for _, w in rows.groupby(["dataset", "noise"], sort=False)["win"]
    ]
    flags = groups.agg(
        flagged=("flagged", "mean"),
        precision=("precision", "mean"),
        precision_worst=("precision", "min"),
        recall=("recall", "mean"),
        recall_worst=("recall", "min"),
        false_alarm=("false_alarm", "mean"),
        noise_est=("noise_est", "mean"),
        noise_est_min=("noise_est", "min"),
        noise_est_max=("noise_est", "max"),
        noise_true=("noise_true", "mean"),
    ).reset_index()
    flags["noise"] = [f"{r:.0%}" for r in flags["noise"]]
    times = groups[["cv_s", *[f"time_{k}" for k in SCORERS]]].mean().reset_index()
    times["noise"] = [f"{r:.0%}" for r in times["noise"]]
    overall = pd.DataFrame(
        {
            "scorer": list(SCORERS),
            "mean AP": [rows[f"ap_{k}"].mean() for k in SCORERS],
            "worst AP": [rows[f"ap_{k}"].min() for k in SCORERS],
        }
    )
    return {"ap": table, "flags": flags, "times": times, "overall": overall}


def _markdown(tables: dict[str, pd.DataFrame], meta: dict[str, Any]) -> str:
    ap = tables["ap"]
    wins = ap["lw_scale ≥ best cl (seeds)"].str.split("/", expand=True).astype(int).sum()
    parts = [
        "# Regression label-quality scores",
        f"Seeds {meta['seeds']}; {meta['wall_s']:.0f} s on {meta['machine']}. Command: "
        f"`{meta['command']}`.",
        meta["tuning_note"],
        "Average precision of finding the corrupted targets (mean and worst over seeds), every "
        "scorer on the same out-of-sample predictions. `lw_scale`: labelwise with the per-row "
        "`residual_scale`; `lw_global`: labelwise with one robust global scale; `cl_outre`, "
        "`cl_residual`: cleanlab 2.9 `get_label_quality_scores` with `method='outre'` (its "
        "default) and `'residual'`. The last column counts the seeds where `lw_scale` is at "
        f"least the better cleanlab method: {wins[0]}/{wins[1]} in all.",
        markdown_table(ap, digits=3),
        "## Over every table, level and seed",
        markdown_table(tables["overall"], digits=3),
        "## labelwise's flagged rows",
        "`find_regression_issues(targets, predictions, uncertainty=residual_scale(...))` with "
        "the default threshold (z > 3): rows flagged, precision and recall against the "
        "corrupted rows (mean and worst over seeds), the share of correct rows flagged "
        "(`false_alarm`; 0.27% under exactly normal errors with a known scale), and the "
        "estimated share of corrupted targets (`noise_rate`: mean, min, max over seeds) against "
        "the true one.",
        markdown_table(tables["flags"], digits=3),
        "## Time (seconds, mean over seeds)",
        "`cv_s`: the 5-fold predictions shared by all scorers. `time_lw_scale` includes fitting "
        "the out-of-sample scale model (5 more folds).",
        markdown_table(tables["times"], digits=3),
        "## Setup",
        meta["setup"],
    ]
    return "\n\n".join(parts) + "\n"


SETUP = (
    "Tables: scikit-learn's `load_diabetes` (442 rows); `make_friedman1` (noise sd 1), "
    "`make_friedman2` (noise sd 125) and `make_friedman3` (noise sd 0.11), signal-to-noise about "
    "3:1 for the last two, at 1,000 and 5,000 rows; a heteroscedastic table (6 uniform features, "
    "noise sd 0.25 to 2.75 along one of them); a table with 4 numeric columns and an 8-level "
    "category that sets an offset and a noise sd from 0.2 to 4. Corruption: 5% or 10% of rows, "
    "each either replaced by a value uniform over the observed target range or shifted by "
    "±U(1, 3) target standard deviations (a coin flip per row). Model per table: ridge "
    "(standardized, one-hot for the category, RidgeCV) or HistGradientBoostingRegressor, "
    "whichever has the lower 5-fold squared error on one corrupted copy made with seed "
    f"{SELECTION_SEED} (not a reported seed). Ranking by `-score` (see the script's docstring)."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000-row tables, seeds 0-1")
    parser.add_argument("--tuning", action="store_true", help="seeds 10-14, the tuning seeds")
    parser.add_argument("--only", nargs="+", choices=list(DATASETS), help="these tables only")
    args = parser.parse_args(argv)

    # Every fit on one core: on a shared machine an OpenMP team per fit mostly spins, and the
    # timings would measure the neighbours. Results do not depend on it.
    threadpool_limits(limits=1, user_api="openmp")
    seeds = list(range(10, 15)) if args.tuning else list(range(2 if args.quick else 5))
    names = args.only or [d for d in DATASETS if not (args.quick and d.endswith("_5k"))]
    suffix = ".tuning" if args.tuning else ".quick" if args.quick or args.only else ""
    started = time.perf_counter()
    models, selection, rows = {}, {}, []
    for name in names:
        models[name], selection[name] = choose_model(name)
        for rate in NOISE_RATES:
            for seed in seeds:
                rows.append(run_case(name, rate, seed, models[name]))
        done = pd.DataFrame([r for r in rows if r["dataset"] == name])
        print(
            f"{name:15s} {models[name]:5s} "
            + " ".join(f"{k}={done[f'ap_{k}'].mean():.3f}" for k in SCORERS)
            + f"  ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    frame = pd.DataFrame(rows)
    tables = summarize(frame, models)
    command = "python benchmarks/regression_scores.py" + " ".join(
        [""] + (["--tuning"] if args.tuning else []) + (["--quick"] if args.quick else [])
        + (["--only", *args.only] if args.only else [])
    )  # fmt: skip
    meta = {
        "seeds": f"{seeds[0]}–{seeds[-1]}",
        "wall_s": time.perf_counter() - started,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "command": command,
        "setup": SETUP,
        "tuning_note": (
            "These are the tuning seeds: the default threshold, the noise-share estimate and "
            "the scale model were chosen on them."
            if args.tuning
            else "Held out: the default threshold, the noise-share estimate and the scale model "
            "were chosen on seeds 10–14 (`--tuning`) of these same tables, never on these seeds. "
            + EARLIER_RUN
        ),
    }
    text = _markdown(tables, meta)
    print(text)
    write_text(text, RESULTS / f"regression_scores{suffix}.md")
    write_json(
        {
            "command": command,
            "seeds": seeds,
            "models": models,
            "model_selection_mse": selection,
            "rows": frame.to_dict(orient="records"),
            "ap": tables["ap"].to_dict(orient="records"),
            "flags": tables["flags"].to_dict(orient="records"),
            "times": tables["times"].to_dict(orient="records"),
            "environment": {
                "labelwise": labelwise.__version__,
                "cleanlab": cleanlab.__version__,
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "machine": meta["machine"],
                "load_average_1min": os.getloadavg()[0],
                "wall_s": meta["wall_s"],
            },
        },
        RESULTS / f"regression_scores{suffix}.json",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
