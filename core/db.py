"""Opening the call log database: schema migrations, WAL, and clear errors for bad files.

A log is a SQLite file (a ``Path``) or a PostgreSQL database (a ``pg.PostgresLog``, named by a
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

from . import pg
from .errors import DatabaseError
from .pg import PgError, PostgresLog

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
    if pg.is_url(value):
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
        conn.execute(pg.WRITE_LOCK_SQL)
        conn.execute(pg.WRITE_PLAN_SQL)
    else:
        conn.execute("BEGIN IMMEDIATE")


def max_params(conn) -> int:
    """How many values one statement may bind on this connection."""
    if pg.is_pg(conn):
        return pg.MAX_PARAMS
    return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


# Rollups: what every traffic figure needs, per hour x task x model x role x mode (with the tier and
# the escalation reason, which the figures also group by), kept by the writers in the transaction
# that writes the rows (``roll_up_new_rows``), so the rollups and the rows can never disagree.
# Opening the app, the Tasks screen, charts, what-if and the report read them, not the rows.
ROLLUP_TABLE = "rollups"
ROLLUP_KEY = ("hour", "task", "model", "role", "mode", "tier", "reason")
# Each count as the expression over ``calls`` rows that makes it (portable SQL: no TOTAL, no
# boolean arithmetic). ``recovered`` is added by its own statements (it needs the request's answer).
ROLLUP_SUMS = {
    "calls": "COUNT(*)",
    "escalated": "SUM(escalated)",
    "errors": "SUM(CASE WHEN error_type IS NOT NULL THEN 1 ELSE 0 END)",
    "correct": "SUM(CASE WHEN correct = 1 THEN 1 ELSE 0 END)",
    "judged": "SUM(CASE WHEN correct IS NOT NULL THEN 1 ELSE 0 END)",
    "answered": "SUM(final)",
    "answered_escalated": "SUM(CASE WHEN final = 1 AND escalated = 1 THEN 1 ELSE 0 END)",
    "spend_usd": "COALESCE(SUM(cost_usd), 0)",
    "input_tokens": "SUM(input_tokens)",
    "output_tokens": "SUM(output_tokens)",
    "cache_read_tokens": "SUM(cache_read_tokens)",
    "cache_write_tokens": "SUM(cache_write_tokens)",
    "thinking_tokens": "COALESCE(SUM(thinking_tokens), 0)",
    "recovered": "0",
}
# Request latency (first call to answer, as ``reader._REQUEST_LATENCY_SQL``) in buckets of a
# constant ratio, for percentiles: bucket b holds latencies in [e^(b/16) - 1, e^((b+1)/16) - 1) ms,
# so a percentile read back (the bucket's geometric middle) is within 3.2% of the exact one.
LATENCY_TABLE = "rollup_latency"
LATENCY_BUCKETS_PER_E = 16
LATENCY_BUCKET_SQL = f"CAST(FLOOR(LN(1 + {{lat}}) * {LATENCY_BUCKETS_PER_E}) AS INTEGER)"


def rollup_schema_sql(real: str = "REAL", integer: str = "INTEGER") -> tuple[str, str]:
    """The two rollup tables' DDL, with the type names of a backend (PostgreSQL: ``DOUBLE
    PRECISION`` for SQLite's 8-byte ``REAL``, ``BIGINT`` for sums its 4-byte ``INTEGER`` could overflow)."""
    sums = ", ".join(
        f"{name} {real if name == 'spend_usd' else integer} NOT NULL DEFAULT 0" for name in ROLLUP_SUMS
    )
    rollups = f"""
        CREATE TABLE {ROLLUP_TABLE} (
            hour INTEGER NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL, role TEXT NOT NULL,
            mode TEXT NOT NULL, tier INTEGER NOT NULL, reason TEXT NOT NULL,
            {sums}, first_ts {real}, last_ts {real},
            PRIMARY KEY ({", ".join(ROLLUP_KEY)})
        )
        """
    latency = f"""
        CREATE TABLE {LATENCY_TABLE} (
            hour INTEGER NOT NULL, task TEXT NOT NULL, mode TEXT NOT NULL, bucket INTEGER NOT NULL,
            requests {integer} NOT NULL DEFAULT 0,
            PRIMARY KEY (hour, task, mode, bucket)
        )
        """
    return rollups, latency


