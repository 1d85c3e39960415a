"""Pilot tests of the terminal app: screen keys, pause, filters, live rows, what-if and thresholds."""

from __future__ import annotations

import io
import random
import shutil
import sqlite3
import threading

import pytest
from rich.console import Console
from textual.widgets import Input, Select
from tui_helpers import FIXED_NOW, append_requests, build_log, make_app, request_records, settle

from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.core.measure import whatif
from routermon.core.measure.quality import load_task_quality
from routermon.core.simulate.simulator import simulate
from routermon.core.workspace import Workspace
from routermon.tui.screens.charts import ChartsScreen
from routermon.tui.screens.help import HelpScreen
from routermon.tui.screens.live import LiveScreen
from routermon.tui.screens.review import ReviewScreen
from routermon.tui.screens.tasks import TasksScreen
from routermon.tui.screens.thresholds import ThresholdsScreen
from routermon.tui.screens.whatif import WhatIfScreen
from routermon.tui.widgets.calls_table import CallsTable
from routermon.tui.widgets.sweep_table import SweepTable
from routermon.tui.widgets.tasks_table import TasksTable
from routermon.tui.widgets.whatif_results import WhatIfResults


@pytest.fixture(scope="module")
def fixture_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "calls.db"
    return build_log(path, requests=400, pairs=120, shadow_share=0.1)


@pytest.fixture()
def log_copy(fixture_log, tmp_path):
    """A private copy for tests that write to the log."""
    path = tmp_path / "calls.db"
    shutil.copy(fixture_log, path)
    return path


def _table_ids(app) -> list[int]:
    table = app.screen.query_one(CallsTable)
    return [int(row.key.value) for row in table.ordered_rows]  # display order


