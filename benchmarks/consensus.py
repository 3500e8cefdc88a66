"""Multi-annotator consensus: labelwise against cleanlab's CROWDLAB and crowd-kit, same inputs.

What it measures, every tool on the same votes in the same run (``consensus_reference.py`` wraps
the reference tools behind one input format):

1. ``accuracy``: simulated crowds (``labelwise.simulate.simulate_annotators``) of good,
   careless, biased, adversarial and constant annotators on 10,000 items of known class, with a
   model whose ``pred_probs`` are softmax(N(0, 1) + strength on the true class). For each of
   nine settings and seeds 0, 1, 2: the accuracy of the consensus against the truth, and the
   Spearman correlation of each method's annotator quality with the annotators' true accuracy.
   Methods: labelwise ``dawid_skene`` (with and without the model) and ``crowdlab``, cleanlab's
   CROWDLAB, crowd-kit's Dawid-Skene and majority vote, and the model alone. Also: whether
   labelwise's ``crowdlab`` gives cleanlab's labels.
2. ``mnist``: the same, with the MNIST test set's real out-of-sample ``pred_probs`` and its given
   labels taken as the truth, and a simulated crowd on top.
3. ``mturk``: the 100 MNIST test images the 2021 label-errors paper flagged, each with 5 real
   MTurk votes: how many each method calls a label error, against the paper's verdict.
4. ``relabel``: what to label next. 5,000 items with one vote each, then 5 rounds of 500 more
   votes, chosen by labelwise's ``relabel_priority``, at random, or by cleanlab's ActiveLab;
   consensus accuracy after each round.
5. ``speed``: wall time (best of 2) and peak extra memory (each call in a forked child process,
   the kernel's peak resident set size above the child's start) at 100,000 items x 200
   annotators x 3 votes, K=10.

Run it with the benchmark environment (cleanlab 2.9, crowd-kit, scipy)::

    .bench-venv/bin/python benchmarks/consensus.py                  # all, about 15 minutes
    .bench-venv/bin/python benchmarks/consensus.py --quick          # 2,000 items, one seed
    .bench-venv/bin/python benchmarks/consensus.py --only mturk,speed

Writes ``benchmarks/results/consensus/consensus.{json,md}`` (``--quick``: ``consensus.quick.*``).
``--only`` reruns some sections and keeps the others from the saved JSON. The MNIST data lives in
``../shared/data/label-errors-mnist`` (``LABELWISE_SHARED`` names another folder holding
``data/label-errors-mnist``); without it the MNIST sections are skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing as mp
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import consensus_reference as ref
import labelwise as lw
from labelwise.io import write_json, write_text
from labelwise.simulate import simulate_annotators
from labelwise.study.benchmark import read_crowd_votes
from measure import source_digest

RESULTS = Path(__file__).parent / "results" / "consensus"
SECTIONS = ("accuracy", "mnist", "mturk", "relabel", "speed")
SEEDS = (0, 1, 2)

#: name: (K, n_annotators, votes_per_item, kinds, model), model = (strength, sharpness).
SETTINGS: dict[str, tuple[int, int, Any, dict[str, float], tuple[float, float]]] = {
    "good": (5, 50, 3, {"good": 1.0}, (2.0, 1.0)),
    "careless": (5, 50, 3, {"good": 0.5, "careless": 0.5}, (2.0, 1.0)),
    "biased": (5, 50, 3, {"good": 0.5, "biased": 0.5}, (2.0, 1.0)),
    "adversarial": (5, 50, 3, {"good": 0.6, "adversarial": 0.4}, (2.0, 1.0)),
    "mixed 1-5 votes": (
        10,
        100,
        (1, 5),
        {"good": 0.5, "careless": 0.2, "biased": 0.15, "adversarial": 0.1, "constant": 0.05},
        (2.0, 1.0),
    ),
    "two votes": (10, 100, 2, {"good": 0.6, "careless": 0.2, "biased": 0.2}, (2.0, 1.0)),
    "weak model": (5, 50, 3, {"good": 0.5, "careless": 0.3, "adversarial": 0.2}, (0.5, 1.0)),
    "overconfident model": (5, 50, 3, {"good": 0.6, "careless": 0.2, "biased": 0.2}, (2.0, 4.0)),
    "many annotators": (5, 1000, 3, {"good": 0.5, "careless": 0.3, "biased": 0.2}, (2.0, 1.0)),
}
MNIST_KINDS = {"good": 0.5, "careless": 0.2, "biased": 0.15, "adversarial": 0.15}
RELABEL_KINDS = {"good": 0.6, "careless": 0.25, "biased": 0.15}
SPEED_KINDS = {"good": 0.6, "careless": 0.2, "biased": 0.1, "adversarial": 0.1}

#: Method keys, in table order, and their column names.
METHODS = {
    "lw_ds": "labelwise DS",
    "lw_crowdlab": "labelwise crowdlab",
    "cleanlab_crowdlab": "cleanlab CROWDLAB",
    "crowdkit_ds": "crowd-kit DS",
    "crowdkit_mv": "crowd-kit MV",
    "lw_ds_no_model": "labelwise DS, no model",
    "model": "model alone",
}
#: Methods whose annotator ranking the tables show.
RANKED = ("lw_ds", "cleanlab_crowdlab", "crowdkit_ds", "crowdkit_mv")


# --- data ---------------------------------------------------------------------------------------


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def simulated_data(
    n_items: int,
    k: int,
    n_annotators: int,
    votes_per_item: Any,
    kinds: dict[str, float],
    model: tuple[float, float],
    seed: int,
) -> dict[str, Any]:
    """Truth uniform over K; pred_probs = softmax(sharpness * (z + strength * onehot(truth))),
    z ~ N(0, 1); a crowd of the given kinds. One seed gives the same truth and z for every
    setting of the same shape (so the weak and overconfident models share the usual z)."""
    strength, sharpness = model
    data_rng, crowd_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    truth = data_rng.integers(0, k, n_items)
    z = data_rng.normal(size=(n_items, k))
    probs = softmax(sharpness * (z + strength * np.eye(k)[truth]))
    crowd = simulate_annotators(
        truth,
        n_annotators=n_annotators,
        votes_per_item=votes_per_item,
        kinds=kinds,
        n_classes=k,
        random_state=crowd_rng,
    )
    return {"truth": truth, "probs": probs, "crowd": crowd, "k": k, "m": n_annotators}


def mnist_dir() -> Path:
    shared = os.environ.get("LABELWISE_SHARED")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return base / "data" / "label-errors-mnist"


# --- the methods --------------------------------------------------------------------------------


@contextmanager
def quiet() -> Iterator[None]:
    # cleanlab prints some of its warnings (to stdout) instead of raising them.
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def lw_quality(result: lw.Consensus, n_annotators: int) -> np.ndarray:
    """labelwise's annotator quality as an array indexed by annotator code."""
    out = np.full(n_annotators, np.nan)
    table = result.annotators
    out[table["annotator"].to_numpy(dtype=np.int64)] = table["quality"].to_numpy(dtype=float)
    return out


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def run_methods(
    votes: pd.DataFrame, probs: np.ndarray, k: int, n_annotators: int
) -> dict[str, dict[str, Any]]:
    """Every method on the same long votes (item = row of probs, annotator and label codes).

    Returns {method: {"labels", "quality" (per annotator code, or None), "seconds"}}."""
    n = len(probs)
    items, annotators, labels = (
        votes[c].to_numpy(np.int64) for c in ("item", "annotator", "label")
    )
    args = (items, annotators, labels, n, n_annotators)
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, labels_: np.ndarray, quality: np.ndarray | None, seconds: float) -> None:
        out[name] = {"labels": np.asarray(labels_), "quality": quality, "seconds": seconds}

    result, s = timed(lambda: lw.consensus(votes, probs, method="dawid_skene"))
    add("lw_ds", result.labels, lw_quality(result, n_annotators), s)
    result, s = timed(lambda: lw.consensus(votes, probs, method="crowdlab"))
    add("lw_crowdlab", result.labels, lw_quality(result, n_annotators), s)
    np.random.seed(0)  # noqa: NPY002  cleanlab's last-resort tie-break uses the global generator
    with quiet():
        result, s = timed(lambda: ref.crowdlab(*args, probs))
    add("cleanlab_crowdlab", result["labels"], result["annotator_quality"], s)
    result, s = timed(lambda: ref.crowdkit_dawid_skene(*args, k))
    add("crowdkit_ds", result["labels"], result["annotator_quality"], s)
    result, s = timed(lambda: ref.crowdkit_majority_vote(*args, k))
    add("crowdkit_mv", result["labels"], result["annotator_quality"], s)
    result, s = timed(
        lambda: lw.consensus(
            votes, method="dawid_skene", items=np.arange(n), classes=list(range(k))
        )
    )
    add("lw_ds_no_model", result.labels.astype(np.int64), lw_quality(result, n_annotators), s)
    add("model", probs.argmax(axis=1), None, 0.0)
    return out


