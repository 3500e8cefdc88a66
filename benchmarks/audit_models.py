"""How well ``labelwise.audit`` estimates label noise and finds wrong labels, per model.

    .venv/bin/python benchmarks/audit_models.py                          # old and auto, seeds 0..2
    .venv/bin/python benchmarks/audit_models.py --models old,boosting    # any models
    .venv/bin/python benchmarks/audit_models.py --quick                  # one seed, two tables
    .venv/bin/python benchmarks/audit_models.py --timing --models old    # CLI, 100,000 x 30

Each table of ``audit_tables.py`` (clean labels) gets symmetric label noise at 5%, 10% and 20%
(``labelwise.simulate.inject_noise``), then ``audit(table, label="y", model=..., n_bootstrap=0)``
runs with each model. Models: ``old`` (``labelwise.predict.default_model(X)``, the logistic
regression default), ``auto`` (``model="auto"``), ``boosting`` (the HistGradientBoosting
pipeline below, for reference), ``default`` (no ``model`` argument: whatever ``audit`` does by
default) or ``module:Name`` (a class, instantiated with no arguments, or a function called with
the feature frame).

Targets: |estimated - true noise rate| <= 2 points; at 5% noise also precision and recall of
the flagged rows >= 0.6 against the rows that were flipped. A cell passes when every seed does.

Writes benchmarks/results/audit_models.{md,json} (``--quick``: audit_models.quick.*). The
accuracy run and the timing run are separate sections of the same files: each run replaces its
own section and keeps the other.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

import labelwise
from audit_tables import LABEL, TABLES, noisy_copy, timing_table
from labelwise.io import write_json, write_text
from labelwise.issues.audit import audit
from labelwise.predict import default_model
from measure import source_digest

RESULTS = Path(__file__).resolve().parent / "results"
RATES = (0.05, 0.10, 0.20)
SEEDS = (0, 1, 2)
#: Targets: points of noise rate; precision and recall at TARGET_RATE.
MAX_ERROR_POINTS = 2.0
MIN_PRECISION = MIN_RECALL = 0.6
TARGET_RATE = 0.05
#: ``--quick``: these tables, this many rows each, one seed.
QUICK_TABLES = ("xor_thresholds", "age_region")
QUICK_ROWS = 1000
TIMING_ROWS, QUICK_TIMING_ROWS = 100_000, 10_000
TIMING_RATE = 0.10


# --- models -------------------------------------------------------------------------------------


def _categorical(frame: pd.DataFrame) -> list[str]:
    kinds = (pd.CategoricalDtype,)
    return [
        name
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, kinds)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ]


def boosting_model(frame: pd.DataFrame) -> Pipeline:
    """HistGradientBoosting with native categorical splits and missing values, early stopping on
    a held-out tenth (by log loss), so that it stops before it memorizes the wrong labels."""
    categorical = _categorical(frame)
    encode = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    columns = ColumnTransformer(
        [("categorical", encode, categorical)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    classifier = HistGradientBoostingClassifier(
        max_iter=500,
        learning_rate=0.1,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        scoring="loss",
        categorical_features=list(range(len(categorical))) or None,
        random_state=0,
    )
    return Pipeline([("columns", columns), ("classifier", classifier)])


#: Model names besides module:Name.
NAMED = ("old", "auto", "boosting", "default")


def model_for(spec: str, features: pd.DataFrame) -> Any:
    """What ``audit`` gets as ``model=`` for a model name (``default``: pass none)."""
    if spec == "old":
        return default_model(features)
    if spec == "auto":
        return "auto"
    if spec == "boosting":
        return boosting_model(features)
    module, _, name = spec.partition(":")
    found = getattr(importlib.import_module(module), name)
    return found() if isinstance(found, type) else found(features)


def _check_spec(spec: str) -> str | None:
    """Why a model name is unusable, or None."""
    if spec in NAMED:
        return None
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        return f"{spec!r} is not {', '.join(NAMED)} or module:Name"
    try:
        getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        return f"{spec!r}: {exc}"
    return None


def describe_choice(choice: Any) -> Any:
    """``report.model_choice`` as something JSON can hold, whatever form it takes."""
    if choice is None or isinstance(choice, (str, int, float, bool)):
        return choice
    for method in ("to_dict", "summary"):
        if callable(getattr(choice, method, None)):
            try:
                return json.loads(json.dumps(getattr(choice, method)(), default=str))
            except (TypeError, ValueError):
                break
    if isinstance(choice, dict):
        return json.loads(json.dumps(choice, default=str))
    return str(choice)


def choice_name(choice: Any) -> str:
    """A short name for the chosen model, for the table."""
    if choice is None:
        return ""
    if isinstance(choice, dict):
        if "candidates" in choice and not choice["candidates"]:
            return ""  # a model passed in, nothing was chosen
        for key in ("chosen", "name", "model", "choice", "best"):
            if key in choice and isinstance(choice[key], (str, list)):
                value = choice[key]
                return "+".join(map(str, value)) if isinstance(value, list) else value
    return str(choice)[:40]


# --- one audit ----------------------------------------------------------------------------------


def _safe_div(a: float, b: float) -> float:
    return a / b if b else math.nan


def run_one(
    spec: str, frame: pd.DataFrame, noisy: Any, seed: int, threads: int | None = None
) -> dict[str, Any]:
    """Audit ``frame`` (noisy labels in ``"y"``) with one model and score it against the truth.

    ``threads`` caps the OpenMP and BLAS threads of the fits (None: no cap).
    """
    features = frame.drop(columns=[LABEL])
    started = time.perf_counter()
    try:
        options = {} if spec == "default" else {"model": model_for(spec, features)}
        with threadpool_limits(limits=threads):
            report = audit(frame, label=LABEL, n_bootstrap=0, random_state=seed, **options)
    except Exception as exc:  # recorded; the other runs go on
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    seconds = time.perf_counter() - started
    truth = np.asarray(noisy.is_noisy, dtype=bool)
    mask = np.asarray(report.issues.mask, dtype=bool)
    hits = int((mask & truth).sum())
    estimated, true = float(report.noise.noise_rate), float(truth.mean())
    probs = np.asarray(report.pred_probs, dtype=np.float64)
    classes = np.asarray(report.classes)
    predicted = classes[probs.argmax(axis=1)]
    given = np.asarray(noisy.labels)
    codes = pd.Index(classes).get_indexer(given)
    choice = describe_choice(getattr(report, "model_choice", None))
    return {
        "estimated_noise": estimated,
        "true_noise": true,
        "error_points": 100 * abs(estimated - true),
        "flagged": int(mask.sum()),
        "precision": _safe_div(hits, mask.sum()),
        "recall": _safe_div(hits, truth.sum()),
        "accuracy_given": float(np.mean(predicted == given)),
        "accuracy_true": float(np.mean(predicted == np.asarray(noisy.true_labels))),
        "log_loss_given": float(
            log_loss(codes, np.clip(probs, 1e-15, 1), labels=range(len(classes)))
        ),
        "seconds": seconds,
        "model_choice": choice,
    }


def passes(run: dict[str, Any], rate: float) -> bool:
    """Whether one run meets the targets (precision and recall count at TARGET_RATE only)."""
    if "error" in run:
        return False
    ok = run["error_points"] <= MAX_ERROR_POINTS
    if math.isclose(rate, TARGET_RATE):
        # NaN (nothing flagged) compares False, so it fails.
        ok = ok and run["precision"] >= MIN_PRECISION and run["recall"] >= MIN_RECALL
    return bool(ok)


def run_accuracy(
    tables: list[str],
    models: list[str],
    rates: list[float],
    seeds: list[int],
    rows: int | None,
    threads: int | None = 1,
) -> dict[str, Any]:
    runs, about = [], {}
    total = len(tables) * len(seeds) * len(rates) * len(models)
    done = 0
    for name in tables:
        spec = TABLES[name]
        for seed in seeds:
            clean, description = spec.build(rows, seed)
            about[name] = {
                "group": spec.group,
                "rows": len(clean),
                "columns": clean.shape[1] - 1,
                "classes": int(clean[LABEL].nunique()),
                "linear_fits": spec.linear_fits,
                "bayes_error": clean.attrs.get("bayes_error"),
                "description": description,
            }
            for rate in rates:
                # A seed per (table seed, rate) so that rates do not share their flipped rows.
                frame, noisy = noisy_copy(clean, rate, seed=1000 * seed + round(100 * rate))
                for model in models:
                    run = run_one(model, frame, noisy, seed, threads)
                    done += 1
                    run.update(table=name, group=spec.group, rate=rate, seed=seed, model=model,
                               off_bayes_share=clean.attrs.get("off_bayes_share"))  # fmt: skip
                    run["pass"] = passes(run, rate)
                    runs.append(run)
                    _progress(done, total, run)
    return {"tables": about, "runs": runs, "summary": summarize(runs)}


def _progress(done: int, total: int, run: dict[str, Any]) -> None:
    where = f"[{done}/{total}] {run['table']} {run['rate']:.0%} seed {run['seed']} {run['model']}"
    if "error" in run:
        print(f"{where}: {run['error']}", file=sys.stderr, flush=True)
        return
    print(
        f"{where}: est {run['estimated_noise']:.1%} true {run['true_noise']:.1%} "
        f"P {run['precision']:.2f} R {run['recall']:.2f} acc {run['accuracy_true']:.3f} "
        f"{run['seconds']:.1f} s",
        file=sys.stderr,
        flush=True,
    )


# --- aggregation --------------------------------------------------------------------------------

#: Per cell: metric -> which way is worse (the worst seed is the max or the min).
WORST = {
    "estimated_noise": None,
    "true_noise": None,
    "error_points": max,
    "precision": min,
    "recall": min,
    "accuracy_given": min,
    "accuracy_true": min,
    "log_loss_given": max,
    "seconds": max,
}


def _nan_to(values: list[float], fill: float) -> list[float]:
    return [fill if v is None or math.isnan(v) else v for v in values]


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and worst over seeds per (table, rate, model)."""
    cells: dict[tuple, list[dict]] = {}
    for run in runs:
        cells.setdefault((run["table"], run["rate"], run["model"]), []).append(run)
    out = []
    for (table, rate, model), group in cells.items():
        ok = [r for r in group if "error" not in r]
        cell: dict[str, Any] = {"table": table, "group": group[0]["group"], "rate": rate,
                                "model": model, "seeds": len(group),
                                "seeds_passing": sum(r["pass"] for r in group)}  # fmt: skip
        cell["pass"] = cell["seeds_passing"] == len(group)
        if len(ok) < len(group):
            cell["errors"] = sorted({r["error"] for r in group if "error" in r})
        for metric, worst in WORST.items():
            values = [r[metric] for r in ok]
            if not values:
                continue
            cell[f"{metric}_mean"] = float(np.nanmean(values)) if not all(
                v is None or math.isnan(v) for v in values
            ) else math.nan  # fmt: skip
            if worst is not None:
                # A precision with nothing flagged counts as 0 for the worst seed.
                cell[f"{metric}_worst"] = float(worst(_nan_to(values, 0.0)))
        chosen = sorted({choice_name(r.get("model_choice")) for r in ok} - {""})
        cell["chosen"] = chosen
        out.append(cell)
    return out


