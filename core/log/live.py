"""Incremental aggregates for the live monitor: tail the call log by id, never rescan it.

Opening reads the log's rollups (``db.m007_rollups``), inside one read transaction so every figure
describes the same rows: traffic by hour, per task and the task and model names, the last hour by
minute from the rows, and the newest rows; so opening costs what the log's hours hold, not its rows.
After that ``refresh()`` asks only for rows with ``id > last_id`` and folds them into running
tallies, so a refresh costs what the new rows cost, however big the log is. Days and months are UTC; imported
pairs (``mode = 'import'``) are counted (``imported_pairs``) but neither listed as calls nor in the
traffic figures, as in ``LogReader``.
"""

from __future__ import annotations

import calendar
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..clock import SYSTEM_CLOCK, Clock
from .reader import (
    IMPORT_MODE,
    Bucket,
    GroupStats,
    LogReader,
    Recoveries,
    RequestLatencies,
    Tally,
    is_traffic,
    percentile,
    ratio,
)
from .records import CallRow

Window = Literal["hour", "day", "week", "all"]
WINDOWS: tuple[Window, ...] = ("hour", "day", "week", "all")
HOUR = 3600
DAY = 86400
# Bucket widths (hours) the "all" window may use, so it never draws more than ALL_MAX_BUCKETS bars.
_ALL_STEPS_HOURS = (1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2160, 8760)
ALL_MAX_BUCKETS = 96


