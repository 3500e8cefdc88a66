"""``labelwise monitor``: fit a label-free monitor, check windows, reconcile labels, verify.

The commands are thin shells around :class:`labelwise.monitor.Monitor` and
:class:`labelwise.monitor.store.MonitorStore`. ``check`` computes every window before it
writes anything, so a bad window leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from labelwise import io
from labelwise._shared.progress import progress_bar
from labelwise._shared.serialize import strict_json
from labelwise.cli import _ui
from labelwise.cli._ui import split_names
from labelwise.errors import ConfigError, DataFileError, InputError, LabelwiseError

__all__ = [
    "monitor_app",
    "fit_command",
    "check_command",
    "reconcile_command",
    "verify_command",
    "parse_every",
    "split_windows",
]

#: "7d" and "2w" as pandas now spells them ("7D", "2W"); users write them lower case.
_DAY_OR_WEEK = re.compile(r"(?<=\d)[dw]$")
#: Show a progress bar from this many windows on.
PROGRESS_WINDOWS = 3
#: Exit status of ``verify`` when the chain is broken (bad input stays 2).
EXIT_BROKEN = 1
#: Exit status of ``check --fail-on LEVEL`` when a window of the run reached LEVEL.
EXIT_SEVERITY = 3
FORMATS = ("table", "json")
SEVERITY_STYLES = {
    "ok": "green",
    "watch": "yellow",
    "warn": "dark_orange",
    "alert": "bold red",
    "critical": "bold white on red",
}

monitor_app = typer.Typer(
    cls=_ui.LabelwiseSubgroup,
    help="Watch a deployed classifier without labels: fit, check windows, reconcile, verify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


# --- windows -----------------------------------------------------------------------------------


@dataclass
class Window:
    """One window to check: its id, its period (if known) and its rows."""

    window_id: str
    start: str | None
    end: str | None
    rows: pd.DataFrame | Path  # a Parquet path is streamed by the monitor


def parse_every(text: str) -> pd.DateOffset:
    """A window length such as ``7d``, ``1h``, ``30d`` or ``MS`` as a pandas offset.

    Examples
    --------
    >>> pd.Timestamp("2024-01-01") + parse_every("7d")
    Timestamp('2024-01-08 00:00:00')
    >>> pd.Timestamp("2024-01-31") + parse_every("MS")
    Timestamp('2024-02-01 00:00:00')
    """
    text = text.strip()
    offset = None
    if text and not text.replace(".", "", 1).isdigit():  # a bare number has no unit
        try:
            # Fixed lengths first (7d, 1h, 90min): pandas parses them without deprecated aliases.
            length = pd.Timedelta(_DAY_OR_WEEK.sub(lambda m: m.group(0).upper(), text))
            offset = pd.tseries.frequencies.to_offset(length)
        except (ValueError, TypeError):
            with contextlib.suppress(ValueError, TypeError):
                offset = pd.tseries.frequencies.to_offset(text)  # calendar: MS, W, QS...
    if offset is None:
        raise ConfigError(
            f"--every {text!r} is not a window length; use a pandas offset such as 7d, 1h, 30d "
            "or MS (month start)."
        )
    if getattr(offset, "n", 1) <= 0:
        raise ConfigError(f"--every {text!r} must be a positive length.")
    return offset


def _whole_days(offset: pd.DateOffset) -> bool:
    """Whether every period of ``offset`` starts at midnight (days, weeks, months...)."""
    try:
        nanos = offset.nanos
    except (AttributeError, ValueError):  # a calendar offset (month, week) has no fixed length
        return True
    return nanos % (24 * 3600 * 10**9) == 0


def window_id(start: pd.Timestamp, offset: pd.DateOffset) -> str:
    """The id of a window: its period start, as a date for whole-day periods.

    Examples
    --------
    >>> window_id(pd.Timestamp("2024-03-04"), parse_every("7d"))
    '2024-03-04'
    >>> window_id(pd.Timestamp("2024-03-04 13:00"), parse_every("1h"))
    '2024-03-04T13:00'
    """
    if _whole_days(offset):
        return start.strftime("%Y-%m-%d")
    return start.strftime("%Y-%m-%dT%H:%M:%S" if start.second else "%Y-%m-%dT%H:%M")


def _times(table: pd.DataFrame, column: str) -> pd.Series:
    """The time column as datetimes, or an InputError naming the column and the bad value."""
    if column not in table.columns:
        raise InputError(f"the window has no time column {column!r} (--time-column).")
    try:
        times = pd.to_datetime(table[column])
    except (ValueError, TypeError, OverflowError):
        # The first value fixes the inferred format; ISO 8601 text may mix dates and times.
        try:
            times = pd.to_datetime(table[column], format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            raise InputError(
                f"time column {column!r} does not hold dates or times: {_ui.one_line(exc)}"
            ) from exc
    missing = int(times.isna().sum())
    if missing:
        raise InputError(
            f"time column {column!r} has {missing} missing value(s); every row needs a time to "
            "fall into a window."
        )
    return times


def split_windows(table: pd.DataFrame, time_column: str, every: str) -> list[Window]:
    """Split ``table`` into consecutive windows of length ``every`` along ``time_column``.

    Periods start at midnight of the first day (or on the calendar for month or week
    offsets); a period without rows is skipped.

    Examples
    --------
    >>> t = pd.DataFrame({"t": ["2024-01-01", "2024-01-03", "2024-01-09"], "x": [1, 2, 3]})
    >>> [(w.window_id, len(w.rows)) for w in split_windows(t, "t", "7d")]
    [('2024-01-01', 2), ('2024-01-08', 1)]
    """
    offset = parse_every(every)
    times = _times(table, time_column)
    keyed = table.assign(**{time_column: times})
    grouper = pd.Grouper(
        key=time_column, freq=offset, origin="start_day", closed="left", label="left"
    )
    windows = []
    for start, rows in keyed.groupby(grouper, sort=True):
        if rows.empty:
            continue
        start = pd.Timestamp(start)
        windows.append(
            Window(
                window_id(start, offset),
                start.isoformat(),
                (start + offset).isoformat(),
                rows.reset_index(drop=True),
            )
        )
    return windows


def _single_window(
    table: pd.DataFrame, path: Path, window: str | None, time_column: str | None
) -> Window:
    """The whole file as one window; its period is the span of the time column, if given."""
    start = end = None
    if time_column is not None:
        times = _times(table, time_column)
        if len(times):
            start, end = times.min().isoformat(), times.max().isoformat()
    return Window(window or path.stem, start, end, table)


# --- the monitor and the store -----------------------------------------------------------------


def _existing_file(path: Path, what: str) -> None:
    """Name the missing file by its role (window, reference, labels), not as a generic table."""
    if not path.exists():
        raise DataFileError(f"{what} file {str(path)!r} does not exist.")
    if not path.is_file():
        raise DataFileError(f"{what} path {str(path)!r} is not a file.")


def _load_monitor(path: Path) -> Any:
    from labelwise.monitor import Monitor

    if not path.exists():
        raise DataFileError(
            f"monitor file {str(path)!r} does not exist; create it with `labelwise monitor fit`."
        )
    return Monitor.from_json(path)


def _store_url(db: str | None, monitor_path: Path | None) -> str:
    """``--db`` if given, else the SQLite file beside ``monitor.json``."""
    if db is not None:
        return db
    from labelwise.monitor.store import default_store_url

    return default_store_url(monitor_path)


def _existing_store(url: str) -> Any:
    """Open a store that must already exist (verify, reconcile): never create an empty one."""
    from labelwise.monitor.store import MonitorStore

    return MonitorStore(url, create=False)


def _provenance(monitor: Any, monitor_path: Path) -> dict[str, Any]:
    """What a stored run records about the monitor: model, version, hashes and configuration."""
    fit = dict(getattr(monitor, "fit_params_", {}))
    return {
        # A monitor fitted in Python may have no model name: its file name stands in.
        "model": monitor.model or monitor_path.stem,
        "model_version": monitor.model_version or "unversioned",
        "reference_hash": monitor.reference_hash,
        "config_hash": monitor.config_hash,
        "config": {"params": monitor.get_params(), "fit": fit, "monitor_file": monitor_path.name},
    }


def _shown(url: str) -> str:
    """The store's address for messages, without its password."""
    from labelwise._shared.urls import display_url

    return display_url(url)