# --- markdown -----------------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def _num(v: float | None, digits: int = 2) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _mw(cell: dict, metric: str, fmt) -> str:
    mean, worst = cell.get(f"{metric}_mean"), cell.get(f"{metric}_worst")
    return f"{fmt(mean)} ({fmt(worst)})"


def _cell_row(cell: dict[str, Any]) -> list[str]:
    if "estimated_noise_mean" not in cell:
        return [cell["table"], f"{cell['rate']:.0%}", cell["model"], *["–"] * 9,
                "error: " + "; ".join(cell.get("errors", []))[:80]]  # fmt: skip
    verdict = "pass" if cell["pass"] else "FAIL"
    return [
        cell["table"],
        f"{cell['rate']:.0%}",
        cell["model"],
        _pct(cell["true_noise_mean"]),
        _pct(cell["estimated_noise_mean"]),
        _mw(cell, "error_points", lambda v: _num(v, 1)),
        _mw(cell, "precision", _num),
        _mw(cell, "recall", _num),
        _mw(cell, "accuracy_given", _num),
        _mw(cell, "accuracy_true", _num),
        _num(cell["seconds_mean"], 1),
        ", ".join(cell.get("chosen", [])) or "–",
        f"{verdict} {cell['seeds_passing']}/{cell['seeds']}",
    ]


