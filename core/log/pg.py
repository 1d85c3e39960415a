"""The call log in PostgreSQL (``--db postgresql://user@host/db``): one log for routers on many hosts.

The same ``CallLog`` / ``ExactInserter`` / ``add_labels`` / ``LogReader`` run on it: ``connect``
returns a ``PgConnection``, which takes the SQLite-style ``?`` placeholders the rest of ``core``
writes and raises ``PgError`` sentences instead of psycopg's exceptions. psycopg 3 is an optional
extra (``pip install routermon[postgres]``), imported only when a PostgreSQL URL is opened, so the
start-up of every command on a SQLite log stays as it was.

What this module decides:

- **Ids follow commit order.** Every transaction that adds calls first takes the ``calls`` table in
  SHARE ROW EXCLUSIVE mode, which conflicts with itself and not with readers
  (https://www.postgresql.org/docs/current/explicit-locking.html): writers on many hosts commit one
  after another, as SQLite's do, so a row with a smaller id can never commit after a larger one and
  the monitor's ``id > last_seen`` tail misses nothing. A writer copies its batch into a temporary
  table before it takes the lock, so the lock is held only for the server-side INSERT, the
  rollups and the commit.
- **Search** (``routermon logs -q``) reads the table ``calls_words``: each call's words, computed
  in Python at write time (``text.search_words``, as SQLite's index holds them), under a GIN index
  on ``array_to_tsvector`` of them, which takes each word as it is (no parser, no dictionary).
  Every word of the text must be a word of the row, as on SQLite; ``--fts`` reads the text as
  PostgreSQL's ``to_tsquery`` syntax (``a | b``, ``refu:*``, ``a <-> b``, ``!a``) where SQLite
  reads FTS5's.
- **The log's secret** (``store_inputs = "none"``) is a row of ``_routermon_secret`` in the database,
  readable by the log's users, where SQLite keeps ``<log>.key`` beside the file.
- **A dropped session is opened again** (a restart, a failover): the writer keeps its rows and
  retries, as it waits out a lock; a read that found the session dead runs once more on a new one.
"""

from __future__ import annotations

import functools
import sqlite3
import time

from ..errors import DatabaseError
from ..location import PostgresLog
from .rollups import build_rollups, rollup_schema_sql
from .search_index import SEARCH_TABLE, index_existing_rows

MIGRATIONS_TABLE = "_routermon_migrations"
SECRET_TABLE = "_routermon_secret"
# libpq's limit of bound parameters in one statement (a 16-bit count in the wire protocol).
MAX_PARAMS = 65_535
LOCK_TIMEOUT_MS = 2_000  # a writer waiting longer on another's lock says so, then keeps waiting
CONNECT_TIMEOUT_S = 10
# The expression the search index is built on; a query must repeat it exactly to use the index.
# (m005's, on the input and answer themselves, until m008 replaced it.)
_M005_SEARCH_VECTOR = "to_tsvector('simple', COALESCE(input_preview, '') || ' ' || COALESCE(answer, ''))"
SEARCH_VECTOR = "array_to_tsvector(string_to_array(words, ' '))"
# Held by every transaction that adds calls: self-conflicting, so ids are given in commit order.
WRITE_LOCK_SQL = "LOCK TABLE calls IN SHARE ROW EXCLUSIVE MODE"
# The rollup statements of a write read one batch's rows by id (``id > ?``) and look their requests
# up by index; the planner, guessing a third of a table autovacuum has not analyzed yet, scans and
# hashes the whole log per batch instead (13k rows/s at 500k rows). Index scans and nested loops
# only, for this transaction alone:
# https://www.postgresql.org/docs/current/runtime-config-query.html#RUNTIME-CONFIG-QUERY-ENABLE
WRITE_PLAN_SQL = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
)
# SQLSTATEs that waiting cures: another session's lock (lock_timeout), a deadlock, a serialization failure.
_WAITABLE = {"55P03", "40P01", "40001"}
_ROW_SQLSTATES = {"42804"}  # datatype mismatch: a value of a type the column cannot hold
_GONE = {"57P01", "57P02", "57P03"}  # the server shut down or restarted under the session
_SAFE_AGAIN = ("SELECT", "BEGIN", "SET")  # statements outside a transaction that may run twice


