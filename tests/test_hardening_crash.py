"""Hardening, crash: a writer process killed with SIGKILL mid-stream loses no acknowledged row.

The child logs numbered rows as fast as it can, in bursts of every size (one row up to a few
thousand, so a kill can land inside a big transaction or a checkpoint), and prints how many rows
are committed each time the writer acknowledges a batch (``on_commit``) and each time ``flush()``
returns. The parent kills it at a different moment in each trial, then reopens the database.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog

pytestmark = pytest.mark.slow  # in the normal run; `-m 'not slow'` skips it locally

CHILD = textwrap.dedent(
    """
    import random, sys, threading
    from routermon.core.log.records import CALL_COLUMNS
    from routermon.core.log.store import CallLog

    lock = threading.Lock()
    committed = 0

    def say(line):
        with lock:  # one line at a time from the writer thread and the main thread
            sys.stdout.write(line + "\\n")
            sys.stdout.flush()

    def acknowledged(rows):
        global committed
        committed += rows  # only the writer thread calls this
        say(f"ack {committed}")

    def row(n):
        values = dict.fromkeys(CALL_COLUMNS)
        values.update(ts=1.75e9 + n, request_id=f"c-{n:09d}", task="classify", mode="cascade",
                      source="crash-test", model="claude-haiku-4-5", role="cheap", tier=0,
                      input_tokens=100, output_tokens=10, cache_read_tokens=0, cache_write_tokens=0,
                      latency_ms=300.0, escalated=0, final=1, input_sha256="%064d" % n,
                      answer='"safe"', input_preview="row %d " % n + "x" * (n % 200))
        return tuple(values[c] for c in CALL_COLUMNS)

    rng = random.Random(int(sys.argv[2]))
    log = CallLog(sys.argv[1], batch_size=int(sys.argv[3]), max_delay=0.002, on_commit=acknowledged)
    n = 0
    say("ready")
    while True:
        size = rng.choice([1, 3, 17, 150, 900, 4000])
        log.log_rows([row(n + i) for i in range(size)])
        n += size
        if rng.random() < 0.2:
            say(f"flushed {log.flush()}")
    """
)


def run_and_kill(db, *, seed: int, batch_size: int, kill_after_acks: int, delay: float) -> int:
    """Start a writer, SIGKILL it ``delay`` s after ``kill_after_acks`` acknowledgements; returns the
    highest count acknowledged before the kill."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(seed), str(batch_size)],
        stdout=subprocess.PIPE,
        text=True,
    )
    acknowledged = 0
    acks = 0
    try:
        assert child.stdout.readline().strip() == "ready"
        for line in child.stdout:
            kind, count = line.split()
            # Rows are acknowledged in order, so the highest count says which rows must survive.
            acknowledged = max(acknowledged, int(count))
            acks += kind == "ack"
            if acks >= kill_after_acks:
                break
        time.sleep(delay)  # let the writer get into its next transaction (or a checkpoint)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return acknowledged


@pytest.mark.parametrize(
    ("seed", "batch_size", "kill_after_acks", "delay"),
    [(1, 2000, 3, 0.0), (2, 2000, 40, 0.004), (3, 500, 150, 0.011), (4, 64, 400, 0.023)],
)
def test_every_acknowledged_row_survives_sigkill(tmp_path, seed, batch_size, kill_after_acks, delay):
    db = tmp_path / "crash.db"
    acknowledged = run_and_kill(
        db, seed=seed, batch_size=batch_size, kill_after_acks=kill_after_acks, delay=delay
    )
    assert acknowledged > 0
    assert os.path.exists(f"{db}-wal")  # killed: nobody checkpointed or removed the WAL

    # Reopening recovers the WAL; the file is sound.
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    with LogReader(db) as reader:
        ids = [r[0] for r in reader.conn.execute("SELECT request_id FROM calls ORDER BY id")]
    numbers = [int(i.split("-")[1]) for i in ids]
    # Every acknowledged row is there; what survived beyond them is a whole prefix, never a hole.
    assert len(numbers) >= acknowledged
    assert numbers == list(range(len(numbers)))

    # The log keeps working after the crash: a new writer appends after the survivors.
    with CallLog(db) as log:
        log.log_rows([tuple(r) for r in _copy_last_row(db, new_id="after-crash")])
    with LogReader(db) as reader:
        assert reader.calls_after(0)[-1].request_id == "after-crash"
        assert reader.summary().calls == len(numbers) + 1


def _copy_last_row(db, *, new_id: str) -> list[tuple]:
    with LogReader(db) as reader:
        last = reader.recent_calls(1)[0]
    row = last.as_row()
    return [(row[0], new_id, *row[2:])]
