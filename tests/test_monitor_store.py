"""The monitor store: round trips, the hash chain, append-only guards, atomic and concurrent writes.

The core tests run on a SQLite file and on PostgreSQL (skipped when no server is available).
Tampering is done the way an operator with direct database access would: triggers dropped,
foreign keys off, then plain SQL.
"""

from __future__ import annotations

import importlib.util
import json
import math
import multiprocessing
import os
import sqlite3
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from labelwise.errors import ConfigError, DataFileError, InputError, LabelwiseError
from labelwise.monitor import store as store_module
from labelwise.monitor._chain import GENESIS, canonical_json, row_hash
from labelwise.monitor.store import (
    ChainReport,
    MonitorStore,
    StoreError,
    default_store_url,
    verify_store,
)

TABLES = ("runs", "windows", "metrics", "composites", "reconciliations")


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_database():
    """One PostgreSQL database for the module; each test gets its own schema in it (fast)."""
    admin = os.environ.get("LABELWISE_TEST_POSTGRES_URL")
    if not admin:
        message = "PostgreSQL (LABELWISE_TEST_POSTGRES_URL) is not available here"
        if os.environ.get("LABELWISE_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = f"lw_store_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "monitor.db")
    database = request.getfixturevalue("pg_database")
    schema = f"s_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    in_schema = database.update_query_dict({"options": f"-csearch_path={schema}"})
    return in_schema.render_as_string(hide_password=False)


@pytest.fixture
def store(url):
    opened = MonitorStore(url)
    yield opened
    opened.close()


def make_result(window: str = "2026-W01", severity: str = "ok", n_metrics: int = 3) -> dict:
    metrics = [
        {
            "monitor": "score",
            "metric": f"psi_{i}",
            "value": 0.1 + 0.2 * i,  # 0.30000000000000004: needs an exact float round trip
            "threshold": 1 / 3,
            "low": None,
            "high": 1e-300,
            "fired": i % 2 == 0,
        }
        for i in range(n_metrics)
    ]
    return {
        "window": window,
        "start": "2026-01-05T00:00:00+00:00",
        "end": "2026-01-12T00:00:00+00:00",
        "n_rows": 1234,
        "composite": 0.583,
        "severity": severity,
        "metrics": metrics,
        "details": {"bins": [0.1, 0.25], "note": "é", "nested": {"k": [1, None]}},
    }


def new_run(store: MonitorStore, model: str = "credit") -> int:
    return store.record_run(
        model=model,
        model_version="3",
        reference_hash="ref-abc",
        config_hash="cfg-123",
        config={"weights": {"score": 0.1, "features": 0.2}},
    )


def filled(store: MonitorStore) -> dict:
    """A run, three windows (3 metrics each) and a reconciliation: 1 + 3 * 5 + 2 = 18 rows."""
    run = new_run(store)
    windows = [
        store.record_window(run, make_result(f"2026-W0{i}", severity))
        for i, severity in enumerate(["ok", "warn", "critical"], start=1)
    ]
    recon = store.record_reconciliation(run, "2026-W01", [recon_row("auc"), recon_row("bad")])
    return {"run": run, "windows": windows, "recon": recon, "rows": 18}


def recon_row(metric: str) -> dict:
    return {
        "metric": metric,
        "estimated": 0.81,
        "realized": 0.74,
        "gap": 0.81 - 0.74,
        "low": 0.78,
        "high": 0.84,
        "inside_band": False,
    }


def row_ids(store: MonitorStore, table: str) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.exec_driver_sql(f"SELECT id FROM {table} ORDER BY id").scalars())


def count(store: MonitorStore, table: str) -> int:
    return len(row_ids(store, table))


def tamper(store: MonitorStore, sql: str, **params) -> None:
    """Run ``sql`` as an operator who first drops the triggers and switches foreign keys off."""
    if store.url.get_backend_name() == "sqlite":
        con = sqlite3.connect(store.url.database)
        names = con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for (name,) in names:
            con.execute(f"DROP TRIGGER {name}")
        con.execute(sql, params)
        con.commit()
        con.close()
        return
    engine = sa.create_engine(store.url)
    with engine.begin() as conn:
        triggers = conn.exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).all()
        for name, table in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {name} ON {table}")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # foreign keys off
        conn.execute(sa.text(sql), params)
    engine.dispose()


