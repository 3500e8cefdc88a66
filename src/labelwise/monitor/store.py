"""An append-only, tamper-evident store of monitoring runs, windows, metrics and reconciliations.

The store speaks SQLAlchemy Core to a SQLite file (the default: give a path) or to PostgreSQL
(give a ``postgresql+psycopg://`` URL). Every row carries the model, model version, reference hash,
config hash, labelwise version and creation time, and sits at one position of a hash chain that
runs across all tables (see :mod:`labelwise.monitor._chain` and ``docs/monitor-store.md``).
:meth:`MonitorStore.verify` recomputes the chain and names the first row that was edited,
deleted, reordered or forged.

>>> store = MonitorStore("sqlite://")  # in memory; a path gives a file
>>> run = store.record_run(model="credit", model_version="3", reference_hash="r1",
...                        config_hash="c1", config={"window": "week"})
>>> pk = store.record_window(run, {"window": "2026-W01", "n_rows": 500, "composite": 0.3,
...     "severity": "warn", "metrics": [{"monitor": "score", "metric": "psi", "value": 0.12,
...     "threshold": 0.1, "fired": True}]})
>>> print(store.verify())  # doctest: +ELLIPSIS
chain ok: 4 rows, head ...
>>> store.windows("credit")[["window", "severity"]].to_dict("records")
[{'window': '2026-W01', 'severity': 'warn'}]
>>> store.close()
"""

from __future__ import annotations

import heapq
import json
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from labelwise._optional import require
from labelwise.errors import ConfigError, InputError, StoreError
from labelwise.monitor._chain import (
    GENESIS,
    ChainReport,
    ChainRow,
    canonical_json,
    row_hash,
    to_json,
    walk,
)

__all__ = [
    "SEVERITIES",
    "ChainReport",
    "MonitorStore",
    "StoreError",
    "default_store_url",
    "verify_store",
]

#: Severity levels a window may carry, from calm to worst.
SEVERITIES = ("ok", "watch", "warn", "alert", "critical")
#: Severities :meth:`MonitorStore.alerts` lists.
ALERTING = ("warn", "alert", "critical")
#: Written into the head row; a store with another value is not opened.
SCHEMA = "labelwise.monitor.store/1"
#: File name :func:`default_store_url` puts beside ``monitor.json``.
DEFAULT_DB_NAME = "monitor.db"

_PG_LOCK_KEY = 0x6C77_6D6F  # "lwmo": serializes schema creation across processes


# --- schema --------------------------------------------------------------------------------------

_META = sa.MetaData()
_PROVENANCE = (
    "model",
    "model_version",
    "reference_hash",
    "config_hash",
    "labelwise_version",
    "created_at",
)


def _chained(name: str, *columns: sa.Column | sa.Index) -> sa.Table:
    """A table whose ``id`` is its rows' position in the one chain across all tables."""
    return sa.Table(
        name,
        _META,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("reference_hash", sa.String(200), nullable=False),
        sa.Column("config_hash", sa.String(200), nullable=False),
        sa.Column("labelwise_version", sa.String(50), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),  # ISO 8601 UTC: exact, portable
        *columns,
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )


