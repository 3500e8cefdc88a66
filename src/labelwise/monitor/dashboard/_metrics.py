"""What a window's metric rows say: the model's kind, its classes, its per-class statistics.

Binary, multiclass and regression models share the pages: tables and charts are drawn from the
metrics a model has, with per-class statistics (``expected_f1[cat]``) gathered into a table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Per-class statistics shown as columns of the per-class table, in reading order, with headers.
CLASS_COLUMNS = {
    "expected_precision": "precision",
    "expected_recall": "recall",
    "expected_f1": "F1",
    "psi": "score PSI",
    "prediction_share": "prediction share",
}
#: Per-class statistics charted over windows on the model page, one line per class.
CLASS_CHARTS = {"expected_f1": "Estimated F1 per class", "prediction_share": "Prediction share"}


def model_kind(details: Any) -> str:
    """The kind of model a window's details describe: ``binary`` unless they say otherwise.

    Examples
    --------
    >>> model_kind({"kind": "regression"}), model_kind({}), model_kind(None)
    ('regression', 'binary', 'binary')
    """
    kind = details.get("kind") if isinstance(details, Mapping) else None
    return str(kind) if isinstance(kind, str) and kind.strip() else "binary"


def split_metric(name: str) -> tuple[str, str | None]:
    """A metric name and the class it is about: ``expected_f1[cat]`` is F1 of class ``cat``.

    Class names are data and may hold brackets themselves: the class runs from the first
    ``[`` to the final ``]``.

    Examples
    --------
    >>> split_metric("expected_f1[a]b]"), split_metric("psi[[x]"), split_metric("psi")
    (('expected_f1', 'a]b'), ('psi', '[x'), ('psi', None))
    """
    base, bracket, rest = str(name).partition("[")
    if not bracket or not base or not rest.endswith("]"):
        return str(name), None
    return base, rest[:-1]


def window_classes(details: Any, metrics: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """The classes of a multiclass model: those its details list, then any its metrics name.

    Examples
    --------
    >>> window_classes({"classes": ["a", 2]}, [{"metric": "psi[b]"}, {"metric": "psi[a]"}])
    ['a', '2', 'b']
    """
    listed = details.get("classes") if isinstance(details, Mapping) else None
    names = [str(c) for c in listed] if isinstance(listed, (list, tuple)) else []
    for row in metrics:
        _, cls = split_metric(str(row.get("metric")))
        if cls is not None and cls not in names:
            names.append(cls)
    return names


def class_table(
    metrics: Sequence[Mapping[str, Any]], classes: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """The per-class metrics of one window as a table: a row per class, a column per statistic.

    Returns ``{"columns": [{"metric", "label"}], "rows": [{"class", "cells"}]}`` where
    ``cells`` maps a statistic to its value, threshold, low, high and fired; a statistic a
    class lacks is absent from its cells.

    Examples
    --------
    >>> table = class_table([{"metric": "expected_f1[b]", "value": 0.7, "low": 0.6}], ["a"])
    >>> [c["label"] for c in table["columns"]], [r["class"] for r in table["rows"]]
    (['F1'], ['a', 'b'])
    >>> table["rows"][1]["cells"]["expected_f1"]["low"]
    0.6
    """
    cells: dict[str, dict[str, dict[str, Any]]] = {str(c): {} for c in classes}
    seen: list[str] = []
    for row in metrics:
        base, cls = split_metric(str(row.get("metric")))
        if cls is None:
            continue
        if base not in seen:
            seen.append(base)
        cells.setdefault(cls, {})[base] = {
            key: row.get(key) for key in ("value", "threshold", "low", "high", "fired")
        }
    if not seen:
        return {"columns": [], "rows": []}
    order = [m for m in CLASS_COLUMNS if m in seen] + [m for m in seen if m not in CLASS_COLUMNS]
    return {
        "columns": [{"metric": m, "label": CLASS_COLUMNS.get(m, m)} for m in order],
        "rows": [{"class": cls, "cells": by_metric} for cls, by_metric in cells.items()],
    }


def estimate_rows(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The model-level performance (or, for regression, error) estimates of one window."""
    return [
        dict(row)
        for row in metrics
        if row.get("monitor") == "performance" and split_metric(str(row.get("metric")))[1] is None
    ]
