"""Building a card: every module's numbers in one JSON-ready dict, wrapped in :class:`Card`."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise import io
from labelwise._shared.serialize import jsonable
from labelwise.card import _alerts, _health, _issues, _metadata, _rows, _stats
from labelwise.card._stats import plain
from labelwise.errors import InputError, InputTypeError, LabelError
from labelwise.issues.audit import AuditReport

SCHEMA = "labelwise.card/1"
ALERT_COLUMNS = ("column", "kind", "severity", "value", "mitigation", "message")


@dataclass(frozen=True, eq=False)
class Card:
    """A dataset nutrition label: every number in :attr:`data`, and renderers that read only it.

    Attributes
    ----------
    data : dict
        The JSON-ready card, one key per module (``metadata``, ``provenance``, ``uses``,
        ``variables``, ``statistics``, ``label``, ``correlations``, ``pair_plots``, ``model``,
        ``ground_truth``, ``duplicates``, ``splits``, ``annotators``, ``label_health``,
        ``alerts``, ``timings``). See ``docs/card.md``.

    A card built from a DataFrame also keeps a reference to that frame (not a copy, and not in
    :attr:`data`), which :meth:`to_croissant` writes as the data file the JSON-LD describes.

    Examples
    --------
    >>> import pandas as pd
    >>> from labelwise.card import Card, build
    >>> table = pd.DataFrame({"x": [0.1, 0.2, 0.9, 1.0] * 5, "y": ["a", "a", "b", "b"] * 5})
    >>> card = build(table, label="y", label_health=False)
    >>> card.metadata["rows"], card.label["balance"]["counts"]
    (20, [10, 10])
    >>> Card.from_dict(card.to_dict()).to_html() == card.to_html()
    True
    """

    data: dict[str, Any]
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        """A card from its :meth:`to_dict` (or parsed :meth:`to_json`) form."""
        return cls(copy.deepcopy(data))

    def __getattr__(self, name: str) -> Any:
        # Modules read as attributes: card.metadata, card.label_health, ...
        data = self.__dict__.get("data", {})
        if name in data:
            return data[name]
        raise AttributeError(f"Card has no attribute or module {name!r}")

    @property
    def alerts(self) -> pd.DataFrame:
        """The alerts as a table: column, kind, severity, value, mitigation, message."""
        return pd.DataFrame(self.data["alerts"], columns=list(ALERT_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the card's numbers (JSON-ready)."""
        return copy.deepcopy(self.data)

    def to_json(self, path: str | os.PathLike | None = None, *, indent: int = 2) -> str:
        """The card as JSON text (NaN as null); written atomically to ``path`` when given."""
        text = json.dumps(jsonable(self.data), indent=indent, allow_nan=False) + "\n"
        if path is not None:
            io.write_text(text, path)
        return text

    def _render(self, renderer: Callable[[dict], str], path: Any) -> str:
        text = renderer(json.loads(self.to_json()))
        if path is not None:
            io.write_text(text, path)
        return text

    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page (inline SVG, no scripts, no network)."""
        from labelwise.card._html import render_html

        return self._render(render_html, path)

    def to_markdown(self, path: str | os.PathLike | None = None) -> str:
        """A Markdown dataset card."""
        from labelwise.card._text import render_markdown

        return self._render(render_markdown, path)

    def to_croissant(self, path: str | os.PathLike | None = None) -> str:
        """Croissant 1.0 JSON-LD with the Responsible-AI fields the metadata and numbers fill.

        The record set reads every column from one file, named with its SHA-256, as Croissant
        requires. A card built from a file names that file (``contentUrl`` is its name, relative
        to the JSON-LD). A card built from a DataFrame has no file, so the frame itself is
        written as CSV beside ``path`` (``card.croissant.json`` -> ``card.csv``, UTF-8, no
        index, values as they are) and the JSON-LD names that copy. Without ``path`` nothing is
        written and the text names ``card.csv`` with the checksum of the copy :meth:`save`
        would write.

        Parameters
        ----------
        path : str or PathLike, optional
            Where to write the JSON-LD (atomically).

        Returns
        -------
        str
            The JSON-LD text.

        Raises
        ------
        InputError
            When the card was built from a DataFrame but no longer holds it (a card made with
            :meth:`from_dict`): there is no data for the JSON-LD to describe.
        """
        from labelwise.card._text import render_croissant

        self._check_croissant_data()
        data = json.loads(self.to_json())
        data_file = None
        if self._frame is not None:
            data_file = self._frame_copy(path)
        text = render_croissant(data, data_file)
        if path is not None:
            io.write_text(text, path)
        return text

    def _check_croissant_data(self) -> None:
        if self.data["metadata"]["file_name"] is None and self._frame is None:
            raise InputError(
                "this card was built from a DataFrame and no longer holds it (it was made with "
                "Card.from_dict), so its Croissant JSON-LD would describe no data; build the "
                "card again from the DataFrame, or from a CSV or Parquet file of it."
            )

    def _frame_copy(self, path: str | os.PathLike | None) -> dict[str, Any]:
        """The CSV copy of the frame the JSON-LD describes; written beside ``path`` if given."""
        from labelwise.card._text import data_file_for, frame_csv_sha256, write_frame_csv

        name = data_file_for(path)
        if path is None:
            sha256 = frame_csv_sha256(self._frame)
        else:
            sha256 = write_frame_csv(self._frame, Path(path).parent / name)
        return {"name": name, "format": "text/csv", "sha256": sha256}

    def save(self, directory: str | os.PathLike, stem: str = "card") -> dict[str, Path]:
        """Write ``card.html``, ``card.json``, ``card.md`` and ``card.croissant.json``.

        Returns the written paths by format (``html``, ``json``, ``markdown``, ``croissant``).
        A card built from a DataFrame also writes the frame as ``{stem}.csv`` (``data``), the
        data file the Croissant JSON-LD describes (see :meth:`to_croissant`); a card that no
        longer holds its frame raises :class:`~labelwise.errors.InputError` before it writes
        anything.
        """
        self._check_croissant_data()
        folder = Path(directory)
        paths = {
            "html": folder / f"{stem}.html",
            "json": folder / f"{stem}.json",
            "markdown": folder / f"{stem}.md",
            "croissant": folder / f"{stem}.croissant.json",
        }
        self.to_html(paths["html"])
        self.to_json(paths["json"])
        self.to_markdown(paths["markdown"])
        self.to_croissant(paths["croissant"])
        if self._frame is not None:
            from labelwise.card._text import data_file_for

            paths["data"] = folder / data_file_for(paths["croissant"])
        return paths

    def __repr__(self) -> str:
        meta, counts = (
            self.data["metadata"],
            pd.Series([a["severity"] for a in self.data["alerts"]]),
        )
        health = self.data.get("label_health")
        noise = f", noise_rate={health['noise_rate']:.3f}" if health else ""
        return (
            f"Card(name={meta.get('name')!r}, rows={meta['rows']}, columns={meta['columns']}, "
            f"label={self.data['label']['column']!r}{noise}, "
            f"alerts={counts.value_counts().to_dict()})"
        )


def _read(table: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    if isinstance(table, pd.DataFrame):
        return table, {"file_name": None, "format": "pandas.DataFrame"}
    if isinstance(table, (str, os.PathLike)):
        from labelwise.card._text import file_sha256

        path = Path(table)
        frame = io.read_table(path)
        formats = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}
        fmt = formats.get(path.suffix.lower(), "application/x-parquet")
        # Croissant names each file with its checksum.
        return frame, {"file_name": path.name, "format": fmt, "sha256": file_sha256(path)}
    raise InputTypeError(
        f"table must be a DataFrame or a CSV/Parquet path, got {type(table).__name__}."
    )


def _check_column(table: pd.DataFrame, name: Any, what: str) -> None:
    if name not in table.columns:
        shown = ", ".join(repr(c) for c in list(table.columns)[:20])
        more = " ..." if table.shape[1] > 20 else ""
        raise LabelError(f"the table has no {what} column {name!r}; its columns: {shown}{more}.")


def _roles(table: pd.DataFrame, label: Any, split: Any, annotators: list) -> dict[Any, str]:
    roles = dict.fromkeys(table.columns, "feature")
    roles.update(dict.fromkeys(annotators, "annotator"))
    if split is not None:
        roles[split] = "split"
    roles[label] = "label"
    return roles


def _metadata_module(
    table: pd.DataFrame, meta: dict, source: dict, stats: list, kinds: dict
) -> dict[str, Any]:
    n, m = table.shape
    missing = int(sum(s["missing"] for s in stats))
    dates = [s for s, k in zip(stats, kinds.values(), strict=True) if k == "datetime"]
    starts = [s["min"] for s in dates if s["min"]]
    ends = [s["max"] for s in dates if s["max"]]
    return {
        "name": meta.get("name") or source["file_name"] or "dataset",
        "description": meta.get("description"),
        "file_name": source["file_name"],
        "format": source["format"],
        "sha256": source.get("sha256"),
        "url": meta.get("url"),
        "domain": meta.get("domain"),
        "keywords": meta.get("keywords", []),
        "license": meta.get("license"),
        "release_date": meta.get("release_date"),
        "version": meta.get("version"),
        "date_range": [min(starts), max(ends)] if starts else None,
        "rows": n,
        "columns": m,
        "missing_cells": missing,
        "missing_cells_share": missing / (n * m) if n * m else 0.0,
    }


def _provenance(meta: dict) -> dict[str, Any]:
    keys = ("source", "creator", "contact", "url", "citation", "collection")
    return {
        **{k: meta.get(k) for k in keys},
        "annotation_protocol": meta.get("annotation_protocol"),
        "maintenance": meta.get("maintenance"),
    }


def _uses(meta: dict) -> dict[str, Any]:
    return {
        "intended_uses": meta.get("intended_uses", []),
        "out_of_scope_uses": meta.get("out_of_scope_uses", []),
        "sensitive_info": meta.get("sensitive_info"),
        "biases": meta.get("biases"),
        "limitations": meta.get("limitations"),
    }


def _label_codes(labels: pd.Series) -> tuple[np.ndarray, list]:
    missing = labels.isna().to_numpy()
    if missing.any():
        raise LabelError(
            f"{int(missing.sum())} rows have no label in column {labels.name!r}; drop or fill "
            "them before building a card."
        )
    codes, classes = pd.factorize(labels, sort=True)
    return codes.astype(np.int64), list(classes)


def _reference(reference: Any) -> pd.DataFrame | None:
    if reference is None or isinstance(reference, pd.DataFrame):
        return reference
    if isinstance(reference, (str, os.PathLike)):
        return io.read_table(reference)
    raise InputTypeError(
        f"reference must be a DataFrame or a CSV/Parquet path, got {type(reference).__name__}."
    )


class _Clock:
    """Seconds spent per module, kept in the card so slow modules are visible."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now


