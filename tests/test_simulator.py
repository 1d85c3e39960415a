"""The traffic simulator: determinism, history, the field-report shares, shadow pairs, live traffic,
the projection against the log's own spend, and the ``routermon simulate`` command."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import threading
import time

import pytest

from routermon.core.errors import ConfigError
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.measure.pairs import load_pairs
from routermon.core.measure.whatif import from_log, project
from routermon.core.simulate.scenario import Scenario, load_scenario
from routermon.core.simulate.simtext import CHARS_PER_TOKEN
from routermon.core.simulate.simulator import (
    SOURCE,
    arrival_times,
    run_live,
    simulate,
    simulate_live,
    traffic,
)
from routermon.core.workspace import Workspace

NOW = 1_760_000_000.0  # a fixed "now": 2025-10-09 08:53 UTC
DAY = 86_400.0
FIELD_REPORT = {"classify": 0.05, "summarize": 0.12, "extract": 0.08}  # escalation shares at 0.7


def rows_without_ids(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {', '.join(CALL_COLUMNS)} FROM calls ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def field_report_run(tmp_path_factory):
    """6,000 requests of the built-in scenario at threshold 0.7, over the week before NOW."""
    path = tmp_path_factory.mktemp("field") / "calls.db"
    summary = simulate(
        routers=Workspace.load(), requests=6000, db_path=path, threshold=0.7, days=7, seed=1, now=NOW
    )
    return path, summary


# -- determinism and history ------------------------------------------------------------------------


def test_same_seed_scenario_and_now_give_the_same_rows_byte_for_byte(tmp_path):
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        path = tmp_path / f"{name}.db"
        simulate(
            routers=Workspace.load(), requests=250, db_path=path, seed=seed, now=NOW, days=2, audit_share=0.2
        )
        runs.append(rows_without_ids(path))
    first, again, other_seed = runs
    assert len(first) > 250  # escalations and audits add calls
    assert repr(first) == repr(again)
    assert {row[CALL_COLUMNS.index("role")] for row in first} == {"cheap", "strong", "audit"}
    assert other_seed != first


def test_timestamps_are_spread_over_the_days_before_now(tmp_path):
    path = tmp_path / "calls.db"
    summary = simulate(routers=Workspace.load(), requests=600, db_path=path, days=3, seed=2, now=NOW)
    with LogReader(path) as reader:
        stamps = sorted(row.ts for row in reader.iter_calls())
    assert NOW - 3 * DAY <= stamps[0] < NOW - 3 * DAY + 6 * 3600
    assert NOW - 3600 < stamps[-1] < NOW
    per_day = [sum(NOW - (d + 1) * DAY <= ts < NOW - d * DAY for ts in stamps) for d in range(3)]
    assert min(per_day) > 0.25 * len(stamps)  # every day has its share of history
    assert (summary.since, summary.until) == (NOW - 3 * DAY, NOW)
    # The request's calls follow each other: a strong call starts after its cheap call.
    with LogReader(path) as reader:
        for row in reader.iter_calls():
            if row.tier == 1:
                cheap = reader.request_calls(row.request_id)[0]
                assert cheap.ts + cheap.latency_ms / 1000 <= row.ts + 1e-6


def test_arrivals_follow_a_daily_rhythm():
    import random

    since = 1_759_968_000.0  # midnight UTC
    times = arrival_times(20_000, since, since + 5 * DAY, random.Random(0))
    assert times == sorted(times) and since <= times[0] and times[-1] <= since + 5 * DAY
    hour = [((t - since) % DAY) // 3600 for t in times]
    afternoon = sum(12 <= h < 16 for h in hour)
    night = sum(0 <= h < 4 for h in hour)
    assert afternoon > 2 * night


def test_traffic_texts_are_unique_and_follow_the_token_distribution():
    scenario = load_scenario()
    stream = traffic(scenario, seed=3)
    requests = [next(stream) for _ in range(1500)]
    assert len({r.text for r in requests}) == len(requests)
    for task in scenario.tasks:
        mine = [r for r in requests if r.task.name == task.name]
        assert abs(len(mine) / len(requests) - task.share) < 0.05
        median_tokens = statistics.median(len(r.text) / CHARS_PER_TOKEN for r in mine)
        assert median_tokens == pytest.approx(task.input_tokens.median, rel=0.12)
        assert all(r.text.isascii() for r in mine)
        if task.kind == "classify":
            assert all(r.reference in task.labels for r in mine)
        else:
            assert all(r.reference is None for r in mine)


# -- the field report -------------------------------------------------------------------------------


def test_default_scenario_matches_the_field_report(field_report_run):
    path, summary = field_report_run
    shares = {t.task: t.escalation_share for t in summary.tally.per_task}
    assert set(shares) == set(FIELD_REPORT)
    for task, expected in FIELD_REPORT.items():
        assert shares[task] == pytest.approx(expected, abs=0.02), task
    assert summary.tally.requests == 6000
    # The tally is the log's own figures.
    with LogReader(path) as reader:
        logged = reader.summary()
        per_task = {g.key: g for g in reader.per_task()}
    assert (logged.requests, logged.escalated, logged.calls) == (
        summary.tally.requests,
        summary.tally.escalated,
        summary.tally.calls,
    )
    assert logged.spend_usd == pytest.approx(summary.tally.spend_usd, rel=1e-12)
    for task in summary.tally.per_task:
        assert per_task[task.task].escalated == task.escalated
    classify = next(t for t in summary.tally.per_task if t.task == "classify")
    assert 0.9 < classify.cheap_accuracy < 1.0  # references make accuracy measurable
    assert summary.wall_seconds > 0 and summary.requests_per_second > 0


def test_log_spend_equals_the_projection_from_the_same_log(field_report_run):
    """The issue's check: a month projected from the log's observed share and tokens costs what the
    log's own spend, scaled to 30 days, does."""
    path, summary = field_report_run
    with LogReader(path) as reader:
        inputs = from_log(reader, days=7, now=NOW)
        spend = reader.summary(NOW - 7 * DAY, NOW).spend_usd
    result = project(inputs)
    assert spend > 0
    covered = inputs.observed.covered_days  # the first simulated request comes just after the start
    assert covered == pytest.approx(7, rel=1e-3)
    assert result.cascade_usd == pytest.approx(spend * 30 / covered, rel=1e-9)
    # Escalated requests are longer than most here, so pooling every call's tokens would miss.
    assert inputs.escalated_input_tokens > 1.1 * inputs.input_tokens
    # The simulator's own projection is the same computation on the same rows, over the window it
    # spread the traffic on (the log's first request comes just after that window's start).
    same = {"observed", "monthly_requests"}
    assert summary.projection.inputs.model_dump(exclude=same) == inputs.model_dump(exclude=same)
    assert summary.projection.cascade_usd == pytest.approx(result.cascade_usd, rel=1e-3)
    assert summary.monthly_requests == pytest.approx(6000 / 7 * 30)
    # At the break-even share the cascade costs exactly what always-strong does.
    even = project(inputs.model_copy(update={"cheap_share": result.break_even_cheap_share}))
    assert even.cascade_usd == pytest.approx(even.always_strong_usd, rel=1e-9)