class LiveFigures(BaseModel):
    """The key figures of the Live screen at one moment."""

    now: float
    last_id: int
    requests: int
    escalated: int
    calls: int
    errors: int
    spend_usd: float
    cascade_requests: int
    cascade_escalated: int
    shadow_requests: int
    shadow_escalated: int  # shadow requests the policy would have escalated
    answered: int  # requests that got an answer
    recovered: int  # failed calls that escalated, in requests then answered
    requests_today: int
    degraded: int = 0  # cascade requests answered by a lower tier because the tier above failed
    spend_today_usd: float
    spend_month_usd: float
    projected_month_usd: float | None  # this month's spend plus the last 24 h rate until month end
    latency_p50_ms: float | None  # per request, first call to answer, over the newest answered ones
    latency_p95_ms: float | None
    latency_window: int  # how many answered requests the percentiles are over

    @property
    def escalation_share(self) -> float | None:
        """Over cascade requests (shadow requests apart); ``None`` without any."""
        return ratio(self.cascade_escalated, self.cascade_requests)

    @property
    def failed_requests(self) -> int:
        """Requests that got no answer (every tier failed, or the caller gave up)."""
        return self.requests - self.answered

    @property
    def error_share(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


class Series(BaseModel):
    """Traffic per bucket over a window, oldest first, with empty buckets filled in."""

    window: str
    bucket_seconds: int
    buckets: list[Bucket]
    cumulative_spend_usd: list[float]

    @property
    def requests(self) -> int:
        return sum(b.requests for b in self.buckets)

    @property
    def escalated(self) -> int:
        return sum(b.escalated for b in self.buckets)

    @property
    def spend_usd(self) -> float:
        return self.cumulative_spend_usd[-1] if self.cumulative_spend_usd else 0.0

    @property
    def cascade_requests(self) -> int:
        return sum(b.cascade_requests for b in self.buckets)

    @property
    def shadow_requests(self) -> int:
        return sum(b.shadow_requests for b in self.buckets)

    @property
    def escalation_share(self) -> float | None:
        """Over the window's cascade requests (shadow requests apart); ``None`` without any."""
        return ratio(sum(b.cascade_escalated for b in self.buckets), self.cascade_requests)


_EMPTY = Tally()


def month_bounds(now: float) -> tuple[float, float]:
    """Start and end (epoch seconds) of the UTC calendar month holding ``now``."""
    d = datetime.fromtimestamp(now, tz=UTC)
    start = datetime(d.year, d.month, 1, tzinfo=UTC).timestamp()
    days = calendar.monthrange(d.year, d.month)[1]
    return start, start + days * DAY


class LiveMonitor:
    """The monitor's view of the call log, kept current by ``refresh()``.

    Args:
        reader: an open ``LogReader``; the monitor is its only user while it lives.
        clock: where "now" comes from (today, this month, chart windows); a fixed clock in tests.
        recent_size: how many newest rows are kept in memory for the table.
        latency_window: how many newest requests the latency percentiles are over (those answered).
        batch_limit: most rows one ``refresh()`` reads; ``behind`` says more are waiting.

    ``refresh()``, ``figures()`` and ``series()`` cost what the new rows and the drawn buckets
    cost, not what the log holds. ``refresh()`` may run in a worker thread while the UI thread
    reads figures.
    """

    def __init__(
        self,
        reader: LogReader,
        *,
        clock: Clock | None = None,
        recent_size: int = 1000,
        latency_window: int = 1000,
        batch_limit: int = 20_000,
    ):
        self.reader = reader
        self.clock = clock or SYSTEM_CLOCK
        self.batch_limit = batch_limit
        self.latency_window = latency_window
        self.recent: deque[CallRow] = deque(maxlen=recent_size)
        self.imported_pairs = 0  # imported pairs in the log: not traffic, not calls made here
        self.last_id = 0
        self.behind = False
        self._lock = threading.Lock()  # guards the tallies
        self._db_lock = threading.Lock()  # one query at a time on the reader's connection
        self._refresh_lock = threading.Lock()  # two refreshes at once would fold the same rows twice
        self._totals = Tally()
        self._hours: dict[int, Tally] = {}
        self._first_hour: int | None = None
        self._last_hour: int | None = None
        self._minutes: dict[int, Tally] = {}
        # Running tallies for today and this month; rebuilt from the hours when the day turns.
        self._period: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
        self._today = Tally()
        self._month = Tally()
        # The "all" window's buckets of ``_all_step`` hours; rebuilt when the log's span needs wider ones.
        self._all_step = 0
        self._all: dict[int, Tally] = {}
        self._tasks: dict[str, Tally] = {}
        self._task_names: set[str] = set()
        self._model_names: set[str] = set()
        self._latencies = RequestLatencies(latency_window)
        self._recoveries = Recoveries()
        self._load()

    @classmethod
    def open(cls, path: Path | str, **kwargs) -> LiveMonitor:
        """A monitor over the log at ``path`` (raises ``DatabaseError`` for a bad file)."""
        return cls(LogReader(path), **kwargs)

    def close(self) -> None:
        self.reader.close()

    # -- loading and tailing -------------------------------------------------------------------

    def _load(self) -> None:
        now = self.clock.now()
        minute_since = (int(now // 60) - 59) * 60
        # One read transaction, so the totals, the minute buckets and last_id describe the same rows.
        with self._db_lock, self.reader.snapshot() as reader:
            last_id = reader.max_id()
            self._hours = reader.bucket_tallies(HOUR)
            self._minutes = reader.bucket_tallies(60, since=minute_since)
            recent = reader.recent_calls(max(self.recent.maxlen or 0, self.latency_window))
            self.imported_pairs = reader.imported_pairs()
            groups = reader.group_tallies()
        for group in groups:
            self._task_names.add(group.task)
            self._model_names.add(group.model)
            if not group.imported:
                _tally(self._tasks, group.task).add(group.tally)
        for t in self._hours.values():
            self._totals.add(t)
        if self._hours:
            self._first_hour, self._last_hour = min(self._hours), max(self._hours)
        self.recent.extend(recent[-(self.recent.maxlen or 0) :] if self.recent.maxlen else recent)
        for row in recent:
            if is_traffic(row):
                self._latencies.add_row(row)
                # Failed calls whose answer is not logged yet: the snapshot's figures did not count them.
                self._recoveries.add_row(row)
        self.last_id = last_id

    def refresh(self) -> list[CallRow]:
        """Read the rows added since the last refresh, fold them into the figures, and return them."""
        with self._refresh_lock:
            return self._refresh()

    def _refresh(self) -> list[CallRow]:
        with self._db_lock:
            rows = self.reader.calls_after(self.last_id, limit=self.batch_limit)
        if not rows:
            self.behind = False
            return rows
        minute_floor = int(self.clock.now() // 60) - 59
        with self._lock:
            for row in rows:
                self._task_names.add(row.task)
                self._model_names.add(row.model)
                if row.mode == IMPORT_MODE:
                    self.imported_pairs += row.tier == 0  # not a call made here: counted, not listed
                    continue
                self.recent.append(row)
                if not is_traffic(row):
                    continue
                for tally in self._tallies_of(row, minute_floor):
                    tally.add_row(row)
                hour = int(row.ts // HOUR)
                if self._first_hour is None or hour < self._first_hour:
                    self._first_hour = hour
                if self._last_hour is None or hour > self._last_hour:
                    self._last_hour = hour
                self._latencies.add_row(row)
                # An answer recovers the failed calls that escalated to it: they count where they were.
                for failed in self._recoveries.add_row(row):
                    for tally in self._tallies_of(failed, minute_floor):
                        tally.recovered += 1
            self.last_id = rows[-1].id
            if len(self._minutes) > 120:  # keep only the hour the chart can show
                for key in [k for k in self._minutes if k < minute_floor]:
                    del self._minutes[key]
        self.behind = len(rows) >= self.batch_limit
        return rows

    def _tallies_of(self, row: CallRow, minute_floor: int) -> list[Tally]:
        # Under self._lock: every running tally a traffic row counts in.
        day_start, day_end, month_start, month_end = self._period
        ts = row.ts
        hour = int(ts // HOUR)
        tallies = [self._totals, _tally(self._hours, hour), _tally(self._tasks, row.task)]
        if self._all_step:
            tallies.append(_tally(self._all, hour // self._all_step))
        if month_start <= ts < month_end:
            tallies.append(self._month)
            if day_start <= ts < day_end:
                tallies.append(self._today)
        minute = int(ts // 60)
        if minute >= minute_floor:
            tallies.append(_tally(self._minutes, minute))
        return tallies

    # -- what the screens show -----------------------------------------------------------------

    def _periods(self, now: float) -> None:
        # Under self._lock. Rebuild today's and this month's tallies when "now" left their period.
        day_start = int(now // DAY) * DAY
        month_start, month_end = month_bounds(now)
        if self._period[0] == day_start and self._period[2] == month_start:
            return
        self._period = (day_start, day_start + DAY, month_start, month_end)
        self._today, self._month = Tally(), Tally()
        for hour, tally in self._hours.items():
            if month_start <= hour * HOUR < month_end:
                self._month.add(tally)
                if day_start <= hour * HOUR < day_start + DAY:
                    self._today.add(tally)

    def figures(self) -> LiveFigures:
        """Totals, today, this month, the projected month and latency percentiles, as of now."""
        now = self.clock.now()
        hour_now = int(now // HOUR)
        with self._lock:
            self._periods(now)
            _day_start, _day_end, month_start, month_end = self._period
            last_day = Tally()
            for hour in range(hour_now - 23, hour_now + 1):
                last_day.add(self._hours.get(hour, _EMPTY))
            first_hour = self._first_hour if self._first_hour is not None else hour_now
            totals = self._totals
            latencies = self._latencies.answered()
            figures = LiveFigures(
                now=now,
                last_id=self.last_id,
                requests=totals.requests,
                escalated=totals.escalated,
                calls=totals.calls,
                errors=totals.errors,
                spend_usd=totals.spend_usd,
                cascade_requests=totals.cascade_requests,
                cascade_escalated=totals.cascade_escalated,
                shadow_requests=totals.shadow_requests,
                shadow_escalated=totals.shadow_escalated,
                answered=totals.answered,
                recovered=totals.recovered,
                degraded=totals.degraded,
                requests_today=self._today.requests,
                spend_today_usd=self._today.spend_usd,
                spend_month_usd=self._month.spend_usd,
                projected_month_usd=None,
                latency_p50_ms=percentile(latencies, 50),
                latency_p95_ms=percentile(latencies, 95),
                latency_window=len(latencies),
            )
        # The current rate is the last 24 h of spend (or since the log began, if younger).
        rate_since = max((hour_now - 23) * HOUR, first_hour * HOUR)
        if totals.calls and now > rate_since and now < month_end:
            rate = last_day.spend_usd / (now - rate_since)
            figures.projected_month_usd = figures.spend_month_usd + rate * (month_end - now)
        return figures

    def _all_buckets(self, hour_now: int) -> tuple[int, int, int]:
        # Under self._lock. The "all" window's step (hours) and first/last bucket keys.
        first = self._first_hour if self._first_hour is not None else hour_now
        last = max(hour_now, self._last_hour if self._last_hour is not None else hour_now)
        span = last - first + 1
        step = next((s for s in _ALL_STEPS_HOURS if span / s <= ALL_MAX_BUCKETS), _ALL_STEPS_HOURS[-1])
        if step != self._all_step:
            self._all_step, self._all = step, {}
            for hour, tally in self._hours.items():
                _tally(self._all, hour // step).add(tally)
        return step, first // step, last // step

    def series(self, window: Window) -> Series:
        """Buckets for a chart window: the last hour by minute, day by hour, week by 6 h, or all."""
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        now = self.clock.now()
        hour_now = int(now // HOUR)
        with self._lock:
            if window == "hour":
                last = int(now // 60)
                buckets = [
                    Bucket.of(k * 60, self._minutes.get(k, _EMPTY)) for k in range(last - 59, last + 1)
                ]
                width = 60
            elif window == "all":
                step, first_key, last_key = self._all_buckets(hour_now)
                buckets = [
                    Bucket.of(k * step * HOUR, self._all.get(k, _EMPTY))
                    for k in range(first_key, last_key + 1)
                ]
                width = step * HOUR
            else:
                step, count = (1, 24) if window == "day" else (6, 28)
                last_key = hour_now // step
                buckets = []
                for key in range(last_key - count + 1, last_key + 1):
                    tally = Tally()
                    for hour in range(key * step, (key + 1) * step):
                        tally.add(self._hours.get(hour, _EMPTY))
                    buckets.append(Bucket.of(key * step * HOUR, tally))
                width = step * HOUR
        cumulative, running = [], 0.0
        for b in buckets:
            running += b.spend_usd
            cumulative.append(running)
        return Series(window=window, bucket_seconds=width, buckets=buckets, cumulative_spend_usd=cumulative)

    def per_task(self) -> list[GroupStats]:
        """Traffic per task, costliest first (as ``LogReader.per_task()``, kept current by refresh).

        Read from the rollups at opening, then kept current by ``refresh()``.
        """
        with self._lock:
            stats = [GroupStats.of(task, t) for task, t in self._tasks.items()]
        return sorted(stats, key=lambda s: (-s.spend_usd, s.key))

    def known_tasks(self) -> list[str]:
        """Every task name seen in the log (for filters)."""
        with self._lock:
            return sorted(self._task_names)

    def known_models(self) -> list[str]:
        """Every model name seen in the log (for filters)."""
        with self._lock:
            return sorted(self._model_names)

    def recent_calls(
        self,
        limit: int = 200,
        *,
        task: str | None = None,
        model: str | None = None,
        after_id: int | None = None,
    ) -> list[CallRow]:
        """The newest ``limit`` rows seen so far matching the filter, oldest first.

        Served from memory. With ``after_id`` only rows newer than it are returned (memory only, for
        screen updates); without it, a filter that matches too few of the kept rows asks the log.
        """
        with self._lock:
            kept = list(self.recent)
            last_id = self.last_id
        if after_id is not None:
            # Newest first until after_id: an update costs the new rows, not the whole deque.
            newer = []
            for row in reversed(kept):
                if row.id <= after_id or len(newer) >= limit:
                    break
                if (not task or row.task == task) and (not model or row.model == model):
                    newer.append(row)
            return newer[::-1]
        matching = [r for r in kept if (not task or r.task == task) and (not model or r.model == model)]
        if len(matching) >= limit or len(kept) < (self.recent.maxlen or 0) or not (task or model):
            return matching[-limit:]
        with self._db_lock:
            older = self.reader.recent_calls(limit, task=task, model=model)
        return [r for r in older if r.id <= last_id][-limit:]


def _tally(tallies: dict, key) -> Tally:
    tally = tallies.get(key)
    if tally is None:
        tally = tallies[key] = Tally()
    return tally
