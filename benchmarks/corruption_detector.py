"""The hierarchical contrastive corruption detector against its ablation and a supervised baseline.

    .venv/bin/python benchmarks/corruption_detector.py                # default sizes
    .venv/bin/python benchmarks/corruption_detector.py --jobs 3       # three processes

Trains three detectors with the same network, data stream, steps and seed (``labelwise.vision.
corruption``): ``hierarchical`` (contrastive loss at three scales, coarse-to-fine clustering),
``single_scale`` (contrastive loss and clustering at full resolution only) and ``supervised``
(the same network with a per-pixel classifier trained by cross-entropy on the same masks). All
train on the ``image`` pattern (brush strokes and rectangles filled with another photograph) and
are evaluated on held-out photographs with that pattern and with three patterns never seen in
training: ``constant`` colour, uniform ``noise`` and thin ``graffiti`` strokes. Metric: IoU of
the corrupted class pooled over all evaluation pixels. Photographs: scikit-image's bundled set
when it is installed, else scikit-learn's two (right 30% of each held out).

Writes benchmarks/results/corruption_detector/corruption_detector.{md,json} and mask_grid.png.
"""

from __future__ import annotations

import argparse
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from labelwise.io import atomic_write, write_json, write_text
from labelwise.vision.corruption import (
    MODES,
    PATTERNS,
    CorruptionDetector,
    corrupt_images,
    corruption_iou,
    load_photos,
    split_photos,
)

OUT = Path(__file__).parent / "results" / "corruption_detector"


def _run(mode: str, args: argparse.Namespace, train: list, test: list) -> dict:
    """Train one detector and evaluate it on every pattern (in a worker process)."""
    torch.set_num_threads(1)
    det = CorruptionDetector(
        mode=mode, n_steps=args.steps, batch_size=args.batch_size, photos=train,
        random_state=args.seed,
    ).fit()  # fmt: skip
    print(f"trained {mode} in {det.fit_seconds_:.0f} s", file=sys.stderr)
    scores, examples = {}, {}
    for pattern in PATTERNS:
        images, truth = corrupt_images(args.n_eval, pattern, test, random_state=args.seed + 10_000)
        pred = det.predict(images)
        scores[pattern] = corruption_iou(pred, truth)
        examples[pattern] = (images[:2], truth[:2], pred[:2])
    return {"seconds": det.fit_seconds_, "scores": scores, "examples": examples}


def _grid(examples: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    modes = list(next(iter(examples.values()))[2])
    columns = ["image", "truth", *modes]
    rows = [(pattern, i) for pattern in examples for i in range(len(examples[pattern][0]))]
    figure = Figure(figsize=(1.5 * len(columns), 1.5 * len(rows)), layout="constrained")
    axes = figure.subplots(len(rows), len(columns), squeeze=False)
    for r, (pattern, i) in enumerate(rows):
        images, truth, preds = examples[pattern]
        panels = [images[i].transpose(1, 2, 0), truth[i], *(preds[m][i] for m in modes)]
        for c, panel in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(panel, cmap=None if panel.ndim == 3 else "gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c].replace("_", "-"), fontsize=8)
            if c == 0:
                ax.set_ylabel(pattern, fontsize=8)
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)


def _markdown(scores: dict, args: argparse.Namespace, seconds: dict, source: str) -> str:
    modes = list(next(iter(scores.values())))
    lines = [
        "# Corruption detection: IoU of the corrupted class on held-out photographs",
        "",
        f"Command: `python benchmarks/corruption_detector.py --steps {args.steps} "
        f"--batch-size {args.batch_size} --n-eval {args.n_eval} --seed {args.seed} "
        f"--jobs {args.jobs}`",
        "",
        "| pattern | " + " | ".join(m.replace("_", "-") for m in modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for pattern, row in scores.items():
        tag = " (training pattern)" if pattern == "image" else " (unseen)"
        lines.append(f"| {pattern}{tag} | " + " | ".join(f"{row[m]:.3f}" for m in modes) + " |")
    lines += [
        "",
        "Training seconds: " + ", ".join(f"{m} {seconds[m]:.0f}" for m in modes) + ".",
        f"Photographs: {source}. Torch {torch.__version__}, {platform.machine()}, one thread.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--n-eval", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--jobs", type=int, default=1, help="Processes training the detectors.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    photos = load_photos()
    source = ", ".join(photos)
    train, test = split_photos(photos)
    modes = args.modes.split(",")
    if args.jobs > 1:
        with ProcessPoolExecutor(min(args.jobs, len(modes))) as pool:
            futures = [pool.submit(_run, mode, args, train, test) for mode in modes]
            runs = dict(zip(modes, [f.result() for f in futures], strict=True))
    else:
        runs = {mode: _run(mode, args, train, test) for mode in modes}
    seconds = {mode: run["seconds"] for mode, run in runs.items()}
    scores = {p: {mode: runs[mode]["scores"][p] for mode in modes} for p in PATTERNS}
    examples = {
        p: (*runs[modes[0]]["examples"][p][:2], {m: runs[m]["examples"][p][2] for m in modes})
        for p in PATTERNS
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(_markdown(scores, args, seconds, source), args.out / "corruption_detector.md")
    write_json(
        {"args": {k: str(v) for k, v in vars(args).items()}, "iou": scores, "seconds": seconds},
        args.out / "corruption_detector.json",
    )
    _grid(examples, args.out / "mask_grid.png")
    print((args.out / "corruption_detector.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