def test_projection_with_audits_matches_the_log_and_the_simulator(tmp_path):
    """Audits are spend the cascade keeps paying: the projection from a log with audits costs what
    the log does, and the simulator's own projection agrees."""
    path = tmp_path / "calls.db"
    summary = simulate(
        routers=Workspace.load(),
        requests=1500,
        db_path=path,
        threshold=0.7,
        days=7,
        seed=3,
        now=NOW,
        audit_share=0.15,
    )
    with LogReader(path) as reader:
        inputs = from_log(reader, days=7, now=NOW)
        spend = reader.summary(NOW - 7 * DAY, NOW).spend_usd
        audits = [u for u in reader.per_tier_model(NOW - 7 * DAY, NOW, by_role=True) if u.role == "audit"]
    result = project(inputs)
    kept = summary.tally.requests - summary.tally.escalated
    assert inputs.audit_share == pytest.approx(sum(u.calls for u in audits) / kept)
    assert 0.1 < inputs.audit_share < 0.2
    covered = inputs.observed.covered_days  # the first simulated request comes just after the start
    assert covered == pytest.approx(7, rel=1e-3)
    assert result.cascade_usd == pytest.approx(spend * 30 / covered, rel=1e-9)
    assert result.audit_usd == pytest.approx(sum(u.spend_usd for u in audits) * 30 / covered, rel=1e-9)
    # The simulator's own projection is over the window it spread the traffic on.
    same = {"observed", "monthly_requests"}
    assert summary.projection.inputs.model_dump(exclude=same) == inputs.model_dump(exclude=same)
    assert summary.projection.cascade_usd == pytest.approx(result.cascade_usd, rel=1e-3)


