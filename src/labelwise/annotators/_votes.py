"""Votes in, integer codes out: one reader for wide and long annotation tables.

Every method downstream works on three aligned integer arrays (which item, which annotator,
which class), so wide tables, long tables and any hashable labels are read here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from labelwise._validate import as_array, encode_label_values, sorted_unique
from labelwise.errors import InputError, InputTypeError, LabelError, ShapeError

#: The column names a long table uses by default: which item, who labeled it, what they said.
LONG_COLUMNS = ("item", "annotator", "label")
VOTE_FORMATS = ("auto", "wide", "long")


@dataclass(frozen=True)
class Votes:
    """Every vote as integer codes, with the names the codes stand for.

    ``item[v]``, ``annotator[v]`` and ``label[v]`` say who gave vote ``v`` on which item and
    which class they chose; ``item_ids``, ``annotator_ids`` and ``classes`` name the codes.
    """

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    item_ids: np.ndarray
    annotator_ids: np.ndarray
    classes: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_annotators(self) -> int:
        return len(self.annotator_ids)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @cached_property
    def counts(self) -> np.ndarray:
        """How many votes each item got for each class, shape (items, classes)."""
        flat = np.bincount(
            self.item * self.n_classes + self.label, minlength=self.n_items * self.n_classes
        )
        return flat.reshape(self.n_items, self.n_classes).astype(float)

    @cached_property
    def n_votes(self) -> np.ndarray:
        return np.bincount(self.item, minlength=self.n_items)

    @cached_property
    def n_labels(self) -> np.ndarray:
        """How many items each annotator labeled."""
        return np.bincount(self.annotator, minlength=self.n_annotators)

    @cached_property
    def design(self) -> sparse.csr_matrix:
        """Items by (annotator, chosen class): a 1 where the annotator chose that class for the
        item. ``design @ table`` sums a per-(annotator, class) row over each item's votes."""
        cell = self.annotator * self.n_classes + self.label
        ones = np.ones(len(cell))
        shape = (self.n_items, self.n_annotators * self.n_classes)
        return sparse.csr_matrix((ones, (self.item, cell)), shape=shape)

    @cached_property
    def design_t(self) -> sparse.csr_matrix:
        """The transpose of :attr:`design`, stored row-wise for fast products."""
        return self.design.T.tocsr()


def read_votes(
    votes: Any,
    *,
    format: str = "auto",
    classes: Any = None,
    n_classes: int | None = None,
    n_items: int | None = None,
    items: Sequence | None = None,
    columns: Sequence[str] = LONG_COLUMNS,
) -> Votes:
    """Read a wide or long vote table into :class:`Votes`.

    ``n_classes`` and ``n_items`` come from pred_probs when there is one: its columns fix the
    classes and its rows the items.
    """
    columns = _check_columns(columns)
    if _is_long(votes, format, columns):
        item_ids, annotator_ids, values, item, annotator = _read_long(
            votes, columns, n_items, items
        )
    else:
        item_ids, annotator_ids, values, item, annotator = _read_wide(votes, n_items, items)
    if values.size == 0:
        raise InputError("votes holds no labels at all; give at least one vote.")
    label, classes = _encode(values, classes, n_classes)
    return Votes(item, annotator, label, item_ids, annotator_ids, classes)


def _check_columns(columns: Sequence[str]) -> tuple:
    columns = tuple(columns)
    if len(columns) != 3 or len(set(columns)) != 3:
        raise InputError(
            f"columns must name three different columns (item, annotator, label), got {columns!r}."
        )
    return columns


def _is_long(votes: Any, format: str, columns: tuple) -> bool:
    if format not in VOTE_FORMATS:
        raise InputError(f"format must be one of {list(VOTE_FORMATS)}, got {format!r}.")
    has_columns = isinstance(votes, pd.DataFrame) and all(c in votes.columns for c in columns)
    if format == "long" and not has_columns:
        found = (
            list(votes.columns)[:10] if isinstance(votes, pd.DataFrame) else type(votes).__name__
        )
        raise InputError(
            f"long votes need a DataFrame with columns {list(columns)}, got {found}; rename the "
            "columns or pass columns=(item, annotator, label) naming yours."
        )
    return format == "long" or (format == "auto" and has_columns)


