"""Choose the corruption detector's training photographs and budget without the test photographs.

    .venv/bin/python benchmarks/corruption_validation.py --jobs 2         # every candidate
    .venv/bin/python benchmarks/corruption_validation.py --only six,base  # some of them

(``--only`` also sets the order the candidates start in: longest first packs two jobs best.)

``benchmarks/corruption_detector.py`` scores detectors on three held-out photographs (chelsea,
coins, gravel). Choosing the training set or budget on them would make them a validation set, so
choices are made here instead: three training photographs (:data:`VALIDATION`) are set aside,
each candidate trains a seed-0 hierarchical detector on the remaining training photographs (or on
the six of earlier versions), and it is scored on 256 crops of the validation photographs per
pattern, patches taken from another photograph. The test photographs are not loaded into any
candidate.

Writes benchmarks/results/corruption_detector/validation.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from labelwise.io import write_json, write_png, write_text
from labelwise.vision.corruption import (
    PATTERNS,
    SKIMAGE_TEST,
    CorruptionDetector,
    corrupt_images,
    debian_photos,
    load_photos,
)
from photo_packages import ensure_debian_photos

OUT = Path(__file__).parent / "results" / "corruption_detector"
#: Training photographs set aside to score the candidates on.
VALIDATION = ("china", "clock", "immunohistochemistry")
#: The training photographs of earlier versions.
SIX = ("astronaut", "coffee", "rocket", "camera", "grass", "brick")
#: name -> (label, photographs (None: every training photograph but VALIDATION), parameters).
CANDIDATES = {
    "six": ("6 photographs, 2,000 steps", SIX, {}),
    "base": ("14 photographs, 2,000 steps", None, {}),
    "debian6": ("14 + 6 Debian photographs, 2,000 steps", 6, {}),
    "debian12": ("14 + 12 Debian photographs, 2,000 steps", 12, {}),
    "debian23": ("14 + 23 Debian photographs, 2,000 steps", 23, {}),
    "debian23_1280": ("14 + 23 Debian photographs at 1,280 px, 2,000 steps", 23, {"side": 1280}),
    "steps": ("14 photographs, 4,000 steps", None, {"n_steps": 4000}),
    "wide": ("14 photographs, widths 24/48/96", None, {"widths": (24, 48, 96)}),
    "batch": ("14 photographs, batches of 16", None, {"batch_size": 16}),
}


def _run(name: str, n_eval: int, seed: int = 0) -> dict:
    """Train one candidate and score it on the validation photographs (in a worker process)."""
    torch.set_num_threads(1)
    label, chosen, params = CANDIDATES[name]
    params = dict(params)
    side = params.pop("side", None)
    photos = load_photos("skimage")
    extra = 0
    if isinstance(chosen, int):  # the 14, plus the first photographs of the Debian order
        extra, chosen = chosen, None
    if chosen is None:
        chosen = [n for n in photos if n not in SKIMAGE_TEST and n not in VALIDATION]
    if extra:
        debian = debian_photos() if side is None else debian_photos(side)
        order = debian_order()
        if len(order) < extra:
            raise SystemExit(f"{name} needs {extra} Debian photographs; {len(order)} installed")
        photos |= {n: debian[n] for n in order[:extra]}
        chosen = [*chosen, *order[:extra]]
    det = CorruptionDetector(
        mode="hierarchical", photos=[photos[n] for n in chosen], random_state=seed, **params
    ).fit()
    print(f"trained {name} in {det.fit_seconds_:.0f} s", file=sys.stderr)
    validation = [photos[n] for n in VALIDATION]
    scores = {}
    for pattern in PATTERNS:
        images, truth = corrupt_images(n_eval, pattern, validation, random_state=20_000)
        scores[pattern] = det.score(images, truth)
    label += f", seed {seed}" if seed else ""
    return {"label": label, "photographs": list(chosen), "seconds": det.fit_seconds_,
            "seed": seed, "scores": scores}  # fmt: skip


def debian_order() -> list[str]:
    """The installed Debian photographs in one fixed random order (both packages mixed), so
    that each larger set holds the smaller ones."""
    names = sorted(debian_photos(), key=str.lower)
    return [names[i] for i in np.random.default_rng(0).permutation(len(names))]


def _markdown(runs: dict, n_eval: int) -> str:
    lines = [
        "# Corruption detector: candidates scored on validation photographs",
        "",
        "Command: `python benchmarks/corruption_validation.py`. Hierarchical detectors, seed 0, "
        f"scored on {n_eval} crops per pattern of {', '.join(VALIDATION)} (never trained on); "
        f"the test photographs ({', '.join(SKIMAGE_TEST)}) are not used.",
        "",
        "Debian photographs (`benchmarks/photo_packages.py` installs their packages when run as "
        "root) are added in one fixed random order, so each set holds the smaller ones.",
        "",
        "| candidate | " + " | ".join(PATTERNS) + " | training s |",
        "|---|" + "---|" * (len(PATTERNS) + 1),
    ]
    for run in runs.values():
        cells = " | ".join(f"{run['scores'][p]:.3f}" for p in PATTERNS)
        lines.append(f"| {run['label']} | {cells} | {run['seconds']:.0f} |")
    return "\n".join([*lines, ""])


def _curve(runs: dict, path: Path) -> None:
    """Validation IoU against the number of training photographs (bundled, then Debian's)."""
    from matplotlib.figure import Figure

    counts = {"base": 14, "debian6": 20, "debian12": 26, "debian23": 37}
    fig = Figure(figsize=(7.4, 3.8))
    ax = fig.add_subplot()
    for pattern, colour in zip(PATTERNS, ("#4269d0", "#efb118", "#ff725c", "#3ca951"), strict=True):
        points = sorted(
            (counts[key.split("@")[0]], run["scores"][pattern])
            for key, run in runs.items()
            if key.split("@")[0] in counts
        )
        xs = sorted({x for x, _ in points})
        means = [np.mean([y for x, y in points if x == n]) for n in xs]
        ax.scatter(*zip(*points, strict=True), color=colour, s=12, alpha=0.5)
        ax.plot(xs, means, color=colour, marker="o", label=pattern)
    ax.set_xlabel("training photographs (14 bundled, then Debian's)")
    ax.set_ylabel("validation IoU (hierarchical)")
    ax.set_title("More photographs of another kind: IoU on validation photographs")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    write_png(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", default=",".join(CANDIDATES), help="Comma-separated names, NAME@SEED for seeds."
    )
    parser.add_argument("--n-eval", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=1, help="Processes training the candidates.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    runs_asked = args.only.split(",")  # NAME or NAME@SEED (seed 0 by default)
    names = [run.split("@")[0] for run in runs_asked]
    unknown = sorted(set(names) - set(CANDIDATES))
    if unknown:
        parser.error(f"unknown candidates {unknown}; choose from {', '.join(CANDIDATES)}")
    if any(isinstance(CANDIDATES[n][1], int) for n in names):
        ensure_debian_photos()
    with ProcessPoolExecutor(max(1, min(args.jobs, len(runs_asked)))) as pool:
        futures = {
            run: pool.submit(_run, run.split("@")[0], args.n_eval, int(run.partition("@")[2] or 0))
            for run in runs_asked
        }
        fresh = {run: future.result() for run, future in futures.items()}
    # Runs not repeated this time keep their earlier rows (each row is one training run).
    earlier = args.out / "validation.json"
    kept = json.loads(earlier.read_text())["runs"] if earlier.exists() else {}
    merged = {**kept, **fresh}
    order = {name: i for i, name in enumerate(CANDIDATES)}
    runs = dict(sorted(merged.items(), key=lambda kv: (order[kv[0].split("@")[0]], kv[0])))
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(_markdown(runs, args.n_eval), args.out / "validation.md")
    write_json({"validation": list(VALIDATION), "runs": runs}, args.out / "validation.json")
    if any(key.startswith("debian") for key in runs):
        _curve(runs, args.out / "photo_curve.png")
    print((args.out / "validation.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
