"""The call log writer: rows are queued and committed in batches by a background thread.

``CallLog.log()`` only appends to a queue, so the request path never waits on the disk; the writer
commits what has gathered every ``max_delay`` seconds while rows flow, and sleeps when they stop.
A row is *acknowledged* once its batch is committed (``flush()`` returns, or ``committed``
counts it); with WAL and ``synchronous=NORMAL`` an acknowledged row survives a crash of the process.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import math
import operator
import sqlite3
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import ConfigError, DatabaseError
from ..formatting import local_time, plural
from ..location import PostgresLog
from ..text import valid_utf8
from . import pg
from .db import (
    DB_ERRORS,
    after_insert,
    begin_write,
    connect,
    is_lock,
    last_call_id,
    log_location,
    max_params,
    translate,
)
from .records import CALL_COLUMNS, CallRecord, HumanLabel

# A row whose dedup_key is already logged (an import or shadow run done twice) is skipped; any other
# constraint a row breaks (a NULL where a value is required) is an error, not a silently dropped row.
_ON_DUPLICATE = "ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING"
INSERT_SQL = (
    f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({', '.join('?' for _ in CALL_COLUMNS)}) "
    + _ON_DUPLICATE
)

_ROW_PLACEHOLDERS = f"({', '.join('?' for _ in CALL_COLUMNS)})"
# Rows per multi-row INSERT: one statement binds in C and runs without the GIL, about 30% faster
# than executemany, which takes the GIL back for every row (and stalls the request path's thread).
ROWS_PER_STATEMENT = 500

# PostgreSQL: a batch is copied into the writer's staging table, then moved under the writers' lock.
_FROM_STAGED_SQL = (
    f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) SELECT {', '.join(CALL_COLUMNS)} FROM calls_staged "
    + _ON_DUPLICATE
)

_GETTERS = tuple(operator.itemgetter(i) for i in range(len(CALL_COLUMNS)))
_REQUEST_ID_AT = CALL_COLUMNS.index("request_id")

_open_logs: weakref.WeakSet[CallLog] = weakref.WeakSet()
_log = logging.getLogger("routermon")


# Errors that come from a row's values, not from the database: retrying the batch cannot help.
_ROW_ERRORS = (
    ValueError,  # includes UnicodeEncodeError: text with a lone surrogate
    TypeError,
    OverflowError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
)


class _FlushMark:
    """Queued by ``flush()``: done once every row queued before it is committed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False


def _repaired(row: tuple, postgres: bool) -> tuple:
    """``row`` with text SQLite or PostgreSQL cannot store repaired: lone surrogates (``valid_utf8``),
    and for PostgreSQL NUL characters, which its text type cannot hold, as U+FFFD."""
    if postgres:
        return tuple(valid_utf8(v).replace("\x00", "\ufffd") if isinstance(v, str) else v for v in row)
    return tuple(valid_utf8(v) if isinstance(v, str) else v for v in row)


# The columns that hold floats. A number that is not finite (an infinite cost, a NaN latency) is never
# stored: it becomes unknown, NULL or latency_ms's 0; a ts that is not finite becomes NULL, which the
# NOT NULL column refuses, so that row alone is refused (row by row) with the reason.
_FLOAT_AT = tuple(
    CALL_COLUMNS.index(name)
    for name in ("ts", "cost_usd", "latency_ms", "confidence", "threshold", "audit_share")
)
_UNKNOWN_NUMBER = {CALL_COLUMNS.index("latency_ms"): 0.0}


def _all_finite(batch: list[tuple], at: int) -> bool:
    # One C-level sum per column: finite unless some value is not (or the sum overflows, when the
    # values are checked one by one all the same).
    try:
        return math.isfinite(sum(filter(None, map(_GETTERS[at], batch))))
    except TypeError:  # a value that is not a number: the database decides, as for any other row
        return True


def _finite(batch: list[tuple], path: object) -> list[tuple]:
    """``batch`` with every number that is not finite made unknown (``_FLOAT_AT``), with a warning."""
    suspects = [at for at in _FLOAT_AT if not _all_finite(batch, at)]
    if not suspects:
        return batch
    cleaned = 0
    out = []
    for row in batch:
        if any(isinstance(row[at], float) and not math.isfinite(row[at]) for at in suspects):
            row = tuple(
                _UNKNOWN_NUMBER.get(at)
                if at in suspects and isinstance(v, float) and not math.isfinite(v)
                else v
                for at, v in enumerate(row)
            )
            cleaned += 1
        out.append(row)
    if cleaned:
        _log.warning(
            "routermon: %s for %s held a number that is not finite (an infinite cost from an extreme "
            "price?); stored as unknown.",
            plural(cleaned, "call"),
            path,
        )
    return out