@contextlib.contextmanager
def _opened(store: Any) -> Iterator[Any]:
    try:
        yield store
    finally:
        store.close()


# --- output ------------------------------------------------------------------------------------


def _fired(result: dict) -> list[str]:
    """Monitors with at least one fired metric, in report order."""
    from labelwise.monitor.alerts import fired_monitors

    return fired_monitors(result)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.3f}"


def results_table(results: Sequence[dict], title: str) -> Table:
    """A rich table of each window's composite and severity."""
    from labelwise._shared.formatting import format_time as when

    table = _ui.ResultTable(title=title)
    width = min(40, max((len(str(r["window"])) for r in results), default=6))
    # Window ids are what users type into `reconcile`: never cut them short (a long one folds).
    table.add_column("window", min_width=width)
    table.add_column("period")
    table.add_column("rows", justify="right")
    table.add_column("composite", justify="right")
    table.add_column("severity", min_width=max(map(len, SEVERITY_STYLES)))
    table.add_column("fired")
    for r in results:
        severity = str(r.get("severity"))
        style = SEVERITY_STYLES.get(severity, "")
        start, end = when(r.get("start")), when(r.get("end"))
        period = f"{start} → {end}" if start or end else "—"
        table.add_row(
            escape(str(r["window"])),
            escape(period),
            str(r.get("n_rows", "—")),
            _number(r.get("composite")),
            f"[{style}]{severity}[/]" if style else escape(severity),
            escape(", ".join(_fired(r)) or "—"),
        )
    return table


