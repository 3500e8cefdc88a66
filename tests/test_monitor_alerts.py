"""Webhook alerts and ``--fail-on`` of ``labelwise monitor check``, against local HTTP servers."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import labelwise
from labelwise.cli import _ui
from labelwise.cli.monitor import EXIT_SEVERITY, monitor_app
from labelwise.errors import ConfigError, InputError
from labelwise.monitor import alerts as _alerts
from labelwise.monitor.alerts import alert_payload, mask_url, post_json, reaches
from labelwise.monitor.store import SEVERITIES, MonitorStore
from tests.test_monitor_cli import credit_frame as credit_with_times

app = typer.Typer(cls=_ui.LabelwiseGroup)
app.add_typer(monitor_app, name="monitor")

#: Retries without waiting: the tests count attempts, they do not time them.
QUICK = ["--alert-backoff", "0.01", "--alert-timeout", "2"]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def credit_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """The command-line tests' credit rows, without their times."""
    return credit_with_times(n, seed, shift).drop(columns="ts")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alerts")
    reference = credit_frame(2000, 0)
    reference.to_csv(folder / "ref.csv", index=False)
    # A sample of the reference stays ok; a strongly shifted window reaches critical.
    reference.sample(500, random_state=1).to_csv(folder / "calm.csv", index=False)
    credit_frame(500, 3, shift=2.0).to_csv(folder / "shifted.csv", index=False)
    result = invoke(
        "monitor", "fit", folder / "ref.csv", "--score", "score", "--label", "bad",
        "--features", "income,channel", "--model", "credit", "--model-version", "2",
        "--out", folder / "monitor.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def work(fitted, tmp_path):
    for name in ("monitor.json", "calm.csv", "shifted.csv"):
        shutil.copy(fitted / name, tmp_path / name)
    return tmp_path


def check(work, window, *args):
    return invoke("monitor", "check", work / "monitor.json", work / f"{window}.csv", *args)


def stored(work) -> pd.DataFrame | None:
    if not (work / "monitor.db").exists():
        return None
    with MonitorStore(work / "monitor.db", create=False) as store:
        return store.windows("credit")


class Hook:
    """What a local webhook received, and the statuses it answers in turn (the last repeats)."""

    def __init__(self, statuses: tuple[int, ...], on_request: Callable[[], object]) -> None:
        self.statuses = statuses
        self.on_request = on_request
        self.requests: list[dict] = []

    def answer(self) -> int:
        return self.statuses[min(len(self.requests), len(self.statuses)) - 1]


@contextlib.contextmanager
def webhook(
    *statuses: int, on_request: Callable[[], object] = lambda: None
) -> Iterator[tuple[str, Hook]]:
    """An HTTP server on 127.0.0.1 in a thread; yields its URL and what it received.

    ``on_request()`` runs as each request arrives; what it returns is kept as ``seen``.
    """
    hook = Hook(statuses or (200,), on_request)

    class Handler(BaseHTTPRequestHandler):
        def _record(self, method: str) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            seen = hook.on_request()
            request = {"method": method, "headers": self.headers, "body": body, "seen": seen}
            hook.requests.append(request)
            status = hook.answer()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self._record("POST")

        def do_GET(self) -> None:
            self._record("GET")

        def log_message(self, *args) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hook
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


# --- the payload ---------------------------------------------------------------------------------


def test_the_summary_arrives_as_json_with_the_run(work):
    with webhook(200, on_request=lambda: stored(work)) as (url, hook):
        result = check(work, "shifted", "--alert-webhook", f"{url}?token=s3cret", *QUICK)
    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 1
    request = hook.requests[0]
    # The alert leaves after the run is stored: the window is in the store when it arrives.
    assert request["seen"]["window"].tolist() == ["shifted"]
    assert request["method"] == "POST"
    assert request["headers"]["Content-Type"] == "application/json"
    payload = json.loads(request["body"])
    windows = stored(work)
    assert payload["model"] == "credit" and payload["model_version"] == "2"
    assert payload["run_id"] == int(windows["run_id"].iloc[0])
    assert payload["store"] == f"sqlite:///{work / 'monitor.db'}"
    assert payload["level"] == "alert" and payload["severity"] == "critical"
    assert payload["labelwise_version"] == labelwise.__version__
    assert datetime.fromisoformat(payload["sent_at"]).utcoffset().total_seconds() == 0
    assert payload["n_windows"] == 1
    (window,) = payload["windows"]
    row = windows.iloc[0]
    assert window["window"] == "shifted" == row["window"]
    assert window["n_rows"] == 500 and window["severity"] == "critical"
    assert window["composite"] == pytest.approx(row["composite"])
    assert window["fired_monitors"] and {"start", "end"} <= set(window)
    top = window["top_metrics"]
    assert 1 <= len(top) <= _alerts.TOP_METRICS
    for metric in top:
        assert metric["monitor"] in window["fired_monitors"]
        assert isinstance(metric["value"], float) and isinstance(metric["threshold"], float)
    ratios = [m["value"] / m["threshold"] for m in top]
    assert ratios == sorted(ratios, reverse=True)  # the furthest over the threshold first
    with MonitorStore(work / "monitor.db", create=False) as store:
        metrics = store.metrics("credit")
    fired = metrics[metrics["fired"].fillna(False).astype(bool)]
    assert ratios[0] == pytest.approx((fired["value"] / fired["threshold"]).max())


def test_payload_hides_the_store_password_and_keeps_only_windows_at_the_level():
    calm = {"window": "a", "severity": "warn", "composite": 0.5, "metrics": []}
    hot = {
        "window": "b",
        "severity": "alert",
        "composite": float("nan"),
        "metrics": [
            {"monitor": "score", "metric": "psi", "value": 0.3, "threshold": 0.1, "fired": True},
            {"monitor": "score", "metric": "ks", "value": 0.9, "threshold": 0.1, "fired": False},
        ],
    }
    payload = alert_payload(
        [calm, hot], level="alert", model="pd", model_version="7", run_id=3,
        store="postgresql+psycopg://monitor:s3cret@db:5432/monitoring",
    )  # fmt: skip
    text = json.dumps(payload, allow_nan=False)  # NaN became null
    assert "s3cret" not in text and "db:5432/monitoring" in payload["store"]
    assert [w["window"] for w in payload["windows"]] == ["b"]
    assert payload["windows"][0]["composite"] is None
    assert payload["windows"][0]["fired_monitors"] == ["score"]
    assert [m["metric"] for m in payload["windows"][0]["top_metrics"]] == ["psi"]
    band = {"monitor": "performance", "metric": "expected_auc", "value": 0.7, "low": 0.8,
            "high": 0.9, "fired": True}  # fmt: skip
    hot["metrics"] = [band, *hot["metrics"], {**hot["metrics"][0], "metric": "x", "value": 0.5}]
    payload = alert_payload([hot], level="alert", model="pd", model_version="7", run_id=3, store="")
    top = payload["windows"][0]["top_metrics"]
    assert [m["metric"] for m in top] == ["x", "psi", "expected_auc"]
    assert (top[2]["low"], top[2]["high"], top[2]["threshold"]) == (0.8, 0.9, None)
    below = alert_payload([calm], level="alert", model="pd", model_version="7", run_id=3, store="")
    assert below is None


def test_no_post_below_the_level(work):
    with webhook(200) as (url, hook):
        result = check(work, "calm", "--alert-webhook", url, "--format", "json", *QUICK)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["severity"] == "ok"
        assert hook.requests == []
        # The same calm window alerts once the level is ok: the level decides, not the window.
        again = check(work, "calm", "--alert-webhook", url, "--alert-on", "ok", *QUICK)
    assert again.exit_code == 0, again.output
    assert len(hook.requests) == 1
    assert json.loads(hook.requests[0]["body"])["level"] == "ok"


def test_every_webhook_gets_the_summary(work):
    with webhook(200) as (first, one), webhook(200) as (second, two):
        result = check(work, "shifted", "--alert-webhook", first, "--alert-webhook", second)
    assert result.exit_code == 0, result.output
    assert len(one.requests) == len(two.requests) == 1
    assert one.requests[0]["body"] == two.requests[0]["body"]


# --- delivery: retries, deadline, errors ---------------------------------------------------------


def test_two_server_errors_then_success_take_three_attempts():
    with webhook(500, 500, 200) as (url, hook):
        delivery = post_json(url, {"x": 1}, backoff=0.01)
    assert delivery == _alerts.Delivery(ok=True, attempts=3, status=200)
    assert len(hook.requests) == 3
    assert {r["body"] for r in hook.requests} == {b'{"x": 1}'}


@pytest.mark.parametrize("status", [429, 502, 503])
def test_rate_limits_and_server_errors_are_retried(status):
    with webhook(status, 204) as (url, hook):
        delivery = post_json(url, {}, backoff=0.01)
    assert delivery.ok and delivery.attempts == 2 and len(hook.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_client_errors_are_not_retried(status):
    with webhook(status) as (url, hook):
        delivery = post_json(url, {}, attempts=5, backoff=0.01)
    assert not delivery.ok
    assert (delivery.attempts, delivery.status, len(hook.requests)) == (1, status, 1)
    assert str(status) in delivery.error


def test_a_redirect_is_reported_not_followed_as_a_get():
    with webhook(302) as (url, hook):
        delivery = post_json(url, {}, backoff=0.01)
    assert not delivery.ok and delivery.status == 302 and delivery.attempts == 1
    assert [r["method"] for r in hook.requests] == ["POST"]
    assert "/moved" in delivery.error


def test_a_refused_connection_is_retried_then_reported(closed_port):
    delivery = post_json(f"http://127.0.0.1:{closed_port}/", {}, attempts=3, backoff=0.01)
    assert not delivery.ok and delivery.status is None and delivery.attempts == 3
    assert "refused" in delivery.error.lower()


def test_a_silent_server_is_abandoned_at_the_deadline(silent_server):
    # Twenty attempts of 0.4 s would take 8 s; the 1 s deadline stops them after two or three.
    delivery = post_json(silent_server, {}, timeout=0.4, attempts=20, backoff=0, deadline=1.0)
    assert not delivery.ok and delivery.status is None
    assert 1 <= delivery.attempts < 20
    assert "deadline" in delivery.error


def test_a_hanging_attempt_is_cut_at_its_timeout(monkeypatch):
    # A DNS lookup is not bounded by the socket timeout: the attempt itself must be.
    release = threading.Event()

    def stuck(url, body, timeout):
        release.wait(30)
        return 200, None

    monkeypatch.setattr(_alerts, "_send", stuck)
    try:
        delivery = post_json("http://hooks.invalid/", {}, timeout=0.2, attempts=2, backoff=0.01)
    finally:
        release.set()
    assert not delivery.ok and delivery.attempts == 2
    assert "no answer within" in delivery.error


def test_bad_schedules_are_config_errors():
    for bad in ({"timeout": 0}, {"deadline": -1}, {"backoff": -0.5}, {"attempts": 0}):
        with pytest.raises(ConfigError):
            post_json("http://127.0.0.1/", {}, **bad)


def test_a_failed_delivery_warns_and_keeps_the_exit_code_and_the_windows(work):
    with webhook(500) as (url, hook):
        secret = f"{url}?token=s3cret"
        result = check(work, "shifted", "--alert-webhook", secret, *QUICK)
    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 3  # the default attempts
    warning = " ".join(result.stderr.split())
    assert "warning:" in warning and "HTTP 500" in warning and "3 attempt(s)" in warning
    assert mask_url(secret) in warning and "s3cret" not in result.output
    assert stored(work)["window"].tolist() == ["shifted"]
    assert "shifted" in result.stdout  # the table was printed first


def test_a_refused_webhook_does_not_fail_the_run(work, closed_port):
    url = f"http://127.0.0.1:{closed_port}/hook"
    result = check(work, "shifted", "--alert-webhook", url, "--fail-on", "critical", *QUICK)
    assert result.exit_code == EXIT_SEVERITY, result.output  # from --fail-on, not the webhook
    assert "refused" in result.stderr.lower() and url in result.stderr
    assert stored(work)["window"].tolist() == ["shifted"]


# --- exit codes and usage errors -----------------------------------------------------------------


def test_fail_on_exits_3_after_printing_storing_and_alerting(work):
    with webhook(200) as (url, hook):
        result = check(
            work, "shifted", "--fail-on", "alert", "--alert-webhook", url, "--format", "json"
        )
    assert result.exit_code == EXIT_SEVERITY == 3, result.output
    assert json.loads(result.stdout)["severity"] == "critical"
    assert len(hook.requests) == 1
    assert stored(work)["window"].tolist() == ["shifted"]


def test_fail_on_exits_0_below_the_level(work):
    calm = check(work, "calm", "--fail-on", "watch")
    assert calm.exit_code == 0, calm.output
    assert "calm" in calm.stdout
    # Without --fail-on, no severity fails the run.
    assert check(work, "shifted").exit_code == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--alert-webhook", "ftp://alerts.example.com/x"], "http or https"),
        (["--alert-webhook", "alerts.example.com/hook"], "http or https"),
        (["--alert-webhook", "file:///etc/passwd"], "http or https"),
        (["--alert-webhook", "https:///no-host"], "http or https"),
        (["--alert-on", "severe"], "--alert-on"),
        (["--fail-on", "bad"], "--fail-on"),
    ],
)
def test_bad_alert_options_are_usage_errors_that_store_nothing(work, args, needle):
    before = (work / "monitor.json").read_bytes()
    result = check(work, "shifted", *args)
    assert result.exit_code == _ui.EXIT_BAD_INPUT, result.output
    assert needle in " ".join(result.output.split())
    assert stored(work) is None
    assert (work / "monitor.json").read_bytes() == before


