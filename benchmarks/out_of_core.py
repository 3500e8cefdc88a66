"""Out-of-core benchmark: find_label_issues on a pred_probs .npy read from disk in chunks.

    python benchmarks/out_of_core.py                  # 20,000,000 × 10 float32 (0.8 GB), ~5 min
    python benchmarks/out_of_core.py --rows 50000000  # 2 GB
    python benchmarks/out_of_core.py --quick          # 2,000,000 rows, about a minute
    python benchmarks/out_of_core.py --keep /tmp/ooc  # keep the generated files, reuse them later

labelwise (the file's path, ``memory_limit="1GB"``) and cleanlab's batched mode
(``find_label_issues_batched`` on ``np.load(path, mmap_mode="r")``) each run in a child process
whose memory the parent samples every 50 ms, three times in a row. So do labelwise's other paths
over the same rows: the array loaded whole (in memory) and a Dask array over the memory-mapped
file (threads). The ceiling is a plain ``np.load(path).sum()`` of the same file, in a child too:
each path's throughput is the file's bytes over its wall time, and its share of the ceiling is
the ceiling's time over its own. On a 2,000,000-row prefix, small enough for memory, the chunked
answers are compared with both tools' in-memory ones.

Writes benchmarks/results/out_of_core.json and OUT_OF_CORE.md (a smaller run writes *.quick.*
files instead, so it never overwrites the full-size figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.array
import numpy as np
import psutil
from cleanlab.experimental.label_issues_batched import find_label_issues_batched

import labelwise as lw
from measure import source_digest
from reference import cleanlab_mask
from report import Table, _secs, _shape, _yes, about, save
from run import RESULTS, _environment
from speed import DEFAULT_METHOD, SEED, _log
from synthetic import make_inputs

FULL_ROWS = 20_000_000
QUICK_ROWS = 2_000_000
N_CLASSES = 10
#: Rows generated and written at a time: about 40 MB of float32 plus make_inputs' temporaries.
BLOCK_ROWS = 1_000_000
#: Rows compared with the in-memory answers (loaded whole: 80 MB of float32).
PREFIX_ROWS = 2_000_000
MEMORY_LIMIT = "1GB"
#: cleanlab's default is 10,000; its docs say to use the largest the memory allows, and beyond
#: 100,000 rows it gains little (4 MB a batch here).
BATCH_SIZE = 100_000
#: Below this many rows a chunk, labelwise's per-chunk Python work dominates: 1-row chunks ran
#: at under a thousand rows a second, hours for this file, so such a run is not attempted.
MIN_CHUNK_ROWS = 1_000
POLL_S = 0.05
#: Runs of each call (and of the ceiling); the table shows the best and the worst.
REPEATS = 3
SOURCE_AT_IMPORT = source_digest()


def _inputs(folder: Path, rows: int) -> tuple[Path, Path, float | None]:
    """(labels path, pred_probs path, seconds spent generating, or None when reused)."""
    labels, probs, stamp = folder / "labels.npy", folder / "pred_probs.npy", folder / "inputs.json"
    recipe = {"rows": rows, "k": N_CLASSES, "seed": SEED, "block_rows": BLOCK_ROWS}
    if stamp.exists() and json.loads(stamp.read_text()) == recipe:
        return labels, probs, None
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    _write_blocks(labels, probs, rows)
    stamp.write_text(json.dumps(recipe))  # last, so that a half-written pair is never reused
    return labels, probs, time.perf_counter() - started


def _write_blocks(labels_path: Path, probs_path: Path, rows: int) -> None:
    """Fill both files one block at a time, so that generation never holds the whole matrix.

    Block b is ``make_inputs(rows, K, seed=SEED + b)``, the recipe of the other benchmarks; block 0
    is the very 1,000,000 × 10 input of speed.py.
    """
    shape = (rows, N_CLASSES)
    probs = np.lib.format.open_memmap(probs_path, mode="w+", dtype=np.float32, shape=shape)
    labels = np.lib.format.open_memmap(labels_path, mode="w+", dtype=np.uint8, shape=(rows,))
    for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
        stop = min(start + BLOCK_ROWS, rows)
        labels[start:stop], probs[start:stop] = make_inputs(stop - start, N_CLASSES, SEED + block)
    probs.flush()
    labels.flush()


@contextlib.contextmanager
def _workdir(keep: Path | None, rows: int) -> Iterator[Path]:
    """A temporary folder on /tmp, removed afterwards; or a kept one, reused by later runs."""
    if keep is not None:
        folder = keep / f"{rows}x{N_CLASSES}"
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="labelwise-out-of-core-", dir="/tmp") as tmp:
        yield Path(tmp)


#: The child: load, call the tool once under a timer, print one JSON line. Imports, loading and a
#: warm-up call of either tool on the first rows come before the timer, so wall_s is the call
#: alone: a new process's one-off costs (labelwise loads its compiled kernels from numba's cache
#: on its first call) are measured apart, by benchmarks/speed.py.
_CHILD = """
import json, resource, sys, time
import numpy as np
{imports}
job = json.loads(sys.argv[1])
n = job["rows"]
labels = np.load(job["labels"])[:n]
mapped = np.load(job["pred_probs"], mmap_mode="r")[:n]
# labelwise gets the path itself when it reads the whole file.
source = job["pred_probs"] if job["whole"] else mapped
if job["mode"] == "memory":
    source = np.load(job["pred_probs"])[:n]