def spearman(quality: np.ndarray | None, accuracy: np.ndarray) -> float | None:
    if quality is None:
        return None
    with quiet():
        rho = spearmanr(quality, accuracy, nan_policy="omit")[0]
    return float(rho)


def score_run(data: dict[str, Any]) -> dict[str, Any]:
    """Run every method on one simulated crowd; accuracy, Spearman and seconds per method."""
    crowd, truth = data["crowd"], data["truth"]
    runs = run_methods(crowd.votes, data["probs"], data["k"], data["m"])
    row: dict[str, Any] = {
        "n_votes": len(crowd.votes),
        "methods": {
            name: {
                "accuracy": float(np.mean(run["labels"] == truth)),
                "spearman": spearman(run["quality"], crowd.accuracy),
                "seconds": run["seconds"],
            }
            for name, run in runs.items()
        },
    }
    mine, theirs = runs["lw_crowdlab"], runs["cleanlab_crowdlab"]
    row["crowdlab_labels_equal"] = float(np.mean(mine["labels"] == theirs["labels"]))
    diff = np.abs(mine["quality"] - theirs["quality"])
    row["crowdlab_quality_max_abs_diff"] = (
        float(np.nanmax(diff)) if np.isfinite(diff).any() else None
    )
    return row


# --- sections -----------------------------------------------------------------------------------


