"""Hardening, round three, class 8: pruning.

* A cut-off later than now is refused (one sentence, exit 2, nothing deleted), on both backends,
  whether typed as a date, a datetime or given to the library.
* A simulation's summary counts what the run did itself, so a prune meanwhile cannot zero it.
* After ``prune``, the report's judge section (verdicts and the cost of judging) still shows what
  the rollups keep.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from test_cli_prune import DAY, T0, _request

from routermon.core.errors import ConfigError
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog, prune_calls
from routermon.core.workspace import Workspace
from routermon.tui.cli import main


@pytest.fixture
def recent_and_old(log_db):
    """30 requests on 2026-01-01 and 10 logged in the last minutes, on either backend."""
    now = time.time()
    with CallLog(log_db) as log:
        for n in range(30):
            log.log_many(_request(T0 + n * 600, n, escalated=n % 5 == 0))
        for n in range(10):
            log.log_many(_request(now - 120 + n, 1000 + n, escalated=False))
    return log_db


def _calls(db) -> int:
    """The rows the log holds (its summary would count pruned rows too: their rollups stay)."""
    with LogReader(db) as reader:
        return reader.count_before(time.time() + DAY)


def _future_cutoffs() -> list[str]:
    soon = datetime.now().astimezone() + timedelta(minutes=61)
    return [
        "2099-01-01",
        (datetime.now() + timedelta(days=2)).date().isoformat(),
        soon.isoformat(timespec="minutes"),  # within the next hours: its whole hour is after now
        soon.astimezone(tz=None).replace(tzinfo=None).isoformat(timespec="seconds"),
    ]


@pytest.mark.parametrize("cutoff", _future_cutoffs())
def test_a_cut_off_later_than_now_is_refused_and_nothing_is_deleted(recent_and_old, cutoff):
    before = _calls(recent_and_old)
    result = CliRunner().invoke(main, ["prune", "--db", str(recent_and_old), "--before", cutoff, "--yes"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "later than now" in lines[0] and "Traceback" not in result.output
    assert _calls(recent_and_old) == before


def test_the_library_refuses_a_future_cut_off_too(recent_and_old):
    before = _calls(recent_and_old)
    future = (time.time() // 3600 + 2) * 3600
    with pytest.raises(ConfigError, match="later than now"):
        prune_calls(recent_and_old, future)
    assert _calls(recent_and_old) == before


def test_a_past_cut_off_still_prunes(recent_and_old):
    result = CliRunner().invoke(
        main, ["prune", "--db", str(recent_and_old), "--before", "2026-01-02T00:00+00:00", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert _calls(recent_and_old) == 10


# -- the report's judge section after a prune -------------------------------------------------------


@pytest.fixture
def judged_log(log_db):
    """Traffic and judge verdicts on 2026-01-01 (to be pruned) and judge verdicts of today (kept),
    on summarize and on classify."""
    from review_helpers import judge_row

    now = time.time()
    with CallLog(log_db) as log:
        for n in range(20):
            log.log_many(_request(T0 + n * 600, n, escalated=False))
            task = "summarize" if n % 2 else "classify"
            log.log(judge_row(f"old{n}", task, "cheap_acceptable", 0.9, T0 + n * 600 + 1, n % 4 < 2))
        for n in range(4):
            log.log(judge_row(f"new{n}", "summarize", "strong_better", 0.8, now - 60 + n, n % 2 == 0))
    return log_db


def _judge_json(db, *task: str) -> dict | None:
    import json

    out = CliRunner().invoke(main, ["report", "--db", str(db), "--format", "json", *task])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)["judge"]


def _prune(db, before: str) -> None:
    result = CliRunner().invoke(main, ["prune", "--db", str(db), "--before", before, "--yes"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("task", [(), ("--task", "summarize"), ("--task", "classify")])
def test_the_report_keeps_the_cost_of_judging_after_a_prune(judged_log, task):
    before = _judge_json(judged_log, *task)
    _prune(judged_log, "2026-01-02T00:00+00:00")
    after = _judge_json(judged_log, *task)
    assert after is not None, "the judge section went with the pruned rows"
    assert after["calls"] == before["calls"] and after["spend_usd"] == pytest.approx(before["spend_usd"])
    assert after["models"] == before["models"]
    kept = 4 if task != ("--task", "classify") else 0
    assert after["verdicts"] == kept and after["pruned_calls"] == before["calls"] - kept
    if kept:
        assert after["cheap_acceptable_share"] == 0.0  # only today's verdicts are left to read


def test_the_markdown_report_says_what_judging_cost_and_that_verdicts_were_pruned(judged_log):
    _prune(judged_log, "2026-01-02T00:00+00:00")
    for args in ([], ["--task", "classify"]):
        out = CliRunner().invoke(main, ["report", "--db", str(judged_log), *args])
        assert out.exit_code == 0, out.output
        assert "## The LLM judge (cost of measuring)" in out.stdout
        assert "were pruned" in out.stdout


# -- a command's own summary counts what it did --------------------------------------------------


def test_a_simulation_counts_its_own_requests_though_a_prune_deletes_them_meanwhile(log_db):
    """The rows of a run spread over the past days are pruned while it runs (after the first 30
    requests are committed): its summary still counts every request it made, as read back before."""
    from routermon.core.log.store import prune_calls
    from routermon.core.simulate.simulator import simulate

    log = CallLog(log_db)
    cut = time.time() // 3600 * 3600  # the current hour: every row of the run is older

    def prune_meanwhile(progress) -> None:
        if progress.done == 30:
            log.flush()
            assert prune_calls(log_db, cut) > 0

    try:
        summary = simulate(
            routers=Workspace.load(), requests=60, log=log, days=2, seed=4, progress=prune_meanwhile
        )
    finally:
        log.close()
    assert summary.tally.requests == 60
    assert summary.tally.calls >= 60 and summary.tally.spend_usd > 0
    assert sum(t.requests for t in summary.tally.per_task) == 60
    with LogReader(log_db) as reader:
        assert reader.count_before(time.time() + DAY) < summary.tally.calls  # the log lost rows


@pytest.mark.parametrize("live", [False, True])
def test_a_runs_own_count_is_what_the_log_reads_back_when_nothing_interferes(log_db, live):
    from routermon.core.simulate.simulator import run_prefix, simulate, simulate_live, tally_rows

    if live:
        summary = simulate_live(
            routers=Workspace.load(), rate=40, duration=1.0, db_path=log_db, seed=2, time_scale=0.0
        )
    else:
        summary = simulate(
            routers=Workspace.load(), requests=80, db_path=log_db, days=1, seed=3, audit_share=0.2
        )
    assert summary.tally.requests > 0
    with LogReader(log_db) as reader:
        prefix = reader.calls_after(0, limit=1)[0].request_id.split("_", 1)[0] + "_"
        read_back = tally_rows(reader, 0, None, prefix=prefix)
    own = summary.tally.model_dump()
    back = read_back.model_dump()
    for key in ("requests", "escalated", "failed", "calls", "errors", "input_tokens", "output_tokens"):
        assert own[key] == back[key], key
    assert own["spend_usd"] == pytest.approx(back["spend_usd"])
    assert prefix.startswith("sim") and run_prefix(0).startswith("sim")
