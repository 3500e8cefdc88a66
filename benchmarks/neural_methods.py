"""Neural noisy-label methods on digits: each against plain training of the same network.

    .venv/bin/python benchmarks/neural_methods.py            # 3 seeds (a few minutes, 2 cores)
    .venv/bin/python benchmarks/neural_methods.py --quick    # 1 seed, fewer epochs
    .venv/bin/python benchmarks/neural_methods.py --replot   # the figure from the saved CSVs

Settings (digits, 70/30 stratified split per seed, noise on the training labels only):

- ``symmetric``: 40% of labels moved to a uniformly chosen other class;
- ``pair``: 40% of labels of class k moved to k + 1;
- ``class-dependent``: class j keeps its label with probability 1 - r_j, the r_j spread evenly
  over 0.05-0.65 (assigned to classes by a seeded permutation), flips spread uniformly
  (``inject_noise(kind="matrix")``) - where the CPC paper says a class-aware split should win.

Methods, all on the same MLP (hidden (128, 128), Adam, lr 1e-3, batch 128, the same epochs):
``plain`` (cross-entropy on every row), ``spectral_net`` (SpectralTruncatedNet: trained on 80% of
the rows, d and the LDA head chosen on the held-out noisy 20%), ``spectral_untruncated`` (the
same network without truncation), ``early_stopped`` (the same network at its epoch of best
held-out noisy accuracy), ``class_aware_cleaner`` / ``class_agnostic_cleaner``
(ClassAwareCleaner with a per-class / a single loss mixture) and, when its module is present,
``imprecise_label`` (ImpreciseLabelClassifier given the noisy labels).

Writes benchmarks/results/neural_methods/: neural_methods.md (tables), neural_methods.csv (one
row per setting, seed and method), probe.csv (the spectral probe along training, seed 0,
symmetric noise) and neural_methods.png. ``--quick`` writes *.quick.* files instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from labelwise.io import atomic_write, write_csv, write_text
from labelwise.simulate import inject_noise

OUT = Path(__file__).parent / "results" / "neural_methods"
HIDDEN = (128, 128)
RATE = 0.4
SPREAD = (0.05, 0.65)
SETTINGS = ("symmetric", "pair", "class-dependent")
PROBE_EPOCHS = (0, 2, 5, 10, 20, 40, 60)


def _noisy(y: np.ndarray, setting: str, seed: int) -> np.ndarray:
    if setting in ("symmetric", "pair"):
        return np.asarray(inject_noise(y, kind=setting, rate=RATE, random_state=seed).labels)
    k = np.unique(y).size
    rates = np.random.default_rng(seed).permutation(np.linspace(*SPREAD, k))
    matrix = np.tile(rates / (k - 1), (k, 1))  # matrix[noisy, true]
    np.fill_diagonal(matrix, 1 - rates)
    return np.asarray(inject_noise(y, kind="matrix", noise_matrix=matrix, random_state=seed).labels)


def _has_imprecise() -> bool:
    try:
        import labelwise.learn.imprecise  # noqa: F401
    except ImportError:
        return False
    return True


def _cell(setting: str, seed: int, epochs: int, warmup: int) -> list[dict]:
    import torch

    from labelwise.learn._torch import NeuralClassifier
    from labelwise.learn.class_aware import ClassAwareCleaner
    from labelwise.learn.spectral_net import SpectralTruncatedNet

    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    noisy = _noisy(y_train, setting, seed)
    net = {"hidden": HIDDEN, "epochs": epochs, "random_state": seed}
    rows = []

    def add(method, model, predict=None, seconds=0.0, **extra):
        pred = (predict or model.predict)(X_test)
        rows.append(
            {
                "setting": setting,
                "seed": seed,
                "noise_rate": float(np.mean(noisy != y_train)),
                "method": method,
                "accuracy": float(np.mean(pred == y_test)),
                "seconds": seconds,
                **extra,
            }
        )

    with threadpool_limits(1):
        start = time.perf_counter()
        plain = NeuralClassifier(**net).fit(X_train, noisy)
        add("plain", plain, seconds=time.perf_counter() - start)

        start = time.perf_counter()
        spec = SpectralTruncatedNet(**net, probe_epochs=[]).fit(X_train, noisy)
        took = time.perf_counter() - start
        add("spectral_net", spec, seconds=took, n_components=spec.n_components_)
        add("spectral_untruncated", spec, spec.predict_untruncated)
        add("early_stopped", spec, spec.predict_early_stopped, epoch=spec.early_stopping_epoch_)

        truly_clean = noisy == y_train
        for aware in (True, False):
            start = time.perf_counter()
            model = ClassAwareCleaner(**net, warmup=warmup, class_aware=aware)
            model.fit(X_train, noisy)
            kept = model.clean_mask_
            add(
                "class_aware_cleaner" if aware else "class_agnostic_cleaner",
                model,
                seconds=time.perf_counter() - start,
                split_precision=float(np.mean(truly_clean[kept])) if kept.any() else np.nan,
                split_recall=float(np.mean(kept[truly_clean])),
            )

        if _has_imprecise():
            from labelwise.learn.imprecise import ImpreciseLabelClassifier

            start = time.perf_counter()
            ill = ImpreciseLabelClassifier(**net).fit(X_train, noisy)
            add("imprecise_label", ill, seconds=time.perf_counter() - start)
    return rows


def _probe(epochs: int) -> pd.DataFrame:
    import torch

    from labelwise.learn.spectral_net import SpectralTruncatedNet

    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    noisy = _noisy(y_train, "symmetric", 0)
    at = [e for e in PROBE_EPOCHS if e <= epochs]
    with threadpool_limits(1):
        net = SpectralTruncatedNet(hidden=HIDDEN, epochs=epochs, probe_epochs=at)
        return net.fit(X_train, noisy, true_labels=y_train).probe_


def _summary(results: pd.DataFrame) -> pd.DataFrame:
    grouped = results.groupby(["setting", "method"], sort=False)["accuracy"]
    table = grouped.agg(mean="mean", std="std", n="count").reset_index()
    plain = table[table["method"] == "plain"].set_index("setting")["mean"]
    table["vs_plain"] = table["mean"] - table["setting"].map(plain)
    return table


def _paired(results: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per setting: mean of (a - b) over seeds, its std, and how many seeds a won."""
    wide = results.pivot_table(index=["setting", "seed"], columns="method", values="accuracy")
    diff = (wide[a] - wide[b]).groupby(level="setting", sort=False)
    return pd.DataFrame(
        {
            "mean_diff": diff.mean(),
            "std_diff": diff.std(),
            "wins": diff.apply(lambda d: (d > 0).sum()),
        }
    ).reset_index()


