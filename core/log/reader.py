"""The documented reader API over the call log; everything that shows or analyses the log uses it.

Traffic aggregates count *requests* as rows with ``tier = 0`` (each routed request logs exactly
one), leave out imported pairs (``mode = 'import'``) and count spend over every call. The
escalation share is over *cascade* requests: a shadow request calls both models whatever the
policy says, so its would-be escalations are counted apart (``shadow_escalated``). That
definition is written once, as ``Tally``: its ``add_row`` folds one row in Python, and
``TALLY_SQL`` is the same tally as SQL aggregates; the reader's queries, the live monitor and the
simulator's summary all tally through it.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from ..errors import DatabaseError
from ..formatting import clip, quoted
from . import pg
from .db import (
    DB_ERRORS,
    SEARCH_TABLE,
    connect,
    is_lock,
    log_location,
    translate,
)
from .logquery import CallFilters, QueryError
from .records import CALL_COLUMNS, JUDGE_MODE, CallRow, HumanLabel
from .rollups import LATENCY_BUCKETS_PER_E, LATENCY_TABLE, ROLLUP_TABLE

_SELECT = f"SELECT id, {', '.join(CALL_COLUMNS)} FROM calls"
_FIELDS = ("id", *CALL_COLUMNS)
_BOOL_FIELDS = ("escalated", "final")
IMPORT_MODE = "import"
# Imported pairs and judge calls are not traffic: nobody was served by them.
_TRAFFIC_SQL = f"mode NOT IN ('{IMPORT_MODE}', '{JUDGE_MODE}')"
_REQUEST_SQL = "tier = 0"  # each routed request logs exactly one tier-0 row
CASCADE_MODE, SHADOW_MODE = "cascade", "shadow"
_CASCADE_SQL = f"{_REQUEST_SQL} AND mode = '{CASCADE_MODE}'"
_SHADOW_SQL = f"{_REQUEST_SQL} AND mode = '{SHADOW_MODE}'"


def _count_if(condition: str) -> str:
    """How many rows meet ``condition``, 0 for none: SQLite's ``TOTAL(cond)`` in SQL both backends read."""
    return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


def _total(column: str) -> str:
    """The sum of ``column``, 0 for no rows (``TOTAL(column)``, which PostgreSQL lacks)."""
    return f"COALESCE(SUM({column}), 0)"


def _bucket_sql(expression: str, seconds: float) -> str:
    """The bucket number of ``expression``: ``floor``, as PostgreSQL's ``CAST`` rounds (SQLite's truncates)."""
    return f"FLOOR({expression} / {seconds!r})"


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by (shown as a dash or a gap, not 0%)."""
    return part / whole if whole else None


# A request's latency is what its caller waited, from the first call to the answer: a cascade's calls
# run one after another (their sum), a shadow request's two at once (the slower one). Audit calls run
# after the answer was returned and are left out; a request with no answer has no latency.
# ``RequestLatencies`` is the same, folded row by row.
AUDIT_ROLE = "audit"
_REQUEST_LATENCY_SQL = (
    f"CASE WHEN MAX(mode) = '{SHADOW_MODE}' THEN MAX(latency_ms) ELSE {_total('latency_ms')} END"
)
_LATENCY_ROWS_SQL = f"{_TRAFFIC_SQL} AND role != '{AUDIT_ROLE}'"


def is_traffic(row: CallRow) -> bool:
    """Whether a row counts in traffic figures (imported pairs and judge calls do not);
    ``_TRAFFIC_SQL`` in Python."""
    return row.mode != IMPORT_MODE and row.mode != JUDGE_MODE


class Tally:
    """Running figures of a set of calls: requests (tier-0 rows), escalated requests, calls, errors,
    spend (unpriced calls add nothing), tokens, the cheap model's judged and correct answers and
    the first and last timestamp.

    ``errors`` counts failed calls; ``answered`` the requests that got an answer (their one
    ``final`` row), so ``requests - answered`` failed outright; ``recovered`` the failed calls that
    escalated and whose request was then answered (``Recoveries`` matches them row by row; a row
    alone cannot tell, so ``add_row`` leaves it to the caller).

    ``requests`` and ``escalated`` count every mode; ``cascade_requests`` / ``cascade_escalated``
    are the cascade's own (what ``escalation_share`` is over) and ``shadow_requests`` /
    ``shadow_escalated`` the shadow runs' (requests the policy would have escalated). ``degraded``
    counts cascade requests whose first answer was escalated and then returned anyway, because the
    tier it escalated to failed (``RouteResult.degraded``).

    The one definition of those figures: ``add_row`` folds a row in, ``TALLY_SQL`` computes the
    same from the log and ``from_sql`` reads its values back. Slotted, as the live monitor folds
    every new row into several tallies.
    """

    __slots__ = (
        "requests",
        "escalated",
        "calls",
        "errors",
        "spend_usd",
        "cheap_correct",
        "cheap_judged",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "first_ts",
        "last_ts",
        "thinking_tokens",
        "cascade_requests",
        "cascade_escalated",
        "shadow_requests",
        "shadow_escalated",
        "answered",
        "recovered",
        "degraded",
    )

    def __init__(self) -> None:
        self.requests = self.escalated = self.calls = self.errors = 0
        self.cascade_requests = self.cascade_escalated = self.shadow_requests = self.shadow_escalated = 0
        self.answered = self.recovered = self.degraded = 0
        self.cheap_correct = self.cheap_judged = 0
        self.input_tokens = self.output_tokens = self.cache_read_tokens = self.cache_write_tokens = 0
        self.thinking_tokens = 0  # part of output_tokens
        self.spend_usd = 0.0
        self.first_ts: float | None = None
        self.last_ts: float | None = None

    @classmethod
    def from_sql(cls, values: Iterable) -> Tally:
        """The tally from the values of the ``TALLY_SQL`` columns, in their order."""
        t = cls()
        (req, esc, calls, err, spend, cc, cj, tin, tout, tcr, tcw, first, last, think, *modes) = values
        t.requests, t.escalated, t.calls, t.errors = int(req), int(esc), int(calls), int(err)
        t.spend_usd, t.cheap_correct, t.cheap_judged = float(spend), int(cc), int(cj)
        t.input_tokens, t.output_tokens = int(tin), int(tout)
        t.cache_read_tokens, t.cache_write_tokens = int(tcr), int(tcw)
        t.first_ts, t.last_ts = first, last
        t.thinking_tokens = int(think)
        (t.cascade_requests, t.cascade_escalated, t.shadow_requests, t.shadow_escalated) = map(int, modes[:4])
        t.answered, t.recovered, t.degraded = int(modes[4]), int(modes[5]), int(modes[6])
        return t

    def add_row(self, row: CallRow) -> None:
        """Fold one call in (whatever its mode: callers leave imports out with ``is_traffic``)."""
        self.calls += 1
        if row.tier == 0:
            self.requests += 1
            if row.escalated:
                self.escalated += 1
            if row.mode == CASCADE_MODE:
                self.cascade_requests += 1
                self.cascade_escalated += row.escalated
            elif row.mode == SHADOW_MODE:
                self.shadow_requests += 1
                self.shadow_escalated += row.escalated
            if row.correct is not None:
                self.cheap_judged += 1
                self.cheap_correct += bool(row.correct)
        if row.error_type is not None:
            self.errors += 1
        if row.final:
            self.answered += 1
            # Escalated, yet this answer is the one returned: the tier above it failed.
            if row.escalated and row.mode == CASCADE_MODE:
                self.degraded += 1
        if row.cost_usd is not None:
            self.spend_usd += row.cost_usd
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cache_read_tokens += row.cache_read_tokens
        self.cache_write_tokens += row.cache_write_tokens
        self.thinking_tokens += row.thinking_tokens or 0  # None: a row that did not report it
        ts = row.ts
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts

    def add(self, other: Tally) -> None:
        """Fold another tally in (a bucket into a day, a day into a month)."""
        self.requests += other.requests
        self.escalated += other.escalated
        self.calls += other.calls
        self.errors += other.errors
        self.spend_usd += other.spend_usd
        self.cheap_correct += other.cheap_correct
        self.cheap_judged += other.cheap_judged
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.thinking_tokens += other.thinking_tokens
        self.cascade_requests += other.cascade_requests
        self.cascade_escalated += other.cascade_escalated
        self.shadow_requests += other.shadow_requests
        self.shadow_escalated += other.shadow_escalated
        self.answered += other.answered
        self.recovered += other.recovered
        self.degraded += other.degraded
        if other.first_ts is not None and (self.first_ts is None or other.first_ts < self.first_ts):
            self.first_ts = other.first_ts
        if other.last_ts is not None and (self.last_ts is None or other.last_ts > self.last_ts):
            self.last_ts = other.last_ts


class RequestLatencies:
    """The latency of the newest ``size`` requests, folded call by call as rows arrive in id order
    (``_REQUEST_LATENCY_SQL`` in Python). A request is followed from its tier-0 row on, so one whose
    first row was never seen is left out rather than timed from its middle."""

    __slots__ = ("size", "_requests")

    def __init__(self, size: int) -> None:
        self.size = size
        # request_id -> [shadow?, latency so far, answered?], oldest first
        self._requests: dict[str, list] = {}

    def add_row(self, row: CallRow) -> None:
        """Fold one call in (every row may be given: non-traffic and audit rows are skipped)."""
        if row.role == AUDIT_ROLE or not is_traffic(row):
            return
        entry = self._requests.get(row.request_id)
        if entry is None:
            if row.tier != 0:
                return
            entry = self._requests[row.request_id] = [row.mode == SHADOW_MODE, 0.0, False]
            if len(self._requests) > self.size:
                del self._requests[next(iter(self._requests))]
        entry[1] = max(entry[1], row.latency_ms) if entry[0] else entry[1] + row.latency_ms
        if row.final:
            entry[2] = True

    def answered(self) -> list[float]:
        """The answered requests' latencies, ascending (for percentiles)."""
        return sorted(latency for _, latency, answered in self._requests.values() if answered)


