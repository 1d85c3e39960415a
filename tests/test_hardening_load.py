"""Hardening, load: 4 writer processes and the reader API on one database at once.

For ``ROUTERMON_LOAD_SECONDS`` (default 20, the issue's figure) four processes each log rows through
their own ``CallLog`` while this process tails and summarises the log with ``LogReader`` and the
live monitor tails it. No "database is locked" may escape anywhere, every row each writer logged is
there exactly once, and the monitor's figures are a direct SQL count's. On SQLite and on
PostgreSQL, where each writer process stands for a host of its own (``conftest.backend``).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
import traceback

import pytest

from routermon.core.errors import DatabaseError
from routermon.core.log.live import LiveMonitor
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.log.store import CallLog

pytestmark = pytest.mark.slow  # in the normal run; `-m 'not slow'` skips it locally

WRITERS = 4
SECONDS = float(os.environ.get("ROUTERMON_LOAD_SECONDS", "20"))


def row(writer: int, n: int, ts: float) -> tuple:
    values = dict.fromkeys(CALL_COLUMNS)
    values.update(
        ts=ts,
        request_id=f"w{writer}-{n:08d}",
        task="classify",
        mode="cascade",
        source="load-test",
        model="claude-haiku-4-5",
        role="cheap",
        tier=0,
        input_tokens=100 + n % 50,
        output_tokens=20,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_usd=0.0002,
        latency_ms=400.0,
        confidence=0.9,
        answer='"safe"',
        escalated=n % 10 == 0,
        escalation_reason="low_confidence" if n % 10 == 0 else None,
        final=n % 10 != 0,
        input_sha256=f"{writer:02d}{n:062d}",
        input_preview=f"writer {writer} row {n}",
    )
    return tuple(values[c] for c in CALL_COLUMNS)


def write_until(db: str, writer: int, deadline: float, results) -> None:
    """One writer process: small random batches, frequent flushes, until the deadline."""
    try:
        rng = random.Random(writer)
        written = 0
        with CallLog(db, max_delay=0.002, batch_size=200) as log:
            while time.time() < deadline:
                size = rng.randint(1, 40)
                log.log_rows([row(writer, written + i, time.time()) for i in range(size)])
                written += size
                if rng.random() < 0.05:
                    log.flush()
                time.sleep(rng.uniform(0.005, 0.015))  # about 2,000 rows a second per writer
            acknowledged = log.flush()
        results.put((writer, written, acknowledged, None))
    except BaseException:  # report anything, "database is locked" above all
        results.put((writer, -1, -1, traceback.format_exc()))


def test_four_writer_processes_and_a_reader_lose_and_duplicate_nothing(new_log):
    db = new_log("load.db")
    CallLog(db).close()  # the schema exists before anyone races for it
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 2.0  # time for the spawned interpreters to import routermon
    deadline = start + SECONDS
    writers = [
        context.Process(target=write_until, args=(str(db), w, deadline, results)) for w in range(WRITERS)
    ]
    for process in writers:
        process.start()

    # The reader API in a loop meanwhile: tail by id and summarise, reopening now and then.
    last_id, tailed, summaries, reopened = 0, 0, 0, 0
    reader = LogReader(db)
    monitor = LiveMonitor.open(db)  # the app's tail: every new row folded into its figures once
    try:
        while any(p.is_alive() for p in writers):
            new = reader.calls_after(last_id, limit=2_000)
            if new:
                ids = [r.id for r in new]
                assert ids == sorted(set(ids)) and ids[0] > last_id
                last_id, tailed = ids[-1], tailed + len(new)
            summary = reader.summary()
            assert summary.calls >= tailed
            summaries += 1
            monitor.refresh()
            if summaries % 50 == 0:
                reader.buckets(1.0, since=time.time() - 5)
                reader.close()
                reader = LogReader(db)
                reopened += 1
            time.sleep(0.01)
    except DatabaseError as exc:  # a locked database must never reach the reader
        raise AssertionError(f"the reader API raised under load: {exc}") from None
    finally:
        for process in writers:
            process.join(timeout=60)
    reported = sorted(results.get(timeout=10) for _ in range(WRITERS))
    for writer, written, acknowledged, error in reported:
        assert error is None, f"writer {writer} failed:\n{error}"
        assert acknowledged == written > 0
    assert all(p.exitcode == 0 for p in writers)

    tailed += len(reader.calls_after(last_id))
    monitor.refresh()
    figures = monitor.figures()
    monitor.close()
    counts = dict(
        reader.conn.execute("SELECT substr(request_id, 1, 2), COUNT(*) FROM calls GROUP BY 1").fetchall()
    )
    total, distinct = reader.conn.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM calls").fetchone()
    escalated, spend = reader.conn.execute(
        "SELECT COALESCE(SUM(escalated), 0), COALESCE(SUM(cost_usd), 0) FROM calls"
    ).fetchone()
    reader.close()
    # The monitor, tailing by id all along, holds what a direct count of the table says.
    assert (figures.requests, figures.calls, figures.escalated) == (total, total, escalated)
    assert figures.spend_usd == pytest.approx(float(spend))
    # No row lost: each writer's rows are all there; none duplicated: every request id once.
    assert counts == {f"w{writer}": written for writer, written, _, _ in reported}
    assert total == distinct == sum(written for _, written, _, _ in reported)
    # The tail saw every row exactly once, and the reader kept working all along.
    assert tailed == total
    assert summaries > 10 and (SECONDS < 10 or reopened > 0)
