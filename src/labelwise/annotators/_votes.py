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
#: Values that are not single labels or ids (numpy would make them a dimension of their own).
_COLLECTIONS = (tuple, list, set, frozenset, dict, np.ndarray)


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
        return self.per_item_class()

    def per_item_class(self, weights: np.ndarray | None = None) -> np.ndarray:
        """The sum of ``weights`` (one per vote; 1 when None) per item and chosen class."""
        flat = np.bincount(
            self.item * self.n_classes + self.label,
            weights,
            minlength=self.n_items * self.n_classes,
        )
        return flat.reshape(self.n_items, self.n_classes).astype(float)

    def per_annotator_mean(self, values: np.ndarray) -> np.ndarray:
        """The mean of ``values`` (one per vote) over each annotator's votes; NaN with none."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(self.annotator, values, self.n_annotators) / self.n_labels

    def agreement(self, codes: np.ndarray, on: np.ndarray | None = None) -> np.ndarray:
        """Per annotator, the share of their votes that chose ``codes[item]``, over the items
        where ``on`` is True (every item when None); NaN for an annotator with none there."""
        keep = np.ones(len(self.item), bool) if on is None else on[self.item]
        agrees = (self.label == codes[self.item]) & keep
        seen = np.bincount(self.annotator[keep], minlength=self.n_annotators)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(self.annotator, agrees, self.n_annotators) / seen

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
    if len(values) == 0:
        raise InputError("votes holds no labels at all; give at least one vote.")
    label, classes = _encode(values, classes, n_classes)
    return Votes(item, annotator, label, item_ids, annotator_ids, classes)


def _check_scalars(values: Any, what: str) -> None:
    """Tuples and other collections as labels or ids would turn into 2-D arrays; say so."""
    dtype = getattr(values, "dtype", None)
    if dtype is None or dtype.kind != "O":
        return
    for value in values:
        if isinstance(value, _COLLECTIONS):
            raise InputTypeError(
                f"{what} a {type(value).__name__} ({value!r}); labels and ids must be "
                "single values (text, numbers): join the parts into one string first."
            )


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
    if format == "auto" and not has_columns and isinstance(votes, pd.DataFrame):
        found = [c for c in columns if c in votes.columns]
        if len(found) >= 2:
            missing = [c for c in columns if c not in votes.columns]
            raise InputError(
                f"votes has columns {found} of a long table but not {missing}; name the three "
                "with columns=(item, annotator, label), or pass format='wide' if each column "
                "is an annotator."
            )
    return format == "long" or (format == "auto" and has_columns)


def _read_wide(votes: Any, n_items: int | None, items: Sequence | None) -> tuple:
    frame = votes if isinstance(votes, pd.DataFrame) else None
    expected = "a table with one row per item and one column per annotator"
    table = as_array("votes", votes, expected)
    if table.dtype.kind in "US" and not isinstance(votes, np.ndarray):
        # numpy would write a missing vote among strings as the text "nan"
        table = np.array(votes, dtype=object)
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
        if not frame.columns.is_unique:
            repeated = list(dict.fromkeys(frame.columns[frame.columns.duplicated()]))[:5]
            raise InputError(
                f"votes has repeated annotator columns {repeated}; give each annotator one "
                "column (or pass long votes)."
            )
        item_ids, annotator_ids = frame.index.to_numpy(), frame.columns.to_numpy()
    else:
        item_ids, annotator_ids = np.arange(table.shape[0]), np.arange(table.shape[1])
    if items is not None:
        item_ids = _given_items(items, table.shape[0])
    values = table[item, annotator]
    categories = _shared_categories(frame)
    if categories is not None:
        values = pd.Categorical(values, categories=categories)
    return item_ids, annotator_ids, values, item, annotator


def _shared_categories(frame: pd.DataFrame | None) -> pd.Index | None:
    """The categories of a wide table whose columns are all categorical with the same ones."""
    if frame is None or frame.shape[1] == 0:
        return None
    dtypes = list(frame.dtypes)
    if not all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
        return None
    first = dtypes[0].categories
    return first if all(d.categories.equals(first) for d in dtypes) else None


def _missing(table: np.ndarray) -> np.ndarray:
    if table.dtype.kind == "f":
        return np.isnan(table)
    if table.dtype.kind in "iub":
        return np.zeros(table.shape, dtype=bool)
    return np.asarray(pd.isna(table))


def _given_items(items: Sequence, n_rows: int | None) -> np.ndarray:
    ids = items if isinstance(items, np.ndarray) else np.asarray(list(items), dtype=object)
    if ids.ndim != 1:
        raise ShapeError(f"items must be a flat list of item ids, got shape {ids.shape}.")
    if n_rows is not None and len(ids) != n_rows:
        raise ShapeError(f"items must list {n_rows} item ids, one per row, got {len(ids)}.")
    if not pd.Index(ids).is_unique:
        raise InputError("items lists an item id more than once; give each item one id.")
    return ids


def _read_long(
    votes: pd.DataFrame, columns: tuple, n_items: int | None, items: Sequence | None
) -> tuple:
    item_column, annotator_column, label_column = columns
    table = votes[list(columns)]
    for name in (item_column, annotator_column):
        _check_scalars(table[name].to_numpy(), f"column {name!r} holds")
        if table[name].isna().any():
            raise InputError(
                f"column {name!r} has missing values; every vote needs an item and an annotator."
            )
    voted = table[label_column].notna().to_numpy()  # an empty label is no vote
    if not voted.any():
        raise InputError("votes holds no labels at all; give at least one vote.")
    # Items are read from every row: one named with only empty labels is an item with no votes.
    item_ids, item = _item_codes(table[item_column], n_items, items)
    table, item = table[voted], item[voted]
    annotator_ids, annotator = _codes(table[annotator_column].to_numpy())
    _check_no_repeats(item, annotator, item_ids, annotator_ids)
    return item_ids, annotator_ids, _label_values(table[label_column]), item, annotator


def _label_values(column: pd.Series) -> np.ndarray:
    """A label column's values; a categorical one keeps its categories' order for _encode."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical(column)
    return column.to_numpy()


