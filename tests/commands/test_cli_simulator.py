"""The `routermon` command side of test_simulator.py: what a user types and reads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from routermon.core.log.reader import LogReader
from routermon.tui.cli import main


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTERMON_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.delenv("ROUTERMON_DB", raising=False)
    return CliRunner()


def test_cli_prints_the_summary(runner, tmp_path):
    path = tmp_path / "calls.db"
    result = runner.invoke(main, ["simulate", "--requests", "60", "--db", str(path), "--seed", "2"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("requests", "60", "escalation share", "spend", "classify", "summarize", "extract"):
        assert text in out
    assert "A month at this rate: 257 requests" in out  # 60 requests in 7 days
    assert "cascade" in out and "always strong" in out
    with LogReader(path) as reader:
        assert reader.summary().requests == 60


def test_cli_json_and_options(runner, tmp_path):
    path = tmp_path / "calls.db"
    args = ["simulate", "-n", "40", "--db", str(path), "--mode", "shadow", "--days", "2", "--json"]
    result = runner.invoke(main, [*args, "--threshold", "0.9", "--audit-share", "0"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["mode"], data["threshold"], data["days"]) == ("shadow", 0.9, 2.0)
    assert data["tally"]["requests"] == 40 and data["tally"]["calls"] == 80
    assert data["monthly_requests"] == pytest.approx(40 / 2 * 30)
    # The report's definition (over cascade requests): a shadow run has none. Was escalated / 40.
    assert data["escalation_share"] is None
    report = runner.invoke(main, ["report", "--db", str(path), "--format", "json"])
    assert report.exit_code == 0, report.output
    traffic = json.loads(report.stdout)["traffic"]
    assert traffic["escalation_share"] is None
    assert data["tally"]["shadow_escalated"] == traffic["shadow_escalated"]
    assert data["tally"]["shadow_requests"] == 40


def test_cli_live_runs_for_its_duration(runner, tmp_path):
    path = tmp_path / "calls.db"
    result = runner.invoke(
        main, ["simulate", "--live", "--rate", "20", "--duration", "0.5", "--db", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tally"]["requests"] >= 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--requests", "-5"], "at least 1"),
        (["--requests", "5", "--threshold", "1.5"], "threshold must be between 0 and 1"),
        (["--requests", "5", "--scenario", "missing.toml"], "does not exist"),
        (["--requests", "5", "--scenario", "{bad}"], "not valid TOML"),
        (["--requests", "5", "--scenario", "{invalid}"], "is invalid at"),
        ([], "--requests N"),
        (["--live", "--rate", "-1", "--duration", "1"], "request rate"),
        (["--live", "--requests", "5"], "not both"),
    ],
)
def test_cli_bad_input_is_one_sentence_and_exit_2(runner, tmp_path, args, message):
    (tmp_path / "bad.toml").write_text("tasks = [[[")
    (tmp_path / "invalid.toml").write_text('[[tasks]]\nname = "x"\nkind = "translate"\nshare = 1\n')
    args = [
        a.replace("{bad}", str(tmp_path / "bad.toml")).replace("{invalid}", str(tmp_path / "invalid.toml"))
        for a in args
    ]
    result = runner.invoke(main, ["simulate", "--db", str(tmp_path / "calls.db"), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("routermon: ") and message in lines[0]


def test_live_line_of_a_shadow_run_does_not_call_its_would_be_escalations_escalated():
    from routermon.core.simulate.simulator import SimulationProgress
    from routermon.tui.cmd_simulate import _live_line

    progress = SimulationProgress(done=40, total=None, failed=0, escalated=4, spend_usd=0.5, elapsed_s=2.0)
    assert "10.0% escalated" in _live_line(progress, "cascade")
    shadow = _live_line(progress, "shadow")
    assert "the policy would escalate 10.0%" in shadow and "escalated" not in shadow
