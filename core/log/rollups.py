"""The rollups: every traffic figure's sums per hour x task x model x role x mode, kept by the
writers in the transaction that writes the rows, on both backends.

Their DDL and the statements that fill them live here, below both ``db`` (SQLite's migrations and
writers) and ``pg`` (PostgreSQL's migrations), which both build the tables from them.
"""

from __future__ import annotations

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
# Request latency (first call to answer, as ``reader._REQUESTLATENCY_SQL``) in buckets of a
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


def rollup_schema(db) -> None:
    """Create the two rollup tables with SQLite's type names (``db``: anything with ``execute``)."""
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
# answer is already logged, else when the answer's batch is written (``RECOVERED_LATER_SQL``).
_RECOVERED_NOW = (
    "SUM(CASE WHEN error_type IS NOT NULL AND escalated = 1 AND EXISTS (SELECT 1 FROM calls AS answer"
    " WHERE answer.request_id = calls.request_id AND answer.final = 1) THEN 1 ELSE 0 END)"
)
ROLLUP_ROWS_SQL = (
    f"INSERT INTO {ROLLUP_TABLE} ({', '.join(_ROLLUP_COLUMNS)}) "
    f"SELECT {_KEY_SELECT}, "
    + ", ".join(_RECOVERED_NOW if name == "recovered" else expr for name, expr in ROLLUP_SUMS.items())
    + f", MIN(ts), MAX(ts) FROM calls WHERE id > ? GROUP BY {_KEY_SELECT} "
    + _upsert(_ROLLUP_COLUMNS[len(ROLLUP_KEY) :], ROLLUP_KEY)
)
# Failed calls of earlier batches that an answer in this batch recovers (the answer is a later tier).
RECOVERED_LATER_SQL = (
    f"INSERT INTO {ROLLUP_TABLE} ({', '.join(ROLLUP_KEY)}, recovered) "
    f"SELECT {_key_select('f.')}, COUNT(*) FROM calls AS a JOIN calls AS f ON f.request_id = a.request_id"
    " WHERE a.id > ? AND a.final = 1 AND a.tier > 0 AND f.id <= ? AND f.error_type IS NOT NULL"
    " AND f.escalated = 1"
    f" GROUP BY {_key_select('f.')} " + _upsert(("recovered",), ROLLUP_KEY)
)
# The same for PostgreSQL, driven from this batch's answers (LATERAL: a lookup of each one's failed
# calls by request id), which its planner does not choose on a log it has not analyzed yet: it hashed
# every earlier row per batch, 0.17 s a batch at 400k rows (SQLite's own plan starts from the batch).
RECOVERED_LATER_PG_SQL = (
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
LATENCY_SQL = (
    f"INSERT INTO {LATENCY_TABLE} (hour, task, mode, bucket, requests) "
    f"SELECT hour, task, mode, {LATENCY_BUCKET_SQL.format(lat='latency')}, COUNT(*) FROM ("
    f"SELECT FLOOR(a.ts / 3600) AS hour, a.task AS task, a.mode AS mode, {_REQUEST_LATENCY} AS latency"
    f" FROM calls AS a WHERE a.id > ? AND a.final = 1 AND a.role != 'audit' AND a.mode NOT IN {_NOT_TRAFFIC}"
    f") AS answered WHERE latency IS NOT NULL GROUP BY hour, task, mode, {LATENCY_BUCKET_SQL.format(lat='latency')} "
    + _upsert(("requests",), ("hour", "task", "mode", "bucket"), LATENCY_TABLE)
)


def build_rollups(db) -> None:
    """Fill new rollup tables from every row logged so far (``db``: anything with ``execute``, a
    SQLite or a PostgreSQL log): the writers' own statements over all the rows."""
    db.execute(ROLLUP_ROWS_SQL, (0,))
    db.execute(LATENCY_SQL, (0,))