class Recoveries:
    """Failed calls that escalated, waiting for their request's answer (``_RECOVERED_SQL`` row by
    row). Rows come in id order and a request's answer is logged after its failed calls, but a
    refresh may end between them, so they wait here (the newest ``size``; a request that failed
    outright never gets an answer)."""

    __slots__ = ("size", "_waiting")

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._waiting: dict[str, list[CallRow]] = {}

    def add_row(self, row: CallRow) -> list[CallRow]:
        """Take one traffic row; returns the failed calls its answer recovered (usually none)."""
        if row.final:
            return self._waiting.pop(row.request_id, []) if self._waiting else []
        if row.error_type is not None and row.escalated:
            self._waiting.setdefault(row.request_id, []).append(row)
            if len(self._waiting) > self.size:
                del self._waiting[next(iter(self._waiting))]
        return []


# A failed call that escalated, in a request that was answered (an index lookup per such call).
_RECOVERED_SQL = (
    "error_type IS NOT NULL AND escalated = 1 AND EXISTS (SELECT 1 FROM calls AS answer"
    " WHERE answer.request_id = calls.request_id AND answer.final = 1)"
)

# ``Tally.add_row`` as SQL aggregates, in ``Tally.from_sql`` order.
TALLY_SQL = ", ".join(
    (
        _count_if(_REQUEST_SQL),
        _count_if(f"{_REQUEST_SQL} AND escalated = 1"),
        "COUNT(*)",
        _count_if("error_type IS NOT NULL"),
        _total("cost_usd"),
        _count_if(f"{_REQUEST_SQL} AND correct = 1"),
        _count_if(f"{_REQUEST_SQL} AND correct IS NOT NULL"),
        _total("input_tokens"),
        _total("output_tokens"),
        _total("cache_read_tokens"),
        _total("cache_write_tokens"),
        "MIN(ts)",
        "MAX(ts)",
        _total("thinking_tokens"),
        _count_if(_CASCADE_SQL),
        _count_if(f"{_CASCADE_SQL} AND escalated = 1"),
        _count_if(_SHADOW_SQL),
        _count_if(f"{_SHADOW_SQL} AND escalated = 1"),
        _total("final"),
        _count_if(_RECOVERED_SQL),
        _count_if(f"mode = '{CASCADE_MODE}' AND escalated = 1 AND final = 1"),
    )
)


def _zero(expr: str) -> str:
    return f"COALESCE(SUM({expr}), 0)"