def section_accuracy(n_items: int, seeds: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"n_items": n_items, "seeds": seeds, "settings": {}}
    for name, (k, m, vpi, kinds, model) in SETTINGS.items():
        started = time.perf_counter()
        per_seed = {}
        for seed in seeds:
            per_seed[str(seed)] = score_run(simulated_data(n_items, k, m, vpi, kinds, model, seed))
        out["settings"][name] = {
            "k": k,
            "n_annotators": m,
            "votes_per_item": vpi,
            "kinds": kinds,
            "strength": model[0],
            "sharpness": model[1],
            "per_seed": per_seed,
        }
        log(f"accuracy: {name} in {time.perf_counter() - started:.1f} s")
    return out


def load_mnist() -> tuple[np.ndarray, np.ndarray] | None:
    folder = mnist_dir()
    if not (folder / "pred_probs.npy").exists():
        log(f"MNIST data not found in {folder}; skipped")
        return None
    probs = np.load(folder / "pred_probs.npy").astype(np.float64)
    given = np.load(folder / "given_labels.npy").astype(np.int64)
    return probs, given


def section_mnist(n_items: int | None, seeds: list[int]) -> dict[str, Any] | None:
    loaded = load_mnist()
    if loaded is None:
        return None
    probs, given = loaded
    if n_items is not None:
        probs, given = probs[:n_items], given[:n_items]
    out: dict[str, Any] = {
        "n_items": len(given),
        "k": 10,
        "n_annotators": 100,
        "votes_per_item": 3,
        "kinds": MNIST_KINDS,
        "seeds": seeds,
        "per_seed": {},
    }
    for seed in seeds:
        crowd = simulate_annotators(
            given,
            n_annotators=100,
            votes_per_item=3,
            kinds=MNIST_KINDS,
            n_classes=10,
            random_state=np.random.default_rng(seed),
        )
        data = {"truth": given, "probs": probs, "crowd": crowd, "k": 10, "m": 100}
        out["per_seed"][str(seed)] = score_run(data)
        log(f"mnist: seed {seed}")
    return out


def mturk_votes(reviews: pd.DataFrame, shuffle: int) -> pd.DataFrame:
    """One vote per worker who named a class (``neither`` votes name none and are left out).

    Each item's 5 vote slots (given, guessed, neither) are shuffled with seed ``shuffle`` before
    they become annotators 0..4, so no annotator code always holds the given label."""
    rng = np.random.default_rng(shuffle)
    rows = []
    for row, review in enumerate(reviews.itertuples(index=False)):
        slots = (
            [review.given] * review.n_given
            + [review.suggested] * review.n_suggested
            + [None] * (review.n_neither + review.n_both)
        )
        for position, label in enumerate(rng.permutation(np.array(slots, dtype=object))):
            if label is not None:
                rows.append((row, position, int(label)))
    return pd.DataFrame(rows, columns=["item", "annotator", "label"])


def section_mturk(shuffles: list[int]) -> dict[str, Any] | None:
    loaded = load_mnist()
    if loaded is None:
        return None
    all_probs, _ = loaded
    reviews = read_crowd_votes(mnist_dir() / "mturk.json")
    probs = all_probs[reviews["index"].to_numpy()]
    given = reviews["given"].to_numpy(np.int64)
    paper = reviews["n_given"].to_numpy() < 3
    m = int((reviews["n_given"] + reviews["n_suggested"] + reviews["n_neither"]).max())
    out: dict[str, Any] = {
        "n_items": len(reviews),
        "paper_errors": int(paper.sum()),
        "n_votes_naming_a_class": None,
        "shuffles": shuffles,
        "per_shuffle": {},
    }
    for shuffle in shuffles:
        votes = mturk_votes(reviews, shuffle)
        out["n_votes_naming_a_class"] = len(votes)
        runs = run_methods(votes, probs, 10, m)
        scored = {}
        for name, run in runs.items():
            flagged = run["labels"] != given
            scored[name] = {
                "flagged": int(flagged.sum()),
                "agreement_with_paper": float(np.mean(flagged == paper)),
                "paper_errors_flagged": int(np.sum(flagged & paper)),
                "flagged_not_paper": int(np.sum(flagged & ~paper)),
                "flagged_items": reviews["index"].to_numpy()[flagged].tolist(),
            }
        equal = float(np.mean(runs["lw_crowdlab"]["labels"] == runs["cleanlab_crowdlab"]["labels"]))
        out["per_shuffle"][str(shuffle)] = {"methods": scored, "crowdlab_labels_equal": equal}
    log("mturk: done")
    return out


