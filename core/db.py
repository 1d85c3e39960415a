"""Opening the call log database: schema migrations, WAL, and clear errors for bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .errors import DatabaseError

MIGRATIONS = Migrations("routermon")
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


def _translate(path: Path, exc: sqlite3.Error) -> DatabaseError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseError(f"The database {path} is locked by another process; try again when it is free.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseError(
            f"The file {path} is not a routermon database (it is corrupt or another kind of file)."
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseError(f"The database {path} is read-only for this user.")
    if "unable to open" in text:
        return DatabaseError(
            f"The database {path} cannot be opened (check the folder exists and is writable)."
        )
    return DatabaseError(f"The database {path} cannot be used: {exc}.")


def check_path(path: Path, *, must_exist: bool) -> None:
    if path.is_dir():
        raise DatabaseError(f"The database path {path} is a directory, not a file.")
    if must_exist and not path.exists():
        raise DatabaseError(
            f"There is no call log at {path} yet; run `routermon demo` or `routermon simulate` to create one."
        )


def connect(path: Path | str, *, create: bool = True, readonly: bool = False) -> sqlite3.Connection:
    """A connection with WAL, a busy timeout and the schema migrated; errors become ``DatabaseError``."""
    path = Path(path)
    check_path(path, must_exist=not create)
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"The folder for the database {path} cannot be created: {exc.strerror}."
            ) from None
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
        tables = db.table_names()
        if tables and "calls" not in tables and "_sqlite_migrations" not in tables:
            raise DatabaseError(f"The file {path} is a SQLite database but not a routermon call log.")
        if MIGRATIONS.pending(db):
            MIGRATIONS.apply(db)
        if readonly:
            conn.execute("PRAGMA query_only = 1")
    except (sqlite3.Error, DatabaseError) as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, DatabaseError):
            raise
        raise _translate(path, exc) from None
    return conn


def translate(path: Path | str, exc: sqlite3.Error) -> DatabaseError:
    """The user-facing error for a SQLite failure on ``path``."""
    return _translate(Path(path), exc)
