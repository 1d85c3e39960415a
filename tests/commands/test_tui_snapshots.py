"""Snapshot tests of every screen at 80x24 and 120x40, the empty states and the what-if screen after
typing, on logs built here with a fixed clock and seed (``--snapshot-update`` to accept changes,
after looking at them)."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from tui_helpers import add_detail_request, build_log, make_app, settle

from routermon.core.log.store import CallLog

SIZES = [(80, 24), (120, 40)]
SCREENS = {"live": "1", "charts": "2", "whatif": "3", "thresholds": "4", "tasks": "5"}


@pytest.fixture(scope="module")
def fixture_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "calls.db"
    return build_log(path, requests=600, pairs=150, shadow_share=0.1, hours=24 * 10)


@pytest.fixture(scope="module")
def empty_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "calls.db"
    CallLog(path).close()
    return path


@pytest.fixture(scope="module")
def imported_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("imported") / "calls.db"
    return build_log(path, requests=0, pairs=150)


def _go(key: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, fixture_log, screen, size):
    assert snap_compare(make_app(fixture_log), run_before=_go(SCREENS[screen]), terminal_size=size)


@pytest.mark.parametrize("screen", ["live", "charts", "thresholds", "tasks"])
def test_empty_log(snap_compare, empty_log, screen):
    assert snap_compare(make_app(empty_log), run_before=_go(SCREENS[screen]), terminal_size=(80, 24))


def _type_whatif(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        pilot.app.screen.query_one("#monthly-requests", Input).focus()
        await pilot.pause()
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_whatif_after_typing(snap_compare, fixture_log):
    keys = (*"250k", "tab", *"85", "tab", *"1200", "tab", *"300")
    assert snap_compare(make_app(fixture_log), run_before=_type_whatif(*keys), terminal_size=(100, 30))


def test_whatif_invalid_field(snap_compare, fixture_log):
    keys = (*"250k", "tab", *"85", "tab", *"1200", "tab", *"3x0")  # the last one does not parse
    assert snap_compare(make_app(fixture_log), run_before=_type_whatif(*keys), terminal_size=(80, 24))


def test_help(snap_compare, fixture_log):
    assert snap_compare(make_app(fixture_log), run_before=_go("question_mark"), terminal_size=(80, 24))


@pytest.fixture(scope="module")
def detail_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("detail") / "calls.db"
    build_log(path, requests=200, seed=11, hours=24)
    add_detail_request(path)  # the newest rows: an escalated, judged and labelled request
    return path


class TestDetail:
    """The request detail view, opened with Enter on a Live row."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_detail(self, snap_compare, detail_log, size):
        """Enter on the second row (the strong call): both calls with thinking tokens, the input
        with markup-like text shown literally, both answers side by side, the judge's verdict and
        the human label."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("down", "enter")
            await settle(pilot)

        assert snap_compare(make_app(detail_log), run_before=run_before, terminal_size=size)

    def test_live_wide(self, snap_compare, detail_log):
        """The Live table at 160x48: request id, the reason in full and the input preview."""
        assert snap_compare(make_app(detail_log), run_before=_go("1"), terminal_size=(160, 48))


@pytest.mark.parametrize("screen", ["live", "charts", "thresholds", "tasks"])
def test_import_only_log(snap_compare, imported_log, screen):
    """A log made by `routermon import`: no traffic, and each screen says what it holds instead."""
    assert snap_compare(make_app(imported_log), run_before=_go(SCREENS[screen]), terminal_size=(80, 24))
