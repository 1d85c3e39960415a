"""The call log: migrations, WAL, batching, crash safety, concurrent reader and writer, bad files."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routermon.core.errors import DatabaseError
from routermon.core.log.db import connect
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS, CallRecord
from routermon.core.log.store import CallLog


def record(i: int, **kw) -> CallRecord:
    base = dict(
        ts=1_700_000_000 + i,
        request_id=f"req_{i:06d}",
        task="classify",
        model="claude-haiku-4-5",
        role="cheap",
        tier=0,
        input_tokens=100,
        output_tokens=10,
        cost_usd=0.00015,
        latency_ms=400.0,
        confidence=0.9,
        answer='"safe"',
        input_sha256="0" * 64,
    )
    base.update(kw)
    return CallRecord(**base)


def test_schema_migrations_wal_and_indexes(tmp_path):
    db = tmp_path / "log.db"
    CallLog(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    assert ("routermon", "m001_calls") in applied
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(calls)")}
    assert {"calls_ts", "calls_request", "calls_dedup"} <= indexes
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM calls WHERE ts >= 5"))
    assert "calls_ts" in plan
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM calls WHERE id > 5"))
    assert "INTEGER PRIMARY KEY" in plan or "rowid" in plan.lower()
    # Reopening applies nothing twice.
    CallLog(db).close()
    assert len(sqlite3.connect(db).execute("SELECT * FROM _sqlite_migrations").fetchall()) == len(applied)


def test_rows_round_trip_and_flush(log_db):
    db = log_db
    log = CallLog(db)
    log.log(record(1, escalated=True, escalation_reason="low_confidence", correct=False, reference="x"))
    log.log_many([record(2), record(3, cost_usd=None)])
    assert log.flush() == 3
    log.close()
    with LogReader(db) as reader:
        rows = reader.calls_after(0)
        assert [r.request_id for r in rows] == ["req_000001", "req_000002", "req_000003"]
        assert (
            rows[0].escalated is True
            and rows[0].correct is False
            and rows[0].escalation_reason == "low_confidence"
        )
        assert rows[2].cost_usd is None
        assert [r.id for r in reader.calls_after(rows[0].id)] == [rows[1].id, rows[2].id]


def test_dedup_key_makes_inserts_idempotent(log_db):
    db = log_db
    with CallLog(db) as log:
        log.log_many([record(1, dedup_key="k1"), record(2, dedup_key="k2"), record(3)])
    with CallLog(db) as log:
        log.log_many([record(1, dedup_key="k1"), record(4)])
    with LogReader(db) as reader:
        assert len(reader.calls_after(0)) == 4


def test_none_columns_store_as_null_whatever_their_mix_in_a_statement(log_db):
    # The writer turns a column that is None in every row of a statement into a NULL literal; rows
    # whose None columns differ, statements of every size, and the values around them must round-trip.
    db = log_db
    expected = []
    for i in range(1337):
        fields = {}
        if i % 7 == 0:
            fields.update(escalated=True, escalation_reason="low_confidence")
        if i % 11 == 0:
            fields.update(reference="safe", correct=i % 2 == 0)
        if i % 13 == 0:
            fields.update(cost_usd=None, confidence=None, answer=None, error_type="timeout")
        if i >= 1200:  # a run where every optional column is set
            fields.update(reference="x", correct=True, error_type="e", escalation_reason="refusal")
            fields.update(dedup_key=f"k{i}", input_preview="p")
        expected.append(record(i, **fields))
    with CallLog(db, batch_size=700) as log:
        log.log_many(expected[:3])  # a batch of 3: statements of 2 and 1 rows
        log.flush()
        log.log_many(expected[3:])
        assert log.flush() == len(expected)
    with LogReader(db) as reader:
        got = [r.model_dump(exclude={"id"}) for r in reader.calls_after(0)]
    assert got == [r.model_dump() for r in expected]


def test_a_row_missing_a_required_value_is_rejected_not_acknowledged(log_db):
    db = log_db
    good = record(1).as_row()
    no_task = tuple(None if c == "task" else v for c, v in zip(CALL_COLUMNS, good, strict=True))
    with CallLog(db) as log:
        log.log_rows([good, no_task, record(2).as_row()])
        assert log.flush() == 2  # acknowledged rows are the stored ones
        assert log.rejected == 1 and re.search("not.null", log.last_rejection, re.IGNORECASE)
    with LogReader(db) as reader:
        assert [r.request_id for r in reader.calls_after(0)] == ["req_000001", "req_000002"]


def test_new_logs_use_8k_pages_and_old_ones_keep_theirs(tmp_path, monkeypatch):
    CallLog(tmp_path / "new.db").close()
    assert sqlite3.connect(tmp_path / "new.db").execute("PRAGMA page_size").fetchone()[0] == 8192
    monkeypatch.setattr("routermon.core.log.db.PAGE_SIZE", 4096)  # a log made by an earlier version
    with CallLog(tmp_path / "old.db") as log:
        log.log(record(1))
    monkeypatch.undo()
    with CallLog(tmp_path / "old.db") as log:  # reopened and written to, not rebuilt
        log.log(record(2))
    assert sqlite3.connect(tmp_path / "old.db").execute("PRAGMA page_size").fetchone()[0] == 4096
    with LogReader(tmp_path / "old.db") as reader:
        assert len(reader.calls_after(0)) == 2


def test_interpreter_exit_flushes_queued_rows(log_db):
    db = log_db
    code = textwrap.dedent(
        f"""
        from routermon.core.log.store import CallLog
        from tests.test_store import record
        log = CallLog({str(db)!r}, max_delay=60)
        log.log_many([record(i) for i in range(500)])
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    with LogReader(db) as reader:
        assert reader.summary().requests == 500


