"""The monitor store's schema: its tables, the append-only triggers, and opening a database.

One reason to change: the layout in the database. Timestamps are part of it (ISO 8601 UTC text,
exact and portable), so :func:`_now` lives here too. See ``docs/monitor-store.md``.

>>> [t.name for t in CHAINED]
['runs', 'windows', 'composites', 'metrics', 'reconciliations']
>>> _to_url("sqlite://").get_backend_name()
'sqlite'
"""

from __future__ import annotations

from datetime import datetime, timezone
from os import PathLike
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from labelwise._optional import require
from labelwise.errors import ConfigError, StoreError
from labelwise.monitor._chain import GENESIS

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


def _of_window() -> list[sa.Column]:
    """The columns that tie a row to its window and run."""
    return [
        sa.Column(
            "window_id", sa.BigInteger, sa.ForeignKey("windows.id"), nullable=False, index=True
        ),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("window_name", sa.String(200), nullable=False),
    ]


def _numbers(*names: str) -> list[sa.Column]:
    """Nullable floating-point columns (NaN and infinities are stored as NULL)."""
    return [sa.Column(name, sa.Double) for name in names]


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
    *_of_window(),
    sa.Column("composite", sa.Double, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
)
METRICS = _chained(
    "metrics",
    *_of_window(),
    sa.Column("monitor", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    *_numbers("value", "threshold", "low", "high"),
    sa.Column("fired", sa.Boolean),
)
RECONCILIATIONS = _chained(
    "reconciliations",
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(200), nullable=False),
    *_numbers("estimated", "realized", "gap", "low", "high"),
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


# --- opening -------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


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


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def open_schema(conn: Connection, url: URL, create: bool) -> None:
    """Create the tables and the head row when missing (with ``create``), then check them.

    A store whose head row was deleted opens for reading, so that verify can report it, but
    not for writing: appending would restart the chain from nothing.
    """
    if url.get_backend_name() != "sqlite":
        # Two processes creating the tables at once would collide on the catalog.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    names = set(sa.inspect(conn).get_table_names())
    ours = {t.name for t in CHAINED}
    if HEAD.name not in names:
        if not create:
            raise StoreError(f"there is no monitor store at {_shown(url)!r} (no chain_head table).")
        clash = sorted(names & ours)
        if clash:
            raise ConfigError(
                f"tables {clash} already exist at {_shown(url)!r} but are not a labelwise "
                "monitor store; use another database (or PostgreSQL schema)."
            )
        _META.create_all(conn)
        conn.execute(
            HEAD.insert(),
            {"id": 1, "schema": SCHEMA, "seq": 0, "row_hash": GENESIS, "updated_at": _now()},
        )
    row = conn.execute(sa.select(HEAD.c.schema).where(HEAD.c.id == 1)).first()
    if row is None:
        if create:
            raise StoreError(
                f"the chain head row of the monitor store at {_shown(url)!r} is missing "
                "(deleted), so nothing can be appended; run `labelwise monitor verify` and "
                "restore the database from a backup."
            )
        return
    if row.schema != SCHEMA:
        raise ConfigError(
            f"the store at {_shown(url)!r} has schema {row.schema!r}; this labelwise reads "
            f"{SCHEMA!r}."
        )
    if create:
        _install_triggers(conn)
