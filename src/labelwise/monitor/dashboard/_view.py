"""The dashboard's read-only questions to a store, answered as JSON-safe page data.

Everything a page shows is read here: models, windows, metrics, reconciliations and alerts,
with times written for display and every value made JSON-safe, so the same data serves the HTML
pages and the ``/api`` routes. No function here writes to the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from labelwise._shared.formatting import finite_number
from labelwise._shared.formatting import format_time as when
from labelwise._shared.serialize import jsonable
from labelwise.monitor.dashboard._metrics import (
    class_table,
    estimate_rows,
    model_kind,
    window_classes,
)
from labelwise.monitor.dashboard._urls import NotFound, model_url, window_url


def _as_text(value: Any) -> Any:
    """What JSON cannot hold, as text: times in ISO 8601, bytes decoded, other NAs as None."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def plain(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NaN and infinities become None, numpy types Python ones.

    Examples
    --------
    >>> import numpy as np
    >>> plain({"a": np.float64("nan"), "b": [np.int64(2), pd.Timestamp("2024-01-01")]})
    {'a': None, 'b': [2, '2024-01-01T00:00:00']}
    """
    return jsonable(value, default=_as_text)


def records(frame: pd.DataFrame | Sequence[Mapping] | None) -> list[dict[str, Any]]:
    """Rows of a store answer as JSON-safe dicts, whatever container it came in."""
    if frame is None:
        return []
    if isinstance(frame, pd.DataFrame):
        rows = frame.to_dict(orient="records")
    else:
        rows = [dict(row) for row in frame]
    return [plain(row) for row in rows]


class StoreView:
    """The dashboard's read-only questions to a store, answered as JSON-safe structures.

    Parameters
    ----------
    store : MonitorStore
        An open store; only its reading methods are called.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    # models

    def models(self) -> list[dict[str, Any]]:
        """Each model with its versions, its number of windows and its last window's severity."""
        rows = records(self.store.models())
        names: dict[str, dict[str, Any]] = {}
        for row in rows:
            name = str(row.get("model"))
            entry = names.setdefault(name, {"model": name, "versions": []})
            version = row.get("model_version")
            if version is not None and str(version) not in entry["versions"]:
                entry["versions"].append(str(version))
        for entry in names.values():
            windows = self.windows(entry["model"])
            last = windows[-1] if windows else {}
            entry.update(
                n_windows=len(windows),
                last_window=last.get("window"),
                last_composite=last.get("composite"),
                last_severity=last.get("severity"),
                kind=model_kind(self.details(entry["model"], last.get("window"))),
                url=model_url(entry["model"]),
            )
        return list(names.values())

    def model_names(self) -> set[str]:
        """The name of every model the store holds a run of."""
        return {str(row.get("model")) for row in records(self.store.models())}

    def has_model(self, model: str) -> bool:
        """Whether the store holds any run of ``model``."""
        return model in self.model_names()

    def details(self, model: str, window: str | None) -> dict[str, Any]:
        """The stored details of a window (its latest check); empty when there is none."""
        if window is None:
            return {}
        detail = plain(self.store.window_detail(model, window)) or {}
        details = detail.get("details")
        return details if isinstance(details, dict) else {}

    def windows(self, model: str) -> list[dict[str, Any]]:
        """A model's windows in window order; a window checked twice shows its latest check."""
        latest: dict[str, dict[str, Any]] = {}
        for row in records(self.store.windows(model)):
            window = str(row.get("window"))
            known = latest.get(window)
            if known is None or (row.get("window_pk") or 0) >= (known.get("window_pk") or 0):
                # Assigning to an existing key keeps its place: the order stays the store's.
                latest[window] = {
                    **row,
                    "window": window,
                    "start": when(row.get("start")),
                    "end": when(row.get("end")),
                    "url": window_url(model, window),
                }
        return list(latest.values())

    def metrics(self, model: str, window: str | None = None) -> list[dict[str, Any]]:
        """Tidy metric rows of a model (or of one window), in the order recorded."""
        if window is None:
            return records(self.store.metrics(model))
        return records(self.store.metrics(model, window=window))

    def reconciliations(self, model: str, window: str | None = None) -> list[dict[str, Any]]:
        """Realized-against-estimated rows of a model (or of one window)."""
        rows = records(self.store.reconciliations(model))
        for row in rows:
            row["created_at"] = when(row.get("created_at"))
        if window is not None:
            rows = [row for row in rows if str(row.get("window")) == window]
        return rows

    def alerts(self, model: str | None = None) -> list[dict[str, Any]]:
        """Windows whose severity is an alert level, with the monitors that fired in them."""
        fired: dict[str, dict[Any, list[str]]] = {}
        latest: dict[str, set[Any]] = {}
        rows = []
        for row in records(self.store.alerts(model=model)):
            name, window = str(row.get("model")), str(row.get("window"))
            if name not in fired:
                fired[name] = _fired_by_window(self.metrics(name))
                latest[name] = {w.get("window_pk") for w in self.windows(name)}
            if row.get("window_pk") not in latest[name]:
                continue  # the window was checked again since: its latest check decides
            rows.append(row)
            row.update(
                model=name,
                window=window,
                start=when(row.get("start")),
                end=when(row.get("end")),
                model_url=model_url(name),
                window_url=window_url(name, window),
                fired=fired[name].get(row.get("window_pk"), []),
            )
            row["summary"] = ("fired: " + ", ".join(row["fired"])) if row["fired"] else None
        return rows

    def head(self) -> str | None:
        """The chain head, or None for an empty store (whose head is the all-zero genesis)."""
        head = str(self.store.head())
        return None if set(head) == {"0"} else head

    # pages

    def model_page(self, model: str, known: bool = False) -> dict[str, Any]:
        """Everything the model page shows (``known``: the caller found the model already)."""
        if not (known or self.has_model(model)):
            raise NotFound(f"No model named {model!r} is recorded in this store.")
        windows = self.windows(model)
        metrics = self.metrics(model)
        fired = _fired_by_window(metrics)
        for w in windows:
            w["fired"] = fired.get(w.get("window_pk"), [])
        # The latest window says what the model is now; a retrained model may change kind.
        details = self.details(model, windows[-1]["window"] if windows else None)
        kind = model_kind(details)
        return {
            "model": model,
            "kind": kind,
            "classes": window_classes(details, metrics) if kind == "multiclass" else [],
            "windows": windows,
            "metrics": metrics,
            "reconciliations": self.reconciliations(model),
            "alerts": self.alerts(model),
        }

    def window_page(self, model: str, window: str, known: bool = False) -> dict[str, Any]:
        """Everything the window page shows (``known``: the caller found the model already)."""
        if not (known or self.has_model(model)):
            raise NotFound(f"No model named {model!r} is recorded in this store.")
        if window not in {w["window"] for w in self.windows(model)}:
            raise NotFound(f"Model {model!r} has no window {window!r}.")
        detail = plain(self.store.window_detail(model, window)) or {}
        metrics = detail.get("metrics") or self.metrics(model, window)
        details = detail.get("details") if isinstance(detail.get("details"), dict) else {}
        kind = model_kind(details)
        classes = window_classes(details, metrics) if kind == "multiclass" else []
        return {
            "model": model,
            "window": window,
            "kind": kind,
            "classes": classes,
            "start": when(detail.get("start")),
            "end": when(detail.get("end")),
            "n_rows": detail.get("n_rows"),
            "composite": detail.get("composite"),
            "severity": detail.get("severity"),
            "metrics": metrics,
            "estimates": estimate_rows(metrics),
            "per_class": class_table(metrics, classes),
            "features": feature_rows(detail.get("details") or {}),
            # The blind spot has its own paragraph on every page; the other notes are listed.
            "notes": [
                str(n)
                for n in (detail.get("details") or {}).get("notes") or []
                if "P(Y|X)" not in str(n)
            ],
            "details": detail.get("details") or {},
            "reconciliation": detail.get("reconciliation") or self.reconciliations(model, window),
        }


