"""The Dask backend against the in-memory path: identical masks, and the time each takes.

    python benchmarks/dask_backend.py            # 5,000,000 x 10 on a 2-worker LocalCluster
    python benchmarks/dask_backend.py --rows 500000

The cluster runs on this same machine (2 cores), so the ratio shows the cost of shipping the
passes to worker processes, not a speed-up: Dask is for data that does not fit one machine.
Writes benchmarks/results/dask_backend.json and DASK_BACKEND.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from distributed import Client, LocalCluster

import labelwise as lw
from labelwise.issues._dask import dask_array_from_npy
from measure import best_time
from report import Table
from synthetic import make_inputs

RESULTS = Path(__file__).resolve().parent / "results"


def run(rows: int, k: int, chunk_rows: int) -> dict:
    labels, pred_probs = make_inputs(rows, k)
    memory = best_time(lambda: lw.find_label_issues(labels, pred_probs))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pred_probs.npy"
        np.save(path, pred_probs)
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster),
        ):
            source = dask_array_from_npy(path, chunk_rows)
            start = time.perf_counter()
            on_dask = lw.find_label_issues(labels, source)
            dask_s = time.perf_counter() - start
    differ = int(np.count_nonzero(on_dask.mask != memory.result.mask))
    return {
        "rows": rows,
        "classes": k,
        "chunk_rows": chunk_rows,
        "in_memory_s": memory.best_s,
        "dask_s": dask_s,
        "identical": differ == 0 and np.array_equal(on_dask.indices, memory.result.indices),
        "rows_differ": differ,
        "flagged": int(on_dask.num_issues),
    }


def table(result: dict) -> Table:
    row = [
        f"{result['rows']:,} × {result['classes']}",
        f"{result['chunk_rows']:,}",
        f"{result['in_memory_s']:.2f} s",
        f"{result['dask_s']:.2f} s",
        f"{result['dask_s'] / result['in_memory_s']:.1f}×",
        "yes" if result["identical"] else "no",
        str(result["rows_differ"]),
        f"{result['flagged']:,}",
    ]
    return Table(
        title="Dask backend (2-worker LocalCluster) vs in memory, default method",
        headers=["pred_probs", "rows per task", "in memory", "Dask", "time ratio", "identical"]
        + ["rows differ", "flagged"],
        rows=[row],
        notes=[
            "Dask reads the .npy from the page cache, one task per chunk, each worker memory-"
            "mapping the file; in memory: best of 3. Same machine (2 cores) for both."
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    result = run(args.rows, args.classes, args.chunk_rows)
    out = table(result)
    print(out.text())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dask_backend.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "DASK_BACKEND.md").write_text("## Dask backend\n\n" + out.markdown() + "\n")


if __name__ == "__main__":
    main()