# -- modes and failures ----------------------------------------------------------------------------


def test_shadow_mode_logs_linked_pairs(tmp_path):
    path = tmp_path / "calls.db"
    summary = simulate(
        routers=Workspace.load(), requests=120, db_path=path, mode="shadow", seed=4, now=NOW, days=1
    )
    with LogReader(path) as reader:
        rows = list(reader.iter_calls())
        pairs = load_pairs(reader, unjudged=True)
        judged = load_pairs(reader)
    by_request: dict[str, list] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(row)
    assert len(by_request) == 120 == summary.tally.requests
    # Summaries are free text: until a judge or a person says which answer was right, they are
    # pairs without a verdict, left out of the figures.
    assert {p.task for p in pairs if not p.judged} == {"summarize"}
    assert {p.request_id for p in judged} == {p.request_id for p in pairs if p.task != "summarize"}
    for calls in by_request.values():
        assert sorted((c.role, c.tier, c.mode) for c in calls) == [
            ("cheap", 0, "shadow"),
            ("shadow", 1, "shadow"),
        ]
    # Every request is a pair for the threshold analysis, linked by its request id.
    assert sorted(p.request_id for p in pairs) == sorted(by_request)
    assert summary.tally.calls == 240


def test_requests_failing_on_every_tier_are_counted_not_raised(tmp_path):
    broken = load_scenario().model_dump()
    for model in broken["models"]:
        model["errors"] = {"malformed": 1.0}
    scenario = Scenario.model_validate(broken)
    summary = simulate(
        scenario,
        routers=Workspace.load(),
        requests=20,
        db_path=tmp_path / "calls.db",
        seed=0,
        now=NOW,
        days=1,
    )
    assert summary.tally.failed == summary.tally.requests == 20
    assert summary.tally.escalated == 20 and summary.tally.errors == 40
    assert sum(t.failed for t in summary.tally.per_task) == 20


def test_scenario_tasks_are_told_apart_by_name(tmp_path):
    """Two classify tasks behave by their own profiles (the task travels in a request header)."""
    scenario = Scenario.model_validate(
        {
            "tasks": [
                {"name": "moderation", "kind": "classify", "share": 0.5, "ambiguous_share": 0.0},
                {"name": "triage", "kind": "classify", "share": 0.5, "ambiguous_share": 0.6},
            ]
        }
    )
    summary = simulate(
        scenario,
        routers=Workspace.load(),
        requests=300,
        db_path=tmp_path / "calls.db",
        seed=1,
        now=NOW,
        days=1,
    )
    shares = {t.task: t.escalation_share for t in summary.tally.per_task}
    assert shares["moderation"] < 0.1 < 0.4 < shares["triage"]


def test_simulating_into_an_open_log_and_appending(tmp_path):
    from routermon.core.log.store import CallLog

    path = tmp_path / "calls.db"
    simulate(routers=Workspace.load(), requests=30, db_path=path, seed=1, now=NOW - DAY, days=1)
    with CallLog(path) as log:
        second = simulate(routers=Workspace.load(), requests=40, log=log, seed=1, now=NOW, days=1)
    assert second.tally.requests == 40  # this run only, not the rows already there
    with LogReader(path) as reader:
        rows = list(reader.iter_calls())
    assert sum(r.tier == 0 for r in rows) == 70
    assert all(r.source == SOURCE for r in rows)
    assert len({r.request_id for r in rows if r.tier == 0}) == 70  # no id collides across runs


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"requests": -5}, "at least 1"),
        ({"requests": 0}, "at least 1"),
        ({"requests": 5, "threshold": 1.5}, "threshold must be between 0 and 1"),
        ({"requests": 5, "days": 0}, "number of days must be more than 0"),
        ({"requests": 5, "mode": "both"}, "Mode must be one of"),
        ({"requests": 5, "audit_share": 2}, "audit share"),
        ({"requests": 5, "cheap_model": "no-such-model"}, "no-such-model"),
    ],
)
def test_bad_input_is_a_config_error_before_the_log_is_touched(tmp_path, kwargs, message):
    path = tmp_path / "calls.db"
    with pytest.raises(ConfigError, match=message):
        simulate(routers=Workspace.load(), db_path=path, now=NOW, **kwargs)
    assert not path.exists()