def json_line(result: dict, run_id: int | None = None) -> str:
    """One window as a JSON line: the headline first, then the metrics and details."""
    head = {
        "window": result["window"],
        "composite": result.get("composite"),
        "severity": result.get("severity"),
        "start": result.get("start"),
        "end": result.get("end"),
        "n_rows": result.get("n_rows"),
        "fired": _fired(result),
        "run_id": run_id,
    }
    rest = {k: v for k, v in result.items() if k not in head}
    return json.dumps(strict_json({**head, **rest}), allow_nan=False)


@contextlib.contextmanager
def window_progress(total: int) -> Iterator[Callable[[str], None]]:
    """A transient bar over windows on stderr; yields ``advance(window_id)``."""
    show = total >= PROGRESS_WINDOWS
    with progress_bar("Checking", "windows", total=total, console=_ui.err(), show=show) as bar:
        yield lambda name: bar.advance(description=f"Checking {name}")


# --- commands ----------------------------------------------------------------------------------


def fit_command(
    ctx: typer.Context,
    reference: Path = typer.Argument(
        ...,
        help="Reference window (.csv, .tsv, .parquet, .pq): model outputs, features and labels.",
        metavar="REFERENCE",
        show_default=False,
    ),
    score: str | None = typer.Option(
        None,
        "--score",
        help="Classifier output: the column of P(bad) in [0, 1], or comma-separated probability "
        "columns, one per class (multiclass).",
    ),
    prediction: str | None = typer.Option(
        None, "--prediction", help="Regression output: the column of the model's predictions."
    ),
    label: str | None = typer.Option(
        None,
        "--label",
        help="Column of the reference's known outcomes (0/1, class names or targets), if any.",
    ),
    task: str | None = typer.Option(
        None,
        "--task",
        help="binary, multiclass or regression (default: from --score and --prediction).",
    ),
    classes: str | None = typer.Option(
        None,
        "--classes",
        help="Comma-separated class names of the --score columns, in order (default: the "
        "columns' suffixes, p_cat -> cat).",
    ),
    features: str | None = typer.Option(
        None,
        "--features",
        help="Comma-separated feature columns to watch (default: all but outputs and label).",
    ),
    cutoff: float = typer.Option(
        0.5, "--cutoff", help="Binary: decision cut-off on the score; at or above it, bad."
    ),
    model: str = typer.Option("model", "--model", help="Name of the monitored model."),
    model_version: str = typer.Option("1", "--model-version", help="Version of the model."),
    out: Path = typer.Option(
        Path("monitor.json"), "--out", "-o", help="Where to write the fitted monitor."
    ),
) -> None:
    """Fit a monitor on a reference window and save it as JSON."""
    from labelwise.monitor import Monitor, default_features

    if (score is None) == (prediction is None):
        ctx.fail("give --score (a classifier) or --prediction (a regression model), one of them.")
    scores = split_names(score)
    outputs = scores if scores is not None else [prediction]
    names = split_names(features)
    columns = None
    if names is not None:
        columns = list(dict.fromkeys([*outputs, *names, *([label] if label else [])]))
    _existing_file(reference, "reference")
    table = io.read_table(reference, columns=columns)
    if table.empty:
        raise InputError(f"reference {str(reference)!r} holds no rows.")
    if names is None:
        names = default_features(table.columns, outputs, label)
    with _ui.spinner("Fitting the monitor"):
        monitor = Monitor().fit(
            table,
            score=None if scores is None else (scores[0] if len(scores) == 1 else scores),
            prediction=prediction,
            classes=split_names(classes),
            task=task,
            features=names,
            label=label,
            cutoff=cutoff,
            model=model,
            model_version=model_version,
        )
    monitor.to_json(out)
    console = _ui.out()
    console.print(
        f"Fitted a {monitor.kind} monitor for [bold]{escape(model)}[/bold] "
        f"v{escape(model_version)} on {len(table)} rows and {len(names)} features: "
        f"{escape(str(out))}",
        soft_wrap=True,
    )
    console.print(f"reference hash {monitor.reference_hash}", soft_wrap=True)


