"""The CoT corruption protocol on two small learned models: one computes, one copies.

    .venv/bin/python benchmarks/study_cot.py            # about 30 s on two cores

"The Last Word Often Wins" (2026) reports that on chains ending in "The answer is X" corruption
studies find where the answer text sits, not where computation happens: removing only the
answer line collapsed suffix sensitivity about 19x (Qwen2.5-3B, -0.760 -> -0.040), and the
followed-wrong rate of conflicting chains spans 0.63-1.00 at 3B-7B but ~0.01 at 32B. No language
model runs here; instead the protocol of ``labelwise.study.cot`` is checked on two models
trained in seconds on synthetic arithmetic chains, whose behaviour is known by construction:

- ``computes``: a bag-of-tokens classifier names each step's operation, then the steps are
  evaluated; stated results and the answer line are never read;
- ``copies``: a position-feature classifier trained on worked solutions whose final line is
  the label learns to pick the number after "The answer is".

Writes benchmarks/results/cot_protocol/: cot_protocol.md, cot_protocol.json, cot_protocol.png.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import labelwise
from labelwise import io
from labelwise.study.cot import (
    arithmetic_chains,
    cot_protocol,
    plot_protocols,
    train_computing_model,
    train_copying_model,
)

OUT = Path(__file__).resolve().parent / "results" / "cot_protocol"
N_ITEMS = 300
REPLICATE_SEEDS = (1, 2, 3)
REPLICATE_ITEMS = 150
TRAINERS = {"computes": train_computing_model, "copies": train_copying_model}


def _row(name: str, seed: int, result) -> dict:
    c = result.checks
    return {
        "model": name,
        "seed": seed,
        "n": c["n_items"],
        "chain": c["qo_accuracy_chain"],
        "question_only": c["qo_accuracy_question_only"],
        "d_prefix": result.delta("prefix"),
        "d_middle": result.delta("middle"),
        "d_suffix": result.delta("suffix"),
        "d_suffix_stripped": result.delta("suffix", "stripped"),
        "fw": c["fw"],
        "verdict": result.verdict,
    }


def main() -> int:
    start = time.perf_counter()
    items = arithmetic_chains(N_ITEMS, seed=0)
    main_runs, rows = {}, []
    for name, train in TRAINERS.items():
        model = train(n_train=300, seed=0)
        main_runs[name] = cot_protocol(model, items, seed=0, model_name=name)
        rows.append(_row(name, 0, main_runs[name]))
        print(f"{name}: {main_runs[name].verdict}", file=sys.stderr)
    for seed in REPLICATE_SEEDS:
        replicate_items = arithmetic_chains(REPLICATE_ITEMS, seed=seed)
        for name, train in TRAINERS.items():
            result = cot_protocol(train(n_train=300, seed=seed), replicate_items, seed=seed)
            rows.append(_row(name, seed, result))
    seconds = time.perf_counter() - start

    lines = [
        "# CoT corruption protocol: a model that computes vs a model that copies",
        "",
        f"labelwise {labelwise.__version__}, Python {platform.python_version()}, "
        f"{seconds:.0f} s. Reproduce: `.venv/bin/python benchmarks/study_cot.py`.",
        "",
        'Synthetic 6-step integer arithmetic chains ending in "The answer is X"; corrupted '
        "steps keep their stated result (operator swapped or +1 on the step's number); the "
        "suffix condition also turns the answer line into X+1; the stripped rerun replaces the "
        "answer line with a neutral sentence. Both models are trained at run time on chains "
        "from other seeds.",
        "",
        "## Summary (seed 0: 300 problems; seeds 1-3: 150 problems, models retrained)",
        "",
        "| model | seed | chain acc | QO acc | D_pre | D_mid | D_suf | D_suf stripped | FW "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['seed']} | {r['chain']:.3f} | {r['question_only']:.3f} "
            f"| {r['d_prefix']:+.3f} | {r['d_middle']:+.3f} | {r['d_suffix']:+.3f} "
            f"| {r['d_suffix_stripped']:+.3f} | {r['fw']:.3f} | {r['verdict']} |"
        )
    lines += [
        "",
        "The paper's Qwen2.5-3B moved from D_suf -0.760 to -0.040 without the answer line; "
        "the copying model here is the limiting case (-1.000 to 0.000: it never reads the "
        "steps' arithmetic), and its followed-wrong rate matches the paper's 7B models (1.00). "
        "The computing model is the case the protocol must not flag: every third matters, with "
        "or without the answer line, and it ignores a conflicting answer (FW 0).",
        "",
        "## Details (seed 0)",
        "",
    ]
    for result in main_runs.values():
        lines.append(result.to_markdown())
    OUT.mkdir(parents=True, exist_ok=True)
    io.write_text("\n".join(lines), OUT / "cot_protocol.md")
    io.write_json(
        {"rows": rows, "runs": {k: v.to_dict() for k, v in main_runs.items()}},
        OUT / "cot_protocol.json",
    )
    plot_protocols(main_runs, OUT / "cot_protocol.png")
    print(f"wrote {OUT} in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