elif job["mode"] == "dask":
    import dask.array
    source = dask.array.from_array(mapped, chunks=(job["chunk_rows"], -1))
{warmup}
start = time.perf_counter()
mask = {call}
wall_s = time.perf_counter() - start
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
flagged = int(mask.sum()) if np.ndim(mask) else None
print(json.dumps({{"wall_s": wall_s, "flagged": flagged, "kernel_max_rss_bytes": maxrss}}))
"""

#: The same path on the first rows: a memory-mapped slice is read in chunks, as the file is.
_WARMUP = """
head = {"memory": np.array(mapped[:20000]), "file": mapped[:20000]}.get(job["mode"])
if head is None:
    head = dask.array.from_array(mapped[:20000], chunks=(10000, -1))
labelwise.find_label_issues(labels[:20000], head)
"""

_CALLS = {
    "ceiling": ("", "np.load(job['pred_probs']).sum()", ""),
    "memory-mapped sum": ("", "np.load(job['pred_probs'], mmap_mode='r').sum()", ""),
    "labelwise": (
        "import labelwise",
        "labelwise.find_label_issues(labels, source, **job['options']).mask",
        _WARMUP,
    ),
    "cleanlab batched": (
        "from cleanlab.experimental.label_issues_batched import find_label_issues_batched",
        "find_label_issues_batched("
        "labels=labels, pred_probs=mapped, return_mask=True, verbose=False, **job['options'])",
        "find_label_issues_batched(labels=labels[:20000], pred_probs=mapped[:20000], "
        "return_mask=True, verbose=False)",
    ),
}


@dataclass
class _Peaks:
    """The largest memory samples of a process."""

    rss: int = 0
    #: RSS less its file-backed and shared pages: what the process allocated itself. The pages of
    #: a memory-mapped file count in RSS once touched, but they are page cache the kernel can drop.
    rss_less_shared: int = 0

    def sample(self, process: psutil.Process) -> None:
        mem = process.memory_info()
        self.rss = max(self.rss, mem.rss)
        self.rss_less_shared = max(self.rss_less_shared, mem.rss - mem.shared)


def _poll(proc: subprocess.Popen, timeout_s: float) -> _Peaks | None:
    """Sample the child's memory until it ends; None if it ran past ``timeout_s`` (killed)."""
    process, peaks = psutil.Process(proc.pid), _Peaks()
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            return None
        with contextlib.suppress(psutil.NoSuchProcess):  # it may end between poll and sample
            peaks.sample(process)
        time.sleep(POLL_S)
    return peaks