def rehash(store: MonitorStore, table: str, row_id: int, change) -> None:
    """Edit a row's payload and recompute its own row_hash, as a careful forger would."""
    with store.engine.connect() as conn:
        payload, prev = conn.execute(
            sa.text(f"SELECT payload, prev_hash FROM {table} WHERE id = :id"), {"id": row_id}
        ).one()
    content = json.loads(payload)
    change(content)
    new = canonical_json(content)
    tamper(
        store,
        f"UPDATE {table} SET payload = :p, row_hash = :h WHERE id = :id",
        p=new,
        h=row_hash(prev, new),
        id=row_id,
    )


def assert_bad(report: ChainReport, table: str | None, row_id: int, *words: str) -> None:
    assert not report.ok and not report
    assert report.first_bad["table"] == table, report
    assert report.first_bad["id"] == row_id, report
    for word in words:
        assert word in report.first_bad["reason"], report
    assert str(report).startswith("chain BROKEN at ")


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip(store):
    run = new_run(store)
    result = make_result("2026-W02", "alert")
    result["metrics"].append(
        {"monitor": "entropy", "metric": "mean", "value": float("nan"), "fired": np.bool_(True)}
    )
    result["details"]["numpy"] = np.array([0.5, np.inf])
    earlier = make_result("2026-W01", "ok")
    earlier["start"], earlier["end"] = "2025-12-29", None
    pk2 = store.record_window(run, result)
    pk1 = store.record_window(run, earlier)
    store.record_reconciliation(run, "2026-W02", [recon_row("auc")])

    windows = store.windows("credit")
    assert windows["window"].tolist() == ["2026-W01", "2026-W02"]  # window order, not write order
    assert windows["window_pk"].tolist() == [pk1, pk2]
    assert windows.columns[:8].tolist() == [
        "run_id", "window", "start", "end", "n_rows", "composite", "severity", "created_at",
    ]  # fmt: skip
    assert windows["composite"].tolist() == [0.583, 0.583]
    assert windows["start"].iloc[1] == pd.Timestamp("2026-01-05", tz="UTC")
    assert pd.isna(windows["end"].iloc[0])

    metrics = store.metrics("credit", window="2026-W02")
    assert metrics.columns[:8].tolist() == [
        "window", "monitor", "metric", "value", "threshold", "low", "high", "fired",
    ]  # fmt: skip
    assert metrics["value"].iloc[1] == 0.1 + 0.2 and metrics["high"].iloc[0] == 1e-300
    assert metrics["threshold"].iloc[0] == 1 / 3
    assert math.isnan(metrics["value"].iloc[-1]) and bool(metrics["fired"].iloc[-1])
    assert len(store.metrics("credit")) == 3 + 4

    detail = store.window_detail("credit", "2026-W02")
    assert detail["severity"] == "alert" and detail["n_rows"] == 1234
    assert detail["metrics"][-1] == {
        "monitor": "entropy", "metric": "mean", "value": None, "threshold": None,
        "low": None, "high": None, "fired": True,
    }  # fmt: skip
    assert detail["details"]["numpy"] == [0.5, None]
    assert detail["details"]["nested"] == {"k": [1, None]}
    assert [r["metric"] for r in detail["reconciliation"]] == ["auc"]
    assert detail["reconciliation"][0]["gap"] == 0.81 - 0.74

    alerts = store.alerts()
    assert alerts["window"].tolist() == ["2026-W02"] and alerts["model"].tolist() == ["credit"]
    models = store.models()
    assert models.to_dict("records") == [
        {
            "model": "credit",
            "model_version": "3",
            "runs": 1,
            "windows": 2,
            "last_window": "2026-W01",
            "last_severity": "ok",
        }
    ]
    recon = store.reconciliations("credit")
    assert recon["realized"].tolist() == [0.74] and recon["inside_band"].tolist() == [False]
    assert store.windows("nobody").empty and store.alerts("nobody").empty


def test_every_row_carries_provenance(store):
    import labelwise

    filled(store)
    with store.engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
            assert rows, table
            for row in rows:
                assert row["model"] == "credit" and row["model_version"] == "3"
                assert row["reference_hash"] == "ref-abc" and row["config_hash"] == "cfg-123"
                assert row["labelwise_version"] == labelwise.__version__
                assert row["created_at"].endswith("+00:00")
                assert row["row_hash"] == row_hash(row["prev_hash"], row["payload"])


# --- verify --------------------------------------------------------------------------------------


