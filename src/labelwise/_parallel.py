"""Thread-level parallelism for the array core.

numpy releases the GIL inside its loops, so independent row blocks or classes run concurrently
in threads, with no copies and no process start-up. Results come back in input order, so merged
results are identical for any number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from threadpoolctl import ThreadpoolController

from labelwise.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Threads to use: ``None`` or -1 means every core; other negatives count back from it."""
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return cores
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ConfigError(f"n_jobs must be a non-zero whole number or None, got {n_jobs!r}.")
    return max(1, cores + 1 + n_jobs) if n_jobs < 0 else n_jobs


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # finding the loaded BLAS is slow: do it once


_worker = threading.local()


def _mark_worker() -> None:
    _worker.active = True


@cache
def _pool(threads: int, pid: int) -> ThreadPoolExecutor:
    # Kept for the process's life: starting threads for every call cost about 0.5 ms, a
    # noticeable share of a 20 ms call. Keyed by pid, so that a forked child makes its own.
    del pid
    return ThreadPoolExecutor(threads, thread_name_prefix="labelwise", initializer=_mark_worker)


def ordered_map(func: Callable[[T], R], items: Iterable[T], n_jobs: int | None) -> list[R]:
    """``[func(x) for x in items]``, spread over threads, in input order.

    Called from inside one of these threads, it runs in that thread: a thread waiting for
    work queued behind itself would never finish.
    """
    items = list(items)
    threads = min(resolve_n_jobs(n_jobs), len(items))
    if threads <= 1 or getattr(_worker, "active", False):
        return [func(item) for item in items]
    # Our threads already fill the cores: a multithreaded BLAS inside each would oversubscribe.
    with _controller().limit(limits=1, user_api="blas"):
        return list(_pool(threads, os.getpid()).map(func, items))


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    For model fits on modest matrices a multithreaded BLAS mostly synchronizes: cross-validating
    a logistic regression on scikit-learn's digits took 44 s with two OpenBLAS threads on a busy
    two-core machine and 1.5 s with one (100,000 x 30: 5.3 s and 1.7 s).
    """
    return _controller().limit(limits=1, user_api="blas")


def one_openmp_thread():
    """A context in which OpenMP code started from the calling thread runs on one thread.

    OpenMP's thread count is per calling thread, so folds fit concurrently in a thread pool can
    each take one core. Two processes that each start an OpenMP team on every core spin against
    each other: a gradient-boosting fit took 13.6 s with two OpenMP threads on a loaded two-core
    machine and 2.2 s with one.
    """
    return _controller().limit(limits=1, user_api="openmp")
