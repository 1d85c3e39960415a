"""Rollups (issue 15): the writers keep them in the rows' own transaction, so every figure read from
them equals the same figure tallied from the rows, whatever the batches, windows and modes."""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routermon.core.log.db import connect
from routermon.core.log.reader import TALLY_SQL, LogReader, Tally, _window
from routermon.core.log.records import CallRecord
from routermon.core.log.rollups import ROLLUP_TABLE
from routermon.core.log.store import CallLog, ExactInserter

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC: hours line up with round numbers
TASKS = ("classify", "extract")
REASONS = (None, "low_confidence", "error", "invalid_answer")


def _row(ts, rid, *, task="classify", mode="cascade", role="cheap", tier=0, **kw) -> tuple:
    base = dict(
        ts=ts,
        request_id=rid,
        task=task,
        mode=mode,
        model="claude-haiku-4-5" if tier == 0 else "claude-sonnet-4-5",
        role=role,
        tier=tier,
        input_tokens=100 + tier,
        output_tokens=10,
        cost_usd=None if kw.get("error_type") else 0.0001 * (1 + tier),
        latency_ms=300.0 + 700 * tier,
        confidence=0.9,
        answer='"x"',
        input_sha256="0" * 64,
    )
    base.update(kw)
    return CallRecord(**base).as_row()


@st.composite
def requests(draw):
    """Rows of a random mix of requests: kept, escalated, recovered after a failure, failed outright,
    shadow, audited, judged and imported; each request's rows in the order the router logs them."""
    out = []
    for n in range(draw(st.integers(1, 40))):
        ts = T0 + draw(st.floats(0, 5 * 3600, allow_nan=False))
        rid, task = f"r{n:03}", draw(st.sampled_from(TASKS))
        kind = draw(
            st.sampled_from(("kept", "escalated", "recovered", "failed", "shadow", "import", "audit"))
        )
        correct = draw(st.sampled_from((None, True, False)))
        if kind in ("kept", "audit"):
            rows = [_row(ts, rid, task=task, final=True, correct=correct)]
            if kind == "audit":
                rows.append(_row(ts + 1, rid, task=task, role="audit", tier=1))
        elif kind == "escalated":
            reason = draw(st.sampled_from(REASONS))
            rows = [
                _row(ts, rid, task=task, escalated=True, escalation_reason=reason, correct=correct),
                _row(ts + 2, rid, task=task, role="strong", tier=1, final=True, thinking_tokens=5),
            ]
        elif kind == "recovered":
            rows = [
                _row(
                    ts, rid, task=task, escalated=True, escalation_reason="error", error_type="server_error"
                ),
                _row(
                    ts + 3600 * draw(st.sampled_from((0, 1))),
                    rid,
                    task=task,
                    role="strong",
                    tier=1,
                    final=True,
                ),
            ]
        elif kind == "failed":
            rows = [
                _row(ts, rid, task=task, escalated=True, error_type="server_error"),
                _row(ts + 1, rid, task=task, role="strong", tier=1, error_type="overloaded"),
            ]
        elif kind == "shadow":
            rows = [
                _row(ts, rid, task=task, mode="shadow", escalated=draw(st.booleans()), final=True),
                _row(ts, rid, task=task, mode="shadow", role="shadow", tier=1),
            ]
        else:
            rows = [
                _row(ts, rid, task=task, mode="import", source="import", final=True),
                _row(ts, rid, task=task, mode="import", source="import", role="strong", tier=1),
            ]
        out.append(rows)
    return out


def _direct(path, since=None, until=None, *, group: str | None = None) -> dict:
    """The same tallies straight from the rows (the definition the rollups must equal)."""
    where, params = _window(since, until, include_imports=False)
    keys = f"{group}, " if group else ""
    with LogReader(path) as reader:  # SQLite or PostgreSQL, read the same way
        rows = reader.conn.execute(
            f"SELECT {keys}{TALLY_SQL} FROM calls{where}{f' GROUP BY {group}' if group else ''}", params
        ).fetchall()
    out = {}
    for row in rows:
        key = row[0] if group else None
        tally = Tally.from_sql(row[1:] if group else row)
        if tally.calls:
            out[key] = _figures(tally)
    return out


def _figures(t: Tally) -> tuple:
    return tuple(round(v, 9) if isinstance(v, float) else v for v in (getattr(t, n) for n in Tally.__slots__))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    log=requests(),
    batch=st.integers(1, 7),
    window=st.tuples(st.floats(-1800, 6 * 3600), st.floats(0, 6 * 3600)),
)
def test_rollups_equal_the_rows_for_every_batching_and_window(new_log, log, batch, window):
    path = new_log()  # a fresh log per example, on SQLite and on PostgreSQL
    with CallLog(path, batch_size=batch, max_delay=0.01) as calls:
        for rows in log:
            calls.log_rows(rows)
        calls.flush()
    since, until = T0 + min(window), T0 + max(window)
    with LogReader(path) as reader:
        assert _figures(reader.tally()) == _direct(path).get(None, _figures(Tally()))
        assert _figures(reader.tally(since, until)) == _direct(path, since, until).get(
            None, _figures(Tally())
        )
        per_task = {g.key: g for g in reader.per_task(since, until)}
        direct = _direct(path, since, until, group="task")
        assert set(per_task) == set(direct)
        for task, figures in direct.items():
            assert (per_task[task].requests, per_task[task].recovered) == (figures[0], figures[-2])
        by_hour = reader.bucket_tallies(3600)
        assert sum(t.calls for t in by_hour.values()) == reader.tally().calls
        assert reader.imported_pairs() == sum(1 for rows in log if rows[0][3] == "import")