class PgError(Exception):
    """A PostgreSQL failure as one sentence naming the log (never its password). ``lock``: another
    session holds what this one waits for, so waiting can cure it (SQLite's "database is locked")."""

    def __init__(self, sentence: str, *, lock: bool = False, detail: str = "", waiting: str = "") -> None:
        super().__init__(sentence)
        self.lock = lock
        self.detail = detail or sentence  # the server's own words, for a sentence of the caller's
        self.waiting = waiting or "another session holds its lock"  # what a writer says it waits for


class PgRowError(PgError, ValueError):
    """A row's values cannot be stored (a NUL in text, a NULL where a value is needed): retrying the
    batch cannot help, so the writer stores the other rows one at a time."""


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("Install routermon[postgres] to use a PostgreSQL log.") from None
    return psycopg


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str, bound: bool) -> str:
    # psycopg reads placeholders only when parameters are given; then a literal % must be doubled.
    return sql.replace("%", "%%").replace("?", "%s") if bound else sql


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _said(log: PostgresLog, exc: BaseException) -> str:
    """The driver's first line, without the log's secrets (libpq may quote the URL it was given)."""
    return log.scrub(_first_line(exc))


def translate(log: PostgresLog, exc: BaseException) -> PgError:
    """psycopg's exception as the sentence a user reads (connection, login, database, lock, value)."""
    psycopg = _psycopg()
    state = getattr(exc, "sqlstate", None)
    text = str(exc).lower()
    if state in _WAITABLE:
        return PgError(
            f"The PostgreSQL log {log} is locked by another session; try again when it is free.", lock=True
        )
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return PgError(
            f"The PostgreSQL database {log.database!r} does not exist on {log.where}; "
            f"create it (createdb {log.database}) or fix the URL."
        )
    if state in ("28P01", "28000") or "authentication failed" in text or "no password supplied" in text:
        return PgError(
            f"The PostgreSQL server at {log.where} refused the login of {log.user or 'this user'} to {log}."
        )
    if state == "25006" or "read-only" in text:
        return PgError(f"The PostgreSQL log {log} is read-only for this user.")
    if state == "53100" or "no space" in text or "disk full" in text:
        return PgError(
            f"The disk of the PostgreSQL server holding {log} is full; free some space and try again."
        )
    if state == "42501":
        return PgError(
            f"The PostgreSQL user {log.user or '(default)'} may not use the log {log}: {_said(log, exc)}."
        )
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError) or state in _ROW_SQLSTATES:
        return PgRowError(f"{type(exc).__name__}: {_said(log, exc)}")
    if isinstance(exc, psycopg.ProgrammingError) and state is None:
        return PgRowError(f"{type(exc).__name__}: {_said(log, exc)}")  # a value psycopg cannot send
    if (
        (isinstance(exc, psycopg.OperationalError) and state is None)
        or state in _GONE
        or (state or "").startswith("08")
    ):
        # Waitable: a writer keeps its rows and reconnects (``PgConnection.execute``) until the
        # server is back; opening a log that cannot be reached is still one sentence at once.
        return PgError(
            f"Cannot reach the PostgreSQL server of {log} ({_reason(log, exc)}); check that it runs and the URL.",
            lock=True,
            waiting="its server cannot be reached",
        )
    return PgError(f"The PostgreSQL log {log} cannot be used: {_said(log, exc)}.", detail=_said(log, exc))


