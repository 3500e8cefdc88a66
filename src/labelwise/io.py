"""Reading data files and writing result files.

Readers turn a path into a DataFrame or an array and raise :class:`~labelwise.errors.DataFileError`
with the path and the fix when they cannot. Writers are atomic: they write a temporary file beside
the target and rename it into place, so an interrupted run leaves either the old file or the new
one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from labelwise._shared.markdown import markdown_escape, markdown_table
from labelwise._shared.serialize import json_scalar, jsonable
from labelwise.errors import DataFileError, LabelwiseError

__all__ = [
    "TABLE_SUFFIXES",
    "ARRAY_SUFFIXES",
    "LABEL_SUFFIXES",
    "read_table",
    "read_array",
    "read_labels",
    "atomic_write",
    "write_csv",
    "write_json",
    "write_text",
    "write_png",
    "json_scalar",
    "markdown_escape",
    "markdown_table",
]

#: Suffixes :func:`read_table` understands.
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
#: Suffixes :func:`read_array` understands.
ARRAY_SUFFIXES = (".npy", ".csv", ".parquet", ".pq")
#: Suffixes :func:`read_labels` understands.
LABEL_SUFFIXES = (".npy", ".csv", ".txt", ".parquet", ".pq")

_SEPARATORS = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")


# --- reading -----------------------------------------------------------------------------------


def _existing(path: str | os.PathLike, suffixes: Sequence[str], what: str) -> Path:
    """Return ``path`` as a Path after checking that it is a file with a known suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise DataFileError(
            f"cannot read {what} from {str(path)!r}: unknown file type "
            f"{path.suffix or '(none)'!r}; use one of {', '.join(suffixes)}."
        )
    if not path.exists():
        raise DataFileError(f"{what} file {str(path)!r} does not exist.")
    if not path.is_file():
        raise DataFileError(f"{what} path {str(path)!r} is not a file.")
    return path


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn a parser's own error into a DataFileError that names the file."""
    try:
        yield
    except LabelwiseError:
        raise
    except (OSError, ValueError, pd.errors.ParserError, ImportError) as exc:
        # pyarrow's ArrowInvalid and pandas' EmptyDataError are ValueErrors.
        raise DataFileError(f"could not read {str(path)!r}: {exc}") from exc


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _has_header(path: Path, sep: str) -> bool:
    """Whether the first line of a delimited file is a header rather than data.

    It is data when every field is a number (``np.savetxt`` output), except for the names
    ``0,1,...,K-1`` (K >= 2) that ``DataFrame.to_csv`` writes for unnamed columns.
    """
    with open(path, encoding="utf-8-sig") as handle:
        first = handle.readline().strip()
    fields = [field.strip().strip('"') for field in first.split(sep)]
    if len(fields) >= 2 and fields == [str(i) for i in range(len(fields))]:
        return True
    return not all(_is_number(field) for field in fields if field)