def test_a_bad_url_hides_its_password_in_the_error(work):
    result = check(work, "shifted", "--alert-webhook", "ftp://bot:hunter2@example.com/x")
    assert result.exit_code == _ui.EXIT_BAD_INPUT
    assert "hunter2" not in result.output and "bot:***@example.com" in result.output


def test_cli_defaults_are_the_module_defaults():
    group = typer.main.get_command(app).commands["monitor"]
    defaults = {p.name: p.default for p in group.commands["check"].params}
    assert defaults["alert_timeout"] == _alerts.DEFAULT_TIMEOUT
    assert defaults["alert_attempts"] == _alerts.DEFAULT_ATTEMPTS
    assert defaults["alert_backoff"] == _alerts.DEFAULT_BACKOFF
    assert defaults["alert_deadline"] == _alerts.DEFAULT_DEADLINE
    assert defaults["alert_on"] == "alert" and defaults["fail_on"] is None


# --- levels and URLs -----------------------------------------------------------------------------


def test_reaches_follows_the_severity_order():
    for severity, level in itertools.product(SEVERITIES, repeat=2):
        assert reaches(severity, level) == (SEVERITIES.index(severity) >= SEVERITIES.index(level))
    with pytest.raises(InputError, match="level must be one of"):
        reaches("alert", "severe")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com/labelwise", "https://hooks.example.com/labelwise"),
        ("https://u:pw@example.com/h?key=abc&x=1", "https://u:***@example.com/h?key=***&x=***"),
        (
            "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUv",
            "https://discord.com/api/webhooks/***/***",
        ),
        ("http://127.0.0.1:8080/hook#frag", "http://127.0.0.1:8080/hook"),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


@pytest.mark.parametrize("url", ["http://[::1", "http://x:99999/h"])
def test_a_webhook_url_that_does_not_parse_is_a_usage_error(url):
    with pytest.raises(ConfigError, match="not an http or https URL"):
        _alerts.check_url(url)
    assert "***" in mask_url(url) or url.startswith("http://x")
