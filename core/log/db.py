"""Opening the call log database: schema migrations, WAL, and clear errors for bad files.

A log is a SQLite file (a ``Path``) or a PostgreSQL database (a ``PostgresLog``, named by a
``postgresql://`` URL): ``log_location`` tells them apart, ``connect`` opens either, and the
helpers below (``begin_write``, ``index_new_rows``, ``translate``...) take either connection.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import stat
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..errors import DatabaseError
from ..location import PostgresLog, is_url
from . import pg
from .pg import PgError
from .rollups import (
    LATENCY_SQL,
    RECOVERED_LATER_PG_SQL,
    RECOVERED_LATER_SQL,
    ROLLUP_ROWS_SQL,
    build_rollups,
    rollup_schema,
)

# What a statement on either backend raises (``pg.PgError`` is psycopg's, already a sentence).
DB_ERRORS = (sqlite3.Error, PgError)
LogLocation = Path | PostgresLog

MIGRATIONS = Migrations("routermon")
DIR_MODE = 0o700  # the data folder: only its owner lists or enters it
FILE_MODE = 0o600  # the log (SQLite gives its -wal and -shm files the log's own mode)
_log = logging.getLogger("routermon")
_warned_readable: set[str] = set()
BUSY_TIMEOUT_MS = 10_000
PAGE_SIZE = 8192


@MIGRATIONS()
def m001_calls(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,                -- Unix epoch seconds, UTC
            request_id TEXT NOT NULL,
            task TEXT NOT NULL,
            mode TEXT NOT NULL,              -- cascade | shadow | import
            source TEXT NOT NULL,            -- live | simulate | shadow-run | import | ...
            model TEXT NOT NULL,
            role TEXT NOT NULL,              -- cheap | strong | shadow | audit
            tier INTEGER NOT NULL,           -- 0 is the request's first call
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL,                   -- NULL when the model has no known price
            latency_ms REAL NOT NULL DEFAULT 0,
            confidence REAL,
            answer TEXT,                     -- JSON text of the answer
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
        """
    )
    db.execute("CREATE INDEX calls_ts ON calls(ts)")
    db.execute("CREATE INDEX calls_request ON calls(request_id)")
    db.execute("CREATE UNIQUE INDEX calls_dedup ON calls(dedup_key) WHERE dedup_key IS NOT NULL")


@MIGRATIONS()
def m002_thinking_tokens(db: sqlite_utils.Database) -> None:
    # Part of output_tokens (usage.output_tokens_details.thinking_tokens); 0 in logs written before it.
    # Nullable: a row a writer of its own leaves it out of (NULL) is "not reported", not an error.
    db.execute("ALTER TABLE calls ADD COLUMN thinking_tokens INTEGER DEFAULT 0")


@MIGRATIONS()
def m003_labels(db: sqlite_utils.Database) -> None:
    # Human verdicts on pairs; a request may be labelled again, and its latest label counts.
    db.execute(
        """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            label TEXT NOT NULL CHECK (label IN ('cheap', 'strong', 'both', 'neither')),
            labeller TEXT NOT NULL DEFAULT '',
            ts REAL NOT NULL,
            source TEXT NOT NULL DEFAULT 'review'
        )
        """
    )
    db.execute("CREATE INDEX labels_request ON labels(request_id)")


@MIGRATIONS()
def m004_policy(db: sqlite_utils.Database) -> None:
    # The policy each request was routed with: its tier's threshold and the audit share in force.
    db.execute("ALTER TABLE calls ADD COLUMN threshold REAL")
    db.execute("ALTER TABLE calls ADD COLUMN audit_share REAL")


# Full-text search over the stored inputs and answers (``routermon logs -q``): an external-content
# FTS5 table over ``calls``, kept exact by triggers inside every writer's own transaction.
FTS_TABLE = "calls_fts"
FTS_COLUMNS = ("input_preview", "answer")


@MIGRATIONS()
def m005_calls_fts(db: sqlite_utils.Database) -> None:
    cols = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    db.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({cols}, content='calls', content_rowid='id')")
    insert = f"INSERT INTO {FTS_TABLE}(rowid, {cols}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    db.execute(f"CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN {insert} END")
    db.execute(f"CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN {delete} END")
    db.execute(f"CREATE TRIGGER calls_fts_update AFTER UPDATE OF {cols} ON calls BEGIN {delete} {insert} END")
    db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # the rows logged so far


@MIGRATIONS()
def m006_fts_by_batch(db: sqlite_utils.Database) -> None:
    # The writers index each batch with one statement (``index_new_rows``), which commits about four
    # times the rows a second of a trigger firing row by row; deletes and updates keep their triggers.
    db.execute("DROP TRIGGER IF EXISTS calls_fts_insert")


