"""Hardening, round three (issue 34), classes 4-6: numbers that would overflow into the log, dates,
spans and counts out of range, and settings whose type is wrong deep inside."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from routermon.core.log.logquery import LATEST_TIME, QueryError, parse_when
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.cli import main

T0 = 1_773_000_000.0  # 2026-03-08


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_sentence(result, *words: str) -> None:
    """Exit 2, one line on stderr holding ``words``, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def _call(n: int, ts: float = T0, cost: float | None = 0.001) -> CallRecord:
    return CallRecord(
        ts=ts,
        request_id=f"r{n}",
        task="classify",
        model="claude-haiku-4-5",
        role="cheap",
        input_tokens=100,
        output_tokens=10,
        cost_usd=cost,
        latency_ms=500.0,
        confidence=0.9,
        answer='{"label": "a"}',
        final=True,
        input_sha256=f"r{n}",
        input_preview="hello",
    )


@pytest.fixture
def small_log(log_db):
    with CallLog(log_db) as writer:
        writer.log_many([_call(n, T0 + n) for n in range(3)])
    return log_db


# -- 5. dates, spans and counts out of range ---------------------------------------------------

OUT_OF_RANGE_TIMES = [
    ("--until", "9999-12-31"),
    ("--since", "0001-01-01T00:00"),
    ("--since", "0001-01-01"),
    ("--until", "9999-12-31T23:59:59+00:00"),
    ("--since", "1969-12-31"),
    ("--since", "99999999999999999999w"),
    ("--since", "1" + "0" * 400 + "d"),
]


@pytest.mark.parametrize(("option", "text"), OUT_OF_RANGE_TIMES)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_logs_times_out_of_range_are_one_sentence(small_log, monkeypatch, option, text, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        one_sentence(run("logs", "--db", small_log, option, text), "outside the times routermon handles")
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00", "0001-01-01", "99999999999999999999w", "1e400w", "9999-12-31", "1969-01-01"]
)
def test_prune_cut_offs_out_of_range_are_one_sentence(small_log, text):
    result = run("prune", "--db", small_log, "--before", text, "--yes")
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.output
    assert "routermon handles" in result.stderr or "is not a time" in result.stderr


@pytest.mark.parametrize("count", ["9223372036854775808", str(10**30), "-1"])
def test_logs_counts_out_of_range_are_one_sentence(small_log, count):
    one_sentence(run("logs", "--db", small_log, "-n", count), "-n/--count must be 0 (all) to")


def test_the_largest_count_lists_every_call(small_log):
    result = run("logs", "--db", small_log, "-n", str(2**63 - 1), "--nl")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 3


def test_times_at_the_edges_of_the_range_are_accepted():
    assert parse_when("1970-01-01T00:00+00:00", T0) == 0.0
    assert parse_when("9999-12-30T00:00+00:00", T0) == LATEST_TIME
    assert parse_when("56y".replace("y", "w"), T0) == T0 - 56 * 604800
    with pytest.raises(QueryError, match="is not a time"):
        parse_when("2026-02-30", T0)  # a real mistake is still named as one
