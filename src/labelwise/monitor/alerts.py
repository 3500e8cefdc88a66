"""Alerts after a monitor run: one JSON summary POSTed to a webhook, retried within a deadline.

Only the standard library is used (``urllib.request``), so alerts need no extra package. A
delivery never raises: it returns a :class:`Delivery` saying whether the summary arrived, so that
a dead endpoint cannot undo or fail the run it reports on.

>>> reaches("critical", "alert"), reaches("warn", "alert")
(True, False)
>>> mask_url("https://user:pw@hooks.example.com/alerts?token=abc&team=risk")
'https://user:***@hooks.example.com/alerts?token=***&team=***'
"""

from __future__ import annotations

import functools
import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from numbers import Integral, Real
from typing import Any

from labelwise._params import Interval, validate_params
from labelwise._shared.serialize import strict_json
from labelwise._shared.urls import display_url
from labelwise.errors import ConfigError, InputError
from labelwise.monitor.store import SEVERITIES

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_BACKOFF",
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "TOP_METRICS",
    "Delivery",
    "alert_payload",
    "check_url",
    "fired_monitors",
    "mask_url",
    "post_json",
    "reaches",
]

#: Seconds one attempt may take before it is abandoned.
DEFAULT_TIMEOUT = 5.0
#: Attempts per webhook, the first included.
DEFAULT_ATTEMPTS = 3
#: Pause before the second attempt, in seconds; it doubles before each further attempt.
DEFAULT_BACKOFF = 0.5
#: Seconds all attempts at one webhook may take together (three full attempts fit in it).
DEFAULT_DEADLINE = 20.0
#: Fired metrics listed per window, the furthest over their thresholds first.
TOP_METRICS = 3
#: Path segments this long are shown masked: webhook services put their secrets in the path.
_SECRET_SEGMENT = re.compile(r"[^/]{16,}")


@dataclass(frozen=True)
class Delivery:
    """How a POST ended: whether it arrived, after how many attempts, the last status and error.

    Examples
    --------
    >>> Delivery(ok=False, attempts=3, status=503, error="HTTP 503 Service Unavailable")
    Delivery(ok=False, attempts=3, status=503, error='HTTP 503 Service Unavailable')
    """

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def _rank(severity: str, what: str) -> int:
    if severity not in SEVERITIES:
        raise InputError(f"{what} must be one of {', '.join(SEVERITIES)}, not {severity!r}.")
    return SEVERITIES.index(severity)


def reaches(severity: str, level: str) -> bool:
    """Whether ``severity`` is ``level`` or worse: ok < watch < warn < alert < critical.

    Examples
    --------
    >>> reaches("alert", "alert"), reaches("watch", "warn"), reaches("ok", "ok")
    (True, False, True)
    """
    return _rank(severity, "severity") >= _rank(level, "level")


def mask_url(url: str) -> str:
    """``url`` for messages: its password, query values and long path segments shown as ``***``.

    Examples
    --------
    >>> mask_url("https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX")
    'https://hooks.slack.com/services/T0001/B0001/***'
    >>> mask_url("http://127.0.0.1:8080/hook")
    'http://127.0.0.1:8080/hook'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL at all (an unclosed "[", a bad port): show only its scheme
        return url.partition(":")[0] + ":***"
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    path = _SECRET_SEGMENT.sub("***", parts.path)
    query = "&".join(
        f"{name}=***" for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    # The fragment never reaches the server but may hold a token too: it is left out.
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, ""))


def check_url(url: str) -> str:
    """Return ``url`` if it is an http or https address with a host, else raise ConfigError.

    Examples
    --------
    >>> check_url("https://alerts.example.com/labelwise")
    'https://alerts.example.com/labelwise'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        usable = False
    if not usable:
        raise ConfigError(
            f"--alert-webhook {mask_url(url)!r} is not an http or https URL; give an address "
            "such as https://alerts.example.com/labelwise."
        )
    return url


def _top_metrics(metrics: Sequence[dict], n: int) -> list[dict]:
    """The fired metrics furthest over their thresholds (value / threshold), at most n.

    Expected metrics fire on a band, not a threshold: they follow the thresholded ones.
    """

    def ratio(metric: dict) -> float:
        try:
            return abs(float(metric["value"])) / abs(float(metric["threshold"]))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return -1.0

    fired = sorted((m for m in metrics if m.get("fired")), key=ratio, reverse=True)
    keys = ("monitor", "metric", "value", "threshold", "low", "high")
    return [{key: m.get(key) for key in keys} for m in fired[:n]]


def fired_monitors(result: Mapping) -> list[str]:
    """Monitors with at least one fired metric in a window's result dict, in report order.

    The command line's table and JSON lines and the alert payload all name them this way.

    >>> fired_monitors({"metrics": [{"monitor": "score", "fired": True},
    ...                             {"monitor": "features", "fired": False}]})
    ['score']
    """
    metrics = result.get("metrics", [])
    return list(dict.fromkeys(m["monitor"] for m in metrics if m.get("fired")))


def _window_summary(result: dict) -> dict:
    return {
        "window": result.get("window"),
        "start": result.get("start"),
        "end": result.get("end"),
        "n_rows": result.get("n_rows"),
        "composite": result.get("composite"),
        "severity": result.get("severity"),
        "fired_monitors": fired_monitors(result),
        "top_metrics": _top_metrics(result.get("metrics", []), TOP_METRICS),
    }


