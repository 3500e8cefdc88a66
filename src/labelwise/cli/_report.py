"""What the commands write and print.

``audit`` and ``demo`` write the issues file, the noise file and a summary; the study commands
(``benchmark``, ``budget``, ``cot``...) write their results under one stem and list the files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from labelwise import io
from labelwise.cli import _ui
from labelwise.issues.audit import AuditReport
from labelwise.issues.audit_regression import RegressionAuditReport
from labelwise.issues.noise import NoiseEstimate

#: The leading columns of ``label_issues.csv``, in order.
ISSUE_COLUMNS = ("rank", "row", "given", "suggested", "score")
ISSUES_FILE = "label_issues.csv"
#: The table's own index of a flagged row, in ``label_issues.csv`` only where it is not ``row``.
TABLE_INDEX = "table_index"
NOISE_FILE = "noise.json"
#: Confused pairs shown on the console (the JSON file holds all of them).
CONFUSED_SHOWN = 5


@dataclass(frozen=True)
class Written:
    """Where the result files went."""

    issues: Path
    noise: Path
    extra: tuple[Path, ...] = ()


def issues_columns_first(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`ISSUE_COLUMNS` first, in order, and any other columns after."""
    rest = [c for c in frame.columns if c not in ISSUE_COLUMNS]
    return frame[[*ISSUE_COLUMNS, *rest]]


