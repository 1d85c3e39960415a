"""Hardening, PostgreSQL: what a shared log adds to a file's failures — no driver, a bad URL, a
server that refuses, another session's lock, writers on many hosts committing out of id order —
each one sentence and exit code 2, never a traceback or a password, and never a row lost."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
import uuid

import pytest
from click.testing import CliRunner
from conftest import PG_SKIP, PG_URL, pg_admin, pg_schema_url

from routermon.core.errors import DatabaseError
from routermon.core.log.live import LiveMonitor
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.cli import main


def _record(n: int, text: str = "x") -> CallRecord:
    return CallRecord(ts=1.0 + n, request_id=f"r{n}", task="t", model="m", role="cheap", answer=text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_sentence(result) -> str:
    """The error line of a command that failed as a user error (a progress bar may precede it)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("routermon: "), result.stderr
    return last.removeprefix("routermon: ")


@pytest.fixture
def pg_log():
    """A PostgreSQL log of the test's own: a schema in ``ROUTERMON_TEST_PG``'s database."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    pytest.importorskip("psycopg")
    schema = "t_" + uuid.uuid4().hex[:16]
    pg_admin(f"CREATE SCHEMA {schema}")
    yield pg_schema_url(schema)
    pg_admin(f"SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE")


# -- without a server -----------------------------------------------------------------------------


def test_a_url_without_psycopg_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    result = CliRunner().invoke(main, ["report", "--db", "postgresql://alice@db.example/calls"])
    assert _one_sentence(result) == "Install routermon[postgres] to use a PostgreSQL log."


def test_the_library_imports_no_psycopg_for_a_sqlite_log(tmp_path):
    import subprocess

    code = (
        "import sys; from routermon.core.log.store import CallLog; from routermon.core.log.reader import LogReader;"
        f"CallLog({str(tmp_path / 'a.db')!r}).close(); LogReader({str(tmp_path / 'a.db')!r}).close();"
        "print('psycopg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_refused_connection_names_the_server_and_never_the_password():
    pytest.importorskip("psycopg")
    url = f"postgresql://alice:s3cret-pw@127.0.0.1:{_free_port()}/calls"
    for command in (["report"], ["logs"], ["simulate", "--requests", "3"]):
        text = _one_sentence(CliRunner().invoke(main, [*command, "--db", url]))
        assert "connection refused" in text and "127.0.0.1" in text, text
        assert "s3cret-pw" not in text


def test_an_unreadable_url_is_one_sentence():
    result = CliRunner().invoke(main, ["report", "--db", "postgresql://alice@host:notaport/calls"])
    assert "cannot be read" in _one_sentence(result)


def test_logs_path_shows_the_url_without_its_password(monkeypatch):
    monkeypatch.setenv("ROUTERMON_DB", "postgresql://alice:s3cret-pw@db.example:5433/calls")
    out = CliRunner().invoke(main, ["logs", "path"])
    assert out.exit_code == 0 and out.stdout.strip() == "postgresql://alice@db.example:5433/calls"


# -- against the test server -------------------------------------------------------------------


def test_a_missing_database_says_so():
    if not PG_URL:
        pytest.skip(PG_SKIP)
    pytest.importorskip("psycopg")
    base = PG_URL.split("?")[0].rsplit("/", 1)[0]
    text = _one_sentence(CliRunner().invoke(main, ["report", "--db", f"{base}/no_such_db_here"]))
    assert "database 'no_such_db_here' does not exist" in text


def test_schema_is_migrated_once_and_a_newer_one_is_refused(pg_log):
    CallLog(pg_log).close()
    CallLog(pg_log).close()  # reopening applies nothing twice
    schema = pg_log.rsplit("%3D", 1)[1]
    names = [r[0] for r in pg_admin(f"SELECT name FROM {schema}._routermon_migrations ORDER BY name")]
    assert names[0] == "m001_calls" and len(names) == len(set(names))
    pg_admin(f"INSERT INTO {schema}._routermon_migrations VALUES ('m999_future', 1e12)")
    for opener in (CallLog, LogReader):
        with pytest.raises(DatabaseError, match="written by a newer routermon"):
            opener(pg_log)


def test_reading_a_database_without_a_log_writes_nothing(pg_log):
    text = _one_sentence(CliRunner().invoke(main, ["report", "--db", pg_log]))
    assert "no call log" in text
    schema = pg_log.rsplit("%3D", 1)[1]
    assert pg_admin(f"SELECT COUNT(*) FROM pg_tables WHERE schemaname = '{schema}'") == [(0,)]


def test_another_sessions_lock_is_said_and_waited_out(pg_log, caplog):
    """A writer that finds the table locked by another session says so, keeps its rows and writes
    them when the lock goes; a reader that cannot wait says the log is locked, in one sentence."""
    import psycopg

    CallLog(pg_log).close()
    holder = psycopg.connect(pg_log, autocommit=True)
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE calls, rollups IN ACCESS EXCLUSIVE MODE")
    try:
        with LogReader(pg_log) as reader, pytest.raises(DatabaseError, match="locked by another session"):
            reader.summary()
        with caplog.at_level(logging.WARNING, logger="routermon"):
            log = CallLog(pg_log)
            started = time.monotonic()
            log.log_many([_record(i) for i in range(10)])
            timer = threading.Timer(3.0, lambda: holder.execute("ROLLBACK"))
            timer.start()
            log.close()  # waits for the lock, however long
            timer.join()
    finally:
        holder.close()
    said = [r.getMessage() for r in caplog.records if "waiting for the database" in r.getMessage()]
    assert said and time.monotonic() - started >= 2.0
    with LogReader(pg_log) as reader:
        assert reader.summary().calls == 10


def test_a_batch_that_commits_late_is_not_skipped_by_the_tail(pg_log):
    """Host A takes its ids, then host B logs and commits while A's transaction is still open: with
    ids given in commit order (the writers' lock, ``pg.py``) B waits for A, so the monitor's
    ``id > last_seen`` tail never passes an id whose row is still to come."""
    import psycopg

    from routermon.core.log import pg

    CallLog(pg_log).close()
    monitor = LiveMonitor.open(pg_log)
    host_a = psycopg.connect(pg_log, autocommit=True)
    host_a.execute("BEGIN")
    host_a.execute(pg.WRITE_LOCK_SQL)
    host_a.execute(
        "INSERT INTO calls (ts, request_id, task, mode, source, model, role, tier, input_sha256)"
        " VALUES (1, 'from-a', 't', 'cascade', 'live', 'm', 'cheap', 0, 'x')"
    )
    host_b = CallLog(pg_log, max_delay=0.001)
    host_b.log(_record(1))
    time.sleep(0.5)  # B is waiting for A's lock, its row not committed
    assert host_b.committed == 0 and monitor.refresh() == []
    host_a.execute("COMMIT")
    host_a.close()
    assert host_b.flush(timeout=10) == 1
    host_b.close()
    seen = [r.request_id for r in monitor.refresh()]
    monitor.close()
    assert seen == ["from-a", "r1"]


def test_the_log_secret_is_shared_by_every_host_and_no_key_file_is_made(pg_log, tmp_path, monkeypatch):
    from routermon.core.log.privacy import has_key, log_key

    here = tmp_path / "host"
    here.mkdir()
    monkeypatch.chdir(here)
    CallLog(pg_log).close()
    assert not has_key(pg_log)
    first, second = log_key(pg_log), log_key(pg_schema_url(pg_log.rsplit("%3D", 1)[1]))
    assert first == second and len(first) == 32 and has_key(pg_log)
    assert list(here.iterdir()) == []


def test_config_show_names_the_url_without_its_password(monkeypatch):
    monkeypatch.setenv("ROUTERMON_DB", "postgresql://alice:s3cret-pw@db.example/calls")
    out = CliRunner().invoke(main, ["config", "show", "--json"])
    assert out.exit_code == 0 and "postgresql://alice@db.example/calls" in out.stdout
    assert "s3cret-pw" not in out.output


def test_a_password_in_the_query_is_not_shown_either():
    from routermon.core.location import PostgresLog

    log = PostgresLog("postgresql://alice@db.example/calls?sslmode=require&password=s3cret-pw")
    assert str(log) == "postgresql://alice@db.example/calls?sslmode=require"


def test_hosts_opening_a_new_log_at_once_migrate_it_once(pg_log):
    errors: list[BaseException] = []

    def open_log() -> None:
        try:
            CallLog(pg_log).close()
        except BaseException as exc:  # any failure is the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=open_log) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    schema = pg_log.rsplit("%3D", 1)[1]
    names = [r[0] for r in pg_admin(f"SELECT name FROM {schema}._routermon_migrations")]
    assert len(names) == len(set(names)) and "m007_rollups" in names


def test_a_writer_whose_connection_the_server_drops_reconnects_and_loses_nothing(pg_log):
    """A server restart or failover ends the writer's session: its next batch opens a new one (the
    rows wait meanwhile), and a reader's next query does the same."""
    log = CallLog(pg_log, max_delay=0.001)
    reader = LogReader(pg_log)
    log.log_many([_record(i) for i in range(5)])
    assert log.flush() == 5 and reader.summary().calls == 5
    # The server ends both sessions (as a restart does), and no other test's.
    pids = (log._conn.raw.info.backend_pid, reader.conn.raw.info.backend_pid)
    pg_admin("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),))
    log.log_many([_record(i) for i in range(5, 15)])
    assert log.flush(timeout=30) == 15
    log.close()
    assert reader.summary().calls == 15
    reader.close()


def test_thresholds_and_the_report_read_the_same_from_either_backend(pg_log, tmp_path):
    """The real date pairs imported into a file and into PostgreSQL: the sweep (streamed from a
    server-side cursor there) and the report's figures are the same."""
    from conftest import DATE_FILE

    file_log = tmp_path / "calls.db"
    outputs = []
    for db in (file_log, pg_log):
        assert CliRunner().invoke(main, ["import", str(DATE_FILE), "--db", str(db)]).exit_code == 0
        result = CliRunner().invoke(main, ["thresholds", "--db", str(db), "--json"])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
