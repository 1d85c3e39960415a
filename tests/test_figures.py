"""Figures as a user reads them: each definition against a log of known contents, with the figure
the old definition gave."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tui_helpers import FIXED_NOW, fixed_clock

from routermon.core.log.live import HOUR, LiveMonitor
from routermon.core.log.reader import LatencyHistogram, LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.measure.report import build_report, render_markdown
from routermon.core.workspace import Workspace


def call(ts, rid, *, mode="cascade", role="cheap", tier=0, latency=100.0, escalated=False, final=False, **kw):
    """One logged call; the defaults are a cheap call of a cascade request."""
    return CallRecord(
        ts=ts,
        request_id=rid,
        task=kw.pop("task", "classify"),
        mode=mode,
        model="claude-sonnet-5-5" if tier else "claude-haiku-5-5",
        role=role,
        tier=tier,
        latency_ms=latency,
        escalated=escalated,
        escalation_reason="low_confidence" if escalated else None,
        final=final,
        cost_usd=0.001,
        **kw,
    )


def cascade(ts, rid, *, escalated=False, latency=(100.0, 900.0), **kw) -> list[CallRecord]:
    """A cascade request: the cheap call, and the strong one when it escalated."""
    if not escalated:
        return [call(ts, rid, latency=latency[0], final=True, **kw)]
    return [
        call(ts, rid, latency=latency[0], escalated=True, **kw),
        call(ts + 0.1, rid, role="strong", tier=1, latency=latency[1], final=True, **kw),
    ]


def shadow(ts, rid, *, escalated=False, latency=(100.0, 900.0)) -> list[CallRecord]:
    """A shadow request: both models called at once; ``escalated``: the policy would have escalated."""
    return [
        call(ts, rid, mode="shadow", latency=latency[0], escalated=escalated, final=not escalated),
        call(ts, rid, mode="shadow", role="shadow", tier=1, latency=latency[1], final=escalated),
    ]


def histogram_of(latencies: list[float]) -> dict[int, int]:
    """The rollup histogram's counts for exact latencies (``LatencyHistogram.bucket_of``)."""
    counts: dict[int, int] = {}
    for latency in latencies:
        bucket = LatencyHistogram.bucket_of(latency)
        counts[bucket] = counts.get(bucket, 0) + 1
    return dict(sorted(counts.items()))


def write(path: Path, records: list[CallRecord]) -> Path:
    with CallLog(path) as log:
        log.log_many(records)
    return path


@pytest.fixture()
def mixed_log(log_db) -> Path:
    """100 cascade requests (5 escalated) and 100 shadow requests (30 the policy would escalate),
    over the last 10 hours: a mixed share of 35 / 200 = 17.5%, the cascade's own 5 / 100 = 5.0%."""
    records: list[CallRecord] = []
    start = FIXED_NOW - 10 * HOUR
    for n in range(100):
        records += cascade(start + n * 180, f"c{n:03}", escalated=n % 20 == 0)
        records += shadow(start + n * 180 + 60, f"s{n:03}", escalated=n % 10 < 3)
    return write(log_db, records)


class TestEscalationShare:
    """The escalation share is over cascade requests; shadow requests are counted apart."""

    def test_reader_summary_and_tasks(self, mixed_log):
        with LogReader(mixed_log) as reader:
            summary = reader.summary()
            # Was 35 / 200 = 17.5%: the shadow requests' would-be escalations mixed in.
            assert summary.escalation_share == pytest.approx(0.05)
            assert (summary.requests, summary.cascade_requests, summary.shadow_requests) == (200, 100, 100)
            assert (summary.cascade_escalated, summary.shadow_escalated) == (5, 30)
            assert [(t.key, t.escalation_share) for t in reader.per_task()] == [("classify", 0.05)]
            assert reader.escalation_reasons() == {"low_confidence": 5}

    def test_monitor_figures_series_and_tasks_agree(self, mixed_log):
        monitor = LiveMonitor.open(mixed_log, clock=fixed_clock())
        figures = monitor.figures()
        assert figures.escalation_share == pytest.approx(0.05)
        assert (figures.cascade_requests, figures.shadow_requests) == (100, 100)
        assert monitor.series("day").escalation_share == pytest.approx(0.05)
        assert monitor.per_task()[0].escalation_share == pytest.approx(0.05)
        # The same definition folded row by row: new rows give the same figure as a fresh read.
        write(mixed_log, cascade(FIXED_NOW - 30, "c-new", escalated=True) + shadow(FIXED_NOW - 20, "s-new"))
        monitor.refresh()
        assert monitor.figures().escalation_share == pytest.approx(6 / 101)
        assert monitor.figures().shadow_requests == 101
        assert LiveMonitor.open(mixed_log, clock=fixed_clock()).figures().escalation_share == pytest.approx(
            6 / 101
        )

    def test_report_says_what_the_share_rests_on(self, mixed_log):
        with LogReader(mixed_log) as reader:
            report = build_report(reader)
        assert report.traffic.escalation_share == pytest.approx(0.05)
        md = render_markdown(report)
        assert "Escalated 5.0% of 100 cascade requests; 100 shadow requests apart." in md

    def test_no_cascade_request_has_no_share(self, log_db):
        path = write(log_db, shadow(FIXED_NOW - 60, "s1", escalated=True))
        with LogReader(path) as reader:
            assert reader.summary().escalation_share is None  # was 100%