def _item_codes(column: pd.Series, n_items: int | None, items: Sequence | None) -> tuple:
    values = column.to_numpy()
    if items is not None:
        ids = _given_items(items, n_items)
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


def _encode(values: Any, classes: Any, n_classes: int | None) -> tuple:
    if isinstance(values, pd.Categorical):
        if classes is None:
            classes = list(values.categories)
        values = np.asarray(values, dtype=object)
    values = _plain(values)
    if n_classes is None and classes is None:
        classes, codes = _codes(values)
        return codes.astype(np.intp), classes
    if n_classes is None:
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
            raise InputTypeError("classes must be a list of class names.")
        n_classes = len(classes)
    codes, classes = encode_label_values(values, values, n_classes, classes)
    return codes.astype(np.intp), classes


def _plain(values: np.ndarray) -> np.ndarray:
    """Labels in a plain dtype where they share one kind: whole-number floats (a wide table with
    gaps is float) as integers, Python strings as str. Mixed kinds, and integers too large for
    int64, stay objects, so the number 1 and the text "1" remain two classes."""
    if values.dtype.kind == "f":
        return _whole(values)
    if values.dtype != object:
        return values
    kinds = {_kind(value) for value in values.tolist()}
    if "collection" in kinds:
        _check_scalars(values, "the labels hold")
    if kinds == {"text"}:
        return values.astype(str)
    if kinds == {"integer"}:
        try:
            return np.asarray(values.tolist(), dtype=np.int64)
        except OverflowError:
            return values
    if kinds <= {"integer", "real"}:
        return _whole(values.astype(float))
    return values


def _whole(values: np.ndarray) -> np.ndarray:
    """Floats as int64 where every one is a whole number that int64 holds exactly."""
    if np.all(np.mod(values, 1) == 0) and np.all(np.abs(values) < 2.0**53):
        return values.astype(np.int64)
    return values


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, _COLLECTIONS):
        return "collection"
    if isinstance(value, (bool, np.bool_)):
        return "other"
    if isinstance(value, (int, np.integer)):
        return "integer"
    if isinstance(value, (float, np.floating)):
        return "real"
    return "other"