_FTS_INDEX_SQL = (
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) "
    f"SELECT id, {', '.join(FTS_COLUMNS)} FROM calls WHERE id > ?"
)


def log_location(value: str | os.PathLike | PostgresLog) -> LogLocation:
    """A SQLite file's path, or the PostgreSQL log a ``postgresql://`` URL names."""
    if isinstance(value, PostgresLog):
        return value
    if is_url(value):
        return PostgresLog(str(value))
    return Path(value)


def log_exists(location: LogLocation) -> bool:
    """Whether the log holds anything yet: its file exists, or its PostgreSQL database has a schema."""
    if isinstance(location, PostgresLog):
        return pg.has_log(location)
    return location.exists()


def begin_write(conn) -> None:
    """Start a transaction that adds calls: SQLite takes its write lock at once (``BEGIN IMMEDIATE``);
    PostgreSQL takes the table's writers' lock, so ids are given in commit order (``pg``)."""
    if pg.is_pg(conn):
        conn.execute("BEGIN")
        try:
            conn.execute(pg.WRITE_LOCK_SQL)
            conn.execute(pg.WRITE_PLAN_SQL)
        except BaseException:
            # A LOCK that hit lock_timeout leaves the transaction aborted: every later statement of
            # this session (the caller's retry's BEGIN) would fail with "current transaction is aborted".
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    else:
        conn.execute("BEGIN IMMEDIATE")


def max_params(conn) -> int:
    """How many values one statement may bind on this connection."""
    if pg.is_pg(conn):
        return pg.MAX_PARAMS
    return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def roll_up_new_rows(conn: sqlite3.Connection, after_id: int) -> None:
    """Add the rows written after ``after_id`` to the rollups, in the writer's transaction (so
    the rollups hold exactly the committed rows): every writer calls it after its inserts. On
    PostgreSQL the writers' lock (``begin_write``) makes the rows past ``after_id`` this
    transaction's own, and the upserts of hosts writing at once take turns."""
    conn.execute(ROLLUP_ROWS_SQL, (after_id,))
    conn.execute(RECOVERED_LATER_PG_SQL if pg.is_pg(conn) else RECOVERED_LATER_SQL, (after_id, after_id))
    conn.execute(LATENCY_SQL, (after_id,))


@MIGRATIONS()
def m007_rollups(db: sqlite_utils.Database) -> None:
    # Built from the rows already logged: one pass, however long the log (a few seconds a million rows).
    rollup_schema(db)
    build_rollups(db)


def after_insert(conn: sqlite3.Connection, after_id: int) -> None:
    """What every writer does in its transaction after inserting rows past ``after_id``: index
    them for search and add them to the rollups."""
    index_new_rows(conn, after_id)
    roll_up_new_rows(conn, after_id)


def last_call_id(conn: sqlite3.Connection) -> int:
    """The highest row id of ``calls`` (0 when empty): where a batch about to be written starts."""
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]


def index_new_rows(conn: sqlite3.Connection, after_id: int) -> None:
    """Add the rows written after ``after_id`` to the full-text index, in the writer's transaction
    (so the index holds exactly the committed rows): every writer calls it after its inserts.
    PostgreSQL keeps its search index itself, in the same transaction."""
    if not pg.is_pg(conn):
        conn.execute(_FTS_INDEX_SQL, (after_id,))


def is_lock(exc: Exception) -> bool:
    """Whether ``exc`` means another connection holds the lock (waiting can cure it)."""
    if isinstance(exc, PgError):
        return exc.lock
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _translate(path: Path, exc: sqlite3.Error) -> DatabaseError:
    text = str(exc).lower()
    if is_lock(exc):
        return DatabaseError(f"The database {path} is locked by another process; try again when it is free.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseError(
            f"The file {path} is not a routermon database (it is corrupt or another kind of file)."
        )
    if "disk is full" in text or "disk full" in text or "no space" in text:
        return DatabaseError(f"The disk holding the database {path} is full; free some space and try again.")
    if "readonly" in text or "read-only" in text:
        return DatabaseError(f"The database {path} is read-only for this user.")
    if "unable to open" in text:
        return DatabaseError(
            f"The database {path} cannot be opened (check the folder exists and is writable)."
        )
    return DatabaseError(f"The database {path} cannot be used: {exc}.")


def check_persistent(path: Path | str | PostgresLog) -> None:
    """Refuse a database name that SQLite would not keep on disk (``:memory:``, a ``file:`` URI)."""
    if is_url(path):
        return
    name = str(path)
    if name.startswith((":", "file:")):
        raise DatabaseError(
            f"The database path {name!r} cannot hold a call log: give a file path "
            "(an in-memory or URI database would lose every row when the command ends)."
        )


