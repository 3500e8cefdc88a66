"""An append-only, tamper-evident store of monitoring runs, windows, metrics and reconciliations.

The store speaks SQLAlchemy Core to a SQLite file (the default: give a path) or to PostgreSQL
(give a ``postgresql+psycopg://`` URL). Every row carries the model, model version, reference hash,
config hash, labelwise version and creation time, and sits at one position of a hash chain that
runs across all tables (see :mod:`labelwise.monitor._chain` and ``docs/monitor-store.md``).
:meth:`MonitorStore.verify` recomputes the chain and names the first row that was edited,
deleted, reordered or forged.

The code is split along its seams: :mod:`~labelwise.monitor._schema` (tables, triggers, opening
a database), :mod:`~labelwise.monitor._checks` (validation of what is written),
:mod:`~labelwise.monitor._writing` (chaining rows), :mod:`~labelwise.monitor._queries` (the
read side) and :mod:`~labelwise.monitor._witness` (heads kept elsewhere). This module holds the
transactions and re-exports the names the others are known by.

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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from labelwise.errors import InputError, StoreError
from labelwise.monitor import _queries
from labelwise.monitor._chain import (  # noqa: F401 - re-exported
    GENESIS,
    ChainReport,
    ChainRow,
    KnownHead,
    canonical_json,
    row_hash,
    to_json,
    walk,
)
from labelwise.monitor._checks import (  # noqa: F401 - re-exported
    _METRIC_KEYS,
    _RECON_KEYS,
    _RESULT_KEYS,
    SEVERITIES,
    _check_metric,
    _check_reconciliation,
    _check_result,
    _flag,
    _json_data,
    _number,
    _text,
    _timestamp,
    check_step_result,
    check_windows,
)
from labelwise.monitor._queries import (  # noqa: F401 - re-exported
    _WINDOW_COLUMNS,
    ALERTING,
    _detail,
    _flags,
    _floats,
    _frame,
    _times,
)
from labelwise.monitor._schema import (  # noqa: F401 - re-exported
    _META,
    _MIRRORS,
    _PG_FUNCTIONS,
    _PG_LOCK_KEY,
    _PG_TRIGGERS,
    _PROVENANCE,
    _RENAMED,
    _SQLITE_TRIGGERS,
    CHAINED,
    COMPOSITES,
    DEFAULT_DB_NAME,
    HEAD,
    METRICS,
    RECONCILIATIONS,
    RUNS,
    SCHEMA,
    WINDOWS,
    _chained,
    _hide,
    _install_triggers,
    _make_engine,
    _mirror,
    _now,
    _open_error,
    _sqlite_engine,
    _to_url,
    open_schema,
)
from labelwise.monitor._witness import append_witness, as_known_heads, read_witness
from labelwise.monitor._writing import (  # noqa: F401 - re-exported
    _LOCK_HEAD,
    _MOVE_HEAD,
    _RUN_BY_ID,
    _Appender,
    _code_version,
    _insert,
    add_window,
    lock_head,
    move_head,
    run_provenance,
)

__all__ = [
    "SEVERITIES",
    "ChainReport",
    "KnownHead",
    "MonitorStore",
    "StoreError",
    "append_witness",
    "default_store_url",
    "read_witness",
    "verify_store",
]

#: A step given to :meth:`MonitorStore.record_run`: previous state -> (windows, new state).
Step = Callable[[dict | None], tuple[Sequence[Mapping[str, Any]], dict | None]]


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

    def __init__(self, url_or_path: str | PathLike | URL, *, create: bool = True):
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
        step: Step | None = None,
        reconciliation: tuple[str, Sequence[Mapping[str, Any]]] | None = None,
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
        step : callable, optional
            ``step(previous_state) -> (windows, state)``, called inside the write transaction,
            after the store-wide lock is taken. ``previous_state`` is what :meth:`state` returns
            for this model and config hash; the returned windows are stored with the run and
            ``state`` (a dict of JSON data, or None) in the payload of the last of them. Two
            processes stepping the same monitor therefore see each other's state, in turn. An
            exception in ``step`` or an invalid window writes nothing. Give ``windows`` or
            ``step``, not both.
        reconciliation : (window, rows), optional
            Realized-versus-estimated rows of a past window (as :meth:`record_reconciliation`
            takes them), stored with the run in the same transaction: a failure leaves neither.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> store.record_run(model="m", model_version="1", reference_hash="r", config_hash="c")
        1
        >>> def step(state):
        ...     seen = (state or {}).get("seen", 0)
        ...     window = {"window": f"w{seen}", "n_rows": 5, "composite": 0.1,
        ...               "severity": "ok", "metrics": []}
        ...     return [window], {"seen": seen + 1}
        >>> for _ in range(2):
        ...     _ = store.record_run(model="m", model_version="1", reference_hash="r",
        ...                          config_hash="c", step=step)
        >>> store.state("m", "c")
        {'seen': 2}
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
        if step is not None and not callable(step):
            raise InputError(f"step must be a function (state -> (windows, state)), got {step!r}.")
        if step is not None and checked:
            raise InputError("give the windows either as windows= or from step, not both.")
        recon = None if reconciliation is None else _check_reconciliations(*reconciliation)

        def build(conn: Connection, head: Mapping) -> tuple[dict, Callable]:
            stored, state = checked, None
            if step is not None:
                previous = _queries.latest_state(
                    conn, provenance["model"], provenance["config_hash"]
                )
                stored, state = check_step_result(step(previous))

            def add_rows(app: _Appender) -> int:
                run_id = app.add(RUNS, {"config": config})
                for i, window in enumerate(stored):
                    last = i == len(stored) - 1
                    add_window(app, run_id, window, state if last else None)
                if recon is not None:
                    _add_reconciliations(app, run_id, *recon)
                return run_id

            return provenance, add_rows

        return self._append(build)

    @staticmethod
    def _check_windows(results: Any) -> list[dict]:
        return check_windows(results)

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
            provenance = run_provenance(conn, run_id)
            return provenance, lambda app: add_window(app, int(run_id), window)

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
            provenance = run_provenance(conn, run_id)
            return provenance, lambda app: [
                add_window(app, int(run_id), window) for window in windows
            ]

        return self._append(build)

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
        name, checked = _check_reconciliations(window, rows)

        def add_rows(app: _Appender) -> list[int]:
            return _add_reconciliations(app, int(run_id), name, checked)

        return self._append(lambda conn, head: (run_provenance(conn, run_id), add_rows))

    # --- checking ---

    def head(self) -> str:
        """The ``row_hash`` of the last row written (64 zeros for an empty store).

        Keep a copy elsewhere (a witness file, a ticket, a log): a store rewritten consistently
        from some row onwards passes :meth:`verify` but no longer ends at, or extends from, the
        hash you kept. :attr:`last_written` also gives its position.

        >>> MonitorStore("sqlite://").head() == "0" * 64
        True
        """
        with self._transaction(write=False) as conn:
            head = _queries.read_head(conn)
        if head is None:
            raise StoreError(
                f"the chain head row of {self!r} is missing (deleted); run verify and restore "
                "the database from a backup."
            )
        return head["row_hash"]

    def verify(self, known_heads: Iterable[str | tuple[int, str]] = ()) -> ChainReport:
        """Recompute the whole chain; report the first edited, deleted, reordered or forged row.

        Parameters
        ----------
        known_heads : iterable of str or (seq, hash) pairs
            Heads written down earlier elsewhere (:func:`read_witness` reads a witness file
            into pairs). A plain hash must still be some row's hash; a ``(seq, hash)`` pair must
            be the hash of row ``seq``, which also catches a chain cut back below ``seq`` or
            emptied, with its head moved back to match.

        Examples
        --------
        >>> store = MonitorStore("sqlite://")
        >>> store.verify()
        ChainReport(ok=True, rows_checked=0, first_bad=None, head=None)
        >>> store.verify([(2, "ab" * 32)]).ok  # a head of two rows was seen: they are gone
        False
        """
        heads = as_known_heads(known_heads)
        with self._transaction(write=False) as conn:
            head = _queries.read_head(conn)
            if head is None:
                reason = "the head row is missing (deleted): the chain's end cannot be checked"
                return ChainReport(False, 0, {"table": HEAD.name, "id": 1, "reason": reason})
            return walk(_queries.chain_rows(conn), head, heads)

    # --- reading ---

    def _read(self, query: Callable[..., Any], *args: Any) -> Any:
        with self._transaction(write=False) as conn:
            return query(conn, *args)

    def models(self) -> pd.DataFrame:
        """One row per model and version: runs, windows, the last window and its severity.

        >>> MonitorStore("sqlite://").models().columns.tolist()
        ['model', 'model_version', 'runs', 'windows', 'last_window', 'last_severity']
        """
        return self._read(_queries.models)

    def windows(self, model: str) -> pd.DataFrame:
        """One row per stored window of ``model``, in window order.

        Columns: run_id, window, start, end, n_rows, composite, severity, created_at, then
        model, model_version and window_pk (the id :meth:`record_window` returned).
        """
        return self._read(_queries.windows, _text(model, "model"))

    def metrics(self, model: str, window: str | None = None) -> pd.DataFrame:
        """Tidy metrics of ``model`` (one window or all): window, monitor, metric, value, ...

        Columns: window, monitor, metric, value, threshold, low, high, fired, then run_id and
        window_pk, in the order recorded.
        """
        window = None if window is None else _text(window, "window")
        return self._read(_queries.metrics, _text(model, "model"), window)

    def alerts(self, model: str | None = None) -> pd.DataFrame:
        """Windows (of one model, or all) whose severity is warn, alert or critical."""
        return self._read(_queries.alerts, None if model is None else _text(model, "model"))

    def reconciliations(self, model: str) -> pd.DataFrame:
        """Realized-versus-estimated rows of ``model``, in the order recorded."""
        return self._read(_queries.reconciliations, _text(model, "model"))

    def window_detail(self, model: str, window: str, config_hash: str | None = None) -> dict:
        """The stored result of one window (the latest if recorded twice) and its reconciliation.

        Returns the dict given to :meth:`record_window` (normalized: NaN as None) with
        run_id, window_pk, model, model_version, created_at and ``reconciliation`` (a list of
        row dicts) added, and ``state`` when the window was the last of a run written with a
        ``step`` (see :meth:`record_run`). With ``config_hash``, the latest recording by that
        monitor configuration is preferred (the latest of any when it has none).
        """
        model, window = _text(model, "model"), _text(window, "window")
        config = None if config_hash is None else _text(config_hash, "config_hash")
        return self._read(_queries.window_detail, model, window, config)

    def state(self, model: str, config_hash: str) -> dict | None:
        """The state kept with the newest window of ``model`` under ``config_hash``, or None.

        This is what a ``step`` given to :meth:`record_run` receives, read outside a write.

        >>> MonitorStore("sqlite://").state("credit", "c1") is None
        True
        """
        model, config_hash = _text(model, "model"), _text(config_hash, "config_hash")
        return self._read(_queries.latest_state, model, config_hash)


def _check_reconciliations(window: Any, rows: Any) -> tuple[str, list[dict]]:
    """The window's name and its validated reconciliation rows, before anything is written."""
    name = _text(window, "window")
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)) or not rows:
        raise InputError("rows must be a non-empty list of dicts (one per metric).")
    return name, [_check_reconciliation(row, i) for i, row in enumerate(rows)]


def _add_reconciliations(app: _Appender, run_id: int, name: str, rows: list[dict]) -> list[int]:
    return [app.add(RECONCILIATIONS, {"run_id": run_id, "window": name, **row}) for row in rows]


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