WRITER = textwrap.dedent(
    """
    import sys
    from routermon.core.log.store import CallLog
    from tests.test_store import record
    log = CallLog(sys.argv[1], batch_size=50, max_delay=0.001)
    i = 0
    while True:
        log.log_many([record(i + k) for k in range(50)])
        i += 50
        acknowledged = log.flush()
        print(acknowledged, flush=True)
        log.log_many([record(i + k) for k in range(25)])  # queued, not acknowledged: may be lost
        i += 25
    """
)


def test_acknowledged_rows_survive_a_killed_writer(log_db):
    db = log_db
    root = os.path.dirname(os.path.dirname(__file__))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=root
    )
    acknowledged = 0
    deadline = time.monotonic() + 30
    while acknowledged < 3000 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acknowledged >= 3000
    conn = connect(db)
    if isinstance(db, Path):
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    distinct = conn.execute("SELECT COUNT(DISTINCT request_id) FROM calls").fetchone()[0]
    assert count >= acknowledged
    assert count == distinct


READER = textwrap.dedent(
    """
    import sys, time
    from routermon.core.log.reader import LogReader
    reader = LogReader(sys.argv[1])
    print("ready", flush=True)
    last, seen, polls = 0, 0, 0
    deadline = time.monotonic() + 20
    while seen < int(sys.argv[2]) and time.monotonic() < deadline:
        rows = reader.calls_after(last)
        if rows:
            assert [r.id for r in rows] == sorted(r.id for r in rows)
            assert rows[0].id > last
            last = rows[-1].id
            seen += len(rows)
        reader.summary()
        polls += 1
    print(seen, polls)
    """
)


def test_reader_and_writer_in_two_processes(log_db):
    db = log_db
    CallLog(db).close()
    total = 4000
    root = os.path.dirname(os.path.dirname(__file__))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(total)], stdout=subprocess.PIPE, text=True, cwd=root
    )
    assert reader.stdout.readline().strip() == "ready"
    with CallLog(db, batch_size=100, max_delay=0.001) as log:
        for start in range(0, total, 100):
            log.log_many([record(start + k) for k in range(100)])
            time.sleep(0.002)
    out, _ = reader.communicate(timeout=60)
    seen, polls = map(int, out.split())
    assert seen == total
    assert polls > 1