def _new_votes(
    chosen: np.ndarray,
    labeled: np.ndarray,
    confusion: np.ndarray,
    truth: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One vote on each chosen item, from a random annotator who has not labeled it yet, drawn
    from that annotator's true confusion row."""
    annotators = np.empty(len(chosen), dtype=np.int64)
    labels = np.empty(len(chosen), dtype=np.int64)
    k = confusion.shape[1]
    for i, item in enumerate(chosen):
        a = int(rng.choice(np.flatnonzero(~labeled[item])))
        annotators[i] = a
        labels[i] = rng.choice(k, p=confusion[a, truth[item]])
        labeled[item, a] = True
    return annotators, labels


def relabel_run(n_items: int, batch: int, rounds: int, seed: int) -> dict[str, Any]:
    k, m = 10, 100
    data = simulated_data(n_items, k, m, 1, RELABEL_KINDS, (2.0, 1.0), seed)
    truth, probs, crowd = data["truth"], data["probs"], data["crowd"]
    start = crowd.votes
    out: dict[str, Any] = {}
    for strategy in ("relabel_priority", "random", "activelab"):
        rng = np.random.default_rng([seed, 2023])  # the same stream for every strategy
        items = start["item"].to_numpy(np.int64)
        annotators = start["annotator"].to_numpy(np.int64)
        labels = start["label"].to_numpy(np.int64)
        labeled = np.zeros((n_items, m), dtype=bool)
        labeled[items, annotators] = True
        record: dict[str, list] = {"extra_votes": [], "lw_ds_accuracy": [], "seconds_choose": []}
        if strategy == "activelab":
            record["cleanlab_crowdlab_accuracy"] = []
        for r in range(rounds + 1):
            votes = pd.DataFrame({"item": items, "annotator": annotators, "label": labels})
            result, seconds = timed(lambda votes=votes: lw.consensus(votes, probs))
            record["extra_votes"].append(r * batch)
            record["lw_ds_accuracy"].append(float(np.mean(result.labels == truth)))
            args = (items, annotators, labels, n_items, m)
            if strategy == "activelab":
                if np.bincount(items, minlength=n_items).max() < 2:
                    accuracy = None  # cleanlab refuses votes where every item has one label
                else:
                    np.random.seed(0)  # noqa: NPY002
                    with quiet():
                        accuracy = float(np.mean(ref.crowdlab(*args, probs)["labels"] == truth))
                record["cleanlab_crowdlab_accuracy"].append(accuracy)
            if r == rounds:
                break
            started = time.perf_counter()
            if strategy == "relabel_priority":
                chosen = result.relabel_priority(batch)["row"].to_numpy(np.int64)
                started -= seconds  # the consensus it ranks from counts too
            elif strategy == "random":
                chosen = rng.choice(n_items, batch, replace=False)
            else:
                with quiet():
                    scores = ref.activelab_scores(*args, probs)
                chosen = np.argsort(scores, kind="stable")[:batch]
            record["seconds_choose"].append(time.perf_counter() - started)
            new_annotators, new_labels = _new_votes(chosen, labeled, crowd.confusion, truth, rng)
            items = np.concatenate([items, chosen])
            annotators = np.concatenate([annotators, new_annotators])
            labels = np.concatenate([labels, new_labels])
        out[strategy] = record
    return out


def section_relabel(n_items: int, seeds: list[int]) -> dict[str, Any]:
    batch, rounds = n_items // 10, 5
    out: dict[str, Any] = {
        "n_items": n_items,
        "k": 10,
        "n_annotators": 100,
        "kinds": RELABEL_KINDS,
        "batch": batch,
        "rounds": rounds,
        "seeds": seeds,
        "per_seed": {},
    }
    for seed in seeds:
        started = time.perf_counter()
        out["per_seed"][str(seed)] = relabel_run(n_items, batch, rounds, seed)
        log(f"relabel: seed {seed} in {time.perf_counter() - started:.1f} s")
    return out


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _memory_child(call: Callable[[], Any], queue: Any) -> None:
    """Peak resident memory of one call above the (forked) child's start, in MiB."""
    try:
        # "5" resets the peak resident set size (VmHWM) to the current one (Linux >= 4.0).
        Path("/proc/self/clear_refs").write_text("5")
        base = _vm_kib("VmRSS")
        with quiet():
            call()
        queue.put((_vm_kib("VmHWM") - base) / 1024)
    except Exception as exc:  # noqa: BLE001  reported, not raised: the parent carries on
        queue.put(f"error: {exc!r}")


def peak_extra_mib(call: Callable[[], Any]) -> float | str:
    context = mp.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_memory_child, args=(call, queue))
    child.start()
    child.join()
    return queue.get() if child.exitcode == 0 else f"child exit code {child.exitcode}"