def test_a_recovery_in_a_later_batch_counts_where_the_failed_call_was(log_db):
    path = log_db
    with CallLog(path) as calls:
        calls.log_rows([_row(T0, "a", escalated=True, escalation_reason="error", error_type="timeout")])
        calls.flush()
        calls.log_rows([_row(T0 + 7200, "a", role="strong", tier=1, final=True)])
    with LogReader(path) as reader:
        hours = reader.bucket_tallies(3600)
        # The failed cheap call is recovered in its own hour, by an answer logged two hours later.
        assert [(k - int(T0 // 3600), t.recovered, t.answered) for k, t in hours.items()] == [
            (0, 1, 0),
            (2, 0, 1),
        ]
        assert reader.tally().recovered == _direct(path)[None][Tally.__slots__.index("recovered")]


def test_an_import_writes_rollups_and_a_duplicate_adds_nothing(log_db):
    path = log_db
    rows = [_row(T0 + i, f"i{i}", mode="import", source="import", dedup_key=f"k{i}") for i in range(10)]
    with ExactInserter(path) as inserter:
        assert len(inserter.insert(rows)) == 10
        assert inserter.insert(rows) == []
    with LogReader(path) as reader:
        assert reader.imported_pairs() == 10
        assert reader.tally(include_imports=True).calls == 10


def test_the_migration_builds_rollups_for_a_log_written_before_them(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as calls:
        for n in range(50):
            calls.log_rows(
                [
                    _row(
                        T0 + n * 300,
                        f"m{n}",
                        escalated=n % 5 == 0,
                        final=n % 5 != 0,
                        escalation_reason="low_confidence",
                    ),
                    *(
                        [_row(T0 + n * 300 + 1, f"m{n}", role="strong", tier=1, final=True)]
                        if n % 5 == 0
                        else []
                    ),
                ]
            )
    before = _direct(path)
    conn = sqlite3.connect(path)  # as the log was before m007: no rollup tables, migration not applied
    conn.execute(f"DROP TABLE {ROLLUP_TABLE}")
    conn.execute("DROP TABLE rollup_latency")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_rollups'")
    conn.commit()
    conn.close()
    connect(path).close()
    with LogReader(path) as reader:
        assert {None: _figures(reader.tally())} == before
        assert reader.escalation_reasons() == {"low_confidence": 10}
        assert reader.latency_histogram().count == 50


def _full_scans(reader: LogReader, work) -> list[str]:
    """The statements ``work(reader)`` runs that read every row of ``calls`` (SQLite's plan says
    ``SCAN calls`` without an index): what opening and the traffic figures must not do. A walk
    back from the newest row that stops at its ``LIMIT`` (the table's newest calls) reads only those."""
    statements: list[str] = []
    reader.conn.set_trace_callback(statements.append)
    try:
        work(reader)
    finally:
        reader.conn.set_trace_callback(None)
    scans = []
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT") or "ORDER BY id DESC LIMIT" in sql:
            continue
        plan = [row[3] for row in reader.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        scans += [f"{detail}: {sql[:80]}" for detail in plan if detail.startswith("SCAN calls")]
    return scans


def test_opening_the_monitor_and_the_traffic_figures_never_read_every_row(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as calls:
        for n in range(200):
            escalated = n % 10 == 0
            calls.log_rows(
                [
                    _row(T0 + n * 60, f"o{n}", escalated=escalated, final=not escalated),
                    *(
                        [_row(T0 + n * 60 + 1, f"o{n}", role="strong", tier=1, final=True)]
                        if escalated
                        else []
                    ),
                ]
            )
    from routermon.core.log.live import LiveMonitor

    def open_and_show(reader: LogReader) -> None:
        monitor = LiveMonitor(reader)
        monitor.figures()
        monitor.per_task()
        monitor.known_tasks()
        for window in ("hour", "day", "week", "all"):
            monitor.series(window)

    def traffic(reader: LogReader) -> None:
        reader.summary()
        reader.per_task()
        reader.per_model()
        reader.escalation_reasons()
        reader.latency_histogram()
        reader.cascade_outcomes()
        reader.per_tier_model(T0 + 1800.5, T0 + 9000.25, by_role=True)  # part-hours at both edges
        reader.first_traffic_ts()
        reader.tasks()

    with LogReader(path) as reader:
        assert _full_scans(reader, open_and_show) == []
    with LogReader(path) as reader:
        assert _full_scans(reader, traffic) == []