def _profile(
    frame: pd.DataFrame,
    label: Any,
    roles: dict,
    kinds: dict,
    codes: np.ndarray,
    classes: list,
    split: Any,
    seed: int,
    clock: _Clock,
) -> dict[str, Any]:
    """Every module that reads only the table: statistics to splits."""
    stats = [_stats.column_stats(frame[c], kinds[c]) for c in frame.columns]
    clock.lap("statistics")
    features = [c for c in frame.columns if roles[c] == "feature"]
    numeric = [
        c for c in features if kinds[c] == "numeric" and stats_of(frame, stats, c)["unique"] > 1
    ]
    corr = _stats.correlations(frame, numeric, seed)
    clock.lap("correlations")
    pairs = _stats.pair_plots(frame, corr)
    clock.lap("pair_plots")
    model = _stats.label_model(frame, codes, classes, features, kinds, seed)
    clock.lap("model")
    hashed = _compared(frame, features, kinds, stats) or features
    n = len(frame)
    exact_hashes = [_rows.column_hash(frame[c]) for c in hashed]
    exact = _rows.row_hash(exact_hashes, n)
    positions = _issues.sample_positions(n, seed)
    found = _issues.feature_issues(frame, hashed, positions, seed)
    clock.lap("data_issues")
    near = _issues.near_ids(found, exact, positions)
    dups = _rows.duplicates(exact, near, codes)
    clock.lap("duplicates")
    splits = None
    if split is not None:
        splits = _rows.splits(frame[split], codes, classes, exact, near)
    clock.lap("splits")
    return {
        "statistics": stats,
        "correlations": corr,
        "pair_plots": pairs,
        "model": model,
        "duplicates": dups,
        "splits": splits,
        "_feature_issues": found,
        "_compared": hashed,
        "_positions": positions,
    }