def _multi_row_sql(rows: int, nulls: tuple[int, ...] = ()) -> str:
    """A ``rows``-row INSERT; the columns in ``nulls`` (indexes into ``CALL_COLUMNS``) are NULL literals."""
    if nulls:
        values = "(" + ", ".join("NULL" if i in nulls else "?" for i in range(len(CALL_COLUMNS))) + ")"
    else:
        values = _ROW_PLACEHOLDERS
    return (
        f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES "
        + ", ".join([values] * rows)
        + " "
        + _ON_DUPLICATE
    )


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
        max_delay: while rows flow, the writer commits what has gathered every ``max_delay`` seconds
            (at most this long between ``log()`` and the commit; ``flush()`` commits at once).
        idle_after: seconds without rows after which the writer sleeps until the next row instead
            of waking every ``max_delay``.
        on_commit: called from the writer thread with the number of rows each commit acknowledged.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        batch_size: int = 2000,
        max_delay: float = 0.5,
        idle_after: float = 2.0,
        on_commit: Callable[[int], None] | None = None,
    ):
        self.path = log_location(path)
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.idle_after = idle_after
        self.on_commit = on_commit
        self._conn = connect(self.path)
        self._pg = pg.is_pg(self._conn)
        self._rows_per_statement = max(
            1, min(ROWS_PER_STATEMENT, max_params(self._conn) // len(CALL_COLUMNS))
        )
        self._statements: dict[tuple[int, tuple[int, ...]], tuple[str, Callable | None]] = {}
        # Row lists and flush marks, in order. deque.append is atomic, so the request path takes no lock.
        self._queue: deque[tuple | _FlushMark] = deque()
        self._cond = threading.Condition()  # the writer sleeps on it; flush() and close() wake it
        self._idle = False  # the writer sleeps until a row arrives (set before it looks at the queue)
        self._wake = False  # flush() or close() wants the writer to stop waiting for more rows
        self._taken = 0  # rows the writer has taken off the queue
        self._committed = 0
        self._closed = False
        self._error: DatabaseError | None = None
        # Rows SQLite refused even after repair (a value of a type it cannot store, or a NULL where the
        # schema needs a value): never committed, never counted in ``committed``.
        self.rejected = 0
        self.last_rejection: str | None = None
        # The last commit failed for a reason waiting cannot cure (a full disk, a read-only file):
        # a caller that spends money per row (the router) stops instead of paying for unwritten rows.
        self.failure: DatabaseError | None = None
        self._waiting_told = False
        # Called with each batch of rows as it is queued (``add_row_observer``): a caller counting
        # what it logged itself, whatever becomes of the rows later.
        self._row_observers: list[Callable[[tuple[tuple, ...]], None]] = []
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
        rows = tuple(rows)  # our own copy: the caller may reuse its list
        width = len(CALL_COLUMNS)
        for row in rows:
            if len(row) != width:
                # The writer inserts rows many to a statement: a short row would shift every value after it.
                raise ValueError(f"Each row must have the {width} values of CALL_COLUMNS, in order.")
        if self._closed:
            raise DatabaseError(f"The call log {self.path} is closed.")
        if not rows:
            return
        for observe in self._row_observers:
            observe(rows)
        self._queue.append(rows)
        # The writer wakes on its own every max_delay while rows flow; a row only wakes it from an idle
        # sleep, or when a batch's worth is waiting. Every wake-up of a thread costs the caller's event
        # loop a GIL hand-over (a few ms of throughput on a busy loop), so rows never wake it one by one.
        full = len(rows) >= self.batch_size or len(self._queue) >= self.batch_size  # queue: calls, not rows
        if self._idle or (full and not self._wake):
            with self._cond:
                self._idle = False
                self._wake = self._wake or full
                self._cond.notify_all()

    def add_row_observer(self, observe: Callable[[tuple[tuple, ...]], None]) -> None:
        """Call ``observe`` with every batch of rows queued from now on (``CALL_COLUMNS`` order), in
        the thread that logs them: what a run logged, counted by the run itself."""
        self._row_observers = [*self._row_observers, observe]  # a new list: log_rows may be iterating

    def remove_row_observer(self, observe: Callable[[tuple[tuple, ...]], None]) -> None:
        self._row_observers = [o for o in self._row_observers if o is not observe]

    # -- acknowledgement ----------------------------------------------------------------------

    @property
    def committed(self) -> int:
        """How many queued rows are committed to disk so far (a row whose ``dedup_key`` was already
        logged counts once it is known to be there; a rejected row never counts)."""
        return self._committed

    @property
    def enqueued(self) -> int:
        """How many rows were queued so far (committed or not)."""
        queued = sum(len(item) for item in list(self._queue) if not isinstance(item, _FlushMark))
        return self._taken + queued

    def flush(self, timeout: float | None = 30.0) -> int:
        """Wait until every row queued so far is committed; returns the committed count.

        Raises ``DatabaseError`` at once when a commit failed for a reason waiting cannot cure (a
        full disk), or after ``timeout`` seconds while the database stays locked (``None``: wait).
        """
        if self._closed and not self._thread.is_alive():
            return self._committed
        mark = _FlushMark()
        self._queue.append(mark)
        with self._cond:
            self._wake = True
            self._cond.notify_all()
            # A lock is waited out (up to ``timeout``); a failure waiting cannot cure ends the wait.
            ok = self._cond.wait_for(lambda: mark.done or self.failure is not None, timeout)
            if mark.done:
                return self._committed
            if self.failure is not None:
                raise self.failure
            if not ok:
                if self._error is not None:
                    raise self._error
                raise DatabaseError(f"Writing to {self.path} did not finish within {timeout:.0f} s.")
            return self._committed

    def _queued_rows(self) -> int:
        return sum(len(item) for item in list(self._queue) if not isinstance(item, _FlushMark))

    def close(self) -> None:
        """Flush every queued row, then stop the writer. Safe to call twice.

        A database locked by another process is waited out, however long (the rows are kept and
        the wait is said on stderr); a failure waiting cannot cure (a full disk) is given 5 s, then
        ``DatabaseError`` says how many rows were not written.
        """
        if self._closed:
            return
        try:
            try:
                self.flush(timeout=None if self.failure is None else 5.0)
            except DatabaseError as exc:
                unwritten = max(0, self.enqueued - self._committed - self.rejected)
                raise DatabaseError(
                    f"{str(exc).rstrip('.')}; {plural(unwritten, 'row')} {'was' if unwritten == 1 else 'were'} not written."
                ) from None
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._thread.join(timeout=10)
            if not self._thread.is_alive() and self._error is None:
                self._drain()  # rows queued by another thread while this one was closing
            self._conn.close()
            _open_logs.discard(self)

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a bug; say so on the next flush() instead of letting it hang
            with self._cond:
                self._error = DatabaseError(f"The call log writer for {self.path} stopped: {exc!r}.")
                self._cond.notify_all()
            raise

    def _serve(self) -> None:
        last_rows = time.monotonic()
        while True:
            with self._cond:
                if not self._wake and not self._closed:
                    if self._queue or time.monotonic() - last_rows < self.idle_after:
                        # Rows are flowing: commit what gathered every max_delay (a timer, not a wake-up per row).
                        self._cond.wait_for(lambda: self._wake or self._closed, self.max_delay)
                    else:
                        self._idle = True  # before looking at the queue: a row appended after this wakes us
                        self._cond.wait_for(lambda: self._queue or self._closed)
                        self._idle = False
                        if not self._wake and not self._closed:
                            # The first row after a quiet spell: let its burst gather for up to max_delay.
                            self._cond.wait_for(lambda: self._wake or self._closed, self.max_delay)
                self._wake = False
                if self._closed and not self._queue:
                    return  # closed, and nothing left to write
            if self._queue:
                last_rows = time.monotonic()
                if not self._drain():
                    return

    def _drain(self) -> bool:
        """Write everything queued, in batches of at most ``batch_size``; False if the log closed on an error."""
        batch: list[tuple] = []
        while True:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if isinstance(item, _FlushMark):
                if batch and not self._write(batch):
                    return False
                batch = []
                with self._cond:
                    item.done = True
                    self._cond.notify_all()
                continue
            self._taken += len(item)
            if batch and len(batch) + len(item) > self.batch_size and len(item) <= self.batch_size:
                # One request's rows (one ``log_rows`` call) stay in one transaction: its latency
                # is rolled up when its answer is written, over the calls written with it.
                if not self._write(batch):
                    return False
                batch = []
            batch.extend(item)
            while len(batch) >= self.batch_size:
                if not self._write(batch[: self.batch_size]):
                    return False
                del batch[: self.batch_size]
        return not batch or self._write(batch)

    def _write(self, batch: list[tuple]) -> bool:
        """Commit one batch, retrying while the database is locked; False if the log closed meanwhile."""
        delay = 0.05
        row_by_row = False
        batch = _finite(batch, self.path)
        while True:
            try:
                refused = self._commit(batch, row_by_row)
            except _ROW_ERRORS:
                if row_by_row or self._closed:
                    raise
                row_by_row = True  # a row SQLite refuses: store the others, one at a time
                continue
            except DB_ERRORS as exc:
                if not self._wait_out(exc, len(batch)):
                    return False  # close() gave up waiting; the rows were never acknowledged
                threading.Event().wait(delay)
                delay = min(delay * 2, 1.0)
                continue
            self._acknowledge(len(batch) - len(refused), refused)
            return True

    def _commit(self, batch: list[tuple], row_by_row: bool) -> list[str]:
        """Insert ``batch`` in one transaction (row by row: the refused rows' reasons, returned)."""
        refused: list[str] = []
        staged = self._pg and not row_by_row
        if staged:
            self._conn.execute("BEGIN")
        else:
            begin_write(self._conn)
        try:
            if staged:
                self._conn.stage(CALL_COLUMNS)
                # Copied before the writers' lock is taken: other hosts keep committing meanwhile.
                self._conn.copy_rows("calls_staged", CALL_COLUMNS, batch)
                self._conn.execute(pg.WRITE_LOCK_SQL)
                self._conn.execute(pg.WRITE_PLAN_SQL)
            before = last_call_id(self._conn)
            if row_by_row:
                refused = self._insert_each(batch)
            elif staged:
                self._conn.execute(_FROM_STAGED_SQL)
            else:
                self._insert(batch)
            after_insert(self._conn, before)
            self._conn.execute("COMMIT")
        except BaseException:
            # SQLite rolls back on its own after some errors (a full disk): a second ROLLBACK
            # would fail and hide the real cause.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return refused

    def _wait_out(self, exc: BaseException, batch_rows: int) -> bool:
        """Record a failed commit's error for the callers (telling the log once when the database is
        locked); False if the log is closing, so the batch is given up."""
        err = translate(self.path, exc)
        locked = is_lock(exc)
        if not locked:
            # SQLite's own text (e.g. "database or disk is full") stays with the sentence.
            self.failure = err
        elif not self._waiting_told:
            self._waiting_told = True
            _log.warning(
                "routermon: waiting for the database %s: %s; "
                "%d rows are queued and will be written when it is free.",
                self.path,
                exc.waiting if isinstance(exc, pg.PgError) else "another process holds its lock",
                batch_rows + self._queued_rows(),
            )
        with self._cond:
            self._error = err
            self._cond.notify_all()
            return not self._closed

    def _acknowledge(self, stored: int, refused: list[str]) -> None:
        """Count a committed batch's rows, clear the error, and tell ``on_commit``."""
        if self._waiting_told:
            self._waiting_told = False
            _log.warning("routermon: the database %s is free again; the queued rows are written.", self.path)
        self.failure = None
        with self._cond:
            self._committed += stored
            self.rejected += len(refused)
            if refused:
                self.last_rejection = refused[-1]
            self._error = None
            self._cond.notify_all()
        if self.on_commit is not None:
            try:
                self.on_commit(stored)
            except Exception:  # the caller's callback must not stop the writer
                threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), self._thread)))

    def _insert(self, batch: list[tuple]) -> None:
        # Full statements first, then the rest in power-of-two statements (a few cached SQL texts).
        start, size = 0, self._rows_per_statement
        while start < len(batch):
            while size > 1 and len(batch) - start < size:
                size = 1 << ((len(batch) - start).bit_length() - 1)
            chunk = batch[start : start + size]
            # A column that is None in every row of the chunk becomes a NULL literal in the SQL, so no
            # None is bound for it: sqlite3 sends every bound None through its adapter lookup.
            first = chunk[0]
            nulls = tuple(
                i
                for i, value in enumerate(first)
                if value is None and list(map(_GETTERS[i], chunk)).count(None) == size
            )
            if len(nulls) >= len(first) - 1:
                # Rows (nearly) all None: bound as they are, for SQLite to refuse (and an itemgetter
                # of one index would return a value, not a tuple).
                nulls = ()
            sql, kept = self._statement(size, nulls)
            params = list(itertools.chain.from_iterable(chunk if kept is None else map(kept, chunk)))
            self._conn.execute(sql, params)
            start += size

    def _insert_each(self, batch: list[tuple]) -> list[str]:
        """The slow path for a batch with a bad row: text with lone surrogates is repaired, and a row
        that still cannot be stored is skipped; returns why each skipped row was refused."""
        refused = []
        for row in batch:
            row = _repaired(row, self._pg)
            if self._pg:
                # A failed statement aborts a PostgreSQL transaction: each row gets a savepoint.
                self._conn.execute("SAVEPOINT one_row")
            try:
                self._conn.execute(INSERT_SQL, row)
            except _ROW_ERRORS as exc:
                if self._pg:
                    self._conn.execute("ROLLBACK TO SAVEPOINT one_row")
                refused.append(str(exc) if isinstance(exc, pg.PgRowError) else f"{type(exc).__name__}: {exc}")
            else:
                if self._pg:
                    self._conn.execute("RELEASE SAVEPOINT one_row")
        return refused

    def _statement(self, rows: int, nulls: tuple[int, ...]) -> tuple[str, Callable[[tuple], tuple] | None]:
        """The SQL for ``rows`` rows with ``nulls`` as literals, and what picks a row's bound values."""
        key = (rows, nulls)
        statement = self._statements.get(key)
        if statement is None:
            kept = None
            if nulls:
                kept = operator.itemgetter(*(i for i in range(len(CALL_COLUMNS)) if i not in nulls))
            statement = self._statements[key] = (_multi_row_sql(rows, nulls), kept)
        return statement