# ``TALLY_SQL`` over the rollups (``rollups.ROLLUP_SUMS``): the same figures, in ``Tally.from_sql`` order.
ROLLUP_TALLY_SQL = ", ".join(
    (
        _zero("CASE WHEN tier = 0 THEN calls ELSE 0 END"),
        _zero("CASE WHEN tier = 0 THEN escalated ELSE 0 END"),
        _zero("calls"),
        _zero("errors"),
        _zero("spend_usd"),
        _zero("CASE WHEN tier = 0 THEN correct ELSE 0 END"),
        _zero("CASE WHEN tier = 0 THEN judged ELSE 0 END"),
        _zero("input_tokens"),
        _zero("output_tokens"),
        _zero("cache_read_tokens"),
        _zero("cache_write_tokens"),
        "MIN(first_ts)",
        "MAX(last_ts)",
        _zero("thinking_tokens"),
        _zero(f"CASE WHEN tier = 0 AND mode = '{CASCADE_MODE}' THEN calls ELSE 0 END"),
        _zero(f"CASE WHEN tier = 0 AND mode = '{CASCADE_MODE}' THEN escalated ELSE 0 END"),
        _zero(f"CASE WHEN tier = 0 AND mode = '{SHADOW_MODE}' THEN calls ELSE 0 END"),
        _zero(f"CASE WHEN tier = 0 AND mode = '{SHADOW_MODE}' THEN escalated ELSE 0 END"),
        _zero("answered"),
        _zero("recovered"),
        _zero(f"CASE WHEN mode = '{CASCADE_MODE}' THEN answered_escalated ELSE 0 END"),
    )
)
HOUR_SECONDS = 3600


def _hours_within(since: float | None, until: float | None) -> tuple[int | None, int | None]:
    """The whole hours inside ``[since, until)`` as ``[first, end)`` hour numbers (rollup rows)."""
    first = None if since is None else math.ceil(since / HOUR_SECONDS)
    end = None if until is None else math.floor(until / HOUR_SECONDS)
    return first, end


class LatencyHistogram:
    """Request latencies in buckets of a constant ratio (``rollups.LATENCY_BUCKET_SQL``), from the
    rollups: percentiles without reading every request, each within 3.2% of the exact one."""

    def __init__(self, counts: dict[int, int]) -> None:
        self.counts = dict(sorted(counts.items()))
        self.count = sum(self.counts.values())

    @staticmethod
    def bucket_of(latency_ms: float) -> int:
        """The bucket ``rollups.LATENCY_BUCKET_SQL`` puts a latency in."""
        return math.floor(math.log1p(latency_ms) * LATENCY_BUCKETS_PER_E)

    @staticmethod
    def value(bucket: int) -> float:
        """A bucket's representative latency (ms): the geometric middle of its bounds."""
        return math.exp((bucket + 0.5) / LATENCY_BUCKETS_PER_E) - 1 if bucket > 0 else 0.0

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile (``q`` in [0, 100]), as ``percentile`` over the exact values."""
        if not self.count:
            return None
        rank = max(1, min(self.count, round(q / 100 * self.count + 0.5)))
        seen = 0
        for bucket, n in self.counts.items():
            seen += n
            if seen >= rank:
                return self.value(bucket)
        return None  # unreachable: the counts sum to count


class GroupTally(NamedTuple):
    """One (task, model) group's tally, imported pairs apart from traffic (``LogReader.group_tallies``)."""

    task: str
    model: str
    imported: bool
    tally: Tally


def _figures(model: type[BaseModel], tally: Tally) -> dict:
    """``tally``'s figures that ``model`` has fields for (one copy for every record built from a tally)."""
    return {name: getattr(tally, name) for name in model.model_fields if name in Tally.__slots__}


class RequestFigures(BaseModel):
    """The request figures every traffic summary shares (a bucket, a window, a task or model):
    the cascade's requests apart from the shadow runs', answers, recoveries and degraded answers,
    and the shares read from them (``Tally`` defines each)."""

    requests: int
    cascade_requests: int = 0
    cascade_escalated: int = 0
    shadow_requests: int = 0
    shadow_escalated: int = 0  # shadow requests the policy would have escalated
    answered: int = 0  # requests that got an answer
    recovered: int = 0  # failed calls that escalated, in requests then answered
    degraded: int = 0  # cascade answers from a lower tier because the tier above failed

    @property
    def escalation_share(self) -> float | None:
        """Escalated cascade requests over cascade requests (shadow requests apart); ``None`` without any."""
        return ratio(self.cascade_escalated, self.cascade_requests)

    @property
    def failed_requests(self) -> int:
        """Requests that got no answer (every tier failed, or the caller gave up)."""
        return self.requests - self.answered

    @classmethod
    def from_tally(cls, tally: Tally, **fields):
        """The record of ``tally``'s figures that ``cls`` has fields for, ``fields`` given apart."""
        return cls(**{**_figures(cls, tally), **fields})


class Bucket(RequestFigures):
    """Traffic in one time bucket starting at ``start`` (epoch seconds, UTC)."""

    start: float
    requests: int
    escalated: int
    calls: int
    errors: int
    spend_usd: float
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    @classmethod
    def of(cls, start: float, tally: Tally) -> Bucket:
        """The bucket starting at ``start`` holding ``tally``'s figures."""
        return cls(start=start, **_figures(cls, tally))


class Summary(RequestFigures):
    """Traffic totals over a window."""

    requests: int = 0
    escalated: int = 0
    calls: int = 0
    errors: int = 0
    spend_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0  # part of output_tokens
    first_ts: float | None = None
    last_ts: float | None = None

    @classmethod
    def of(cls, tally: Tally) -> Summary:
        """The summary of ``tally``'s figures."""
        return cls(**_figures(cls, tally))


class GroupStats(RequestFigures):
    """Traffic of one task or one model."""

    key: str
    requests: int
    escalated: int
    calls: int
    spend_usd: float
    cheap_correct: int = 0
    cheap_judged: int = 0  # cheap calls whose correctness is known

    @classmethod
    def of(cls, key: str, tally: Tally) -> GroupStats:
        """The group ``key`` holding ``tally``'s figures."""
        return cls(key=key, **_figures(cls, tally))

    @property
    def cheap_accuracy(self) -> float | None:
        return self.cheap_correct / self.cheap_judged if self.cheap_judged else None


class TierModelStats(BaseModel):
    """Calls and tokens of one model at one cascade tier (``input_tokens`` excludes cache tokens);
    of one role there too (``cheap``, ``strong``, ``shadow``, ``audit``) when ``role`` is set."""

    tier: int
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    spend_usd: float
    role: str | None = None

    @classmethod
    def of(cls, tier: int, model: str, tally: Tally, role: str | None = None) -> TierModelStats:
        """The (tier, model[, role]) group holding ``tally``'s calls, tokens and spend."""
        return cls(tier=tier, model=model, role=role, **_figures(cls, tally))