CELL_HEADERS = [
    "table",
    "noise",
    "model",
    "true %",
    "estimated %",
    "abs error, points",
    "precision",
    "recall",
    "accuracy vs given",
    "accuracy vs true",
    "s",
    "chosen",
    "target",
]


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _tables_section(about: dict[str, Any]) -> list[str]:
    rows = []
    for name, t in about.items():
        bayes = t["bayes_error"]
        rows.append([name, t["group"], f"{t['rows']:,}", str(t["columns"]), str(t["classes"]),
                     "good" if t["linear_fits"] else "poor",
                     "unknown" if bayes is None else f"{100 * bayes:.2f}%",
                     t["description"]])  # fmt: skip
    headers = ["table", "group", "rows", "columns", "classes", "linear model", "Bayes error"]
    return _md_table([*headers, "what it tests"], rows)


def _overview(summary: list[dict[str, Any]], models: list[str]) -> list[str]:
    """Per table and model: the rates whose cell passes."""
    passed: dict[str, dict[str, list[str]]] = {}
    rates: dict[str, list[float]] = {}
    for cell in summary:
        passed.setdefault(cell["table"], {}).setdefault(cell["model"], [])
        rates.setdefault(cell["table"], [])
        if cell["rate"] not in rates[cell["table"]]:
            rates[cell["table"]].append(cell["rate"])
        if cell["pass"]:
            passed[cell["table"]][cell["model"]].append(f"{cell['rate']:.0%}")
    group = {c["table"]: c["group"] for c in summary}
    rows = []
    for table, by_model in passed.items():
        row = [table, group[table]]
        for model in models:
            ok = by_model.get(model, [])
            row.append(f"{len(ok)}/{len(rates[table])}" + (f" ({', '.join(ok)})" if ok else ""))
        rows.append(row)
    return _md_table(["table", "group", *(f"{m}: rates passing" for m in models)], rows)


