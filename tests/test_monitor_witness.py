"""Witnessed heads: each write's head kept in a file elsewhere catches what the chain alone cannot.

The store is tampered with as its owner could: the append-only triggers dropped, then plain SQL
that leaves a chain consistent with itself (truncated, rewritten, emptied). Everything runs
through the command line, as an operator would; one case runs on PostgreSQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from labelwise.cli import _ui
from labelwise.cli.monitor import monitor_app
from labelwise.errors import InputError
from labelwise.monitor._chain import GENESIS, KnownHead, canonical_json, row_hash
from labelwise.monitor.store import MonitorStore, StoreError, read_witness, verify_store

app = typer.Typer(cls=_ui.LabelwiseGroup)
app.add_typer(monitor_app, name="monitor")

TABLES = ("runs", "windows", "composites", "metrics", "reconciliations")
HEAD_LINE = re.compile(r"head ([0-9a-f]{64}) \(seq (\d+)\)")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(shift, 1.0, n)
    score = 1 / (1 + np.exp(-(income - 1.5)))
    return pd.DataFrame({"score": score, "income": income, "bad": rng.binomial(1, score)})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fitted")
    frame(1000, 0).to_csv(folder / "ref.csv", index=False)
    result = invoke(
        "monitor", "fit", folder / "ref.csv", "--score", "score", "--label", "bad",
        "--features", "income", "--model", "credit", "--out", folder / "monitor.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def work(fitted, tmp_path):
    """A monitor and three windows beside it, and a folder standing for another machine."""
    (tmp_path / "monitor.json").write_bytes((fitted / "monitor.json").read_bytes())
    for i in range(3):
        frame(300, i + 1, shift=0.3 * i).to_csv(tmp_path / f"w{i}.csv", index=False)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def checked(work, *extra) -> list[KnownHead]:
    """Check the three windows, one write each, witnessed; return the printed heads."""
    heads = []
    for i in range(3):
        result = invoke(
            "monitor", "check", work / "monitor.json", work / f"w{i}.csv",
            "--witness", work / "elsewhere" / "heads.jsonl", *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        seq, digest = printed_head(result.stdout)
        heads.append(KnownHead(seq, digest))
    return heads


def printed_head(text: str) -> tuple[int, str]:
    found = HEAD_LINE.findall(text)
    assert len(found) == 1, text
    return int(found[0][1]), found[0][0]


def verify(work, *args):
    return invoke("monitor", "verify", work / "monitor.json", *args)


def witnessed(work):
    return verify(work, "--witness", work / "elsewhere" / "heads.jsonl")


# --- tampering as the database's owner ---------------------------------------------------------


def sql(db, *statements, params=()) -> None:
    """Drop the append-only triggers, then run ``statements`` in one transaction."""
    con = sqlite3.connect(db)
    names = con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (name,) in names:
        con.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        con.execute(statement, params)
    con.commit()
    con.close()


def chain(db) -> list[tuple[str, int, str, str]]:
    """Every chained row as (table, id, payload, row_hash), in chain order."""
    con = sqlite3.connect(db)
    rows = [
        (table, *row)
        for table in TABLES
        for row in con.execute(f"SELECT id, payload, row_hash FROM {table}").fetchall()
    ]
    con.close()
    return sorted(rows, key=lambda row: row[1])


def truncate(db, keep: KnownHead) -> None:
    """Delete every row after ``keep`` and move the head back onto it: a consistent chain."""
    last_table = next(table for table, i, _, _ in chain(db) if i == keep.seq)
    sql(
        db,
        *(f"DELETE FROM {table} WHERE id > {keep.seq}" for table in TABLES),
        f"UPDATE chain_head SET seq = {keep.seq}, row_hash = '{keep.hash}', "
        f"last_table = '{last_table}'",
    )


def rewrite_from(db, start: int, change) -> None:
    """Edit row ``start``'s payload and re-chain every row after it and the head, consistently."""
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    prev = GENESIS
    for table, row_id, payload, digest in chain(db):
        if row_id >= start:
            if row_id == start:
                content = json.loads(payload)
                change(content)
                payload = canonical_json(content)
                if table == "windows":
                    con.execute(
                        "UPDATE windows SET n_rows = ? WHERE id = ?", (content["n_rows"], row_id)
                    )
            digest = row_hash(prev, payload)
            con.execute(
                f"UPDATE {table} SET payload = ?, prev_hash = ?, row_hash = ? WHERE id = ?",
                (payload, prev, digest, row_id),
            )
        prev = digest
    con.execute("UPDATE chain_head SET row_hash = ?", (prev,))
    con.commit()
    con.close()