# -- live traffic ----------------------------------------------------------------------------------


def test_live_traffic_in_a_thread_stops_on_the_event_and_flushes(tmp_path):
    path = tmp_path / "calls.db"
    stop = threading.Event()
    seen = []
    outcome = {}

    def work():
        outcome["summary"] = simulate_live(
            routers=Workspace.load(),
            rate=80,
            db_path=path,
            stop_event=stop,
            seed=3,
            time_scale=0.01,
            progress=seen.append,
        )

    before = time.time()
    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(0.6)
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    after = time.time()
    summary = outcome["summary"]
    with LogReader(path) as reader:  # flushed: every request is on disk once simulate_live returns
        rows = list(reader.iter_calls())
    assert sum(r.tier == 0 for r in rows) == summary.tally.requests == len(seen) >= 10
    assert all(before <= r.ts <= after for r in rows)
    assert seen[-1].total is None and seen[-1].done == len(seen)


async def test_live_traffic_as_an_asyncio_task_stops_after_its_duration(tmp_path):
    path = tmp_path / "calls.db"
    started = time.perf_counter()
    summary = await asyncio.wait_for(
        run_live(routers=Workspace.load(), rate=50, db_path=path, duration=0.4, seed=2, time_scale=0.01),
        timeout=10,
    )
    assert 0.4 <= time.perf_counter() - started < 5
    assert summary.tally.requests >= 5
    assert summary.monthly_requests > 0 and summary.projection.cascade_usd > 0


def test_live_needs_a_positive_rate_and_a_way_to_stop(tmp_path):
    with pytest.raises(ConfigError, match="request rate"):
        simulate_live(routers=Workspace.load(), rate=0, db_path=tmp_path / "a.db", duration=1)
    with pytest.raises(ConfigError, match="stop event or a duration"):
        simulate_live(routers=Workspace.load(), rate=1, db_path=tmp_path / "a.db")


def test_progress_spend_counts_audits_and_ends_on_the_summary_spend(tmp_path):
    """The progress bar's spend is every call's (audits included), so it ends where the summary does."""
    seen = []
    summary = simulate(
        routers=Workspace.load(),
        requests=120,
        db_path=tmp_path / "calls.db",
        audit_share=0.3,
        seed=4,
        progress=seen.append,
    )
    assert summary.projection.audit_usd > 0
    assert seen[-1].spend_usd == pytest.approx(summary.tally.spend_usd, rel=1e-9)


def test_escalation_shares_are_the_reports_for_a_shadow_run_and_a_mixed_log(tmp_path):
    """One definition (the reader's tally): over cascade requests, shadow requests apart."""
    from routermon.core.measure.report import build_report

    path = tmp_path / "calls.db"
    shadow_run = simulate(
        routers=Workspace.load(), requests=120, db_path=path, mode="shadow", seed=4, now=NOW, days=1
    )
    with LogReader(path) as reader:
        shadow_report = build_report(reader)
    assert shadow_report.traffic.escalation_share is None
    assert shadow_run.tally.escalation_share is None  # was 0.04-0.07: the would-be escalations
    assert shadow_run.tally.shadow_escalated == shadow_report.traffic.shadow_escalated > 0
    assert {t.task: t.escalation_share for t in shadow_run.tally.per_task} == {
        t.task: None for t in shadow_report.traffic.per_task
    }
    cascade_run = simulate(routers=Workspace.load(), requests=200, db_path=path, seed=5, now=NOW, days=1)
    with LogReader(path) as reader:
        both = build_report(reader).traffic
    assert cascade_run.tally.shadow_requests == 0
    assert cascade_run.tally.escalation_share == pytest.approx(both.escalation_share)
    assert cascade_run.tally.escalation_share == pytest.approx(
        cascade_run.tally.cascade_escalated / cascade_run.tally.cascade_requests
    )
    shares = {t.task: t.escalation_share for t in both.per_task}
    for task in cascade_run.tally.per_task:
        assert task.escalation_share == pytest.approx(shares[task.task])
        assert task.cheap_share == pytest.approx(1 - shares[task.task])