class ExactInserter:
    """Inserts rows in transactions of their own and says exactly which ones it wrote.

    For commands that must report what *they* added (``routermon import``): each ``insert`` is one
    transaction whose multi-row INSERT skips rows whose ``dedup_key`` is already logged, and which
    returns the ``request_id`` of every row it did write: the rows past the log's last id when it
    began, which under the write lock are the transaction's own.
    Two concurrent imports of one file therefore split the rows between them, and each reports its
    own share: never both all of them. A locked database is waited out as long as it takes, saying
    once on ``waiting`` (a callable given a sentence) that it is waiting and for what.
    """

    def __init__(self, path: Path | str, *, waiting: Callable[[str], None] | None = None):
        self.path = log_location(path)
        self.waiting = waiting
        self._conn = connect(self.path)
        self._per_statement = max(1, min(ROWS_PER_STATEMENT, max_params(self._conn) // len(CALL_COLUMNS)))
        self.rows_written = 0

    def insert(self, rows: list[tuple]) -> list[str]:
        """Write ``rows`` (``CALL_COLUMNS`` order) in one transaction; the request ids of the rows
        actually inserted, one per row."""
        told = repaired = False
        delay = 0.05
        rows = _finite(rows, self.path)
        while True:
            try:
                begin_write(self._conn)
                try:
                    before = last_call_id(self._conn)
                    for start in range(0, len(rows), self._per_statement):
                        chunk = rows[start : start + self._per_statement]
                        params = list(itertools.chain.from_iterable(chunk))
                        self._conn.execute(_multi_row_sql(len(chunk)), params)
                    written = self._written(rows, before)
                    after_insert(self._conn, before)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite may have rolled back already (disk full)
                        self._conn.execute("ROLLBACK")
                    raise
            except (UnicodeEncodeError, pg.PgRowError) as exc:
                if repaired:
                    if isinstance(exc, pg.PgRowError):
                        raise translate(self.path, exc) from None
                    raise
                # Text with a lone surrogate cannot be stored as UTF-8 (nor a NUL in PostgreSQL):
                # store it repaired, as the writer does (``_repaired``).
                rows = [_repaired(row, pg.is_pg(self._conn)) for row in rows]
                repaired = True
                continue
            except (sqlite3.OperationalError, pg.PgError) as exc:
                if not is_lock(exc):
                    raise translate(self.path, exc) from None
                if not told and self.waiting is not None:
                    self.waiting(f"waiting for the database {self.path}: another process is writing to it")
                    told = True
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            except DB_ERRORS as exc:
                raise translate(self.path, exc) from None
            self.rows_written += len(written)
            return written

    def _written(self, rows: list[tuple], before: int) -> list[str]:
        # The rows past ``before`` are this transaction's own (the write lock is held). Counting them
        # is cheaper than a RETURNING list; only when some were already logged are they read back.
        count = self._conn.execute("SELECT COUNT(*) FROM calls WHERE id > ?", (before,)).fetchone()[0]
        if count == len(rows):
            return [row[_REQUEST_ID_AT] for row in rows]
        return [
            r[0]
            for r in self._conn.execute("SELECT request_id FROM calls WHERE id > ? ORDER BY id", (before,))
        ]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ExactInserter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_transaction(
    conn, path: Path | PostgresLog, work: Callable[[], int], waiting: Callable[[str], None] | None
) -> int:
    """Run ``work`` in one write transaction, waiting out another writer's lock as long as it
    takes (saying so once on ``waiting``); returns what ``work`` returns."""
    told = False
    delay = 0.05
    while True:
        try:
            begin_write(conn)  # PostgreSQL: the writers' lock too (labels wait a batch's moment)
            try:
                result = work()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result
        except (sqlite3.OperationalError, pg.PgError) as exc:
            if not is_lock(exc):
                raise translate(path, exc) from None
            if not told and waiting is not None:
                waiting(f"waiting for the database {path}: another process is writing to it")
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except DB_ERRORS as exc:
            raise translate(path, exc) from None


def add_labels(
    path: Path | str, labels: Iterable[HumanLabel], *, waiting: Callable[[str], None] | None = None
) -> int:
    """Store human labels (``labels`` table) in one transaction; the number written.

    A request may be labelled again: every label is kept and the latest counts
    (``LogReader.human_labels``). A locked database is waited out, saying once on ``waiting``.
    """
    rows = [(lab.request_id, lab.label, lab.labeller, lab.ts, lab.source) for lab in labels]
    if not rows:
        return 0
    path = log_location(path)
    conn = connect(path)

    def insert() -> int:
        conn.executemany(
            "INSERT INTO labels (request_id, label, labeller, ts, source) VALUES (?, ?, ?, ?, ?)", rows
        )
        return len(rows)

    try:
        return _write_transaction(conn, path, insert, waiting)
    finally:
        conn.close()


PRUNE_ROWS_PER_TRANSACTION = 20_000


def check_prune_cutoff(before: float, now: float) -> None:
    """Refuse a cut-off later than ``now``: it would delete the rows that routers are writing
    meanwhile (a cut-off in the future takes every row, the newest too)."""
    if before > now:
        raise ConfigError(
            f"The cut-off {local_time(before)} is later than now; prune deletes only calls logged before a past "
            "moment: give an earlier date or a span back (90d)."
        )


def prune_calls(
    path: Path | str,
    before: float,
    *,
    waiting: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete the calls logged before ``before`` (epoch seconds, a whole UTC hour: rollup hours
    are kept whole) and return how many were deleted. Their rollups stay, so charts and totals
    still count them; their search index entries go with them (``calls_fts`` delete trigger).

    Rows go in transactions of ``PRUNE_ROWS_PER_TRANSACTION``, so routers writing meanwhile wait
    a moment, not the whole prune, and an interrupted prune keeps what it deleted so far (and
    says it through ``progress``, called with the running total after each transaction)."""
    if before % 3600:
        raise ValueError("prune_calls cuts at a whole hour, so every rollup hour is whole.")
    check_prune_cutoff(before, time.time())
    path = log_location(path)
    conn = connect(path)
    deleted = 0

    def chunk() -> int:
        return conn.execute(
            "DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE ts < ? LIMIT ?)",
            (before, PRUNE_ROWS_PER_TRANSACTION),
        ).rowcount

    try:
        while True:
            n = _write_transaction(conn, path, chunk, waiting)
            deleted += n
            if progress is not None and n:
                progress(deleted)
            if n < PRUNE_ROWS_PER_TRANSACTION:
                return deleted
    finally:
        conn.close()
