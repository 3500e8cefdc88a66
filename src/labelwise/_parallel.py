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
#: Each process's pool and its number of threads (by process id, so that a forked child makes
#: its own).
_pools: dict[int, tuple[ThreadPoolExecutor, int]] = {}
_pools_lock = threading.Lock()


def _mark_worker() -> None:
    _worker.active = True


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool, with at least ``threads`` threads.

    Kept for the process's life: starting threads for every call cost about 0.5 ms, a
    noticeable share of a 20 ms call. Grown (the old one let go) only when a call asks for more
    threads than it has.
    """
    with _pools_lock:
        pool, size = _pools.get(os.getpid(), (None, 0))
        if pool is None or size < threads:
            if pool is not None:
                pool.shutdown(wait=False)
            size = max(threads, os.cpu_count() or 1)
            pool = ThreadPoolExecutor(size, "labelwise", initializer=_mark_worker)
            _pools[os.getpid()] = (pool, size)
        return pool


def _outcomes(func: Callable[[T], R], group: list[T]) -> list[tuple[bool, object]]:
    """``func`` over the group, each error kept in its place rather than raised at once."""
    out = []
    for item in group:
        try:
            out.append((True, func(item)))
        except Exception as error:  # raised by ordered_map, in the order of the items
            out.append((False, error))
    return out


def ordered_map(func: Callable[[T], R], items: Iterable[T], n_jobs: int | None) -> list[R]:
    """``[func(x) for x in items]``, spread over threads, in input order.

    At most ``n_jobs`` items run at once: item i goes to task ``i % n_jobs``, one task per
    thread. An error is raised as the plain loop would raise it: the first item's that fails.
    Called from inside one of these threads, it runs in that thread: a thread waiting for work
    queued behind itself would never finish.
    """
    items = list(items)
    threads = min(resolve_n_jobs(n_jobs), len(items))
    if threads <= 1 or getattr(_worker, "active", False):
        return [func(item) for item in items]
    groups = [items[g::threads] for g in range(threads)]
    # Our threads already fill the cores: a multithreaded BLAS inside each would oversubscribe.
    with _controller().limit(limits=1, user_api="blas"):
        done = list(_pool(threads).map(lambda group: _outcomes(func, group), groups))
    outcomes: list = [None] * len(items)
    for g, group in enumerate(done):
        outcomes[g::threads] = group
    for ok, value in outcomes:
        if not ok:
            raise value
    return [value for _, value in outcomes]


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