def forge_run_after(db) -> KnownHead:
    """Append a well-formed run row behind the store's back and move the head onto it."""
    table, last, payload, digest = chain(db)[-1]
    content = json.loads(canonical_json({**json.loads(payload), "table": "runs"}))
    forged = {
        k: content[k]
        for k in ("model", "model_version", "reference_hash", "config_hash")
        + ("labelwise_version", "created_at")
    } | {"table": "runs", "id": last + 1, "config": {"forged": True}}
    text = canonical_json(forged)
    new = row_hash(digest, text)
    sql(
        db,
        "INSERT INTO runs (id, model, model_version, reference_hash, config_hash, "
        "labelwise_version, created_at, payload, prev_hash, row_hash) VALUES "
        "(:id, :model, :model_version, :reference_hash, :config_hash, :labelwise_version, "
        ":created_at, :payload, :prev, :hash)",
        f"UPDATE chain_head SET seq = {last + 1}, row_hash = '{new}', last_table = 'runs'",
        params={**forged, "payload": text, "prev": digest, "hash": new},
    )
    return KnownHead(last + 1, new)


# --- writing the witness -----------------------------------------------------------------------


def test_every_write_prints_and_witnesses_its_head(work):
    heads = checked(work)
    assert [h.seq for h in heads] == sorted({h.seq for h in heads})  # one write, one new head
    lines = (work / "elsewhere" / "heads.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["seq"], r["head"]) for r in records] == [tuple(h) for h in heads]
    for record in records:
        assert datetime.fromisoformat(record["at"]).utcoffset() == timezone.utc.utcoffset(None)
        assert record["store"] == f"sqlite:///{(work / 'monitor.db').as_posix()}"
    assert read_witness(work / "elsewhere" / "heads.jsonl") == heads
    with MonitorStore(work / "monitor.db", create=False) as store:
        assert store.head() == heads[-1].hash

    # reconcile writes too: its head is printed and witnessed the same way
    frame(300, 3, shift=0.6).to_csv(work / "labels.csv", index=False)
    result = invoke(
        "monitor", "reconcile", work / "monitor.json", "w2", work / "labels.csv",
        "--witness", work / "elsewhere" / "heads.jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    seq, digest = printed_head(result.stdout)
    assert seq > heads[-1].seq and read_witness(work / "elsewhere" / "heads.jsonl")[-1] == (
        seq,
        digest,
    )

    ok = witnessed(work)
    assert ok.exit_code == 0, ok.output
    assert "4 witnessed head(s) found" in ok.stdout and f"head {digest} (seq {seq})" in ok.stdout
    assert verify(work, "--expect-head", heads[0].hash, "--expect-head", digest).exit_code == 0
    assert verify_store(work / "monitor.db", known_heads=[heads[0], digest]).ok


def test_json_output_keeps_stdout_one_object_per_line(work):
    result = invoke(
        "monitor", "check", work / "monitor.json", work / "w0.csv", "--format", "json",
        "--witness", work / "elsewhere" / "heads.jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["window"] for line in result.stdout.splitlines()] == ["w0"]
    seq, digest = printed_head(result.stderr)
    assert read_witness(work / "elsewhere" / "heads.jsonl") == [(seq, digest)]


# --- what a witness catches --------------------------------------------------------------------


def test_truncation_with_the_head_moved_back(work):
    heads = checked(work)
    truncate(work / "monitor.db", heads[0])
    fooled = verify(work)
    assert fooled.exit_code == 0, fooled.output  # the chain alone is consistent again
    caught = witnessed(work)
    assert caught.exit_code == 1, caught.output
    assert f"seq {heads[1].seq}) is missing" in caught.output
    assert "rows deleted from the end and the head moved back" in caught.output
    assert "heads.jsonl' line 2" in caught.output and "Traceback" not in caught.output
    plain = verify(work, "--expect-head", heads[2].hash)
    assert plain.exit_code == 1 and "rewritten" in plain.output


def test_consistent_rewrite_from_a_witnessed_row(work):
    heads = checked(work)
    # Edit the second run's window (before the second witnessed head) and re-chain the rest.
    window_id = heads[0].seq + 2
    assert chain(work / "monitor.db")[window_id - 1][0] == "windows"
    rewrite_from(work / "monitor.db", window_id, lambda c: c.update(n_rows=1))
    assert verify(work).exit_code == 0
    caught = witnessed(work)
    assert caught.exit_code == 1, caught.output
    assert f"row {heads[1].seq}" in caught.output and "is not on the chain" in caught.output
    assert "heads.jsonl' line 2" in caught.output


def test_emptied_store_with_its_head_reset(work):
    checked(work)
    sql(
        work / "monitor.db",
        *(f"DELETE FROM {table}" for table in reversed(TABLES)),
        f"UPDATE chain_head SET seq = 0, row_hash = '{GENESIS}', last_table = NULL",
    )
    fooled = verify(work)
    assert fooled.exit_code == 0 and "0 rows checked" in fooled.stdout
    caught = witnessed(work)
    assert caught.exit_code == 1, caught.output
    assert "the chain is empty" in caught.output


def test_deleted_head_row(work):
    heads = checked(work)
    sql(work / "monitor.db", "DELETE FROM chain_head")
    broken = verify(work)
    assert broken.exit_code == 1, broken.output
    assert "head row is missing" in broken.output and "schema" not in broken.output
    assert witnessed(work).exit_code == 1
    report = verify_store(work / "monitor.db", known_heads=heads)
    assert not report.ok and "head row is missing" in report.first_bad["reason"]
    # No write may start a new chain where the old one's end was lost.
    refused = invoke("monitor", "check", work / "monitor.json", work / "w0.csv")
    assert refused.exit_code == 2 and "head row" in refused.output, refused.output
    with pytest.raises(StoreError, match="head row .* is missing"):
        MonitorStore(work / "monitor.db")
    with MonitorStore(work / "monitor.db", create=False) as store:
        assert "head row is missing" in store.verify().first_bad["reason"]
        with pytest.raises(StoreError, match="missing"):
            store.head()
    assert len(chain(work / "monitor.db")) == heads[-1].seq  # nothing was written


# --- what a witness cannot catch (docs/monitor-store.md says so) --------------------------------


def test_rows_forged_after_the_last_witnessed_head_pass(work):
    heads = checked(work)
    forged = forge_run_after(work / "monitor.db")
    assert forged.seq == heads[-1].seq + 1
    passed = witnessed(work)
    assert passed.exit_code == 0, passed.output  # the forged row extends the witnessed chain
    assert f"head {forged.hash} (seq {forged.seq})" in passed.stdout
    # The next witnessed write would have fixed the forged row in place: too late to catch it.


# --- bad input ---------------------------------------------------------------------------------


def test_bad_witness_input(work):
    heads = checked(work)
    bad = work / "elsewhere" / "bad.jsonl"
    line = json.dumps({"seq": heads[0].seq, "head": heads[0].hash})
    bad.write_text(f"{line}\n\n{{not json\n")
    result = verify(work, "--witness", bad)
    assert result.exit_code == 2 and "bad.jsonl' line 3 is not JSON" in result.output
    bad.write_text(f'{line}\n{{"seq": -1, "head": "{heads[0].hash}"}}\n')
    result = verify(work, "--witness", bad)
    assert result.exit_code == 2 and "line 2: seq must be" in result.output
    bad.write_text('{"seq": 1, "head": "abc"}\n')
    with pytest.raises(InputError, match="line 1: head must be 64"):
        read_witness(bad)
    missing = verify(work, "--witness", work / "elsewhere" / "absent.jsonl")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    short = verify(work, "--expect-head", "abc123")
    assert short.exit_code == 2 and "is not a head" in short.output
    with pytest.raises(InputError, match="pair"):
        verify_store(work / "monitor.db", known_heads=[(1, 2, 3)])

    # A witness in a folder that does not exist: refused before anything is written.
    before = chain(work / "monitor.db")
    refused = invoke(
        "monitor", "check", work / "monitor.json", work / "w0.csv",
        "--witness", work / "nowhere" / "heads.jsonl",
    )  # fmt: skip
    assert refused.exit_code == 2 and "does not exist" in refused.output, refused.output
    assert chain(work / "monitor.db") == before and not (work / "nowhere").exists()


# --- PostgreSQL --------------------------------------------------------------------------------


def test_postgres_truncation_is_caught(work, postgres_url):
    witness = work / "elsewhere" / "pg.jsonl"
    heads = []
    for i in range(2):
        result = invoke(
            "monitor", "check", work / "monitor.json", work / f"w{i}.csv",
            "--db", postgres_url, "--witness", witness,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        heads.append(KnownHead(*printed_head(result.stdout)))
    records = [json.loads(line) for line in witness.read_text().splitlines()]
    assert [r["store"].split("@")[0] for r in records] == ["postgresql+psycopg://labelwise"] * 2
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for name, table in conn.exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).all():
            conn.exec_driver_sql(f"DROP TRIGGER {name} ON {table}")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # foreign keys off
        for table in TABLES:
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE id > {heads[0].seq}")
        conn.execute(
            sa.text(
                "UPDATE chain_head SET seq = :seq, row_hash = :hash, last_table = 'composites'"
            ),
            {"seq": heads[0].seq, "hash": heads[0].hash},
        )
    engine.dispose()
    assert invoke("monitor", "verify", "--db", postgres_url).exit_code == 0
    caught = invoke("monitor", "verify", "--db", postgres_url, "--witness", witness)
    assert caught.exit_code == 1, caught.output
    assert f"seq {heads[1].seq}) is missing" in caught.output
