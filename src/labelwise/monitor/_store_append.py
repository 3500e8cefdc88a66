"""Writing the chain: numbering, hashing and inserting the rows of one logical write.

One reason to change: how rows are chained. The transaction and its lock belong to
:class:`~labelwise.monitor.store.MonitorStore`; this module builds the rows under that lock and
moves the head.

>>> app = _Appender(0, "0" * 64, {"model": "m"})
>>> app.add(RUNS, {"config": {}}), app.seq
(1, 1)
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelwise.errors import InputError, StoreError
from labelwise.monitor._chain import KnownHead, canonical_json, row_hash
from labelwise.monitor._schema import (
    _MIRRORS,
    COMPOSITES,
    HEAD,
    METRICS,
    RUNS,
    WINDOWS,
    _now,
)

# Built once: statements run on every append.
_LOCK_HEAD = sa.select(HEAD).where(HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = HEAD.update().where(HEAD.c.id == 1)
_RUN_BY_ID = sa.select(RUNS).where(RUNS.c.id == sa.bindparam("run_id"))


def _code_version() -> str:
    # Read lazily: labelwise/__init__ may import the monitor package before defining __version__.
    import labelwise

    return str(labelwise.__version__)


class _Appender:
    """Rows of one logical write, numbered and chained from the head it was opened at."""

    def __init__(self, seq: int, prev_hash: str, provenance: Mapping[str, str]):
        self.seq, self.prev_hash, self.provenance = seq, prev_hash, dict(provenance)
        self.rows: list[tuple[sa.Table, dict]] = []

    def add(self, table: sa.Table, content: Mapping[str, Any]) -> int:
        """Number ``content`` as the next row of ``table``, hash it and return its id."""
        self.seq += 1
        body = {"table": table.name, "id": self.seq, **self.provenance, **content}
        payload = canonical_json(body)
        digest = row_hash(self.prev_hash, payload)
        columns = {col: body.get(key) for col, key in _MIRRORS[table.name].items()}
        self.rows.append(
            (
                table,
                {**columns, "payload": payload, "prev_hash": self.prev_hash, "row_hash": digest},
            )
        )
        self.prev_hash = digest
        return self.seq

    def batches(self) -> Iterator[tuple[sa.Table, list[dict]]]:
        """Consecutive rows of one table, in chain order (parents before children)."""
        start = 0
        for i in range(1, len(self.rows) + 1):
            if i == len(self.rows) or self.rows[i][0] is not self.rows[start][0]:
                yield self.rows[start][0], [row for _, row in self.rows[start:i]]
                start = i


def _insert(conn: Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert one batch (a module function so tests can make a write fail halfway)."""
    conn.execute(table.insert(), rows)


def lock_head(conn: Connection, shown: str) -> Mapping[str, Any]:
    """Read the head row under the write lock (PostgreSQL: ``FOR UPDATE``)."""
    head = conn.execute(_LOCK_HEAD).mappings().first()
    if head is None:
        raise StoreError(f"{shown} has lost its chain head row; run verify() and restore it.")
    return head


def move_head(conn: Connection, app: _Appender) -> KnownHead:
    """Point the head at the appender's last row (inserted already); return the new head."""
    conn.execute(
        _MOVE_HEAD,
        {
            "seq": app.seq,
            "last_table": app.rows[-1][0].name,
            "row_hash": app.prev_hash,
            "updated_at": _now(),
        },
    )
    return KnownHead(app.seq, app.prev_hash)


def run_provenance(conn: Connection, run_id: Any) -> dict:
    """The provenance of a stored run, for rows added to it later."""
    try:
        run_id = operator.index(run_id)
    except TypeError:
        raise InputError(f"run_id must be an integer from record_run, got {run_id!r}.") from None
    row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).mappings().first()
    if row is None:
        raise InputError(f"there is no run {run_id} in this store; call record_run first.")
    keep = ("model", "model_version", "reference_hash", "config_hash")
    return {**{k: row[k] for k in keep}, "labelwise_version": _code_version(), "created_at": _now()}


def add_window(app: _Appender, run_id: int, window: dict, state: dict | None = None) -> int:
    """Chain one checked window: its row, its metrics, then its composite; return its id."""
    keys = ("start", "end", "n_rows", "details", "extra")
    content = {"run_id": run_id, "window": window["window"], **{k: window[k] for k in keys}}
    if state is not None:
        content["state"] = state  # in the payload: chained and verified like the rest
    pk = app.add(WINDOWS, content)
    links = {"window_id": pk, "run_id": run_id, "window": window["window"]}
    for metric in window["metrics"]:
        app.add(METRICS, {**links, **metric})
    app.add(COMPOSITES, {**links, "composite": window["composite"], "severity": window["severity"]})
    return pk