def test_verify_ok_and_head(store):
    empty = store.verify()
    assert empty.ok and empty.rows_checked == 0 and store.head() == GENESIS
    info = filled(store)
    report = store.verify()
    assert report.ok and report.first_bad is None and report.rows_checked == info["rows"]
    assert report.head == store.head() and len(store.head()) == 64
    assert str(report) == f"chain ok: {info['rows']} rows, head {store.head()[:12]}"
    assert verify_store(store.url).ok
    first = report.head
    store.record_run(model="credit", model_version="4", reference_hash="r", config_hash="c")
    assert store.verify(known_heads=[first, GENESIS]).ok  # an older head stays in the chain
    ids = sorted(i for t in TABLES for i in row_ids(store, t))
    assert ids == list(range(1, info["rows"] + 2))  # one chain, no gaps, across all tables


EDITS = {
    "runs": ("model_version", "'4'"),
    "windows": ("n_rows", "99"),
    "metrics": ("value", "0.30000000000000004 + 1e-12"),
    "composites": ("severity", "'ok'"),
    "reconciliations": ("realized", "0.9"),
}


@pytest.mark.parametrize("table", TABLES)
def test_verify_detects_edited_column(store, table):
    filled(store)
    target = row_ids(store, table)[-1]
    column, value = EDITS[table]
    tamper(store, f"UPDATE {table} SET {column} = {value} WHERE id = :id", id=target)
    assert_bad(store.verify(), table, target, "disagrees", column)


def test_verify_detects_edited_payload(store):
    info = filled(store)
    target = info["windows"][1]
    with store.engine.connect() as conn:
        payload = conn.execute(
            sa.text("SELECT payload FROM windows WHERE id = :id"), {"id": target}
        ).scalar_one()
    tamper(
        store,
        "UPDATE windows SET payload = :p WHERE id = :id",
        p=payload.replace('"n_rows":1234', '"n_rows":1235'),
        id=target,
    )
    assert_bad(store.verify(), "windows", target, "row_hash does not match")


def test_verify_detects_rehashed_edit_at_next_row(store):
    info = filled(store)
    target = info["windows"][1]
    rehash(store, "windows", target, lambda c: c.update(n_rows=1))
    tamper(store, "UPDATE windows SET n_rows = 1 WHERE id = :id", id=target)
    report = store.verify()
    assert_bad(report, "metrics", target + 1, "prev_hash")
    assert report.rows_checked == target  # rows 1..target-1 and the forged one itself hash fine


def test_verify_detects_deleted_middle_row(store):
    info = filled(store)
    target = row_ids(store, "metrics")[4]
    tamper(store, "DELETE FROM metrics WHERE id = :id", id=target)
    report = store.verify()
    assert_bad(report, "metrics", target + 1, "missing", "deleted")
    assert report.rows_checked == target - 1
    assert not verify_store(store.url).ok
    assert count(store, "metrics") == 3 * 3 - 1 and info["rows"]


def test_verify_detects_deleted_window_with_its_rows(store):
    info = filled(store)
    pk = info["windows"][0]
    for table in ("metrics", "composites"):
        tamper(store, f"DELETE FROM {table} WHERE window_id = :id", id=pk)
    tamper(store, "DELETE FROM windows WHERE id = :id", id=pk)
    assert_bad(store.verify(), "windows", pk + 5, f"positions {pk}..{pk + 4} are missing")


@pytest.mark.parametrize("table", ["reconciliations", "composites"])
def test_verify_detects_deleted_last_rows(store, table):
    info = filled(store)
    if table == "composites":  # the last write is a window: its composite is the last row
        info["rows"] += 5
        new_run_id = info["run"]
        store.record_window(new_run_id, make_result("2026-W04"))
    last = info["rows"]
    assert max(row_ids(store, table)) == last
    tamper(store, f"DELETE FROM {table} WHERE id = :id", id=last)
    report = store.verify()
    assert_bad(report, table, last, "missing", "end")
    assert report.rows_checked == last - 1


def test_verify_and_append_notice_a_deleted_head(tmp_path):
    store = MonitorStore(tmp_path / "m.db")
    info = filled(store)
    tamper(store, "DELETE FROM chain_head")
    assert_bad(store.verify(), "chain_head", 1, "head row is missing")
    with pytest.raises(StoreError, match="lost its chain head"):
        store.record_window(info["run"], make_result())
    store.close()