def monitor_columns(monitor: Any) -> list[str]:
    """The columns a fitted monitor reads from a window: the model's output, then features."""
    return [*monitor.output_columns, *monitor.fit_params_["features"]]


def _window_outputs(monitor: Any, table: pd.DataFrame) -> Any:
    """The model's outputs beside matured labels, when the file holds them (else None).

    With them, a binary monitor realizes AUC, precision and recall besides the bad rate; a
    multiclass or regression monitor needs them for any metric.
    """
    columns = monitor.output_columns
    if not all(c in table.columns for c in columns):
        return None
    return table[columns] if monitor.kind == "multiclass" else table[columns[0]]


def _read_window(path: Path, monitor: Any, time_column: str | None) -> pd.DataFrame:
    """The columns of ``path`` that the monitor uses (and the time column), read once.

    Naming the columns makes a window without a monitored column fail here, with the file, the
    missing column and the columns it does have in the message.
    """
    wanted = monitor_columns(monitor)
    if time_column is not None and time_column not in wanted:
        wanted = [*wanted, time_column]
    return io.read_table(path, columns=wanted)


def _windows(
    monitor: Any, path: Path, time_column: str | None, every: str | None, window: str | None
) -> list[Window]:
    """The windows of WINDOW: all of it, or its periods of length ``every``."""
    _existing_file(path, "window")
    if path.suffix.lower() in (".parquet", ".pq") and time_column is None:
        # One Parquet window without times: the monitor streams it in chunks (bounded memory).
        return [Window(window or path.stem, None, None, path)]
    table = _read_window(path, monitor, time_column)
    if table.empty:
        raise InputError(f"window file {str(path)!r} holds no rows; there is nothing to check.")
    if every is not None:
        return split_windows(table, time_column, every)
    return [_single_window(table, path, window, time_column)]


