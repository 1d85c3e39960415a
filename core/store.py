"""The call log writer: rows are queued and committed in batches by a background thread.

``CallLog.log()`` only appends to a queue, so the request path never waits on the disk.
A row is *acknowledged* once its batch is committed (``flush()`` returns, or ``committed``
counts it); with WAL and ``synchronous=NORMAL`` an acknowledged row survives a crash of the process.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from .db import connect, translate
from .errors import DatabaseError
from .records import CALL_COLUMNS, CallRecord

INSERT_SQL = (
    f"INSERT OR IGNORE INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({', '.join('?' for _ in CALL_COLUMNS)})"
)

_open_logs: weakref.WeakSet[CallLog] = weakref.WeakSet()


@atexit.register
def _flush_open_logs() -> None:
    for log in list(_open_logs):
        try:
            log.close()
        except DatabaseError:
            pass


class CallLog:
    """Appends ``CallRecord`` rows to the SQLite log at ``path`` from a background writer thread.

    Args:
        path: the database file; created (with its folder) if missing.
        batch_size: most rows committed in one transaction.
        max_delay: seconds a queued row waits for more rows before its batch is committed.
        on_commit: called from the writer thread with the number of rows in each committed batch.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        batch_size: int = 2000,
        max_delay: float = 0.05,
        on_commit: Callable[[int], None] | None = None,
    ):
        self.path = Path(path)
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.on_commit = on_commit
        self._conn = connect(self.path)
        self._pending: list[tuple] = []
        self._cond = threading.Condition()
        self._enqueued = 0
        self._committed = 0
        self._closed = False
        self._error: DatabaseError | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"routermon-writer:{self.path.name}", daemon=True
        )
        self._thread.start()
        _open_logs.add(self)

    # -- request path -------------------------------------------------------------------------

    def log(self, record: CallRecord) -> None:
        """Queue one call for writing; returns at once."""
        self.log_rows((record.as_row(),))

    def log_many(self, records: Iterable[CallRecord]) -> None:
        """Queue several calls for writing, in order."""
        self.log_rows([r.as_row() for r in records])

    def log_rows(self, rows: Iterable[tuple]) -> None:
        """Queue raw rows in ``CALL_COLUMNS`` order (the fast path for bulk loads)."""
        with self._cond:
            if self._closed:
                raise DatabaseError(f"The call log {self.path} is closed.")
            before = len(self._pending)
            self._pending.extend(rows)
            self._enqueued += len(self._pending) - before
            self._cond.notify_all()

    # -- acknowledgement ----------------------------------------------------------------------

    @property
    def committed(self) -> int:
        """How many queued rows are committed to disk so far."""
        return self._committed

    @property
    def enqueued(self) -> int:
        return self._enqueued

    def flush(self, timeout: float | None = 30.0) -> int:
        """Wait until every row queued so far is committed; returns the committed count.

        Raises ``DatabaseError`` if the writer keeps failing (e.g. the database stays locked).
        """
        with self._cond:
            target = self._enqueued
            self._cond.notify_all()
            ok = self._cond.wait_for(lambda: self._committed >= target or self._error is not None, timeout)
            if self._committed >= target:
                return self._committed
            if self._error is not None:
                raise self._error
            if not ok:
                raise DatabaseError(f"Writing to {self.path} did not finish within {timeout:.0f} s.")
            return self._committed

    def close(self) -> None:
        """Flush every queued row, then stop the writer. Safe to call twice."""
        if self._closed:
            return
        try:
            self.flush(timeout=None if self._error is None else 5.0)
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._thread.join(timeout=10)
            self._conn.close()
            _open_logs.discard(self)

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending and self._closed:
                    return
                if len(self._pending) < self.batch_size and not self._closed:
                    # Let a burst accumulate; flush() and close() wake us early.
                    self._cond.wait(self.max_delay)
                batch = self._pending[: self.batch_size]
                del self._pending[: self.batch_size]
            self._write(batch)

    def _write(self, batch: list[tuple]) -> None:
        delay = 0.05
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(INSERT_SQL, batch)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                err = translate(self.path, exc)
                with self._cond:
                    self._error = err
                    self._cond.notify_all()
                    if self._closed:
                        return  # close() gave up waiting; the rows were never acknowledged
                threading.Event().wait(delay)
                delay = min(delay * 2, 1.0)
                continue
            with self._cond:
                self._committed += len(batch)
                self._error = None
                self._cond.notify_all()
            if self.on_commit is not None:
                self.on_commit(len(batch))
            return
