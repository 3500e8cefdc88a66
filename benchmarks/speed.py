"""find_label_issues speed, memory and agreement: labelwise against cleanlab, same inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

import labelwise as lw
from measure import best_time, peak_extra_bytes
from reference import COMPOSED_METHODS, SHARED_METHODS, cleanlab_mask
from synthetic import make_inputs

FULL_SHAPES = ((1_000_000, 10), (100_000, 100), (50_000, 1_000))
QUICK_SHAPES = ((100_000, 10), (10_000, 100), (5_000, 1_000))
DEFAULT_METHOD = "prune_by_noise_rate"
SEED = 0


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _agreement(reference: np.ndarray, ours: np.ndarray) -> dict[str, Any]:
    return {
        "masks_identical": bool(np.array_equal(reference, ours)),
        "rows_differ": int(np.count_nonzero(reference != ours)),
        "cleanlab_flagged": int(reference.sum()),
        "labelwise_flagged": int(ours.sum()),
    }


def _timed_pair(
    reference: Callable[[], np.ndarray], ours: Callable[[], np.ndarray], repeats: int
) -> dict[str, Any]:
    """Time both calls (best of ``repeats``, after one untimed call each) and compare the masks
    of their last runs. A new process's one-off costs are measured apart (:func:`first_call`)."""
    reference(), ours()
    ref = best_time(reference, repeats)
    mine = best_time(ours, repeats)
    return {
        "cleanlab_s": ref.best_s,
        "cleanlab_worst_s": ref.worst_s,
        "cleanlab_runs": ref.runs,
        "labelwise_s": mine.best_s,
        "labelwise_worst_s": mine.worst_s,
        "labelwise_runs": mine.runs,
        "speedup": ref.best_s / mine.best_s,
        **_agreement(ref.result, mine.result),
    }


def _numpy_path(call: Callable[[], Any]) -> Any:
    """``call()`` with labelwise's compiled kernels off (its numpy reference path)."""
    before = os.environ.get("LABELWISE_KERNELS")
    os.environ["LABELWISE_KERNELS"] = "numpy"
    try:
        return call()
    finally:
        if before is None:
            del os.environ["LABELWISE_KERNELS"]
        else:
            os.environ["LABELWISE_KERNELS"] = before


#: A new process: import labelwise, then time its first call and a second one.
_FIRST_CALL = """
import json, time
import numpy as np
import labelwise
rng = np.random.default_rng(0)
probs = rng.dirichlet(np.ones(10), 10_000).astype(np.float32)
labels = rng.integers(0, 10, 10_000)
start = time.perf_counter()
labelwise.find_label_issues(labels, probs)
first = time.perf_counter() - start
start = time.perf_counter()
labelwise.find_label_issues(labels, probs)
print(json.dumps({"first_s": first, "second_s": time.perf_counter() - start}))
"""


def first_call() -> dict[str, Any]:
    """A new process's first call, with the kernels (loaded from numba's cache) and without."""
    out = {}
    for name, switch in (("kernels", ""), ("numpy", "numpy")):
        env = {**os.environ, "LABELWISE_KERNELS": switch}
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True
        )
        out[name] = json.loads(done.stdout.splitlines()[-1])
    return out


def _default_call(labels: np.ndarray, pred_probs: np.ndarray, repeats: int) -> dict[str, Any]:
    """Both tools' default call: timing, agreement and peak extra memory."""
    n, k = pred_probs.shape
    row = _timed_pair(
        lambda: cleanlab_mask(labels, pred_probs, DEFAULT_METHOD),
        lambda: lw.find_label_issues(labels, pred_probs).mask,
        repeats,
    )

    # The reference path of labelwise (numpy alone), equal to the compiled one by its tests.
    def numpy_call() -> Any:
        return _numpy_path(lambda: lw.find_label_issues(labels, pred_probs))

    numpy_call()  # warmed like the timed pair
    reference = best_time(numpy_call, repeats)
    row["labelwise_numpy_s"] = reference.best_s
    compiled = lw.find_label_issues(labels, pred_probs).mask
    row["numpy_path_identical"] = bool(np.array_equal(reference.result.mask, compiled))
    # Memory with one process: tracemalloc cannot see cleanlab's worker processes.
    ref_peak = peak_extra_bytes(lambda: cleanlab_mask(labels, pred_probs, DEFAULT_METHOD, n_jobs=1))
    our_peak = peak_extra_bytes(lambda: lw.find_label_issues(labels, pred_probs))
    nbytes = pred_probs.nbytes
    return {
        "n": n,
        "k": k,
        "dtype": str(pred_probs.dtype),
        "pred_probs_nbytes": nbytes,
        **row,
        "cleanlab_peak_extra_bytes": ref_peak,
        "labelwise_peak_extra_bytes": our_peak,
        "cleanlab_peak_extra_x": ref_peak / nbytes,
        "labelwise_peak_extra_x": our_peak / nbytes,
    }


def _other_methods(labels: np.ndarray, pred_probs: np.ndarray, repeats: int) -> list[dict]:
    rows = []
    for method in SHARED_METHODS + COMPOSED_METHODS:
        if method == DEFAULT_METHOD:
            continue  # measured, with memory, by _default_call
        _log(f"method {method}")
        row = _timed_pair(
            lambda m=method: cleanlab_mask(labels, pred_probs, m),
            lambda m=method: lw.find_label_issues(labels, pred_probs, method=m).mask,
            repeats,
        )
        rows.append({"method": method, "composed": method in COMPOSED_METHODS, **row})
    return rows


def run_speed(quick: bool = False, repeats: int = 3) -> dict[str, Any]:
    """The default call on each shape, then every other method on the first shape."""
    shapes = QUICK_SHAPES if quick else FULL_SHAPES
    defaults, methods = [], []
    for i, (n, k) in enumerate(shapes):
        _log(f"generating {n:,} x {k} float32 pred_probs")
        labels, pred_probs = make_inputs(n, k, seed=SEED)
        _log(f"default call on {n:,} x {k}")
        defaults.append(_default_call(labels, pred_probs, repeats))
        if i == 0:
            methods = [{"method": DEFAULT_METHOD, "composed": False, **defaults[0]}]
            methods += _other_methods(labels, pred_probs, repeats)
            methods[0] = {key: methods[0][key] for key in methods[1]}  # same columns everywhere
        del labels, pred_probs  # free ~40 MB before the next shape
    return {
        "seed": SEED,
        "repeats": repeats,
        "first_call": first_call(),
        "cleanlab_default_n_jobs": psutil.cpu_count(logical=False),
        "default": defaults,
        "methods_shape": list(shapes[0]),
        "methods": methods,
    }