def _check_one(monitor: Any, window: Window) -> dict:
    """Check one window; bad input becomes an error naming the window."""
    if isinstance(window.rows, pd.DataFrame) and window.rows.empty:
        raise InputError(f"window {window.window_id!r} holds no rows; there is nothing to check.")
    try:
        result = monitor.check(
            window.rows, window_id=window.window_id, start=window.start, end=window.end
        )
    except LabelwiseError as exc:
        raise type(exc)(f"window {window.window_id!r}: {exc}") from exc
    return result.to_dict()


def _record(
    url: str,
    provenance: dict[str, Any],
    step: Callable[[dict | None], tuple[Sequence[dict], dict | None]],
    *,
    witness: Path | None = None,
) -> tuple[int, Any]:
    """Append one run and its windows in one transaction; return the run id and the new head.

    The windows come from ``step(previous_state)`` inside the transaction (see
    ``MonitorStore.record_run``). With ``witness``, the new head is appended to that file.
    """
    from labelwise.monitor.store import MonitorStore

    with _opened(MonitorStore(url)) as store:
        run_id = store.record_run(**provenance, step=step)
        head = store.last_written
        _append_witness(witness, head, store)
    return run_id, head


def _witness_folder(path: Path) -> None:
    from labelwise.monitor.witness import check_witness_folder

    check_witness_folder(path)


def _append_witness(path: Path | None, head: Any, store: Any) -> None:
    """Append the head a write left to the witness file (if one was given)."""
    if path is None:
        return
    from labelwise.monitor.store import append_witness

    try:
        append_witness(path, head, _without_password(store.url))
    except OSError as exc:
        # The write is stored: say so and go on to the output and alerts, which are true.
        _ui.print_warning(
            f"the write was stored, but witness file {str(path)!r} could not be appended to "
            f"({_ui.one_line(exc)}); add this line to it by hand: head {head.hash} seq "
            f"{head.seq}."
        )


def _without_password(url: Any) -> str:
    """The URL with no password at all: a witness file is shared more widely than the store."""
    return url._replace(password=None).render_as_string(hide_password=False)


def _print_head(head: Any, *, stderr: bool = False) -> None:
    """``head <64 hex> (seq N)``: the line to keep elsewhere (on stderr beside JSON output)."""
    console = _ui.err() if stderr else _ui.out()
    console.print(f"head {head.hash} (seq {head.seq})", soft_wrap=True)


