"""The documented reader API over the call log; everything that shows or analyses the log uses it.

Traffic aggregates count *requests* as rows with ``tier = 0`` (each routed request logs exactly
one), leave out imported pairs (``mode = 'import'``) and count spend over every call.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from .db import connect, translate
from .errors import DatabaseError
from .records import CALL_COLUMNS, CallRow

_SELECT = f"SELECT id, {', '.join(CALL_COLUMNS)} FROM calls"
_FIELDS = ("id", *CALL_COLUMNS)
_BOOL_FIELDS = ("escalated", "final")


class Bucket(BaseModel):
    """Traffic in one time bucket starting at ``start`` (epoch seconds, UTC)."""

    start: float
    requests: int
    escalated: int
    calls: int
    errors: int
    spend_usd: float
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    @property
    def escalation_share(self) -> float:
        return self.escalated / self.requests if self.requests else 0.0


class Summary(BaseModel):
    """Traffic totals over a window."""

    requests: int = 0
    escalated: int = 0
    calls: int = 0
    errors: int = 0
    spend_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    first_ts: float | None = None
    last_ts: float | None = None

    @property
    def escalation_share(self) -> float:
        return self.escalated / self.requests if self.requests else 0.0


class GroupStats(BaseModel):
    """Traffic of one task or one model."""

    key: str
    requests: int
    escalated: int
    calls: int
    spend_usd: float
    cheap_correct: int = 0
    cheap_judged: int = 0  # cheap calls whose correctness is known

    @property
    def escalation_share(self) -> float:
        return self.escalated / self.requests if self.requests else 0.0

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
        clauses.append("mode != 'import'")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class LogReader:
    """Read-only queries over the call log at ``path``; raises ``DatabaseError`` for a bad file."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.conn = connect(self.path, create=False, readonly=True)
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

    def _query(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        with self.lock:
            if self._closed:
                raise DatabaseError(f"The reader of {self.path} is closed.")
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
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

    def recent_calls(
        self, limit: int = 200, *, task: str | None = None, model: str | None = None
    ) -> list[CallRow]:
        """The newest ``limit`` calls, oldest first."""
        sql, params = _SELECT, []
        clauses = []
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

    def iter_calls(self, *, include_imports: bool = True, batch: int = 5000) -> Iterator[CallRow]:
        """Every call in id order, fetched in batches."""
        last = 0
        while True:
            rows = self.calls_after(last, limit=batch)
            if not rows:
                return
            for row in rows:
                if include_imports or row.mode != "import":
                    yield row
            last = rows[-1].id

    # -- aggregates ----------------------------------------------------------------------------

    def summary(
        self, since: float | None = None, until: float | None = None, *, include_imports: bool = False
    ) -> Summary:
        """Requests, escalations, calls, errors, spend and tokens in ``[since, until)``."""
        where, params = _window(since, until, include_imports)
        row = self._query(
            "SELECT TOTAL(tier = 0), TOTAL(tier = 0 AND escalated), COUNT(*), TOTAL(error_type IS NOT NULL),"
            " TOTAL(cost_usd), TOTAL(input_tokens), TOTAL(output_tokens), MIN(ts), MAX(ts) FROM calls"
            + where,
            params,
        )[0]
        return Summary(
            requests=int(row[0]),
            escalated=int(row[1]),
            calls=int(row[2]),
            errors=int(row[3]),
            spend_usd=float(row[4]),
            input_tokens=int(row[5]),
            output_tokens=int(row[6]),
            first_ts=row[7],
            last_ts=row[8],
        )

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

        With ``latency=True`` each bucket also carries p50/p95 call latency (reads every latency in the window).
        """
        where, params = _window(since, until, include_imports=False)
        if task:
            where += (" AND" if where else " WHERE") + " task = ?"
            params.append(task)
        b = float(bucket_seconds)
        rows = self._query(
            f"SELECT CAST(ts / {b!r} AS INTEGER) AS k, TOTAL(tier = 0), TOTAL(tier = 0 AND escalated), COUNT(*),"
            f" TOTAL(error_type IS NOT NULL), TOTAL(cost_usd) FROM calls{where} GROUP BY k ORDER BY k",
            params,
        )
        out = [
            Bucket(
                start=k * b,
                requests=int(req),
                escalated=int(esc),
                calls=int(calls),
                errors=int(err),
                spend_usd=float(spend),
            )
            for k, req, esc, calls, err, spend in rows
        ]
        if latency and out:
            by_key: dict[int, list[float]] = {}
            for k, lat in self._query(
                f"SELECT CAST(ts / {b!r} AS INTEGER), latency_ms FROM calls{where}", params
            ):
                by_key.setdefault(k, []).append(lat)
            for bucket in out:
                values = sorted(by_key.get(int(round(bucket.start / b)), []))
                bucket.latency_p50_ms = percentile(values, 50)
                bucket.latency_p95_ms = percentile(values, 95)
        return out

    def _grouped(self, column: str, since: float | None, until: float | None) -> list[GroupStats]:
        where, params = _window(since, until, include_imports=False)
        rows = self._query(
            f"SELECT {column}, TOTAL(tier = 0), TOTAL(tier = 0 AND escalated), COUNT(*), TOTAL(cost_usd),"
            " TOTAL(tier = 0 AND correct = 1), TOTAL(tier = 0 AND correct IS NOT NULL)"
            f" FROM calls{where} GROUP BY {column} ORDER BY TOTAL(cost_usd) DESC",
            params,
        )
        return [
            GroupStats(
                key=k,
                requests=int(r),
                escalated=int(e),
                calls=int(c),
                spend_usd=float(s),
                cheap_correct=int(cc),
                cheap_judged=int(cj),
            )
            for k, r, e, c, s, cc, cj in rows
        ]

    def per_task(self, since: float | None = None, until: float | None = None) -> list[GroupStats]:
        """Traffic per task, costliest first."""
        return self._grouped("task", since, until)

    def per_model(self, since: float | None = None, until: float | None = None) -> list[GroupStats]:
        """Calls and spend per model, costliest first (``requests`` counts requests it was first for)."""
        return self._grouped("model", since, until)

    def latencies(self, since: float | None = None, until: float | None = None) -> list[float]:
        """Every call latency in the window, ascending (for percentiles)."""
        where, params = _window(since, until, include_imports=False)
        return [r[0] for r in self._query(f"SELECT latency_ms FROM calls{where} ORDER BY latency_ms", params)]

    def tasks(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT task FROM calls ORDER BY task")]

    def models(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT model FROM calls ORDER BY model")]

    def escalation_reasons(self, since: float | None = None, until: float | None = None) -> dict[str, int]:
        """Escalated requests per first escalation reason (the tier-0 row's), most frequent first."""
        where, params = _window(since, until, include_imports=False)
        where += (" AND" if where else " WHERE") + " tier = 0 AND escalated"
        rows = self._query(
            f"SELECT COALESCE(escalation_reason, 'unknown'), COUNT(*) FROM calls{where}"
            " GROUP BY 1 ORDER BY 2 DESC, 1",
            params,
        )
        return {reason: int(count) for reason, count in rows}

    def per_tier_model(
        self, since: float | None = None, until: float | None = None, *, by_role: bool = False
    ) -> list[TierModelStats]:
        """Calls, tokens and spend per (tier, model) in the window, by tier then most calls first;
        per (tier, role, model) with ``by_role``."""
        where, params = _window(since, until, include_imports=False)
        role, group = ("role", "tier, role, model") if by_role else ("NULL", "tier, model")
        rows = self._query(
            f"SELECT tier, {role}, model, COUNT(*), TOTAL(input_tokens), TOTAL(output_tokens),"
            f" TOTAL(cache_read_tokens), TOTAL(cache_write_tokens), TOTAL(cost_usd) FROM calls{where}"
            f" GROUP BY {group} ORDER BY tier, COUNT(*) DESC, {group}",
            params,
        )
        return [
            TierModelStats(
                tier=int(t),
                role=r,
                model=m,
                calls=int(c),
                input_tokens=int(i),
                output_tokens=int(o),
                cache_read_tokens=int(cr),
                cache_write_tokens=int(cw),
                spend_usd=float(s),
            )
            for t, r, m, c, i, o, cr, cw, s in rows
        ]