RUNS = _chained("runs")
WINDOWS = _chained(
    "windows",
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("window_start", sa.String(40)),
    sa.Column("window_end", sa.String(40)),
    sa.Column("n_rows", sa.BigInteger, nullable=False),
)
COMPOSITES = _chained(
    "composites",
    sa.Column("window_id", sa.BigInteger, sa.ForeignKey("windows.id"), nullable=False, index=True),
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("composite", sa.Double, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
)
METRICS = _chained(
    "metrics",
    sa.Column("window_id", sa.BigInteger, sa.ForeignKey("windows.id"), nullable=False, index=True),
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("monitor", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    sa.Column("value", sa.Double),
    sa.Column("threshold", sa.Double),
    sa.Column("low", sa.Double),
    sa.Column("high", sa.Double),
    sa.Column("fired", sa.Boolean),
)
RECONCILIATIONS = _chained(
    "reconciliations",
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    sa.Column("estimated", sa.Double),
    sa.Column("realized", sa.Double),
    sa.Column("gap", sa.Double),
    sa.Column("low", sa.Double),
    sa.Column("high", sa.Double),
    sa.Column("inside_band", sa.Boolean),
)
#: One row (id 1): where the chain ends. The only row the store ever updates.
HEAD = sa.Table(
    "chain_head",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("schema", sa.String(100), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("last_table", sa.String(40)),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(40)),
)
CHAINED = (RUNS, WINDOWS, COMPOSITES, METRICS, RECONCILIATIONS)

#: Typed column -> payload key, for the columns that mirror the payload (checked by verify).
_RENAMED = {"window_name": "window", "window_start": "start", "window_end": "end"}


def _mirror(table: sa.Table) -> dict[str, str]:
    skip = {"payload", "prev_hash", "row_hash"}
    return {c.name: _RENAMED.get(c.name, c.name) for c in table.columns if c.name not in skip}


_MIRRORS = {table.name: _mirror(table) for table in CHAINED}
# Built once: statements run on every append.
_LOCK_HEAD = sa.select(HEAD).where(HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = HEAD.update().where(HEAD.c.id == 1)
_RUN_BY_ID = sa.select(RUNS).where(RUNS.c.id == sa.bindparam("run_id"))


# --- opening -------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _code_version() -> str:
    # Read lazily: labelwise/__init__ may import the monitor package before defining __version__.
    import labelwise

    return str(labelwise.__version__)


def _to_url(url_or_path: str | PathLike | URL) -> URL:
    """Parse a URL, or turn a path into an absolute ``sqlite:///`` URL."""
    if isinstance(url_or_path, URL):
        url = url_or_path
    elif isinstance(url_or_path, PathLike) or "://" not in str(url_or_path):
        path = Path(url_or_path).expanduser().resolve()
        return URL.create("sqlite", database=str(path))
    else:
        try:
            url = make_url(str(url_or_path))
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ConfigError(
                f"cannot parse the monitor store URL {_hide(str(url_or_path))!r}; give a file path "
                "or a URL like sqlite:///monitor.db or "
                "postgresql+psycopg://user:password@host:5432/dbname."
            ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")  # the installed driver, not psycopg2
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    raise ConfigError(
        f"the monitor store supports SQLite and PostgreSQL, not {url.drivername!r} "
        f"(URL {url.render_as_string(hide_password=True)!r}); use sqlite:///path/monitor.db or "
        "postgresql+psycopg://user:password@host:5432/dbname."
    )


def _hide(text: str) -> str:
    """Mask the password of a URL-like string that SQLAlchemy could not parse."""
    head, sep, rest = text.partition("://")
    creds, at, host = rest.rpartition("@")
    if not (sep and at and ":" in creds):
        return text
    return f"{head}://{creds.split(':', 1)[0]}:***@{host}"


def _sqlite_engine(url: URL) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 60.0})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every test
        # Own the transactions: pysqlite's implicit BEGIN is deferred, which lets two writers both
        # read the head and then fail to upgrade their locks. We emit BEGIN IMMEDIATE ourselves.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised through every test
        write = conn.get_execution_options().get("labelwise_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_driver_name() == "psycopg":
        require("psycopg", "a PostgreSQL monitor store")
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _open_error(url: URL, exc: BaseException) -> StoreError:
    """A StoreError naming the URL (password hidden), the cause and the fix."""
    shown = url.render_as_string(hide_password=True)
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    cause_text = cause[0] if cause else type(exc).__name__
    if url.get_backend_name() == "sqlite":
        fix = "check that the folder exists and is writable, and that the file is a SQLite database"
    else:
        fix = (
            "check that the PostgreSQL server is running and reachable, and the user, password "
            "and database name in the URL (postgresql+psycopg://user:password@host:5432/dbname)"
        )
    return StoreError(f"cannot use the monitor store at {shown!r}: {cause_text}. Fix: {fix}.")


# --- triggers that make the tables append-only in the database itself ----------------------------

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {t.name}_no_{op.lower()} BEFORE {op} ON {t.name} "
    f"BEGIN SELECT RAISE(ABORT, 'labelwise monitor store is append-only: "
    f"{op} on {t.name} is not allowed'); END"
    for t in CHAINED
    for op in ("UPDATE", "DELETE")
] + [
    "CREATE TRIGGER IF NOT EXISTS chain_head_no_delete BEFORE DELETE ON chain_head "
    "BEGIN SELECT RAISE(ABORT, 'labelwise monitor store: the chain head cannot be deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS chain_head_forward BEFORE UPDATE ON chain_head "
    "WHEN NEW.seq < OLD.seq OR NEW.schema <> OLD.schema "
    "BEGIN SELECT RAISE(ABORT, 'labelwise monitor store: the chain head only moves forward'); END",
]

_PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION labelwise_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'labelwise monitor store is append-only: % on % is not allowed',
            TG_OP, TG_TABLE_NAME;
    END $$""",
    """CREATE OR REPLACE FUNCTION labelwise_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq < OLD.seq OR NEW.schema <> OLD.schema THEN
            RAISE EXCEPTION 'labelwise monitor store: the chain head only moves forward';
        END IF;
        RETURN NEW;
    END $$""",
]
_PG_TRIGGERS = {
    f"{t.name}_append_only": f"CREATE TRIGGER {t.name}_append_only BEFORE UPDATE OR DELETE OR "
    f"TRUNCATE ON {t.name} FOR EACH STATEMENT EXECUTE FUNCTION labelwise_append_only()"
    for t in CHAINED
} | {
    "chain_head_no_delete": "CREATE TRIGGER chain_head_no_delete BEFORE DELETE OR TRUNCATE ON "
    "chain_head FOR EACH STATEMENT EXECUTE FUNCTION labelwise_append_only()",
    "chain_head_forward": "CREATE TRIGGER chain_head_forward BEFORE UPDATE ON chain_head "
    "FOR EACH ROW EXECUTE FUNCTION labelwise_head_forward()",
}


def _install_triggers(conn: Connection) -> None:
    """Create the append-only triggers that are missing (someone may have dropped one)."""
    if conn.dialect.name == "sqlite":
        for ddl in _SQLITE_TRIGGERS:
            conn.exec_driver_sql(ddl)
        return
    # Only this schema's triggers count: several stores may share a database, one per schema.
    present = set(
        conn.exec_driver_sql(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).scalars()
    )
    missing = [ddl for name, ddl in _PG_TRIGGERS.items() if name not in present]
    if missing:
        for ddl in _PG_FUNCTIONS + missing:
            conn.exec_driver_sql(ddl.replace("%", "%%"))  # psycopg reads % as a placeholder


# --- validating what is written ----------------------------------------------------------------


def _text(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = str(value)  # a model version given as 3 means "3"
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty string, got {value!r}.")
    if len(value) > 200:
        raise InputError(f"{what} is {len(value)} characters long; the store keeps at most 200.")
    return value


def _number(value: Any, what: str) -> float | None:
    """A finite float, or None for None, NaN and infinities (a metric that is undefined)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what} must be a number or None, got {value!r}.")
    value = float(value)
    return value if math.isfinite(value) else None


def _flag(value: Any, what: str) -> bool | None:
    if value is None:
        return None
    if type(value).__name__ in ("bool", "bool_"):  # numpy's bool_ too
        return bool(value)
    raise InputError(f"{what} must be True, False or None, got {value!r}.")


def _timestamp(value: Any, what: str) -> str | None:
    """An ISO 8601 text (kept as given, it is evidence) or None; datetimes are converted."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date)) or type(value).__name__ == "datetime64":
        return pd.Timestamp(value).isoformat()
    if isinstance(value, str) and value.strip():
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
        try:  # forms fromisoformat misses on Python 3.11 ("2026-01")
            if pd.Timestamp(value) is not pd.NaT:
                return value
        except ValueError:
            pass
    raise InputError(f"{what} must be an ISO 8601 date or time (or None), got {value!r}.")


def _json_data(value: Any, what: str) -> Any:
    try:
        return to_json(value, what)
    except TypeError as exc:
        raise InputError(f"{exc}; convert it to numbers, strings, lists or dicts.") from None


_RESULT_KEYS = ("window", "start", "end", "n_rows", "composite", "severity", "metrics", "details")
_METRIC_KEYS = ("monitor", "metric", "value", "threshold", "low", "high", "fired")
_RECON_KEYS = ("metric", "estimated", "realized", "gap", "low", "high", "inside_band")


def _check_result(result: Any) -> dict:
    """Validate and normalize a ``WindowResult.to_dict()`` before anything is written."""
    if not isinstance(result, Mapping):
        raise InputError(f"a window result must be a dict, got {type(result).__name__}.")
    missing = [
        k for k in ("window", "n_rows", "composite", "severity", "metrics") if k not in result
    ]
    if missing:
        raise InputError(
            f"the window result lacks {', '.join(missing)}; it needs window, n_rows, composite, "
            "severity and metrics (start, end and details are optional)."
        )
    try:
        n_rows = operator.index(result["n_rows"])
    except TypeError:
        n_rows = -1
    if n_rows < 0 or isinstance(result["n_rows"], bool):
        raise InputError(f"n_rows must be a count >= 0, got {result['n_rows']!r}.")
    composite = _number(result["composite"], "composite")
    if composite is None or not 0.0 <= composite <= 1.0:
        raise InputError(f"composite must be a number in [0, 1], got {result['composite']!r}.")
    severity = result["severity"]
    if severity not in SEVERITIES:
        raise InputError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}.")
    metrics = result["metrics"]
    if not isinstance(metrics, Sequence) or isinstance(metrics, (str, bytes)):
        raise InputError(f"metrics must be a list of dicts, got {type(metrics).__name__}.")
    extra = {k: v for k, v in result.items() if k not in _RESULT_KEYS}
    return {
        "window": _text(result["window"], "window"),
        "start": _timestamp(result.get("start"), "start"),
        "end": _timestamp(result.get("end"), "end"),
        "n_rows": int(n_rows),
        "composite": composite,
        "severity": severity,
        "metrics": [_check_metric(m, i) for i, m in enumerate(metrics)],
        "details": _json_data(result.get("details") or {}, "details"),
        # Keys this version does not know are kept, not dropped: the store must not lose evidence.
        "extra": _json_data(extra, "the result's extra keys"),
    }


def _check_metric(metric: Any, i: int) -> dict:
    where = f"metrics[{i}]"
    if not isinstance(metric, Mapping):
        raise InputError(f"{where} must be a dict, got {type(metric).__name__}.")
    unknown = sorted(set(metric) - set(_METRIC_KEYS))
    if unknown:
        raise InputError(f"{where} has unknown keys {unknown}; use {', '.join(_METRIC_KEYS)}.")
    return {
        "monitor": _text(metric.get("monitor"), f"{where}['monitor']"),
        "metric": _text(metric.get("metric"), f"{where}['metric']"),
        **{
            k: _number(metric.get(k), f"{where}[{k!r}]")
            for k in ("value", "threshold", "low", "high")
        },
        "fired": _flag(metric.get("fired"), f"{where}['fired']"),
    }


def _check_reconciliation(row: Any, i: int) -> dict:
    where = f"rows[{i}]"
    if not isinstance(row, Mapping):
        raise InputError(f"{where} must be a dict, got {type(row).__name__}.")
    unknown = sorted(set(row) - set(_RECON_KEYS))
    if unknown or "metric" not in row:
        raise InputError(
            f"{where} must have a 'metric' and may have {', '.join(_RECON_KEYS[1:])}"
            + (f"; unknown keys {unknown}" if unknown else "")
            + "."
        )
    numbers_ = ("estimated", "realized", "gap", "low", "high")
    return {
        "metric": _text(row["metric"], f"{where}['metric']"),
        **{k: _number(row.get(k), f"{where}[{k!r}]") for k in numbers_},
        "inside_band": _flag(row.get("inside_band"), f"{where}['inside_band']"),
    }


# --- appending -----------------------------------------------------------------------------------


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


# --- reading -------------------------------------------------------------------------------------


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


class MonitorStore:
    """Append-only, hash-chained storage of monitoring results in SQLite or PostgreSQL.

    Parameters
    ----------
    url_or_path : str, path or sqlalchemy URL
        A file path (a SQLite database, created if missing), ``sqlite:///path``, ``sqlite://``
        (in memory) or ``postgresql+psycopg://user:password@host:5432/dbname``.
    create : bool, default True
        Create the tables (and the append-only triggers) when missing. With False, a database
        without a store raises :class:`StoreError`.

    Notes
    -----
    Each ``record_*`` call is one transaction under a store-wide lock (``BEGIN IMMEDIATE`` on
    SQLite, ``SELECT ... FOR UPDATE`` of the head row on PostgreSQL), so concurrent writers in
    several processes still build one valid chain and a failure leaves no partial rows.

    Examples
    --------
    >>> with MonitorStore("sqlite://") as store:
    ...     run = store.record_run(model="fraud", model_version="1", reference_hash="r",
    ...                            config_hash="c", config={})
    ...     store.models()[["model", "runs", "windows"]].to_dict("records")
    [{'model': 'fraud', 'runs': 1, 'windows': 0}]
    """

    def __init__(self, url_or_path: str | PathLike | URL, *, create: bool = True):
        self.url = _to_url(url_or_path)
        self._sqlite = self.url.get_backend_name() == "sqlite"
        if (
            self._sqlite
            and not create
            and not self._memory
            and not Path(self.url.database).exists()
        ):
            raise StoreError(
                f"there is no monitor store at {self.url.database!r}; check the path, or record a "
                "run first."
            )
        self._engine = _make_engine(self.url)
        try:
            self._open(create)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            self._engine.dispose()
            raise _open_error(self.url, exc) from None
        except sa.exc.DatabaseError as exc:
            self._engine.dispose()
            if not self._sqlite:
                raise
            raise _open_error(self.url, exc) from None  # "file is not a database"
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def _memory(self) -> bool:
        return self._sqlite and self.url.database in (None, "", ":memory:")

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for reading with your own SQL; the tables are append-only)."""
        return self._engine

    def __repr__(self) -> str:
        return f"MonitorStore({self.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> MonitorStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # --- transactions ---

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        """One transaction; writers take the store-wide lock, readers see one snapshot."""
        try:
            with self._engine.connect() as conn:
                if self._sqlite:
                    conn = conn.execution_options(labelwise_write=write)
                elif not write:
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError):
                raise _open_error(self.url, exc) from None
            raise

    def _open(self, create: bool) -> None:
        with self._transaction(write=True) as conn:
            if not self._sqlite:
                # Two processes creating the tables at once would collide on the catalog.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            names = set(sa.inspect(conn).get_table_names())
            ours = {t.name for t in CHAINED}
            if HEAD.name not in names:
                if not create:
                    raise StoreError(
                        f"there is no monitor store at "
                        f"{self.url.render_as_string(hide_password=True)!r} (no chain_head table)."
                    )
                clash = sorted(names & ours)
                if clash:
                    raise ConfigError(
                        f"tables {clash} already exist at "
                        f"{self.url.render_as_string(hide_password=True)!r} but are not a "
                        "labelwise monitor store; use another database (or PostgreSQL schema)."
                    )
                _META.create_all(conn)
                conn.execute(
                    HEAD.insert(),
                    {
                        "id": 1,
                        "schema": SCHEMA,
                        "seq": 0,
                        "row_hash": GENESIS,
                        "updated_at": _now(),
                    },
                )
            schema = conn.execute(sa.select(HEAD.c.schema).where(HEAD.c.id == 1)).scalar()
            if schema != SCHEMA:
                raise ConfigError(
                    f"the store at {self.url.render_as_string(hide_password=True)!r} has schema "
                    f"{schema!r}; this labelwise reads {SCHEMA!r}."
                )
            if create:
                _install_triggers(conn)

    def _append(self, build: Callable[[Connection, Mapping], tuple[dict, Callable]]) -> Any:
        """Run one logical write: lock the head, add rows, move the head, commit.

        ``build(conn, head)`` returns the provenance of the rows and a function that, given an
        :class:`_Appender`, adds them and returns the value handed back to the caller.
        """
        with self._transaction(write=True) as conn:
            head = conn.execute(_LOCK_HEAD).mappings().first()
            if head is None:
                raise StoreError(
                    f"{self!r} has lost its chain head row; run verify() and restore it."
                )
            provenance, add_rows = build(conn, head)
            appender = _Appender(int(head["seq"]), head["row_hash"], provenance)
            value = add_rows(appender)
            for table, rows in appender.batches():
                _insert(conn, table, rows)
            conn.execute(
                _MOVE_HEAD,
                {
                    "seq": appender.seq,
                    "last_table": appender.rows[-1][0].name,
                    "row_hash": appender.prev_hash,
                    "updated_at": _now(),
                },
            )
            return value

    def _run_provenance(self, conn: Connection, run_id: Any) -> dict:
        try:
            run_id = operator.index(run_id)
        except TypeError:
            raise InputError(
                f"run_id must be an integer from record_run, got {run_id!r}."
            ) from None
        row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).mappings().first()
        if row is None:
            raise InputError(f"there is no run {run_id} in this store; call record_run first.")
        keep = ("model", "model_version", "reference_hash", "config_hash")
        return {
            **{k: row[k] for k in keep},
            "labelwise_version": _code_version(),
            "created_at": _now(),
        }

    # --- writing ---

    def record_run(
        self,
        *,
        model: str,
        model_version: str,
        reference_hash: str,
        config_hash: str,
        config: Mapping[str, Any] | None = None,
        windows: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """Record the start of a monitoring run and return its id.

        Parameters
        ----------
        model, model_version : str
            Which model is watched (a version given as an int is stored as its text).
        reference_hash, config_hash : str
            Fingerprints of the reference window and of the monitor configuration.
        config : dict, optional
            The configuration itself (JSON data), kept with the run.
        windows : sequence of dict, optional
            Window results (``WindowResult.to_dict()``) stored with the run in the same
            transaction: the run and all its windows land, or nothing does.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> store.record_run(model="m", model_version="1", reference_hash="r", config_hash="c")
        1
        """
        provenance = {
            "model": _text(model, "model"),
            "model_version": _text(model_version, "model_version"),
            "reference_hash": _text(reference_hash, "reference_hash"),
            "config_hash": _text(config_hash, "config_hash"),
            "labelwise_version": _code_version(),
            "created_at": _now(),
        }
        config = _json_data(config or {}, "config")
        if not isinstance(config, dict):
            raise InputError(f"config must be a dict, got {type(config).__name__}.")
        checked = self._check_windows(windows)

        def add_rows(app: _Appender) -> int:
            run_id = app.add(RUNS, {"config": config})
            for window in checked:
                self._add_window(app, run_id, window)
            return run_id

        return self._append(lambda conn, head: (provenance, add_rows))

    @staticmethod
    def _check_windows(results: Any) -> list[dict]:
        if isinstance(results, Mapping) or not isinstance(results, Sequence):
            raise InputError("windows must be a list of WindowResult.to_dict() dicts.")
        return [_check_result(result) for result in results]

    def record_window(self, run_id: int, result: Mapping[str, Any]) -> int:
        """Store one window (its row, metrics and composite) in one transaction; return its id.

        ``result`` is ``WindowResult.to_dict()``: window, start, end, n_rows, composite,
        severity, metrics (dicts with monitor, metric, value, threshold, low, high, fired) and
        details. NaN and infinite metric values are stored as NULL; everything else invalid
        raises :class:`~labelwise.errors.InputError` before anything is written.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version="1", reference_hash="r",
        ...                        config_hash="c")
        >>> store.record_window(run, {"window": "w1", "n_rows": 10, "composite": 0.0,
        ...                           "severity": "ok", "metrics": []})
        2
        """
        window = _check_result(result)

        def build(conn: Connection, head: Mapping) -> tuple[dict, Callable]:
            provenance = self._run_provenance(conn, run_id)
            return provenance, lambda app: self._add_window(app, int(run_id), window)

        return self._append(build)

    def record_windows(self, run_id: int, results: Sequence[Mapping[str, Any]]) -> list[int]:
        """Store several windows in **one** transaction: all of them, or none.

        Every result is validated before anything is written, as in :meth:`record_window`.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version="1", reference_hash="r",
        ...                        config_hash="c")
        >>> rows = [{"window": w, "n_rows": 10, "composite": 0.0, "severity": "ok",
        ...          "metrics": []} for w in ("w1", "w2")]
        >>> store.record_windows(run, rows)
        [2, 4]
        """
        windows = self._check_windows(results)
        if not windows:
            return []

        def build(conn: Connection, head: Mapping) -> tuple[dict, Callable]:
            provenance = self._run_provenance(conn, run_id)
            return provenance, lambda app: [
                self._add_window(app, int(run_id), window) for window in windows
            ]

        return self._append(build)

    @staticmethod
    def _add_window(app: _Appender, run_id: int, window: dict) -> int:
        keys = ("start", "end", "n_rows", "details", "extra")
        pk = app.add(
            WINDOWS,
            {"run_id": run_id, "window": window["window"], **{k: window[k] for k in keys}},
        )
        links = {"window_id": pk, "run_id": run_id, "window": window["window"]}
        for metric in window["metrics"]:
            app.add(METRICS, {**links, **metric})
        app.add(
            COMPOSITES,
            {**links, "composite": window["composite"], "severity": window["severity"]},
        )
        return pk

    def record_reconciliation(
        self, run_id: int, window: str, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Store realized-versus-estimated rows for a past window; return their ids.

        Each row: metric, estimated, realized, gap, low, high (the estimate's band) and
        inside_band. All rows go in one transaction.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version="1", reference_hash="r",
        ...                        config_hash="c")
        >>> store.record_reconciliation(run, "w1", [{"metric": "auc", "estimated": 0.8,
        ...     "realized": 0.7, "gap": -0.1, "low": 0.75, "high": 0.85, "inside_band": False}])
        [2]
        """
        name = _text(window, "window")
        if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)) or not rows:
            raise InputError("rows must be a non-empty list of dicts (one per metric).")
        checked = [_check_reconciliation(row, i) for i, row in enumerate(rows)]

        def add_rows(app: _Appender) -> list[int]:
            return [
                app.add(RECONCILIATIONS, {"run_id": int(run_id), "window": name, **row})
                for row in checked
            ]

        return self._append(lambda conn, head: (self._run_provenance(conn, run_id), add_rows))

    # --- checking ---

    def head(self) -> str:
        """The ``row_hash`` of the last row written (64 zeros for an empty store).

        Keep a copy elsewhere (a ticket, a log, a second database): a store rewritten
        consistently from some row onwards passes :meth:`verify` but no longer ends at, or
        extends from, the hash you kept.

        >>> MonitorStore("sqlite://").head() == "0" * 64
        True
        """
        with self._transaction(write=False) as conn:
            return conn.execute(sa.select(HEAD.c.row_hash).where(HEAD.c.id == 1)).scalar_one()

    def verify(self, known_heads: Iterable[str] = ()) -> ChainReport:
        """Recompute the whole chain; report the first edited, deleted, reordered or forged row.

        Parameters
        ----------
        known_heads : iterable of str
            Hashes from :meth:`head` written down earlier elsewhere; each must still be in the
            chain. This is what catches a consistent rewrite of the chain's end.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> store.verify()
        ChainReport(ok=True, rows_checked=0, first_bad=None, head=None)
        """
        with self._transaction(write=False) as conn:
            head = conn.execute(sa.select(HEAD).where(HEAD.c.id == 1)).mappings().first()
            if head is None:
                reason = "the head row is missing (deleted): the chain's end cannot be checked"
                return ChainReport(False, 0, {"table": HEAD.name, "id": 1, "reason": reason})
            streams = [self._stream(conn, table) for table in CHAINED]
            return walk(heapq.merge(*streams, key=lambda row: row.id), head, known_heads)

    @staticmethod
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

    # --- reading ---

    def _read(self, query: sa.Select, columns: Sequence[str]) -> pd.DataFrame:
        with self._transaction(write=False) as conn:
            return _frame(conn.execute(query), columns)

    def models(self) -> pd.DataFrame:
        """One row per model and version: runs, windows, the last window and its severity.

        >>> MonitorStore("sqlite://").models().columns.tolist()
        ['model', 'model_version', 'runs', 'windows', 'last_window', 'last_severity']
        """
        keys = ["model", "model_version"]
        runs = self._read(sa.select(RUNS.c.model, RUNS.c.model_version, RUNS.c.id), keys + ["id"])
        wins = self._windows_query(None)
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
        return out[keys + ["runs", "windows", "last_window", "last_severity"]].reset_index(
            drop=True
        )

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

    def _windows_query(self, model: str | None) -> pd.DataFrame:
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
        frame = self._read(query, self._WINDOW_COLUMNS)
        frame = _floats(_times(frame, "start", "end", "created_at"), "composite")
        # Window order: by start where known, else as recorded (the sort is stable).
        return frame.sort_values("start", kind="stable", na_position="last").reset_index(drop=True)

    def windows(self, model: str) -> pd.DataFrame:
        """One row per stored window of ``model``, in window order.

        Columns: run_id, window, start, end, n_rows, composite, severity, created_at, then
        model, model_version and window_pk (the id :meth:`record_window` returned).
        """
        return self._windows_query(_text(model, "model"))

    def metrics(self, model: str, window: str | None = None) -> pd.DataFrame:
        """Tidy metrics of ``model`` (one window or all): window, monitor, metric, value, ...

        Columns: window, monitor, metric, value, threshold, low, high, fired, then run_id and
        window_pk, in the order recorded.
        """
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
            .where(m.c.model == _text(model, "model"))
            .order_by(m.c.id)
        )
        if window is not None:
            query = query.where(m.c.window_name == _text(window, "window"))
        columns = ["window", "monitor", "metric", "value", "threshold", "low", "high", "fired"]
        frame = self._read(query, columns + ["run_id", "window_pk"])
        return _flags(_floats(frame, "value", "threshold", "low", "high"), "fired")

    def alerts(self, model: str | None = None) -> pd.DataFrame:
        """Windows (of one model, or all) whose severity is warn, alert or critical."""
        frame = self._windows_query(None if model is None else _text(model, "model"))
        return frame[frame["severity"].isin(ALERTING)].reset_index(drop=True)

    def reconciliations(self, model: str) -> pd.DataFrame:
        """Realized-versus-estimated rows of ``model``, in the order recorded."""
        r = RECONCILIATIONS
        names = ["metric", "estimated", "realized", "gap", "low", "high", "inside_band"]
        query = (
            sa.select(r.c.run_id, r.c.window_name, *(r.c[n] for n in names), r.c.created_at)
            .where(r.c.model == _text(model, "model"))
            .order_by(r.c.id)
        )
        frame = self._read(query, ["run_id", "window", *names, "created_at"])
        frame = _floats(frame, "estimated", "realized", "gap", "low", "high")
        return _times(_flags(frame, "inside_band"), "created_at")

    def window_detail(self, model: str, window: str) -> dict:
        """The stored result of one window (the latest if recorded twice) and its reconciliation.

        Returns the dict given to :meth:`record_window` (normalized: NaN as None) with
        run_id, window_pk, model, model_version, created_at and ``reconciliation`` (a list of
        row dicts) added.
        """
        model, window = _text(model, "model"), _text(window, "window")
        w, r = WINDOWS, RECONCILIATIONS
        with self._transaction(write=False) as conn:
            row = (
                conn.execute(
                    sa.select(w.c.id, w.c.payload)
                    .where(w.c.model == model, w.c.window_name == window)
                    .order_by(w.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
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
                sa.select(r.c.payload)
                .where(r.c.model == model, r.c.window_name == window)
                .order_by(r.c.id)
            ).scalars()
            recon_rows = [json.loads(p) for p in recon]
        return _detail(json.loads(row["payload"]), children, recon_rows)


def _detail(stored: dict, children: list[dict], recon: list[dict]) -> dict:
    """Rebuild the result dict from the window's payload and its children's payloads."""
    children.sort(key=lambda p: p["id"])
    composite = next(p for p in children if p["table"] == COMPOSITES.name)
    metrics = [{k: p[k] for k in _METRIC_KEYS} for p in children if p["table"] == METRICS.name]
    keep = ("run_id", "window", "start", "end", "n_rows", "model", "model_version", "created_at")
    return {
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


# --- helpers for the command line -----------------------------------------------------------------


def verify_store(url: str | PathLike | URL, known_heads: Iterable[str] = ()) -> ChainReport:
    """Open an existing store, verify its chain (see :meth:`MonitorStore.verify`) and close it.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "monitor.db")
    >>> MonitorStore(path).close()
    >>> verify_store(path).ok
    True
    """
    store = MonitorStore(url, create=False)
    try:
        return store.verify(known_heads)
    finally:
        store.close()


def default_store_url(monitor_json_path: str | PathLike) -> str:
    """The SQLite store beside a ``monitor.json`` (or inside a folder): ``sqlite:///.../monitor.db``.

    >>> default_store_url("/srv/credit/monitor.json")
    'sqlite:////srv/credit/monitor.db'
    """
    path = Path(monitor_json_path).expanduser()
    folder = path if path.is_dir() else path.parent
    return f"sqlite:///{(folder.resolve() / DEFAULT_DB_NAME).as_posix()}"