def _read_wide(votes: Any, n_items: int | None, items: Sequence | None) -> tuple:
    frame = votes if isinstance(votes, pd.DataFrame) else None
    table = as_array("votes", votes, "a table with one row per item and one column per annotator")
    if table.ndim != 2:
        raise ShapeError(
            f"wide votes must be 2-D (one row per item, one column per annotator), got shape "
            f"{table.shape}; for one row per vote pass a DataFrame with columns item, annotator, "
            "label and format='long'."
        )
    if n_items is not None and table.shape[0] != n_items:
        raise ShapeError(
            f"votes has {table.shape[0]} rows (items) but pred_probs has {n_items}; give one row "
            "per pred_probs row, empty where nobody labeled the item."
        )
    present = ~_missing(table)
    item, annotator = np.nonzero(present)
    if frame is not None:
        item_ids, annotator_ids = frame.index.to_numpy(), frame.columns.to_numpy()
    else:
        item_ids, annotator_ids = np.arange(table.shape[0]), np.arange(table.shape[1])
    if items is not None:
        item_ids = _given_items(items, table.shape[0])
    return item_ids, annotator_ids, table[item, annotator], item, annotator


def _missing(table: np.ndarray) -> np.ndarray:
    if table.dtype.kind == "f":
        return np.isnan(table)
    if table.dtype.kind in "iub":
        return np.zeros(table.shape, dtype=bool)
    return np.asarray(pd.isna(table))


def _given_items(items: Sequence, n_rows: int) -> np.ndarray:
    ids = np.asarray(list(items), dtype=object) if not isinstance(items, np.ndarray) else items
    if ids.ndim != 1 or len(ids) != n_rows:
        raise ShapeError(f"items must list {n_rows} item ids, one per row, got {len(ids)}.")
    return ids


def _read_long(
    votes: pd.DataFrame, columns: tuple, n_items: int | None, items: Sequence | None
) -> tuple:
    item_column, annotator_column, label_column = columns
    table = votes[list(columns)]
    table = table[table[label_column].notna().to_numpy()]  # an empty label is no vote
    for name in (item_column, annotator_column):
        if table[name].isna().any():
            raise InputError(
                f"column {name!r} has missing values; every vote needs an item and an annotator."
            )
    item_ids, item = _item_codes(table[item_column], n_items, items)
    annotator_ids, annotator = _codes(table[annotator_column].to_numpy())
    _check_no_repeats(item, annotator, item_ids, annotator_ids)
    return item_ids, annotator_ids, table[label_column].to_numpy(), item, annotator


def _item_codes(column: pd.Series, n_items: int | None, items: Sequence | None) -> tuple:
    values = column.to_numpy()
    if items is not None:
        ids = _given_items(items, len(items) if n_items is None else n_items)
        codes = pd.Index(ids).get_indexer(values)
        if (codes < 0).any():
            shown = list(dict.fromkeys(values[codes < 0].tolist()))[:5]
            raise InputError(f"votes name items that items does not list, e.g. {shown}.")
        return ids, codes
    if n_items is None:
        return _codes(values)
    if values.dtype.kind not in "iu" or values.min() < 0 or values.max() >= n_items:
        raise InputError(
            f"with pred_probs, the item column must hold row numbers 0..{n_items - 1}; pass "
            "items=[...] listing the item id of each pred_probs row to use other ids."
        )
    return np.arange(n_items), values.astype(np.int64)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values in sorted order where they sort, else in order of first appearance."""
    try:
        ids = sorted_unique(values)
    except LabelError:
        ids = pd.unique(values)
    return ids, pd.Index(ids).get_indexer(values)


def _check_no_repeats(
    item: np.ndarray, annotator: np.ndarray, item_ids: np.ndarray, annotator_ids: np.ndarray
) -> None:
    pair = item.astype(np.int64) * (len(annotator_ids) + 1) + annotator
    unique, first = np.unique(pair, return_index=True)
    if len(unique) < len(pair):
        repeated = np.setdiff1d(np.arange(len(pair)), first)[0]
        raise InputError(
            f"annotator {annotator_ids[annotator[repeated]]!r} labeled item "
            f"{item_ids[item[repeated]]!r} more than once; keep one vote per annotator and item "
            "(e.g. votes.drop_duplicates(['item', 'annotator'], keep='last'))."
        )


def _encode(values: np.ndarray, classes: Any, n_classes: int | None) -> tuple:
    values = _plain(values)
    if n_classes is not None:
        return encode_label_values(values, values, n_classes, classes)
    if classes is None:
        classes, codes = _codes(values)
        return codes, classes
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
        raise InputTypeError("classes must be a list of class names.")
    return encode_label_values(values, values, len(classes), classes)


def _plain(values: np.ndarray) -> np.ndarray:
    """Labels in a plain dtype where they share one kind: whole-number floats (a wide table with
    gaps is float) as integers, Python strings as str. Mixed kinds stay objects, so the number
    1 and the text "1" remain two classes."""
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        return values.astype(np.int64)
    if values.dtype != object:
        return values
    kinds = {_kind(value) for value in values.tolist()}
    if kinds == {"text"}:
        return values.astype(str)
    if kinds == {"number"}:
        return _plain(values.astype(float))
    return values


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return "number"
    return "other"
