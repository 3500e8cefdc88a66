"""Wall time and peak traced memory of one call. Nothing here asserts on a timing."""

from __future__ import annotations

import gc
import hashlib
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import labelwise


@dataclass(frozen=True)
class Timing:
    best_s: float
    runs: int
    result: Any
    #: Every run's wall time, in order (the worst shown beside the best).
    walls: tuple[float, ...] = ()

    @property
    def worst_s(self) -> float:
        return max(self.walls, default=self.best_s)


def best_time(fn: Callable[[], Any], repeats: int = 3, budget_s: float = 10.0) -> Timing:
    """Best wall time of up to ``repeats`` calls.

    Stops repeating once the calls so far took ``budget_s`` in all, so that a very slow call is
    timed once instead of holding up the whole suite.
    """
    walls, result = [], None
    while len(walls) < repeats and (not walls or sum(walls) < budget_s):
        result = None  # drop the previous result first, so it does not crowd this run
        gc.collect()
        start = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
    return Timing(best_s=min(walls), runs=len(walls), result=result, walls=tuple(walls))


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


def source_digest() -> str:
    """A short hash of labelwise's source files: ties the figures to the exact code measured,
    committed or not."""
    package = Path(labelwise.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]
