"""Wall time and peak traced memory of one call. Nothing here asserts on a timing."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    best_s: float
    runs: int
    result: Any


def best_time(fn: Callable[[], Any], repeats: int = 3, budget_s: float = 10.0) -> Timing:
    """Best wall time of up to ``repeats`` calls.

    Stops repeating once the calls so far took ``budget_s`` in all, so that a very slow call is
    timed once instead of holding up the whole suite.
    """
    best, spent, runs, result = float("inf"), 0.0, 0, None
    while runs < repeats and (runs == 0 or spent < budget_s):
        result = None  # drop the previous result first, so it does not crowd this run
        gc.collect()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return Timing(best_s=best, runs=runs, result=result)


def peak_extra_bytes(fn: Callable[[], Any]) -> int:
    """Peak traced allocation during ``fn()`` above what was allocated when it started.

    numpy reports its array buffers to tracemalloc, so this sees the (N, K) temporaries. Memory of
    child processes is invisible to it: measure multiprocessing code with one process.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - start