def _compared(frame: pd.DataFrame, features: list, kinds: dict, stats: list) -> list:
    """The columns two rows must agree on to be duplicates.

    Identifier-like columns (text or integers, every value distinct) are left out, or no two
    rows could ever match; so are dates, which often only record when a row was written.
    """
    n = len(frame)
    out = []
    for column in features:
        unique = stats_of(frame, stats, column)["unique"] == n and n > 1
        identifier = unique and (
            kinds[column] == "categorical" or pd.api.types.is_integer_dtype(frame[column])
        )
        if kinds[column] != "datetime" and not identifier:
            out.append(column)
    return out


def stats_of(frame: pd.DataFrame, stats: list, column: Any) -> dict[str, Any]:
    return stats[frame.columns.get_loc(column)]


def build(
    table: pd.DataFrame | str | os.PathLike,
    label: Any,
    metadata: str | os.PathLike | dict | None = None,
    audit: AuditReport | None = None,
    reference: pd.DataFrame | str | os.PathLike | None = None,
    *,
    pred_probs: Any = None,
    split: Any = "split",
    annotators: list | None = None,
    features: list | None = None,
    label_health: bool = True,
    cv: int = 5,
    random_state: int = 0,
    n_bootstrap: int = 500,
) -> Card:
    """Build the dataset nutrition label of a labeled table.

    Parameters
    ----------
    table : DataFrame or path
        One row per example (a CSV or Parquet path is read with :func:`labelwise.io.read_table`).
    label : hashable
        The label column (labels may be strings or any hashable values; none may be missing).
    metadata : path or dict, optional
        The YAML metadata file (schema in ``docs/card.md``), or the same keys as a dict.
    audit : AuditReport, optional
        A finished :func:`labelwise.audit` of the table, summarized as the label-health section.
    reference : DataFrame or path, optional
        A reference table for the ground-truth comparison: a key column named like one of the
        table's columns, and numeric columns compared with the row count per key value.
    pred_probs : array-like of shape (n_rows, n_classes), optional
        Out-of-sample predicted probabilities (columns in sorted class order); used instead of
        cross-validating when ``audit`` is None.
    split : hashable or None, default "split"
        The column naming each row's split (train/test...); ignored when the table has no such
        column. The metadata's ``split_column`` takes precedence over the default.
    annotators : list, optional
        Columns holding several annotators' labels (missing where an annotator did not label
        the row), for Fleiss' kappa, pairwise agreement, the crowd's consensus
        (:func:`labelwise.consensus`, Dawid-Skene, weighing in ``pred_probs`` when its columns
        match the label's classes) and each annotator's estimated quality.
    features : list, optional
        Feature columns of the default audit (by default every column that is not the label,
        the split, an annotator or a date).
    label_health : bool, default True
        Set to False to leave out the label-health section (no audit is run).
    cv, random_state, n_bootstrap
        Folds of the default audit, the seed of folds, samples and bootstrap, and the bootstrap
        replicates of the noise-rate interval.

    Returns
    -------
    Card

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from labelwise.card import build
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, 60), rng.normal(3, 1, 60)]
    >>> table = pd.DataFrame({"x": x, "y": ["small"] * 60 + ["large"] * 60})
    >>> card = build(table, label="y", n_bootstrap=0)
    >>> card.label_health["source"], card.label_health["folds"]
    ('cross-validated model chosen out of sample', 5)
    >>> sorted(card.alerts.columns)
    ['column', 'kind', 'message', 'mitigation', 'severity', 'value']
    """
    clock = _Clock()
    meta = _metadata.load_metadata(metadata)
    frame, source = _read(table)
    if frame.shape[0] == 0:
        raise InputError("the table has no rows: there is nothing to describe.")
    _check_column(frame, label, "label")
    split = meta.get("split_column", split)
    if split is not None and split not in frame.columns:
        if "split_column" in meta:
            _check_column(frame, split, "split")
        split = None
    annotators = list(annotators or [])
    for column in annotators:
        _check_column(frame, column, "annotator")
    roles = _roles(frame, label, split, annotators)
    kinds = {c: _stats.column_kind(frame[c]) for c in frame.columns}
    codes, classes = _label_codes(frame[label])
    clock.lap("setup")
    profile = _profile(frame, label, roles, kinds, codes, classes, split, random_state, clock)
    feature_found, compared = profile.pop("_feature_issues"), profile.pop("_compared")
    positions = profile.pop("_positions")
    descriptions = meta.get("variables", {})
    card: dict[str, Any] = {
        "schema": SCHEMA,
        "metadata": _metadata_module(frame, meta, source, profile["statistics"], kinds),
        "provenance": _provenance(meta),
        "uses": _uses(meta),
        "variables": [
            {
                "index": i,
                "name": plain(c),
                "dtype": str(frame[c].dtype),
                "kind": kinds[c],
                "role": roles[c],
                "description": descriptions.get(str(c)),
            }
            for i, c in enumerate(frame.columns)
        ],
        "label": {
            "column": plain(label),
            "classes": [plain(c) for c in classes],
            "balance": _rows.class_balance(codes, classes),
        },
        **profile,
        "ground_truth": None,
        "annotators": None,
        "label_health": None,
        "data_issues": None,
    }
    ref = _reference(reference)
    if ref is not None:
        card["ground_truth"] = _rows.ground_truth(frame, ref)
    if annotators:
        card["annotators"] = _rows.annotators(
            frame, annotators, label, pred_probs=pred_probs, classes=classes
        )
    clock.lap("ground_truth_annotators")
    if label_health:
        if features is None:
            features = [
                c for c in frame.columns if roles[c] == "feature" and kinds[c] != "datetime"
            ]
        report, how = _health.run_audit(
            frame,
            label,
            features,
            pred_probs=pred_probs,
            report=audit,
            cv=cv,
            seed=random_state,
            n_bootstrap=n_bootstrap,
        )
        card["label_health"] = _health.label_health(report, how)
    clock.lap("label_health")
    probs = report.pred_probs if label_health else None
    label_found = _issues.label_issues(
        frame, compared, frame[label], probs, positions, random_state
    )
    card["data_issues"] = _issues.section([feature_found, label_found], positions, len(frame))
    clock.lap("data_issues_labels")
    card["alerts"] = _alerts.alerts(card)
    clock.lap("alerts")
    card["timings"] = clock.seconds
    return Card(card, _frame=table if isinstance(table, pd.DataFrame) else None)
