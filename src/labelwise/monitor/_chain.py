"""The hash chain behind :mod:`labelwise.monitor.store`, free of any database code.

Every stored row has a position ``id`` in one chain that runs across all tables (1, 2, 3, ...),
a canonical JSON ``payload`` holding all of its content, ``prev_hash`` (the ``row_hash`` of the
row before it; :data:`GENESIS` for the first) and ``row_hash = sha256(prev_hash + payload)``.
:func:`walk` checks a stream of rows in id order against those rules and the recorded head.

>>> first = canonical_json({"b": 0.1, "a": [1, None]})
>>> first
'{"a":[1,null],"b":0.1}'
>>> len(row_hash(GENESIS, first))
64
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "GENESIS",
    "ChainReport",
    "ChainRow",
    "KnownHead",
    "canonical_json",
    "row_hash",
    "walk",
]

#: ``prev_hash`` of the first row of a chain.
GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Serialize JSON data one way only: sorted keys, no spaces, floats by ``repr``.

    ``json`` writes floats with ``float.__repr__``, the shortest text that reads back to the same
    double, so a payload hashes the same before storage and after any round trip.

    >>> canonical_json({"z": 1.0, "a": "é"})
    '{"a":"é","z":1.0}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)  # fmt: skip


def row_hash(prev_hash: str, payload: str) -> str:
    """Return ``sha256(prev_hash + payload)`` as 64 hex digits.

    >>> row_hash(GENESIS, "{}")[:12]
    '5508d2b710e6'
    """
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


class KnownHead(NamedTuple):
    """A head written down elsewhere: the chain's length ``seq`` then and its last ``hash``.

    >>> KnownHead(12, "ab" * 32).seq
    12
    """

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainRow:
    """One stored row as :func:`walk` sees it.

    ``columns`` holds the typed columns that mirror payload keys; each must equal
    ``json.loads(payload)[key]``, so an edit of a typed column alone is caught too.
    """

    table: str
    id: int
    payload: str
    prev_hash: str
    row_hash: str
    columns: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :meth:`MonitorStore.verify <labelwise.monitor.store.MonitorStore.verify>`.

    Attributes
    ----------
    ok : bool
        True when every row and the head check out.
    rows_checked : int
        Rows found sound before the first bad one (all rows when ``ok``).
    first_bad : dict or None
        ``{"table", "id", "reason"}`` of the first row that fails, else None.
    head : str or None
        ``row_hash`` of the last sound row (None for an empty chain). Write it down elsewhere:
        a later :meth:`head` that does not extend from it means the chain was rewritten.

    >>> print(ChainReport(True, 3, None, "ab" * 32))
    chain ok: 3 rows, head abababababab
    """

    ok: bool
    rows_checked: int
    first_bad: dict | None = None
    head: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            head = self.head[:12] if self.head else "(empty)"
            return f"chain ok: {self.rows_checked} rows, head {head}"
        bad = self.first_bad or {}
        where = (
            f"{bad['table']}#{bad.get('id')}" if bad.get("table") else f"position {bad.get('id')}"
        )
        return (
            f"chain BROKEN at {where}: {bad.get('reason')} "
            f"({self.rows_checked} rows sound before it)"
        )


def _same(stored: Any, recorded: Any) -> bool:
    """Whether a typed column equals its payload value (ints and floats compare by value)."""
    return (stored is None) == (recorded is None) and stored == recorded


def _check_row(row: ChainRow, prev: str) -> str | None:
    """Return why ``row`` breaks the chain after a row whose hash is ``prev``, or None."""
    try:
        content = json.loads(row.payload)
    except (TypeError, ValueError):
        return "payload is not valid JSON (edited)"
    if not isinstance(content, dict) or content.get("table") != row.table:
        return "payload names another table (row moved or forged)"
    if content.get("id") != row.id:
        return f"payload records position {content.get('id')!r} (row renumbered or reordered)"
    if row_hash(row.prev_hash, row.payload) != row.row_hash:
        return "row_hash does not match its payload (payload or hash edited)"
    if row.prev_hash != prev:
        return "prev_hash does not match the row before it (rows deleted, inserted or reordered)"
    for key, value in row.columns.items():
        if not _same(value, content.get(key)):
            return f"column {key!r} = {value!r} disagrees with the payload's {content.get(key)!r}"
    return None


