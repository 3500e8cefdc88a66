"""Witnessed heads: copies of the store's head kept somewhere its database's owner cannot write.

A witness file holds one JSON object per line, one line per write to the store::

    {"seq": 12, "head": "3fa2...", "at": "2026-01-12T08:00:00.000000+00:00", "store": "sqlite:///..."}

:func:`append_witness` adds a line after a write; :func:`read_witness` reads them back as
:class:`~labelwise.monitor.store.KnownHead` pairs, which
:meth:`MonitorStore.verify <labelwise.monitor.store.MonitorStore.verify>` checks against the chain.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "heads.jsonl")
>>> append_witness(path, KnownHead(3, "ab" * 32), "sqlite:///m.db")
>>> read_witness(path)
[KnownHead(seq=3, hash='abababababababababababababababababababababababababababababababab')]
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from labelwise.errors import ConfigError, DataFileError, InputError
from labelwise.monitor._chain import KnownHead

__all__ = [
    "append_witness",
    "as_known_heads",
    "check_witness_folder",
    "is_head_hash",
    "read_witness",
    "witness_lines",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_head_hash(text: Any) -> bool:
    """Whether ``text`` is a head hash: 64 lower-case hex digits."""
    return isinstance(text, str) and _HEX64.fullmatch(text) is not None


def check_witness_folder(path: str | os.PathLike) -> Path:
    """The witness file's path, once its folder is known to exist (checked before any write)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(f"witness {str(path)!r} is a folder; give a file such as heads.jsonl.")
    if not path.parent.is_dir():
        raise ConfigError(
            f"the folder of witness file {str(path)!r} does not exist; create it first (the "
            "witness should live somewhere the store's owner cannot write)."
        )
    writable = path if path.exists() else path.parent
    if not os.access(writable, os.W_OK):
        raise ConfigError(
            f"witness file {str(path)!r} cannot be written by this user; fix its permissions "
            "or give another file."
        )
    return path


def append_witness(path: str | os.PathLike, head: KnownHead, store: str) -> None:
    """Append ``head`` as one JSON line to the witness file at ``path`` and sync it to disk.

    Parameters
    ----------
    path : str or path
        The witness file; created if missing, in a folder that must exist.
    head : KnownHead
        ``(seq, hash)`` as left by the write (``MonitorStore.last_written``).
    store : str
        The store's URL, without its password: which store the head belongs to.
    """
    path = check_witness_folder(path)
    line = json.dumps(
        {
            "seq": int(head.seq),
            "head": head.hash,
            "at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "store": store,
        },
        ensure_ascii=True,
    )
    # One write of one whole line in append mode: writers on a local file interleave by line.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_witness(path: str | os.PathLike) -> list[KnownHead]:
    """The heads recorded in a witness file, in the order written.

    Blank lines are skipped; any other line that is not ``{"seq": int, "head": 64 hex, ...}``
    raises :class:`~labelwise.errors.InputError` naming the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "heads.jsonl")
    >>> _ = open(path, "w").write('{"seq": 0, "head": "' + "0" * 64 + '"}\\n')
    >>> read_witness(path)[0].seq
    0
    """
    return [head for _, head in witness_lines(path)]


def witness_lines(path: str | os.PathLike) -> list[tuple[int, KnownHead]]:
    """The heads of a witness file with the line number each was read from."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"witness file {str(path)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read witness file {str(path)!r}: {exc}.") from None
    heads = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"witness file {str(path)!r} line {number}"
        try:
            record = json.loads(line)
        except ValueError:
            raise InputError(f"{where} is not JSON; each line must be one JSON object.") from None
        if not isinstance(record, dict):
            raise InputError(f"{where} is not a JSON object with seq and head.")
        seq, head = record.get("seq"), record.get("head")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise InputError(f"{where}: seq must be a count >= 0, got {seq!r}.")
        if not is_head_hash(head):
            raise InputError(f"{where}: head must be 64 lower-case hex digits, got {head!r}.")
        heads.append((number, KnownHead(seq, head)))
    return heads


def as_known_heads(values: Iterable[Any]) -> list[str | KnownHead]:
    """Normalize heads given to verify: plain hashes, or ``(seq, hash)`` pairs."""
    if isinstance(values, (str, bytes)):
        values = [values]
    out: list[str | KnownHead] = []
    for value in values:
        if isinstance(value, str):
            if not is_head_hash(value.lower()):
                raise InputError(
                    f"known head {value!r} is not a head hash; give the 64 hex digits of "
                    "store.head() or a (seq, hash) pair."
                )
            out.append(value.lower())
            continue
        try:
            seq, digest = value
            seq = operator.index(seq)
        except (TypeError, ValueError):
            raise InputError(
                f"known head {value!r} must be a hash or a (seq, hash) pair such as "
                "read_witness() returns."
            ) from None
        if seq < 0 or not isinstance(digest, str) or not is_head_hash(digest.lower()):
            raise InputError(f"known head {value!r} must pair a position >= 0 with 64 hex digits.")
        out.append(KnownHead(int(seq), digest.lower()))
    return out