def row_to_call(row: tuple) -> CallRow:
    d = dict(zip(_FIELDS, row, strict=True))
    for key in _BOOL_FIELDS:
        d[key] = bool(d[key])
    if d["correct"] is not None:
        d["correct"] = bool(d["correct"])
    return CallRow.model_construct(**d)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (``q`` in [0, 100])."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def _window(since: float | None, until: float | None, include_imports: bool) -> tuple[str, list]:
    clauses, params = [], []
    if since is not None:
        clauses.append("ts >= ?")
        params.append(since)
    if until is not None:
        clauses.append("ts < ?")
        params.append(until)
    if not include_imports:
        clauses.append(_TRAFFIC_SQL)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class LogReader:
    """Read-only queries over the call log at ``path``; raises ``DatabaseError`` for a bad file."""

    def __init__(self, path: Path | str):
        self.path = log_location(path)
        self.conn = connect(self.path, create=False, readonly=True)
        self.postgres = pg.is_pg(self.conn)
        # One connection, possibly shared by a UI thread and a worker thread: closing it while a
        # query runs on another thread crashes SQLite, so queries and close() take turns.
        self.lock = threading.RLock()
        self._closed = False

    def close(self) -> None:
        """Close the connection; later queries raise ``DatabaseError``. Safe to call twice."""
        with self.lock:
            if not self._closed:
                self._closed = True
                self.conn.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[LogReader]:
        """One read transaction: every query made inside it sees the same rows (figures that must
        agree with each other and with ``max_id()``). Holds the reader's lock throughout."""
        with self.lock:
            # PostgreSQL's default isolation gives each statement its own snapshot; one for all:
            # https://www.postgresql.org/docs/current/transaction-iso.html#XACT-REPEATABLE-READ
            self._query("BEGIN ISOLATION LEVEL REPEATABLE READ" if self.postgres else "BEGIN")
            try:
                yield self
            finally:
                if not self._closed:
                    try:
                        self.conn.execute("COMMIT")
                    except DB_ERRORS as exc:
                        raise translate(self.path, exc) from None

    def _query(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        with self.lock:
            if self._closed:
                raise DatabaseError(f"The reader of {self.path} is closed.")
            try:
                return self.conn.execute(sql, params).fetchall()
            except DB_ERRORS as exc:
                raise translate(self.path, exc) from None

    # -- tailing -------------------------------------------------------------------------------

    def max_id(self) -> int:
        """The newest row's id (0 for an empty log)."""
        return self._query("SELECT COALESCE(MAX(id), 0) FROM calls")[0][0]

    def calls_after(
        self,
        last_id: int = 0,
        *,
        limit: int | None = None,
        task: str | None = None,
        model: str | None = None,
    ) -> list[CallRow]:
        """Calls with ``id > last_id`` in id order (only what is new: never a rescan)."""
        sql, params = _SELECT + " WHERE id > ?", [last_id]
        if task:
            sql += " AND task = ?"
            params.append(task)
        if model:
            sql += " AND model = ?"
            params.append(model)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [row_to_call(r) for r in self._query(sql, params)]

    def imported_pairs(self) -> int:
        """How many imported pairs the log holds (their tier-0 rows): not traffic, but what the
        analysis screens work from."""
        sql = f"SELECT COALESCE(SUM(calls), 0) FROM {ROLLUP_TABLE} WHERE mode = '{IMPORT_MODE}' AND {_REQUEST_SQL}"
        return int(self._query(sql)[0][0])

    def count_before(self, ts: float) -> int:
        """How many calls were logged before ``ts`` (an index range): what a prune there deletes."""
        return int(self._query("SELECT COUNT(*) FROM calls WHERE ts < ?", [ts])[0][0])

    def recent_calls(
        self, limit: int = 200, *, task: str | None = None, model: str | None = None
    ) -> list[CallRow]:
        """The newest ``limit`` calls made here, oldest first (imported pairs were not made here,
        so they are not calls to list: ``imported_pairs`` counts them)."""
        sql, params = _SELECT, []
        clauses = [f"mode != '{IMPORT_MODE}'"]
        if task:
            clauses.append("task = ?")
            params.append(task)
        if model:
            clauses.append("model = ?")
            params.append(model)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [row_to_call(r) for r in reversed(self._query(sql, params))]

    def request_calls(self, request_id: str) -> list[CallRow]:
        """Every call of one routed request, in tier order."""
        return [
            row_to_call(r)
            for r in self._query(_SELECT + " WHERE request_id = ? ORDER BY tier, id", [request_id])
        ]

    def search_calls(self, filters: CallFilters, limit: int | None = 20) -> list[CallRow]:
        """Calls matching ``filters``, newest first by time (then by id), at most ``limit``.

        ``filters.search`` goes through the FTS5 index of input previews and answers; a search FTS5
        rejects (only possible with ``search_syntax``) is a ``QueryError``.
        """
        clauses, params = [], []
        for column, value in (
            ("task", filters.task),
            ("model", filters.model),
            ("role", filters.role),
            ("escalation_reason", filters.reason),
            ("request_id", filters.request_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if filters.since is not None:
            clauses.append("ts >= ?")
            params.append(filters.since)
        if filters.until is not None:
            clauses.append("ts < ?")
            params.append(filters.until)
        match = filters.fts_query()
        with self.lock:
            if self._closed:
                raise DatabaseError(f"The reader of {self.path} is closed.")
            try:
                if match is None:
                    return self._by_time(clauses, params, limit)
                if self.postgres:
                    # The words of the text, all of them (the GIN index's expression, ``pg.SEARCH_VECTOR``).
                    words = filters.words()
                    query = filters.search if words is None else pg.literal_tsquery(words)
                    parse = "?::tsquery" if words is not None else "to_tsquery('simple', ?)"
                    found = f"id IN (SELECT id FROM {SEARCH_TABLE} WHERE {pg.SEARCH_VECTOR} @@ {parse})"
                    return self._by_time([*clauses, found], [*params, query], limit)
                if limit is not None:
                    found = self._recent_matches(match, clauses, params, limit)
                    if found is not None:
                        return found
                subquery = f"id IN (SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?)"
                return self._by_time([*clauses, subquery], [*params, match], limit)
            except (sqlite3.OperationalError, pg.PgError) as exc:
                if filters.search_syntax and match is not None and not is_lock(exc):
                    syntax = "PostgreSQL tsquery" if self.postgres else "FTS5"
                    raise QueryError(
                        f"The search {quoted(filters.search)} is not valid {syntax} syntax "
                        f"({clip(str(getattr(exc, 'detail', None) or exc))})."
                    ) from None
                raise translate(self.path, exc) from None
            except DB_ERRORS as exc:
                raise translate(self.path, exc) from None

    def _by_time(self, clauses: list[str], params: list, limit: int | None) -> list[CallRow]:
        sql = _SELECT + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY ts DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        return [row_to_call(r) for r in self.conn.execute(sql, params).fetchall()]

    def _recent_matches(
        self, match: str, clauses: list[str], params: list, limit: int
    ) -> list[CallRow] | None:
        """The newest ``limit`` matches from the newest matches by id, when that is provably the
        answer; ``None`` when it is not (the caller then asks every match).

        Why: ``id IN (every match)`` reads the whole doclist, 280 ms for a word in a fifth of
        1,000,000 rows (bench/search.py); FTS5 streams matches newest id first in under a
        millisecond. Ids follow time except for rows logged late or imported, so the answer is
        exact only if no row older by id than the window is newer by time than the last row kept.
        """
        window = max(200, limit * 10)
        if window > 5000:
            return None  # a long listing: bound the ids bound into one statement
        ids = [
            r[0]
            for r in self.conn.execute(
                f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ? ORDER BY rowid DESC LIMIT ?",
                [match, window],
            ).fetchall()
        ]
        if not ids:
            return []
        floor = ids[-1]
        rows = self._by_time([*clauses, f"id IN ({', '.join('?' * len(ids))})"], [*params, *ids], limit)
        if len(ids) < window:
            return rows  # every match was in the window
        if len(rows) < limit:
            return None
        stray = self.conn.execute(
            "SELECT 1 FROM calls WHERE ts > ? AND id < ? LIMIT 1", [rows[-1].ts, floor]
        ).fetchone()
        return None if stray else rows

    def iter_calls(self, *, include_imports: bool = True, batch: int = 5000) -> Iterator[CallRow]:
        """Every call in id order, fetched in batches."""
        last = 0
        while True:
            rows = self.calls_after(last, limit=batch)
            if not rows:
                return
            for row in rows:
                if include_imports or row.mode != IMPORT_MODE:
                    yield row
            last = rows[-1].id

    # -- aggregates ----------------------------------------------------------------------------

    def summary(
        self, since: float | None = None, until: float | None = None, *, include_imports: bool = False
    ) -> Summary:
        """Requests, escalations, calls, errors, spend and tokens in ``[since, until)``."""
        return Summary.of(self.tally(since, until, include_imports=include_imports))

    def tally(
        self, since: float | None = None, until: float | None = None, *, include_imports: bool = False
    ) -> Tally:
        """Every figure of ``Tally`` over the calls in ``[since, until)``."""
        return self._rolled((), since, until, include_imports=include_imports).get((), Tally())

    def _rolled(
        self,
        groups: Sequence[str | tuple[str, str]] = (),
        since: float | None = None,
        until: float | None = None,
        *,
        where: Sequence[str] = (),
        params: Sequence = (),
        include_imports: bool = False,
        bucket_hours: int | None = None,
    ) -> dict[tuple, Tally]:
        """Tallies per key over ``[since, until)``: the window's whole hours from the rollups, the
        part-hours at its edges from the rows (an index range on ``ts``), so a window costs what its
        hours and edges hold, never the whole log.

        ``groups``: the key's columns, each a name both tables have or ``(rows SQL, rollups SQL)``;
        ``where``/``params``: conditions on such columns; ``bucket_hours``: a leading key, the
        bucket of that many hours since the epoch each call falls in."""
        conds = [*where, *([] if include_imports else [_TRAFFIC_SQL])]
        row_keys = [g if isinstance(g, str) else g[0] for g in groups]
        rollup_keys = [g if isinstance(g, str) else g[1] for g in groups]
        if bucket_hours is not None:
            row_keys.insert(0, f"CAST(FLOOR(ts / {bucket_hours * HOUR_SECONDS}) AS INTEGER)")
            rollup_keys.insert(0, f"hour / {int(bucket_hours)}")
        out: dict[tuple, Tally] = {}

        def fold(sql: str, values: list) -> None:
            for row in self._query(sql, values):
                key, tally = tuple(row[: len(row_keys)]), Tally.from_sql(row[len(row_keys) :])
                if tally.calls or tally.recovered:
                    if key in out:
                        out[key].add(tally)
                    else:
                        out[key] = tally

        def select(table: str, keys: list[str], figures: str, clauses: list[str]) -> str:
            sql = f"SELECT {', '.join([*keys, figures])} FROM {table}"
            sql += (" WHERE " + " AND ".join(clauses)) if clauses else ""
            return sql + (f" GROUP BY {', '.join(keys)}" if keys else "")

        first, end = _hours_within(since, until)
        hours = [*conds]
        if first is not None:
            hours.append(f"hour >= {int(first)}")
        if end is not None:
            hours.append(f"hour < {int(end)}")
        edges: list[tuple[float, float]] = []
        if first is not None and end is not None and first >= end:
            edges.append((since, until))  # the window lies within one hour: rows only
        else:
            fold(select(ROLLUP_TABLE, rollup_keys, ROLLUP_TALLY_SQL, hours), list(params))
            if first is not None and first * HOUR_SECONDS > since:
                edges.append((since, first * HOUR_SECONDS))
            if end is not None and end * HOUR_SECONDS < until:
                edges.append((end * HOUR_SECONDS, until))
        for lo, hi in edges:
            fold(select("calls", row_keys, TALLY_SQL, [*conds, "ts >= ?", "ts < ?"]), [*params, lo, hi])
        return out

    def bucket_tallies(
        self,
        bucket_seconds: float,
        since: float | None = None,
        until: float | None = None,
        *,
        task: str | None = None,
    ) -> dict[int, Tally]:
        """Traffic per time bucket as tallies, keyed by bucket number (``ts // bucket_seconds``),
        in bucket order; empty buckets are absent. Buckets of whole hours come from the rollups."""
        b = float(bucket_seconds)
        where, params = (["task = ?"], [task]) if task else ([], [])
        if b >= HOUR_SECONDS and b % HOUR_SECONDS == 0:
            rolled = self._rolled(
                (), since, until, where=where, params=params, bucket_hours=int(b // HOUR_SECONDS)
            )
            return {int(k[0]): rolled[k] for k in sorted(rolled)}
        clause, values = _window(since, until, include_imports=False)
        if task:
            clause += (" AND" if clause else " WHERE") + " task = ?"
            values.append(task)
        rows = self._query(
            f"SELECT {_bucket_sql('ts', b)} AS k, {TALLY_SQL} FROM calls{clause} GROUP BY k ORDER BY k",
            values,
        )
        return {int(k): Tally.from_sql(figures) for k, *figures in rows}

    def buckets(
        self,
        bucket_seconds: float,
        since: float | None = None,
        until: float | None = None,
        *,
        task: str | None = None,
        latency: bool = False,
    ) -> list[Bucket]:
        """Traffic per time bucket (buckets aligned to multiples of ``bucket_seconds`` since the epoch).

        With ``latency=True`` each bucket also carries p50/p95 request latency (of the requests whose
        first call falls in it; reads every request of the window).
        """
        b = float(bucket_seconds)
        tallies = self.bucket_tallies(b, since, until, task=task)
        out = [Bucket.of(k * b, t) for k, t in tallies.items()]
        if latency and out:
            where, params = _window(since, until, include_imports=False)
            if task:
                where += (" AND" if where else " WHERE") + " task = ?"
                params.append(task)
            by_key: dict[int, list[float]] = {}
            for k, lat in self._query(
                f"SELECT {_bucket_sql('MIN(ts)', b)}, {_REQUEST_LATENCY_SQL} FROM calls{where}"
                f" AND {_LATENCY_ROWS_SQL} GROUP BY request_id HAVING MAX(final) = 1",
                params,
            ):
                by_key.setdefault(int(k), []).append(lat)
            for bucket in out:
                values = sorted(by_key.get(int(round(bucket.start / b)), []))
                bucket.latency_p50_ms = percentile(values, 50)
                bucket.latency_p95_ms = percentile(values, 95)
        return out

    def _grouped(self, column: str, since: float | None, until: float | None) -> list[GroupStats]:
        rolled = self._rolled((column,), since, until)
        stats = [GroupStats.of(key, tally) for (key,), tally in rolled.items()]
        return sorted(stats, key=lambda g: (-g.spend_usd, g.key))

    def group_tallies(self) -> list[GroupTally]:
        """Every call tallied per (task, model, imported or not), imports included (a monitor lists
        their task and model names), from the rollups: in a ``snapshot`` with ``max_id()``, exactly
        the rows up to that id."""
        rolled = self._rolled(("task", "model", (_TRAFFIC_SQL, _TRAFFIC_SQL)), include_imports=True)
        return [
            GroupTally(task, model, not traffic, tally) for (task, model, traffic), tally in rolled.items()
        ]

    def per_task(self, since: float | None = None, until: float | None = None) -> list[GroupStats]:
        """Traffic per task, costliest first."""
        return self._grouped("task", since, until)

    def per_model(self, since: float | None = None, until: float | None = None) -> list[GroupStats]:
        """Calls and spend per model, costliest first (``requests`` counts requests it was first for)."""
        return self._grouped("model", since, until)

    def first_traffic_ts(self) -> float | None:
        """When the log's first routed request was logged (``None`` without any)."""
        return self._query(f"SELECT MIN(first_ts) FROM {ROLLUP_TABLE} WHERE {_TRAFFIC_SQL}")[0][0]

    def latency_histogram(self, task: str | None = None) -> LatencyHistogram:
        """The latency of every answered request (what its caller waited, first call to answer:
        see ``_REQUEST_LATENCY_SQL``), from the rollups, optionally of one task."""
        sql = f"SELECT bucket, SUM(requests) FROM {LATENCY_TABLE}"
        sql += " WHERE task = ? GROUP BY bucket" if task else " GROUP BY bucket"
        return LatencyHistogram({int(b): int(n) for b, n in self._query(sql, [task] if task else [])})

    def tasks(self) -> list[str]:
        return [r[0] for r in self._query(f"SELECT DISTINCT task FROM {ROLLUP_TABLE} ORDER BY task")]

    def models(self) -> list[str]:
        return [r[0] for r in self._query(f"SELECT DISTINCT model FROM {ROLLUP_TABLE} ORDER BY model")]

    def escalation_reasons(self, since: float | None = None, until: float | None = None) -> dict[str, int]:
        """Escalated cascade requests per first escalation reason (the tier-0 row's), most frequent
        first (shadow requests' would-be escalations are not escalations)."""
        rolled = self._rolled(
            (("COALESCE(escalation_reason, '')", "reason"),),
            since,
            until,
            where=[f"tier = 0 AND mode = '{CASCADE_MODE}'"],
        )
        counts = {reason or "unknown": t.cascade_escalated for (reason,), t in rolled.items()}
        ranked = sorted((item for item in counts.items() if item[1]), key=lambda kv: (-kv[1], kv[0]))
        return dict(ranked)

    def per_tier_model(
        self, since: float | None = None, until: float | None = None, *, by_role: bool = False
    ) -> list[TierModelStats]:
        """Calls, tokens and spend per (tier, model) in the window, by tier then most calls first;
        per (tier, role, model) with ``by_role``."""
        groups = ("tier", "role", "model") if by_role else ("tier", "model")
        rolled = self._rolled(groups, since, until)
        stats = [
            TierModelStats.of(int(key[0]), key[-1], tally, role=key[1] if by_role else None)
            for key, tally in rolled.items()
        ]
        return sorted(stats, key=lambda s: (s.tier, -s.calls, s.role or "", s.model))

    # -- pairs, imports and shadow runs --------------------------------------------------------

    def pair_rows(self, strong_roles: Sequence[str], task: str | None = None) -> list[CallRow]:
        """Every call of every request that has a row in one of ``strong_roles`` (a paired outcome),
        optionally of one task, in tier then id order (``pairs.load_pairs`` groups them)."""
        marks = ", ".join("?" for _ in strong_roles)
        sql = f"{_SELECT} WHERE request_id IN (SELECT request_id FROM calls WHERE role IN ({marks})"
        sql += " AND task = ?) ORDER BY tier, id" if task else ") ORDER BY tier, id"
        return [row_to_call(r) for r in self._query(sql, [*strong_roles, *([task] if task else [])])]

    def pair_outcome_rows(
        self,
        strong_roles: Sequence[str],
        task: str | None = None,
        *,
        by_time: bool = False,
        batch: int = 5000,
        share: tuple[int, int] | None = None,
    ) -> Iterator[tuple]:
        """One lean row per paired request (its first row's id, the cheap and the strong call's
        outcome, costs and models, the latest label and judge answer), streamed ``batch`` rows at a
        time in no particular order (``by_time``: by task, then in order of the cheap call's ``ts``): what
        ``pairtable`` folds into its per-confidence table without holding the pairs; ``share=(after, up_to)``
        only the pairs whose strong row's id is in that range (a worker's share). Holds the
        reader's lock until the stream is exhausted or closed."""
        with self.lock:
            labels = bool(self._query("SELECT 1 FROM labels LIMIT 1"))
            judges = bool(self._query("SELECT 1 FROM calls WHERE role = ? LIMIT 1", [JUDGE_MODE]))
        # The latest label (by ts, id) and the latest judge row that answered: two index probes a pair,
        # left out when the log has no labels or no judge rows (2M-row log: 4.2 s -> 5.6 s with both).
        label = (
            "(SELECT x.label FROM labels x WHERE x.request_id = c.request_id ORDER BY x.ts DESC, x.id DESC LIMIT 1)"
            if labels
            else "NULL"
        )
        judge = (
            f"(SELECT x.answer FROM calls x WHERE x.request_id = c.request_id AND x.role = '{JUDGE_MODE}'"
            " AND x.error_type IS NULL AND x.answer IS NOT NULL ORDER BY x.id DESC LIMIT 1)"
            if judges
            else "NULL"
        )
        roles = ", ".join("?" for _ in strong_roles)
        # Driven from the strong rows (the few), each request's first strong row (by tier, id) and
        # first cheap row, as load_pairs takes them: 10M rows, 1M pairs: 6.3 s ordered by the cheap
        # rows -> 4.2 s.
        sql = (
            "SELECT c.request_id, CASE WHEN s.id < c.id THEN s.id ELSE c.id END, c.task, c.mode, s.role, s.mode,"
            " c.model, s.model, c.confidence, c.answer, c.error_type, c.correct, s.answer, s.error_type, s.correct,"
            " c.cost_usd, s.cost_usd, CASE WHEN c.reference IS NOT NULL OR s.reference IS NOT NULL THEN 1 ELSE 0 END,"
            f" c.audit_share, c.ts, {label}, {judge}"
            " FROM calls s CROSS JOIN calls c"
            f" WHERE s.role IN ({roles})"
            + (" AND s.task = ?" if task else "")
            + (" AND s.id > ? AND s.id <= ?" if share else "")
            + " AND c.request_id = s.request_id"
            " AND c.role = 'cheap' AND c.tier = 0"
            " AND NOT EXISTS (SELECT 1 FROM calls x WHERE x.request_id = s.request_id AND x.role = 'cheap'"
            " AND x.tier = 0 AND x.id < c.id)"
            # No pair row before s in (tier, id) order, asked by id side so each probe reads fewer rows.
            f" AND NOT EXISTS (SELECT 1 FROM calls x WHERE x.request_id = s.request_id AND x.id < s.id"
            f" AND x.role IN ({roles}) AND x.tier <= s.tier)"
            f" AND NOT EXISTS (SELECT 1 FROM calls x WHERE x.request_id = s.request_id AND x.id > s.id"
            f" AND x.role IN ({roles}) AND x.tier < s.tier)"
            + (" ORDER BY c.task, c.ts, c.id" if by_time else "")
        )
        params = [*strong_roles, *([task] if task else []), *(share if share else [])]
        params += [*strong_roles, *strong_roles]
        yield from self._stream(sql, params, batch)

    def pair_split_ids(self, strong_roles: Sequence[str], task: str | None, parts: int) -> list[int]:
        """Ids that cut the rows in ``strong_roles`` into ``parts`` ranges of about as many rows each
        (``0 < cut_1 < … < max id``), for workers reading a share of the pairs each: ranges of ids,
        not ids modulo n, whose parity the logging order fixes (a pair's rows alternate)."""
        total = self.paired_calls(strong_roles, task)
        marks = ", ".join("?" for _ in strong_roles)
        sql = f"SELECT id FROM calls WHERE role IN ({marks})" + (" AND task = ?" if task else "")
        sql += " ORDER BY id LIMIT 1 OFFSET ?"
        cuts = [0]
        for k in range(1, parts):
            rows = self._query(sql, [*strong_roles, *([task] if task else []), total * k // parts])
            cuts.append(max(cuts[-1], rows[0][0] if rows else cuts[-1]))
        return [*cuts, self.max_id()]

    def paired_calls(self, strong_roles: Sequence[str], task: str | None = None) -> int:
        """How many calls the log holds in ``strong_roles`` (about its pairs), from the rollups."""
        marks = ", ".join("?" for _ in strong_roles)
        sql = f"SELECT COALESCE(SUM(calls), 0) FROM {ROLLUP_TABLE} WHERE role IN ({marks})"
        params = [*strong_roles, *([task] if task else [])]
        return int(self._query(sql + (" AND task = ?" if task else ""), params)[0][0])

    def judge_calls_by_model(self, task: str | None = None) -> dict[str, tuple[int, float]]:
        """``(calls, spend_usd)`` of the judge calls per judge model, optionally of one task's pairs,
        from the rollups: pruned judge calls count, as they do in every other total."""
        sql = f"SELECT model, SUM(calls), COALESCE(SUM(spend_usd), 0) FROM {ROLLUP_TABLE} WHERE mode = ?"
        sql += (" AND task = ?" if task else "") + " GROUP BY model ORDER BY model"
        rows = self._query(sql, [JUDGE_MODE, *([task] if task else [])])
        return {model: (int(calls), float(spend)) for model, calls, spend in rows if calls}

    def _stream(self, sql: str, params: list, batch: int) -> Iterator[tuple]:
        """The rows of ``sql`` fetched ``batch`` at a time, holding the reader's lock throughout."""
        with self.lock:
            if self._closed:
                raise DatabaseError(f"The reader of {self.path} is closed.")
            try:
                # PostgreSQL: a server-side cursor, or the client would hold the whole result.
                cursor = self.conn.stream(sql, params) if self.postgres else self.conn.execute(sql, params)
            except DB_ERRORS as exc:
                raise translate(self.path, exc) from None
            try:
                while True:
                    try:
                        rows = cursor.fetchmany(batch)
                    except DB_ERRORS as exc:
                        raise translate(self.path, exc) from None
                    if not rows:
                        return
                    yield from rows
            finally:
                cursor.close()

    def pair_tasks(self) -> list[str]:
        """The tasks that have paired outcomes (a strong row of a pair role: shadow or audit), sorted."""
        return [
            r[0]
            for r in self._query(
                "SELECT DISTINCT task FROM calls WHERE role IN ('shadow', 'audit') ORDER BY task"
            )
        ]

    def audit_tasks(self, task: str | None = None) -> list[str]:
        """The tasks that have audit rows (only ``task``, if given), sorted."""
        sql = f"SELECT DISTINCT task FROM {ROLLUP_TABLE} WHERE role = 'audit'" + (
            " AND task = ?" if task else ""
        )
        return [r[0] for r in self._query(sql + " ORDER BY task", [task] if task else [])]

    def judge_spend(self, since: float | None = None, until: float | None = None) -> float:
        """What judge calls cost in ``[since, until)``: the cost of measuring, apart from serving."""
        rolled = self._rolled((), since, until, where=[f"mode = '{JUDGE_MODE}'"], include_imports=True)
        return rolled[()].spend_usd if rolled else 0.0

    def cascade_outcomes(
        self, task: str | None = None, since: float | None = None, until: float | None = None
    ) -> tuple[int, int, int]:
        """``(kept, escalated, failed)`` cascade requests in ``[since, until)``: answered by the first
        tier, answered by a later tier, answered by none (shadow requests and imports apart)."""
        where, params = [f"mode = '{CASCADE_MODE}'"], []
        if task:
            where.append("task = ?")
            params.append(task)
        per_tier = self._rolled(("tier",), since, until, where=where, params=params)
        first = per_tier.get((0,), Tally())
        kept = first.answered
        escalated = sum(t.answered for (tier,), t in per_tier.items() if tier > 0)
        return kept, escalated, max(0, first.requests - kept - escalated)

    def pair_rows_page(
        self, strong_roles: Sequence[str], task: str | None = None, *, after: str = "", limit: int = 500
    ) -> list[CallRow]:
        """One page of ``pair_rows``: every call of the next ``limit`` paired requests whose id sorts
        after ``after`` (in request id order; page on with the last request id seen), in tier then
        id order. Walks the request index, so reading every page reads each row once."""
        roles = ", ".join("?" for _ in strong_roles)
        scope = " AND task = ?" if task else ""
        ids = [
            r[0]
            for r in self._query(
                f"SELECT DISTINCT request_id FROM calls WHERE request_id > ? AND role IN ({roles}){scope}"
                " ORDER BY request_id LIMIT ?",
                [after, *strong_roles, *([task] if task else []), limit],
            )
        ]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        sql = f"{_SELECT} WHERE request_id IN ({marks}) ORDER BY tier, id"
        return [row_to_call(r) for r in self._query(sql, ids)]

    def request_inputs(self, task: str | None = None) -> dict[str, tuple[str, str | None]]:
        """``request_id -> (input_sha256, input as stored)`` of every request's first call
        (optionally of one task): what a judge run reads the input from."""
        sql = "SELECT request_id, input_sha256, input_preview FROM calls WHERE tier = 0 AND role = 'cheap'"
        rows = self._query(sql + (" AND task = ?" if task else ""), [task] if task else [])
        return {request_id: (digest, stored) for request_id, digest, stored in rows}

    def judge_rows(self, task: str | None = None) -> list[CallRow]:
        """Every judge call (``records.JUDGE_MODE``), optionally of one task's pairs, in id order."""
        sql = f"{_SELECT} WHERE mode = ?" + (" AND task = ?" if task else "") + " ORDER BY id"
        return [row_to_call(r) for r in self._query(sql, [JUDGE_MODE, *([task] if task else [])])]

    def human_labels(self, task: str | None = None) -> dict[str, HumanLabel]:
        """The latest human label of every labelled request (optionally of one task's requests),
        by ``request_id``. A log older than the ``labels`` table has none."""
        sql = "SELECT request_id, label, labeller, ts, source FROM labels"
        params: list = []
        if task:
            sql += " WHERE request_id IN (SELECT request_id FROM calls WHERE task = ? AND tier = 0)"
            params.append(task)
        labels: dict[str, HumanLabel] = {}
        for request_id, label, labeller, ts, source in self._query(sql + " ORDER BY ts, id", params):
            labels[request_id] = HumanLabel(
                request_id=request_id, label=label, labeller=labeller, ts=ts, source=source
            )
        return labels

    def request_label(self, request_id: str) -> HumanLabel | None:
        """The latest human label of one request, if it has one (``human_labels`` for many)."""
        rows = self._query(
            "SELECT request_id, label, labeller, ts, source FROM labels WHERE request_id = ?"
            " ORDER BY ts DESC, id DESC LIMIT 1",
            [request_id],
        )
        if not rows:
            return None
        request_id, label, labeller, ts, source = rows[0]
        return HumanLabel(request_id=request_id, label=label, labeller=labeller, ts=ts, source=source)

    def paired_requests(self, request_ids: Iterable[str], strong_roles: Sequence[str]) -> dict[str, bool]:
        """For each of ``request_ids`` the log knows, whether it is a paired outcome (it has a row in
        one of ``strong_roles``); unknown ids are left out (asked in chunks of 500)."""
        ids = list(dict.fromkeys(request_ids))
        roles = ", ".join("?" for _ in strong_roles)
        found: dict[str, bool] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = (
                f"SELECT request_id, MAX(CASE WHEN role IN ({roles}) THEN 1 ELSE 0 END) FROM calls"
                f" WHERE request_id IN ({marks}) GROUP BY request_id"
            )
            found.update((r, bool(p)) for r, p in self._query(sql, [*strong_roles, *chunk]))
        return found

    def labels_by_labeller(self, request_ids: Iterable[str]) -> dict[tuple[str, str], str]:
        """The latest label of each (request, labeller) among ``request_ids`` (asked in chunks of 500)."""
        ids = list(dict.fromkeys(request_ids))
        latest: dict[tuple[str, str], str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = (
                "SELECT request_id, labeller, label FROM labels"
                f" WHERE request_id IN ({', '.join('?' for _ in chunk)}) ORDER BY ts, id"
            )
            for request_id, labeller, label in self._query(sql, chunk):
                latest[(request_id, labeller)] = label
        return latest

    def existing_dedup_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` some row already carries as its ``dedup_key`` (asked in chunks of 500)."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            sql = f"SELECT dedup_key FROM calls WHERE dedup_key IN ({', '.join('?' for _ in chunk)})"
            found.update(r[0] for r in self._query(sql, chunk))
        return found

    def finished_shadow_inputs(self, task: str, source: str, *, prefix: str | None = None) -> set[str]:
        """sha256 of ``task``'s inputs that a shadow run from ``source`` already paired: a cheap and
        a shadow row of one request, at least one of them answered (failed on both: tried again).
        With ``prefix``, only requests whose id starts with it (one task definition's pairs)."""
        scoped = " AND substr(c.request_id, 1, ?) = ?" if prefix else ""
        rows = self._query(
            "SELECT c.input_sha256 FROM calls c JOIN calls s ON s.request_id = c.request_id"
            " WHERE c.task = ? AND c.mode = 'shadow' AND c.source = ? AND c.role = 'cheap' AND s.role = 'shadow'"
            " AND (c.final = 1 OR s.final = 1)" + scoped,
            [task, source, *([len(prefix), prefix] if prefix else [])],
        )
        return {r[0] for r in rows}