def check_command(
    ctx: typer.Context,
    monitor_file: Path = typer.Argument(
        ..., help="A monitor fitted by `labelwise monitor fit`.", metavar="MONITOR"
    ),
    window_file: Path = typer.Argument(
        ...,
        help="Production rows (.csv, .tsv, .parquet, .pq): one window, or several with --every.",
        metavar="WINDOW",
    ),
    db: str | None = typer.Option(
        None, "--db", help="Store URL or SQLite path (default: monitor.db beside MONITOR)."
    ),
    witness: Path | None = typer.Option(
        None, "--witness", help="Append the store's new head to this file (keep it elsewhere)."
    ),
    time_column: str | None = typer.Option(
        None, "--time-column", help="Column of each row's time (for --every, and the period)."
    ),
    every: str | None = typer.Option(
        None, "--every", help="Split WINDOW into windows of this length: 7d, 1h, 30d, MS..."
    ),
    window: str | None = typer.Option(
        None, "--window-id", help="Id of the window (default: WINDOW's file name)."
    ),
    output: str = typer.Option("table", "--format", help="Output: table, or json (one line each)."),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Threads counting each window (default: the monitor's setting; -1: all cores).",
    ),
    webhooks: list[str] | None = typer.Option(
        None,
        "--alert-webhook",
        help="POST a JSON summary here when a window reaches --alert-on (http, https; repeatable).",
        metavar="URL",
    ),
    alert_on: str = typer.Option(
        "alert",
        "--alert-on",
        help="Least severity that alerts: ok, watch, warn, alert, critical.",
        metavar="LEVEL",
    ),
    alert_timeout: float = typer.Option(
        5.0,
        "--alert-timeout",
        min=0.001,
        help="Seconds each webhook attempt may take.",
        metavar="SECONDS",
    ),
    alert_attempts: int = typer.Option(3, "--alert-attempts", min=1, hidden=True),
    alert_backoff: float = typer.Option(0.5, "--alert-backoff", min=0.0, hidden=True),
    alert_deadline: float = typer.Option(20.0, "--alert-deadline", min=0.001, hidden=True),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help=f"Exit {EXIT_SEVERITY} when a window reaches this severity (default: never).",
        metavar="LEVEL",
    ),
) -> None:
    """Check production windows against the reference and append the results to the store.

    After the run is stored and shown, --alert-webhook receives a JSON summary when a window
    reaches --alert-on; a failed delivery is a warning only. Exit status: 0 checked and stored,
    2 bad input (nothing stored), 3 a window reached --fail-on.
    """
    _check_alert_options(ctx, webhooks or [], alert_on, fail_on)
    if output not in FORMATS:
        ctx.fail(f"--format must be one of {', '.join(FORMATS)}, not {output!r}.")
    if jobs == 0:
        ctx.fail("--jobs must be a number of threads, or negative to count back from the cores.")
    if every is not None and time_column is None:
        ctx.fail("--every needs --time-column: name the column that holds each row's time.")
    if every is not None and window is not None:
        ctx.fail("--window-id names a single window; with --every, ids are the period starts.")
    monitor = _load_monitor(monitor_file)
    if witness is not None:
        _witness_folder(witness)  # before any work: a write is never left unwitnessed by typo
    windows = _windows(monitor, window_file, time_column, every, window)
    results = []
    saved_jobs = monitor.n_jobs
    if jobs is not None:
        monitor.n_jobs = jobs  # this run only: the file keeps the monitor's own setting
    # Every window is checked before anything is stored: one bad window stores nothing.
    with window_progress(len(windows)) as advance:
        for item in windows:
            results.append(_check_one(monitor, item))
            advance(item.window_id)
    monitor.n_jobs = saved_jobs
    url = _store_url(db, monitor_file)
    # Severity carries over from window to window (hysteresis, persistence): the store holds
    # that state with the last window written, and resumes it inside the transaction that adds
    # these windows, so concurrent checks of one monitor neither lose windows nor fork the state.
    # The monitor file is never rewritten: it holds the fitted configuration only.
    stepped: list[dict] = []

    def step(previous: dict | None) -> tuple[list[dict], dict]:
        stepped[:], state = monitor.resume_severity(results, previous)
        return stepped, state

    run_id, head = _record(url, _provenance(monitor, monitor_file), step, witness=witness)
    results = stepped
    if output == "json":
        for result in results:
            typer.echo(json_line(result, run_id))
    else:
        _print_run(monitor, monitor_file, results, run_id, url)
    _print_head(head, stderr=output == "json")  # stdout stays one JSON object per line
    # The run is stored and shown before anyone is alerted: a dead webhook cannot undo it.
    schedule = {
        "timeout": alert_timeout,
        "attempts": alert_attempts,
        "backoff": alert_backoff,
        "deadline": alert_deadline,
    }
    payload = _alert_payload(results, alert_on, _provenance(monitor, monitor_file), run_id, url)
    _send_alerts(webhooks or [], payload, schedule)
    if fail_on is not None and any(_reaches(r["severity"], fail_on) for r in results):
        raise typer.Exit(EXIT_SEVERITY)


def _print_run(
    monitor: Any, monitor_file: Path, results: list[dict], run_id: int, url: str
) -> None:
    console = _ui.out()
    title = f"{monitor.model or monitor_file.stem} v{monitor.model_version or '?'}"
    console.print(results_table(results, title))
    console.print(
        f"Stored run {run_id} with {len(results)} window(s) in {escape(_shown(url))}",
        soft_wrap=True,
    )