def test_bad_database_paths_are_named(tmp_path):
    with pytest.raises(DatabaseError, match="is a directory"):
        CallLog(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="not a routermon database"):
        CallLog(junk)
    with pytest.raises(DatabaseError, match="not a routermon database"):
        LogReader(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    with pytest.raises(DatabaseError, match="not a routermon call log"):
        LogReader(other)
    with pytest.raises(DatabaseError, match="no call log"):
        LogReader(tmp_path / "missing.db")


def test_locked_database_is_named(tmp_path, monkeypatch):
    import routermon.core.log.db as dbmod

    db = tmp_path / "log.db"
    CallLog(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # an exclusive lock blocks even WAL readers
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 100)
    try:
        with pytest.raises(DatabaseError, match="locked"):
            LogReader(db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_writer_waits_out_a_lock_without_losing_rows(tmp_path):
    db = tmp_path / "log.db"
    log = CallLog(db, max_delay=0.001)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    log.log_many([record(i) for i in range(10)])
    time.sleep(0.3)
    holder.execute("COMMIT")
    holder.close()
    assert log.flush(timeout=30) == 10
    log.close()


def test_closing_a_reader_while_another_thread_queries_it_is_safe(log_db):
    """The app closes its reader on exit while a poll may be running in a worker thread."""
    import threading

    db = log_db
    with CallLog(db) as log:
        log.log_many([record(i) for i in range(2000)])
    for _ in range(20):
        reader = LogReader(db)
        errors: list[BaseException] = []

        def poll(reader=reader, errors=errors):
            try:
                while True:
                    reader.calls_after(0)
            except DatabaseError as exc:
                errors.append(exc)

        worker = threading.Thread(target=poll)
        worker.start()
        time.sleep(0.01)
        reader.close()
        worker.join(timeout=10)
        assert not worker.is_alive()
        assert errors and "is closed" in str(errors[0])


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_writer_commits_on_its_timer_without_a_flush(log_db):
    with CallLog(log_db, max_delay=0.05, idle_after=60) as log:
        log.log(record(0))
        assert wait_until(lambda: log.committed == 1)
        for i in range(1, 40):  # a steady trickle: committed keeps up without anyone calling flush()
            log.log(record(i))
            time.sleep(0.005)
        assert wait_until(lambda: log.committed == 40)


def test_rows_do_not_wake_a_busy_writer_one_by_one(log_db):
    """Each wake-up of the writer thread costs the caller's event loop a GIL hand-over, so a flow of
    rows wakes it only from an idle sleep; while rows flow it wakes on its own timer."""
    with CallLog(log_db, max_delay=0.05, idle_after=60) as log:
        notified = []  # wake-ups sent from this (the request path's) thread
        notify_all = log._cond.notify_all

        def counting_notify_all():
            if threading.current_thread() is threading.main_thread():
                notified.append(1)
            notify_all()

        log._cond.notify_all = counting_notify_all
        log.log(record(0))
        assert wait_until(lambda: log.committed == 1)
        before = len(notified)
        for i in range(1, 301):
            log.log(record(i))
            if i % 30 == 0:
                time.sleep(0.01)
        assert len(notified) == before  # not one per row, nor one per batch
        assert log.flush() == 301


def test_an_idle_writer_sleeps_and_the_next_row_wakes_it(log_db):
    with CallLog(log_db, max_delay=0.02, idle_after=0.1) as log:
        log.log(record(0))
        assert wait_until(lambda: log.committed == 1)
        assert wait_until(lambda: log._idle)  # no rows for idle_after: no more timer wake-ups
        log.log(record(1))
        assert wait_until(lambda: log.committed == 2, timeout=5)


def test_a_batch_worth_of_rows_wakes_the_writer_at_once(log_db):
    with CallLog(log_db, batch_size=50, max_delay=60, idle_after=600) as log:
        log.log(record(0))
        log.flush()
        log.log_many([record(i) for i in range(1, 51)])  # a full batch: no waiting for the 60 s timer
        assert wait_until(lambda: log.committed == 51, timeout=5)


def test_importing_the_library_leaves_sqlite3_adapters_alone():
    # A library must not change how sqlite3 binds values for every other module of the process.
    code = textwrap.dedent(
        """
        import sqlite3
        before = dict(sqlite3.adapters)
        import routermon.core.log.db, routermon.core.log.store, routermon.core.log.reader, routermon.core.route.router
        from routermon.core.log.store import CallLog
        print(dict(sqlite3.adapters) == before)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# -- the writer's NULL-literal statements store what plain executemany stores ------------------------


def _nullable_columns(path) -> list[int]:
    conn = connect(path)
    info = {row[1]: row[3] for row in conn.execute("PRAGMA table_info(calls)")}
    conn.close()
    return [i for i, name in enumerate(CALL_COLUMNS) if not info[name]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    requests=st.integers(1, 700),
    null_share=st.sampled_from([0.0, 0.3, 0.9, 1.0]),
    rows_per_statement=st.sampled_from([1, 3, 64, 500]),
)
def test_null_literal_statements_store_exactly_what_executemany_stores(
    tmp_path_factory, seed, requests, null_share, rows_per_statement
):
    import random as _random

    from tui_helpers import request_records

    from routermon.core.log.store import INSERT_SQL

    rng = _random.Random(seed)
    folder = tmp_path_factory.mktemp("nulls")
    nullable = _nullable_columns(folder / "plain.db")
    rows = []
    for n in range(requests):
        for record in request_records(rng, 1_750_000_000.0 + n, n):
            row = list(record.as_row())
            for i in nullable:  # some columns None in every row of a chunk, others only sometimes
                if rng.random() < null_share:
                    row[i] = None
            rows.append(tuple(row))
    with CallLog(folder / "writer.db") as log:
        log._rows_per_statement = rows_per_statement  # small statements exercise the power-of-two tail
        log.log_rows(rows)
    plain = connect(folder / "plain.db")
    with plain:
        plain.executemany(INSERT_SQL, rows)
    written = connect(folder / "writer.db")
    columns = ", ".join(CALL_COLUMNS)
    mine = written.execute(f"SELECT {columns} FROM calls ORDER BY id").fetchall()
    theirs = plain.execute(f"SELECT {columns} FROM calls ORDER BY id").fetchall()
    assert mine == theirs and len(mine) == len(rows)
    typed = f"SELECT {', '.join(f'typeof({c})' for c in CALL_COLUMNS)} FROM calls ORDER BY id"
    assert written.execute(typed).fetchall() == plain.execute(typed).fetchall()
    written.close()
    plain.close()


def test_every_writer_indexes_what_it_commits_for_search(log_db):
    """The full-text index is filled by the writers' own transactions (one statement a batch, no
    insert trigger): rows from the call log's writer, its row-by-row path and the exact inserter
    (imports) are all found, and nothing that was not committed is."""
    import sqlite3 as sqlite

    from routermon.core.log.logquery import CallFilters
    from routermon.core.log.reader import LogReader
    from routermon.core.log.records import CallRecord
    from routermon.core.log.store import CallLog, ExactInserter

    db = log_db

    def record(n, text, **extra):
        return CallRecord(
            ts=float(n), request_id=f"r{n}", task="t", model="m", role="cheap", input_preview=text, **extra
        )

    with CallLog(db) as log:
        log.log(record(1, "a parcel of zebras"))
        log.log_rows([record(2, "zebras again").as_row(), record(3, "\ud800 broken zebras").as_row()])
        log.flush()
    with ExactInserter(db) as inserter:
        inserter.insert([record(4, "imported zebras", dedup_key="k4").as_row()])
        inserter.insert([record(4, "imported zebras", dedup_key="k4").as_row()])  # a duplicate: not written
    with LogReader(db) as reader:
        found = sorted(r.request_id for r in reader.search_calls(CallFilters(search="zebras"), limit=None))
    assert found == ["r1", "r2", "r3", "r4"]
    if not isinstance(db, Path):
        return  # PostgreSQL: calls_words, the same rows (test_cli_logs' one-search tests)
    conn = sqlite.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM calls_words").fetchone()[0] == 4
    assert conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'calls_fts%'").fetchall() == []
