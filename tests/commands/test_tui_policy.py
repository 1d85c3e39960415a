"""The Thresholds screen's guarantee fields, its `a` (apply to the settings file) and the accuracy
in production from audits."""

from __future__ import annotations

from conftest import DATE_FILE
from test_production import _request
from textual.widgets import Input, Static
from tui_helpers import make_app, settle

from routermon.core.log.importing import import_pairs
from routermon.core.log.store import CallLog
from routermon.core.settings import load_settings
from routermon.tui.screens.apply import ApplyScreen


async def _set(pilot, field_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    await pilot.pause()
    field.value = text
    await settle(pilot)
    pilot.app.screen.query_one("#sweep-table").focus()
    await pilot.pause()


async def test_loss_field_changes_the_guarantee_and_a_writes_it_to_the_settings(tmp_path, monkeypatch):
    db = tmp_path / "calls.db"
    import_pairs(DATE_FILE, db)
    config = tmp_path / "settings.toml"
    config.write_text("# ours\nthreshold = 0.7\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    app = make_app(db)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert screen.result.guarantee.max_loss == 0.01  # the settings' default
        await _set(pilot, "max-loss", "10")
        assert screen.result.guarantee.threshold == 0.85
        assert "loses at most 10.0 points" in str(screen.query_one("#guarantee", Static).render())
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ApplyScreen)
        assert "+date = 0.85" in app.screen.plan.diff()
        await pilot.press("n")
        await settle(pilot)
        assert config.read_text() == "# ours\nthreshold = 0.7\n"  # cancelled: nothing written
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    text = config.read_text()
    assert text.startswith("# ours\nthreshold = 0.7\n") and "date = 0.85 # loses at most 10.0 points" in text
    assert load_settings().thresholds == {"date": 0.85}


async def test_a_bad_confidence_is_said_in_the_screen_s_own_words(tmp_path):
    db = tmp_path / "calls.db"
    import_pairs(DATE_FILE, db)
    app = make_app(db)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await _set(pilot, "guarantee-confidence", "150")
        assert "The confidence must be between 1% and 99.99%" in str(
            app.screen.query_one("#recommendation", Static).render()
        )


async def test_accuracy_in_production_shows_with_audits(tmp_path):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(400):
            log.log_many(_request(n, 1000.0 + n, share=0.5, kept=True, right=n % 10 != 0, audited=n % 2 == 0))
    app = make_app(db)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        line = app.screen.query_one("#production", Static)
        assert line.display
        text = str(line.render())
        assert "In production: 80.0%" in text and "from 200 audits of 400 kept answers" in text


async def test_the_live_screen_shows_the_policy_s_alerts(tmp_path, monkeypatch):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(300):  # one kept answer in five wrong, every one audited: over any 1-point policy
            log.log_many(_request(n, 1000.0 + n, share=1.0, kept=True, right=n % 5 != 0, audited=True))
    app = make_app(db)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one("#live-alerts", Static)
        assert banner.display
        production = str(app.screen.query_one("#live-production", Static).render())
        assert (
            production.startswith("Right in production 80.0% (")
            and "from 300 audits of 300 kept" in production
        )
        assert "⚠ classify: loss at most" in str(banner.render()) and "over the policy's 1.0 point" in str(
            banner.render()
        )
    good = tmp_path / "good.db"
    with CallLog(good) as log:
        for n in range(300):
            log.log_many(_request(n, 1000.0 + n, share=1.0, kept=True, right=True, audited=True))
    app = make_app(good)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#live-alerts", Static).display


async def test_charts_drift_view_shows_each_task_s_audit_loss_bound(tmp_path):
    from routermon.tui.widgets.drift_chart import DriftChart

    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(400):  # good for 300 audits, then one in five wrong
            log.log_many(
                _request(n, 1000.0 + 60 * n, share=1.0, kept=True, right=n < 300 or n % 5 != 0, audited=True)
            )
    app = make_app(db)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        summary = str(app.screen.query_one("#drift-summary", Static).render())
        assert summary.startswith("⚠ classify: loss at most") and "over the policy's 1.0 point" in summary
        chart = app.screen.query_one(DriftChart)
        assert chart.display and chart._figures[0][0].alert
        rendered = str(chart.render())
        assert "Audit loss bound" in rendered
        await pilot.press("v")
        await settle(pilot)
        assert not chart.display and app.screen.query_one("#escalation-chart").display
