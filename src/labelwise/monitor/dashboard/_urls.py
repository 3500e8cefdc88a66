"""The dashboard's addresses: a name per path segment, any name, and back from a raw path.

Model and window names are written as one percent-encoded path segment each (``/`` as ``%2F``)
and read back from the raw path, so any name opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode

__all__ = [
    "NotFound",
    "alerts_url",
    "locate",
    "model_url",
    "path_segment",
    "segment_name",
    "window_url",
]


class NotFound(LookupError):
    """An unknown model or window: the dashboard answers 404 with a friendly page."""


def path_segment(name: str) -> str:
    """``name`` as one URL path segment: every reserved character escaped, ``/`` included.

    Browsers and HTTP clients resolve ``.`` and ``..`` segments (even written ``%2E``) before a
    request is sent, so a name made only of dots is written behind a ``~``; a ``~`` anywhere
    else is escaped, so no other name's segment starts with one. :func:`segment_name` reverses it.

    Examples
    --------
    >>> path_segment("team/credit"), path_segment("50% ?#"), path_segment(".."), path_segment("~")
    ('team%2Fcredit', '50%25%20%3F%23', '~..', '%7E')
    """
    quoted = quote(str(name), safe="").replace("~", "%7E")
    return "~" + quoted if not quoted.strip(".") else quoted


def segment_name(segment: str | bytes) -> str:
    """The name a raw (still percent-encoded) path segment stands for.

    Examples
    --------
    >>> segment_name("team%2Fcredit"), segment_name("~.."), segment_name(b"caf%C3%A9")
    ('team/credit', '..', 'café')
    """
    raw = segment.encode("utf-8") if isinstance(segment, str) else segment
    if raw.startswith(b"~") and not raw[1:].strip(b"."):
        return raw[1:].decode("ascii")
    return unquote_to_bytes(raw).decode("utf-8", errors="replace")


def _path(*parts: str) -> str:
    """A URL path from unescaped segments."""
    return "/" + "/".join(path_segment(part) for part in parts)


def model_url(model: str) -> str:
    """The dashboard page of a model.

    Examples
    --------
    >>> model_url("team/credit v2")
    '/models/team%2Fcredit%20v2'
    """
    return _path("models", model)


def window_url(model: str, window: str) -> str:
    """The dashboard page of one window of a model.

    Examples
    --------
    >>> window_url("a/b", "q1/2024")
    '/models/a%2Fb/windows/q1%2F2024'
    """
    return _path("models", model, "windows", window)


def alerts_url(model: str | None = None) -> str:
    """The alerts page, of every model or of one.

    Examples
    --------
    >>> alerts_url("a&b #1")
    '/alerts?model=a%26b+%231'
    """
    return "/alerts" if model is None else "/alerts?" + urlencode({"model": model})


def _raw_segments(scope: Mapping[str, Any], prefix: str) -> list[bytes]:
    """The still-encoded path segments after ``prefix`` (a trailing slash dropped)."""
    start = prefix.encode("ascii")
    root = str(scope.get("root_path") or "")
    raw = scope.get("raw_path")
    raw = raw if isinstance(raw, bytes) else b""
    if root and raw.startswith(root.encode("utf-8") + start):
        raw = raw[len(root.encode("utf-8")) :]
    if not raw.startswith(start):
        # No raw path (or one a proxy rewrote): the decoded path, every "/" a separator.
        path = str(scope.get("path", ""))
        path = path[len(root) :] if root and path.startswith(root + prefix) else path
        raw = quote(path, safe="/").encode("ascii")
    segments = raw[len(start) :].split(b"/")
    if len(segments) > 1 and segments[-1] == b"":
        segments.pop()  # a trailing slash
    return segments


def locate(scope: Mapping[str, Any], prefix: str, models: set[str]) -> tuple[str, str | None]:
    """The model and window (None for a model's own page) a request under ``prefix`` names.

    The names are read from the raw path, where a ``/`` inside a name is still ``%2F``. A
    path typed by hand with a bare ``/`` in a model name resolves to the longest known model.

    Examples
    --------
    >>> scope = {"path": "/models/a/b/windows/w/1", "raw_path": b"/models/a%2Fb/windows/w%2F1"}
    >>> locate(scope, "/models/", {"a/b"})
    ('a/b', 'w/1')
    >>> locate({"path": "/models/a/b/windows/w"}, "/models/", {"a", "a/b"})
    ('a/b', 'w')
    """
    segments = _raw_segments(scope, prefix)
    names = [segment_name(s) for s in segments]

    def split(k: int) -> tuple[str, str | None] | None:
        rest = segments[k:]
        if not rest:
            return "/".join(names[:k]), None
        if rest[0] == b"windows" and len(rest) > 1:
            return "/".join(names[:k]), "/".join(names[k + 1 :])
        return None

    canonical = split(1)
    if canonical is not None and canonical[0] in models:
        return canonical
    for k in range(len(segments), 1, -1):
        found = split(k)
        if found is not None and found[0] in models:
            return found
    if canonical is None:
        raise NotFound(f"There is no page at {scope.get('path', prefix)}.")
    return canonical
