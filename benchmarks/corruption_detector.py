"""The hierarchical contrastive corruption detector against its ablation and a supervised baseline.

    .venv/bin/python benchmarks/corruption_detector.py                # seeds 0 and 1
    .venv/bin/python benchmarks/corruption_detector.py --jobs 2       # two processes
    ... --models build/corruption_models                                # keep the detectors

Trains three detectors with the same network, data stream, steps and seed (``labelwise.vision.
corruption``): ``hierarchical`` (contrastive loss at three scales, coarse-to-fine clustering),
``single_scale`` (contrastive loss and clustering at full resolution only) and ``supervised``
(the same network with a per-pixel classifier trained by cross-entropy on the same masks). All
train on the ``image`` pattern (brush strokes and rectangles filled with another photograph) and
are evaluated on held-out photographs with that pattern and with three patterns never seen in
training: ``constant`` colour, uniform ``noise`` and thin ``graffiti`` strokes, on crops of the
training size (64 x 64) and on crops twice as large (128 x 128: the networks are fully
convolutional, and the command line can run them at any ``--size``). Metric: IoU of the
corrupted class pooled over all evaluation pixels, per seed and averaged over the seeds.
For the two contrastive detectors the table also gives the IoU had the cluster classifier always
named the better of the two clusters ("best cluster"), which separates errors of the
segmentation from errors of the cluster decision. Photographs: scikit-image's bundled set and
scikit-learn's two when scikit-image is installed (chelsea, coins and gravel held out), else
scikit-learn's two (right 30% of each held out).

Writes benchmarks/results/corruption_detector/corruption_detector.{md,json} and mask_grid.png.
"""

from __future__ import annotations

import argparse
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from labelwise.io import atomic_write, write_json, write_text
from labelwise.vision.corruption import (
    CROP,
    MODES,
    PATTERNS,
    CorruptionDetector,
    corrupt_images,
    corruption_iou,
    debian_photos,
    load_photos,
    split_photos,
)
from photo_packages import ensure_debian_photos

OUT = Path(__file__).parent / "results" / "corruption_detector"


