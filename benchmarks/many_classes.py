"""Many classes: labelwise's sparse joint against cleanlab's dense one, same inputs, same run.

For each shape, both tools estimate the joint of given and true labels and find the label issues
(default method). cleanlab runs in a child process capped at ``--cap-gb`` of address space, so a
K^2 allocation it cannot make is reported as "out of memory" instead of taking the machine down.
Peak memory is tracemalloc's peak above the start (numpy reports its buffers to it).

    python benchmarks/many_classes.py            # writes results/many_classes.{json,md}
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import labelwise as lw
from measure import best_time, peak_extra_bytes

SHAPES = ((20_000, 1_000), (20_000, 5_000), (100, 10_000))
RESULTS = Path(__file__).parent / "results"


def make_inputs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and float32 probabilities: a peaked model, 10% of labels flipped at random."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    probs = rng.random((n, k), dtype=np.float32) ** 8
    probs[np.arange(n), truth] += rng.random(n, dtype=np.float32) * probs.max(axis=1) * 3
    probs /= probs.sum(axis=1, keepdims=True)
    labels = truth.copy()
    flip = rng.random(n) < 0.1
    labels[flip] = rng.integers(0, k, flip.sum())
    return labels, probs


def _cleanlab_calls(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    from cleanlab.count import estimate_joint
    from cleanlab.filter import find_label_issues

    k = probs.shape[1]
    joint = best_time(lambda: estimate_joint(labels, probs))
    issues = best_time(lambda: find_label_issues(labels, probs, n_jobs=1))
    return {
        "joint_s": joint.best_s,
        "issues_s": issues.best_s,
        "peak_bytes": peak_extra_bytes(lambda: estimate_joint(labels, probs)),
        "trace": float(np.trace(joint.result)),
        "mask": np.flatnonzero(issues.result).tolist(),
        "k": k,
    }


def _child(labels: np.ndarray, probs: np.ndarray, cap: int, out: Any) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    warnings.simplefilter("ignore")
    try:
        out.put(_cleanlab_calls(labels, probs))
    except MemoryError as exc:
        out.put({"error": f"out of memory at a {cap / 2**30:.0f} GiB cap ({exc})"})


def cleanlab_row(labels: np.ndarray, probs: np.ndarray, cap_gb: float) -> dict[str, Any]:
    """cleanlab in a capped child process (fork: the inputs are shared, not copied)."""
    queue: Any = mp.get_context("fork").Queue()
    child = mp.get_context("fork").Process(
        target=_child, args=(labels, probs, int(cap_gb * 2**30), queue)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        return {"error": f"killed (exit code {child.exitcode})"}
    return queue.get()


def labelwise_row(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        noise = best_time(lambda: lw.estimate_noise(labels, probs, n_bootstrap=0))
        boot = best_time(lambda: lw.estimate_noise(labels, probs))
        issues = best_time(lambda: lw.find_label_issues(labels, probs))
        peak = peak_extra_bytes(lambda: lw.estimate_noise(labels, probs, n_bootstrap=0))
        peak_boot = peak_extra_bytes(lambda: lw.estimate_noise(labels, probs))
    return {
        "joint_s": noise.best_s,
        "joint_with_bootstrap_s": boot.best_s,
        "issues_s": issues.best_s,
        "peak_bytes": peak,
        "peak_with_bootstrap_bytes": peak_boot,
        "trace": float(noise.result.joint.diagonal().sum()),
        "mask": issues.result.indices.tolist(),
    }


def compare(n: int, k: int, cap_gb: float) -> dict[str, Any]:
    labels, probs = make_inputs(n, k)
    ours = labelwise_row(labels, probs)
    ref = cleanlab_row(labels, probs, cap_gb)
    row = {"rows": n, "classes": k, "input_mb": probs.nbytes / 2**20, "labelwise": ours}
    row["cleanlab"] = ref
    if "error" not in ref:
        row["same_issues"] = sorted(ours["mask"]) == sorted(ref["mask"])
        row["trace_difference"] = abs(ours["trace"] - ref["trace"])
        row["memory_ratio"] = ref["peak_bytes"] / max(ours["peak_bytes"], 1)
        row["speedup_joint"] = ref["joint_s"] / ours["joint_s"]
        row["speedup_issues"] = ref["issues_s"] / ours["issues_s"]
    for side in (ours, ref):
        side.pop("mask", None)
    return row


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# Many classes: labelwise (sparse joint) against cleanlab (dense K x K)",
        "",
        "Reproduce: `python benchmarks/many_classes.py` (cleanlab capped at the address space "
        "shown in the json). Times are the best of up to 3 calls. Peak = tracemalloc peak of "
        "`estimate_noise(n_bootstrap=0)` / cleanlab `estimate_joint` (labelwise with its 500 "
        "bootstrap replicates in brackets).",
        "",
        "| rows | classes | input | labelwise joint | +bootstrap | issues | peak | "
        "cleanlab joint | issues | peak | same issues |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        ours, ref = r["labelwise"], r["cleanlab"]
        left = (
            f"| {r['rows']:,} | {r['classes']:,} | {r['input_mb']:.0f} MB | "
            f"{ours['joint_s']:.2f} s | {ours['joint_with_bootstrap_s']:.2f} s | "
            f"{ours['issues_s']:.2f} s | {ours['peak_bytes'] / 2**20:.0f} MiB "
            f"({ours['peak_with_bootstrap_bytes'] / 2**20:.0f}) |"
        )
        if "error" in ref:
            right = f" {ref['error']} | | | |"
        else:
            right = (
                f" {ref['joint_s']:.2f} s | {ref['issues_s']:.2f} s | "
                f"{ref['peak_bytes'] / 2**20:.0f} MiB | {'yes' if r['same_issues'] else 'no'} |"
            )
        lines.append(left + right)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-gb", type=float, default=12.0)
    parser.add_argument("--quick", action="store_true", help="the smallest shapes only")
    args = parser.parse_args(argv)
    shapes = ((5_000, 1_000), (100, 10_000)) if args.quick else SHAPES
    rows = []
    for n, k in shapes:
        print(f"  {n:,} rows x {k:,} classes", file=sys.stderr, flush=True)
        rows.append(compare(n, k, args.cap_gb))
    suffix = ".quick" if args.quick else ""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"many_classes{suffix}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / f"many_classes{suffix}.md").write_text(_markdown(rows))
    print(_markdown(rows))


if __name__ == "__main__":
    main()
