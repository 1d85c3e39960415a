"""The routing policy: a threshold per task from the settings' [thresholds] table, applied by the
router and recorded on every request it routes, with the audit share in force."""

from __future__ import annotations

import pytest

from routermon.core.errors import ConfigError
from routermon.core.log.reader import LogReader
from routermon.core.route.router import Router, Tier
from routermon.core.settings import load_settings
from routermon.core.simulate.standin import StandInAPI
from routermon.core.workspace import Workspace

CHEAP, STRONG = "claude-haiku-4-5", "claude-sonnet-4-5"


def _rows(db):
    with LogReader(db) as reader:
        return reader.calls_after(0)


def test_settings_thresholds_route_each_task_by_its_own_and_every_request_records_it(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    # A threshold above every confidence escalates every request; 0 keeps every answer.
    config.write_text("threshold = 0.0\naudit_share = 0.25\n\n[thresholds]\nclassify = 1.0\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    db = tmp_path / "calls.db"
    workspace = Workspace(load_settings(), db=db)
    with workspace.router(stand_in=True, seed=1, cheap_model=CHEAP, strong_model=STRONG) as router:
        assert router.thresholds_for("classify") == (1.0,) and router.thresholds_for("summarize") == (0.0,)
        for i in range(6):
            router.route_sync("classify", f"text {i}", labels=["a", "b"])
            router.route_sync("summarize", f"Some longer text number {i} to summarise for the test.")
    rows = _rows(db)
    cheap = [r for r in rows if r.role == "cheap"]
    assert {(r.task, r.threshold) for r in cheap} == {("classify", 1.0), ("summarize", 0.0)}
    assert all(r.escalated for r in cheap if r.task == "classify" and r.error_type is None)
    assert not any(r.escalation_reason == "low_confidence" for r in cheap if r.task == "summarize")
    # The last tier is always kept: no threshold. Every cascade row records the audit share in force.
    assert {r.threshold for r in rows if r.role in ("strong", "audit")} <= {None}
    assert {r.audit_share for r in rows} == {0.25}


def test_a_threshold_given_for_the_run_wins_over_the_policy(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text("[thresholds]\nclassify = 1.0\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    workspace = Workspace(load_settings(), db=tmp_path / "calls.db")
    with workspace.router(stand_in=True, threshold=0.3, cheap_model=CHEAP, strong_model=STRONG) as router:
        assert router.thresholds_for("classify") == (0.3,)


def test_policy_for_longer_cascades_and_bad_values(tmp_path):
    api = StandInAPI(seed=0)
    tiers = (Tier(CHEAP, 0.6), Tier(STRONG, 0.8), Tier("claude-opus-4-5"))
    router = Router(tiers=tiers, client=api.client(), task_thresholds={"a": 0.9, "b": [0.5, 0.4]})
    assert router.thresholds_for("a") == (0.9, 0.8)  # one number: the first tier's
    assert router.thresholds_for("b") == (0.5, 0.4)
    assert router.thresholds_for("c") == (0.6, 0.8)
    with pytest.raises(ConfigError, match="task 'x' must be between 0 and 1"):
        Router(tiers=tiers, client=api.client(), task_thresholds={"x": 1.5})
    with pytest.raises(ConfigError, match="1 to 2 thresholds"):
        Router(tiers=tiers, client=api.client(), task_thresholds={"x": [0.1, 0.2, 0.3]})


def test_a_bad_threshold_in_the_settings_table_names_it(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text("[thresholds]\nclassify = 2\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    with pytest.raises(ConfigError, match=r"thresholds\.classify"):
        load_settings()


SETTINGS_WITH_COMMENTS = """# team settings: keep this comment
threshold = 0.7  # the default for tasks without their own

[prices."x"]   # a fine-tune
input_mtok = 1.0
output_mtok = 2.0
"""


def _apply(tmp_path, monkeypatch, *args):
    from click.testing import CliRunner
    from conftest import DATE_FILE

    from routermon.core.log.importing import import_pairs
    from routermon.tui.cli import main

    db = tmp_path / "calls.db"
    if not db.exists():
        import_pairs(DATE_FILE, db)
    monkeypatch.setenv("ROUTERMON_CONFIG", str(tmp_path / "settings.toml"))
    return CliRunner().invoke(main, ["--db", str(db), "thresholds", *args], catch_exceptions=False)


def test_thresholds_apply_writes_the_guarantee_and_keeps_the_file_as_it_was(tmp_path, monkeypatch):
    import json

    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS_WITH_COMMENTS)
    refused = _apply(tmp_path, monkeypatch, "--max-loss", "0.1", "--apply")
    assert refused.exit_code == 2 and "Pass --yes" in refused.stderr
    assert config.read_text() == SETTINGS_WITH_COMMENTS  # not a tty, not asked, nothing written
    result = _apply(tmp_path, monkeypatch, "--max-loss", "0.1", "--apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["written"] and out["thresholds"] == {"date": 0.85}
    assert "+date = 0.85" in result.stderr  # the diff is shown
    text = config.read_text()
    assert text.startswith(SETTINGS_WITH_COMMENTS)  # every line and comment kept
    assert "date = 0.85 # loses at most 10.0 points against always-strong with 95% confidence" in text
    assert load_settings().thresholds == {"date": 0.85}
    again = _apply(tmp_path, monkeypatch, "--max-loss", "0.1", "--apply", "--yes")
    assert again.exit_code == 0 and "nothing to write" in again.stderr


def test_thresholds_apply_without_a_guarantee_writes_nothing(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS_WITH_COMMENTS)
    result = _apply(tmp_path, monkeypatch, "--max-loss", "0.001", "--apply", "--yes")
    assert result.exit_code == 2
    assert "date: not applied: No threshold is guaranteed" in result.stderr
    assert "nothing was written" in result.stderr
    assert config.read_text() == SETTINGS_WITH_COMMENTS


def test_plan_thresholds_on_a_missing_file_and_a_broken_one(tmp_path):
    from routermon.core.measure.policy import plan_thresholds, write_settings

    plan = plan_thresholds(tmp_path / "new" / "settings.toml", {"classify": 0.8})
    assert plan.old_text == "" and plan.changes == {"classify": (None, 0.8)}
    write_settings(plan)
    written = tmp_path / "new" / "settings.toml"
    assert (written.stat().st_mode & 0o777) == 0o600
    assert "classify = 0.8" in written.read_text()
    broken = tmp_path / "broken.toml"
    broken.write_text("threshold = = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        plan_thresholds(broken, {"classify": 0.8})