def section_speed(n_items: int, repeats: int = 2) -> dict[str, Any]:
    k, m = 10, 200
    data = simulated_data(n_items, k, m, 3, SPEED_KINDS, (2.0, 1.0), 0)
    votes, probs = data["crowd"].votes, data["probs"]
    args = tuple(votes[c].to_numpy(np.int64) for c in ("item", "annotator", "label"))
    args = (*args, n_items, m)

    def cleanlab_call() -> dict[str, np.ndarray]:
        np.random.seed(0)  # noqa: NPY002
        return ref.crowdlab(*args, probs)

    calls = {
        "lw_ds": lambda: lw.consensus(votes, probs, method="dawid_skene"),
        "lw_crowdlab": lambda: lw.consensus(votes, probs, method="crowdlab"),
        "cleanlab_crowdlab": cleanlab_call,
        "crowdkit_ds": lambda: ref.crowdkit_dawid_skene(*args, k),
    }
    out: dict[str, Any] = {
        "n_items": n_items,
        "n_annotators": m,
        "votes_per_item": 3,
        "k": k,
        "n_votes": len(votes),
        "repeats": repeats,
        "kinds": SPEED_KINDS,
        "methods": {},
    }
    results = {}
    for name, call in calls.items():
        seconds = []
        for _ in range(repeats):
            with quiet():
                result, s = timed(call)
            seconds.append(s)
        results[name] = result
        out["methods"][name] = {
            "seconds": seconds,
            "best_s": min(seconds),
            "peak_extra_mib": peak_extra_mib(call),
        }
        log(f"speed: {name} best {min(seconds):.2f} s")
    truth = data["truth"]
    out["accuracy"] = {
        "lw_ds": float(np.mean(results["lw_ds"].labels == truth)),
        "lw_crowdlab": float(np.mean(results["lw_crowdlab"].labels == truth)),
        "cleanlab_crowdlab": float(np.mean(results["cleanlab_crowdlab"]["labels"] == truth)),
        "crowdkit_ds": float(np.mean(results["crowdkit_ds"]["labels"] == truth)),
    }
    out["crowdlab_labels_equal"] = float(
        np.mean(results["lw_crowdlab"].labels == results["cleanlab_crowdlab"]["labels"])
    )
    return out


# --- markdown -----------------------------------------------------------------------------------


