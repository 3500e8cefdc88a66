"""``labelwise monitor`` and ``labelwise serve``, driven through typer's test runner."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labelwise.cli import _ui
from labelwise.cli import serve as serve_module
from labelwise.cli.monitor import monitor_app, parse_every, split_windows
from labelwise.cli.serve import serve_command
from labelwise.monitor.store import MonitorStore

#: The commands as the root app mounts them, with the root's error boundary.
app = typer.Typer(cls=_ui.LabelwiseGroup)
app.add_typer(monitor_app, name="monitor")
app.command("serve")(serve_command)

WEEKS = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def credit_frame(n: int, seed: int, shift: float = 0.0, days: float = 28.0) -> pd.DataFrame:
    """Scores from a logistic model of one numeric feature, a categorical one, outcomes, times."""
    rng = np.random.default_rng(seed)
    income = rng.normal(shift, 1.0, n)
    score = 1 / (1 + np.exp(-(income - 1.5)))
    return pd.DataFrame(
        {
            "score": score,
            "income": income,
            "channel": rng.choice(["online", "branch", "broker"], n),
            "bad": rng.binomial(1, score),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, days, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A folder holding ref.csv and a monitor fitted on it by ``labelwise monitor fit``."""
    folder = tmp_path_factory.mktemp("fitted")
    credit_frame(2000, 0).drop(columns="ts").to_csv(folder / "ref.csv", index=False)
    result = invoke(
        "monitor", "fit", folder / "ref.csv", "--score", "score", "--label", "bad",
        "--features", "income,channel", "--cutoff", "0.3", "--model", "credit",
        "--model-version", "2", "--out", folder / "monitor.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "credit" in result.stdout and "reference hash" in result.stdout
    return folder


@pytest.fixture
def work(fitted, tmp_path):
    """A fresh copy of the fitted monitor (checks update it) and window files beside it."""
    shutil.copy(fitted / "monitor.json", tmp_path / "monitor.json")
    credit_frame(600, 1, shift=1.0).drop(columns="ts").to_parquet(tmp_path / "w1.parquet")
    credit_frame(1200, 2).to_csv(tmp_path / "weeks.csv", index=False)
    return tmp_path


def stored_windows(folder) -> pd.DataFrame | None:
    """The windows of the store beside monitor.json (None when no store was created)."""
    if not (folder / "monitor.db").exists():
        return None
    with MonitorStore(folder / "monitor.db", create=False) as store:
        return store.windows("credit")


def test_fit_check_split_verify_and_tamper(work):
    monitor = work / "monitor.json"
    single = invoke("monitor", "check", monitor, work / "w1.parquet")
    assert single.exit_code == 0, single.output
    assert "w1" in single.stdout and "composite" in single.stdout
    assert any(level in single.stdout for level in ("watch", "warn", "alert", "critical"))

    split = invoke(
        "monitor", "check", monitor, work / "weeks.csv", "--time-column", "ts", "--every", "7d"
    )
    assert split.exit_code == 0, split.output
    for week in WEEKS:
        assert week in split.stdout
    windows = stored_windows(work)
    # Ids are the period starts; the store lists windows without a start (w1) last.
    assert windows["window"].tolist() == [*WEEKS, "w1"]
    assert windows["n_rows"].iloc[:4].sum() == 1200

    verified = invoke("monitor", "verify", monitor)
    assert verified.exit_code == 0, verified.output
    with MonitorStore(work / "monitor.db", create=False) as store:
        head = store.head()
        metric_id = int(store.metrics("credit", window=WEEKS[1])["window_pk"].iloc[0]) + 1
    assert "intact" in verified.stdout and head in verified.stdout
    assert invoke("monitor", "verify", "--db", work / "monitor.db").exit_code == 0

    # Someone with write access drops the append-only trigger and edits a stored metric.
    with sqlite3.connect(work / "monitor.db") as conn:
        conn.execute("DROP TRIGGER metrics_no_update")
        conn.execute("UPDATE metrics SET value = 0.0 WHERE id = ?", (metric_id,))
    broken = invoke("monitor", "verify", monitor)
    assert broken.exit_code == 1, broken.output
    assert f"metrics row {metric_id}" in broken.output
    assert "Traceback" not in broken.output


def test_json_lines_parse(work):
    result = invoke(
        "monitor", "check", work / "monitor.json", work / "weeks.csv",
        "--time-column", "ts", "--every", "14d", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["window"] for line in lines] == ["2024-01-01", "2024-01-15"]
    for line in lines:
        assert 0.0 <= line["composite"] <= 1.0
        assert line["severity"] in ("ok", "watch", "warn", "alert", "critical")
        assert {m["monitor"] for m in line["metrics"]} >= {"score", "features", "performance"}


def test_window_id_and_hourly_split(work):
    named = invoke(
        "monitor", "check", work / "monitor.json", work / "w1.parquet", "--window-id", "june"
    )
    assert named.exit_code == 0, named.output
    assert stored_windows(work)["window"].tolist() == ["june"]
    frame = credit_frame(300, 3, days=0.25)  # six hours
    frame.to_csv(work / "hours.csv", index=False)
    hourly = invoke(
        "monitor", "check", work / "monitor.json", work / "hours.csv",
        "--time-column", "ts", "--every", "2h", "--format", "json",
    )  # fmt: skip
    assert hourly.exit_code == 0, hourly.output
    ids = [json.loads(line)["window"] for line in hourly.stdout.splitlines()]
    assert ids == ["2024-01-01T00:00", "2024-01-01T02:00", "2024-01-01T04:00"]


def _missing_feature(folder):
    credit_frame(200, 4).drop(columns="income").to_csv(folder / "bad.csv", index=False)
    return [folder / "bad.csv"], "income"


def _score_out_of_range(folder):
    frame = credit_frame(400, 5)
    frame.loc[frame["ts"].idxmax(), "score"] = 1.7  # in the last week only
    frame.to_csv(folder / "bad.csv", index=False)
    return [folder / "bad.csv", "--time-column", "ts", "--every", "7d"], "1.7"


def _empty_window(folder):
    credit_frame(5, 6).iloc[:0].to_csv(folder / "bad.csv", index=False)
    return [folder / "bad.csv"], "no rows"


def _unknown_file(folder):
    return [folder / "nowhere.csv"], "window file"


def _bad_every(folder):
    return [folder / "weeks.csv", "--time-column", "ts", "--every", "fortnightly"], "--every"


def _bad_time_column(folder):
    return [folder / "weeks.csv", "--time-column", "channel", "--every", "7d"], "channel"


@pytest.mark.parametrize(
    "case",
    [
        _missing_feature,
        _score_out_of_range,
        _empty_window,
        _unknown_file,
        _bad_every,
        _bad_time_column,
    ],
)
def test_bad_input_exits_2_and_stores_nothing(work, case):
    monitor = work / "monitor.json"
    assert invoke("monitor", "check", monitor, work / "w1.parquet").exit_code == 0
    before = monitor.read_bytes()
    with MonitorStore(work / "monitor.db", create=False) as store:
        head = store.head()
    args, needle = case(work)
    result = invoke("monitor", "check", monitor, *args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and needle in result.output
    assert "Traceback" not in result.output
    with MonitorStore(work / "monitor.db", create=False) as store:
        assert store.head() == head  # not one row was appended
    assert monitor.read_bytes() == before  # nor was the monitor's state advanced


def test_jobs_change_the_speed_not_the_results_nor_the_monitor_file(work):
    shutil.copy(work / "monitor.json", work / "twin.json")
    lines = {}
    for jobs, name in ((1, "monitor"), (2, "twin")):
        result = invoke(
            "monitor", "check", work / f"{name}.json", work / "weeks.csv", "--time-column", "ts",
            "--every", "7d", "--format", "json", "--jobs", jobs, "--db", work / f"{name}.db",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        lines[jobs] = [json.loads(line) for line in result.stdout.splitlines()]
        assert json.loads((work / f"{name}.json").read_text())["params"]["n_jobs"] is None
    assert lines[1] == lines[2] and len(lines[1]) == 4
    zero = invoke("monitor", "check", work / "monitor.json", work / "w1.parquet", "--jobs", 0)
    assert zero.exit_code == 2 and "--jobs" in zero.output


def test_bad_input_on_a_fresh_monitor_creates_no_store(work):
    args, _ = _missing_feature(work)
    result = invoke("monitor", "check", work / "monitor.json", *args)
    assert result.exit_code == 2
    assert stored_windows(work) is None


def test_usage_errors(work):
    monitor = work / "monitor.json"
    assert invoke("monitor", "check", monitor, work / "weeks.csv", "--every", "7d").exit_code == 2
    xml = invoke("monitor", "check", monitor, work / "w1.parquet", "--format", "xml")
    assert xml.exit_code == 2
    assert invoke("monitor", "verify").exit_code == 2
    missing = invoke("monitor", "verify", "--db", work / "absent.db")
    assert missing.exit_code == 2 and "error:" in missing.output
    assert not (work / "absent.db").exists()
    unknown = invoke("monitor", "check", work / "nope.json", work / "w1.parquet")
    assert unknown.exit_code == 2 and "does not exist" in unknown.output
    bad_cutoff = invoke(
        "monitor", "fit", work / "weeks.csv", "--score", "score", "--cutoff", "1.5",
        "--out", work / "m.json",
    )  # fmt: skip
    assert bad_cutoff.exit_code == 2 and "cutoff" in bad_cutoff.output


def test_reconcile_stores_the_gap(work):
    monitor = work / "monitor.json"
    assert invoke("monitor", "check", monitor, work / "w1.parquet").exit_code == 0
    labels = pd.read_parquet(work / "w1.parquet")[["score", "bad"]]
    labels.to_csv(work / "labels.csv", index=False)
    result = invoke("monitor", "reconcile", monitor, "w1", work / "labels.csv", "--label", "bad")
    assert result.exit_code == 0, result.output
    assert "bad_rate" in result.stdout and "auc" in result.stdout
    assert "P(Y|X)" in result.stdout
    with MonitorStore(work / "monitor.db", create=False) as store:
        recon = store.reconciliations("credit")
        assert set(recon["metric"]) >= {"bad_rate", "auc"}
        assert (recon["window"] == "w1").all()
        assert store.verify().ok
    unknown = invoke("monitor", "reconcile", monitor, "w9", work / "labels.csv")
    assert unknown.exit_code == 2 and "w9" in unknown.output


def test_split_windows_and_every():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-31", "2024-02-02", "2024-03-05"])})
    months = split_windows(frame, "t", "MS")
    assert [w.window_id for w in months] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert months[0].end.startswith("2024-02-01")
    assert pd.Timestamp("2024-01-01") + parse_every("30d") == pd.Timestamp("2024-01-31")


def test_serve_binds_loopback_by_default(monkeypatch, work):
    pytest.importorskip("uvicorn")
    assert invoke("monitor", "check", work / "monitor.json", work / "w1.parquet").exit_code == 0
    calls = {}

    def fake_run(app, host, port, **kwargs):
        calls.update(app=app, host=host, port=port)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = invoke("serve", "--db", work / "monitor.db", "--port", "8765")
    assert result.exit_code == 0, result.output
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8765
    assert "http://127.0.0.1:8765/" in result.output
    exposed = invoke("serve", "--db", work / "monitor.db", "--host", "0.0.0.0")
    assert exposed.exit_code == 0 and "no authentication" in exposed.output
    monkeypatch.chdir(work)  # without --db: monitor.db in the current directory
    assert invoke("serve").exit_code == 0
    assert "monitor.db" in invoke("serve").output
    absent = invoke("serve", "--db", work / "absent.db")
    assert absent.exit_code == 2 and "error:" in absent.output
    assert serve_module.is_loopback("::1")


def test_postgres_store_and_dashboard(work, postgres_url):
    from fastapi.testclient import TestClient

    from labelwise.monitor.dashboard import create_app

    monitor = work / "monitor.json"
    result = invoke(
        "monitor", "check", monitor, work / "weeks.csv",
        "--time-column", "ts", "--every", "7d", "--db", postgres_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ":labelwise@" not in result.stdout  # the password is masked
    assert invoke("monitor", "verify", "--db", postgres_url).exit_code == 0
    with TestClient(create_app(postgres_url)) as client:
        windows = client.get("/api/models/credit").json()["windows"]
        assert [w["window"] for w in windows] == WEEKS
        assert client.get("/models/credit").status_code == 200
