"""Benchmark stability under test-label errors: digits reproduction and the real MNIST reviews.

    .venv/bin/python benchmarks/study_benchmark_stability.py

Writes benchmarks/results/benchmark_stability/{benchmark_stability.md, .png}. The MNIST part
runs when ../shared/data/label-errors-mnist is present and is skipped otherwise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from labelwise.io import write_text
from labelwise.study.benchmark import (
    benchmark_stability,
    correct_test_set,
    digits_stability_data,
    load_mturk_folder,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "benchmark_stability"
MNIST = ROOT.parent / "shared" / "data" / "label-errors-mnist"
SEEDS = range(5)


def main() -> int:
    start = time.perf_counter()
    lines = ["# Benchmark stability under test-label errors\n"]
    rows = [
        "| seed | flagged | correctable | base prevalence | SVM / linear (original) | "
        "SVM / linear (corrected) | flip at | increase | expected flip |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    first = None
    for seed in SEEDS:
        data = digits_stability_data(random_state=seed)
        study = benchmark_stability(
            data.predictions, data.labels, data.reviews, max_prevalence=0.4, random_state=seed
        )
        first = first or study
        acc = study.accuracy.set_index("model")
        flip = study.flips.iloc[0]
        rows.append(
            f"| {seed} | {data.n_flagged} | {study.test_set.counts()['correctable']} | "
            f"{study.base_prevalence:.1%} | {acc.at['rbf_svm', 'accuracy_original']:.3f} / "
            f"{acc.at['linear', 'accuracy_original']:.3f} | "
            f"{acc.at['rbf_svm', 'accuracy_corrected']:.3f} / "
            f"{acc.at['linear', 'accuracy_corrected']:.3f} | {flip['flip_prevalence']:.1%} | "
            f"+{flip['flip_increase']:.1%} | {flip['expected_flip']:.1%} |"
        )
    lines += [
        "## Digits: RBF SVM vs regularized linear model, 4% systematic label errors\n",
        "\n".join(rows) + "\n",
        "Seed 0 in full:\n",
        first.to_markdown(),
        "![accuracy vs prevalence](benchmark_stability.png)\n",
    ]
    first.plot(OUT / "benchmark_stability.png")
    if MNIST.is_dir():
        given, pred_probs, reviews = load_mturk_folder(MNIST)
        lines.append("## MNIST test set: the 2021 study's 100 crowd-reviewed examples\n")
        lines.append(
            "| rule | validated errors | correctable | neither | no agreement | removed | "
            "accuracy original | accuracy corrected |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for k in (3, 5):
            study = benchmark_stability({"cv": pred_probs}, given, reviews, agreement=k, repeats=5)
            c = study.test_set.counts()
            acc = study.accuracy.iloc[0]
            lines.append(
                f"| {k} of 5 | {c['validated_errors']} | {c['correctable']} | {c['neither']} | "
                f"{c['no_agreement']} | {c['removed']} | {acc['accuracy_original']:.4f} | "
                f"{acc['accuracy_corrected']:.4f} |"
            )
        assert correct_test_set(given, reviews).counts()["validated_errors"] == 15
        lines.append(
            "\nOnly one model's pred_probs are released, so there is no ranking to flip.\n"
        )
    else:
        lines.append(f"MNIST skipped: {MNIST} is absent.\n")
    lines.append(f"\nRan in {time.perf_counter() - start:.0f} s.\n")
    write_text("\n".join(lines), OUT / "benchmark_stability.md")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
