"""`routermon prune --before DATE` (issue 15): old rows go, their rollups stay, so the totals and the
charts still count them; the command says exactly what it deleted and how to reclaim the disk."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from routermon.core.log.live import LiveMonitor
from routermon.core.log.logquery import CallFilters
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog, prune_calls
from routermon.tui.cli import main

DAY = 86400.0
T0 = 1767225600.0  # 2026-01-01 00:00 UTC


def _request(ts: float, n: int, escalated: bool) -> list[CallRecord]:
    common = dict(task="classify", input_sha256=f"{n}", input_preview=f"text number {n}")
    rows = [
        CallRecord(
            ts=ts,
            request_id=f"r{n}",
            model="claude-haiku-4-5",
            role="cheap",
            tier=0,
            input_tokens=100,
            output_tokens=10,
            cost_usd=0.0001,
            latency_ms=300.0,
            confidence=0.5 if escalated else 0.95,
            answer='"ok"',
            escalated=escalated,
            escalation_reason="low_confidence" if escalated else None,
            final=not escalated,
            **common,
        )
    ]
    if escalated:
        rows.append(
            CallRecord(
                ts=ts + 1,
                request_id=f"r{n}",
                model="claude-sonnet-4-5",
                role="strong",
                tier=1,
                input_tokens=100,
                output_tokens=10,
                cost_usd=0.001,
                latency_ms=900.0,
                answer='"ok"',
                final=True,
                **common,
            )
        )
    return rows


@pytest.fixture
def three_days(log_db):
    """30 requests a day on 2026-01-01, -02 and -03 (UTC), every fifth escalated; on SQLite and on
    PostgreSQL (``conftest.backend``)."""
    path = log_db
    with CallLog(path) as log:
        for day in range(3):
            for n in range(30):
                log.log_many(_request(T0 + day * DAY + n * 600, day * 100 + n, escalated=n % 5 == 0))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args), env={"TZ": "UTC"})


def test_prune_deletes_old_rows_and_the_figures_keep_them(three_days):
    with LogReader(three_days) as reader:
        before = reader.tally()
        per_day = reader.bucket_tallies(DAY)
        reasons = reader.escalation_reasons()
    result = run("prune", "--db", str(three_days), "--before", "2026-01-03T00:00:00+00:00", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == 2 * 36  # two days of 30 requests and 6 escalations
    assert "Deleted 72 calls logged before 2026-01-03" in result.stderr
    assert "VACUUM" in result.stderr
    with LogReader(three_days) as reader:
        assert reader.conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 36
    with LogReader(three_days) as reader:  # the search index lost the deleted rows' words with them
        assert reader.conn.execute("SELECT COUNT(*) FROM calls_words").fetchone()[0] == 36
        assert len(reader.search_calls(CallFilters(search="number"), limit=None)) == 36
    with LogReader(three_days) as reader:
        after = reader.tally()
        assert (after.requests, after.calls, after.cascade_escalated) == (90, 108, 18)
        assert after.spend_usd == pytest.approx(before.spend_usd)
        assert reader.bucket_tallies(DAY).keys() == per_day.keys()
        assert reader.escalation_reasons() == reasons
    # The monitor opens on the rollups: the chart's "all" window still shows the pruned days.
    monitor = LiveMonitor.open(three_days)
    assert monitor.series("all").requests == 90
    monitor.close()


def test_prune_with_nothing_that_old_deletes_nothing(three_days):
    result = run("prune", "--db", str(three_days), "--before", "2025-06-01", "--yes")
    assert result.exit_code == 0, result.output
    assert "nothing deleted" in result.stderr


def test_prune_asks_and_refuses_without_a_terminal(three_days):
    result = run("prune", "--db", str(three_days), "--before", "2026-01-03")
    assert result.exit_code == 2
    assert result.stderr.strip() == "routermon: Pass --yes to delete calls without being asked."
    with LogReader(three_days) as reader:
        assert reader.count_before(T0 + 3 * DAY) == 108  # nothing lost


@pytest.mark.parametrize("bad", ["yesterday-ish", "2026-13-01", ""])
def test_a_bad_date_is_one_sentence(three_days, bad):
    result = run("prune", "--db", str(three_days), "--before", bad, "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith("routermon: ") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_prune_goes_in_transactions_and_reports_progress(three_days, monkeypatch):
    monkeypatch.setattr("routermon.core.log.store.PRUNE_ROWS_PER_TRANSACTION", 10)
    seen: list[int] = []
    assert prune_calls(three_days, T0 + DAY, progress=seen.append) == 36
    assert seen == [10, 20, 30, 36]
    with pytest.raises(ValueError):
        prune_calls(three_days, T0 + 1800)
