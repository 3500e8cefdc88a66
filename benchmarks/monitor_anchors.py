"""labelwise.monitor against Evidently's data-drift preset and NannyML (univariate drift + CBPE).

    .bench-anchors-venv/bin/python benchmarks/monitor_anchors.py           # full run
    .bench-anchors-venv/bin/python benchmarks/monitor_anchors.py --quick   # 100,000-row window
    .bench-anchors-venv/bin/python benchmarks/monitor_anchors.py --only speed   # one section

Runs in its own environment (requirements/bench-monitor.txt: Evidently 0.7 needs pandas < 3).

Speed and memory. One synthetic credit reference (100,000 rows) and one window (1,000,000 rows x
20 features + the score), from ``labelwise.monitor.synthetic``, written to Parquet once; each
tool then runs once in a fresh process that reads them: labelwise ``Monitor.fit`` +
``Monitor.check`` (a thread per core, and again with ``n_jobs=1``); Evidently
``Report([DataDriftPreset()]).run`` on the 20 features and the score; NannyML
``UnivariateDriftCalculator`` (default Jensen-Shannon) and ``CBPE`` (ROC AUC, precision,
recall), each fit on the reference and run on the window, ``chunk_number=10``. Wall
time per step; peak memory = the process's peak resident set during the tool's calls (peak mark
reset at the start, Linux) minus the resident set when they started.

False alarms. Windows with no change at all (fresh draws of the same population) at 500, 10,000
and 1,000,000 rows: how often labelwise's statistics fire (each is configured at alpha = 0.05)
and how often a window is flagged; beside it, how often Evidently flags dataset drift (its
``DriftedColumnsCount`` share >= 0.5, the preset's first metric, run alone because the preset's
rendering costs seconds per window) and how often it flags a column.

Telemetry of both anchors is switched off before they are imported (DO_NOT_TRACK,
EVIDENTLY_DISABLE_TELEMETRY, NML_DISABLE_USAGE_LOGGING). Writes
benchmarks/results/monitor_anchors/monitor_anchors.{md,json} (``--quick``: *.quick.*).
"""

from __future__ import annotations

import os

