"""Imprecise-label methods against plain training of the same network, on small digit sets.

Two comparisons, each over several seeds:

- ILL (``ImpreciseLabelClassifier``, objective "em") against the same MLP trained naively
  (objective "naive": cross-entropy to the label, to uniform over a candidate set, unlabeled rows
  dropped) on scikit-learn's digits (70/30 split, clean test accuracy), with 40% symmetric noise,
  40% pair noise, 1-3 extra candidates per label, 70% and 90% of labels hidden, and a mix (30%
  of rows with a label under 40% symmetric noise, 30% with a candidate set, 40% unlabeled);
- PU-MLC (``PositiveUnlabeledMultiLabel``, loss "pu") against binary cross-entropy of the same
  network on the two-digit multi-label set (2,000 train / 1,000 test) with 30%, 50% and 70% of
  the training positives hidden (macro average precision on the clean test labels), with an MLP
  (512 hidden units) and, at 50%, a linear model.

    .venv/bin/python benchmarks/imprecise_methods.py            # 3 seeds, a few minutes
    .venv/bin/python benchmarks/imprecise_methods.py --seeds 1 --quick

Writes ``results/imprecise_methods/imprecise_methods.{csv,md,png}`` (``--quick``: ``*.quick.*``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

from labelwise.io import atomic_write, write_csv, write_text
from labelwise.learn.imprecise import ImpreciseLabelClassifier
from labelwise.learn.pu_multilabel import PositiveUnlabeledMultiLabel
from labelwise.simulate import inject_noise
from labelwise.simulate_weak import (
    drop_positives,
    hide_labels,
    make_multilabel_digits,
    partial_labels,
)

OUT = Path(__file__).resolve().parent / "results" / "imprecise_methods"
ILL_SETTINGS = (
    "symmetric 40%",
    "pair 40%",
    "partial +1-3",
    "unlabeled 70%",
    "unlabeled 90%",
    "mix",
)
PU_SETTINGS = (("mlp", 0.3), ("mlp", 0.5), ("mlp", 0.7), ("linear", 0.5))
ILL_NET = {"hidden": (256, 256), "epochs": 60, "batch_size": 128}
PU_NET = {"hidden": (512,), "epochs": 60, "batch_size": 128}


def _ill_inputs(setting: str, y: np.ndarray, seed: int) -> tuple[np.ndarray | None, dict]:
    """``(y, fit keyword arguments)`` carrying the imprecise information of one setting."""
    if setting.startswith(("symmetric", "pair")):
        return inject_noise(y, kind=setting.split()[0], rate=0.4, random_state=seed).labels, {}
    if setting.startswith("partial"):
        return None, {"candidates": partial_labels(y, (1, 3), random_state=seed)}
    if setting.startswith("unlabeled"):
        return hide_labels(y, int(setting.split()[1][:-1]) / 100, random_state=seed), {}
    # mix: each row is noisy-labeled, partial or unlabeled
    rng = np.random.default_rng(seed)
    role = rng.choice(3, size=y.size, p=[0.3, 0.3, 0.4])
    noisy = inject_noise(y, kind="symmetric", rate=0.4, random_state=seed).labels
    sets = partial_labels(y, (1, 3), random_state=seed + 1)
    y_mixed = np.where(role == 0, noisy, -1)
    sets[role != 1] = False
    return y_mixed, {"candidates": sets}


def ill_run(setting: str, objective: str, seed: int, epochs: int) -> dict:
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    y_fit, extra = _ill_inputs(setting, y_tr, seed)
    start = time.perf_counter()
    params = {**ILL_NET, "epochs": epochs}
    model = ImpreciseLabelClassifier(objective=objective, random_state=seed, **params)
    model.fit(X_tr, y_fit, **extra)
    return {
        "part": "ILL",
        "setting": setting,
        "method": "ill" if objective == "em" else "plain",
        "seed": seed,
        "score": float(np.mean(model.predict(X_te) == y_te)),
        "metric": "test accuracy",
        "seconds": time.perf_counter() - start,
    }


def pu_run(model_kind: str, rate: float, loss: str, seed: int, epochs: int) -> dict:
    X, Y = make_multilabel_digits(3000, random_state=seed)
    X_tr, Y_tr, X_te, Y_te = X[:2000], Y[:2000], X[2000:], Y[2000:]
    observed = drop_positives(Y_tr, rate, random_state=seed)
    params = {**PU_NET, "epochs": epochs}
    if model_kind == "linear":
        params["hidden"] = ()
    start = time.perf_counter()
    model = PositiveUnlabeledMultiLabel(loss=loss, random_state=seed, **params).fit(X_tr, observed)
    scores = model.predict_proba(X_te)
    return {
        "part": "PU-MLC",
        "setting": f"{model_kind}, {int(rate * 100)}% positives hidden",
        "method": "pu_mlc" if loss == "pu" else "bce",
        "seed": seed,
        "score": float(average_precision_score(Y_te, scores, average="macro")),
        "metric": "macro mAP",
        "seconds": time.perf_counter() - start,
    }


def _one(job: tuple) -> dict:
    import torch

    torch.set_num_threads(1)
    kind, *args = job
    return ill_run(*args) if kind == "ill" else pu_run(*args)


def _interval(values: pd.Series) -> str:
    mean = values.mean()
    if values.size < 2:
        return f"{mean:.3f}"
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return f"{mean:.3f} ± {half:.3f}"


def _table(frame: pd.DataFrame, part: str, base: str, method: str) -> str:
    rows = frame[frame["part"] == part]
    order = list(dict.fromkeys(rows["setting"]))
    lines = [
        f"| setting | {base} | {method} | difference | {method} wins |",
        "|---|---|---|---|---|",
    ]
    for setting in order:
        sub = rows[rows["setting"] == setting].pivot(index="seed", columns="method", values="score")
        diff = sub[method] - sub[base]
        wins = int((diff > 0).sum())
        lines.append(
            f"| {setting} | {_interval(sub[base])} | {_interval(sub[method])} | "
            f"{_interval(diff)} | {wins}/{len(diff)} |"
        )
    return "\n".join(lines)


def _markdown(frame: pd.DataFrame, seconds: float) -> str:
    seeds = frame["seed"].nunique()
    return "\n\n".join(
        [
            "# Imprecise-label methods vs plain training of the same network",
            f"{seeds} seeds; mean ± half-width of a 95% t-interval over seeds. "
            f"Total {seconds:.0f} s on {os.cpu_count()} cores "
            f"(load average {os.getloadavg()[0]:.1f} at the end).",
            "## ILL on digits (clean test accuracy)",
            f"Network: MLP {ILL_NET['hidden']}, Adam 1e-3, batch 128, "
            f"{frame.attrs.get('ill_epochs', ILL_NET['epochs'])} epochs. plain = the same "
            "network with objective='naive'.",
            _table(frame, "ILL", "plain", "ill"),
            "## PU-MLC on two-digit multi-label data (macro mAP on clean test labels)",
            f"Network: MLP {PU_NET['hidden']} (or linear), Adam 1e-3, batch 128, "
            f"{frame.attrs.get('pu_epochs', PU_NET['epochs'])} epochs. bce = the same network "
            "with loss='bce' (every 0 read as a negative).",
            _table(frame, "PU-MLC", "bce", "pu_mlc"),
        ]
    )


def _figure(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, (part, pair) in zip(
        axes, [("ILL", ("plain", "ill")), ("PU-MLC", ("bce", "pu_mlc"))], strict=True
    ):
        rows = frame[frame["part"] == part]
        settings = list(dict.fromkeys(rows["setting"]))
        x = np.arange(len(settings))
        for offset, method in zip((-0.2, 0.2), pair, strict=True):
            grouped = rows[rows["method"] == method].groupby("setting", sort=False)["score"]
            means = grouped.mean().reindex(settings)
            spread = grouped.std().reindex(settings).fillna(0)
            ax.bar(x + offset, means, width=0.4, yerr=spread, label=method, capsize=3)
        ax.set_xticks(x, settings, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel(rows["metric"].iloc[0])
        ax.set_ylim(max(0.0, rows["score"].min() - 0.1), 1.0)
        ax.set_title(part)
        ax.legend()
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20 epochs; writes *.quick.*")
    args = parser.parse_args()
    ill_epochs = 20 if args.quick else ILL_NET["epochs"]
    pu_epochs = 20 if args.quick else PU_NET["epochs"]
    jobs = [
        ("ill", setting, objective, seed, ill_epochs)
        for seed in range(args.seeds)
        for setting in ILL_SETTINGS
        for objective in ("naive", "em")
    ] + [
        ("pu", kind, rate, loss, seed, pu_epochs)
        for seed in range(args.seeds)
        for kind, rate in PU_SETTINGS
        for loss in ("bce", "pu")
    ]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(delayed(_one)(job) for job in jobs)
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    frame.attrs.update(ill_epochs=ill_epochs, pu_epochs=pu_epochs)
    stem = "imprecise_methods.quick" if args.quick else "imprecise_methods"
    write_csv(frame, OUT / f"{stem}.csv")
    text = _markdown(frame, seconds)
    write_text(text + "\n", OUT / f"{stem}.md")
    _figure(frame, OUT / f"{stem}.png")
    print(text)


if __name__ == "__main__":
    main()