def _check_alert_options(
    ctx: typer.Context, webhooks: list[str], alert_on: str, fail_on: str | None
) -> None:
    """Usage errors in the alert options, found before any window is read or stored."""
    from labelwise.monitor.alerts import check_url
    from labelwise.monitor.store import SEVERITIES

    for option, level in (("--alert-on", alert_on), ("--fail-on", fail_on)):
        if level is not None and level not in SEVERITIES:
            ctx.fail(f"{option} must be one of {', '.join(SEVERITIES)}, not {level!r}.")
    for url in webhooks:
        try:
            check_url(url)
        except ConfigError as exc:
            ctx.fail(str(exc))


def _reaches(severity: str, level: str) -> bool:
    from labelwise.monitor.alerts import reaches

    return reaches(severity, level)


def _alert_payload(
    results: list[dict], level: str, provenance: dict[str, Any], run_id: int, url: str
) -> dict | None:
    from labelwise.monitor.alerts import alert_payload

    return alert_payload(
        results,
        level=level,
        model=provenance["model"],
        model_version=provenance["model_version"],
        run_id=run_id,
        store=url,
    )


def _send_alerts(webhooks: list[str], payload: dict | None, schedule: dict[str, Any]) -> None:
    """POST the summary to each webhook; a failed delivery is a warning, not a failed run."""
    from labelwise.monitor.alerts import mask_url, post_json

    if payload is None:
        return
    for url in webhooks:
        with _ui.spinner(f"Alerting {mask_url(url)}"):
            delivery = post_json(url, payload, **schedule)
        if not delivery.ok:
            _ui.print_warning(
                f"alert not delivered to {mask_url(url)} after {delivery.attempts} attempt(s): "
                f"{delivery.error}"
            )


def reconcile_command(
    monitor_file: Path = typer.Argument(..., help="The fitted monitor.", metavar="MONITOR"),
    window: str = typer.Argument(..., help="Id of a checked window.", metavar="WINDOW_ID"),
    labels_file: Path = typer.Argument(
        ...,
        help="The window's matured outcomes (.csv, .parquet...), with the scores they belong to.",
        metavar="LABELS",
    ),
    label: str = typer.Option("bad", "--label", help="Column of the realized outcome (0/1)."),
    db: str | None = typer.Option(
        None, "--db", help="Store URL or SQLite path (default: monitor.db beside MONITOR)."
    ),
    witness: Path | None = typer.Option(
        None, "--witness", help="Append the store's new head to this file (keep it elsewhere)."
    ),
) -> None:
    """Compare a past window's label-free estimates with its matured labels, and store the gap."""
    monitor = _load_monitor(monitor_file)
    if witness is not None:
        _witness_folder(witness)  # before any work: a write is never left unwitnessed by typo
    _existing_file(labels_file, "labels")
    table = io.read_table(labels_file)
    if label not in table.columns:
        raise InputError(
            f"{str(labels_file)!r} has no label column {label!r} (--label); its columns: "
            f"{', '.join(map(str, table.columns[:20]))}."
        )
    if table.empty:
        raise InputError(f"labels file {str(labels_file)!r} holds no rows.")
    url = _store_url(db, monitor_file)
    provenance = _provenance(monitor, monitor_file)
    with _opened(_existing_store(url)) as store:
        # The estimates come from the store, where the check wrote them with the window.
        stored = store.window_detail(provenance["model"], window, monitor.config_hash)
        outputs = _window_outputs(monitor, table)
        reconciliation = monitor.reconcile(stored, table[label], scores=outputs)
        rows = reconciliation.to_rows()
        if not rows:
            raise InputError(
                f"window {window!r} has no label-free estimate to compare with (the monitor was "
                "fitted without the metrics these labels realize)."
            )
        # The run and its rows in one transaction: both land, or neither.
        store.record_run(**provenance, reconciliation=(window, rows))
        head = store.last_written
        _append_witness(witness, head, store)
    console = _ui.out()
    console.print(reconciliation_table(rows, window, reconciliation.n_labels))
    for note in reconciliation.notes:
        console.print(escape(note), soft_wrap=True)
    console.print(
        f"Stored {len(rows)} reconciliation row(s) in {escape(_shown(url))}", soft_wrap=True
    )
    _print_head(head)


