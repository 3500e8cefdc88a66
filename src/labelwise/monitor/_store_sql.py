"""The read side of the monitor store: tidy frames and result dicts from one connection.

One reason to change: what readers (the dashboard, the command line, notebooks) are shown.
Every function takes an open :class:`~sqlalchemy.engine.Connection`, so one call of
:class:`~labelwise.monitor.store.MonitorStore` reads one snapshot.

>>> from labelwise.monitor.store import MonitorStore
>>> with MonitorStore("sqlite://") as store, store.engine.connect() as conn:
...     models(conn).columns.tolist()
['model', 'model_version', 'runs', 'windows', 'last_window', 'last_severity']
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelwise.errors import InputError
from labelwise.monitor._chain import ChainRow
from labelwise.monitor._checks import _METRIC_KEYS, _RECON_KEYS
from labelwise.monitor._schema import (
    _MIRRORS,
    CHAINED,
    COMPOSITES,
    HEAD,
    METRICS,
    RECONCILIATIONS,
    RUNS,
    WINDOWS,
)

#: Severities :meth:`MonitorStore.alerts <labelwise.monitor.store.MonitorStore.alerts>` lists.
ALERTING = ("warn", "alert", "critical")

_WINDOW_COLUMNS = [
    "run_id",
    "window",
    "start",
    "end",
    "n_rows",
    "composite",
    "severity",
    "created_at",
    "model",
    "model_version",
    "window_pk",
]


def _frame(result: sa.CursorResult, columns: Sequence[str]) -> pd.DataFrame:
    # Positional: the SQL column names (window_name...) differ from the frame's (window...).
    return pd.DataFrame([tuple(row) for row in result], columns=list(columns))


def _times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        # coerce: a start like "2026-W01" is stored as given but has no timestamp form here.
        frame[col] = pd.to_datetime(frame[col], format="ISO8601", utc=True, errors="coerce")
    return frame


def _flags(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = frame[col].astype("boolean")
    return frame


def _floats(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame


def _read(conn: Connection, query: sa.Select, columns: Sequence[str]) -> pd.DataFrame:
    return _frame(conn.execute(query), columns)


def models(conn: Connection) -> pd.DataFrame:
    """One row per model and version: runs, windows, the last window and its severity."""
    keys = ["model", "model_version"]
    runs = _read(conn, sa.select(RUNS.c.model, RUNS.c.model_version, RUNS.c.id), keys + ["id"])
    wins = windows(conn, None)
    out = runs.groupby(keys, sort=True).size().rename("runs").reset_index()
    counts = wins.groupby(keys).size().rename("windows")
    last = wins.sort_values("window_pk").groupby(keys).tail(1).set_index(keys)
    out = out.join(counts, on=keys).join(
        last[["window", "severity"]].rename(
            columns={"window": "last_window", "severity": "last_severity"}
        ),
        on=keys,
    )
    out["windows"] = out["windows"].fillna(0).astype("int64")
    return out[keys + ["runs", "windows", "last_window", "last_severity"]].reset_index(drop=True)


def windows(conn: Connection, model: str | None) -> pd.DataFrame:
    """One row per stored window (of ``model``, or of all models), in window order."""
    w, c = WINDOWS, COMPOSITES
    query = (
        sa.select(
            w.c.run_id,
            w.c.window_name,
            w.c.window_start,
            w.c.window_end,
            w.c.n_rows,
            c.c.composite,
            c.c.severity,
            w.c.created_at,
            w.c.model,
            w.c.model_version,
            w.c.id,
        )
        .join(c, c.c.window_id == w.c.id)
        .order_by(w.c.id)
    )
    if model is not None:
        query = query.where(w.c.model == model)
    frame = _read(conn, query, _WINDOW_COLUMNS)
    frame = _floats(_times(frame, "start", "end", "created_at"), "composite")
    # Window order: by start where known, else as recorded (the sort is stable).
    return frame.sort_values("start", kind="stable", na_position="last").reset_index(drop=True)


def metrics(conn: Connection, model: str, window: str | None) -> pd.DataFrame:
    """Tidy metrics of ``model`` (one window or all), in the order recorded."""
    m = METRICS
    query = (
        sa.select(
            m.c.window_name,
            m.c.monitor,
            m.c.metric,
            m.c.value,
            m.c.threshold,
            m.c.low,
            m.c.high,
            m.c.fired,
            m.c.run_id,
            m.c.window_id,
        )
        .where(m.c.model == model)
        .order_by(m.c.id)
    )
    if window is not None:
        query = query.where(m.c.window_name == window)
    columns = ["window", "monitor", "metric", "value", "threshold", "low", "high", "fired"]
    frame = _read(conn, query, columns + ["run_id", "window_pk"])
    return _flags(_floats(frame, "value", "threshold", "low", "high"), "fired")


def alerts(conn: Connection, model: str | None) -> pd.DataFrame:
    """Windows (of one model, or all) whose severity is warn, alert or critical."""
    frame = windows(conn, model)
    return frame[frame["severity"].isin(ALERTING)].reset_index(drop=True)


def reconciliations(conn: Connection, model: str) -> pd.DataFrame:
    """Realized-versus-estimated rows of ``model``, in the order recorded."""
    r = RECONCILIATIONS
    names = ["metric", "estimated", "realized", "gap", "low", "high", "inside_band"]
    query = (
        sa.select(r.c.run_id, r.c.window_name, *(r.c[n] for n in names), r.c.created_at)
        .where(r.c.model == model)
        .order_by(r.c.id)
    )
    frame = _read(conn, query, ["run_id", "window", *names, "created_at"])
    frame = _floats(frame, "estimated", "realized", "gap", "low", "high")
    return _times(_flags(frame, "inside_band"), "created_at")


def window_detail(
    conn: Connection, model: str, window: str, config_hash: str | None = None
) -> dict:
    """The stored result of one window (the latest if recorded twice) and its reconciliation.

    With ``config_hash``, the latest recording by that configuration comes first.
    """
    w, r = WINDOWS, RECONCILIATIONS
    query = sa.select(w.c.id, w.c.payload).where(w.c.model == model, w.c.window_name == window)
    if config_hash is not None:
        query = query.order_by(sa.case((w.c.config_hash == config_hash, 0), else_=1))
    row = conn.execute(query.order_by(w.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        raise InputError(f"model {model!r} has no stored window {window!r}.")
    children = [
        json.loads(p)
        for p in conn.execute(
            sa.select(COMPOSITES.c.payload)
            .where(COMPOSITES.c.window_id == row["id"])
            .union_all(sa.select(METRICS.c.payload).where(METRICS.c.window_id == row["id"]))
        ).scalars()
    ]
    recon = conn.execute(
        sa.select(r.c.payload).where(r.c.model == model, r.c.window_name == window).order_by(r.c.id)
    ).scalars()
    return _detail(json.loads(row["payload"]), children, [json.loads(p) for p in recon])


def _detail(stored: dict, children: list[dict], recon: list[dict]) -> dict:
    """Rebuild the result dict from the window's payload and its children's payloads."""
    children.sort(key=lambda p: p["id"])
    composite = next(p for p in children if p["table"] == COMPOSITES.name)
    metrics = [{k: p[k] for k in _METRIC_KEYS} for p in children if p["table"] == METRICS.name]
    keep = ("run_id", "window", "start", "end", "n_rows", "model", "model_version", "created_at")
    detail = {
        **stored.get("extra", {}),
        **{k: stored[k] for k in keep},
        "window_pk": stored["id"],
        "composite": composite["composite"],
        "severity": composite["severity"],
        "metrics": metrics,
        "details": stored["details"],
        "reconciliation": [
            {"run_id": p["run_id"], **{k: p[k] for k in _RECON_KEYS}} for p in recon
        ],
    }
    if "state" in stored:  # only the last window of a run written with a step carries one
        detail["state"] = stored["state"]
    return detail


def latest_state(conn: Connection, model: str, config_hash: str) -> dict | None:
    """The ``state`` kept with the newest window of ``model`` under ``config_hash``, or None."""
    w = WINDOWS
    payload = conn.execute(
        sa.select(w.c.payload)
        .where(w.c.model == model, w.c.config_hash == config_hash)
        .order_by(w.c.id.desc())
        .limit(1)
    ).scalar()
    return None if payload is None else json.loads(payload).get("state")


def read_head(conn: Connection) -> Mapping[str, Any] | None:
    """The head row (``seq``, ``last_table``, ``row_hash``...), or None when it was deleted."""
    return conn.execute(sa.select(HEAD).where(HEAD.c.id == 1)).mappings().first()


def chain_rows(conn: Connection) -> Iterator[ChainRow]:
    """Every chained row of every table, merged into chain order (streamed, constant memory)."""
    return heapq.merge(*(_stream(conn, table) for table in CHAINED), key=lambda row: row.id)


def _stream(conn: Connection, table: sa.Table) -> Iterator[ChainRow]:
    mirror = _MIRRORS[table.name]
    query = sa.select(table).order_by(table.c.id)
    result = conn.execution_options(yield_per=2000).execute(query).mappings()
    for row in result:
        yield ChainRow(
            table=table.name,
            id=int(row["id"]),
            payload=row["payload"],
            prev_hash=row["prev_hash"],
            row_hash=row["row_hash"],
            columns={key: row[col] for col, key in mirror.items()},
        )