def _accuracy_markdown(acc: dict[str, Any]) -> list[str]:
    summary, models = acc["summary"], acc["models"]
    lines = [
        "## Noise estimate and flagged rows per model",
        "",
        f"Command: `{acc['command']}`. Seeds {', '.join(map(str, acc['seeds']))}; "
        f"labelwise source sha256 {acc['labelwise_source_sha256']}; ran in "
        f"{acc['seconds']:.0f} s (1-minute load average {acc['load_average_1min']:.1f} at the "
        "end).",
        "",
        f"Targets: |estimated - true| <= {MAX_ERROR_POINTS:g} points at every rate; precision "
        f"and recall of the flagged rows >= {MIN_PRECISION:g} at {TARGET_RATE:.0%} noise. "
        "`pass k/n`: k of n seeds meet them; a cell passes when all do. Cells show the mean over "
        "seeds and, in brackets, the worst seed. Accuracy is the cross-validated model's "
        "out-of-sample accuracy against the given (noisy) labels and against the true labels. "
        "Symmetric noise from `labelwise.simulate.inject_noise`; `audit(..., n_bootstrap=0)`; "
        f"fits capped at {acc.get('threads') or 'no cap on'} OpenMP/BLAS thread(s).",
        "",
        "### Tables",
        "",
        *_tables_section(acc["tables"]),
        "",
        "Bayes error: the expected share of clean labels that are not their row's most probable "
        "class (part of no injected noise, but a model may count it as noise).",
        "",
        "### Overview",
        "",
        *_overview(summary, models),
    ]
    for group, title in (("held-out", "Held-out tables (the honest figure)"),
                         ("development", "Development tables (used for tuning)")):  # fmt: skip
        rows = [_cell_row(c) for c in summary if c["group"] == group]
        if rows:
            lines += ["", f"### {title}", "", *_md_table(CELL_HEADERS, rows)]
    return lines


