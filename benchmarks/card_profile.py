"""The dataset card on a large mixed table, beside ydata-profiling's minimal report.

    python benchmarks/card_profile.py                     # 1,000,000 x 30, a few minutes
    python benchmarks/card_profile.py --quick             # 100,000 x 30, a fast check
    python benchmarks/card_profile.py --ydata-python /tmp/ydata-venv/bin/python

Each measurement runs in a fresh subprocess that reads the same Parquet file, so peak memory
(the process's maximum resident set, ``ru_maxrss``) is comparable: the table itself is included,
and the resident size right after reading it is reported beside the peak. Timed:

- ``card profile``: :func:`labelwise.card.build` with ``label_health=False`` (metadata,
  variables, statistics, correlations, pair plots, probabilistic model, duplicates and
  near-duplicates, splits and leakage, alerts), then ``to_html``;
- ``card + label health (pred_probs)``: the same with the label-health section computed from
  given out-of-sample probabilities (no cross-validation);
- ``default audit``: the card with label health from labelwise's default cross-validated model
  on the first ``--cv-rows`` rows; its cross-validation time and model are reported apart;
- ``ydata-profiling minimal``: ``ProfileReport(df, minimal=True).to_html()``, run by
  ``--ydata-python`` (ydata-profiling needs pandas < 3, so it lives in its own environment);
  skipped with a message when that interpreter cannot import it.

Writes benchmarks/results/card_profile.json and CARD_PROFILE.md (``--quick``: *.quick.*).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SRC = HERE.parent / "src"
LABEL = "label"
SEED = 0
CLASSES = np.array(["cat", "dog", "bird", "fish", "frog"])


def make_table(n: int, seed: int = SEED) -> tuple[pd.DataFrame, np.ndarray]:
    """30 columns: 14 float, 6 integer, 6 text, 1 boolean, 1 date, a split and the label.

    Returns the table and out-of-sample-like probabilities for the label (10% of rows given a
    wrong label on purpose, probabilities pointing to the true class).
    """
    rng = np.random.default_rng(seed)
    true = rng.integers(0, CLASSES.size, n)
    cols: dict[str, Any] = {}
    for i in range(10):
        cols[f"num_{i}"] = rng.normal(true * (i % 3), 1.0 + i, n)
    cols["num_lognormal"] = rng.lognormal(0, 2, n)
    cols["num_missing"] = np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n))
    cols["num_inf"] = np.where(rng.random(n) < 0.001, np.inf, rng.normal(size=n))
    cols["num_rounded"] = np.round(rng.normal(size=n), 1)
    for i in range(5):
        cols[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), n)
    cols["int_zeros"] = np.where(rng.random(n) < 0.7, 0, rng.integers(1, 100, n))
    for i, k in enumerate((3, 12, 50, 300, 5000)):
        cols[f"cat_{i}"] = np.char.add("v", rng.integers(0, k, n).astype(str)).astype(object)
    cols["cat_constant"] = np.full(n, "same", dtype=object)
    cols["flag"] = rng.random(n) < 0.2
    cols["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), "D")
    cols["split"] = rng.choice(
        np.array(["train", "valid", "test"], dtype=object), n, p=[0.8, 0.1, 0.1]
    )
    given = true.copy()
    flip = rng.random(n) < 0.1
    given[flip] = (true[flip] + rng.integers(1, CLASSES.size, flip.sum())) % CLASSES.size
    cols[LABEL] = CLASSES[given].astype(object)
    table = pd.DataFrame(cols)
    probs = rng.dirichlet(np.full(CLASSES.size, 0.5), n)
    probs[np.arange(n), true] += 1.5
    probs /= probs.sum(axis=1, keepdims=True)
    # Columns in sorted class order, as build() expects.
    order = np.argsort(CLASSES)
    return table, probs[:, order].astype(np.float32)


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Sampler:
    """The largest resident size seen while a block runs, sampled every 5 ms in a thread.

    ru_maxrss alone would report the peak of reading the Parquet file, not of the report.
    """

    def __enter__(self) -> _Sampler:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


# --- workers: each runs in its own process and prints one JSON line --------------------------


def _worker(kind: str, folder: Path, cv_rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    table = pd.read_parquet(folder / "table.parquet")
    out: dict[str, Any] = {"read_s": time.perf_counter() - started, "rss_after_read": _rss()}
    if kind == "ydata":
        import ydata_profiling

        with _Sampler() as memory:
            started = time.perf_counter()
            report = ydata_profiling.ProfileReport(table, minimal=True, progress_bar=False)
            html = report.to_html()
            seconds = time.perf_counter() - started
        out.update(seconds=seconds, html_bytes=len(html), peak_rss_during=memory.peak)
        out["version"] = ydata_profiling.__version__
    else:
        from labelwise.card import build

        options: dict[str, Any] = {"label_health": False}
        if kind == "health":
            options = {"pred_probs": np.load(folder / "pred_probs.npy")}
        if kind == "audit":
            table = table.iloc[:cv_rows]
            options = {}
        with _Sampler() as memory:
            started = time.perf_counter()
            card = build(table, LABEL, **options)
            built = time.perf_counter()
            html = card.to_html()
            seconds = time.perf_counter() - started
        out.update(
            seconds=seconds,
            peak_rss_during=memory.peak,
            build_s=built - started,
            html_s=time.perf_counter() - built,
            html_bytes=len(html),
            modules_s=card.timings,
            alerts=len(card.data["alerts"]),
            rows=len(table),
        )
        if card.label_health:
            health = card.label_health
            out["health"] = {
                k: health.get(k) for k in ("source", "model", "folds", "seed", "cv_seconds")
            }
            out["noise_rate"] = health["noise_rate"]
    out.update(peak_rss=_peak(), pandas=pd.__version__)
    return out


def _run(python: str, kind: str, folder: Path, cv_rows: int) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [python, __file__, "--worker", kind, "--data", str(folder), "--cv-rows", str(cv_rows)]
    print(f"  {kind} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _can_import(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


# --- the report ------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    package = SRC / "labelwise"
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    return {
        "labelwise_source_sha256": digest.hexdigest()[:12],
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus_logical": psutil.cpu_count(logical=True),
        "load_average_1min": os.getloadavg()[0],
    }


def _mib(n: int | None) -> str:
    return "–" if n is None else f"{n / 2**20:,.0f} MiB"


def _tables(results: dict[str, Any]) -> list[Any]:
    from report import Table

    runs, ydata = results["runs"], results["runs"].get("ydata")
    base = ydata["seconds"] if ydata else None
    names = {
        "profile": "labelwise card: profile modules",
        "health": "labelwise card + label health (given pred_probs)",
        "audit": f"labelwise card + default audit ({results['cv_rows']:,} rows)",
        "ydata": "ydata-profiling minimal",
    }
    rows = []
    for key, name in names.items():
        run = runs.get(key)
        if run is None:
            rows.append([name, "skipped", "–", "–", "–", "–"])
            continue
        speed = f"{base / run['seconds']:.1f}×" if base and key in ("profile", "health") else "–"
        rows.append(
            [
                name,
                f"{run['seconds']:.1f} s",
                speed,
                _mib(run["rss_after_read"]),
                _mib(run.get("peak_rss_during")),
                _mib(
                    peak - run["rss_after_read"] if (peak := run.get("peak_rss_during")) else None
                ),
            ]
        )
    notes = [
        f"Table: {results['rows']:,} rows × {results['columns']} columns (14 float, 6 integer, "
        "6 text, 1 boolean, 1 date, a split column, a 5-class label), read from Parquet in a fresh "
        "process per row; time covers building the report and rendering its HTML, not reading.",
        "Memory: resident size after reading the table, the largest resident size while the "
        "report was built and rendered (sampled every 5 ms), and the difference.",
    ]
    audit = runs.get("audit")
    if audit and audit.get("health"):
        h = audit["health"]
        notes.append(
            f"Default audit: {h['model']}, {h['folds']} folds, seed {h['seed']}: "
            f"cross-validation {h['cv_seconds']:.1f} s on {audit['rows']:,} rows"
            + (" (kept from the previous run)." if audit.get("from_previous_run") else ".")
        )
    if ydata:
        notes.append(f"ydata-profiling {ydata['version']} with pandas {ydata['pandas']}.")
    else:
        notes.append(f"ydata-profiling not measured: {results.get('ydata_skipped')}")
    profile = runs.get("profile")
    if profile:
        slow = sorted(profile["modules_s"].items(), key=lambda kv: -kv[1])[:4]
        notes.append("Slowest card modules: " + ", ".join(f"{k} {v:.2f} s" for k, v in slow) + ".")
    headers = ["report", "time", "faster than ydata", "RSS after read", "peak RSS", "peak extra"]
    return [Table("Dataset card vs ydata-profiling (minimal)", headers, rows, notes)]


def _text(results: dict[str, Any]) -> str:
    return "\n\n".join(t.text() for t in _tables(results))


def _markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    about = (
        f"labelwise source sha256 {env['labelwise_source_sha256']}, numpy {env['numpy']}, "
        f"Python {env['python']}, {env['cpus_logical']} logical CPUs ({env['machine']}, "
        f"1-minute load average {env['load_average_1min']:.1f} at the end). "
        f"Reproduce: `{results['command']}`."
    )
    return (
        "\n\n".join(["## Dataset card benchmark", about, *(t.markdown() for t in _tables(results))])
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, help="rows of the table (overrides --quick)")
    parser.add_argument("--cv-rows", type=int, default=100_000, help="rows of the default audit")
    parser.add_argument(
        "--ydata-python",
        default=os.environ.get("YDATA_PYTHON", sys.executable),
        help="a Python that can import ydata_profiling (default: $YDATA_PYTHON or this one)",
    )
    parser.add_argument("--skip", default="", help="comma-separated runs to skip")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, Path(args.data), args.cv_rows)))
        return 0

    sys.path.insert(0, str(HERE))
    from report import save

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    cv_rows = min(args.cv_rows, rows)
    started = time.perf_counter()
    skip = set(filter(None, args.skip.split(",")))
    suffix = ".quick" if rows < 1_000_000 else ""
    json_path = RESULTS / f"card_profile{suffix}.json"
    previous = json.loads(json_path.read_text()) if json_path.exists() else {}
    results: dict[str, Any] = {"rows": rows, "cv_rows": cv_rows, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"making a {rows:,}-row table ...", file=sys.stderr, flush=True)
        table, probs = make_table(rows)
        results["columns"] = table.shape[1]
        table.to_parquet(folder / "table.parquet")
        np.save(folder / "pred_probs.npy", probs)
        del table, probs
        for kind in ("profile", "health", "audit"):
            if kind not in skip:
                results["runs"][kind] = _run(sys.executable, kind, folder, cv_rows)
            elif previous.get("rows") == rows and previous["runs"].get(kind):
                # A skipped run keeps its figures from the last run of the same size.
                results["runs"][kind] = {**previous["runs"][kind], "from_previous_run": True}
        if "ydata" in skip:
            results["ydata_skipped"] = "skipped with --skip ydata"
        elif _can_import(args.ydata_python, "ydata_profiling"):
            results["runs"]["ydata"] = _run(args.ydata_python, "ydata", folder, cv_rows)
        else:
            results["ydata_skipped"] = (
                f"{args.ydata_python} cannot import ydata_profiling; install it in its own "
                "environment (it needs pandas < 3) and pass --ydata-python"
            )
            print(results["ydata_skipped"], file=sys.stderr)
    results["environment"] = _environment()
    results["command"] = "python benchmarks/card_profile.py" + (" --quick" if suffix else "")
    save(
        results,
        json_path,
        RESULTS / f"CARD_PROFILE{suffix}.md",
        started,
        render=(_text, _markdown),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
