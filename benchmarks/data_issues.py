"""Benchmark labelwise's data-issue checks against cleanlab 2.9's Datalab on the same data.

    python benchmarks/data_issues.py                 # planted issues (3 seeds) and speed
    python benchmarks/data_issues.py --quick         # small tables, 1 seed, a fast check
    python benchmarks/data_issues.py --speed-rows 20000 50000   # the speed table's sizes

Planted issues: each issue is planted alone in its own copy of a clean synthetic table, so the
truth is known; both tools get the same raw feature matrix (neither is standardized here) and
the same cross-validated pred_probs. Speed: both tools' all-checks call on one large table.

Writes benchmarks/results/data_issues.json and data_issues.md (``--quick`` writes
``*.quick.*`` instead). Datalab needs the ``datasets`` package (pinned in
requirements/bench.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import cleanlab
import numpy as np
import pandas as pd
import psutil
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

import labelwise
from labelwise.issues import find_nulls
from labelwise.issues.data_issues import ISSUE_TYPES
from labelwise.neighbours import EXACT_MAX_ROWS

RESULTS = Path(__file__).resolve().parent / "results"
TYPES = ISSUE_TYPES
TOOLS = ("labelwise", "labelwise (approx. index)", "Datalab")
#: What the tables cannot say on their own (written under them).
NOTES = (
    "Both tools run with their defaults. labelwise standardizes the features and uses Euclidean "
    "distances; Datalab uses the raw features with the cosine metric (its default above 3 "
    "features). The planted features all have a similar scale, so standardizing matters little "
    "here; the cosine metric does matter for outliers, since a row moved far along a random "
    "direction need not change its angle much.",
    "underperforming_group: Datalab flags a cluster only when its accuracy ratio is below its "
    "default threshold of 0.1, and flagged nothing on any seed; its scores still rank the "
    "region (AP column). labelwise's KMeans groups do not follow the planted region exactly, "
    "hence recall and precision slightly below 1 on one seed.",
    "null: both tools flag rows missing in every feature; labelwise also flags columns (empty, "
    "at least 95% missing, constant), which Datalab reports only as information (per-column "
    "missing shares) and does not flag. Datalab does not look at constant columns.",
    "non_iid: labelwise's p-value comes from 200 permutations, so its floor is 1/201 = 0.00498; "
    "Datalab's comes from 25 permutations and a kernel density estimate, so it can be 0.",
    "Speed: one run per tool and size on a shared 2-core machine; see the load average above. "
    "Datalab's peak RSS growth is about 2.4 GB at every size; it was not broken down further.",
)


# --------------------------------------------------------------------------------------------
# data


def clean_table(
    rng: np.random.Generator, n: int, d: int, n_clusters: int = 6
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Gaussian mixture (unit noise around centres spread with sd 2.5) and a linear 3-class
    rule on it. Returns X, labels and each row's mixture component."""
    centres = rng.normal(0.0, 2.5, size=(n_clusters, d))
    comp = rng.integers(0, n_clusters, size=n)
    X = centres[comp] + rng.normal(size=(n, d))
    W = rng.normal(size=(d, 3))
    y = np.argmax(X @ W, axis=1)
    return X, y, comp