def _reason(log: PostgresLog, exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in (
        ("connection refused", "connection refused"),
        ("timeout", "timed out"),
        ("could not translate host name", "unknown host"),
        ("name or service not known", "unknown host"),
        ("server closed the connection", "the server closed the connection"),
        ("terminating connection", "the server ended the connection"),
        ("administrator command", "the server ended the connection"),
        ("the connection is closed", "the connection is closed"),
        ("no route to host", "no route to host"),
    ):
        if needle in text:
            return reason
    return _said(log, exc)


class _Cursor:
    """A psycopg cursor read as sqlite3's: a statement without rows (BEGIN, INSERT) fetches none."""

    __slots__ = ("_cur",)

    def __init__(self, cur) -> None:
        self._cur = cur

    def fetchall(self) -> list[tuple]:
        return self._cur.fetchall() if self._cur.description is not None else []

    def fetchone(self) -> tuple | None:
        return self._cur.fetchone() if self._cur.description is not None else None

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def __iter__(self):
        return iter(self.fetchall())


class _Stream:
    """A server-side cursor read as sqlite3's (``fetchmany``, ``close``): rows come from the server
    as they are read, so a stream of a million pairs holds a batch, not the result
    (https://www.psycopg.org/psycopg3/docs/advanced/cursors.html#server-side-cursors)."""

    def __init__(self, conn: PgConnection, cur, own_transaction: bool) -> None:
        self._conn, self._cur, self._own = conn, cur, own_transaction

    def fetchmany(self, size: int) -> list[tuple]:
        try:
            return self._cur.fetchmany(size)
        except self._conn._psycopg.Error as exc:
            raise translate(self._conn.log, exc) from None

    def close(self) -> None:
        try:
            self._cur.close()
        except self._conn._psycopg.Error:
            pass  # the session is gone with it; nothing left to release
        if self._own and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")  # a read: nothing to keep, and an aborted one ends too


class PgConnection:
    """One psycopg connection in autocommit mode (transactions are the explicit BEGIN ... COMMIT the
    writers send, as with SQLite), speaking the subset of ``sqlite3.Connection`` that ``core`` uses."""

    backend = "postgresql"

    def __init__(self, log: PostgresLog, *, readonly: bool = False) -> None:
        self.log = log
        self.readonly = readonly
        self._psycopg = _psycopg()
        self.raw = None
        self._open()

    def _open(self) -> None:
        """Connect, with this module's session settings (a reconnection gets them again)."""
        psycopg = self._psycopg
        try:
            raw = psycopg.connect(self.log.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise translate(self.log, exc) from None
        from psycopg.types.numeric import Int8Dumper

        # Flags are INTEGER 0/1 columns: a bool a caller logs is stored as 1 or 0, as SQLite stores it
        # (this connection's adapters only: https://www.psycopg.org/psycopg3/docs/advanced/adapt.html).
        raw.adapters.register_dumper(bool, Int8Dumper)
        self.raw = raw
        self.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        # The writers' statements touch one batch's rows, but on a table not yet analyzed the planner
        # guesses a third of it and JIT-compiles each for 0.3 s (https://www.postgresql.org/docs/current/jit-decision.html):
        # 3,500 rows/s with it, measured by bench/ingest.py.
        self.execute("SET jit = off")
        if self.readonly:
            self.execute("SET default_transaction_read_only = on")

    def _reopen_if_dropped(self) -> None:
        if self.raw.broken:
            self.raw.close()
            self._open()

    def execute(self, sql: str, params=()):
        """Run ``sql`` (``?`` placeholders) and return its cursor; failures raise ``PgError``. A
        connection the server dropped (a restart, a failover) is opened again first: the writer
        retries its batch, so its rows wait for the server instead of being lost."""
        self._reopen_if_dropped()
        idle = not self.in_transaction
        try:
            return _Cursor(self.raw.execute(_pg_sql(sql, bool(params)), params or None))
        except self._psycopg.Error as exc:
            if not (idle and self.raw.broken and sql.lstrip().upper().startswith(_SAFE_AGAIN)):
                raise translate(self.log, exc) from None
        # The session was found dead by this statement, which changes nothing: once more, anew.
        self.raw.close()
        self._open()
        try:
            return _Cursor(self.raw.execute(_pg_sql(sql, bool(params)), params or None))
        except self._psycopg.Error as exc:
            raise translate(self.log, exc) from None

    def stream(self, sql: str, params=()) -> _Stream:
        """``sql``'s rows through a server-side cursor, in a transaction of its own unless one is
        open (a named cursor lives in a transaction); close the stream to end it."""
        self._reopen_if_dropped()
        own = not self.in_transaction
        if own:
            self.execute("BEGIN")
        cur = self.raw.cursor(name="routermon_stream")
        try:
            cur.execute(_pg_sql(sql, bool(params)), params or None)
        except self._psycopg.Error as exc:
            if own and self.in_transaction:
                self.raw.execute("ROLLBACK")
            raise translate(self.log, exc) from None
        return _Stream(self, cur, own)

    def executemany(self, sql: str, rows) -> None:
        try:
            with self.raw.cursor() as cur:
                cur.executemany(_pg_sql(sql, True), rows)
        except self._psycopg.Error as exc:
            raise translate(self.log, exc) from None

    def copy_rows(self, table: str, columns: tuple[str, ...], rows) -> None:
        """COPY ``rows`` into ``table`` (https://www.psycopg.org/psycopg3/docs/basic/copy.html)."""
        try:
            with self.raw.cursor() as cur:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        except self._psycopg.Error as exc:
            raise translate(self.log, exc) from None

    def stage(self, columns: tuple[str, ...]) -> None:
        """Make the writer's staging table if this session lacks it, in the write transaction (so a
        session opened anew, or a rollback of the one that made it, gets it again): the calls
        table's columns without their constraints (a bad row is refused by the INSERT from it),
        emptied at every commit, temporary so never written to the WAL."""
        self.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS calls_staged ON COMMIT DELETE ROWS AS"
            f" SELECT {', '.join(columns)} FROM calls WITH NO DATA"
        )

    @property
    def in_transaction(self) -> bool:
        status = self.raw.info.transaction_status
        pq = self._psycopg.pq.TransactionStatus
        return status in (pq.INTRANS, pq.INERROR)

    def close(self) -> None:
        try:
            self.raw.close()
        except self._psycopg.Error:
            pass


# -- schema -------------------------------------------------------------------------------------


def _m007_rollups(conn: PgConnection) -> None:
    # The rollup tables in PostgreSQL's types, built from the rows logged so far with the writers'
    # own statements.
    for statement in rollup_schema_sql("DOUBLE PRECISION", "BIGINT"):
        conn.execute(statement)
    build_rollups(conn)


def _m009_search_words(conn: PgConnection) -> None:
    # The words of each call (``search_index``), the same as SQLite indexes; deleted with their call.
    conn.execute("DROP INDEX IF EXISTS calls_search")
    conn.execute(
        f"CREATE TABLE {SEARCH_TABLE} (id BIGINT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE, "
        "words TEXT NOT NULL)"
    )
    conn.execute(f"CREATE INDEX calls_words_search ON {SEARCH_TABLE} USING GIN (({SEARCH_VECTOR}))")
    index_existing_rows(conn, index_words)


def index_words(conn: PgConnection, words_by_id: list[tuple[int, str]]) -> None:
    """Store each call's words (``(id, words)``) in ``calls_words``."""
    conn.copy_rows(SEARCH_TABLE, ("id", "words"), words_by_id)


def literal_tsquery(words: list[str]) -> str:
    """A ``tsquery`` matching rows that hold every one of ``words`` (each a lexeme as it is)."""
    return " & ".join("'" + word.replace("'", "''").replace("\\", "\\\\") + "'" for word in words)


# The SQLite migrations' names, each with its PostgreSQL DDL: a log records the same names on both.
# Flags stay INTEGER 0/1 (not boolean) so the reader's ``= 1`` and sums read alike on both.
MIGRATIONS: tuple[tuple[str, tuple], ...] = (
    (
        "m001_calls",
        (
            """
            CREATE TABLE calls (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                ts DOUBLE PRECISION NOT NULL,
                request_id TEXT NOT NULL,
                task TEXT NOT NULL,
                mode TEXT NOT NULL,
                source TEXT NOT NULL,
                model TEXT NOT NULL,
                role TEXT NOT NULL,
                tier INTEGER NOT NULL,
                input_tokens BIGINT NOT NULL DEFAULT 0,
                output_tokens BIGINT NOT NULL DEFAULT 0,
                cache_read_tokens BIGINT NOT NULL DEFAULT 0,
                cache_write_tokens BIGINT NOT NULL DEFAULT 0,
                cost_usd DOUBLE PRECISION,
                latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
                confidence DOUBLE PRECISION,
                answer TEXT,
                escalated INTEGER NOT NULL DEFAULT 0,
                escalation_reason TEXT,
                error_type TEXT,
                final INTEGER NOT NULL DEFAULT 0,
                input_sha256 TEXT NOT NULL,
                input_preview TEXT,
                reference TEXT,
                correct INTEGER,
                dedup_key TEXT
            )
            """,
            "CREATE INDEX calls_ts ON calls(ts)",
            "CREATE INDEX calls_request ON calls(request_id)",
            "CREATE UNIQUE INDEX calls_dedup ON calls(dedup_key) WHERE dedup_key IS NOT NULL",
        ),
    ),
    ("m002_thinking_tokens", ("ALTER TABLE calls ADD COLUMN thinking_tokens BIGINT DEFAULT 0",)),
    (
        "m003_labels",
        (
            """
            CREATE TABLE labels (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                request_id TEXT NOT NULL,
                label TEXT NOT NULL CHECK (label IN ('cheap', 'strong', 'both', 'neither')),
                labeller TEXT NOT NULL DEFAULT '',
                ts DOUBLE PRECISION NOT NULL,
                source TEXT NOT NULL DEFAULT 'review'
            )
            """,
            "CREATE INDEX labels_request ON labels(request_id)",
        ),
    ),
    (
        "m004_policy",
        (
            "ALTER TABLE calls ADD COLUMN threshold DOUBLE PRECISION",
            "ALTER TABLE calls ADD COLUMN audit_share DOUBLE PRECISION",
        ),
    ),
    # GIN over the words of input and answer, kept by PostgreSQL in each writer's transaction
    # (https://www.postgresql.org/docs/current/textsearch-tables.html).
    ("m005_calls_fts", (f"CREATE INDEX calls_search ON calls USING GIN (({_M005_SEARCH_VECTOR}))",)),
    ("m006_fts_by_batch", ()),  # SQLite's per-row trigger giving way to batches: nothing to do here
    ("m007_rollups", (_m007_rollups,)),
    (
        "m008_http_calls",
        (
            "ALTER TABLE calls ADD COLUMN requested_model TEXT",
            "ALTER TABLE calls ADD COLUMN ttft_ms DOUBLE PRECISION",
            "ALTER TABLE calls ADD COLUMN stop_reason TEXT",
            "ALTER TABLE calls ADD COLUMN http_status INTEGER",
        ),
    ),
    ("m009_search_words", (_m009_search_words,)),
)

_BOOTSTRAP = (
    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SECRET_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
# Migrations take this transaction-level advisory lock first: concurrent CREATE TABLE IF NOT EXISTS
# of one table can fail on its catalog row, so hosts opening a new log at once take turns
# (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS).
MIGRATION_LOCK_KEY = 0x726D6967  # "rmig"


def connect(log: PostgresLog, *, create: bool = True, readonly: bool = False) -> PgConnection:
    """A connection to ``log`` with the schema migrated (a writer's) or checked (a reader's)."""
    try:
        conn = PgConnection(log, readonly=readonly)
    except PgError as exc:
        raise DatabaseError(str(exc)) from None
    try:
        applied = _applied(conn)
        if applied is None and _has_calls(conn):
            raise DatabaseError(f"The PostgreSQL database {log} has a calls table routermon did not make.")
        _refuse_newer(log, applied or [])
        if readonly:
            if applied is None:
                raise DatabaseError(
                    f"There is no call log in {log} yet; run `routermon demo` or `routermon simulate` to create one."
                )
        elif len(applied or []) < len(MIGRATIONS):
            _migrate(conn)
    except PgError as exc:
        conn.close()
        raise DatabaseError(str(exc)) from None
    except DatabaseError:
        conn.close()
        raise
    return conn


def _has_calls(conn: PgConnection) -> bool:
    return conn.execute("SELECT to_regclass('calls') IS NOT NULL").fetchone()[0]


def _applied(conn: PgConnection) -> list[str] | None:
    """The migrations recorded in this database, in order; ``None`` without the table."""
    if not conn.execute(f"SELECT to_regclass('{MIGRATIONS_TABLE}') IS NOT NULL").fetchone()[0]:
        return None
    return [r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY applied_at, name")]


def _refuse_newer(log: PostgresLog, applied: list[str]) -> None:
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise DatabaseError(
            f"The database {log} was written by a newer routermon (schema {unknown[-1]}); upgrade routermon to use it."
        )


def _migrate(conn: PgConnection) -> None:
    """Apply the missing migrations in one transaction, under ``MIGRATION_LOCK_KEY``, so hosts
    starting at once apply each exactly once (DDL is transactional in PostgreSQL)."""
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
        for statement in _BOOTSTRAP:
            conn.execute(statement)
        done = set(_applied(conn) or [])
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            for statement in statements:
                if callable(statement):
                    statement(conn)  # a step that needs more than DDL (building from rows)
                else:
                    conn.execute(statement)
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)", (name, time.time())
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def has_log(log: PostgresLog) -> bool:
    """Whether ``log``'s database holds a call log (a writer made its schema)."""
    psycopg = _psycopg()
    try:
        with psycopg.connect(log.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as raw:
            return raw.execute(f"SELECT to_regclass('{MIGRATIONS_TABLE}') IS NOT NULL").fetchone()[0]
    except psycopg.Error as exc:
        raise DatabaseError(str(translate(log, exc))) from None


def has_secret(log: PostgresLog) -> bool:
    """Whether ``log`` holds its secret yet (a writer that kept digests made it)."""
    if not has_log(log):
        return False
    conn = connect(log, create=False, readonly=True)
    try:
        return conn.execute(f"SELECT 1 FROM {SECRET_TABLE} WHERE name = 'log_key'").fetchone() is not None
    except PgError as exc:
        raise DatabaseError(str(exc)) from None
    finally:
        conn.close()


def log_secret(log: PostgresLog, make: bytes) -> bytes:
    """The log's secret: the one stored in the database, or ``make`` stored now (first writer wins)."""
    conn = connect(log)
    try:
        conn.execute(
            f"INSERT INTO {SECRET_TABLE} (name, value) VALUES ('log_key', ?) ON CONFLICT (name) DO NOTHING",
            (make.hex(),),
        )
        value = conn.execute(f"SELECT value FROM {SECRET_TABLE} WHERE name = 'log_key'").fetchone()[0]
    except PgError as exc:
        raise DatabaseError(str(exc)) from None
    finally:
        conn.close()
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise DatabaseError(f"The secret stored in the PostgreSQL log {log} is not a key.") from None


def is_pg(conn) -> bool:
    """Whether ``conn`` is a PostgreSQL connection (a ``sqlite3.Connection`` otherwise)."""
    return not isinstance(conn, sqlite3.Connection)