def _best_cluster(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per image, the predicted mask or its complement, whichever overlaps the truth better.

    The contrastive detectors split every image into two clusters, so the complement is exactly
    the other cluster: this is the mask a perfect cluster classifier would have produced.
    """
    better = [
        p if corruption_iou(p, t) >= corruption_iou(~p, t) else ~p
        for p, t in zip(pred, truth, strict=True)
    ]
    return np.array(better)


def _run(mode: str, seed: int, args: argparse.Namespace, train: list, test: list) -> dict:
    """Train one detector and evaluate it on every pattern and size (in a worker process)."""
    torch.set_num_threads(1)
    det = CorruptionDetector(
        mode=mode, n_steps=args.steps, batch_size=args.batch_size, photos=train,
        random_state=seed,
    ).fit()  # fmt: skip
    print(f"trained {mode} seed {seed} in {det.fit_seconds_:.0f} s", file=sys.stderr)
    if args.models is not None:
        det.save(args.models / f"{mode}_seed{seed}.pt")
    scores, best, examples = {}, {}, {}
    for size in args.sizes:
        scores[size], best[size] = {}, {}
        for pattern in PATTERNS:
            # The evaluation images depend on the pattern and size only, not on the seed.
            images, truth = corrupt_images(
                args.n_eval, pattern, test, random_state=10_000, size=size
            )
            pred = det.predict(images)
            scores[size][pattern] = corruption_iou(pred, truth)
            if mode != "supervised":
                best[size][pattern] = corruption_iou(_best_cluster(pred, truth), truth)
            if size == args.sizes[0]:
                examples[pattern] = (images[:2], truth[:2], pred[:2])
    return {"seconds": det.fit_seconds_, "scores": scores, "best": best, "examples": examples}


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


def _table(rows: dict, modes: list[str], best: dict | None = None) -> list[str]:
    """A markdown table pattern x mode; ``best`` adds the best-cluster IoU in brackets."""
    lines = [
        "| pattern | " + " | ".join(m.replace("_", "-") for m in modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for pattern, row in rows.items():
        tag = " (training pattern)" if pattern == "image" else " (unseen)"
        cells = []
        for m in modes:
            cell = f"{row[m]:.3f}"
            if best is not None and m in best[pattern]:
                cell += f" ({best[pattern][m]:.3f})"
            cells.append(cell)
        lines.append(f"| {pattern}{tag} | " + " | ".join(cells) + " |")
    return lines


def _markdown(result: dict, args: argparse.Namespace, source: str) -> str:
    modes, seeds = result["modes"], result["seeds"]
    lines = [
        "# Corruption detection: IoU of the corrupted class on held-out photographs",
        "",
        f"Command: `python benchmarks/corruption_detector.py --steps {args.steps} "
        f"--batch-size {args.batch_size} --n-eval {args.n_eval} --seeds {args.seeds} "
        f"--sizes {','.join(map(str, args.sizes))} --jobs {args.jobs} --photos {args.photos}`",
        "",
        f"Detectors trained on {CROP} x {CROP} crops; each size below is a separate set of "
        f"{args.n_eval} held-out crops per pattern. In brackets, the IoU had the cluster "
        "classifier always named the better of the two clusters.",
    ]
    for size in args.sizes:
        lines += [
            "",
            f"## {size} x {size} crops",
            "",
            f"Mean over seeds {', '.join(map(str, seeds))}:",
            "",
            *_table(result["mean"][size], modes, result["mean_best"][size]),
        ]
        for seed in seeds:
            lines += [
                "",
                f"Seed {seed}:",
                "",
                *_table(result["iou"][seed][size], modes, result["best"][seed][size]),
            ]
    seconds = result["seconds"]
    lines += [
        "",
        "Training seconds (mean over seeds): "
        + ", ".join(f"{m} {np.mean([seconds[s][m] for s in seeds]):.0f}" for m in modes)
        + ".",
        f"Photographs: {source}. Torch {torch.__version__}, {platform.machine()}, one thread.",
        "",
    ]
    return "\n".join(lines)


def _collect(runs: dict, modes: list[str], seeds: list[int], sizes: list[int]) -> dict:
    """Per-seed and mean IoU (and best-cluster IoU), nested seed -> size -> pattern -> mode."""
    contrastive = [m for m in modes if runs[m, seeds[0]]["best"][sizes[0]]]

    def nest(key: str, kept: list[str]) -> dict:
        return {
            s: {z: {p: {m: runs[m, s][key][z][p] for m in kept} for p in PATTERNS} for z in sizes}
            for s in seeds
        }

    def average(per_seed: dict, kept: list[str]) -> dict:
        return {
            z: {
                p: {m: float(np.mean([per_seed[s][z][p][m] for s in seeds])) for m in kept}
                for p in PATTERNS
            }
            for z in sizes
        }

    iou, best = nest("scores", modes), nest("best", contrastive)
    seconds = {s: {m: runs[m, s]["seconds"] for m in modes} for s in seeds}
    return {
        "modes": modes, "seeds": seeds, "sizes": sizes, "iou": iou, "best": best,
        "mean": average(iou, modes), "mean_best": average(best, contrastive),
        "seconds": seconds,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--n-eval", type=int, default=256)
    parser.add_argument("--seeds", default="0,1", help="Comma-separated training seeds.")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--sizes", default="64,128", help="Comma-separated sides of the evaluation crops."
    )
    parser.add_argument("--jobs", type=int, default=1, help="Processes training the detectors.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--models", type=Path, help="Folder to save the trained detectors in.")
    parser.add_argument(
        "--photos",
        choices=("bundled", "debian"),
        default="bundled",
        help="Train on the bundled photographs, or on them and Debian's (installed when root).",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(z) for z in args.sizes.split(",")]
    if args.models is not None:
        args.models.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    photos = load_photos()
    train, test = split_photos(photos)
    extra = {}
    if args.photos == "debian":
        ensure_debian_photos()
        extra = debian_photos()
        if not extra:
            raise SystemExit("--photos debian: no Debian photograph is installed (run as root)")
        train = [*train, *extra.values()]
    source = ", ".join([*photos, *extra])
    modes = args.modes.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = [(mode, seed) for seed in seeds for mode in modes]
    if args.jobs > 1:
        with ProcessPoolExecutor(min(args.jobs, len(tasks))) as pool:
            futures = [pool.submit(_run, m, s, args, train, test) for m, s in tasks]
            runs = dict(zip(tasks, [f.result() for f in futures], strict=True))
    else:
        runs = {(m, s): _run(m, s, args, train, test) for m, s in tasks}
    result = _collect(runs, modes, seeds, args.sizes)
    first = seeds[0]
    examples = {
        p: (*runs[modes[0], first]["examples"][p][:2],
            {m: runs[m, first]["examples"][p][2] for m in modes})
        for p in PATTERNS
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(_markdown(result, args, source), args.out / "corruption_detector.md")
    payload = {k: v for k, v in result.items() if k != "seeds"}
    payload = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "photographs": list(photos),
        "debian_photographs": list(extra),
        **{k: ({str(s): x for s, x in v.items()} if k in ("iou", "best", "seconds") else v)
           for k, v in payload.items()},
    }  # fmt: skip
    write_json(payload, args.out / "corruption_detector.json")
    _grid(examples, args.out / "mask_grid.png")
    print((args.out / "corruption_detector.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
