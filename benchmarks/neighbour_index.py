"""Which nearest-neighbour index the data checks use on large tables: speed and recall, measured.

Every candidate answers the same all-rows k-nearest-neighbour query (each row's ``k`` nearest
other rows) on the same standardized data; recall@k is measured against the exact answer on a
random sample of query rows. Two kinds of data bracket what users bring:

- ``mixture``: a Gaussian mixture in full dimension (intrinsic dimension = feature count), the
  hard case for any approximate index;
- ``manifold``: points on an 8-dimensional curved manifold embedded in the feature space plus
  small noise, the shape of learned embeddings.

Run in an environment with the candidates installed (``requirements/bench.txt``)::

    python benchmarks/neighbour_index.py --rows 100000 --features 50
    python benchmarks/neighbour_index.py --rows 1000000 --features 64 --only faiss_hnsw,usearch

Results go to ``benchmarks/results/neighbour_index.json`` (and ``.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

RESULTS = Path(__file__).resolve().parent / "results"
K = 10
RECALL_SAMPLE = 2000


def mixture(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    centres = rng.normal(0.0, 2.5, size=(10, d))
    X = centres[rng.integers(0, 10, size=n)] + rng.normal(size=(n, d))
    return X.astype(np.float32)


def manifold(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    latent = rng.normal(size=(n, 8))
    A = rng.normal(size=(8, d))
    B = rng.normal(size=(8, d))
    X = np.tanh(latent @ A / 3.0) + 0.3 * np.sin(latent @ B) + 0.01 * rng.normal(size=(n, d))
    return X.astype(np.float32)


def standardized(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return np.ascontiguousarray((X - X.mean(axis=0)) / sd, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# candidates: each returns the (n, K + 1) neighbour indices of every row, itself included


def sklearn_exact(X: np.ndarray) -> np.ndarray:
    return NearestNeighbors(n_neighbors=K + 1).fit(X).kneighbors(X, return_distance=False)


def faiss_flat(X: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatL2(X.shape[1])
    index.add(X)
    return index.search(X, K + 1)[1]


def faiss_hnsw(X: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexHNSWFlat(X.shape[1], 32)
    index.hnsw.efConstruction = 64
    index.add(X)
    index.hnsw.efSearch = 64
    return index.search(X, K + 1)[1]


def faiss_ivf(X: np.ndarray, nprobe: int = 16) -> np.ndarray:
    import faiss

    n_lists = int(4 * np.sqrt(X.shape[0]))
    quantizer = faiss.IndexFlatL2(X.shape[1])
    index = faiss.IndexIVFFlat(quantizer, X.shape[1], n_lists)
    rng = np.random.default_rng(0)
    train = X[rng.choice(X.shape[0], min(X.shape[0], 40 * n_lists), replace=False)]
    index.train(train)
    index.add(X)
    index.nprobe = nprobe
    return index.search(X, K + 1)[1]


def hnswlib_index(X: np.ndarray) -> np.ndarray:
    import hnswlib

    index = hnswlib.Index(space="l2", dim=X.shape[1])
    index.init_index(max_elements=X.shape[0], ef_construction=64, M=32, random_seed=0)
    index.add_items(X)
    index.set_ef(64)
    return index.knn_query(X, k=K + 1)[0].astype(np.int64)


def usearch_index(X: np.ndarray) -> np.ndarray:
    from usearch.index import Index

    index = Index(
        ndim=X.shape[1],
        metric="l2sq",
        dtype="f32",
        connectivity=32,
        expansion_add=64,
        expansion_search=64,
    )
    index.add(np.arange(X.shape[0]), X)
    return np.asarray(index.search(X, K + 1).keys, dtype=np.int64)


def pynndescent_index(X: np.ndarray) -> np.ndarray:
    from pynndescent import NNDescent

    return NNDescent(X, n_neighbors=K + 1, random_state=0, low_memory=True).neighbor_graph[0]


CANDIDATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sklearn_exact": sklearn_exact,
    "faiss_flat": faiss_flat,
    "faiss_hnsw": faiss_hnsw,
    "faiss_ivf": faiss_ivf,
    "faiss_ivf64": lambda X: faiss_ivf(X, nprobe=64),
    "hnswlib": hnswlib_index,
    "usearch": usearch_index,
    "pynndescent": pynndescent_index,
}


def exact_neighbours(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The exact K + 1 nearest rows (the row itself included) of the sample rows."""
    nn = NearestNeighbors(n_neighbors=K + 1, algorithm="brute").fit(X)
    return nn.kneighbors(X[rows], return_distance=False)


def _others(found: np.ndarray, row: int) -> list[int]:
    return [int(j) for j in found if j != row and j >= 0][:K]


def recall(found: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> float:
    """Share of the exact K neighbours (the row itself left out) that the index found."""
    hits = 0
    for got, want, row in zip(found[rows], truth, rows, strict=True):
        hits += len(set(_others(got, row)) & set(_others(want, row)))
    return hits / (K * rows.size)


def distance_ratios(
    X: np.ndarray, found: np.ndarray, truth: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Per sample row: (mean distance to the K found) / (mean distance to the exact K).

    What the outlier score reads: 1.0 when the index is exact, above 1 when it misses neighbours.
    """
    ratios = []
    for got, want, row in zip(found[rows], truth, rows, strict=True):
        d_got = np.linalg.norm(X[_others(got, row)] - X[row], axis=1).mean()
        d_want = np.linalg.norm(X[_others(want, row)] - X[row], axis=1).mean()
        ratios.append(d_got / d_want)
    return np.asarray(ratios)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, X: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    fn = CANDIDATES[name]
    if name == "pynndescent":  # the first call compiles with numba: not part of the query
        fn(X[:2000])
    t0 = time.perf_counter()
    try:
        found = fn(X)
    except ImportError as exc:
        return {"candidate": name, "error": f"not installed ({exc})"}
    seconds = time.perf_counter() - t0
    ratios = distance_ratios(X, found, truth, rows)
    return {
        "candidate": name,
        "seconds": seconds,
        "recall_at_10": recall(found, truth, rows),
        "distance_ratio": float(ratios.mean()),
        "distance_ratio_p99": float(np.percentile(ratios, 99)),
        "distance_ratio_max": float(ratios.max()),
        "peak_rss_mb_so_far": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--data", default="mixture,manifold")
    parser.add_argument("--only", default=",".join(CANDIDATES))
    parser.add_argument("--out", default=str(RESULTS / "neighbour_index.json"))
    args = parser.parse_args(argv)
    results = []
    for kind in args.data.split(","):
        rng = np.random.default_rng(0)
        X = standardized(
            {"mixture": mixture, "manifold": manifold}[kind](rng, args.rows, args.features)
        )
        rows = np.random.default_rng(1).choice(args.rows, RECALL_SAMPLE, replace=False)
        truth = exact_neighbours(X, rows)
        for name in args.only.split(","):
            print(f"{kind} {args.rows} x {args.features}: {name}", file=sys.stderr, flush=True)
            rec = measure(name, X, truth, rows)
            rec.update(data=kind, rows=args.rows, features=args.features)
            print(f"  {rec}", file=sys.stderr, flush=True)
            results.append(rec)
    out = {
        "results": results,
        "k": K,
        "recall_sample": RECALL_SAMPLE,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1min_at_end": os.getloadavg()[0],
        },
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