def alert_payload(
    results: Sequence[dict],
    *,
    level: str,
    model: str,
    model_version: str,
    run_id: int | None,
    store: str,
) -> dict | None:
    """The JSON summary of a run's windows that reached ``level``; None when none did.

    Parameters
    ----------
    results : sequence of dict
        The run's windows, as ``WindowResult.to_dict()`` gives them.
    level : str
        The least severity that alerts: one of ``labelwise.monitor.store.SEVERITIES``.
    model, model_version : str
        The monitored model, as the store records it.
    run_id : int or None
        The stored run's id.
    store : str
        The store's URL or path; its password is left out of the payload.

    Returns
    -------
    dict or None
        Plain JSON data (NaN as null): ``labelwise_version``, ``sent_at`` (UTC), ``model``,
        ``model_version``, ``run_id``, ``store``, ``level``, ``severity`` (the worst reached),
        ``n_windows`` (checked in the run) and ``windows`` (those that reached ``level``, each
        with its period, rows, composite, severity, fired monitors and ``top_metrics``).

    Examples
    --------
    >>> w = {"window": "2024-03", "severity": "critical", "composite": 0.8, "metrics": []}
    >>> p = alert_payload([w], level="alert", model="pd", model_version="7", run_id=4,
    ...                   store="runs/monitor.db")
    >>> p["severity"], [x["window"] for x in p["windows"]], p["store"]
    ('critical', ['2024-03'], 'runs/monitor.db')
    """
    hits = [r for r in results if reaches(str(r.get("severity")), level)]
    if not hits:
        return None
    from labelwise import __version__

    worst = max((str(r["severity"]) for r in hits), key=SEVERITIES.index)
    return strict_json(
        {
            "labelwise_version": __version__,
            "sent_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": model,
            "model_version": model_version,
            "run_id": run_id,
            "store": display_url(store),
            "level": level,
            "severity": worst,
            "n_windows": len(results),
            "windows": [_window_summary(r) for r in hits],
        }
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as it is: urllib would follow a POST's 302 as a GET, dropping the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
#: One attempt's HTTP status (None when no answer came) and error (None on success).
_Answer = tuple[int | None, str | None]


def _send(url: str, body: bytes, timeout: float) -> _Answer:
    """One POST: the HTTP status (None when none came) and an error message (None on 2xx)."""
    from labelwise import __version__

    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"labelwise/{__version__}"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            where = mask_url(exc.headers.get("Location") or "")
            return exc.code, f"HTTP {exc.code} redirect to {where!r}; give the final address"
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return None, str(exc.reason)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def _within(seconds: float, call: Callable[[], _Answer]) -> _Answer:
    """``call()``, or a timeout after ``seconds``: a socket timeout does not bound a DNS lookup."""
    box: list = []
    # A daemon thread: one still waiting on a dead host must not keep the process alive.
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    return box[0] if box else (None, f"no answer within {seconds:.3g} s")


def _retryable(status: int | None) -> bool:
    """Retry what may pass on a second try: no answer, a server error, or rate limiting."""
    return status is None or status >= 500 or status == 429


@validate_params(
    {
        "timeout": [Interval(Real, 0, None, closed="neither")],
        "attempts": [Interval(Integral, 1, None)],
        "backoff": [Interval(Real, 0, None)],
        "deadline": [Interval(Real, 0, None, closed="neither")],
    }
)
def post_json(
    url: str,
    payload: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    deadline: float = DEFAULT_DEADLINE,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``, retrying with exponential backoff.

    Parameters
    ----------
    url : str
        An http or https address (see :func:`check_url`).
    payload : Any
        JSON data; NaN is not allowed (:func:`alert_payload` gives null instead).
    timeout : float
        Seconds one attempt may take.
    attempts : int
        Attempts at most. Connection errors, timeouts, 5xx and 429 answers are retried; other
        answers (2xx, 3xx, 4xx) are final.
    backoff : float
        Seconds before the second attempt, doubled before each further one.
    deadline : float
        Seconds all attempts may take together; no attempt starts or runs past it.

    Returns
    -------
    Delivery
        ``ok`` when a 2xx answer came, with the attempts made, the last status and error. A
        network failure is reported here, never raised; only a bad schedule (a timeout or
        deadline not above 0, attempts below 1, a negative backoff) raises ConfigError.

    Examples
    --------
    >>> post_json("http://127.0.0.1:9/", {"x": 1}, attempts=1, timeout=1).ok
    False
    """
    body = json.dumps(payload, allow_nan=False).encode("utf-8")
    stop = time.monotonic() + deadline
    for attempt in range(1, attempts + 1):
        wait = max(min(timeout, stop - time.monotonic()), 0.001)
        status, error = _within(wait, functools.partial(_send, url, body, wait))
        if error is None:
            return Delivery(True, attempt, status)
        pause = backoff * 2 ** (attempt - 1)
        if not _retryable(status) or attempt == attempts:
            break
        if time.monotonic() + pause >= stop:
            error = f"{error}; gave up at the {deadline:.3g} s deadline"
            break
        time.sleep(pause)
    return Delivery(False, attempt, status, error)
