"""Slight condition corruption and Condition Embedding Perturbation on a 2-D Gaussian mixture.

    .venv/bin/python benchmarks/cep_study.py              # 3 seeds, default sizes
    .venv/bin/python benchmarks/cep_study.py --seeds 5

Trains small class-conditional DDPMs (``labelwise.learn.cep.cep_study``) on four anisotropic
Gaussian components with 0%, 2.5%, 5% and 10% of the training conditions flipped, and with CEP
(uniform and Gaussian, gamma = 1) on clean conditions, then measures each class's 2-Wasserstein
distance to its true component and the entropy of its samples. Writes
benchmarks/results/cep_study/cep_study.{md,csv} and w2_vs_corruption.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labelwise.io import write_csv, write_text
from labelwise.learn.cep import cep_study

OUT = Path(__file__).parent / "results" / "cep_study"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--gamma", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    def progress(done: int, total: int) -> None:
        print(f"\rtrained {done}/{total} models", end="", file=sys.stderr, flush=True)

    study = cep_study(
        seeds=range(args.seeds), n_steps=args.steps, gamma=args.gamma, progress=progress
    )
    print(file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    command = (
        f"Command: `python benchmarks/cep_study.py --seeds {args.seeds} --steps {args.steps} "
        f"--gamma {args.gamma:g}` ({study.seconds:.0f} s, one thread)."
    )
    text = "# Corrupted conditions and CEP on a 2-D Gaussian mixture\n\n" + command + "\n\n"
    write_text(text + study.to_markdown(), args.out / "cep_study.md")
    write_csv(study.results, args.out / "cep_study.csv")
    study.plot(args.out / "w2_vs_corruption.png")
    print(text + study.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
