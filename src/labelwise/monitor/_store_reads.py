"""Reading the monitor store: its head, the verification of its chain, and tidy tables.

One reason to change: what a caller can ask of a store. Each method reads inside one
transaction, so it sees one snapshot however many writers there are; the SQL is
:mod:`._store_sql`, the chain's rules :mod:`._chain`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from labelwise.errors import StoreError
from labelwise.monitor import _store_sql
from labelwise.monitor._chain import ChainReport, walk
from labelwise.monitor._checks import _text
from labelwise.monitor._schema import HEAD
from labelwise.monitor.witness import as_known_heads

__all__ = ["StoreReads"]


class StoreReads:
    """The reading and verifying methods of :class:`~labelwise.monitor.store.MonitorStore`."""

    def head(self) -> str:
        """The ``row_hash`` of the last row written (64 zeros for an empty store).

        Keep a copy elsewhere (a witness file, a ticket, a log): a store rewritten consistently
        from some row onwards passes :meth:`verify` but no longer ends at, or extends from, the
        hash you kept. :attr:`last_written` also gives its position.

        >>> from labelwise.monitor.store import MonitorStore
        >>> MonitorStore("sqlite://").head() == "0" * 64
        True
        """
        with self._transaction(write=False) as conn:
            head = _store_sql.read_head(conn)
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
        >>> from labelwise.monitor.store import MonitorStore
        >>> store = MonitorStore("sqlite://")
        >>> store.verify()
        ChainReport(ok=True, rows_checked=0, first_bad=None, head=None)
        >>> store.verify([(2, "ab" * 32)]).ok  # a head of two rows was seen: they are gone
        False
        """
        heads = as_known_heads(known_heads)
        with self._transaction(write=False) as conn:
            head = _store_sql.read_head(conn)
            if head is None:
                reason = "the head row is missing (deleted): the chain's end cannot be checked"
                return ChainReport(False, 0, {"table": HEAD.name, "id": 1, "reason": reason})
            return walk(_store_sql.chain_rows(conn), head, heads)

    # --- reading ---------------------------------------------------------------------------

    def _read(self, query: Callable[..., Any], *args: Any) -> Any:
        with self._transaction(write=False) as conn:
            return query(conn, *args)

    def models(self) -> pd.DataFrame:
        """One row per model and version: runs, windows, the last window and its severity.

        >>> from labelwise.monitor.store import MonitorStore
        >>> MonitorStore("sqlite://").models().columns.tolist()
        ['model', 'model_version', 'runs', 'windows', 'last_window', 'last_severity']
        """
        return self._read(_store_sql.models)

    def windows(self, model: str) -> pd.DataFrame:
        """One row per stored window of ``model``, in window order.

        Columns: run_id, window, start, end, n_rows, composite, severity, created_at, then
        model, model_version and window_pk (the id :meth:`record_window` returned).
        """
        return self._read(_store_sql.windows, _text(model, "model"))

    def metrics(self, model: str, window: str | None = None) -> pd.DataFrame:
        """Tidy metrics of ``model`` (one window or all): window, monitor, metric, value, ...

        Columns: window, monitor, metric, value, threshold, low, high, fired, then run_id and
        window_pk, in the order recorded.
        """
        window = None if window is None else _text(window, "window")
        return self._read(_store_sql.metrics, _text(model, "model"), window)

    def alerts(self, model: str | None = None) -> pd.DataFrame:
        """Windows (of one model, or all) whose severity is warn, alert or critical."""
        return self._read(_store_sql.alerts, None if model is None else _text(model, "model"))

    def reconciliations(self, model: str) -> pd.DataFrame:
        """Realized-versus-estimated rows of ``model``, in the order recorded."""
        return self._read(_store_sql.reconciliations, _text(model, "model"))

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
        return self._read(_store_sql.window_detail, model, window, config)

    def state(self, model: str, config_hash: str) -> dict | None:
        """The state kept with the newest window of ``model`` under ``config_hash``, or None.

        This is what a ``step`` given to :meth:`record_run` receives, read outside a write.

        >>> from labelwise.monitor.store import MonitorStore
        >>> MonitorStore("sqlite://").state("credit", "c1") is None
        True
        """
        model, config_hash = _text(model, "model"), _text(config_hash, "config_hash")
        return self._read(_store_sql.latest_state, model, config_hash)