def _timing_markdown(timing: dict[str, Any]) -> list[str]:
    rows = []
    for r in timing["runs"]:
        if "error" in r:
            rows.append([r["model"], "–", "–", "–", r["error"][:80]])
            continue
        rows.append([r["model"], _num(r["seconds"], 1), _pct(r.get("estimated_noise")),
                     _pct(timing["true_noise"]), str(r.get("summary_model", "–"))])  # fmt: skip
    return [
        "## End-to-end time of the command line",
        "",
        f"`{timing['command']}`: a {timing['rows']:,} x {timing['columns']} table "
        f"({timing['description']}), {TIMING_RATE:.0%} symmetric noise, written once as Parquet; "
        "each model runs `labelwise audit table.parquet --label y --out DIR` (default 500 "
        "bootstrap replicates) in a new process, timed around `subprocess.run`. `default` is the "
        "console script as installed, with its default model; the others run the same command "
        "line with the model passed to `audit`. labelwise source sha256 "
        f"{timing['labelwise_source_sha256']}; 1-minute load average "
        f"{timing['load_average_1min']:.1f} at the end.",
        "",
        *_md_table(["model", "seconds", "estimated %", "true %", "model in noise.json"], rows),
    ]


def as_markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        "# labelwise.audit: model choice benchmark",
        "",
        f"labelwise {env['labelwise']}, scikit-learn {env['sklearn']}, numpy {env['numpy']}, "
        f"Python {env['python']}, {env['cpus_logical']} logical CPUs ({env['machine']}).",
    ]
    if "accuracy" in results:
        lines += ["", *_accuracy_markdown(results["accuracy"])]
    if "timing" in results:
        lines += ["", *_timing_markdown(results["timing"])]
    return "\n".join(lines) + "\n"


# --- timing through the command line ------------------------------------------------------------


def run_cli_with_model(spec: str, argv: list[str]) -> int:
    """``labelwise`` with ``argv``, ``audit`` given the model ``spec`` (in a child process)."""
    from labelwise import cli
    from labelwise.cli import audit as cli_audit

    plain = cli_audit.audit

    def audit_with_model(table: pd.DataFrame, label: str, **options: Any):
        features = options.get("features")
        columns = table.drop(columns=[label]) if features is None else table[features]
        options["model"] = model_for(spec, columns)
        return plain(table, label, **options)

    cli_audit.audit = audit_with_model
    sys.argv = ["labelwise", *argv]
    try:
        cli.main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


_CHILD = (
    "import sys; sys.path.insert(0, {here!r}); from audit_models import run_cli_with_model; "
    "sys.exit(run_cli_with_model({spec!r}, sys.argv[1:]))"
)


def _console_script() -> list[str]:
    beside = Path(sys.executable).parent / "labelwise"
    found = str(beside) if beside.exists() else shutil.which("labelwise")
    return [found] if found else [sys.executable, "-c", "from labelwise.cli import main; main()"]