def _check_columns(path: Path, available: Sequence[Any], wanted: Sequence[str]) -> None:
    missing = [c for c in wanted if c not in set(available)]
    if missing:
        shown = ", ".join(repr(c) for c in list(available)[:20])
        more = "..." if len(available) > 20 else ""
        raise DataFileError(
            f"{str(path)!r} has no column {missing[0]!r}; its columns: {shown}{more}."
        )


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def read_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv``, ``.tsv``, ``.parquet`` or ``.pq`` file. Delimited files need a header row.
    columns : sequence of str, optional
        Read only these columns, in this order.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataFileError
        When the file is missing, its suffix is unknown, it cannot be parsed, or it lacks one of
        ``columns``.
    """
    path = _existing(path, TABLE_SUFFIXES, "table")
    suffix = path.suffix.lower()
    wanted = list(columns) if columns is not None else None
    with _reading(path):
        if suffix in _PARQUET:
            if wanted is not None:
                _check_columns(path, _parquet_columns(path), wanted)
            return pd.read_parquet(path, engine="pyarrow", columns=wanted)
        sep = _SEPARATORS[suffix]
        if wanted is not None:
            header = pd.read_csv(path, sep=sep, nrows=0).columns
            _check_columns(path, list(header), wanted)
            return pd.read_csv(path, sep=sep, usecols=wanted)[wanted]
        return pd.read_csv(path, sep=sep)


def _numeric_matrix(path: Path, frame: pd.DataFrame) -> np.ndarray:
    """All columns of ``frame`` as one 2-D numeric array, or a DataFileError naming the others."""
    if frame.shape[1] == 0:
        raise DataFileError(f"{str(path)!r} holds no columns.")
    other = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if other:
        raise DataFileError(
            f"{str(path)!r} must hold only numbers, but column {other[0]!r} does not "
            f"({len(other)} such columns). Drop id or label columns before saving the array."
        )
    return frame.to_numpy()


def read_array(path: str | os.PathLike, mmap_mode: str | None = None) -> np.ndarray:
    """Read a numeric array (for example ``pred_probs``) from ``.npy``, ``.csv`` or Parquet.

    Parameters
    ----------
    path : str or PathLike
        ``.npy`` (any shape), ``.csv`` (numbers; a header row is skipped when its first line is not
        all numbers) or ``.parquet`` / ``.pq`` (every column numeric; one column per array column).
    mmap_mode : {None, "r", "r+", "c"}, optional
        For ``.npy`` only: map the file instead of reading it, so that a large array is not
        loaded into memory at once (see :func:`numpy.load`).

    Returns
    -------
    ndarray
        2-D for CSV and Parquet files.

    Raises
    ------
    DataFileError
        When the file is missing, has an unknown suffix, or holds something other than numbers.
    """
    path = _existing(path, ARRAY_SUFFIXES, "array")
    suffix = path.suffix.lower()
    with _reading(path):
        if suffix == ".npy":
            return _load_npy(path, mmap_mode)
        if suffix in _PARQUET:
            return _numeric_matrix(path, pd.read_parquet(path, engine="pyarrow"))
        header = 0 if _has_header(path, ",") else None
        return _numeric_matrix(path, pd.read_csv(path, header=header))


def _load_npy(path: Path, mmap_mode: str | None = None) -> np.ndarray:
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        # Pickles can run code, so object arrays are refused rather than loaded.
        raise DataFileError(
            f"{str(path)!r} holds Python objects, which are not loaded for safety. Save strings "
            "as a fixed-width array (np.save(path, np.asarray(labels, dtype=str))) or as a .txt "
            "file with one label per line."
        ) from None


def _text_labels(path: Path) -> np.ndarray:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    blank = [i + 1 for i, line in enumerate(lines) if not line]
    if blank:
        raise DataFileError(
            f"{str(path)!r} has an empty line at line {blank[0]} ({len(blank)} in all); every "
            "line must hold one label."
        )
    if not lines:
        raise DataFileError(f"{str(path)!r} holds no labels.")
    try:
        # Whole numbers are class codes 0..K-1, as in a CSV; anything else stays a string.
        return np.array([int(line) for line in lines])
    except ValueError:
        return np.array(lines)


def _one_column(path: Path, frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is not None:
        _check_columns(path, list(frame.columns), [column])
        series = frame[column]
    elif frame.shape[1] == 1:
        series = frame.iloc[:, 0]
    else:
        names = ", ".join(repr(c) for c in frame.columns[:20])
        raise DataFileError(
            f"{str(path)!r} has {frame.shape[1]} columns ({names}); name the label column."
        )
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy()
    # object keeps missing values as NaN, which the label checks then report by row
    return series.to_numpy(dtype=object)


def _npy_labels(path: Path) -> np.ndarray:
    values = _load_npy(path)
    if values.ndim == 2 and values.shape[1] == 1:
        return values[:, 0]
    if values.ndim != 1:
        raise DataFileError(
            f"{str(path)!r} holds an array of shape {values.shape}; labels need one per example "
            "(shape (n_examples,))."
        )
    return values


def read_labels(path: str | os.PathLike, column: str | None = None) -> np.ndarray:
    """Read one label per example.

    Parameters
    ----------
    path : str or PathLike
        - ``.npy``: a 1-D array (strings as a fixed-width ``str`` array, not objects).
        - ``.txt``: one label per line; whole numbers become integers, anything else stays a
          string (surrounding spaces are dropped).
        - ``.csv``: one column, or ``column``; a header row is expected unless the first line is
          a number (``np.savetxt`` output).
        - ``.parquet`` / ``.pq``: one column, or ``column``.
    column : str, optional
        The label column of a CSV or Parquet file with several columns.

    Returns
    -------
    ndarray, shape (n_examples,)

    Raises
    ------
    DataFileError
        When the file is missing, has an unknown suffix, holds several columns and no ``column``
        is named, or cannot be parsed.
    """
    path = _existing(path, LABEL_SUFFIXES, "labels")
    suffix = path.suffix.lower()
    with _reading(path):
        if suffix == ".npy":
            return _npy_labels(path)
        if suffix == ".txt":
            return _text_labels(path)
        if suffix in _PARQUET:
            wanted = [column] if column is not None else None
            if wanted is not None:
                _check_columns(path, _parquet_columns(path), wanted)
            return _one_column(
                path, pd.read_parquet(path, engine="pyarrow", columns=wanted), column
            )
        header = 0 if column is not None or _has_header(path, ",") else None
        return _one_column(path, pd.read_csv(path, header=header), column)


# --- writing -----------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it onto ``path`` once the block succeeds.

    The temporary file is in the same directory, so the final :func:`os.replace` is a rename
    within one file system: readers see the old file or the whole new one. If the block raises,
    the temporary file is removed, ``path`` is left as it was, and the exception propagates
    (an ``OSError`` as a :class:`~labelwise.errors.DataFileError` naming ``path``). Missing
    parent directories are created.

    Parameters
    ----------
    path : str or PathLike
        The file to write.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline
        As for :func:`open`, text mode only.

    Yields
    ------
    file object
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write opens files for writing only ('w' or 'wb'), not {mode!r}.")
    target = Path(path)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    text = {} if "b" in mode else {"encoding": encoding, "newline": newline}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never write through someone else's file; 0o666 lets the umask decide the mode,
        # as for a file opened normally.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise DataFileError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError) and not isinstance(exc, LabelwiseError):
            raise DataFileError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from exc
        raise


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defused(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _formula_mask(series: pd.Series) -> np.ndarray:
    """Which cells of a text column are strings a spreadsheet would run as formulas."""
    try:
        # Vectorized: a string column is tested in Arrow, without a Python call per cell.
        return series.str.startswith(FORMULA_STARTS).to_numpy(dtype=bool, na_value=False)
    except (AttributeError, TypeError):  # objects pandas will not treat as text (bytes, ints)
        return np.array([_defused(v) is not v for v in series], dtype=bool)


def _defused_text(series: pd.Series) -> np.ndarray | None:
    """An object or string column with formula-like text defused, or None when none is."""
    mask = _formula_mask(series)
    if not mask.any():
        return None
    out = series.to_numpy(dtype=object, copy=True)
    out[mask] = ["'" + text for text in out[mask]]
    return out


def _defused_categories(series: pd.Series) -> np.ndarray | None:
    """A categorical column as defused text, or None when no category needs it.

    Categories are checked once each; the column is written as plain values, since a defused
    category could collide with another (``=a`` and ``'=a``).
    """
    categories = series.cat.categories.to_numpy(dtype=object)
    defused = np.array([_defused(c) for c in categories] + [np.nan], dtype=object)
    if all(a is b for a, b in zip(defused[:-1], categories, strict=True)):
        return None
    return defused[series.cat.codes.to_numpy()]  # code -1 (missing) picks the NaN at the end


def _defused_column(series: pd.Series) -> np.ndarray | None:
    """The column with formula-like text defused, or None when it has none (numbers never)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _defused_categories(series)
    if pd.api.types.is_string_dtype(series.dtype):  # str, string and object columns
        return _defused_text(series)
    return None


def _without_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every formula-like text cell and header defused; the input is not changed."""
    changed = {}
    for i, (_, series) in enumerate(frame.items()):
        values = _defused_column(series)
        if values is not None:
            changed[i] = values
    header = [_defused(c) if isinstance(c, str) else c for c in frame.columns]
    if not changed and header == list(frame.columns):
        return frame
    out = frame.copy(deep=False)
    for i, values in changed.items():
        out.isetitem(i, pd.Series(values, index=frame.index, dtype=object))
    out.columns = header
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` to ``path`` as CSV, without its index, atomically.

    Text that a spreadsheet would run as a formula is defused, as OWASP advises against CSV
    injection: a text cell (object, string or categorical column) or a column name that starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote in front
    (``=HYPERLINK(...)`` is written as ``'=HYPERLINK(...)``). Numeric columns are written as they
    are, so ``-0.5`` stays a number; ``frame`` itself is not changed.

    Parameters
    ----------
    frame : DataFrame
        The table to write.
    path : str or PathLike
        The CSV file; missing parent directories are created.

    Returns
    -------
    Path
        ``path``.
    """
    safe = _without_formulas(frame)
    with atomic_write(path, newline="") as handle:
        safe.to_csv(handle, index=False)
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON, atomically; numpy scalars and arrays become plain numbers and lists.

    NaN and infinite floats are written as ``null``, so the file is valid JSON for any reader.
    Returns the path.
    """
    data = jsonable(obj)
    with atomic_write(path) as handle:
        json.dump(data, handle, indent=indent, allow_nan=False)
        handle.write("\n")
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` (UTF-8), atomically. Returns the path."""
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_png(figure: Any, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save a matplotlib ``Figure`` as PNG, atomically; returns the path."""
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=dpi)
    return Path(path)
