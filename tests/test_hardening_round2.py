"""Hardening, round two: paths that cannot persist, logs from a newer routermon, private files,
read-only commands that never write, dedup keys that cannot collide, counts that are the run's own."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from routermon.core.errors import DatabaseError
from routermon.core.log import db as dbmod
from routermon.core.log.importing import ImportedPair, PairSide, dedup_key_for, import_pairs, request_id_for
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.tui.cli import main

# -- paths that cannot persist ----------------------------------------------------------------


@pytest.mark.parametrize("path", [":memory:", "file::memory:?cache=shared", "file:x.db?mode=memory"])
def test_paths_that_cannot_persist_are_refused(path):
    with pytest.raises(DatabaseError, match="cannot hold a call log"):
        CallLog(path)


@pytest.mark.parametrize("command", [["report"], ["thresholds"], ["simulate", "--requests", "5"]])
def test_cli_refuses_memory_database_with_one_sentence(command):
    result = CliRunner().invoke(main, [*command, "--db", ":memory:"])
    assert result.exit_code == 2, result.output
    assert "cannot hold a call log" in result.output and "Traceback" not in result.output


# -- a log written by a newer routermon ---------------------------------------------------------


def test_a_log_with_unknown_migrations_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "calls.db"
    CallLog(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('routermon', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for opener in (CallLog, LogReader):
        with pytest.raises(DatabaseError, match="written by a newer routermon"):
            opener(path)
    assert path.read_bytes() == before
    result = CliRunner().invoke(main, ["report", "--db", str(path)])
    assert result.exit_code == 2 and "newer routermon" in result.output


# -- read-only commands never write -------------------------------------------------------------


def test_report_on_an_empty_file_does_not_write_a_schema(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    result = CliRunner().invoke(main, ["report", "--db", str(path)])
    assert result.exit_code == 2, result.output
    assert "empty" in result.output
    assert path.read_bytes() == b""


# -- files and privacy ----------------------------------------------------------------------------


def test_new_folder_is_0700_and_log_files_0600_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "deeper" / "calls.db"
        with CallLog(path) as log:
            log.flush()
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
        assert modes["calls.db"] == 0o600
        for name in ("calls.db-wal", "calls.db-shm"):
            if name in modes:  # SQLite gives them the database's mode
                assert modes[name] == 0o600, modes
    finally:
        os.umask(old)


def test_an_existing_world_readable_log_keeps_its_mode_and_is_warned_about_once(tmp_path, caplog):
    path = tmp_path / "calls.db"
    CallLog(path).close()
    os.chmod(path, 0o644)
    dbmod._warned_readable.discard(str(path))
    with caplog.at_level(logging.WARNING, logger="routermon"):
        CallLog(path).close()
        LogReader(path).close()
    warnings = [r for r in caplog.records if "can be read by every user" in r.getMessage()]
    assert len(warnings) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# -- dedup keys ---------------------------------------------------------------------------------


def _pair(task: str, pair_id: str | None, text: str | None = None) -> ImportedPair:
    side = PairSide(model="m", answer="a", confidence=0.5, input_tokens=1, output_tokens=1)
    return ImportedPair(
        line=1, task=task, id=pair_id, input=text, cheap=side, strong=side, line_sha256="0" * 64
    )


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_dedup_keys_are_injective(task_a, id_a, task_b, id_b):
    """Two different (task, id) pairs never share a dedup key or a request id, whatever the strings
    hold (``:`` used to join them: task ``a:b`` id ``c`` collided with task ``a`` id ``b:c``)."""
    a, b = _pair(task_a, id_a), _pair(task_b, id_b)
    for role in ("cheap", "shadow"):
        same = (task_a, id_a) == (task_b, id_b)
        assert (dedup_key_for(a, role) == dedup_key_for(b, role)) == same
    assert (request_id_for(a) == request_id_for(b)) == ((task_a, id_a) == (task_b, id_b))


def test_dedup_keys_collisions_of_the_old_format_are_two_pairs(tmp_path):
    """The example the attack used: both pairs are imported, and the import says two."""
    lines = []
    for task, pair_id in (("a:b", "c"), ("a", "b:c"), ("t", "sha256:" + "0" * 64)):
        side = {"model": "m", "answer": "x", "confidence": 0.5, "input_tokens": 1, "output_tokens": 1}
        lines.append({"task": task, "id": pair_id, "input": "same", "cheap": side, "strong": side})
    lines.append({"task": "t", "input": "z", "cheap": lines[0]["cheap"], "strong": lines[0]["strong"]})
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = import_pairs(src, tmp_path / "calls.db")
    assert (result.imported, result.rows_written) == (4, 8)
    with LogReader(tmp_path / "calls.db") as reader:
        assert reader.max_id() == 8


def test_old_format_keys_are_unchanged_for_plain_names():
    """Logs imported by earlier versions keep deduplicating: plain names give the same key as before."""
    assert dedup_key_for(_pair("classify", "row-1"), "cheap") == "import:classify:row-1:cheap"


def test_a_reimport_and_a_concurrent_import_report_only_what_they_wrote(tmp_path, log_db):
    side = {"model": "m", "answer": "x", "confidence": 0.5, "input_tokens": 1, "output_tokens": 1}
    src = tmp_path / "pairs.jsonl"
    src.write_text(
        "".join(
            json.dumps({"task": "t", "id": str(i), "cheap": side, "strong": side}) + "\n" for i in range(50)
        )
    )
    db = log_db  # on SQLite and on PostgreSQL (``conftest.backend``)
    first = import_pairs(src, db)
    again = import_pairs(src, db)
    assert (first.imported, first.rows_written) == (50, 100)
    assert (again.imported, again.rows_written, again.already_present) == (0, 0, 50)


def test_an_empty_db_option_is_refused():
    result = CliRunner().invoke(main, ["report", "--db", ""])
    assert result.exit_code == 2 and "--db is empty" in result.output


# -- inputs read exactly, pathological input is a bad line ---------------------------------------

_SIDE = {"model": "m", "answer": "x", "confidence": 0.5, "input_tokens": 1, "output_tokens": 1}


def _line(**extra) -> str:
    return json.dumps({"task": "t", "cheap": _SIDE, "strong": _SIDE, **extra}, ensure_ascii=False)


def test_jsonl_lines_split_on_newline_only_and_a_bom_is_accepted(tmp_path):
    src = tmp_path / "pairs.jsonl"
    text = "\ufeff" + _line(id="a", input="one\u2028two\u0085three\x1cfour") + "\r\n" + _line(id="b") + "\n"
    src.write_text(text, encoding="utf-8")
    result = import_pairs(src, tmp_path / "calls.db", store_inputs="full")
    assert (result.imported, result.skipped_count) == (2, 0)
    with LogReader(tmp_path / "calls.db") as reader:
        previews = {r.input_preview for r in reader.calls_after(0)}
    assert "one\u2028two\u0085three\x1cfour" in previews


def test_deeply_nested_json_is_a_bad_line_not_a_crash(tmp_path):
    src = tmp_path / "pairs.jsonl"
    src.write_text(_line(id="ok") + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(Exception, match="line 2: JSON nested too deeply"):
        import_pairs(src, tmp_path / "calls.db")
    result = import_pairs(src, tmp_path / "calls.db", skip_invalid=True)
    assert (result.imported, result.skipped_count) == (1, 1)


def test_a_device_is_refused_and_an_overlong_line_is_skipped_in_bounded_memory(tmp_path, monkeypatch):
    from routermon.core.errors import ImportFormatError
    from routermon.core.log import importing as pairsmod

    with pytest.raises(ImportFormatError, match="is a device"):
        import_pairs("/dev/zero", tmp_path / "calls.db")
    monkeypatch.setattr(pairsmod, "MAX_LINE_BYTES", 1000)
    src = tmp_path / "pairs.jsonl"
    src.write_text(_line(id="ok") + "\n" + "x" * 50_000 + "\n" + _line(id="ok2") + "\n")
    result = import_pairs(src, tmp_path / "calls.db", skip_invalid=True)
    assert (result.imported, result.skipped_count) == (2, 1)
    assert "line 2: longer than" in str(result.skipped[0])


def test_two_concurrent_imports_of_one_file_split_the_pairs_between_them(tmp_path, log_db):
    """Each import reports what it wrote itself: together exactly the file, never both all of it."""
    import subprocess
    import sys

    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(_line(id=str(i)) + "\n" for i in range(6000)))
    db = log_db  # two hosts importing into one PostgreSQL log split it as two processes on a file do
    CallLog(db).close()
    # A 1 ms lock timeout: on PostgreSQL the import that waits for the other's lock always goes
    # through the lock-timeout path (a timed-out LOCK once left its transaction aborted).
    code = (
        "import json,sys; from routermon.core.log import pg; pg.LOCK_TIMEOUT_MS = 1;"
        "from routermon.core.log.importing import import_pairs;"
        "r = import_pairs(sys.argv[1], sys.argv[2]); print(json.dumps([r.imported, r.rows_written]))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(src), str(db)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(r[0] for r in results) == 6000 and sum(r[1] for r in results) == 12000, results
    with LogReader(db) as reader:
        # Every row once (PostgreSQL's ids skip the numbers a skipped duplicate drew: count, not max).
        assert reader.conn.execute("SELECT COUNT(*), COUNT(DISTINCT dedup_key) FROM calls").fetchone() == (
            12000,
            12000,
        )


# -- a run's summary counts only its own rows ---------------------------------------------------


def test_concurrent_simulate_runs_each_report_only_their_own_requests(tmp_path):
    """Three `routermon simulate` runs on one log at once: each summary is its own traffic."""
    import subprocess
    import sys

    db = tmp_path / "calls.db"
    CallLog(db).close()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "routermon.tui.cli",
                "simulate",
                "--requests",
                str(n),
                "--seed",
                str(n),
                "--db",
                str(db),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (150, 200, 250)
    ]
    summaries = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        summaries.append(json.loads(out))
    assert [s["tally"]["requests"] for s in summaries] == [150, 200, 250]
    with LogReader(db) as reader:
        total = reader.summary()
    assert total.requests == 600
    assert abs(sum(s["tally"]["spend_usd"] for s in summaries) - total.spend_usd) < 1e-9


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1.0", "nan", "inf"])
def test_price_overrides_must_be_finite_and_not_negative(tmp_path, monkeypatch, value):
    config = tmp_path / "settings.toml"
    config.write_text(f'[prices."my-model"]\ninput_mtok = {value}\noutput_mtok = 1.0\n')
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    result = CliRunner().invoke(main, ["whatif", "--cheap", "my-model", "--volume", "1000"])
    assert result.exit_code == 2, result.output
    assert "prices" in result.output and "Traceback" not in result.output


def test_price_overrides_given_to_the_library_are_checked_too():
    from routermon.core.errors import UnknownModelError
    from routermon.core.prices import PriceBook

    book = PriceBook(overrides={"m": {"input_mtok": -2.0, "output_mtok": 1.0}})
    with pytest.raises(UnknownModelError, match="finite number"):
        book.rates("m")


@pytest.mark.parametrize("flag", ["--volume", "--input-tokens"])
def test_whatif_inputs_that_would_overflow_are_refused(flag):
    given = {"--volume": "1000", "--cheap-share": "0.8", "--input-tokens": "500", "--output-tokens": "100"}
    given[flag] = "1e308"
    result = CliRunner().invoke(main, ["whatif", *(x for kv in given.items() for x in kv), "--json"])
    assert result.exit_code == 2, result.output
    assert "at most" in result.output or "less than or equal" in result.output, result.output
    assert "Infinity" not in result.output and "inf" not in result.output.lower().replace("info", "")


@pytest.mark.parametrize("days", ["1e300", "0", "nan", "-3"])
def test_simulate_days_are_bounded(tmp_path, days):
    result = CliRunner().invoke(
        main, ["simulate", "--requests", "5", "--days", days, "--db", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 2, result.output
    assert "days" in result.output


# -- a locked database, a full disk ---------------------------------------------------------------


def _record(n: int, text: str = "x"):
    from routermon.core.log.records import CallRecord

    return CallRecord(ts=1.0 + n, request_id=f"r{n}", task="t", model="m", role="cheap", answer=text)


def test_a_locked_database_is_waited_out_and_said_at_once(tmp_path, caplog):
    """A writer that finds the log locked says so at once, keeps its rows and writes them when the
    lock goes; nothing is lost however long the lock lasts beyond the busy timeout."""
    import threading
    import time

    path = tmp_path / "calls.db"
    CallLog(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    with caplog.at_level(logging.WARNING, logger="routermon"):
        log = CallLog(path)
        started = time.monotonic()
        log.log_many([_record(i) for i in range(10)])
        timer = threading.Timer(1.5, lambda: holder.execute("ROLLBACK"))
        timer.start()
        log.close()  # waits for the lock, however long
        timer.join()
    said = [r.getMessage() for r in caplog.records if "waiting for the database" in r.getMessage()]
    assert said and time.monotonic() - started >= 1.0
    with LogReader(path) as reader:
        assert reader.max_id() == 10


def test_a_full_disk_names_its_cause_and_stops_the_spending(tmp_path):
    """When a commit fails because the disk is full, the message says so (not "cannot rollback"),
    the router refuses further requests instead of paying for calls it cannot record, and closing
    the log says how many rows were not written."""
    import asyncio

    from routermon.core.route.router import Router
    from routermon.core.simulate.standin import StandInAPI

    path = tmp_path / "calls.db"
    log = CallLog(path)
    log.flush()
    pages = log._conn.execute("PRAGMA page_count").fetchone()[0]
    log._conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # a disk with room for almost nothing
    log.log_many([_record(i, "y" * 5000) for i in range(50)])
    with pytest.raises(DatabaseError, match="disk holding the database .* is full"):
        log.flush(timeout=10)
    assert log.failure is not None
    router = Router("claude-haiku-4-5", "claude-sonnet-4-6", client=StandInAPI().client(), log=log)
    with pytest.raises(DatabaseError, match="is full"):
        asyncio.run(router.route("classify", "hello", labels=["a", "b"]))
    with pytest.raises(DatabaseError, match=r"is full.*rows were not written"):
        log.close()


def test_ctrl_c_in_fake_api_exits_130(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", "from routermon.tui import run; run()", "fake-api", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert "Stand-in Messages API" in line
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
