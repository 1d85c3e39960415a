"""routermon check: drift of the audits' loss per task against the policy, the budget, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_production import _request

from routermon.core.clock import VirtualClock
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.core.measure.watch import audits_needed, check
from routermon.tui.cli import main

NOW = 2_000_000.0


def _log(db, *, bad_after: int | None, audits: int = 200, task_rename: str = "classify"):
    """``audits`` audited requests, one a minute up to NOW; every cheap answer right until
    ``bad_after``, then one in five wrong."""
    with CallLog(db) as log:
        for n in range(audits):
            right = bad_after is None or n < bad_after or n % 5
            ts = NOW - (audits - n) * 60.0
            rows = _request(n, ts, share=1.0, kept=True, right=bool(right), audited=True)
            log.log_many([r.model_copy(update={"task": task_rename}) for r in rows])


def _check(db, **kwargs):
    with LogReader(db) as reader:
        return check(reader, max_loss=0.05, confidence=0.95, clock=VirtualClock(NOW), **kwargs)


def test_drift_alerts_when_the_rolling_loss_bound_exceeds_the_policy_and_says_since_when(tmp_path):
    db = tmp_path / "calls.db"
    _log(db, bad_after=100)
    result = _check(db, window=100)
    (drift,) = result.drift
    assert drift.alert and not result.ok
    # The first window over the bound ends some audits after the change, never before it.
    change_ts = NOW - (200 - 100) * 60.0
    assert drift.since is not None and change_ts <= drift.since < NOW
    early = [p for p in drift.points if p.ts < change_ts and p.audits >= audits_needed(0.05, 0.95)]
    assert early and all(p.loss == 0 for p in early)
    assert drift.latest.loss == 20 / 100  # one in five of the last 100 audits lost
    assert "over the policy's 5.0 points" in drift.message()
    assert result.alerts[0].startswith("classify: loss at most")


def test_drift_holds_on_good_audits_and_too_few_audits_say_so(tmp_path):
    db = tmp_path / "calls.db"
    _log(db, bad_after=None)
    result = _check(db, window=200)
    assert result.ok and result.drift[0].latest.loss_upper < 0.05
    small = tmp_path / "small.db"
    _log(small, bad_after=0, audits=10)
    result = _check(small, window=200)
    assert result.ok and "too few to check" in result.drift[0].message()


def test_budget_projection(tmp_path):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(48):  # a request every hour for two days, $1 each
            rows = _request(n, NOW - (48 - n) * 3600.0, share=0.0, kept=True, right=True, audited=False)
            log.log_many([r.model_copy(update={"cost_usd": 1.0}) for r in rows])
    over = _check(db, budget_usd=700.0)
    assert round(over.budget.projected_usd) == 720 and over.budget.alert and not over.ok
    assert "$720" in over.budget.message() and "over the $700" in over.budget.message()
    assert _check(db, budget_usd=800.0).ok


def test_check_command_exit_codes_and_json(tmp_path, monkeypatch):
    good, bad = tmp_path / "good.db", tmp_path / "bad.db"
    _log(good, bad_after=None)
    _log(bad, bad_after=0)
    config = tmp_path / "settings.toml"
    config.write_text("max_loss = 0.05\ndrift_window = 100\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    runner = CliRunner()
    ok = runner.invoke(main, ["--db", str(good), "check"])
    assert ok.exit_code == 0 and ok.stdout.startswith("ok    classify: loss at most")
    alert = runner.invoke(main, ["--db", str(bad), "check", "--json"])
    assert alert.exit_code == 1
    payload = json.loads(alert.stdout)
    assert payload["ok"] is False and payload["drift"][0]["alert"] and payload["alerts"]
    usage = runner.invoke(main, ["--db", str(good), "check", "--window", "0"])
    assert usage.exit_code == 2
    missing = runner.invoke(main, ["--db", str(tmp_path / "none.db"), "check"])
    assert missing.exit_code == 2 and "no call log" in missing.stderr.lower()


def test_a_long_drift_series_is_thinned_evenly_and_keeps_the_latest_window():
    """100,000 audits would list every window; the series keeps at most twice max_points, evenly
    spaced, always the latest, and every window still counts for the alert and its start."""
    import random
    from types import SimpleNamespace

    from routermon.core.measure.watch import drift_series

    rng = random.Random(3)
    audits = [
        SimpleNamespace(
            ts=1_000.0 + i,
            cheap_correct=rng.random() > (0.01 if i < 3000 else 0.2),
            strong_correct=True,
            agree=True,
        )
        for i in range(5_001)
    ]
    policy = dict(max_loss=0.05, confidence=0.95, window=200, ordered=True)
    full, alert, since, seen = drift_series(audits, 1.0, **policy)
    thin, thin_alert, thin_since, thin_seen = drift_series(audits, 1.0, **policy, max_points=100)
    assert (seen, thin_seen, len(full)) == (5_001, 5_001, 5_001)
    assert 100 <= len(thin) <= 200 and thin[-1] == full[-1]
    assert (thin_alert, thin_since) == (alert, since) and alert and since is not None
    gaps = {b.ts - a.ts for a, b in zip(thin, thin[1:-1], strict=False)}
    assert len(gaps) == 1  # evenly spaced (bar the latest)
    assert {p.ts for p in thin} <= {p.ts for p in full}
