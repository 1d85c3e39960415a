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
