"""Every row's nearest other rows: exact on small data, an inverted-file index on large data.

The data checks (near copies, outliers, non-IID order) need each row's ``k`` nearest other
rows. Exact search costs ``n**2 * d``: 25 s for 100,000 rows x 50 features here, and about
forty minutes for 1,000,000 x 64. Above :data:`EXACT_MAX_ROWS` rows the search goes through a
faiss inverted-file index (IVF-Flat: k-means cells, each query scans the nearest
:data:`N_PROBE` cells). ``benchmarks/neighbour_index.py`` compared it with HNSW (faiss,
hnswlib, usearch), NN-descent (pynndescent) and exact search (scikit-learn, faiss) on speed and
recall; docs/data-issues.md has the figures and the reasons for the choice.

Whatever index finds the candidates, their distances are recomputed in float64 from the rows
themselves, so exact copies are at distance 0 exactly and no float32 rounding reaches a
threshold.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from labelwise._params import Interval, Options, check_params
from labelwise.errors import ConfigError

__all__ = ["EXACT_MAX_ROWS", "N_PROBE", "Neighbours", "nearest_neighbours"]

#: Up to this many rows the search is exact (scikit-learn); above, approximate (faiss IVF).
EXACT_MAX_ROWS = 20_000
#: Cells each query scans in the inverted-file index, out of ``4 * sqrt(n)``.
N_PROBE = 16
#: Training rows per cell for the index's k-means (faiss asks for at least 39).
TRAIN_PER_CELL = 50
#: Rows per batch when distances are recomputed exactly: bounds memory at about 50 MB.
BATCH_ROWS = 8192

METHODS = ("auto", "exact", "approximate")


@dataclass(frozen=True)
class Neighbours:
    """The k nearest other rows of every row, nearest first.

    Attributes
    ----------
    distances : ndarray of shape (n, k)
        Euclidean distances, float64, ascending along each row.
    indices : ndarray of shape (n, k)
        The neighbours' row positions; never the row itself.
    method : str
        ``"exact"`` or ``"approximate"``: how they were found.
    """

    distances: np.ndarray
    indices: np.ndarray
    method: str = "exact"

    def first(self, k: int) -> Neighbours:
        """The ``k`` nearest of them."""
        return Neighbours(self.distances[:, :k], self.indices[:, :k], self.method)


# n_jobs: -1 is every core, -2 all but one, and so on; 0 threads cannot run.
_CONSTRAINTS = {
    "method": [Options(METHODS)],
    "n_jobs": [Interval(Integral, 1, None), Interval(Integral, None, -1), None],
}


def nearest_neighbours(
    Z: np.ndarray, k: int, *, method: str = "auto", n_jobs: int | None = None
) -> Neighbours:
    """Each row's ``k`` nearest other rows under the Euclidean distance.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Finite numeric rows (already scaled as the caller wants distances measured).
    k : int
        Neighbours per row, ``1 <= k < n``.
    method : {"auto", "exact", "approximate"}
        ``"auto"`` is exact up to :data:`EXACT_MAX_ROWS` rows and approximate above.
    n_jobs : int, optional
        Threads; all cores by default.

    Examples
    --------
    >>> Z = np.array([[0.0], [1.0], [3.0], [3.0]])
    >>> nb = nearest_neighbours(Z, 1)
    >>> nb.indices[:, 0].tolist(), nb.distances[:, 0].tolist()
    ([1, 0, 3, 2], [1.0, 1.0, 0.0, 0.0])
    """
    check_params(_CONSTRAINTS, {"method": method, "n_jobs": n_jobs})
    n = Z.shape[0]
    if method == "auto":
        method = "exact" if n <= EXACT_MAX_ROWS else "approximate"
    threads = _threads(n_jobs)
    if method == "exact" or n <= k + 1:
        candidates = _exact_candidates(Z, k, threads)
    else:
        candidates = _ivf_candidates(Z, k, threads)
    distances, indices = _exact_distances(Z, candidates, k)
    short = np.flatnonzero(~np.isfinite(distances[:, -1]))
    if short.size:  # the index found too few rows for these: ask exactly
        repaired = _exact_candidates_of(Z, short, k, threads)
        distances[short], indices[short] = _exact_distances(Z, repaired, k, rows=short)
    return Neighbours(distances, indices, method)


def _threads(n_jobs: int | None) -> int:
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return cores
    return int(n_jobs) if n_jobs > 0 else max(1, cores + 1 + int(n_jobs))


def _exact_candidates(Z: np.ndarray, k: int, threads: int) -> np.ndarray:
    return _exact_candidates_of(Z, None, k, threads)


def _exact_candidates_of(Z: np.ndarray, rows: Any, k: int, threads: int) -> np.ndarray:
    # kneighbors works in row batches, so no (n, n) distance matrix is ever held.
    nn = NearestNeighbors(n_neighbors=min(k + 1, Z.shape[0]), n_jobs=threads).fit(Z)
    return nn.kneighbors(Z if rows is None else Z[rows], return_distance=False)


def _ivf_candidates(Z: np.ndarray, k: int, threads: int) -> np.ndarray:
    faiss = _import_faiss()
    n, d = Z.shape
    data = np.ascontiguousarray(Z, dtype=np.float32)
    n_cells = max(1, min(int(4 * math.sqrt(n)), n // TRAIN_PER_CELL))
    quantizer = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFFlat(quantizer, d, n_cells)
    sample = np.random.default_rng(0).choice(n, min(n, TRAIN_PER_CELL * n_cells), replace=False)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        index.train(data[np.sort(sample)])
        index.add(data)
        index.nprobe = min(N_PROBE, n_cells)
        # One spare: among exact copies the row itself may be crowded out of its own list.
        _, found = index.search(data, k + 2)
    finally:
        faiss.omp_set_num_threads(before)
    return found


def _import_faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a declared dependency
        raise ConfigError(
            f"the approximate neighbour index needs faiss-cpu, which failed to import ({exc}); "
            "install it with `pip install faiss-cpu`, or pass method='exact' (slow above "
            f"{EXACT_MAX_ROWS:,} rows)."
        ) from None
    return faiss


def _exact_distances(
    Z: np.ndarray, candidates: np.ndarray, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Drop each row itself (or, when absent, its farthest candidate); measure in float64.

    ``candidates[i]`` are the candidate neighbours of row ``rows[i]`` (of row ``i`` by default).
    """
    of = np.arange(Z.shape[0]) if rows is None else np.asarray(rows)
    n = of.size
    distances = np.empty((n, k))
    indices = np.empty((n, k), dtype=np.intp)
    for start in range(0, n, BATCH_ROWS):
        batch = np.arange(start, min(n, start + BATCH_ROWS))
        who = of[batch][:, None]
        cand = candidates[batch]
        # An index with too few rows in reach pads with -1: push those past every real one.
        missing = cand < 0
        safe = np.where(missing, who, cand)
        diff = Z[safe] - Z[who]
        dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        dist[missing | (cand == who)] = np.inf
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        distances[batch] = np.take_along_axis(dist, order, axis=1)
        indices[batch] = np.take_along_axis(safe, order, axis=1)
    return distances, indices