def pred_probs_for(X: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    model = LogisticRegression(max_iter=500)
    return labelwise.cross_val_pred_probs(model, X, y, cv=5, random_state=seed)


def plant(issue: str, seed: int, n: int, d: int) -> dict[str, Any]:
    """One table with ``issue`` planted; ``truth`` is the boolean row mask (or the verdict)."""
    rng = np.random.default_rng(1000 * seed + TYPES.index(issue))
    X, y, comp = clean_table(rng, n, d)
    case: dict[str, Any] = {"issue": issue}
    if issue == "near_duplicate":
        m = n // 100
        src = rng.choice(n, size=m, replace=False)
        jitter = rng.normal(size=(m, d)) * 0.001 * X.std(axis=0)
        X = np.vstack([X, X[src] + jitter])
        y = np.r_[y, y[src]]
        truth = np.zeros(n + m, dtype=bool)
        truth[src] = True
        truth[n:] = True
        case["truth"] = truth
    elif issue == "outlier":
        m = n // 100
        rows = rng.choice(n, size=m, replace=False)
        direction = rng.normal(size=(m, d))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        radius = rng.uniform(6.0, 10.0, size=(m, 1))
        X[rows] += direction * radius * X.std(axis=0)
        truth = np.zeros(n, dtype=bool)
        truth[rows] = True
        case["truth"] = truth
    elif issue == "non_iid":
        # Sorted by a drifting feature (truth: an issue), and the same rows shuffled (no issue).
        order = np.argsort(X[:, 0], kind="stable")
        shuffled = rng.permutation(n)
        case["variants"] = {
            "sorted": (X[order], y[order], True),
            "shuffled": (X[shuffled], y[shuffled], False),
        }
        return case
    elif issue == "class_imbalance":
        rare = 2
        keep_rare = max(1, round(0.005 * n))
        rare_rows = np.flatnonzero(y == rare)
        drop = rng.choice(rare_rows, size=rare_rows.size - keep_rare, replace=False)
        keep = np.setdiff1d(np.arange(n), drop)
        X, y = X[keep], y[keep]
        case["truth"] = y == rare
    elif issue == "underperforming_group":
        region = comp == 0
        flip = region & (rng.random(n) < 0.4)
        y = y.copy()
        y[flip] = (y[flip] + rng.integers(1, 3, size=flip.sum())) % 3
        case["truth"] = region
    elif issue == "null":
        # An all-missing column, a 97%-missing column, a constant column, and 0.2% of rows
        # missing in every column (the row-level case Datalab's check is about).
        X = X.copy()
        empty = np.full(n, np.nan)
        sparse = np.full(n, np.nan)
        present = rng.choice(n, size=round(0.03 * n), replace=False)
        sparse[present] = rng.normal(size=present.size)
        constant = np.full(n, 1.5)
        X = np.column_stack([X, empty, sparse, constant])
        empty_rows = rng.choice(np.setdiff1d(np.arange(n), present), size=n // 500, replace=False)
        X[empty_rows] = np.nan
        truth_rows = np.zeros(n, dtype=bool)
        truth_rows[empty_rows] = True
        case["truth"] = truth_rows
        case["truth_columns"] = [f"x{d}", f"x{d + 1}", f"x{d + 2}"]
    case["X"], case["y"] = X, y
    if issue == "underperforming_group":
        case["pred_probs"] = pred_probs_for(X, y, seed)
    return case


# --------------------------------------------------------------------------------------------
# the two tools


def run_labelwise(
    issue: str, X: np.ndarray, y: np.ndarray, pred_probs: Any, neighbours: str = "auto"
) -> dict[str, Any]:
    if issue == "null":
        table = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        res = find_nulls(table)
        return {"mask": res.mask, "scores": res.scores, "columns": res.extra["columns"]}
    res = labelwise.find_data_issues(
        X, labels=y, pred_probs=pred_probs, issue_types=[issue], neighbours=neighbours
    )[issue]
    out: dict[str, Any] = {"mask": res.mask, "scores": res.scores}
    if issue == "non_iid":
        out["p_value"] = float(res.extra["p_value"])
        out["is_issue"] = bool(res.is_issue)
    return out


def run_datalab(issue: str, X: np.ndarray, y: np.ndarray, pred_probs: Any) -> dict[str, Any]:
    from cleanlab import Datalab

    lab = Datalab(data={"y": y}, label_name="y", verbosity=0)
    kwargs: dict[str, Any] = {"features": X, "issue_types": {issue: {}}}
    if pred_probs is not None:
        kwargs["pred_probs"] = pred_probs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.find_issues(**kwargs)
    issues = lab.get_issues(issue)
    mask = issues[f"is_{issue}_issue"].to_numpy(dtype=bool)
    scores = issues[f"{issue}_score"].to_numpy(dtype=float)
    out: dict[str, Any] = {"mask": mask, "scores": scores}
    if issue == "non_iid":
        p = float(lab.get_info("non_iid")["p-value"])
        out["p_value"] = p
        out["is_issue"] = bool(p < 0.05)
    if issue == "null":
        impact = lab.get_info("null").get("column_impact", [])
        names = [f"x{j}" for j in range(X.shape[1])]
        # Datalab flags rows only; for reference, the columns it reports >= 95% missing.
        out["columns_95pct_missing_in_info"] = [
            c for c, f in zip(names, impact, strict=False) if f >= 0.95
        ]
    return out


def run_labelwise_approximate(
    issue: str, X: np.ndarray, y: np.ndarray, pred_probs: Any
) -> dict[str, Any]:
    """labelwise with the approximate index it uses above 20,000 rows, forced on small data."""
    return run_labelwise(issue, X, y, pred_probs, neighbours="approximate")


RUNNERS = {
    "labelwise": run_labelwise,
    "labelwise (approx. index)": run_labelwise_approximate,
    "Datalab": run_datalab,
}


# --------------------------------------------------------------------------------------------
# planted issues


def _row_metrics(truth: np.ndarray, out: dict[str, Any]) -> dict[str, Any]:
    mask = out["mask"]
    if mask is None:
        m: dict[str, Any] = {"flagged": 0, "precision": None, "recall": 0.0}
    else:
        tp = int((mask & truth).sum())
        flagged = int(mask.sum())
        m = {
            "flagged": flagged,
            "precision": tp / flagged if flagged else None,
            "recall": tp / int(truth.sum()),
        }
    scores = out["scores"]
    m["average_precision"] = (
        float(average_precision_score(truth, 1.0 - scores)) if scores is not None else None
    )
    return m


def run_planted(seeds: list[int], n: int, d: int) -> dict[str, Any]:
    per_seed: dict[str, dict[str, list]] = {t: {tool: [] for tool in TOOLS} for t in TYPES}
    for seed in seeds:
        for issue in TYPES:
            print(f"  seed {seed}: {issue}", file=sys.stderr, flush=True)
            case = plant(issue, seed, n, d)
            for tool in TOOLS:
                run = RUNNERS[tool]
                if issue == "non_iid":
                    rec: dict[str, Any] = {"seed": seed}
                    for name, (X, y, truth) in case["variants"].items():
                        t0 = time.perf_counter()
                        out = run(issue, X, y, None)
                        rec[name] = {
                            "p_value": out["p_value"],
                            "is_issue": out["is_issue"],
                            "correct": out["is_issue"] == truth,
                            "seconds": time.perf_counter() - t0,
                        }
                    per_seed[issue][tool].append(rec)
                    continue
                t0 = time.perf_counter()
                out = run(issue, case["X"], case["y"], case.get("pred_probs"))
                rec = {"seed": seed, **_row_metrics(case["truth"], out)}
                rec["seconds"] = time.perf_counter() - t0
                if issue == "null":
                    truth_cols = set(case["truth_columns"])
                    if "columns" in out:
                        flagged_cols = set(out["columns"])
                        rec["columns_flagged"] = sorted(flagged_cols)
                        rec["column_precision"] = (
                            len(flagged_cols & truth_cols) / len(flagged_cols)
                            if flagged_cols
                            else None
                        )
                        rec["column_recall"] = len(flagged_cols & truth_cols) / len(truth_cols)
                    else:
                        rec["columns_flagged"] = []
                        rec["column_precision"] = None
                        rec["column_recall"] = 0.0
                        rec["columns_95pct_missing_in_info"] = out["columns_95pct_missing_in_info"]
                per_seed[issue][tool].append(rec)
    return {"per_seed": per_seed, "summary": _summarize(per_seed)}


def _agg(values: list) -> dict[str, Any]:
    vals = [v for v in values if v is not None]
    missing = len(values) - len(vals)
    if not vals:
        return {"mean": None, "worst": None, "undefined": missing}
    return {"mean": float(np.mean(vals)), "worst": float(np.min(vals)), "undefined": missing}


def _summarize(per_seed: dict[str, dict[str, list]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for issue, by_tool in per_seed.items():
        summary[issue] = {}
        for tool, recs in by_tool.items():
            if issue == "non_iid":
                s = {}
                for v in ("sorted", "shuffled"):
                    ps = [r[v]["p_value"] for r in recs]
                    s[v] = {
                        "p_values": ps,
                        "correct": sum(r[v]["correct"] for r in recs),
                        "runs": len(recs),
                    }
                summary[issue][tool] = s
                continue
            s = {
                key: _agg([r[key] for r in recs])
                for key in ("precision", "recall", "average_precision")
            }
            s["flagged_mean"] = float(np.mean([r["flagged"] for r in recs]))
            if issue == "null":
                s["column_precision"] = _agg([r["column_precision"] for r in recs])
                s["column_recall"] = _agg([r["column_recall"] for r in recs])
                s["columns_flagged"] = recs[0]["columns_flagged"]
            summary[issue][tool] = s
    return summary


# --------------------------------------------------------------------------------------------
# speed


class PeakRSS:
    """Samples this process's RSS every 20 ms; ``peak`` is the largest growth over the start."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.start = self.proc.memory_info().rss
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss - self.start)
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss - self.start)


def run_large(n: int, d: int) -> dict[str, Any]:
    """labelwise alone on one very large table (exact search would take Datalab hours)."""
    print(f"  large: {n} x {d}, labelwise only", file=sys.stderr, flush=True)
    rng = np.random.default_rng(11)
    X, y, _ = clean_table(rng, n, d, n_clusters=10)
    model = LogisticRegression(max_iter=200)
    pred_probs = model.fit(X[: n // 2], y[: n // 2]).predict_proba(X)  # stand-in probabilities
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])
    rec: dict[str, Any] = {"rows": n, "features": d, "issue_types": list(TYPES)}
    rec["input_mb"] = (frame.memory_usage().sum() + pred_probs.nbytes) / 2**20
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        found = labelwise.find_data_issues(frame, labels=y, pred_probs=pred_probs)
        rec["labelwise_s"] = time.perf_counter() - t0
    rec["labelwise_peak_rss_growth_mb"] = mem.peak / 2**20
    rec["process_peak_rss_mb"] = psutil.Process().memory_info().rss / 2**20
    rec["counts"] = {name: r.count for name, r in found.results.items()}
    print(f"    labelwise {rec['labelwise_s']:.1f} s", file=sys.stderr, flush=True)
    return rec


def run_speed(rows_list: list[int], d: int, budget_s: float) -> list[dict[str, Any]]:
    from cleanlab import Datalab

    out = []
    for n in rows_list:
        print(f"  speed: {n} x {d}", file=sys.stderr, flush=True)
        rng = np.random.default_rng(7)
        X, y, _ = clean_table(rng, n, d, n_clusters=10)
        pred_probs = pred_probs_for(X, y, 0)
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])
        rec: dict[str, Any] = {"rows": n, "features": d, "issue_types": list(TYPES)}
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            labelwise.find_data_issues(frame, labels=y, pred_probs=pred_probs)
            rec["labelwise_s"] = time.perf_counter() - t0
        rec["labelwise_peak_rss_mb"] = mem.peak / 2**20
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            lab = Datalab(data={"y": y}, label_name="y", verbosity=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lab.find_issues(
                    features=X, pred_probs=pred_probs, issue_types={t: {} for t in TYPES}
                )
            rec["datalab_s"] = time.perf_counter() - t0
        rec["datalab_peak_rss_mb"] = mem.peak / 2**20
        rec["speedup"] = rec["datalab_s"] / rec["labelwise_s"]
        rec["labelwise_neighbours"] = "exact" if n <= EXACT_MAX_ROWS else "approximate (faiss IVF)"
        rec["load_average_1min_after"] = os.getloadavg()[0]
        out.append(rec)
        print(
            f"    labelwise {rec['labelwise_s']:.1f} s, Datalab {rec['datalab_s']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if rec["datalab_s"] > budget_s:
            print("    Datalab over budget: larger sizes skipped", file=sys.stderr, flush=True)
            break
    return out


# --------------------------------------------------------------------------------------------
# report


def _f(x: Any, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _cell(stat: dict[str, Any]) -> str:
    text = f"{_f(stat['mean'])} / {_f(stat['worst'])}"
    if stat.get("undefined"):
        text += f" ({stat['undefined']} n/a)"
    return text


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    planted = results["planted"]
    s = planted["summary"]
    lines = [
        "# Data issues: labelwise vs cleanlab Datalab",
        "",
        f"Command: `{results['command']}`. labelwise {env['labelwise']}, cleanlab "
        f"{env['cleanlab']}, datasets {env['datasets']}, scikit-learn {env['scikit_learn']}, "
        f"numpy {env['numpy']}, Python {env['python']}; {env['cpus_logical']} logical CPUs, "
        f"load average (1 min) {env['load_average_1min_start']:.2f} at start, "
        f"{env['load_average_1min']:.2f} at end.",
        "",
        f"## Planted issues ({planted['rows']} rows x {planted['features']} features, "
        f"seeds {planted['seeds']})",
        "",
        "Each cell: mean / worst over seeds. Precision and recall of the flagged rows against "
        "the planted rows; AP = average precision of 1 - score. Precision is n/a when nothing "
        "is flagged.",
        "",
        "| issue | tool | flagged (mean) | precision | recall | AP |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for issue in TYPES:
        if issue == "non_iid":
            continue
        for tool in TOOLS:
            t = s[issue][tool]
            lines.append(
                f"| {issue}{' (rows)' if issue == 'null' else ''} | {tool} | "
                f"{t['flagged_mean']:.1f} | {_cell(t['precision'])} | {_cell(t['recall'])} | "
                f"{_cell(t['average_precision'])} |"
            )
    lines += [
        "",
        "### null, by column",
        "",
        "Planted: an all-missing column, a 97%-missing column and a constant column "
        f"({', '.join(planted['null_truth_columns'])}), plus 0.2% of rows missing everywhere.",
        "",
        "| tool | columns flagged | column precision | column recall |",
        "|---|---|---:|---:|",
    ]
    for tool in TOOLS:
        t = s["null"][tool]
        cols = ", ".join(t["columns_flagged"]) or "none (row-level check only)"
        lines.append(
            f"| {tool} | {cols} | {_cell(t['column_precision'])} | {_cell(t['column_recall'])} |"
        )
    lines += [
        "",
        "### non_iid",
        "",
        "p-values per seed; a verdict is right when p < 0.05 on the sorted table and p >= 0.05 "
        "on the shuffled one.",
        "",
        "| tool | sorted: p-values | sorted: right | shuffled: p-values | shuffled: right |",
        "|---|---|---:|---|---:|",
    ]
    for tool in TOOLS:
        t = s["non_iid"][tool]
        lines.append(
            f"| {tool} | {', '.join(f'{p:.3g}' for p in t['sorted']['p_values'])} | "
            f"{t['sorted']['correct']}/{t['sorted']['runs']} | "
            f"{', '.join(f'{p:.3g}' for p in t['shuffled']['p_values'])} | "
            f"{t['shuffled']['correct']}/{t['shuffled']['runs']} |"
        )
    lines += [
        "",
        "## Speed",
        "",
        "All six checks in one call: `find_data_issues(DataFrame, labels, pred_probs)` vs "
        "`Datalab.find_issues(features, pred_probs, issue_types=all six)`; wall time "
        "(`time.perf_counter`, one run each), peak RSS growth sampled every 20 ms.",
        "",
        "| rows x features | labelwise (s) | Datalab (s) | Datalab / labelwise | "
        "labelwise peak RSS (MB) | Datalab peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results.get("speed", []):
        lines.append(
            f"| {r['rows']:,} x {r['features']} | {r['labelwise_s']:.1f} | "
            f"{r['datalab_s']:.1f} | {r['speedup']:.1f}x | {r['labelwise_peak_rss_mb']:.0f} | "
            f"{r['datalab_peak_rss_mb']:.0f} |"
        )
    if results.get("speed_note"):
        lines += ["", results["speed_note"]]
    large = results.get("large")
    if large:
        lines += [
            "",
            f"### {large['rows']:,} x {large['features']}, labelwise alone",
            "",
            f"All six checks: **{large['labelwise_s']:.0f} s**, peak RSS growth "
            f"{large['labelwise_peak_rss_growth_mb']:,.0f} MB over an input of "
            f"{large['input_mb']:,.0f} MB (the table and its probabilities); the process's "
            f"resident size at the end {large['process_peak_rss_mb']:,.0f} MB. Datalab is not "
            "run at this size: its exact neighbour search alone would take hours here.",
        ]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in NOTES]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes the file private; results are shared like the rest
    os.replace(tmp, path)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _environment(load_start: float) -> dict[str, Any]:
    import datasets

    return {
        "labelwise": labelwise.__version__,
        "cleanlab": cleanlab.__version__,
        "datasets": datasets.__version__,
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus_logical": psutil.cpu_count(logical=True),
        "load_average_1min_start": load_start,
        "load_average_1min": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small tables, one seed")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default 0 1 2)")
    parser.add_argument("--rows", type=int, help="rows of the planted tables (default 5000)")
    parser.add_argument(
        "--speed-rows", type=int, nargs="*", help="rows of the speed tables (default 100000)"
    )
    parser.add_argument("--speed-features", type=int, default=50)
    parser.add_argument(
        "--speed-budget",
        type=float,
        default=600.0,
        help="skip larger speed sizes once Datalab takes longer than this (seconds)",
    )
    parser.add_argument(
        "--large",
        type=int,
        nargs=2,
        metavar=("ROWS", "FEATURES"),
        help="also time labelwise alone on a table this large (e.g. 1000000 64)",
    )
    parser.add_argument(
        "--render", action="store_true", help="rewrite the Markdown from the saved JSON only"
    )
    args = parser.parse_args(argv)
    suffix = ".quick" if args.quick else ""
    if args.render:
        results = json.loads((RESULTS / f"data_issues{suffix}.json").read_text())
        _atomic_write(RESULTS / f"data_issues{suffix}.md", markdown(results))
        return 0
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    rows = args.rows or (1000 if args.quick else 5000)
    speed_rows = args.speed_rows
    if speed_rows is None:
        speed_rows = [5000] if args.quick else [100_000]
    load_start = os.getloadavg()[0]
    started = time.perf_counter()

    print("planted issues ...", file=sys.stderr, flush=True)
    planted = run_planted(seeds, rows, 10)
    planted.update(
        {"rows": rows, "features": 10, "seeds": seeds, "null_truth_columns": ["x10", "x11", "x12"]}
    )
    print("speed ...", file=sys.stderr, flush=True)
    speed = run_speed(speed_rows, args.speed_features, args.speed_budget) if speed_rows else []

    large = run_large(*args.large) if args.large else None

    results: dict[str, Any] = {
        "planted": planted,
        "speed": speed,
        "large": large,
        "environment": _environment(load_start),
        "command": "python " + " ".join(["benchmarks/data_issues.py", *sys.argv[1:]]),
        "seconds": time.perf_counter() - started,
    }
    md = markdown(results)
    _atomic_write(RESULTS / f"data_issues{suffix}.json", json.dumps(_plain(results), indent=1))
    _atomic_write(RESULTS / f"data_issues{suffix}.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
