"""An append-only, tamper-evident store of monitoring runs, windows, metrics and reconciliations.

The store speaks SQLAlchemy Core to a SQLite file (the default: give a path) or to PostgreSQL
(give a ``postgresql+psycopg://`` URL). Every row carries the model, model version, reference hash,
config hash, labelwise version and creation time, and sits at one position of a hash chain that
runs across all tables (see :mod:`labelwise.monitor._chain` and ``docs/monitor-store.md``).
:meth:`MonitorStore.verify` recomputes the chain and names the first row that was edited,
deleted, reordered or forged.

The code is split along its seams: :mod:`~labelwise.monitor._schema` (tables, triggers, opening
a database), :mod:`~labelwise.monitor._checks` (validation of what is written),
:mod:`~labelwise.monitor._store_append` (chaining rows),
:mod:`~labelwise.monitor._store_writes` (the ``record_*`` methods),
:mod:`~labelwise.monitor._store_sql` and
:mod:`~labelwise.monitor._store_reads` (the read side and verification) and
:mod:`~labelwise.monitor.witness` (heads kept elsewhere). This module holds the connection and
its transactions, and re-exports the names the others are known by.

>>> store = MonitorStore("sqlite://")  # in memory; a path gives a file
>>> run = store.record_run(model="credit", model_version="3", reference_hash="r1",
...                        config_hash="c1", config={"window": "week"})
>>> pk = store.record_window(run, {"window": "2026-W01", "n_rows": 500, "composite": 0.3,
...     "severity": "warn", "metrics": [{"monitor": "score", "metric": "psi", "value": 0.12,
...     "threshold": 0.1, "fired": True}]})
>>> print(store.verify())  # doctest: +ELLIPSIS
chain ok: 4 rows, head ...
>>> store.last_written.seq  # the head this object's last write left: keep a copy elsewhere
4
>>> store.windows("credit")[["window", "severity"]].to_dict("records")
[{'window': '2026-W01', 'severity': 'warn'}]
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from labelwise._params import BOOLEAN, check_params
from labelwise.errors import StoreError
from labelwise.monitor._chain import ChainReport, KnownHead
from labelwise.monitor._composite import SEVERITIES
from labelwise.monitor._schema import (
    DEFAULT_DB_NAME,
    _make_engine,
    _open_error,
    _to_url,
    open_schema,
)
from labelwise.monitor._store_append import _Appender, _insert, lock_head, move_head
from labelwise.monitor._store_reads import StoreReads
from labelwise.monitor._store_writes import Step, StoreWrites
from labelwise.monitor.witness import append_witness, as_known_heads, read_witness

__all__ = [
    "SEVERITIES",
    "ChainReport",
    "KnownHead",
    "MonitorStore",
    "Step",
    "StoreError",
    "append_witness",
    "default_store_url",
    "read_witness",
    "verify_store",
]


class MonitorStore(StoreWrites, StoreReads):
    """Append-only, hash-chained storage of monitoring results in SQLite or PostgreSQL.

    Parameters
    ----------
    url_or_path : str, path or sqlalchemy URL
        A file path (a SQLite database, created if missing), ``sqlite:///path``, ``sqlite://``
        (in memory) or ``postgresql+psycopg://user:password@host:5432/dbname``.
    create : bool, default True
        Create the tables (and the append-only triggers) when missing. With False, a database
        without a store raises :class:`StoreError`.

    Attributes
    ----------
    last_written : KnownHead or None
        ``(seq, hash)`` of the head this object's last write left; append it to a witness
        file (:func:`append_witness`) kept where the database's owner cannot write.

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

    _parameter_constraints: ClassVar[dict] = {"create": [BOOLEAN]}

    def __init__(self, url_or_path: str | PathLike | URL, *, create: bool = True):
        check_params(self._parameter_constraints, {"create": create})
        self.url = _to_url(url_or_path)
        #: ``KnownHead(seq, hash)`` left by this object's last write (None before one): the head
        #: to keep elsewhere, read in the write's own transaction, not after other writers.
        self.last_written: KnownHead | None = None
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

    # --- transactions ------------------------------------------------------------------------

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
            open_schema(conn, self.url, create)

    def _append(self, build: Callable[[Connection, Mapping], tuple[dict, Callable]]) -> Any:
        """Run one logical write: lock the head, add rows, move the head, commit.

        ``build(conn, head)`` returns the provenance of the rows and a function that, given an
        :class:`_Appender`, adds them and returns the value handed back to the caller. Anything
        raised before the commit (a bad value, a failing step) leaves the store as it was.
        """
        with self._transaction(write=True) as conn:
            head = lock_head(conn, repr(self))
            provenance, add_rows = build(conn, head)
            appender = _Appender(int(head["seq"]), head["row_hash"], provenance)
            value = add_rows(appender)
            for table, rows in appender.batches():
                _insert(conn, table, rows)  # looked up here at call time: tests replace it
            written = move_head(conn, appender)
        self.last_written = written
        return value


# --- helpers for the command line -----------------------------------------------------------------


def verify_store(
    url: str | PathLike | URL, known_heads: Iterable[str | tuple[int, str]] = ()
) -> ChainReport:
    """Open an existing store, verify its chain (see :meth:`MonitorStore.verify`) and close it.

    ``known_heads`` may be plain hashes or ``(seq, hash)`` pairs, such as :func:`read_witness`
    returns.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "monitor.db")
    >>> MonitorStore(path).close()
    >>> verify_store(path).ok
    True
    """
    heads = as_known_heads(known_heads)  # bad input fails before the database is opened
    store = MonitorStore(url, create=False)
    try:
        return store.verify(heads)
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