def _rollup_schema(db: sqlite_utils.Database) -> None:
    for statement in rollup_schema_sql():
        db.execute(statement)


def _upsert(columns: tuple[str, ...], key: tuple[str, ...], table: str = ROLLUP_TABLE) -> str:
    """``ON CONFLICT`` adding each of ``columns`` to the stored row (``first_ts``/``last_ts`` widen)."""
    sets = [f"{c} = {table}.{c} + excluded.{c}" for c in columns if c not in ("first_ts", "last_ts")]
    if "first_ts" in columns:
        sets.append(
            f"first_ts = CASE WHEN excluded.first_ts < {table}.first_ts THEN excluded.first_ts ELSE {table}.first_ts END"
        )
        sets.append(
            f"last_ts = CASE WHEN excluded.last_ts > {table}.last_ts THEN excluded.last_ts ELSE {table}.last_ts END"
        )
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(sets)}"


_NOT_TRAFFIC = "('import', 'judge')"  # modes that serve nobody (``reader._TRAFFIC_SQL``)


def _key_select(of: str = "") -> str:
    """The rollup key of a ``calls`` row (``of``: the row's table alias with its dot, ``"f."``)."""
    return f"FLOOR({of}ts / 3600), {of}task, {of}model, {of}role, {of}mode, {of}tier, COALESCE({of}escalation_reason, '')"


