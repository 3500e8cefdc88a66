"""``labelwise audit``: find mislabeled rows in a table, or from saved predicted probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from labelwise import io
from labelwise.cli import _report, _ui
from labelwise.cli._ui import split_names
from labelwise.errors import LabelError
from labelwise.issues import dask_array_from_npy, dask_client
from labelwise.issues.audit import ALL_COLUMNS, AuditReport, audit, audit_predictions
from labelwise.issues.audit_regression import TASKS, RegressionAuditReport
from labelwise.issues.filter import METHODS
from labelwise.models import AUTO_CANDIDATES, MODELS

#: Above this many pred_probs cells, show a spinner while the arrays are checked and scored.
SPINNER_CELLS = 1_000_000
DEFAULT_CV = 5
DEFAULT_OUT = Path("labelwise-audit")
#: Rows per Dask task when --chunk-rows is not given.
DASK_CHUNK_ROWS = 1_000_000


def _as_label_type(values: np.ndarray, names: list[str] | None) -> list | None:
    """``--classes`` is text; for integer labels, integer names are compared as integers."""
    if names is None or np.asarray(values).dtype.kind not in "iu":
        return names
    try:
        return [int(name) for name in names]
    except ValueError:
        return names


def _named_codes(labels: np.ndarray, names: list | None) -> np.ndarray:
    """Integer labels with non-integer ``--classes`` are column codes: give each its name."""
    if not names or labels.dtype.kind not in "iu" or isinstance(names[0], int):
        return labels
    if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
        raise LabelError(
            f"labels are integers from {labels.min()} to {labels.max()}, but --classes names "
            f"{len(names)} classes; integer labels must be column codes 0..{len(names) - 1}."
        )
    return np.asarray(names)[labels]


def _from_arrays(
    labels_path: Path,
    pred_probs_path: Path,
    classes: list[str] | None,
    label_column: str | None,
    flagging: dict,
    memory: dict,
) -> AuditReport:
    """Flag issues and estimate noise from saved labels and out-of-sample pred_probs.

    ``flagging`` holds audit_predictions' settings (method, seed, bootstrap), ``memory`` how the
    probabilities are read (memory limit, chunk rows, Dask scheduler).
    """
    labels = io.read_labels(labels_path, column=label_column)
    # Memory-mapped (.npy) or read by batches (.parquet): a large file is never loaded whole.
    chunked = pred_probs_path.suffix in (".npy", ".parquet", ".pq")
    pred_probs = str(pred_probs_path) if chunked else io.read_array(pred_probs_path)
    classes = _as_label_type(labels, classes)
    labels = _named_codes(labels, classes)
    options = {"classes": classes, "label": label_column or labels_path.name, **flagging}
    address = memory.pop("dask")
    if address is not None:
        with dask_client(address):
            rows = memory.pop("chunk_rows") or DASK_CHUNK_ROWS
            source = dask_array_from_npy(pred_probs_path, rows)
            return _audit_arrays(labels, source, {**options, **memory})
    return _audit_arrays(labels, pred_probs, {**options, **memory})


def _audit_arrays(labels: np.ndarray, pred_probs: Any, options: dict) -> AuditReport:
    with _ui.pass_progress() as progress:
        return audit_predictions(labels, pred_probs, progress=progress, **options)


def _feature_items(features: list[str] | None) -> list | None:
    """``--features`` items: column names, ``*`` for every other column, ``.npy`` embeddings."""
    if features is None:
        return None
    return [Path(item) if item.endswith(".npy") else item for item in features]


def _table_columns(features: list | None, label: str) -> list | None:
    """The columns to read: all of them, or only those the features name (and the label)."""
    if features is None or ALL_COLUMNS in features:
        return None
    names = [item for item in features if not isinstance(item, Path)]
    return list(dict.fromkeys([*names, label]))


def _from_table(
    data: Path,
    label: str,
    features: list[str] | None,
    classes: list[str] | None,
    options: dict,
) -> AuditReport | RegressionAuditReport:
    """Cross-validate a model on the table's features, then flag issues and estimate noise.

    ``options`` holds audit's settings: the flagging ones, the model, the folds, the data issues.
    """
    features = _feature_items(features)
    table = io.read_table(data, columns=_table_columns(features, label))
    if label in table.columns:
        classes = _as_label_type(table[label].to_numpy(), classes)
    with _ui.count_progress("Fitting models", "fits") as progress:
        return audit(table, label, features=features, classes=classes, progress=progress, **options)


def _check_mode(
    ctx: typer.Context,
    data: Path | None,
    label: str | None,
    labels: Path | None,
    pred_probs: Path | None,
    features: str | None,
    cv: int | None,
    memory_limit: str | None = None,
    chunk_rows: int | None = None,
    dask: str | None = None,
) -> None:
    """Exactly one input mode: DATA with --label, or --labels with --pred-probs."""
    arrays = labels is not None or pred_probs is not None
    if data is not None and arrays:
        ctx.fail(
            "give either DATA (a table, with --label) or --labels with --pred-probs, not both."
        )
    if data is None and not arrays:
        ctx.fail(
            "give DATA (a CSV or Parquet table, with --label COLUMN) or --labels L --pred-probs P."
        )
    if data is not None and label is None:
        ctx.fail("--label COLUMN is required with DATA: name the column holding the labels.")
    if arrays and (labels is None or pred_probs is None):
        missing = "--pred-probs" if pred_probs is None else "--labels"
        ctx.fail(f"{missing} is required too: --labels and --pred-probs go together.")
    if data is not None and (memory_limit is not None or chunk_rows is not None or dask):
        ctx.fail("--memory-limit, --chunk-rows and --dask apply to --pred-probs files only.")
    if arrays and (features is not None or cv is not None):
        ctx.fail("--features and --cv apply to DATA only; --pred-probs needs no model.")


def _check_model(ctx: typer.Context, arrays: bool, model: str | None, ensemble: bool) -> None:
    if arrays and (model is not None or ensemble):
        ctx.fail("--model and --ensemble apply to DATA only; --pred-probs needs no model.")
    if ensemble and model not in (None, "auto"):
        ctx.fail("--ensemble averages the 'auto' candidates; leave out --model or use auto.")


def audit_command(
    ctx: typer.Context,
    data: Path | None = typer.Argument(
        None,
        help="A table (.csv, .tsv, .parquet, .pq) with one row per example.",
        metavar="DATA",
        show_default=False,
    ),
    label: str | None = typer.Option(
        None,
        "--label",
        "-l",
        help="The label column of DATA (or of a --labels CSV/Parquet with several columns).",
    ),
    labels: Path | None = typer.Option(
        None, "--labels", help="Given labels, one per example (.npy, .csv, .txt, .parquet)."
    ),
    pred_probs: Path | None = typer.Option(
        None,
        "--pred-probs",
        help="Out-of-sample predicted probabilities, one row per example (.npy, .csv, .parquet).",
    ),
    classes: str | None = typer.Option(
        None, "--classes", help="Comma-separated class of each pred_probs column, in order."
    ),
    out: Path = _ui.out_option(DEFAULT_OUT),
    method: str = typer.Option(
        METHODS[0], "--method", help=f"How issues are flagged: {', '.join(METHODS)}."
    ),
    cv: int | None = typer.Option(
        None, "--cv", min=2, help=f"Cross-validation folds for DATA (default {DEFAULT_CV})."
    ),
    features: str | None = typer.Option(
        None,
        "--features",
        help="What the model reads: comma-separated columns of DATA, '*' for all other columns, "
        "and .npy embeddings (one row per table row). Default: all other columns.",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help=f"The model: auto (default: the best of {', '.join(AUTO_CANDIDATES)} by "
        f"out-of-sample log loss, or their average), {'|'.join(MODELS)}, or module:Class.",
    ),
    ensemble: bool = typer.Option(
        False, "--ensemble", help="Average every candidate's out-of-sample probabilities."
    ),
    data_issues: str | None = typer.Option(
        None,
        "--issues",
        help="Data issues to find besides the labels: 'all' (the default with DATA), 'none', or "
        "comma-separated of near_duplicate, outlier, non_iid, class_imbalance, "
        "underperforming_group, null. Writes OUT/data_issues.csv and OUT/summary.json.",
    ),
    task: str = typer.Option(
        "auto",
        "--task",
        help="auto (a numeric label with many distinct values is a regression target), "
        "classification or regression.",
    ),
    top: int = typer.Option(20, "--top", min=0, help="Issues shown on the console."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds and the noise-rate bootstrap."),
    bootstrap: int = typer.Option(
        500, "--bootstrap", min=0, help="Bootstrap replicates of the noise-rate interval (0: none)."
    ),
    memory_limit: str | None = typer.Option(
        None,
        "--memory-limit",
        help="Working-memory budget for --pred-probs, e.g. 2GB: it is read in chunks to fit.",
    ),
    chunk_rows: int | None = typer.Option(
        None, "--chunk-rows", min=1, help="Read --pred-probs this many rows at a time."
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        help="Run the passes on a Dask cluster: a scheduler address, or 'local' for a new "
        "two-worker local cluster (--pred-probs .npy only).",
    ),
) -> None:
    """Find examples whose label looks wrong, and estimate how noisy the labels are.

    Writes OUT/label_issues.csv (most suspicious first) and OUT/noise.json.
    """
    _check_mode(ctx, data, label, labels, pred_probs, features, cv, memory_limit, chunk_rows, dask)
    _check_model(ctx, data is None, model, ensemble)
    if data is None and data_issues is not None:
        ctx.fail("--issues reads the features of DATA; it does not apply to --pred-probs.")
    names = split_names(classes)
    # One set of flagging settings, whichever input the labels and probabilities come from.
    flagging = {"method": method, "random_state": seed, "n_bootstrap": bootstrap}
    if data is not None:
        if task not in TASKS:
            ctx.fail(f"--task must be one of {', '.join(TASKS)}, got {task!r}.")
        choice = {"model": model or "auto", "ensemble": ensemble, "task": task}
        choice["issue_types"] = "all" if data_issues is None else data_issues
        choice["cv"] = cv or DEFAULT_CV
        report = _from_table(data, label, split_names(features), names, {**flagging, **choice})
    else:
        memory = {"memory_limit": memory_limit, "chunk_rows": chunk_rows, "dask": dask}
        report = _from_arrays(labels, pred_probs, names, label, flagging, memory)
    if isinstance(report, RegressionAuditReport):
        written = _report.finish_regression(report, out, top)
    else:
        written = _report.finish(report, out, top)
    _report.print_written(_ui.out(), written)