# Before any anchor is imported: this machine has no network but the package registries.
os.environ.update(DO_NOT_TRACK="1", EVIDENTLY_DISABLE_TELEMETRY="1", NML_DISABLE_USAGE_LOGGING="1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from labelwise.io import write_json, write_text  # noqa: E402
from labelwise.monitor.synthetic import CATEGORICAL, CreditSimulator  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "monitor_anchors"
CUTOFF = 0.25
ALPHA = 0.05
TOOLS = ("labelwise", "labelwise-1-thread", "evidently", "nannyml")
ANCHORS = ("evidently", "nannyml")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux), so the next peak is the tool's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _current_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mib() -> float:
    """Peak resident set of this process since the last reset (or since it started)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- one tool, one fresh process ---------------------------------------------------------------


def _run_labelwise(
    ref: pd.DataFrame, win: pd.DataFrame, features: list[str], n_jobs: int | None = None
) -> dict[str, Any]:
    from labelwise.monitor import Monitor

    categorical = [f for f in features if f in CATEGORICAL]
    t0 = time.perf_counter()
    monitor = Monitor(categorical=categorical, alpha=ALPHA, n_jobs=n_jobs).fit(
        ref, score="score", features=features, label="bad", cutoff=CUTOFF
    )
    t1 = time.perf_counter()
    result = monitor.check(win, window_id="big")
    t2 = time.perf_counter()
    return {
        "steps": {"fit": t1 - t0, "check": t2 - t1},
        "verdict": f"composite {result.composite:.3f}, severity {result.severity}, "
        f"fired: {', '.join(result.fired) or 'none'}",
    }


def _evidently_data(frame: pd.DataFrame, features: list[str]):
    from evidently import DataDefinition, Dataset

    numeric = [f for f in features if f not in CATEGORICAL] + ["score"]
    categorical = [f for f in features if f in CATEGORICAL]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    return Dataset.from_pandas(frame[[*features, "score"]], data_definition=definition)


def _run_evidently(ref: pd.DataFrame, win: pd.DataFrame, features: list[str]) -> dict[str, Any]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    t0 = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        _evidently_data(win, features), _evidently_data(ref, features)
    )
    t1 = time.perf_counter()
    drifted = snapshot.dict()["metrics"][0]["value"]
    return {
        "steps": {"run": t1 - t0},
        "verdict": f"{int(drifted['count'])} of {len(features) + 1} columns drifted "
        f"(share {drifted['share']:.2f}; dataset drift: {drifted['share'] >= 0.5})",
    }


def _run_nannyml(ref: pd.DataFrame, win: pd.DataFrame, features: list[str]) -> dict[str, Any]:
    import nannyml as nml

    ref = ref.assign(pred=(ref["score"] >= CUTOFF).astype(int))
    win = win.assign(pred=(win["score"] >= CUTOFF).astype(int))
    categorical = [f for f in features if f in CATEGORICAL]
    t0 = time.perf_counter()
    drift = nml.UnivariateDriftCalculator(
        column_names=[*features, "score"], treat_as_categorical=categorical, chunk_number=10
    ).fit(ref)
    t1 = time.perf_counter()
    drift_result = drift.calculate(win).filter(period="analysis").to_df()
    t2 = time.perf_counter()
    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="bad",
        problem_type="classification_binary",
        metrics=["roc_auc", "precision", "recall"],
        chunk_number=10,
    ).fit(ref)
    t3 = time.perf_counter()
    estimate = cbpe.estimate(win).filter(period="analysis").to_df()
    t4 = time.perf_counter()
    drift_alerts = int(drift_result.xs("alert", axis=1, level=-1).to_numpy().sum())
    cbpe_alerts = int(estimate.xs("alert", axis=1, level=-1).to_numpy().sum())
    auc = estimate[("roc_auc", "value")].mean()
    return {
        "steps": {
            "drift fit": t1 - t0,
            "drift calculate": t2 - t1,
            "CBPE fit": t3 - t2,
            "CBPE estimate": t4 - t3,
        },
        "verdict": f"{drift_alerts} column-chunk drift alerts, {cbpe_alerts} CBPE alerts, "
        f"estimated ROC AUC {auc:.3f}",
    }


def _run_labelwise_serial(ref: pd.DataFrame, win: pd.DataFrame, features: list[str]) -> dict:
    return _run_labelwise(ref, win, features, n_jobs=1)


RUNNERS = {
    "labelwise": _run_labelwise,
    "labelwise-1-thread": _run_labelwise_serial,
    "evidently": _run_evidently,
    "nannyml": _run_nannyml,
}
IMPORTS = {
    "labelwise": "labelwise.monitor",
    "labelwise-1-thread": "labelwise.monitor",
    "evidently": "evidently",
    "nannyml": "nannyml",
}


def time_tool(tool: str, folder: str, features: list[str]) -> dict[str, Any]:
    """Run in a fresh process: import the tool, read the data, time the tool's calls."""
    import importlib

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    importlib.import_module(IMPORTS[tool])
    imported = time.perf_counter() - t0
    ref = pd.read_parquet(Path(folder) / "reference.parquet")
    win = pd.read_parquet(Path(folder) / "window.parquet")
    reset = _reset_peak()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if not reset else None
    current = _current_mib()
    out = RUNNERS[tool](ref, win, features)
    out["seconds"] = sum(out["steps"].values())
    out["import_s"] = imported
    # Growth of the peak above the memory in use when the call started (data already loaded).
    out["peak_growth_mib"] = max(0.0, _peak_mib() - (current if reset else before))
    out["data_mib"] = float(win.memory_usage(deep=True).sum() / 2**20)
    return out