def test_verify_detects_reordered_rows(store):
    filled(store)
    a, b = row_ids(store, "metrics")[:2]
    for old, new in ((a, -1), (b, a), (-1, b)):  # swap two metric rows' positions
        tamper(store, "UPDATE metrics SET id = :new WHERE id = :old", new=new, old=old)
    assert_bad(store.verify(), "metrics", a, "renumbered or reordered")


def test_verify_detects_forged_rows(store):
    info = filled(store)
    last = info["rows"]
    with store.engine.connect() as conn:
        row = dict(
            conn.execute(sa.text("SELECT * FROM reconciliations WHERE id = :id"), {"id": last})
            .mappings()
            .one()
        )
    # A well-formed row appended behind the store's back: its hash chains, but the head disagrees.
    content = json.loads(row["payload"]) | {"id": last + 1, "realized": 0.99}
    payload = canonical_json(content)
    row.update(
        id=last + 1,
        realized=0.99,
        payload=payload,
        prev_hash=row["row_hash"],
        row_hash=row_hash(row["row_hash"], payload),
    )
    columns = ", ".join(row)
    insert = f"INSERT INTO reconciliations ({columns}) VALUES ({', '.join(':' + c for c in row)})"
    tamper(store, insert, **row)
    assert_bad(store.verify(), "reconciliations", last + 1, "beyond the head")
    # A row slipped into another table at a position already taken.
    tamper(store, "DELETE FROM reconciliations WHERE id = :id", id=last + 1)
    assert store.verify().ok
    row.update(id=3)
    tamper(store, insert, **row)
    assert_bad(store.verify(), "reconciliations", 3, "more than one row")


def test_consistent_rewrite_is_caught_only_by_a_kept_head(tmp_path):
    """The documented limit: rewriting the end of the chain and the head passes verify."""
    store = MonitorStore(tmp_path / "m.db")
    filled(store)
    kept = store.head()
    last = count(store, "runs") + 3 * 5 + 2
    rehash(store, "reconciliations", last, lambda c: c.update(realized=0.5))
    with store.engine.connect() as conn:
        forged = conn.execute(
            sa.text("SELECT row_hash FROM reconciliations WHERE id = :id"), {"id": last}
        ).scalar_one()
    tamper(store, "UPDATE reconciliations SET realized = 0.5 WHERE id = :id", id=last)
    tamper(store, "UPDATE chain_head SET row_hash = :h", h=forged)
    assert store.verify().ok
    assert store.head() != kept  # only the copy kept elsewhere shows the rewrite
    assert_bad(store.verify(known_heads=[kept]), "reconciliations", last, "rewritten")
    assert not verify_store(store.url, known_heads=[kept]).ok
    store.close()


# --- append-only guards --------------------------------------------------------------------------