def _num(value: Any, fmt: str = ".2f", scale: float = 1.0, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return format(value * scale if scale != 1 else value, ("+" if signed else "") + fmt)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _mean(values: list[Any]) -> float | None:
    kept = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def _worst(values: list[Any]) -> float | None:
    kept = [v for v in values if v is not None and np.isfinite(v)]
    return float(min(kept)) if kept else None


def _stat(per_seed: dict[str, Any], method: str, metric: str) -> list[Any]:
    return [run["methods"][method][metric] for run in per_seed.values()]


def _diff(per_seed: dict[str, Any], metric: str, a: str, b: str) -> list[Any]:
    out = []
    for run in per_seed.values():
        x, y = run["methods"][a][metric], run["methods"][b][metric]
        out.append(None if x is None or y is None else x - y)
    return out


def _accuracy_rows(named: dict[str, dict[str, Any]]) -> tuple[list[list[str]], list[list[str]]]:
    acc_rows, rank_rows = [], []
    for name, per_seed in named.items():
        acc = [_num(_mean(_stat(per_seed, key, "accuracy")), ".2f", 100) for key in METHODS]
        gap = _worst(_diff(per_seed, "accuracy", "lw_ds", "cleanlab_crowdlab"))
        equal = _worst([run["crowdlab_labels_equal"] for run in per_seed.values()])
        acc_rows.append([name, *acc, _num(gap, ".2f", 100, True), _num(equal, ".4f")])
        rho = [_num(_mean(_stat(per_seed, key, "spearman")), ".3f") for key in RANKED]
        rho_gap = _worst(_diff(per_seed, "spearman", "lw_ds", "cleanlab_crowdlab"))
        worst_ds = _worst(_stat(per_seed, "lw_ds", "spearman"))
        rank_rows.append([name, *rho, _num(worst_ds, ".3f"), _num(rho_gap, "+.4f")])
    return acc_rows, rank_rows


ACC_HEADER = [
    "setting",
    *METHODS.values(),
    "DS − CROWDLAB, worst seed (pts)",
    "labelwise crowdlab = cleanlab (share, worst seed)",
]
RANK_HEADER = [
    "setting",
    *(METHODS[key] for key in RANKED),
    "labelwise DS, worst seed",
    "DS − CROWDLAB, worst seed",
]


def md_accuracy(section: dict[str, Any]) -> list[str]:
    seeds = ", ".join(map(str, section["seeds"]))
    lines = [
        "## 1. Simulated crowds: consensus accuracy and annotator ranking",
        "",
        f"{section['n_items']:,} items per setting, seeds {seeds}. Truth uniform over K; "
        "pred_probs = softmax(z + strength·onehot(truth)), z ~ N(0, 1), strength 2 unless "
        "said. *overconfident model*: softmax(4·(z + 2·onehot)), as accurate as the usual model "
        "but far too sure. Annotator kinds and accuracy ranges: see "
        "`labelwise.simulate_crowd.ANNOTATOR_KINDS`.",
        "",
    ]
    settings_rows = []
    for name, s in section["settings"].items():
        kinds = ", ".join(f"{kind} {share:g}" for kind, share in s["kinds"].items())
        vpi = s["votes_per_item"]
        vpi = f"{vpi[0]}–{vpi[1]}" if isinstance(vpi, (list, tuple)) else str(vpi)
        model = f"strength {s['strength']:g}" + (
            f", ×{s['sharpness']:g} logits" if s["sharpness"] != 1 else ""
        )
        settings_rows.append([name, str(s["k"]), str(s["n_annotators"]), vpi, kinds, model])
    lines += _table(["setting", "K", "annotators", "votes/item", "kinds", "model"], settings_rows)
    named = {name: s["per_seed"] for name, s in section["settings"].items()}
    acc_rows, rank_rows = _accuracy_rows(named)
    lines += [
        "",
        "**Consensus accuracy vs the truth (%, mean over seeds).** The last but one column is "
        "the smallest, over seeds, of labelwise DS's accuracy minus cleanlab CROWDLAB's "
        "(percentage points; negative: CROWDLAB was better on some seed).",
        "",
        *_table(ACC_HEADER, acc_rows),
        "",
        "**Annotator ranking: Spearman correlation of the estimated annotator quality with the "
        "true empirical accuracy (mean over seeds).** crowd-kit MV's quality is its `skills_` "
        "(agreement with the majority).",
        "",
        *_table(RANK_HEADER, rank_rows),
        "",
    ]
    return lines


def md_mnist(section: dict[str, Any]) -> list[str]:
    kinds = ", ".join(f"{kind} {share:g}" for kind, share in section["kinds"].items())
    acc_rows, rank_rows = _accuracy_rows({"MNIST, simulated crowd": section["per_seed"]})
    return [
        "## 2. MNIST model outputs, simulated crowd",
        "",
        f"The MNIST test set's out-of-sample pred_probs ({section['n_items']:,} × 10); the given "
        "labels are taken as the truth (the 2021 label-errors paper found about 15 wrong). "
        f"{section['n_annotators']} annotators ({kinds}), {section['votes_per_item']} votes "
        f"per item, seeds {', '.join(map(str, section['seeds']))}.",
        "",
        "**Consensus accuracy (%, mean over seeds)**",
        "",
        *_table(ACC_HEADER, acc_rows),
        "",
        "**Annotator ranking (Spearman, mean over seeds)**",
        "",
        *_table(RANK_HEADER, rank_rows),
        "",
    ]


def md_mturk(section: dict[str, Any]) -> list[str]:
    shuffles = list(section["per_shuffle"].values())
    rows = []
    for key, label in METHODS.items():

        def span(metric: str, fmt: str, key: str = key) -> str:
            values = [s["methods"][key][metric] for s in shuffles]
            low, high = min(values), max(values)
            text = _num(values[0], fmt)
            return text if low == high else f"{text} ({_num(low, fmt)}–{_num(high, fmt)})"

        rows.append(
            [
                label,
                span("flagged", "d"),
                span("paper_errors_flagged", "d"),
                span("flagged_not_paper", "d"),
                span("agreement_with_paper", ".2f"),
            ]
        )
    equal = min(s["crowdlab_labels_equal"] for s in shuffles)
    n = section["n_items"]
    return [
        "## 3. MNIST, real crowd votes",
        "",
        f"The {n} test images the paper flagged, 5 MTurk votes each "
        f"({section['n_votes_naming_a_class']} of the {5 * n} name a class; *neither* votes "
        "are left out). The truth is unknown. A method calls an image a label error when its "
        "consensus differs from the given label; the paper's verdict is an error where fewer "
        f"than 3 of 5 workers chose the given label ({section['paper_errors']} of {n}). Workers "
        "are anonymous: each item's 5 vote slots are shuffled and named w0–w4, so annotator "
        "quality means nothing here and methods that model annotators only see noise in who "
        f"is who. Shufflings {', '.join(map(str, section['shuffles']))}: first shuffling "
        "shown, (min–max over shufflings) where they differ. labelwise and cleanlab get the "
        "model's pred_probs of these 100 images; crowd-kit and the DS without model do not.",
        "",
        *_table(
            [
                "method",
                "label errors",
                f"of the paper's {section['paper_errors']}",
                "not in the paper's",
                "agreement with the paper",
            ],
            rows,
        ),
        "",
        f"labelwise crowdlab = cleanlab CROWDLAB on {equal:.0%} of the images (worst shuffling).",
        "",
    ]


def md_relabel(section: dict[str, Any]) -> list[str]:
    runs = list(section["per_seed"].values())
    steps = runs[0]["relabel_priority"]["extra_votes"]

    def series(strategy: str, metric: str) -> list[list[Any]]:
        return [run[strategy][metric] for run in runs]

    prio = series("relabel_priority", "lw_ds_accuracy")
    rand = series("random", "lw_ds_accuracy")
    active = series("activelab", "lw_ds_accuracy")
    active_cl = series("activelab", "cleanlab_crowdlab_accuracy")
    rows = []
    for i, extra in enumerate(steps):

        def at(values: list[list[Any]], i: int = i) -> list[Any]:
            return [v[i] for v in values]

        gap = _worst([p - a for p, a in zip(at(prio), at(active), strict=True)])
        gap_own = _worst(
            [None if a is None else p - a for p, a in zip(at(prio), at(active_cl), strict=True)]
        )
        rows.append(
            [
                f"{extra:,}",
                _num(_mean(at(prio)), ".2f", 100),
                _num(_mean(at(rand)), ".2f", 100),
                _num(_mean(at(active)), ".2f", 100),
                _num(_mean(at(active_cl)), ".2f", 100),
                _num(gap, ".2f", 100, True),
                _num(gap_own, ".2f", 100, True),
            ]
        )
    kinds = ", ".join(f"{kind} {share:g}" for kind, share in section["kinds"].items())
    choose = {
        s: _mean([x for run in runs for x in run[s]["seconds_choose"]])
        for s in ("relabel_priority", "activelab")
    }
    return [
        "## 4. What to label next",
        "",
        f"{section['n_items']:,} items, K={section['k']}, {section['n_annotators']} annotators "
        f"({kinds}), one vote per item to start, pred_probs strength 2. {section['rounds']} "
        f"rounds of {section['batch']:,} more votes, one each on {section['batch']:,} distinct "
        "items chosen by: labelwise `relabel_priority` (top of "
        "`consensus(votes, pred_probs).relabel_priority`), random items, or cleanlab ActiveLab "
        "(lowest `get_active_learning_scores`). Each new vote comes from a random annotator who "
        "has not labeled the item, drawn from that annotator's true confusion row; each "
        "strategy has its own generator, seeded the same. Accuracy of labelwise DS's "
        "consensus for every strategy (so only the choice differs), and of cleanlab CROWDLAB "
        "for ActiveLab (its own pipeline; cleanlab refuses votes where every item has one "
        "label, hence — at 0). Mean over seeds "
        f"{', '.join(map(str, section['seeds']))}; gaps are the worst seed's, in points.",
        "",
        *_table(
            [
                "extra votes",
                "relabel_priority (DS)",
                "random (DS)",
                "ActiveLab (DS)",
                "ActiveLab (CROWDLAB)",
                "priority − ActiveLab, DS, worst seed",
                "priority+DS − ActiveLab+CROWDLAB, worst seed",
            ],
            rows,
        ),
        "",
        f"Time to choose one batch (mean): relabel_priority {_num(choose['relabel_priority'])} s "
        f"(its consensus included), ActiveLab {_num(choose['activelab'])} s.",
        "",
    ]


def md_speed(section: dict[str, Any]) -> list[str]:
    methods = section["methods"]
    pairs = {"lw_ds": "cleanlab_crowdlab", "lw_crowdlab": "cleanlab_crowdlab"}
    rows = []
    for key, run in methods.items():
        mem = run["peak_extra_mib"]
        mem_text = _num(mem, ".0f") if isinstance(mem, (int, float)) else str(mem)
        rows.append(
            [
                METHODS[key],
                _num(run["best_s"], ".2f"),
                " / ".join(_num(s, ".2f") for s in run["seconds"]),
                mem_text,
                _num(section["accuracy"][key], ".2f", 100),
            ]
        )
    ratios = [
        f"cleanlab CROWDLAB / {METHODS[key]} = "
        f"{methods[other]['best_s'] / methods[key]['best_s']:.1f}×"
        for key, other in pairs.items()
    ]
    ratios.append(
        "crowd-kit DS / labelwise DS = "
        f"{methods['crowdkit_ds']['best_s'] / methods['lw_ds']['best_s']:.1f}×"
    )
    kinds = ", ".join(f"{kind} {share:g}" for kind, share in section["kinds"].items())
    return [
        "## 5. Speed and memory",
        "",
        f"{section['n_items']:,} items × {section['n_annotators']} annotators × "
        f"{section['votes_per_item']} votes ({section['n_votes']:,} votes), K={section['k']}, "
        f"{kinds}. Wall time, best of {section['repeats']} (`time.perf_counter`), in this "
        "process. Peak memory: each call once more in a forked child, the kernel's peak "
        "resident set size (VmHWM, reset at the child's start) above the child's resident size "
        "at its start, so it counts every temporary the call makes, the result included. The "
        "reference tools get int arrays and build their own input (cleanlab's wide matrix, "
        "crowd-kit's frame) inside the timed call; labelwise gets the long DataFrame.",
        "",
        *_table(["method", "best s", "runs (s)", "peak extra MiB", "accuracy %"], rows),
        "",
        "Speed ratios: " + "; ".join(ratios) + ".",
        f"labelwise crowdlab = cleanlab CROWDLAB on {section['crowdlab_labels_equal']:.2%} of "
        "the items.",
        "",
    ]


def as_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        "# Multi-annotator consensus: labelwise vs cleanlab CROWDLAB and crowd-kit",
        "",
        f"Command: `{meta['command']}`. Date {meta['date']}; total runtime "
        f"{meta['seconds']:.0f} s. {versions}. {meta['machine']}, {meta['cpus']} logical CPUs, "
        f"1-minute load average {meta['load_average_start']:.2f} at the start and "
        f"{meta['load_average_end']:.2f} at the end. labelwise source sha256 "
        f"{meta['labelwise_source_sha256']}.",
        "",
    ]
    if meta.get("labelwise_source_changed_during_run"):
        lines += ["**labelwise's source changed during this run: rerun it.**", ""]
    if meta.get("sections_run"):
        lines += [
            f"Sections run by this command: {', '.join(meta['sections_run'])}; any other section"
            " shown comes from an earlier run (its own metadata is in the JSON).",
            "",
        ]
    renderers = {
        "accuracy": md_accuracy,
        "mnist": md_mnist,
        "mturk": md_mturk,
        "relabel": md_relabel,
        "speed": md_speed,
    }
    for name in SECTIONS:
        if results.get(name):
            lines += renderers[name](results[name])
    return "\n".join(lines).rstrip() + "\n"