def reconciliation_table(rows: Sequence[dict], window: str, n_labels: int) -> Table:
    """Estimated against realized metrics, the gap and whether it stayed inside the band."""
    table = _ui.ResultTable(title=f"window {window}: {n_labels} matured labels")
    for name in ("metric", "estimated", "realized", "gap", "band"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    table.add_column("inside band")
    for r in rows:
        band = "—" if r.get("low") is None else f"{_number(r['low'])}..{_number(r['high'])}"
        inside = "[green]yes[/]" if r.get("inside_band") else "[bold red]NO[/]"
        table.add_row(
            escape(str(r["metric"])),
            _number(r.get("estimated")),
            _number(r.get("realized")),
            _number(r.get("gap")),
            band,
            inside,
        )
    return table


def verify_command(
    ctx: typer.Context,
    monitor_file: Path | None = typer.Argument(
        None, help="A monitor: verify the store beside it.", metavar="[MONITOR]"
    ),
    db: str | None = typer.Option(None, "--db", help="Store URL or SQLite path to verify."),
    expect_heads: list[str] | None = typer.Option(
        None,
        "--expect-head",
        help="A head printed by an earlier write; it must still be on the chain (repeatable).",
        metavar="HASH",
    ),
    witnesses: list[Path] | None = typer.Option(
        None,
        "--witness",
        help="A witness file written by --witness; every head in it must be on the chain "
        "at its position (repeatable).",
        metavar="FILE",
    ),
) -> None:
    """Check the store's hash chain: exit 0 when intact, 1 naming the first edited row."""
    if (db is None) == (monitor_file is None):
        ctx.fail("give either --db URL or MONITOR (the store beside it), not both or neither.")
    known, sources = _known_heads(ctx, expect_heads or [], witnesses or [])
    url = _store_url(db, monitor_file)
    with _opened(_existing_store(url)) as store:
        report = store.verify(known)
    console = _ui.out()
    if report.ok:
        console.print(f"chain intact: {report.rows_checked} rows checked", soft_wrap=True)
        if known:
            console.print(f"{len(sources)} witnessed head(s) found on the chain", soft_wrap=True)
        console.print(f"head {report.head or '0' * 64} (seq {report.rows_checked})", soft_wrap=True)
        return
    bad = report.first_bad or {}
    # No table: the fault is at a position the chain no longer reaches.
    where = f"position {bad.get('id')}"
    if bad.get("table"):
        where = f"{bad['table']} row {bad.get('id')}"
    source = sources.get(bad.get("known_head"))
    _ui.print_error(
        f"chain broken at {where}: {bad.get('reason')}"
        + (f" [from {source}]" if source else "")
        + f" ({report.rows_checked} rows sound before it)"
    )
    if report.head is not None:
        console.print(f"last sound row's hash {report.head}", soft_wrap=True)
    raise typer.Exit(EXIT_BROKEN)


def _known_heads(
    ctx: typer.Context, expected: list[str], witnesses: list[Path]
) -> tuple[list[Any], dict[Any, str]]:
    """The heads to find on the chain, and where each was given (for the error message)."""
    from labelwise.monitor.witness import is_head_hash, witness_lines

    known: list[Any] = []
    sources: dict[Any, str] = {}
    for text in expected:
        digest = text.strip().lower()
        if not is_head_hash(digest):
            ctx.fail(
                f"--expect-head {text!r} is not a head; give the 64 hex digits printed after "
                "`head` by check, reconcile or verify."
            )
        known.append(digest)
        sources.setdefault(digest, f"--expect-head {digest[:12]}...")
    for path in witnesses:
        for number, head in witness_lines(path):
            known.append(head)
            sources.setdefault(head, f"witness file {str(path)!r} line {number}")
    return known, sources


monitor_app.command("fit", cls=_ui.LabelwiseCommand)(fit_command)
monitor_app.command("check", cls=_ui.LabelwiseCommand)(check_command)
monitor_app.command("reconcile", cls=_ui.LabelwiseCommand)(reconcile_command)
monitor_app.command("verify", cls=_ui.LabelwiseCommand)(verify_command)