def speed(folder: Path, features: list[str]) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out = {}
    for tool in TOOLS:
        print(f"  {tool} ...", file=sys.stderr, flush=True)
        with context.Pool(1) as pool:
            out[tool] = pool.apply(time_tool, (tool, str(folder), features))
    for tool in ANCHORS:
        out[tool]["labelwise_speedup"] = out[tool]["seconds"] / out["labelwise"]["seconds"]
        out[tool]["labelwise_1_thread_speedup"] = (
            out[tool]["seconds"] / out["labelwise-1-thread"]["seconds"]
        )
    return out


# --- false alarms ----------------------------------------------------------------------------


def _windows(sim: CreditSimulator, size: int, count: int) -> list[pd.DataFrame]:
    """No-change windows: slices of fresh draws (windows 1, 2, ... of the population)."""
    per_draw = max(1, 1_000_000 // size)
    out: list[pd.DataFrame] = []
    draw = 1
    while len(out) < count:
        rows = min(count - len(out), per_draw) * size
        pool = sim.sample(rows, window=draw)
        out += [pool.iloc[i : i + size] for i in range(0, rows, size)]
        draw += 1
    return out


def false_alarms(
    sim: CreditSimulator, reference: pd.DataFrame, plan: dict[int, tuple[int, int]]
) -> list[dict[str, Any]]:
    from evidently import Report
    from evidently.metrics import DriftedColumnsCount

    from labelwise.monitor import PRESETS, Monitor, level_of

    features = sim.features
    monitor = Monitor(categorical=sim.categorical, alpha=ALPHA).fit(
        reference, score="score", features=features, label="bad", cutoff=CUTOFF
    )
    cutoffs = tuple(PRESETS["default"]["cutoffs"])
    ev_reference = _evidently_data(reference, features)
    rows = []
    for size, (n_labelwise, n_evidently) in plan.items():
        print(f"  windows of {size:,} rows ...", file=sys.stderr, flush=True)
        windows = _windows(sim, size, max(n_labelwise, n_evidently))
        fired: dict[str, int] = {}
        any_fired = warn = alert = 0
        t0 = time.perf_counter()
        for i, window in enumerate(windows[:n_labelwise]):
            result = monitor.check(window[[*features, "score"]], window_id=f"{size}-{i}")
            for m in result.metrics:
                if m.threshold is not None and m.fired is not None:
                    key = f"{m.monitor}/{m.metric}"
                    fired[key] = fired.get(key, 0) + int(m.fired)
            any_fired += bool(result.fired)
            level = level_of(result.composite, cutoffs)
            warn += level >= 2
            alert += level >= 3
        labelwise_s = time.perf_counter() - t0
        drifted = columns = 0
        t0 = time.perf_counter()
        for window in windows[:n_evidently]:
            value = Report([DriftedColumnsCount()]).run(
                _evidently_data(window, features), ev_reference
            )
            value = value.dict()["metrics"][0]["value"]
            drifted += value["share"] >= 0.5
            columns += value["count"]
        evidently_s = time.perf_counter() - t0
        worst = max(fired, key=fired.get)
        rows.append(
            {
                "size": size,
                "labelwise_windows": n_labelwise,
                "statistic_rates": {k: v / n_labelwise for k, v in fired.items()},
                "worst_statistic": worst,
                "worst_statistic_rate": fired[worst] / n_labelwise,
                "any_monitor_fired_rate": any_fired / n_labelwise,
                "warn_or_worse_rate": warn / n_labelwise,
                "alert_or_worse_rate": alert / n_labelwise,
                "labelwise_s_per_window": labelwise_s / n_labelwise,
                "evidently_windows": n_evidently,
                "evidently_dataset_drift_rate": drifted / n_evidently if n_evidently else None,
                "evidently_column_drift_rate": (
                    columns / (n_evidently * (len(features) + 1)) if n_evidently else None
                ),
                "evidently_s_per_window": evidently_s / n_evidently if n_evidently else None,
            }
        )
    return rows


# --- report ----------------------------------------------------------------------------------


def environment(load_start: float, packages: tuple[str, ...]) -> dict[str, Any]:
    """The packages' versions, Python, the CPUs and the load average at a run's start and end."""
    return {
        "versions": {name: metadata.version(name) for name in packages},
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }


def _rate(value: float | None, n: int) -> str:
    return "–" if value is None else f"{value:.3f} ({round(value * n)}/{n})"


def markdown(results: dict[str, Any]) -> str:
    env, sp = results["environment"], results["speed"]
    n_ref, n_win = results["reference_rows"], results["window_rows"]
    speed_rows = [
        "| tool | steps (s) | total | labelwise faster by (one thread) | peak memory growth "
        "| verdict |",
        "|---|---|---|---|---|---|",
    ]
    for tool in TOOLS:
        r = sp[tool]
        steps = ", ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
        ratio = (
            f"{r['labelwise_speedup']:.1f}× ({r['labelwise_1_thread_speedup']:.1f}×)"
            if "labelwise_speedup" in r
            else "–"
        )
        speed_rows.append(
            f"| {tool} | {steps} | {r['seconds']:.2f} s | {ratio} | "
            f"{r['peak_growth_mib']:.0f} MiB | {r['verdict']} |"
        )
    alarm_rows = [
        "| window rows | labelwise windows | worst statistic's rate | any monitor fired | "
        "composite ≥ warn | composite ≥ alert | Evidently windows | Evidently dataset drift | "
        "Evidently column drift |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["false_alarms"]:
        n, m = r["labelwise_windows"], r["evidently_windows"]
        alarm_rows.append(
            f"| {r['size']:,} | {n} | {r['worst_statistic_rate']:.3f} ({r['worst_statistic']}) "
            f"| {_rate(r['any_monitor_fired_rate'], n)} | {_rate(r['warn_or_worse_rate'], n)} "
            f"| {_rate(r['alert_or_worse_rate'], n)} | {m} "
            f"| {_rate(r['evidently_dataset_drift_rate'], m)} "
            f"| {_rate(r['evidently_column_drift_rate'], m * 21) if m else '–'} |"
        )
    blocks = [
        "## labelwise.monitor against Evidently and NannyML",
        f"labelwise {env['versions']['labelwise']}, Evidently {env['versions']['evidently']}, "
        f"NannyML {env['versions']['nannyml']}, pandas {env['versions']['pandas']}, numpy "
        f"{env['versions']['numpy']}, Python {env['python']}, {env['cpus']} CPUs, 1-minute load "
        f"average {env['load_start']:.1f} at the start and {env['load_end']:.1f} at the end "
        f"(other jobs shared the machine: timings are noisy). Reproduce: `{results['command']}`.",
        f"### Speed and memory: reference {n_ref:,} rows, window {n_win:,} rows × 20 features",
        "\n".join(speed_rows),
        f"The window's frame holds {sp['labelwise']['data_mib']:.0f} MiB. Each tool ran once, in "
        "a fresh process, after reading the Parquet files; imports are not timed (Evidently "
        f"{sp['evidently']['import_s']:.0f} s, NannyML {sp['nannyml']['import_s']:.0f} s "
        "here). labelwise's time includes its "
        "fit (bins, calibration, PCA) and, in the check, the null thresholds for this window "
        "size. `labelwise` runs with its default `n_jobs=None` (a thread per core: the null "
        "distribution is drawn while the window's chunks are counted); `labelwise-1-thread` with "
        "`n_jobs=1`. Evidently's preset renders its plots inside `run`; that is part of what "
        "it costs.",
        f"### False alarms with no change at all (labelwise alpha = {ALPHA} per statistic)",
        "\n".join(alarm_rows),
        "No-change windows are fresh draws of the reference population. labelwise: each "
        "statistic with a threshold (the null quantile at 1 - alpha for the window's size, "
        "raised to a materiality floor) and the composite against the default cut-offs "
        "(warn 0.25, alert 0.45). Evidently: `Report([DriftedColumnsCount()])`, the preset's "
        "first metric run alone (same per-column tests: with a reference over 1,000 rows, "
        "normalized Wasserstein >= 0.1 on numeric columns, Jensen-Shannon >= 0.1 on "
        "categorical ones; dataset drift when at least half of the 21 columns drift).",
        "\n".join(f"- {note}" for note in results["notes"]),
    ]
    return "\n\n".join(blocks) + "\n"


def notes(results: dict[str, Any]) -> list[str]:
    out = []
    sp = results["speed"]
    for tool in ANCHORS:
        ratio, serial = sp[tool]["labelwise_speedup"], sp[tool]["labelwise_1_thread_speedup"]
        out.append(
            f"Speed target (labelwise at least 5× faster than {tool}): "
            f"{'met' if ratio >= 5 else 'NOT met'} ({ratio:.1f}×; on one thread {serial:.1f}×)."
        )
    for r in results["false_alarms"]:
        n = r["labelwise_windows"]
        # One-sided binomial slack: with n windows a rate of alpha shows up to about 2 se above.
        slack = 2 * np.sqrt(ALPHA * (1 - ALPHA) / n)
        ok = r["worst_statistic_rate"] <= ALPHA + slack
        out.append(
            f"{r['size']:,} rows: every labelwise statistic fired in at most "
            f"{r['worst_statistic_rate']:.1%} of {n} no-change windows "
            f"({'within' if ok else 'ABOVE'} alpha = {ALPHA:.0%} plus 2 binomial standard "
            f"errors, {ALPHA + slack:.1%}); a window had some monitor over threshold in "
            f"{r['any_monitor_fired_rate']:.1%} (several statistics each at 5%)."
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-row window, fewer windows")
    parser.add_argument(
        "--only",
        choices=["speed", "false-alarms"],
        help="run one section; the other is kept from the saved results",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    n_ref, n_win = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    plan = (
        {500: (50, 10), 10_000: (20, 5), 100_000: (2, 1)}
        if args.quick
        else {500: (200, 50), 10_000: (100, 30), 1_000_000: (5, 2)}
    )
    sim = CreditSimulator(n_features=20, seed=0)
    reference = sim.sample(n_ref, window=0)
    suffix = ".quick" if args.quick else ""
    saved = OUT / f"monitor_anchors{suffix}.json"
    results: dict[str, Any] = json.loads(saved.read_text()) if args.only and saved.exists() else {}
    results.update(reference_rows=n_ref, window_rows=n_win)
    if args.only in (None, "speed"):
        print("speed and memory ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="monitor-anchors-", dir="/tmp") as folder:
            reference.to_parquet(Path(folder) / "reference.parquet")
            # A window of another draw (window 101): not one the false-alarm runs reuse.
            sim.sample(n_win, window=101).to_parquet(Path(folder) / "window.parquet")
            results["speed"] = speed(Path(folder), sim.features)
    if args.only in (None, "false-alarms"):
        print("false alarms ...", file=sys.stderr, flush=True)
        results["false_alarms"] = false_alarms(sim, reference, plan)
    packages = ("labelwise", "evidently", "nannyml", "pandas", "numpy", "scipy", "scikit-learn")
    results["environment"] = environment(load_start, packages)
    results["command"] = ".bench-anchors-venv/bin/python benchmarks/monitor_anchors.py" + (
        " --quick" if args.quick else ""
    )
    results["seconds"] = time.perf_counter() - started
    write_json(results, saved)  # before the report: a section that ran is never lost
    complete = "speed" in results and "false_alarms" in results
    if complete:
        results["notes"] = notes(results)
        write_text(markdown(results), OUT / f"monitor_anchors{suffix}.md")
        write_json(results, saved)
    print(markdown(results) if complete else "one section only; run both to render the report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