class TestEscalationChart:
    """An hour without cascade requests has no escalation share: a gap, not 0%."""

    def test_empty_hours_have_no_share(self, log_db):
        records = cascade(FIXED_NOW - 5 * HOUR, "a", escalated=True) + cascade(FIXED_NOW - 60, "b")
        monitor = LiveMonitor.open(write(log_db, records), clock=fixed_clock())
        shares = [b.escalation_share for b in monitor.series("day").buckets]
        assert shares[-2] == 0.0 and shares[-6] == 1.0
        assert shares.count(None) == 22  # these hours used to read 0%
        with LogReader(log_db) as reader:
            assert all(b.escalation_share is not None for b in reader.buckets(HOUR))


NOW = float(int(time.time()))  # the command reads the system clock


@pytest.fixture()
def three_day_log(log_db) -> Path:
    """Three days of log: 300 cascade requests (30 escalated, 30 of the 270 kept audited) and 100
    shadow requests (50 the policy would escalate), the first exactly three days before now."""
    records: list[CallRecord] = []
    start = NOW - 3 * 86400
    step = 3 * 86400 / 400
    k = 0  # cascade requests so far
    for n in range(400):
        ts, rid = start + n * step, f"r{n:03}"
        if n % 4 == 3:
            records += shadow(ts, rid, escalated=n % 8 == 3)
            continue
        records += cascade(ts, rid, escalated=k % 10 == 0)
        if k % 10 == 1:
            records.append(call(ts + 1, rid, role="audit", tier=1))
        k += 1
    return write(log_db, records)


class TestWhatIfFromLog:
    """Observed traffic: the rate over the span the log covers, the cascade's own shares."""

    def test_volume_is_over_the_span_the_log_covers(self, three_day_log):
        from routermon.core.measure.whatif import from_log

        with LogReader(three_day_log) as reader:
            inputs = from_log(reader, days=30, now=NOW)
            week = from_log(reader, days=7, now=NOW)
        # Was 400 / 30 days × 30 = 400 a month: the log is three days old.
        assert inputs.monthly_requests == pytest.approx(400 / 3 * 30)
        assert week.monthly_requests == pytest.approx(inputs.monthly_requests)
        assert inputs.observed.covered_days == pytest.approx(3.0)
        assert (inputs.observed.cascade_requests, inputs.observed.shadow_requests) == (300, 100)
        assert inputs.observed.describe() == "400 requests (100 shadow) in the 3.0 logged of the last 30 days"

    def test_shadow_requests_are_not_priced_as_escalations(self, three_day_log):
        from routermon.core.measure.whatif import from_log

        with LogReader(three_day_log) as reader:
            inputs = from_log(reader, days=30, now=NOW)
        assert inputs.cheap_share == pytest.approx(0.9)  # was 1 - 80 / 400 = 0.8
        assert inputs.audit_share == pytest.approx(30 / 270)  # was 30 / 320: shadow requests in the base

    def test_the_command_says_what_it_rests_on(self, three_day_log):
        from click.testing import CliRunner

        from routermon.tui.cli import main

        result = CliRunner().invoke(
            main, ["whatif", "--from-log", "--days", "30", "--db", str(three_day_log)]
        )
        assert result.exit_code == 0, result.output
        assert "in the 3.0 logged of the last 30 days" in result.output