def test_database_rejects_update_and_delete(store):
    filled(store)
    for sql in (
        "UPDATE windows SET n_rows = 1",
        "DELETE FROM metrics",
        "DELETE FROM chain_head",
        "UPDATE chain_head SET seq = 1",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only|only moves forward|cannot be"):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(sql)
    assert store.verify().ok
    assert not any(hasattr(store, name) for name in ("update", "delete", "delete_window"))


def test_reopening_restores_dropped_triggers(store):
    filled(store)
    tamper(store, "SELECT 1")  # drops every trigger
    MonitorStore(store.url).close()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM metrics")


# --- atomic and concurrent writes ----------------------------------------------------------------


def test_failure_mid_write_leaves_nothing(store, monkeypatch):
    info = filled(store)
    before = {t: count(store, t) for t in TABLES}
    head = store.head()
    real_insert = store_module._insert

    def failing(conn, table, rows):
        if table.name == "composites":  # the window and its metrics are already inserted
            raise RuntimeError("disk unplugged")
        real_insert(conn, table, rows)

    monkeypatch.setattr(store_module, "_insert", failing)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        store.record_window(info["run"], make_result("2026-W09"))
    assert {t: count(store, t) for t in TABLES} == before
    assert store.head() == head and store.verify().ok
    monkeypatch.setattr(store_module, "_insert", real_insert)
    store.record_window(info["run"], make_result("2026-W09"))
    report = store.verify()
    assert report.ok and report.rows_checked == info["rows"] + 5


def test_a_run_with_its_windows_lands_whole_or_not_at_all(store):
    results = [make_result(f"2026-W0{i}") for i in (1, 2)]
    broken = {**make_result("2026-W03"), "severity": "panic"}
    with pytest.raises(InputError, match="severity"):
        store.record_run(
            model="m", model_version="1", reference_hash="r", config_hash="c",
            windows=[*results, broken],
        )  # fmt: skip
    assert all(count(store, t) == 0 for t in TABLES)
    run = store.record_run(
        model="m", model_version="1", reference_hash="r", config_hash="c", windows=results
    )
    assert list(store.windows("m")["run_id"]) == [run, run]
    more = store.record_windows(run, [make_result("2026-W05"), make_result("2026-W06")])
    assert len(more) == 2 and store.record_windows(run, []) == []
    with pytest.raises(InputError):
        store.record_windows(run, [make_result("2026-W07"), broken])
    assert len(store.windows("m")) == 4 and store.verify().ok


def _writer(url: str, barrier, n: int) -> None:
    store = MonitorStore(url)  # opened by all at once: schema creation must not race either
    run = store.record_run(model="credit", model_version="3", reference_hash="r", config_hash="c")
    barrier.wait()
    for i in range(n):
        store.record_window(run, make_result(f"w{run}-{i:02d}", n_metrics=2))
    store.close()


def test_concurrent_writers_build_one_chain(url):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_writer, args=(url, barrier, 20)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    store = MonitorStore(url)
    report = store.verify()
    assert report.ok, report
    assert report.rows_checked == 4 + 80 * 4
    assert len(store.windows("credit")) == 80
    assert store.models()["runs"].tolist() == [4]
    store.close()


# --- bad inputs and bad locations ----------------------------------------------------------------


def _without(key):
    result = make_result()
    del result[key]
    return result


def _with(**changes):
    return make_result() | changes


def _metric(**changes):
    result = make_result()
    result["metrics"][0] |= changes
    return result


BAD_RESULTS = {
    "not a dict": ([1, 2], "must be a dict"),
    "no window": (_without("window"), "lacks window"),
    "no metrics": (_without("metrics"), "lacks metrics"),
    "empty window": (_with(window=" "), "non-empty string"),
    "severity": (_with(severity="panic"), "severity must be one of"),
    "nan composite": (_with(composite=float("nan")), "composite must be"),
    "composite above 1": (_with(composite=1.5), "composite must be"),
    "negative n_rows": (_with(n_rows=-1), "n_rows"),
    "float n_rows": (_with(n_rows=2.5), "n_rows"),
    "bad start": (_with(start="last tuesday"), "ISO 8601"),
    "metrics not a list": (_with(metrics="psi"), "list of dicts"),
    "metric without name": (_metric(metric=None), "metric"),
    "metric text value": (_metric(value="high"), "must be a number"),
    "metric fired 1": (_metric(fired=1), "True, False or None"),
    "metric unknown key": (_metric(pvalue=0.1), "unknown keys"),
    "details not JSON": (_with(details={"when": object()}), "cannot be stored as JSON"),
}


@pytest.mark.parametrize("name", BAD_RESULTS)
def test_bad_results_are_rejected_before_writing(tmp_path, name):
    result, message = BAD_RESULTS[name]
    store = MonitorStore(tmp_path / "m.db")
    run = new_run(store)
    head = store.head()
    with pytest.raises(InputError, match=message):
        store.record_window(run, result)
    assert store.head() == head and count(store, "windows") == 0
    store.close()


def test_other_bad_calls(tmp_path):
    store = MonitorStore(tmp_path / "m.db")
    with pytest.raises(InputError, match="no run 7"):
        store.record_window(7, make_result())
    with pytest.raises(InputError, match="model must be"):
        store.record_run(model="", model_version="1", reference_hash="r", config_hash="c")
    with pytest.raises(InputError, match="config must be a dict"):
        store.record_run(
            model="m", model_version=1, reference_hash="r", config_hash="c", config=[1]
        )
    run = new_run(store)
    with pytest.raises(InputError, match="non-empty list"):
        store.record_reconciliation(run, "w", [])
    with pytest.raises(InputError, match="unknown keys"):
        store.record_reconciliation(run, "w", [{"metric": "auc", "oops": 1}])
    with pytest.raises(InputError, match="no stored window"):
        store.window_detail("credit", "2030-W01")
    assert store.verify().rows_checked == 1
    store.close()


def test_bad_urls_name_the_url_and_hide_the_password(tmp_path):
    if importlib.util.find_spec("psycopg") is not None:  # else: the missing driver is the error
        with pytest.raises(StoreError) as caught:
            MonitorStore("postgresql+psycopg://monitor:s3cret@127.0.0.1:1/prod")
        message = str(caught.value)
        assert "s3cret" not in message and "monitor:***@127.0.0.1:1/prod" in message
        assert "Fix: check that the PostgreSQL server is running" in message
        assert isinstance(caught.value, DataFileError) and isinstance(caught.value, LabelwiseError)
    with pytest.raises(ConfigError, match="supports SQLite and PostgreSQL, not 'mysql'") as caught:
        MonitorStore("mysql://root:hunter2@db/monitor")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot parse") as caught:
        MonitorStore("postgresql://user:pw@host:port/db")
    assert ":pw@" not in str(caught.value)
    missing = tmp_path / "no" / "such" / "folder" / "m.db"
    with pytest.raises(StoreError, match="folder exists and is writable"):
        MonitorStore(missing)


def test_verify_store_needs_an_existing_store(tmp_path):
    with pytest.raises(StoreError, match="no monitor store"):
        verify_store(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(StoreError, match="no chain_head"):
        verify_store(tmp_path / "empty.db")


def test_foreign_tables_are_not_taken_over(tmp_path):
    path = tmp_path / "shared.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metrics (name TEXT)")
    con.close()
    with pytest.raises(ConfigError, match="not a labelwise monitor store"):
        MonitorStore(path)


def test_default_store_url(tmp_path):
    (tmp_path / "monitor.json").write_text("{}")
    url = default_store_url(tmp_path / "monitor.json")
    assert url == f"sqlite:///{(tmp_path / 'monitor.db').as_posix()}"
    assert default_store_url(tmp_path) == url
    with MonitorStore(url) as store:
        new_run(store)
    assert verify_store(url).ok and (tmp_path / "monitor.db").exists()


def test_fresh_postgres_database(postgres_url):
    """The default layout: a database of its own, tables in its public schema."""
    with MonitorStore(postgres_url) as store:
        info = filled(store)
        assert store.verify().rows_checked == info["rows"]
        assert "***" in repr(store) and "labelwise:labelwise" not in repr(store)
    report = verify_store(postgres_url)
    with MonitorStore(postgres_url, create=False) as reopened:
        assert report.ok and report.head == reopened.head()


def test_monitor_result_objects_round_trip(tmp_path):
    """What the Monitor hands over (WindowResult.to_dict, Reconciliation.to_rows) is kept as is."""
    results = pytest.importorskip("labelwise.monitor._results")
    window = results.WindowResult(
        window="2026-W03",
        start=pd.Timestamp("2026-01-12"),
        end=None,
        n_rows=10,
        composite=0.25,
        severity="warn",
        metrics=[results.MetricRow("score", "psi", 0.3, 0.1, fired=True)],
        details={"x": np.float64(1.5)},
    )
    rec = results.Reconciliation(
        window="2026-W03",
        n_labels=10,
        rows=[{"metric": "auc", "estimated": 0.8, "realized": 0.7, "low": 0.75, "high": 0.85,
               "inside_band": False}],
    )  # fmt: skip
    with MonitorStore(tmp_path / "m.db") as store:
        run = new_run(store)
        store.record_window(run, window.to_dict())
        store.record_reconciliation(run, "2026-W03", rec.to_rows())
        detail = store.window_detail("credit", "2026-W03")
        assert detail["metrics"] == [m.to_dict() for m in window.metrics]
        assert detail["start"] == window.to_dict()["start"] and detail["details"] == {"x": 1.5}
        assert detail["reconciliation"][0] | {"run_id": run} == {"run_id": run, **rec.to_rows()[0]}
        assert store.verify().ok


@pytest.mark.parametrize(
    ("start", "stored"),
    [
        (pd.Timestamp("2026-01-05 10:00"), "2026-01-05T10:00:00"),
        (np.datetime64("2026-01-05"), "2026-01-05T00:00:00"),
        ("2026-01", "2026-01"),
        ("2026-01-05T00:00:00Z", "2026-01-05T00:00:00Z"),
    ],
)
def test_window_times_accept_common_forms(tmp_path, start, stored):
    with MonitorStore(tmp_path / "m.db") as store:
        store.record_window(new_run(store), make_result() | {"start": start})
        assert store.window_detail("credit", "2026-W01")["start"] == stored
        assert store.windows("credit")["start"].notna().all()


# --- state written in the same transaction as the windows -----------------------------------------


def counting_step(state: dict | None, n_windows: int = 2, tag: str = "") -> tuple[list, dict]:
    """A toy monitor: names its windows by a counter it keeps in the state."""
    seen = 0 if state is None else state["seen"]
    windows = [make_result(f"n{seen + i:04d}{tag}", n_metrics=1) for i in range(n_windows)]
    return windows, {"seen": seen + n_windows, "history": [seen]}


def test_step_state_is_kept_with_the_last_window(store):
    assert store.state("credit", "cfg-123") is None
    kwargs = {"model": "credit", "model_version": "3", "reference_hash": "r"}
    seen = []

    def step(state):
        seen.append(state)
        return counting_step(state)

    first = store.record_run(**kwargs, config_hash="cfg-123", step=step)
    store.record_run(**kwargs, config_hash="cfg-123", step=step)
    assert seen == [None, {"seen": 2, "history": [0]}]
    assert store.state("credit", "cfg-123") == {"seen": 4, "history": [2]}
    assert store.state("credit", "other-config") is None  # state belongs to one configuration
    assert store.state("fraud", "cfg-123") is None
    assert store.windows("credit")["window"].tolist() == ["n0000", "n0001", "n0002", "n0003"]
    # Only the last window of each run carries the state; it is part of the chained payload.
    assert "state" not in store.window_detail("credit", "n0000")
    assert store.window_detail("credit", "n0001")["state"] == {"seen": 2, "history": [0]}
    assert store.window_detail("credit", "n0001")["run_id"] == first
    assert store.verify().ok
    last = max(row_ids(store, "windows"))
    rehash(store, "windows", last, lambda c: c["state"].update(seen=0))
    assert_bad(store.verify(), "metrics", last + 1, "prev_hash")


def test_a_failing_step_writes_nothing(store):
    new_run(store)
    head = store.head()
    kwargs = {"model": "credit", "model_version": "3", "reference_hash": "r", "config_hash": "c"}

    def broken(state):
        raise RuntimeError("the monitor failed")

    with pytest.raises(RuntimeError, match="the monitor failed"):
        store.record_run(**kwargs, step=broken)
    bad_window = lambda state: ([make_result(severity="panic")], {"seen": 1})  # noqa: E731
    with pytest.raises(InputError, match="severity must be one of"):
        store.record_run(**kwargs, step=bad_window)
    with pytest.raises(InputError, match="cannot be stored as JSON"):
        store.record_run(**kwargs, step=lambda state: ([make_result()], {"x": object()}))
    with pytest.raises(InputError, match="state but no windows"):
        store.record_run(**kwargs, step=lambda state: ([], {"seen": 0}))
    with pytest.raises(InputError, match="pair"):
        store.record_run(**kwargs, step=lambda state: [make_result()])
    with pytest.raises(InputError, match="not both"):
        store.record_run(**kwargs, windows=[make_result()], step=counting_step)
    assert store.head() == head and count(store, "runs") == 1 and count(store, "windows") == 0
    assert store.verify().ok


def _stepping_writer(url: str, barrier, worker: int, runs: int) -> None:
    store = MonitorStore(url)
    barrier.wait()
    for _ in range(runs):
        store.record_run(
            model="credit",
            model_version="3",
            reference_hash="r",
            config_hash="c",
            step=lambda state: counting_step(state, n_windows=2, tag=f"-p{worker}"),
        )
    store.close()


def test_concurrent_steps_see_each_others_state(url):
    """Eight processes step one monitor: no window is lost or counted twice."""
    MonitorStore(url).close()  # created once; the race under test is the state, not the schema
    n_workers, runs = 8, 3
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(n_workers)
    workers = [
        context.Process(target=_stepping_writer, args=(url, barrier, i, runs))
        for i in range(n_workers)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0] * n_workers
    total = n_workers * runs * 2
    with MonitorStore(url) as store:
        report = store.verify()
        assert report.ok, report
        names = store.windows("credit")["window"].tolist()
        assert store.state("credit", "c")["seen"] == total
    # Each counter value was handed out exactly once, whichever process took it.
    assert sorted(int(name[1:5]) for name in names) == list(range(total))
    assert len(set(names)) == total