def check_path(path: Path, *, must_exist: bool) -> None:
    check_persistent(path)
    if path.is_dir():
        raise DatabaseError(f"The database path {path} is a directory, not a file.")
    if must_exist and not path.exists():
        raise DatabaseError(
            f"There is no call log at {path} yet; run `routermon demo` or `routermon simulate` to create one."
        )


def connect(path: Path | str | PostgresLog, *, create: bool = True, readonly: bool = False):
    """A connection with WAL, a busy timeout and the schema migrated; errors become ``DatabaseError``.
    A PostgreSQL log gives a ``pg.PgConnection`` (``pg.connect``)."""
    path = log_location(path)
    if isinstance(path, PostgresLog):
        return pg.connect(path, create=create, readonly=readonly)
    check_path(path, must_exist=not create)
    if create and not readonly:
        _create_private(path)
    _warn_if_readable(path)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA schema_version").fetchone()  # fails here on a file that is not a database
        if not readonly and conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # A new file: pages of 8 KiB hold twice the rows of the default 4 KiB, and the writer
            # commits about 20% more rows a second in bulk (bench/ingest.py); a commit of a few dozen
            # rows writes a little more, which at one commit per max_delay costs nothing that shows.
            # Only possible before WAL is on; an existing log keeps its page size.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db = sqlite_utils.Database(conn)
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal" and not readonly:
            db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL, a committed row survives a process crash
        if not readonly:
            _say_if_locked(path, conn)
        tables = db.table_names()
        if tables and "calls" not in tables and "_sqlite_migrations" not in tables:
            raise DatabaseError(f"The file {path} is a SQLite database but not a routermon call log.")
        _refuse_newer(path, db)
        if readonly and not tables:
            # Reading never writes: an empty file stays empty (a schema is written by a writer).
            raise DatabaseError(f"The file {path} is empty: it holds no call log yet.")
        if MIGRATIONS.pending(db):
            MIGRATIONS.apply(db)
        if readonly:
            conn.execute("PRAGMA query_only = 1")
        _ensure_floor(conn)
    except (sqlite3.Error, DatabaseError) as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, DatabaseError):
            raise
        raise _translate(path, exc) from None
    return conn


def _ensure_floor(conn: sqlite3.Connection) -> None:
    """The reader's buckets use ``floor()`` (PostgreSQL's ``CAST`` rounds where SQLite's truncates);
    SQLite has it only when built with its math functions (3.35+), so give it one otherwise."""
    try:
        conn.execute("SELECT floor(1.5)")
    except sqlite3.OperationalError:
        conn.create_function(
            "floor", 1, lambda x: None if x is None else float(math.floor(x)), deterministic=True
        )


def _say_if_locked(path: Path, conn: sqlite3.Connection) -> None:
    """Say at once, not after the busy timeout, that another process holds the database's lock."""
    conn.execute("PRAGMA busy_timeout = 200")
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if not is_lock(exc):
            raise
        _log.warning("routermon: waiting for the database %s: another process holds its lock…", path)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _create_private(path: Path) -> None:
    """Create the log's folder (0700) and the log file (0600) if they do not exist yet, whatever the
    umask; existing ones keep their mode."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.fchmod(fd, FILE_MODE)
            os.close(fd)
    except FileExistsError:
        pass  # another process created it first: fine
    except OSError as exc:
        raise DatabaseError(f"The database {path} cannot be created: {exc.strerror}.") from None


def _warn_if_readable(path: Path) -> None:
    """Say once per process that a log other users can read holds inputs and answers."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IROTH | stat.S_IWOTH) and str(path) not in _warned_readable:
        _warned_readable.add(str(path))
        _log.warning(
            "routermon: the call log %s can be read by every user of this machine (mode %s); "
            "`chmod 600 %s` keeps its inputs and answers private.",
            path,
            stat.filemode(mode),
            path,
        )


def _refuse_newer(path: Path, db: sqlite_utils.Database) -> None:
    """A log with migrations this version does not know was written by a newer routermon: writing
    to it could break it, and reading it could misread it."""
    known = {m.name for m in MIGRATIONS._migrations}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise DatabaseError(
            f"The database {path} was written by a newer routermon (schema {unknown[-1]}); "
            "upgrade routermon to use it."
        )


def translate(path: Path | str | PostgresLog, exc: Exception) -> DatabaseError:
    """The user-facing error for a SQLite (or PostgreSQL) failure on ``path``."""
    if isinstance(exc, PgError):
        return DatabaseError(str(exc))
    return _translate(Path(path), exc)