_KEY_SELECT = _key_select()
_ROLLUP_COLUMNS = (*ROLLUP_KEY, *ROLLUP_SUMS, "first_ts", "last_ts")
# A failed call that escalated counts as recovered once its request has an answer: at once when the
# answer is already logged, else when the answer's batch is written (``_RECOVERED_LATER_SQL``).
_RECOVERED_NOW = (
    "SUM(CASE WHEN error_type IS NOT NULL AND escalated = 1 AND EXISTS (SELECT 1 FROM calls AS answer"
    " WHERE answer.request_id = calls.request_id AND answer.final = 1) THEN 1 ELSE 0 END)"
)
_ROLLUP_ROWS_SQL = (
    f"INSERT INTO {ROLLUP_TABLE} ({', '.join(_ROLLUP_COLUMNS)}) "
    f"SELECT {_KEY_SELECT}, "
    + ", ".join(_RECOVERED_NOW if name == "recovered" else expr for name, expr in ROLLUP_SUMS.items())
    + f", MIN(ts), MAX(ts) FROM calls WHERE id > ? GROUP BY {_KEY_SELECT} "
    + _upsert(_ROLLUP_COLUMNS[len(ROLLUP_KEY) :], ROLLUP_KEY)
)
# Failed calls of earlier batches that an answer in this batch recovers (the answer is a later tier).
_RECOVERED_LATER_SQL = (
    f"INSERT INTO {ROLLUP_TABLE} ({', '.join(ROLLUP_KEY)}, recovered) "
    f"SELECT {_key_select('f.')}, COUNT(*) FROM calls AS a JOIN calls AS f ON f.request_id = a.request_id"
    " WHERE a.id > ? AND a.final = 1 AND a.tier > 0 AND f.id <= ? AND f.error_type IS NOT NULL"
    " AND f.escalated = 1"
    f" GROUP BY {_key_select('f.')} " + _upsert(("recovered",), ROLLUP_KEY)
)
# The same for PostgreSQL, driven from this batch's answers (LATERAL: a lookup of each one's failed
# calls by request id), which its planner does not choose on a log it has not analyzed yet: it hashed
# every earlier row per batch, 0.17 s a batch at 400k rows (SQLite's own plan starts from the batch).
_RECOVERED_LATER_PG_SQL = (
    f"INSERT INTO {ROLLUP_TABLE} ({', '.join(ROLLUP_KEY)}, recovered) "
    f"SELECT {_key_select('f.')}, COUNT(*) FROM (SELECT request_id FROM calls WHERE id > ? AND final = 1 AND tier > 0) AS a"
    # OFFSET 0 keeps the lookup a lookup (not flattened into a join); ``id + 0``: by the request index
    # alone (an id range ANDed with it read every earlier id per answer).
    " CROSS JOIN LATERAL (SELECT * FROM calls WHERE calls.request_id = a.request_id AND calls.id + 0 <= ?"
    " AND calls.error_type IS NOT NULL AND calls.escalated = 1 OFFSET 0) AS f"
    f" GROUP BY {_key_select('f.')} " + _upsert(("recovered",), ROLLUP_KEY)
)
# Each request answered in this batch, timed over its calls so far (audits and non-traffic apart).
# A cascade answered by its first tier called nothing else (bar an audit): its one row is its
# latency, so only escalated and shadow requests (about a tenth) look their other calls up.
_REQUEST_LATENCY = (
    f"CASE WHEN a.tier = 0 AND a.mode = 'cascade' THEN a.latency_ms ELSE"
    " (SELECT CASE WHEN a.mode = 'shadow' THEN MAX(c.latency_ms) ELSE SUM(c.latency_ms) END"
    " FROM calls AS c WHERE c.request_id = a.request_id AND c.role != 'audit'"
    f" AND c.mode NOT IN {_NOT_TRAFFIC}) END"
)
_LATENCY_SQL = (
    f"INSERT INTO {LATENCY_TABLE} (hour, task, mode, bucket, requests) "
    f"SELECT hour, task, mode, {LATENCY_BUCKET_SQL.format(lat='latency')}, COUNT(*) FROM ("
    f"SELECT FLOOR(a.ts / 3600) AS hour, a.task AS task, a.mode AS mode, {_REQUEST_LATENCY} AS latency"
    f" FROM calls AS a WHERE a.id > ? AND a.final = 1 AND a.role != 'audit' AND a.mode NOT IN {_NOT_TRAFFIC}"
    f") AS answered WHERE latency IS NOT NULL GROUP BY hour, task, mode, {LATENCY_BUCKET_SQL.format(lat='latency')} "
    + _upsert(("requests",), ("hour", "task", "mode", "bucket"), LATENCY_TABLE)
)


def roll_up_new_rows(conn: sqlite3.Connection, after_id: int) -> None:
    """Add the rows written after ``after_id`` to the rollups, in the writer's transaction (so
    the rollups hold exactly the committed rows): every writer calls it after its inserts. On
    PostgreSQL the writers' lock (``begin_write``) makes the rows past ``after_id`` this
    transaction's own, and the upserts of hosts writing at once take turns."""
    conn.execute(_ROLLUP_ROWS_SQL, (after_id,))
    conn.execute(_RECOVERED_LATER_PG_SQL if pg.is_pg(conn) else _RECOVERED_LATER_SQL, (after_id, after_id))
    conn.execute(_LATENCY_SQL, (after_id,))


@MIGRATIONS()
def m007_rollups(db: sqlite_utils.Database) -> None:
    # Built from the rows already logged: one pass, however long the log (a few seconds a million rows).
    _rollup_schema(db)
    build_rollups(db)


def build_rollups(db) -> None:
    """Fill new rollup tables from every row logged so far (``db``: anything with ``execute``, a
    SQLite or a PostgreSQL log): the writers' own statements over all the rows."""
    db.execute(_ROLLUP_ROWS_SQL, (0,))
    db.execute(_LATENCY_SQL, (0,))


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
    if pg.is_url(path):
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
