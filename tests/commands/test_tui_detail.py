"""The request detail view (Enter on a Live row, Escape back) and the Live table's order by time
and its wide columns."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_helpers import DETAIL_REQUEST, FIXED_NOW, add_detail_request, build_log, make_app, settle

from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.screens.detail import DetailScreen
from routermon.tui.screens.live import LiveScreen
from routermon.tui.widgets.calls_table import CallsTable
from routermon.tui.widgets.literal_table import LiteralTable


@pytest.fixture(scope="module")
def detail_log(tmp_path_factory):
    path = build_log(tmp_path_factory.mktemp("detail") / "calls.db", requests=80, seed=3)
    add_detail_request(path)
    return path


def _text(widget) -> str:
    return str(widget.render())


async def test_enter_opens_the_request_and_escape_returns(detail_log):
    app = make_app(detail_log)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CallsTable)
        assert table.has_focus
        # The judge call is the newest row; Enter on it opens the request it judged.
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.request_id == DETAIL_REQUEST
        calls = screen.query_one("#detail-calls", LiteralTable)
        cells = [[str(c).strip() for c in calls.get_row_at(i)] for i in range(calls.row_count)]
        assert [row[1] for row in cells] == ["cheap", "strong"]  # the judge call is not a call of it
        assert cells[1][5] == "320" and cells[0][9] == "low_confidence"
        assert cells[1][7] == "1.84s" and cells[0][8] == "0.41"
        assert "[b]refund[/b]" in _text(screen.query_one("#detail-input"))  # literal, not bold
        answers = [_text(w) for w in screen.query(".detail-answer")]
        assert '"label": "[red]review-needed[/red]"' in answers[0] and "unsafe" in answers[1]
        verdicts = _text(screen.query_one("#detail-verdicts", Static))
        assert "the strong answer is better" in verdicts and "by ana" in verdicts
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LiveScreen)


async def test_a_request_without_judge_or_label_says_so(detail_log):
    app = make_app(detail_log)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(DetailScreen("req_00000005"))
        await settle(pilot)
        verdicts = _text(app.screen.query_one("#detail-verdicts"))
        assert "not judged" in verdicts and "Human label: none" in verdicts
        app.push_screen(DetailScreen("req_nope"))
        await settle(pilot)
        assert "has no calls of request req_nope" in _text(app.screen.query_one("#detail-summary"))


async def test_live_table_is_newest_first_by_time_not_id(tmp_path):
    path = build_log(tmp_path / "calls.db", requests=20, seed=5)
    # Three rows logged in id order but not in time order, as concurrent writers do.
    with CallLog(path) as log:
        for n, ts in enumerate((FIXED_NOW - 2, FIXED_NOW - 1, FIXED_NOW - 3)):
            log.log(
                CallRecord(
                    ts=ts, request_id=f"late_{n}", task="classify", model="claude-haiku-4-5", role="cheap"
                )
            )
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CallsTable)
        times = [table._calls[row.key.value].ts for row in table.ordered_rows]
        assert times == sorted(times, reverse=True)
        top = [table._calls[row.key.value].request_id for row in table.ordered_rows[:3]]
        assert top == ["late_1", "late_0", "late_2"]


async def test_wide_table_adds_request_reason_and_input(detail_log):
    app = make_app(detail_log)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CallsTable)
        keys = [c.value for c in table.columns]
        assert keys[1] == "request" and keys[-1] == "input"
        row = {k.value: str(v) for k, v in zip(table.columns, table.get_row_at(2), strict=True)}
        assert row["request"].strip() == DETAIL_REQUEST and "low_confidence" in row["escalated"]
        assert "[b]refund[/b]" in row["input"]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "request" not in [c.value for c in table.columns]


async def test_names_that_look_like_markup_stay_literal(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as log:
        log.log(
            CallRecord(
                ts=FIXED_NOW, request_id="r[/]x", task="t[b]", model="m[/]odel", role="cheap",
                answer='"[/]"', input_preview="[link=x]y", final=True,
            )
        )  # fmt: skip
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        box = screen.query_one(".detail-answer")
        assert "m[/]odel" in str(box._border_title) and "[/]" in _text(box)
        assert "r[/]x" in _text(screen.query_one("#detail-title"))
        assert "[link=x]y" in _text(screen.query_one("#detail-input"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)])
async def test_live_table_fits_its_width_with_long_ids_and_tiny_costs(tmp_path, size):
    """Haiku 5.5 costs ($0.0000492) and 32-character simulated request ids: no side scroll."""
    path = tmp_path / "calls.db"
    with CallLog(path) as log:
        log.log_many(
            CallRecord(
                ts=FIXED_NOW - n, request_id=f"simb488ed7aa040_{n:016x}", task="summarize",
                model="claude-sonnet-5-5", role="strong", cost_usd=0.0000492, latency_ms=1450.0,
                escalated=True, escalation_reason="invalid_output", input_preview="x" * 80,
            )
            for n in range(30)
        )  # fmt: skip
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CallsTable)
        await pilot.pause()
        used = sum(column.get_render_width(table) for column in table.columns.values())
        assert used + 1 <= size[0]  # 1: the scrollbar
        row = [str(c) for c in table.get_row_at(0)]
        assert any("$0.0000492" in c for c in row) and any("1.45s" in c for c in row)
        if size[0] >= 120:
            assert any("invalid_output" in c for c in row)
            assert any(c.strip().endswith("0" * 10) for c in row)  # its tail at least


def test_the_live_table_shows_thinking_tokens_among_the_output():
    from routermon.core.log.records import CallRow
    from routermon.tui.widgets.calls_table import CallsTable

    row = CallRow(
        id=1,
        ts=1.0,
        request_id="r",
        task="classify",
        model="claude-sonnet-4-6",
        role="strong",
        input_tokens=828,
        output_tokens=130,
        thinking_tokens=45,
    )
    assert str(CallsTable.tokens_cell(row)) == " 828→130 t45"
    assert str(CallsTable.tokens_cell(row, wide=True)) == " 828→130 (45 thinking)"
    assert str(CallsTable.tokens_cell(row.model_copy(update={"thinking_tokens": 0}))) == " 828→130"