# --- main ---------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2,000 items, one seed, speed at 10,000 items"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")

    seeds = [SEEDS[0]] if args.quick else list(SEEDS)
    n_items = 2_000 if args.quick else 10_000
    suffix = ".quick" if args.quick else ""
    json_path = args.out / f"consensus{suffix}.json"
    md_path = args.out / f"consensus{suffix}.md"
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    command = ".bench-venv/bin/python benchmarks/consensus.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    load_start = os.getloadavg()[0]
    digest_start = source_digest()  # others may edit src/ while this runs: compare at the end
    started = time.perf_counter()
    runners: dict[str, Callable[[], Any]] = {
        "accuracy": lambda: section_accuracy(n_items, seeds),
        "mnist": lambda: section_mnist(n_items if args.quick else None, seeds),
        "mturk": lambda: section_mturk(list(SEEDS)),
        "relabel": lambda: section_relabel(2_000 if args.quick else 5_000, seeds),
        "speed": lambda: section_speed(10_000 if args.quick else 100_000),
    }
    for name in SECTIONS:
        if name not in sections:
            continue
        section_started = time.perf_counter()
        section = runners[name]()
        if section is not None:
            section["seconds"] = time.perf_counter() - section_started
            section["load_average_1min_end"] = os.getloadavg()[0]
            section["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            section["labelwise_source_sha256"] = digest_start
            results[name] = section
    results["meta"] = {
        "command": command.strip(),
        "sections_run": sections if set(sections) != set(SECTIONS) else None,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - started,
        "versions": {
            "labelwise": lw.__version__,
            **ref.versions(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": version("scipy"),
            "python": platform.python_version(),
        },
        "labelwise_source_sha256": digest_start,
        "labelwise_source_changed_during_run": source_digest() != digest_start,
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg()[0],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(results, json_path)
    text = as_markdown(results)
    write_text(text, md_path)
    print(text)
    log(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
