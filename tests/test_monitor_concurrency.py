"""Concurrent `labelwise monitor check` runs on one monitor file lose no window, fork no state."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from labelwise.cli import app
from labelwise.errors import InputError
from labelwise.monitor import Monitor
from labelwise.monitor.store import MonitorStore, verify_store
from tests.test_monitor_cli import credit_frame

PROCESSES = 6


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def credit(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """The command-line tests' credit rows, without their times."""
    return credit_frame(n, seed, shift).drop(columns="ts")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "monitor.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def fitted(tmp_path):
    credit(4000, 0).to_csv(tmp_path / "reference.csv", index=False)
    monitor = tmp_path / "monitor.json"
    result = invoke(
        "monitor", "fit", tmp_path / "reference.csv", "--score", "score", "--label", "bad",
        "--model", "credit", "--out", monitor,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for i in range(PROCESSES):
        credit(800, 10 + i, shift=0.8 * (i % 3)).to_csv(tmp_path / f"w{i}.csv", index=False)
    return monitor


def _check(monitor, window, url) -> subprocess.Popen:
    code = "from labelwise.cli import main; main()"
    args = ["monitor", "check", str(monitor), str(window), "--db", url, "--format", "json"]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.slow
def test_concurrent_checks_keep_every_window_and_one_state(fitted, store_url):
    before = hashlib.sha256(fitted.read_bytes()).hexdigest()
    runs = [_check(fitted, fitted.parent / f"w{i}.csv", store_url) for i in range(PROCESSES)]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err.decode()
    # The monitor file holds the configuration only: no run rewrites it.
    assert hashlib.sha256(fitted.read_bytes()).hexdigest() == before
    assert verify_store(store_url).ok
    monitor = Monitor.from_json(fitted)
    with MonitorStore(store_url, create=False) as store:
        stored = store.windows("credit").sort_values("window_pk")
        state = store.state("credit", monitor.config_hash)
    assert sorted(stored["window"]) == sorted(f"w{i}" for i in range(PROCESSES))
    # Every run resumed the state the run before it left: replaying the composites in the order
    # the store holds them gives the stored severities, and the state the store ends with.
    results = [{"composite": c, "details": {}} for c in stored["composite"]]
    replayed, last = monitor.resume_severity(results, None)
    assert [r["severity"] for r in replayed] == stored["severity"].tolist()
    assert last == state
    assert len(set(stored["severity"])) > 1  # shifted and quiet windows: the replay can differ


def test_reconcile_reads_the_estimates_from_the_store(fitted, tmp_path):
    url = str(tmp_path / "monitor.db")
    assert invoke("monitor", "check", fitted, tmp_path / "w1.csv", "--db", url).exit_code == 0
    # A crash after the store's commit used to lose the window: the estimates lived in the
    # monitor file, saved afterwards. The file is never rewritten now, and reconcile reads the
    # window from the store.
    result = invoke("monitor", "reconcile", fitted, "w1", tmp_path / "w1.csv", "--db", url)
    assert result.exit_code == 0, result.output
    with MonitorStore(url, create=False) as store:
        assert set(store.reconciliations("credit")["metric"]) >= {"bad_rate", "auc"}


def test_reconcile_refuses_a_window_of_another_configuration(fitted, tmp_path):
    url = str(tmp_path / "monitor.db")
    assert invoke("monitor", "check", fitted, tmp_path / "w1.csv", "--db", url).exit_code == 0
    other = tmp_path / "other.json"
    credit(4000, 1).to_csv(tmp_path / "reference2.csv", index=False)
    result = invoke(
        "monitor", "fit", tmp_path / "reference2.csv", "--score", "score", "--label", "bad",
        "--model", "credit", "--cutoff", "0.3", "--out", other,
    )  # fmt: skip
    assert result.exit_code == 0
    result = invoke("monitor", "reconcile", other, "w1", tmp_path / "w1.csv", "--db", url)
    assert result.exit_code == 2 and "another monitor configuration" in result.output


def test_reconcile_picks_the_window_its_own_configuration_checked(fitted, tmp_path):
    url = str(tmp_path / "monitor.db")
    other = tmp_path / "other.json"
    result = invoke(
        "monitor", "fit", tmp_path / "reference.csv", "--score", "score", "--label", "bad",
        "--model", "credit", "--cutoff", "0.3", "--out", other,
    )  # fmt: skip
    assert result.exit_code == 0
    for monitor in (fitted, other):  # the other configuration checks the same window last
        assert invoke("monitor", "check", monitor, tmp_path / "w1.csv", "--db", url).exit_code == 0
    result = invoke("monitor", "reconcile", fitted, "w1", tmp_path / "w1.csv", "--db", url)
    assert result.exit_code == 0, result.output


def test_a_reconciliation_run_lands_whole_or_not_at_all(tmp_path, monkeypatch):
    from labelwise.monitor import store as store_module

    real_insert = store_module._insert

    def failing(conn, table, rows):
        if table.name == "reconciliations":
            raise RuntimeError("disk unplugged")
        real_insert(conn, table, rows)

    provenance = {"model": "m", "model_version": "1", "reference_hash": "r", "config_hash": "c"}
    good = {"metric": "auc", "estimated": 0.8, "realized": 0.7, "gap": -0.1, "low": 0.75,
            "high": 0.85, "inside_band": False}  # fmt: skip
    with MonitorStore(tmp_path / "m.db") as store:
        before = store.head()
        with pytest.raises(InputError):
            store.record_run(**provenance, reconciliation=("w1", [{**good, "realized": "high"}]))
        monkeypatch.setattr(store_module, "_insert", failing)
        with pytest.raises(RuntimeError, match="disk unplugged"):
            store.record_run(**provenance, reconciliation=("w1", [good]))
        # Neither the run nor its rows: the run used to be written in a transaction of its own.
        assert store.head() == before and store.models().empty
        monkeypatch.setattr(store_module, "_insert", real_insert)
        store.record_run(**provenance, reconciliation=("w1", [good]))
        rows = store.reconciliations("m")
        assert rows["metric"].tolist() == ["auc"] and rows["run_id"].tolist() == [1]
        assert store.verify().ok