def walk(
    rows: Iterable[ChainRow],
    head: Mapping[str, Any] | None,
    known_heads: Iterable[str | tuple[int, str]] = (),
) -> ChainReport:
    """Check ``rows`` (sorted by id) as one chain ending at ``head``; stop at the first fault.

    ``head`` is the store's record of the last append: ``{"seq", "last_table", "row_hash"}``.
    ``known_heads`` are heads written down earlier, elsewhere: a plain hash must still be some
    row's ``row_hash``; a :class:`KnownHead` ``(seq, hash)`` must be the hash of row ``seq``
    exactly, so a chain cut back below ``seq`` or rewritten at or before it is reported.

    >>> p1 = canonical_json({"table": "t", "id": 1})
    >>> r1 = ChainRow("t", 1, p1, GENESIS, row_hash(GENESIS, p1))
    >>> walk([r1], {"seq": 1, "last_table": "t", "row_hash": r1.row_hash}).ok
    True
    >>> walk([r1], {"seq": 2, "last_table": "t", "row_hash": "?"}).first_bad["reason"]
    'missing: the head records 2 rows but the chain ends at 1 (rows deleted from the end)'
    >>> walk([r1], {"seq": 1, "last_table": "t", "row_hash": r1.row_hash},
    ...      [KnownHead(3, "ab" * 32)]).first_bad["reason"]  # doctest: +ELLIPSIS
    'witnessed head abababababab... (seq 3) is missing: the chain ends at 1 ...'
    """
    prev, count, expected, last_table = GENESIS, 0, 1, None
    unseen: set[str] = set()
    at: dict[int, list[KnownHead]] = {}
    for known in known_heads:
        if isinstance(known, str):
            unseen.add(known)
        else:
            known = KnownHead(int(known[0]), str(known[1]))
            at.setdefault(known.seq, []).append(known)
    unseen.discard(GENESIS)
    limit = int(head["seq"]) if head else 0
    for row in rows:
        if row.id > limit and row.id == expected:
            reason = f"row beyond the head, which records {limit} rows (added outside the store)"
            return ChainReport(False, count, _bad(row.table, row.id, reason), prev)
        if row.id != expected:
            if row.id < expected:
                reason = f"position {row.id} is held by more than one row (forged row)"
            else:
                reason = (
                    f"positions {expected}..{row.id - 1} are missing (rows deleted)"
                    if row.id - 1 > expected
                    else f"position {expected} is missing (row deleted)"
                )
            return ChainReport(False, count, _bad(row.table, row.id, reason), prev)
        reason = _check_row(row, prev)
        if reason is not None:
            return ChainReport(False, count, _bad(row.table, row.id, reason), prev)
        for known in at.pop(row.id, ()):
            if known.hash != row.row_hash:
                reason = (
                    f"witnessed head {known.hash[:12]}... (seq {known.seq}) is not on the chain: "
                    f"row {row.id} now hashes to {row.row_hash[:12]}... (this row or one before "
                    "it was rewritten)"
                )
                bad = _bad(row.table, row.id, reason) | {"known_head": known}
                return ChainReport(False, count, bad, prev)
        prev, count, expected, last_table = row.row_hash, count + 1, expected + 1, row.table
        unseen.discard(prev)
    report = _check_head(head, count, prev, last_table)
    if not report.ok:
        return report
    # Heads the walk never reached: positions beyond the chain's end (or a wrong empty chain).
    for known in sorted(k for group in at.values() for k in group):
        if known == (0, GENESIS):
            continue
        if known.seq == 0:
            end = "position 0 is the empty chain, whose hash is 64 zeros"
        elif count == 0:
            end = "the chain is empty (the store was emptied and its head reset)"
        else:
            end = f"the chain ends at {count} (rows deleted from the end and the head moved back)"
        reason = f"witnessed head {known.hash[:12]}... (seq {known.seq}) is missing: {end}"
        bad = _bad(None, known.seq, reason) | {"known_head": known}
        return ChainReport(False, count, bad, report.head)
    if unseen:
        reason = (
            f"kept head {sorted(unseen)[0][:12]}... is no row's hash: the chain was rewritten "
            "after it was written down"
        )
        bad = _bad(last_table, count, reason) | {"known_head": sorted(unseen)[0]}
        return ChainReport(False, count, bad, report.head)
    return report


def _check_head(head: Mapping[str, Any] | None, count: int, last: str, table: str | None):
    """Compare the end of the walked chain with the head record."""
    seq = int(head["seq"]) if head else 0
    sound = ChainReport(True, count, None, last if count else None)
    if seq > count:
        reason = (
            f"missing: the head records {seq} rows but the chain ends at {count} "
            "(rows deleted from the end)"
        )
        return ChainReport(False, count, _bad(head.get("last_table"), seq, reason), sound.head)
    if count and head["row_hash"] != last:
        reason = "the head's hash differs from the last row's row_hash (head or last row edited)"
        return ChainReport(False, count - 1, _bad(table, count, reason), sound.head)
    return sound


def _bad(table: str | None, row_id: int, reason: str) -> dict:
    return {"table": table, "id": int(row_id), "reason": reason}