def _fired_by_window(metrics: Sequence[Mapping[str, Any]]) -> dict[Any, list[str]]:
    """Stored window id -> the monitors with a fired metric in it, in report order."""
    fired: dict[Any, list[str]] = {}
    for row in metrics:
        if row.get("fired"):
            names = fired.setdefault(row.get("window_pk"), [])
            if row.get("monitor") not in names:
                names.append(row.get("monitor"))
    return fired


def feature_rows(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The per-feature statistics of a window's details, one row per feature.

    Accepts ``{"features": {name: {stat: value}}}`` or ``{"features": [{"feature": name, ...}]}``.

    Examples
    --------
    >>> feature_rows({"features": {"income": {"psi": 0.2}, "age": {"psi": 0.01}}})
    [{'feature': 'income', 'psi': 0.2}, {'feature': 'age', 'psi': 0.01}]
    """
    table = details.get("features") if isinstance(details, Mapping) else None
    if isinstance(table, Mapping) and "per_feature" in table:
        table = table["per_feature"]
    if isinstance(table, Mapping):
        rows = []
        for name, stats in table.items():
            if isinstance(stats, Mapping):
                rows.append({"feature": name, **_scalars(stats)})
            else:
                rows.append({"feature": name, "value": stats})
        return rows
    if isinstance(table, list):
        rows = [_ordered(_scalars(row)) for row in table if isinstance(row, Mapping)]
        # Most shifted first: the feature to look at is the top row.
        if rows and all(finite_number(row.get("psi")) is not None for row in rows):
            rows.sort(key=lambda row: -row["psi"])
        return rows
    return []


#: Per-feature columns in reading order: the shift, its significance, then missing values.
FEATURE_COLUMNS = (
    "feature",
    "kind",
    "psi",
    "psi_corrected",
    "pvalue",
    "shifted",
    "missing_reference",
    "missing_current",
    "missing_delta",
    "unseen_share",
    "importance",
)


def _ordered(row: Mapping[str, Any]) -> dict[str, Any]:
    """A feature row with the known columns first, in :data:`FEATURE_COLUMNS` order."""
    known = {key: row[key] for key in FEATURE_COLUMNS if key in row}
    return {**known, **{k: v for k, v in row.items() if k not in known}}


def _scalars(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the columns a table can show: drop nested lists and dicts (bin contributions)."""
    return {k: v for k, v in stats.items() if not isinstance(v, (Mapping, list, tuple))}