class TestLatency:
    """p50/p95 latency is per request (first call to answer), not per call."""

    @staticmethod
    def _cascade_with_audits(start: float) -> list[CallRecord]:
        """100 cascade requests: 80 kept at 300 ms, 20 escalated at 300 + 2,000 ms, 50 of the kept
        audited at 2,500 ms; and one request that failed on both tiers."""
        records: list[CallRecord] = []
        for n in range(100):
            ts, rid = start + n * 10, f"c{n:03}"
            records += cascade(ts, rid, escalated=n >= 80, latency=(300.0, 2000.0))
            if n < 50:
                records.append(call(ts + 5, rid, role="audit", tier=1, latency=2500.0))
        records.append(call(start + 1001, "failed", latency=50.0, escalated=True, error_type="server_error"))
        records.append(
            call(start + 1002, "failed", role="strong", tier=1, latency=50.0, error_type="server_error")
        )
        return records

    def test_audit_calls_and_split_calls_no_longer_shape_the_figure(self, log_db):
        path = write(log_db, self._cascade_with_audits(FIXED_NOW - 3600))
        with LogReader(path) as reader:
            histogram = reader.latency_histogram()
        assert histogram.counts == histogram_of([300.0] * 80 + [2300.0] * 20)  # one per answered request
        assert histogram.percentile(50) == pytest.approx(300.0, rel=0.032)
        assert histogram.percentile(95) == pytest.approx(2300.0, rel=0.032)
        monitor = LiveMonitor.open(path, clock=fixed_clock())
        figures = monitor.figures()
        # Per call it was p50 300 ms and p95 2,500 ms (an audit call, which no caller waits for).
        assert (figures.latency_p50_ms, figures.latency_p95_ms, figures.latency_window) == (
            300.0,
            2300.0,
            100,
        )

    def test_a_shadow_request_waits_for_the_slower_call(self, log_db):
        path = write(log_db, self._cascade_with_audits(FIXED_NOW - 3600))
        monitor = LiveMonitor.open(path, clock=fixed_clock())
        batch: list[CallRecord] = []
        for n in range(50):
            batch += shadow(FIXED_NOW - 600 + n, f"s{n:03}", latency=(300.0, 1000.0))
        write(path, batch)
        monitor.refresh()
        figures = monitor.figures()
        # 80 × 300, 50 × 1,000, 20 × 2,300 ms: per call it was 150 × 300, 50 × 1,000, 20 × 2,000, 50 × 2,500.
        assert (figures.latency_p50_ms, figures.latency_p95_ms, figures.latency_window) == (
            300.0,
            2300.0,
            150,
        )
        with LogReader(path) as reader:
            assert reader.latency_histogram().counts == histogram_of(
                [300.0] * 80 + [1000.0] * 50 + [2300.0] * 20
            )
            assert [round(b.latency_p95_ms) for b in reader.buckets(1200, latency=True)] == [2300, 1000]

    def test_a_request_split_across_refreshes_is_timed_whole(self, log_db):
        path = write(log_db, cascade(FIXED_NOW - 100, "a"))
        monitor = LiveMonitor.open(path, clock=fixed_clock())
        write(path, [call(FIXED_NOW - 50, "b", latency=300.0, escalated=True)])
        monitor.refresh()
        write(path, [call(FIXED_NOW - 49, "b", role="strong", tier=1, latency=2000.0, final=True)])
        monitor.refresh()
        assert monitor.figures().latency_p95_ms == 2300.0


class TestErrors:
    """ "Errors" separates requests that got no answer from failed calls that escalated and were answered."""

    @staticmethod
    def _log(start: float) -> list[CallRecord]:
        err = {"error_type": "server_error"}
        return [
            # The cheap call failed, the strong one answered: recovered.
            call(start, "rescued", escalated=True, **err),
            call(start + 1, "rescued", role="strong", tier=1, final=True),
            # Both tiers failed: a failed request (its escalated cheap failure recovered nothing).
            call(start + 2, "failed", escalated=True, **err),
            call(start + 3, "failed", role="strong", tier=1, **err),
            # Unsure cheap answer, strong call failed: answered (degraded) by the cheap model.
            call(start + 4, "degraded", escalated=True, final=True),
            call(start + 5, "degraded", role="strong", tier=1, **err),
            # A kept answer whose audit failed.
            call(start + 6, "audited", final=True),
            call(start + 7, "audited", role="audit", tier=1, **err),
            # Shadow: the cheap call failed, the strong one's answer was returned.
            call(start + 8, "shadowed", mode="shadow", escalated=True, **err),
            call(start + 8, "shadowed", mode="shadow", role="shadow", tier=1, final=True),
        ]

    def test_failed_requests_and_recovered_calls(self, log_db):
        path = write(log_db, self._log(FIXED_NOW - 600))
        with LogReader(path) as reader:
            s = reader.summary()
        # The card used to show 6 errors (every failed call) as if they were lost requests.
        assert (s.errors, s.requests, s.failed_requests, s.recovered) == (6, 5, 1, 2)
        f = LiveMonitor.open(path, clock=fixed_clock()).figures()
        assert (f.errors, f.failed_requests, f.recovered) == (6, 1, 2)

    def test_refresh_matches_a_fresh_read_even_when_a_request_is_split(self, log_db):
        path = write(log_db, cascade(FIXED_NOW - 900, "first"))
        monitor = LiveMonitor.open(path, clock=fixed_clock())
        rows = self._log(FIXED_NOW - 600)
        write(path, rows[:1])  # the rescued request's failed cheap call, its answer not yet logged
        monitor.refresh()
        assert monitor.figures().recovered == 0
        write(path, rows[1:])
        monitor.refresh()
        f = monitor.figures()
        assert (f.errors, f.failed_requests, f.recovered) == (6, 1, 2)
        assert monitor.series("hour").buckets[-11].recovered == 2  # the minute of the failed calls
        assert sum(b.recovered for b in monitor.series("day").buckets) == 2