async def test_digit_keys_switch_screens_and_help_opens(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LiveScreen)
        for key, screen_type in (
            ("2", ChartsScreen),
            ("3", WhatIfScreen),
            ("4", ThresholdsScreen),
            ("5", TasksScreen),
            ("6", ReviewScreen),
            ("1", LiveScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_type), key
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_row_from_another_connection_appears_after_one_refresh(log_copy):
    app = make_app(log_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        before = app.monitor.figures()
        newest = max(_table_ids(app))
        written = append_requests(log_copy, 1, start=FIXED_NOW - 5)  # its own connection, as a router's
        await pilot.press("r")
        await settle(pilot)
        ids = _table_ids(app)
        assert max(ids) == newest + written
        assert ids[0] == max(ids)  # newest on top
        after = app.monitor.figures()
        assert after.requests == before.requests + 1
        assert after.calls == before.calls + written
        assert len(ids) <= app.table_rows


async def test_the_table_keeps_a_bounded_number_of_rows(log_copy):
    app = make_app(log_copy, table_rows=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert len(_table_ids(app)) == 50
        append_requests(log_copy, 80, start=FIXED_NOW - 100)
        await pilot.press("r")
        await settle(pilot)
        ids = _table_ids(app)
        assert len(ids) == 50 and max(ids) == app.monitor.last_id
        assert ids == sorted(ids, reverse=True)


async def test_pause_freezes_the_table_and_resume_catches_up(log_copy):
    app = make_app(log_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert app.screen.paused
        frozen = _table_ids(app)
        requests_before = app.monitor.figures().requests
        append_requests(log_copy, 3, start=FIXED_NOW - 10)
        await pilot.press("r")
        await settle(pilot)
        assert _table_ids(app) == frozen
        assert "PAUSED" in str(app.screen.query_one("#live-state").render())
        # Only the table pauses, as the footer says: the key figures keep moving.
        card = str(app.screen.query_one("#fig-requests").render())
        assert f"{requests_before + 3:,}" in card
        await pilot.press("p")
        await settle(pilot)
        assert not app.screen.paused
        assert max(_table_ids(app)) == app.monitor.last_id > max(frozen)


async def test_task_and_model_filters_apply(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        task_filter = screen.query_one("#task-filter", Select)
        assert [label for label, _ in task_filter._options if _ is not Select.NULL] == [
            "classify",
            "extract",
            "summarize",
        ]
        task_filter.value = "extract"
        await settle(pilot)
        table = screen.query_one(CallsTable)
        assert table.row_count > 0
        assert {str(table.get_cell(key, "task")).strip() for key in table.rows} == {"extract"}
        screen.query_one("#model-filter", Select).value = "claude-sonnet-4-5"
        await settle(pilot)
        cells = {
            (str(table.get_cell(k, "task")).strip(), str(table.get_cell(k, "model")).strip())
            for k in table.rows
        }
        assert cells == {("extract", "sonnet-4-5")}
        await pilot.press("escape")
        await settle(pilot)
        assert {str(table.get_cell(k, "task")).strip() for k in table.rows} == {
            "classify",
            "extract",
            "summarize",
        }


async def test_chart_window_keys(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert screen.window == "day"
        for key, window in (("h", "hour"), ("w", "week"), ("a", "all"), ("d", "day")):
            await pilot.press(key)
            await pilot.pause()
            assert screen.window == window
            assert f"{key} {window}" in str(screen.query_one("#charts-window").render())


async def test_tasks_screen_matches_the_reader(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one(TasksTable)
        with LogReader(fixture_log) as reader:
            expected = reader.per_task()
        assert [k.value for k in table.rows] == [s.key for s in expected] + ["__total__"]
        first = expected[0]
        assert str(table.get_cell(first.key, "requests")) == f"{first.cascade_requests:,}"
        # The cheap accuracy is the paired outcomes' (imports and shadow traffic), with their count.
        with LogReader(fixture_log) as reader:
            quality = {q.task: q for q in load_task_quality(reader)}[first.key]
        assert quality.pairs > first.cheap_judged > 0
        cell = str(table.get_cell(first.key, "accuracy"))
        assert cell == f"{quality.cheap_accuracy * 100:.1f}% of {quality.pairs}"
        note = str(app.screen.query_one("#tasks-note").render())
        assert f"{first.key}: {quality.cheap_accuracy * 100:.1f}% right (95% CI" in note


async def test_whatif_recomputes_as_you_type_and_marks_bad_input(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        first = screen.result
        assert first is not None and first.inputs.monthly_requests == 1_000_000
        volume = screen.query_one("#monthly-requests", Input)
        volume.focus()
        await pilot.pause()  # select_on_focus: typing replaces the old value
        await pilot.press(*"2,000,000")
        await pilot.pause()
        assert screen.result.inputs.monthly_requests == 2_000_000
        assert screen.result.always_strong_usd == pytest.approx(2 * first.always_strong_usd)
        await pilot.press("end", "x")
        await pilot.pause()
        assert screen.result is None
        assert volume.has_class("-invalid")
        assert "must be a number" in str(screen.query_one("#whatif-message").render())
        results = screen.query_one(WhatIfResults)
        assert results.has_class("-stale")  # the last valid figures stay, dimmed
        assert results.shown.inputs.monthly_requests == 2_000_000
        share = screen.query_one("#cheap-share", Input)
        volume.value = "1k"
        share.value = "150"
        await pilot.pause()
        assert screen.result is None and share.has_class("-invalid")
        share.value = "90"
        await pilot.pause()
        assert screen.result.inputs.cheap_share == pytest.approx(0.9)
        assert screen.result.inputs.monthly_requests == 1000


async def test_whatif_uses_observed_traffic(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        result = app.screen.result
        with LogReader(fixture_log) as reader:
            summary = reader.summary(FIXED_NOW - 7 * 86400, FIXED_NOW)
        assert result.inputs.cheap_model == "claude-haiku-4-5"
        assert result.inputs.strong_model == "claude-sonnet-4-5"
        # Over the days the log covers of the seven (it is younger than a week).
        covered = result.inputs.observed.covered_days
        assert covered < 7
        assert result.inputs.monthly_requests == pytest.approx(summary.requests / covered * 30, rel=1e-3)
        assert result.inputs.cheap_share == pytest.approx(1 - summary.escalation_share, abs=1e-3)


def _plain(renderable) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


@pytest.fixture()
def audited_log(tmp_path):
    """Simulated cascade traffic over the week before FIXED_NOW, a fifth of the kept answers audited."""
    path = tmp_path / "calls.db"
    simulate(
        routers=Workspace.load(), requests=400, db_path=path, days=7, seed=2, now=FIXED_NOW, audit_share=0.2
    )
    return path


async def test_whatif_observed_traffic_prices_the_month_as_the_command_does(audited_log):
    # A log with audits and escalated requests longer than most: the form shows rounded figures
    # and has no field for the escalated or audit sizes, yet the month must come out as
    # `routermon whatif --from-log` prices it, until a field is changed.
    path = audited_log
    with LogReader(path) as reader:
        expected = whatif.project(whatif.from_log(reader, days=7, now=FIXED_NOW))
    assert expected.audit_usd > 0 and expected.inputs.escalated_input_tokens is not None
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        screen = app.screen
        assert screen.result.inputs == expected.inputs
        assert screen.result.cascade_usd == pytest.approx(expected.cascade_usd, rel=1e-12)
        audit_field = screen.query_one("#audit-share", Input)
        assert audit_field.value == f"{expected.inputs.audit_share:.1%}"
        assert "of which audits" in _plain(screen.query_one(WhatIfResults).content)
        # A typed input size applies to every call; the observed output sizes still apply.
        screen.query_one("#input-tokens", Input).value = "500"
        await pilot.pause()
        inputs = screen.result.inputs
        assert inputs.input_tokens == 500
        assert inputs.escalated_input_tokens is None and inputs.audit_input_tokens is None
        assert inputs.cached_input_share == 0.0
        assert inputs.escalated_output_tokens == expected.inputs.escalated_output_tokens
        assert inputs.monthly_requests == expected.inputs.monthly_requests  # unchanged field: exact
        audit_field.value = "0"
        await pilot.pause()
        assert screen.result.audit_usd == 0.0
        assert "of which audits" not in _plain(screen.query_one(WhatIfResults).content)


async def test_thresholds_recommendation_follows_the_target(fixture_log):
    app = make_app(fixture_log)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert screen.result is not None and screen.result.pairs > 120
        default_pick = screen.result.recommended
        target = screen.query_one("#target-accuracy", Input)
        target.value = "99.9"
        await pilot.pause()
        assert screen.result.recommended.threshold is None
        assert "No threshold reaches" in str(screen.query_one("#recommendation").render())
        target.value = f"{screen.result.cheap_only.accuracy * 100:.1f}"
        await pilot.pause()
        low = screen.result.recommended
        assert low.met and (default_pick.threshold is None or low.threshold <= default_pick.threshold)
        screen.query_one("#pairs-task", Select).value = "classify"
        await pilot.pause()
        assert screen.result.task == "classify"
        assert screen.result.pairs < screen.table.scope().n


async def test_sweep_table_scrollbar_follows_a_scroll_made_before_it_appeared(fixture_log):
    # The rows and the cursor can land before the layout that shows the scrollbar (the order
    # varies with timing); the thumb must then still sit where the rows are scrolled to.
    app = make_app(fixture_log)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one(SweepTable)
        assert table.show_vertical_scrollbar and table.max_scroll_y > 0
        assert table.vertical_scrollbar.position == table.scroll_y > 0
        table.show_vertical_scrollbar = False
        table.scroll_to(y=0, animate=False, immediate=True)  # the thumb does not move: no bar
        table.scroll_to(y=table.max_scroll_y, animate=False, immediate=True)
        table.vertical_scrollbar.position = 0  # where Textual leaves it when it was hidden
        table.show_vertical_scrollbar = True
        await pilot.pause()
        assert table.vertical_scrollbar.position == table.scroll_y > 0


async def test_empty_log_and_no_pairs_say_what_to_do(tmp_path):
    path = tmp_path / "calls.db"
    CallLog(path).close()
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#live-empty").display
        assert "routermon demo" in str(app.screen.query_one("#live-empty").render())
        await pilot.press("4")
        await settle(pilot)
        empty = app.screen.query_one("#thresholds-empty")
        assert empty.display and "routermon shadow" in str(empty.render())


async def test_a_log_that_breaks_while_open_shows_a_message(log_copy):
    app = make_app(log_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.monitor.reader.close()  # as if the file went away under us
        await pilot.press("r")
        await settle(pilot)
        assert app.status_error
        assert "is closed" in app.status
        assert isinstance(app.screen, LiveScreen)  # still running


async def test_polls_reschedule_themselves(log_copy):
    app = make_app(log_copy, poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = app.monitor.last_id
        append_requests(log_copy, 2, start=FIXED_NOW - 5)
        for _ in range(100):
            await pilot.pause(0.05)
            if app.monitor.last_id > first:
                break
        assert app.monitor.last_id > first
        assert app._poll_timer is not None  # the next poll is already scheduled


async def test_traffic_source_runs_until_the_app_exits(log_copy):
    stopped = threading.Event()

    def traffic(stop: threading.Event) -> None:
        n = 0
        with CallLog(log_copy) as log:
            while not stop.wait(0.02):
                log.log_many(request_records(random.Random(n), FIXED_NOW - 1, 9 * 10**6 + n))
                n += 1
        stopped.set()

    app = make_app(log_copy, poll_interval=0.05, traffic=traffic)
    async with app.run_test(size=(100, 30)) as pilot:
        start = None
        for _ in range(200):
            await pilot.pause(0.05)
            if app.monitor is not None:
                start = start or app.monitor.last_id
                if app.monitor.last_id > start:
                    break
        assert app.monitor.last_id > start
        await pilot.press("q")
    assert stopped.wait(5)


# -- starting the app: files that cannot be opened ---------------------------------------------


def _run_app_error(db, capsys) -> str:
    from routermon.core.workspace import Workspace
    from routermon.tui.launch import run_app

    with pytest.raises(SystemExit) as exit_info:
        run_app(Workspace.load(db=str(db)))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("routermon: ") and "Traceback" not in err
    assert err.count("\n") == 1
    return err


def test_run_app_refuses_unusable_files(tmp_path, capsys):
    assert "no call log" in _run_app_error(tmp_path / "missing.db", capsys)
    assert "is a directory" in _run_app_error(tmp_path, capsys)
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    assert "not a routermon database" in _run_app_error(tmp_path / "junk.db", capsys)
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    assert "not a routermon call log" in _run_app_error(tmp_path / "other.db", capsys)


def test_run_app_reports_a_locked_log(tmp_path, capsys, monkeypatch):
    import routermon.core.log.db as db

    path = tmp_path / "calls.db"
    CallLog(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    try:
        assert "is locked" in _run_app_error(path, capsys)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_modes_keys_nav_bar_and_help_all_come_from_the_one_list_of_screens():
    from routermon.tui.app import RoutermonApp
    from routermon.tui.screens import SCREENS
    from routermon.tui.screens.help import help_text

    assert list(RoutermonApp.MODES) == [s.MODE for s in SCREENS]
    digits = [b for b in RoutermonApp.BINDINGS if b.key.isdigit()]
    assert [(b.key, b.description) for b in digits] == [(str(n), s.TITLE) for n, s in enumerate(SCREENS, 1)]
    assert RoutermonApp.SCREEN_TITLES == tuple((s.MODE, s.TITLE) for s in SCREENS)
    page = help_text(SCREENS)
    assert f"`1`–`{len(SCREENS)}`" in page
    for n, screen in enumerate(SCREENS, start=1):
        assert screen.TITLE and screen.HELP
        assert f"**{n} {screen.TITLE}**: {screen.HELP}" in page


async def test_every_screen_opens_and_a_new_row_appears_on_either_backend(log_db):
    """The app on a SQLite file and on a PostgreSQL log (``conftest.backend``): every screen opens,
    and a row a router logs from its own connection shows after one refresh."""
    build_log(log_db, requests=120, pairs=30, shadow_share=0.1)
    app = make_app(log_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key, screen_type in (
            ("2", ChartsScreen),
            ("3", WhatIfScreen),
            ("4", ThresholdsScreen),
            ("5", TasksScreen),
            ("6", ReviewScreen),
            ("1", LiveScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_type), key
        newest = max(_table_ids(app))
        written = append_requests(log_db, 1, start=FIXED_NOW - 5)
        await pilot.press("r")
        await settle(pilot)
        assert max(_table_ids(app)) == newest + written
        await pilot.press("q")
    assert app.return_code == 0


async def test_sweep_table_shows_the_rows_the_thresholds_command_shows(fixture_log):
    """One rule for the sweep rows (``analysis.table_rows``), the guaranteed threshold's row too."""
    from textual.app import App

    from routermon.core.measure.analysis import CLI_MAX_ROWS, CLI_ROW_STEP, analyse, shown_rows

    with LogReader(fixture_log) as reader:
        swept = analyse(reader)
    assert len(swept.rows) > CLI_MAX_ROWS
    off_grid = next(r.threshold for r in swept.rows if not round(r.threshold / CLI_ROW_STEP, 6).is_integer())
    result = swept.model_copy(
        update={"guarantee": swept.guarantee.model_copy(update={"threshold": off_grid})}
    )

    class TableApp(App):
        def compose(self):
            yield SweepTable()

    app = TableApp()
    async with app.run_test(size=(100, 30)):
        table = app.query_one(SweepTable)
        table.show(result)
        keys = [row.key.value for row in table.ordered_rows]
    cli = shown_rows(result, step=CLI_ROW_STEP, max_rows=CLI_MAX_ROWS)
    assert keys == ["cheap_only", *[f"t{r.threshold!r}" for r in cli], "strong_only"]
    assert f"t{off_grid!r}" in keys  # was left out: off the 0.05 grid


def test_text_names_screens_by_the_keys_of_the_one_screen_list(monkeypatch):
    """The Live screen's text takes the screens' digit keys from ``screens.SCREENS``."""
    from routermon.tui import screens
    from routermon.tui.screens.live import no_traffic_text

    assert "Thresholds (4), Tasks (5) and Review (6) screens" in no_traffic_text(3)
    reordered = (LiveScreen, ReviewScreen, TasksScreen, ThresholdsScreen, ChartsScreen, WhatIfScreen)
    monkeypatch.setattr(screens, "SCREENS", reordered)
    text = no_traffic_text(1)
    assert "it holds 1 imported pair," in text
    assert "Thresholds (4), Tasks (3) and Review (2) screens" in text  # was the numbers typed in
