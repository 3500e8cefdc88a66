"""Writing to the monitor store: runs, windows and reconciliations, each in one transaction.

One reason to change: what a caller can record. Every ``record_*`` method validates what it is
given before the store-wide lock is taken (:mod:`._checks`), then hands the rows to
:meth:`MonitorStore._append <labelwise.monitor.store.MonitorStore>`, which chains them
(:mod:`._store_append`) and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from labelwise._params import CALLABLE, check_params
from labelwise.errors import InputError
from labelwise.monitor import _store_sql
from labelwise.monitor._checks import (
    _check_reconciliation,
    _check_result,
    _json_data,
    _text,
    check_step_result,
    check_windows,
)
from labelwise.monitor._schema import RECONCILIATIONS, RUNS, _now
from labelwise.monitor._store_append import _Appender, _code_version, add_window, run_provenance

__all__ = ["Step", "StoreWrites"]

#: A step given to :meth:`MonitorStore.record_run`: previous state -> (windows, new state).
Step = Callable[[dict | None], tuple[Sequence[Mapping[str, Any]], dict | None]]

_STEP = {"step": [CALLABLE, None]}


class StoreWrites:
    """The ``record_*`` methods of :class:`~labelwise.monitor.store.MonitorStore`."""

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
        >>> from labelwise.monitor.store import MonitorStore
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
        checked = check_windows(windows)
        check_params(_STEP, {"step": step}, error=InputError)
        if step is not None and checked:
            raise InputError("give the windows either as windows= or from step, not both.")
        recon = None if reconciliation is None else _check_reconciliations(*reconciliation)

        def build(conn: Connection, head: Mapping) -> tuple[dict, Callable]:
            stored, state = checked, None
            if step is not None:
                previous = _store_sql.latest_state(
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

    def record_window(self, run_id: int, result: Mapping[str, Any]) -> int:
        """Store one window (its row, metrics and composite) in one transaction; return its id.

        ``result`` is ``WindowResult.to_dict()``: window, start, end, n_rows, composite,
        severity, metrics (dicts with monitor, metric, value, threshold, low, high, fired) and
        details. NaN and infinite metric values are stored as NULL; everything else invalid
        raises :class:`~labelwise.errors.InputError` before anything is written.

        Examples
        --------
        >>> from labelwise.monitor.store import MonitorStore
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version=1, reference_hash="r", config_hash="c")
        >>> store.record_window(run, {"window": "w1", "n_rows": 10, "composite": 0.0,
        ...                           "severity": "ok", "metrics": []})
        2
        """
        window = _check_result(result)
        return self._append_to_run(run_id, lambda app: add_window(app, int(run_id), window))

    def record_windows(self, run_id: int, results: Sequence[Mapping[str, Any]]) -> list[int]:
        """Store several windows in **one** transaction: all of them, or none.

        Every result is validated before anything is written, as in :meth:`record_window`.

        Examples
        --------
        >>> from labelwise.monitor.store import MonitorStore
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version=1, reference_hash="r", config_hash="c")
        >>> rows = [{"window": w, "n_rows": 10, "composite": 0.0, "severity": "ok",
        ...          "metrics": []} for w in ("w1", "w2")]
        >>> store.record_windows(run, rows)
        [2, 4]
        """
        windows = check_windows(results)
        if not windows:
            return []
        return self._append_to_run(
            run_id, lambda app: [add_window(app, int(run_id), window) for window in windows]
        )

    def record_reconciliation(
        self, run_id: int, window: str, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Store realized-versus-estimated rows for a past window; return their ids.

        Each row: metric, estimated, realized, gap, low, high (the estimate's band) and
        inside_band. All rows go in one transaction.

        Examples
        --------
        >>> from labelwise.monitor.store import MonitorStore
        >>> store = MonitorStore("sqlite://")
        >>> run = store.record_run(model="m", model_version=1, reference_hash="r", config_hash="c")
        >>> store.record_reconciliation(run, "w1", [{"metric": "auc", "estimated": 0.8,
        ...     "realized": 0.7, "gap": -0.1, "low": 0.75, "high": 0.85, "inside_band": False}])
        [2]
        """
        name, checked = _check_reconciliations(window, rows)
        return self._append_to_run(
            run_id, lambda app: _add_reconciliations(app, int(run_id), name, checked)
        )

    def _append_to_run(self, run_id: int, add_rows: Callable[[_Appender], Any]) -> Any:
        """One write of rows that belong to run ``run_id`` and share its provenance."""
        return self._append(lambda conn, head: (run_provenance(conn, run_id), add_rows))


def _check_reconciliations(window: Any, rows: Any) -> tuple[str, list[dict]]:
    """The window's name and its validated reconciliation rows, before anything is written."""
    name = _text(window, "window")
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)) or not rows:
        raise InputError("rows must be a non-empty list of dicts (one per metric).")
    return name, [_check_reconciliation(row, i) for i, row in enumerate(rows)]


def _add_reconciliations(app: _Appender, run_id: int, name: str, rows: list[dict]) -> list[int]:
    return [app.add(RECONCILIATIONS, {"run_id": run_id, "window": name, **row}) for row in rows]