def _run_child(tool: str, job: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    imports, call, warmup = _CALLS[tool]
    code = _CHILD.format(imports=imports, call=call, warmup=warmup)
    source = source_digest()  # the child imports labelwise as it is now
    args = [sys.executable, "-c", code, json.dumps(job)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    peaks = _poll(proc, timeout_s)
    out, _ = proc.communicate()
    if peaks is None:
        return {"error": f"killed after {timeout_s:.0f} s"}
    if proc.returncode != 0:
        return {"error": f"exit status {proc.returncode}"}
    return {
        **json.loads(out.splitlines()[-1]),
        "labelwise_source_sha256": source,
        "peak_rss_bytes": peaks.rss,
        "peak_rss_less_shared_bytes": peaks.rss_less_shared,
    }


def _measured(
    tool: str, files: dict, rows: int, options: dict, timeout_s: float, mode: str = "file"
) -> dict:
    """:data:`REPEATS` runs, the best kept with every wall time; on a timeout, one run on a
    fifth of the rows (the largest prefix that fits)."""
    job = {**files, "rows": rows, "whole": rows == files["total_rows"], "options": options}
    job |= {"mode": mode, "chunk_rows": _chunk_rows(rows, MEMORY_LIMIT)}
    runs = []
    for _ in range(REPEATS):
        _log(f"{tool} ({mode}) on {rows:,} rows, {options}")
        runs.append(_run_child(tool, job, timeout_s))
        if "error" in runs[-1]:
            break
    failed = next((run for run in runs if "error" in run), None)
    if failed is not None and rows >= 5 * PREFIX_ROWS:
        note = f"{rows:,} rows: {failed['error']}; rerun on a prefix"
        return {**_measured(tool, files, rows // 5, options, timeout_s, mode), "note": note}
    if failed is not None:
        return {"tool": tool, "mode": mode, "rows": rows, "options": options, **failed}
    best = min(runs, key=lambda run: run["wall_s"])
    walls = [run["wall_s"] for run in runs]
    return {"tool": tool, "mode": mode, "rows": rows, "options": options, **best, "walls": walls}


def _chunk_rows(rows: int, limit: str) -> int | None:
    """The chunk size labelwise picks under ``limit``; None where its private helper moved."""
    try:
        from labelwise.issues._stream import chunk_rows_for, parse_bytes
    except ImportError:
        return None
    return chunk_rows_for(parse_bytes(limit), rows, N_CLASSES)


def _labelwise_plan(rows: int, limit: str) -> list[tuple[int, str, str]]:
    """(rows, memory_limit, note) of each labelwise run.

    When labelwise's per-row state alone outgrows ``limit`` it falls back to tiny chunks, hours of
    work: then measure ``limit`` on the largest prefix (in tenths of the file) that it can keep,
    and the whole file under the smallest budget, in 0.5 GB steps, that it can keep.
    """
    chunk = _chunk_rows(rows, limit)
    if chunk is None or chunk >= MIN_CHUNK_ROWS:
        return [(rows, limit, "")]
    why = f"on all {rows:,} rows, memory_limit={limit} gives {chunk:,}-row chunks (not run)"
    step = max(rows // 10, 1)
    prefix = next((n for n in range(rows - step, 0, -step) if _feasible(n, limit)), None)
    budgets = (f"{half / 2:g}GB" for half in range(3, 2000))
    budget = next(b for b in budgets if _feasible(rows, b))
    plan = [(prefix, limit, f"{why}: largest prefix it can keep")] if prefix else []
    return [*plan, (rows, budget, f"{why}: smallest budget it can keep")]


def _feasible(rows: int, limit: str) -> bool:
    return (_chunk_rows(rows, limit) or 0) >= MIN_CHUNK_ROWS


def _runs(files: dict, rows: int, timeout_s: float) -> list[dict]:
    runs = [_measured("ceiling", files, rows, {}, timeout_s)]
    runs.append(_measured("memory-mapped sum", files, rows, {}, timeout_s))
    for n, limit, note in _labelwise_plan(rows, MEMORY_LIMIT):
        run = _measured("labelwise", files, n, {"memory_limit": limit}, timeout_s)
        notes = "; ".join(filter(None, [note, run.get("note")]))
        runs.append({**run, "chunk_rows": _chunk_rows(run["rows"], limit), "note": notes})
    runs.append(_measured("labelwise", files, rows, {}, timeout_s, mode="memory"))
    dask = _measured("labelwise", files, rows, {}, timeout_s, mode="dask")
    runs.append({**dask, "chunk_rows": _chunk_rows(rows, MEMORY_LIMIT)})
    runs.append(_measured("cleanlab batched", files, rows, {"batch_size": BATCH_SIZE}, timeout_s))
    return runs


#: (a, b) mask pairs compared on the prefix.
_PAIRS = (
    ("labelwise chunked, 1GB", "labelwise in memory"),
    ("labelwise chunked, 20 chunks", "labelwise in memory"),
    ("labelwise Dask, 20 chunks", "labelwise in memory"),
    ("labelwise in memory", "cleanlab in memory"),
    ("labelwise chunked, 1GB", "cleanlab in memory"),
    ("labelwise chunked, 1GB, low_self_confidence", "cleanlab in memory, low_self_confidence"),
    ("cleanlab batched", "cleanlab in memory"),
    ("cleanlab batched", "cleanlab in memory, low_self_confidence"),
    ("cleanlab batched, batch_size=10,000", "cleanlab in memory, low_self_confidence"),
)


def _prefix_masks(labels: np.ndarray, probs: np.ndarray, path: Path) -> dict[str, np.ndarray]:
    """Every tool and mode on the same rows; default method unless named."""
    lsc = "low_self_confidence"  # what cleanlab's batched mode approximates, by its docstring

    def batched(batch_size: int) -> np.ndarray:
        mapped = np.load(path, mmap_mode="r")
        return find_label_issues_batched(
            labels=labels, pred_probs=mapped, batch_size=batch_size, return_mask=True, verbose=False
        )

    chunked = {"memory_limit": MEMORY_LIMIT}
    return {
        "labelwise in memory": lw.find_label_issues(labels, probs).mask,
        "labelwise chunked, 1GB": lw.find_label_issues(labels, path, **chunked).mask,
        # 1GB holds 2,000,000 rows in one chunk: 20 chunks exercise the merging too.
        "labelwise chunked, 20 chunks": lw.find_label_issues(
            labels, path, chunk_rows=-(-labels.size // 20)
        ).mask,
        "labelwise chunked, 1GB, low_self_confidence": lw.find_label_issues(
            labels, path, method=lsc, **chunked
        ).mask,
        "labelwise Dask, 20 chunks": lw.find_label_issues(
            labels, dask.array.from_array(probs, chunks=(-(-labels.size // 20), -1))
        ).mask,
        "cleanlab in memory": cleanlab_mask(labels, probs, DEFAULT_METHOD),
        "cleanlab in memory, low_self_confidence": cleanlab_mask(labels, probs, lsc),
        "cleanlab batched": batched(BATCH_SIZE),
        "cleanlab batched, batch_size=10,000": batched(10_000),  # its default
    }


def _prefix_checks(folder: Path, files: dict, rows: int) -> dict[str, Any]:
    """Load the first ``rows`` rows, write them to their own .npy, compare every answer."""
    _log(f"agreement on the first {rows:,} rows")
    labels = np.array(np.load(files["labels"], mmap_mode="r")[:rows])
    probs = np.array(np.load(files["pred_probs"], mmap_mode="r")[:rows])
    path = folder / "prefix_pred_probs.npy"
    np.save(path, probs)
    masks = _prefix_masks(labels, probs, path)
    pairs = [
        {
            "a": a,
            "b": b,
            "identical": bool(np.array_equal(masks[a], masks[b])),
            "rows_differ": int(np.count_nonzero(masks[a] != masks[b])),
        }
        for a, b in _PAIRS
    ]
    flagged = {name: int(mask.sum()) for name, mask in masks.items()}
    return {
        "rows": rows,
        "chunk_rows_1GB": _chunk_rows(rows, MEMORY_LIMIT),
        "flagged": flagged,
        "comparisons": pairs,
    }


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"  # decimal, like the "1GB" budget it is read against


def _setting(run: dict) -> str:
    options = ", ".join(
        f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in run["options"].items()
    )
    chunk = run.get("chunk_rows")
    chunks = f" ({chunk:,}-row chunks)" if chunk and run.get("mode") != "memory" else ""
    return {"memory": "loaded whole", "dask": "Dask array, threads"}.get(
        run.get("mode"), options
    ) + chunks


def _best(results: dict[str, Any], tool: str) -> dict | None:
    return next((r for r in results["runs"] if r["tool"] == tool and "error" not in r), None)


def _throughput(run: dict, results: dict[str, Any]) -> tuple[float, float | None]:
    """(GB/s of the best run, its share of the ceiling's) over the rows it read."""
    nbytes = run["rows"] * N_CLASSES * 4
    ceiling = _best(results, "ceiling")
    share = None
    if ceiling is not None and ceiling["rows"] == run["rows"]:
        share = ceiling["wall_s"] / run["wall_s"]
    return nbytes / run["wall_s"] / 1e9, share


def _run_row(run: dict, results: dict[str, Any]) -> list[str]:
    head = [run["tool"], f"{run['rows']:,}", _setting(run)]
    if "error" in run:
        return head + [run["error"]] + ["–"] * 7
    gbps, share = _throughput(run, results)
    batched = _best(results, "cleanlab batched")
    faster = "–"
    if run["tool"] == "labelwise" and batched is not None and batched["rows"] == run["rows"]:
        faster = f"{batched['wall_s'] / run['wall_s']:.1f}×"
    walls = run.get("walls", [run["wall_s"]])
    return head + [
        f"{_secs(min(walls))} ({_secs(max(walls))})",
        f"{gbps:.2f}",
        "–" if share is None else f"{share:.0%}",
        faster,
        _gb(run["peak_rss_bytes"]),
        _gb(run["peak_rss_less_shared_bytes"]),
        "–" if run["flagged"] is None else f"{run['flagged']:,}",
    ]


def runs_table(results: dict[str, Any]) -> Table:
    headers = ["tool", "rows", "setting", "wall, best (worst)", "GB/s", "of ceiling"]
    headers += ["faster than cleanlab batched", "peak RSS", "peak RSS − shared", "flagged"]
    gen = results["generation_s"]
    notes = [
        f"pred_probs: {_shape(results['rows'], N_CLASSES)} float32 .npy "
        f"({_gb(results['pred_probs_nbytes'])}), labels uint8; generated in blocks "
        + (f"in {_secs(gen)}." if gen is not None else "earlier (reused with --keep).")
        + f" Each call runs {REPEATS} times, each in its own process, with the file in the page "
        "cache (warm), after a warm-up call of the same tool on the first 20,000 rows. wall: the "
        "call alone (loading the labels, and for 'loaded whole' the array, come before the "
        "timer, so that row's GB/s is the engine's on data already in memory). ceiling: "
        "np.load(path).sum(); memory-mapped sum: np.load(path, mmap_mode='r').sum(), for "
        "scale: no copy of the file and no fresh memory, "
        "a tighter bound for the paths that read the file memory-mapped. "
        "GB/s: the file's bytes over the best wall; of ceiling: the ceiling's best wall over "
        "this one's. Peak RSS and peak RSS − shared (psutil, every 50 ms): the first counts the "
        "touched pages of the memory-mapped file, the second leaves out file-backed pages and is "
        "what a memory_limit is read against.",
        *[
            f"{run['tool']}, {run['rows']:,} rows: {run['note']}."
            for run in results["runs"]
            if run.get("note")
        ],
    ]
    return Table(
        "Out of core: default method, pred_probs from disk",
        headers,
        [_run_row(run, results) for run in results["runs"]],
        notes,
    )


def prefix_table(prefix: dict[str, Any]) -> Table:
    flagged = prefix["flagged"]
    rows = [
        [
            c["a"],
            c["b"],
            _yes(c["identical"]),
            f"{c['rows_differ']:,}",
            f"{flagged[c['a']]:,}",
            f"{flagged[c['b']]:,}",
        ]
        for c in prefix["comparisons"]
    ]
    headers = ["A", "B", "identical", "rows differ", "A flagged", "B flagged"]
    notes = [
        "In memory: the prefix loaded whole. Chunked: labelwise on the prefix's own .npy. cleanlab "
        f"batched: find_label_issues_batched(batch_size={BATCH_SIZE:,} unless named) on the "
        "memory-mapped prefix. Method prune_by_noise_rate unless named."
    ]
    return Table(f"Agreement on the first {prefix['rows']:,} rows", headers, rows, notes)


def _sources_note(results: dict[str, Any]) -> str:
    """A warning when labelwise's source changed while the benchmark ran (edited meanwhile)."""
    seen = {results["labelwise_source_sha256"], results["environment"]["labelwise_source_sha256"]}
    seen |= {run["labelwise_source_sha256"] for run in results["runs"] if "error" not in run}
    if len(seen) == 1:
        return ""
    return f" labelwise's source changed during the run ({sorted(seen)}): rerun."


def as_markdown(results: dict[str, Any]) -> str:
    body = [runs_table(results).markdown(), prefix_table(results["prefix"]).markdown()]
    header = about(results) + _sources_note(results)
    return "\n\n".join(["## Out of core", header, *body]) + "\n"


def as_text(results: dict[str, Any]) -> str:
    tables = [runs_table(results).text(), prefix_table(results["prefix"]).text()]
    note = _sources_note(results).strip()
    return "\n\n".join([*tables, note] if note else tables)


def _measure(folder: Path, rows: int, timeout_s: float) -> dict[str, Any]:
    _log(f"writing {rows:,} x {N_CLASSES} float32 pred_probs to {folder}")
    labels_path, probs_path, generation_s = _inputs(folder, rows)
    files = {"labels": str(labels_path), "pred_probs": str(probs_path), "total_rows": rows}
    return {
        # This process imported labelwise at its start: the prefix checks measure that source.
        "labelwise_source_sha256": SOURCE_AT_IMPORT,
        "rows": rows,
        "k": N_CLASSES,
        "seed": SEED,
        "pred_probs_nbytes": probs_path.stat().st_size,
        "generation_s": generation_s,
        "runs": _runs(files, rows, timeout_s),
        "prefix": _prefix_checks(folder, files, min(PREFIX_ROWS, rows)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows of pred_probs")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder; reuse them")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per call at most")
    args = parser.parse_args(argv)
    rows = QUICK_ROWS if args.quick else args.rows

    started = time.perf_counter()
    with _workdir(args.keep, rows) as folder:
        results = _measure(folder, rows, args.timeout)
    results["environment"] = _environment()
    results["command"] = "python benchmarks/out_of_core.py" + (
        "" if rows == FULL_ROWS else " --quick" if args.quick else f" --rows {rows}"
    )

    suffix = "" if rows == FULL_ROWS else ".quick"
    json_path, md_path = RESULTS / f"out_of_core{suffix}.json", RESULTS / f"OUT_OF_CORE{suffix}.md"
    save(results, json_path, md_path, started, render=(as_text, as_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