def _markdown(results, probe, seconds, seeds, epochs) -> str:
    summary = _summary(results)
    lines = [
        "# Neural noisy-label methods on digits",
        "",
        f"Seeds {list(seeds)}; MLP hidden {HIDDEN}, {epochs} epochs of Adam; 30% clean test split.",
        f"Wall time {seconds:.0f} s on {os.cpu_count()} cores.",
        "",
        "## Clean test accuracy (mean ± std over seeds; vs_plain = mean minus plain's mean)",
        "",
        "| setting | method | accuracy | vs_plain |",
        "|---|---|---|---|",
    ]
    for row in summary.itertuples(index=False):
        std = "" if np.isnan(row.std) else f" ± {row.std:.3f}"
        lines.append(
            f"| {row.setting} | {row.method} | {row.mean:.3f}{std} | {row.vs_plain:+.3f} |"
        )
    pairs = [
        ("spectral_net", "early_stopped"),
        ("spectral_net", "spectral_untruncated"),
        ("class_aware_cleaner", "class_agnostic_cleaner"),
    ]
    for a, b in pairs:
        table = _paired(results, a, b)
        lines += ["", f"## {a} minus {b} (paired by seed)", "", "| setting | mean | std | wins |"]
        lines.append("|---|---|---|---|")
        for row in table.itertuples(index=False):
            lines.append(
                f"| {row.setting} | {row.mean_diff:+.3f} | {row.std_diff:.3f} | "
                f"{row.wins}/{len(seeds)} |"
            )
    split = results[results["method"].str.endswith("cleaner")]
    split = split.groupby(["setting", "method"], sort=False)[["split_precision", "split_recall"]]
    lines += [
        "",
        "## The cleaners' final split (mean over seeds)",
        "",
        "| setting | method | precision | recall |",
        "|---|---|---|---|",
    ]
    for (setting, method), row in split.mean().iterrows():
        lines.append(
            f"| {setting} | {method} | {row.split_precision:.3f} | {row.split_recall:.3f} |"
        )
    cols = [
        "epoch",
        "d",
        "fit_noisy",
        "fit_clean",
        "noise_energy_in_tail",
        "signal_energy_in_tail",
        "head_noisy_acc",
        "tail_noisy_acc",
        "validation_accuracy",
    ]
    lines += ["", "## Spectral probe along training (seed 0, symmetric 40%, d = 10)", ""]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for row in probe[cols].itertuples(index=False):
        lines.append(
            "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        )
    return "\n".join(lines) + "\n"


def _figure(results: pd.DataFrame, probe: pd.DataFrame):
    from matplotlib.figure import Figure

    summary = _summary(results)
    methods = list(dict.fromkeys(summary["method"]))
    figure = Figure(figsize=(13, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[2, 1])
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        part = summary[summary["method"] == method].set_index("setting").reindex(SETTINGS)
        x = np.arange(len(SETTINGS)) + i * width
        left.bar(x, part["mean"], width, yerr=np.nan_to_num(part["std"]), capsize=2, label=method)
    left.set_xticks(np.arange(len(SETTINGS)) + 0.4 - width / 2, SETTINGS)
    left.set_ylim(0.4, 1.0)
    left.set_ylabel("clean test accuracy")
    left.legend(fontsize="small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    left.grid(axis="y", alpha=0.3)
    for column in (
        "fit_noisy",
        "noise_energy_in_tail",
        "signal_energy_in_tail",
        "validation_accuracy",
    ):
        right.plot(probe["epoch"], probe[column], marker="o", label=column)
    right.set_xlabel("epoch (0 = untrained)")
    right.set_title("probe, symmetric 40%, d = 10")
    right.legend(fontsize="small")
    right.grid(alpha=0.3)
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 30 epochs")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--replot", action="store_true", help="redraw the figure from the saved CSV files"
    )
    args = parser.parse_args(argv)
    suffix = ".quick" if args.quick else ""
    if args.replot:
        results = pd.read_csv(OUT / f"neural_methods{suffix}.csv")
        probe = pd.read_csv(OUT / f"probe{suffix}.csv")
        with atomic_write(OUT / f"neural_methods{suffix}.png", "wb") as handle:
            _figure(results, probe).savefig(handle, format="png", dpi=110)
        return 0
    seeds = (0,) if args.quick else (0, 1, 2)
    epochs, warmup = (30, 5) if args.quick else (60, 8)
    start = time.perf_counter()
    cells = [(s, seed) for s in SETTINGS for seed in seeds]
    jobs = [delayed(_cell)(s, seed, epochs, warmup) for s, seed in cells]
    jobs.append(delayed(_probe)(epochs))
    outputs = Parallel(n_jobs=args.n_jobs)(jobs)
    probe = outputs.pop()
    results = pd.DataFrame([row for cell in outputs for row in cell])
    seconds = time.perf_counter() - start
    OUT.mkdir(parents=True, exist_ok=True)
    write_csv(results, OUT / f"neural_methods{suffix}.csv")
    write_csv(probe, OUT / f"probe{suffix}.csv")
    text = _markdown(results, probe, seconds, seeds, epochs)
    write_text(text, OUT / f"neural_methods{suffix}.md")
    with atomic_write(OUT / f"neural_methods{suffix}.png", "wb") as handle:
        _figure(results, probe).savefig(handle, format="png", dpi=110)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