def test_degraded_requests_are_counted_where_the_tier_above_failed(log_db):
    """A cheap answer escalated and then returned because the strong call failed is degraded: the
    live figures, the reader's summary and the report count it (a row alone says so: escalated and
    final)."""
    import asyncio

    from routermon.core.measure.report import build_report, render_markdown
    from routermon.core.route.router import Router
    from routermon.core.simulate.standin import StandInAPI, answer, http_error

    db = log_db
    api = StandInAPI()
    api.enqueue(answer("a", 0.2), answer("a", 0.9), model="claude-haiku-4-5")
    api.enqueue(http_error(500), model="claude-sonnet-4-5")

    async def run():
        router = Router(
            "claude-haiku-4-5", "claude-sonnet-4-5", 0.7, client=api.client(max_retries=0), log=db
        )
        try:
            first = await router.route("classify", "one", labels=["a", "b"])
            second = await router.route("classify", "two", labels=["a", "b"])
            return first, second
        finally:
            await router.aclose()

    first, second = asyncio.run(run())
    assert first.degraded and not second.degraded
    with LogReader(db) as reader:
        assert reader.summary().degraded == 1
        text = render_markdown(build_report(reader))
    monitor = LiveMonitor.open(db)
    assert monitor.figures().degraded == 1
    assert "1 answer was degraded" in text


@pytest.fixture(scope="module")
def judged_log(tmp_path_factory) -> Path:
    """Simulated traffic whose summaries a judge rules on: a cascade run with audits, then a shadow
    run (classify answers checked against their reference, extract by field agreement)."""
    from routermon.core.simulate.simulator import simulate

    path = tmp_path_factory.mktemp("judged") / "calls.db"
    judge = Workspace.load().judge_model()  # the demo's: the settings' judge, else the strong model
    simulate(
        routers=Workspace.load(),
        requests=200,
        db_path=path,
        seed=3,
        now=FIXED_NOW,
        days=1,
        audit_share=0.3,
        judge_model=judge,
    )
    simulate(
        routers=Workspace.load(),
        requests=150,
        db_path=path,
        mode="shadow",
        seed=4,
        now=FIXED_NOW,
        days=1,
        judge_model=judge,
    )
    return path


class TestCheapAccuracyPerTask:
    """One cheap accuracy per task (``quality.task_cheap_accuracy``): the pairs' where a task has
    judged pairs, with what they rest on, else the log's own ``correct``."""

    def test_report_traffic_and_analysis_give_one_figure(self, judged_log):
        with LogReader(judged_log) as reader:
            report = build_report(reader)
        traffic = {t.task: t for t in report.traffic.per_task}
        analysis = {s.task: s for s in report.analysis.per_task}
        assert set(traffic) == set(analysis) == {"classify", "summarize", "extract"}
        assert traffic["summarize"].cheap_accuracy is not None  # was None: the judge's verdicts ignored
        for task, stats in analysis.items():
            assert traffic[task].cheap_accuracy == pytest.approx(stats.cheap_accuracy), task
            assert traffic[task].cheap_judged == stats.quality.pairs
            assert traffic[task].cheap_accuracy_sources == stats.quality.sources

    def test_tasks_screen_figure_is_the_analysis_figure(self, judged_log):
        from routermon.core.measure.quality import load_task_quality, task_cheap_accuracy

        with LogReader(judged_log) as reader:
            report = build_report(reader)
            quality = {q.task: q for q in load_task_quality(reader)}
            log_stats = {s.key: s for s in reader.per_task()}
        for stats in report.analysis.per_task:
            # Was the pairs with the audits in: audits sample only the answers the cheap model kept.
            shown = task_cheap_accuracy(log_stats[stats.task], quality[stats.task])
            assert shown.accuracy == pytest.approx(stats.cheap_accuracy), stats.task
            assert (shown.judged, shown.sources) == (stats.quality.pairs, stats.quality.sources)

    def test_a_task_without_pairs_keeps_the_logs_own_figure(self, log_db):
        from routermon.core.measure.quality import task_cheap_accuracy

        records = cascade(FIXED_NOW - 60, "a", correct=True) + cascade(FIXED_NOW - 50, "b", correct=False)
        with LogReader(write(log_db, records)) as reader:
            (stats,) = reader.per_task()
            report = build_report(reader)
        shown = task_cheap_accuracy(stats, None)
        assert (shown.accuracy, shown.judged, shown.sources) == (0.5, 2, "log")
        assert report.traffic.per_task[0].cheap_accuracy == 0.5
        assert report.traffic.per_task[0].cheap_accuracy_sources == "log"