def table_index_column(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the ``index`` column of ``to_frame()`` where it only repeats ``row``.

    ``row`` numbers the rows in every labelwise file. A table read from a file is indexed by
    position, so its ``index`` is ``row`` again; a Parquet file that saved its own index (ids,
    dates) keeps it, as :data:`TABLE_INDEX`.
    """
    if "index" not in frame.columns:
        return frame
    if (frame["index"] == frame["row"]).all():
        return frame.drop(columns="index")
    return frame.rename(columns={"index": TABLE_INDEX})


def noise_document(noise: NoiseEstimate, method: str, summary: Mapping[str, Any]) -> dict:
    """The contents of ``noise.json``: the noise estimate, the flagging method and the summary."""
    return {**noise.to_dict(), "method": method, "summary": dict(summary)}


def write_results(out_dir: Path, issues: pd.DataFrame, document: Mapping[str, Any]) -> Written:
    """Write ``label_issues.csv`` and ``noise.json`` into ``out_dir`` (created if needed)."""
    columns = issues_columns_first(table_index_column(issues))
    issues_path = io.write_csv(columns, out_dir / ISSUES_FILE)
    noise_path = io.write_json(document, out_dir / NOISE_FILE)
    return Written(issues=issues_path, noise=noise_path)


def _cell(value: Any) -> Text:
    # Text, not a str: a class name such as "[b]" must not be read as rich markup.
    if isinstance(value, float):
        return Text(f"{value:.3g}")
    return Text(str(value))


def issues_table(
    frame: pd.DataFrame, top: int, extra: Sequence[str] = (), title: str | None = None
) -> Table:
    """A table of the ``top`` first rows of an issues frame, with ``extra`` columns at the end."""
    columns = [*ISSUE_COLUMNS, *extra]
    shown = frame.head(top)
    table = _ui.ResultTable(title=title)
    for name in columns:
        numeric = name in ("rank", "row", "score", "residual", "z")
        table.add_column(name, justify="right" if numeric else "left")
    for row in shown[columns].itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _percent(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def noise_lines(noise: NoiseEstimate, flagged: int) -> list[str]:
    """The noise rate with its interval, the expected and flagged counts, as console lines."""
    lo, hi = noise.noise_rate_interval
    rate = f"[bold]{_percent(noise.noise_rate)}[/bold]"
    if math.isnan(lo):
        interval = "(no interval: bootstrap disabled)"
    else:
        interval = f"({noise.confidence:.0%} interval {_percent(lo)} to {_percent(hi)})"
    return [
        f"Estimated noise rate: {rate} {interval}",
        f"Expected label issues: [bold]{noise.expected_issues}[/bold] of {noise.n_examples} "
        f"examples; flagged: [bold]{flagged}[/bold]",
    ]


def confused_table(noise: NoiseEstimate, top: int = CONFUSED_SHOWN) -> Table | None:
    """The classes most often confused (given vs. estimated true), or None if there are none."""
    pairs = noise.confused_pairs(top=top)
    if pairs.empty:
        return None
    table = _ui.ResultTable(title="Most confused classes")
    for name, justify in (("given", "left"), ("true", "left"), ("count", "right")):
        table.add_column(name, justify=justify)
    table.add_column("share of given", justify="right")
    for row in pairs.itertuples(index=False):
        share = Text(_percent(float(row.share_of_given)))
        table.add_row(_cell(row.given), _cell(row.true), _cell(row.count), share)
    return table


def print_summary(
    console: Console,
    issues: pd.DataFrame,
    noise: NoiseEstimate,
    top: int,
    extra: Sequence[str] = (),
) -> None:
    """Print the top issues, the noise estimate and the most confused classes."""
    if top > 0 and not issues.empty:
        title = f"Top {min(top, len(issues))} of {len(issues)} label issues (lowest score first)"
        console.print(issues_table(issues, top, extra, title=title))
    elif issues.empty:
        console.print("No label issues found.")
    for line in noise_lines(noise, flagged=len(issues)):
        console.print(line)
    table = confused_table(noise)
    if table is not None:
        console.print(table)


def print_paths(console: Console, paths: Iterable[Path]) -> None:
    """One ``Wrote PATH`` line a file, never wrapped, so that a path can be copied whole."""
    for path in paths:
        console.print(f"Wrote [bold]{escape(str(path))}[/bold]", soft_wrap=True)


def print_written(console: Console, written: Written) -> None:
    """Say where the result files went."""
    print_paths(console, (written.issues, written.noise, *written.extra))


def model_table(report: AuditReport) -> Table | None:
    """Every candidate's out-of-sample scores, the model used marked; None without a model."""
    choice = report.model_choice
    if choice is None or report.quality is None:
        return None
    table = _ui.ResultTable(title=f"Model: {choice.name}")
    for name in ("model", "accuracy", "log loss", "calibration error", "noise rate"):
        table.add_column(name, justify="left" if name == "model" else "right")
    q = report.quality
    rows = [(f"{c.name}{' *' if c.name in choice.members else ''}", c) for c in choice.candidates]
    for label, c in rows:
        table.add_row(
            label,
            _percent(c.accuracy),
            f"{c.log_loss:.3f}",
            f"{c.calibration_error:.3f}",
            _percent(c.noise_rate),
        )
    used = f"used, {report.n_rows:,} rows" if choice.candidates else choice.name
    rate = _percent(report.noise.noise_rate)
    table.add_row(
        Text(used, style="bold"),
        _percent(q.accuracy),
        f"{q.log_loss:.3f}",
        f"{q.calibration_error:.3f}",
        rate,
    )
    if choice.candidates:
        table.caption = escape(choice.reason)
    return table


def print_model(console: Console, report: AuditReport) -> None:
    """The model's table and, in plain words, any doubt about the noise estimate."""
    table = model_table(report)
    if table is not None:
        console.print(table)
    if report.quality is None:
        return
    for doubt in report.quality.doubts:
        console.print(f"[bold yellow]caution:[/bold yellow] {escape(doubt)}", soft_wrap=True)


def summary_of(report: AuditReport) -> dict:
    """The report's JSON summary; a report built from arrays has no model to name."""
    summary = report.summary()
    if report.model is None:
        summary["model"] = None
    return summary


def finish(
    report: AuditReport,
    out: Path,
    top: int,
    issues: pd.DataFrame | None = None,
    extra: Sequence[str] = (),
) -> Written:
    """Write the result files and print the summary; shared by ``audit`` and ``demo``.

    ``issues`` replaces ``report.to_frame()`` as the issues table (``demo`` adds a column).
    The caller says where the files went (:func:`print_written`) once it has said the rest.
    """
    frame = report.to_frame() if issues is None else issues
    document = noise_document(report.noise, report.issues.method, summary_of(report))
    written = write_results(out, frame, document)
    console = _ui.out()
    print_summary(console, frame, report.noise, top, extra)
    print_model(console, report)
    if report.data_issues is not None:
        written = write_data_issues(out, report, written)
        console.print(data_issues_table(report.data_issues.summary()))
    return written


DATA_ISSUES_FILE = "data_issues.csv"
SUMMARY_FILE = "summary.json"


def write_data_issues(
    out_dir: Path, report: AuditReport | RegressionAuditReport, written: Written
) -> Written:
    """``data_issues.csv`` (issue, row, column, score, detail, ...) and ``summary.json``."""
    frame = report.data_issues.to_frame()
    issues = io.write_csv(frame, out_dir / DATA_ISSUES_FILE)
    labels = summary_of(report) if isinstance(report, AuditReport) else report.summary()
    summary = {"label_issues": labels, "data_issues": report.data_issues.summary()}
    path = io.write_json(summary, out_dir / SUMMARY_FILE)
    return Written(issues=written.issues, noise=written.noise, extra=(issues, path))


def data_issues_table(summary: Mapping[str, Any]) -> Table:
    """One row per data-issue type: how many flagged, the dataset's score, and the verdict."""
    table = _ui.ResultTable(title="Data issues")
    for name, justify in (("issue", "left"), ("count", "right"), ("score", "right")):
        table.add_column(name, justify=justify)
    table.add_column("verdict")
    for name, result in summary.items():
        if "skipped" in result:
            table.add_row(name, "", "", Text(f"skipped: {result['skipped']}"))
            continue
        verdict = "issue" if result["is_issue"] else "no issue"
        if result.get("p_value") is not None:
            verdict += f" (p = {result['p_value']:.3g})"
        table.add_row(name, str(result["count"]), _cell(result["score"]), verdict)
    return table


def regression_model_table(report: RegressionAuditReport) -> Table:
    """Every candidate regressor's out-of-sample R², MAE and RMSE, the model used marked."""
    choice, q = report.model_choice, report.quality
    table = _ui.ResultTable(title=f"Model: {choice.name}")
    for name in ("model", "R²", "MAE", "RMSE"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for c in choice.candidates:
        used = " *" if c.name in choice.members else ""
        table.add_row(f"{c.name}{used}", f"{c.r2:.3f}", f"{c.mae:.4g}", f"{c.rmse:.4g}")
    used = f"used, {report.n_rows:,} rows" if choice.candidates else choice.name
    table.add_row(Text(used, style="bold"), f"{q.r2:.3f}", f"{q.mae:.4g}", f"{q.rmse:.4g}")
    if choice.candidates:
        table.caption = escape(choice.reason)
    return table


def finish_regression(report: RegressionAuditReport, out: Path, top: int) -> Written:
    """Write and print the audit of a numeric target, in the same files as for classes."""
    frame = report.to_frame()
    document = {"task": "regression", "summary": report.summary()}
    written = write_results(out, frame, document)
    console = _ui.out()
    if report.task_reason:
        console.print(f"Task: regression ({escape(report.task_reason)})", soft_wrap=True)
    if top > 0 and not frame.empty:
        shown = min(top, len(frame))
        title = f"Top {shown} of {len(frame)} suspicious targets (lowest score first)"
        console.print(issues_table(frame, top, ("residual", "z"), title=title))
    elif frame.empty:
        console.print("No suspicious targets found.")
    issues = report.issues
    console.print(
        f"Flagged: [bold]{issues.num_issues}[/bold] of {report.n_rows} rows (residual beyond "
        f"the model's uncertainty at score < {issues.threshold:.2g}); estimated share of "
        f"corrupted targets: [bold]{_percent(issues.noise_rate)}[/bold]",
        soft_wrap=True,
    )
    console.print(regression_model_table(report))
    for doubt in report.quality.doubts:
        console.print(f"[bold yellow]caution:[/bold yellow] {escape(doubt)}", soft_wrap=True)
    if report.data_issues is not None:
        written = write_data_issues(out, report, written)
        console.print(data_issues_table(report.data_issues.summary()))
    return written


def write_file(content: Any, path: Path) -> Path:
    """Write one result by what it is: text as is, a table as CSV, a plot by drawing it.

    A callable is a result's ``plot`` method, given the path to draw into; anything else not
    text nor a table is written as JSON.
    """
    if isinstance(content, str):
        return io.write_text(content, path)
    if isinstance(content, pd.DataFrame):
        return io.write_csv(content, path)
    if callable(content):
        return Path(content(path))
    return io.write_json(content, path)


def finish_study(
    out: Path,
    files: Mapping[str, Any],
    shown: Iterable[RenderableType],
    seconds: float | None = None,
) -> list[Path]:
    """Write a study's ``files`` (name -> content) into ``out``, print ``shown``, list the files.

    The files are written first, so that a failed write prints no results that were not kept.
    """
    written = [write_file(content, out / name) for name, content in files.items()]
    console = _ui.out()
    for item in shown:
        console.print(item)
    console.print("Wrote:" if seconds is None else f"Ran in {seconds:.1f} s. Wrote:")
    for path in written:
        console.print(f"  {path}")
    return written