def run_timing(models: list[str], rows: int) -> dict[str, Any]:
    clean, description = timing_table(rows, seed=0)
    frame, noisy = noisy_copy(clean, TIMING_RATE, seed=0)
    out: dict[str, Any] = {"rows": len(frame), "columns": frame.shape[1] - 1,
                           "description": description, "true_noise": noisy.noise_rate,
                           "runs": []}  # fmt: skip
    here = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory(prefix="audit-timing-") as tmp:
        table = Path(tmp) / "table.parquet"
        frame.to_parquet(table, index=False)
        commands = {}
        for spec in models:
            child = [sys.executable, "-c", _CHILD.format(here=here, spec=spec)]
            commands[spec] = _console_script() if spec == "default" else child
        for name, command in commands.items():
            target = Path(tmp) / name.replace(" ", "_").replace(":", "_")
            args = [*command, "audit", str(table), "--label", LABEL, "--out", str(target)]
            print(f"timing {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            done = subprocess.run(args, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            run: dict[str, Any] = {"model": name, "seconds": seconds}
            if done.returncode != 0:
                run["error"] = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
            else:
                noise = json.loads((target / "noise.json").read_text())
                run["estimated_noise"] = noise.get("noise_rate")
                summary = noise.get("summary", {})
                run["summary_model"] = summary.get("model")
                if "model_choice" in summary:
                    run["model_choice"] = summary["model_choice"]
            print(f"  {seconds:.1f} s", file=sys.stderr, flush=True)
            out["runs"].append(run)
    return out


# --- main ---------------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    return {
        "labelwise": labelwise.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus_logical": os.cpu_count(),
    }


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="old,auto",
                        help=f"comma-separated: {', '.join(NAMED)} or module:Name")  # fmt: skip
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="e.g. 0,1,2")
    parser.add_argument("--tables", default=None, help=f"comma-separated, of {', '.join(TABLES)}")
    parser.add_argument("--rates", default=",".join(map(str, RATES)), help="noise rates")
    parser.add_argument("--rows", type=int, default=None, help="rows of every table")
    parser.add_argument("--quick", action="store_true", help="one seed, two small tables")
    parser.add_argument("--timing", action="store_true",
                        help="only time the command line on the 100,000 x 30 table")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenMP and BLAS threads per fit (0: no cap); 1 keeps the figures "
                        "steady on a shared machine")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)

    models = _split(args.models)
    problems = [p for p in map(_check_spec, models) if p]
    if problems:
        parser.error("; ".join(problems))
    tables = _split(args.tables) if args.tables else list(TABLES)
    rows, seeds = args.rows, [int(s) for s in _split(args.seeds)]
    if args.quick:
        tables = _split(args.tables) if args.tables else list(QUICK_TABLES)
        rows, seeds = rows or QUICK_ROWS, seeds[:1]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from {', '.join(TABLES)}")

    suffix = ".quick" if args.quick else ""
    json_path = args.out / f"audit_models{suffix}.json"
    md_path = args.out / f"audit_models{suffix}.md"
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    command = "python benchmarks/audit_models.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )  # fmt: skip
    started = time.perf_counter()
    if args.timing:
        section = run_timing(models, QUICK_TIMING_ROWS if args.quick else TIMING_ROWS)
        results["timing"] = section
    else:
        rates = [float(r) for r in _split(args.rates)]
        threads = args.threads or None
        section = run_accuracy(tables, models, rates, seeds, rows, threads)
        section.update(models=models, seeds=seeds, rates=rates, threads=threads)
        results["accuracy"] = section
    section.update(
        command=command.strip(),
        seconds=time.perf_counter() - started,
        labelwise_source_sha256=source_digest(),
        load_average_1min=os.getloadavg()[0],
    )
    results["environment"] = _environment()
    args.out.mkdir(parents=True, exist_ok=True)
    # Both writes go to a temporary file first, then os.replace: readers never see half a file.
    write_json(results, json_path)
    text = as_markdown(results)
    write_text(text, md_path)
    print(text)
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
