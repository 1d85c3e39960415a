"""The monitor's incremental aggregates (routermon.core.log.live) agree with the reader's full queries,
and a refresh reads only the new rows."""

from __future__ import annotations

import pytest
from tui_helpers import FIXED_NOW, append_requests, build_log, fixed_clock

from routermon.core.log.live import LiveMonitor, month_bounds
from routermon.core.log.reader import LogReader
from routermon.core.workspace import Workspace


@pytest.fixture()
def log_path(log_db):
    """The monitor's log, on SQLite and on PostgreSQL (``conftest.backend``)."""
    return build_log(log_db, requests=500, pairs=40, hours=24 * 20)


def _approx_summary(monitor: LiveMonitor, reader: LogReader, since=None):
    summary = reader.summary(since=since)
    figures = monitor.figures()
    if since is None:
        assert (figures.requests, figures.escalated, figures.calls, figures.errors) == (
            summary.requests,
            summary.escalated,
            summary.calls,
            summary.errors,
        )
        assert figures.spend_usd == pytest.approx(summary.spend_usd)
    return figures, summary


def test_opening_figures_match_the_reader(log_path):
    monitor = LiveMonitor.open(log_path, clock=fixed_clock())
    with LogReader(log_path) as reader:
        figures, summary = _approx_summary(monitor, reader)
        assert summary.requests == 500  # imported pairs are left out, as in the reader
        day_start = FIXED_NOW // 86400 * 86400
        today = reader.summary(since=day_start)
        assert figures.requests_today == today.requests
        assert figures.spend_today_usd == pytest.approx(today.spend_usd)
        month_start, month_end = month_bounds(FIXED_NOW)
        month = reader.summary(since=month_start)
        assert figures.spend_month_usd == pytest.approx(month.spend_usd)
        # Projection: this month so far plus the last 24 h's rate until the month ends.
        last_day = reader.summary(since=(FIXED_NOW // 3600 - 23) * 3600)
        rate = last_day.spend_usd / (FIXED_NOW - (FIXED_NOW // 3600 - 23) * 3600)
        assert figures.projected_month_usd == pytest.approx(month.spend_usd + rate * (month_end - FIXED_NOW))
        assert figures.latency_p50_ms is not None and figures.latency_p95_ms >= figures.latency_p50_ms


def test_refresh_folds_new_rows_into_every_figure(log_path):
    monitor = LiveMonitor.open(log_path, clock=fixed_clock())
    monitor.per_task()  # groups loaded before the new rows: they must be added once, not twice
    written = append_requests(log_path, 60, start=FIXED_NOW - 120, spacing=1.5)
    new = monitor.refresh()
    assert len(new) == written
    assert monitor.refresh() == []
    with LogReader(log_path) as reader:
        _approx_summary(monitor, reader)
        expected = {s.key: s for s in reader.per_task()}
        got = {s.key: s for s in monitor.per_task()}
        assert expected.keys() == got.keys()
        for key, stats in expected.items():
            assert (got[key].requests, got[key].escalated, got[key].calls) == (
                stats.requests,
                stats.escalated,
                stats.calls,
            )
            assert got[key].spend_usd == pytest.approx(stats.spend_usd)
        hour = monitor.series("hour")
        minute_since = hour.buckets[0].start
        by_minute = {b.start: b for b in reader.buckets(60, since=minute_since)}
        for bucket in hour.buckets:
            ref = by_minute.get(bucket.start)
            assert bucket.requests == (ref.requests if ref else 0)
            assert bucket.spend_usd == pytest.approx(ref.spend_usd if ref else 0.0)
        assert hour.requests == sum(b.requests for b in by_minute.values()) >= 60
        day = monitor.series("day")
        by_hour = {b.start: b for b in reader.buckets(3600, since=day.buckets[0].start)}
        assert [b.requests for b in day.buckets] == [
            by_hour[b.start].requests if b.start in by_hour else 0 for b in day.buckets
        ]
        assert day.cumulative_spend_usd[-1] == pytest.approx(sum(b.spend_usd for b in by_hour.values()))


def test_per_task_loaded_after_new_rows_counts_them_once(log_path):
    monitor = LiveMonitor.open(log_path, clock=fixed_clock())
    append_requests(log_path, 30, start=FIXED_NOW - 60)
    monitor.refresh()
    append_requests(log_path, 30, start=FIXED_NOW - 30, seed=5, first_n=2 * 10**6)  # not yet refreshed
    with LogReader(log_path) as reader:
        before_last = {s.key: s.requests for s in reader.per_task()}
    monitor_tasks = {s.key: s.requests for s in monitor.per_task()}
    monitor.refresh()
    with LogReader(log_path) as reader:
        after = {s.key: s.requests for s in reader.per_task()}
    assert sum(monitor_tasks.values()) == sum(before_last.values()) - 30
    assert {s.key: s.requests for s in monitor.per_task()} == after


def test_refresh_asks_only_for_new_ids(tmp_path):
    # SQLite's statement trace: the one query a refresh makes.
    log_path = build_log(tmp_path / "calls.db", requests=500, pairs=40, hours=24 * 20)
    monitor = LiveMonitor.open(log_path, clock=fixed_clock())
    statements: list[str] = []
    monitor.reader.conn.set_trace_callback(statements.append)
    append_requests(log_path, 5, start=FIXED_NOW - 10)
    monitor.refresh()
    monitor.figures()
    for window in ("hour", "day", "week", "all"):
        monitor.series(window)
    assert len(statements) == 1
    assert "FROM calls WHERE id > " in statements[0] and "GROUP BY" not in statements[0]


def test_windows_have_fixed_bucket_counts_and_all_covers_everything(log_path):
    monitor = LiveMonitor.open(log_path, clock=fixed_clock())
    assert [len(monitor.series(w).buckets) for w in ("hour", "day", "week")] == [60, 24, 28]
    everything = monitor.series("all")
    assert len(everything.buckets) <= 97
    assert everything.requests == monitor.figures().requests
    assert everything.spend_usd == pytest.approx(monitor.figures().spend_usd)
    with pytest.raises(ValueError):
        monitor.series("fortnight")  # type: ignore[arg-type]


def test_today_rolls_over_at_utc_midnight(log_path):
    clock = fixed_clock()
    monitor = LiveMonitor.open(log_path, clock=clock)
    assert monitor.figures().requests_today > 0
    clock.set((FIXED_NOW // 86400 + 1) * 86400 + 60)  # one minute into tomorrow
    figures = monitor.figures()
    assert figures.requests_today == 0 and figures.spend_today_usd == 0
    assert figures.spend_month_usd > 0


def test_recent_rows_are_bounded_and_filterable(log_path):
    monitor = LiveMonitor.open(log_path, clock=fixed_clock(), recent_size=50)
    append_requests(log_path, 40, start=FIXED_NOW - 60)
    monitor.refresh()
    assert len(monitor.recent) == 50
    assert monitor.recent[-1].id == monitor.last_id
    rows = monitor.recent_calls(20, task="classify")
    assert len(rows) == 20 and {r.task for r in rows} == {"classify"}
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    # A filter the kept rows cannot satisfy asks the log, never past what was refreshed.
    strong = monitor.recent_calls(200, model="claude-sonnet-4-5")
    assert len(strong) == 200 and all(r.model == "claude-sonnet-4-5" for r in strong)
    assert max(r.id for r in strong) <= monitor.last_id
    assert monitor.known_tasks() == ["classify", "extract", "summarize"]


def test_empty_log(log_db):
    from routermon.core.log.store import CallLog

    CallLog(log_db).close()
    monitor = LiveMonitor.open(log_db, clock=fixed_clock())
    figures = monitor.figures()
    assert figures.requests == 0 and figures.projected_month_usd is None and figures.latency_p50_ms is None
    assert monitor.series("all").buckets and monitor.series("all").requests == 0
    assert monitor.per_task() == [] and monitor.refresh() == []


def test_monitor_tally_agrees_with_the_reader_on_a_simulated_log(log_db):
    # A simulator log with escalations, failed calls and audits, read at opening and by refresh.
    from routermon.core.simulate.scenario import Scenario, load_scenario
    from routermon.core.simulate.simulator import simulate

    flaky = load_scenario().model_dump()
    for model in flaky["models"]:
        model["errors"] = {"malformed": 0.1}
    scenario = Scenario.model_validate(flaky)
    db = log_db
    simulate(
        scenario,
        routers=Workspace.load(),
        requests=150,
        db_path=db,
        audit_share=0.3,
        seed=3,
        now=FIXED_NOW - 7200,
    )
    monitor = LiveMonitor.open(db, clock=fixed_clock())
    simulate(
        scenario,
        routers=Workspace.load(),
        requests=60,
        db_path=db,
        audit_share=0.3,
        seed=4,
        now=FIXED_NOW,
        days=0.01,
    )
    monitor.refresh()
    with LogReader(db) as reader:
        summary = reader.summary()
        assert summary.escalated and summary.errors and summary.calls > summary.requests
        assert any(r.role == "audit" for r in reader.iter_calls())
        _approx_summary(monitor, reader)
        expected = {s.key: s for s in reader.per_task()}
        for stats in monitor.per_task():
            want = expected.pop(stats.key)
            assert (
                stats.requests,
                stats.escalated,
                stats.calls,
                stats.cheap_correct,
                stats.cheap_judged,
            ) == (
                want.requests,
                want.escalated,
                want.calls,
                want.cheap_correct,
                want.cheap_judged,
            )
            assert stats.spend_usd == pytest.approx(want.spend_usd)
        assert expected == {}
