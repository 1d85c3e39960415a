"""The Review screen: snapshots at 80x24 and 120x40 on a log built here (fixed clock and seed), its
empty state, and pressing a key stores a label and moves on (``--snapshot-update`` to accept
changes, after looking at them)."""

from __future__ import annotations

import pytest
from review_helpers import build_review_log
from tui_helpers import FIXED_NOW, make_app, settle

from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog

SIZES = [(80, 24), (120, 40)]
SETTINGS = {"labeller": "alice"}


@pytest.fixture
def review_log(tmp_path):
    """A fresh log per test: the tests that press keys write labels to it."""
    return build_review_log(tmp_path / "calls.db", pairs=60)


def _review(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


class TestReviewScreen:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_first_pair(self, snap_compare, review_log, size):
        """The most useful pair first: position, why, input, both answers side by side, the judge."""
        app = make_app(review_log, settings=SETTINGS)
        assert snap_compare(app, run_before=_review(), terminal_size=size)

    def test_structured_pair_after_a_label(self, snap_compare, review_log, monkeypatch):
        """After ``c`` and a skip, the third pair (an extraction: fields one a line, ``≠`` where
        they differ) and the status line saying what was stored, by whom and when (spot checks
        left out, so the queue is the one the first label came from)."""
        from routermon.core.measure import spotcheck as judge_check_module

        monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: False)
        app = make_app(review_log, settings=SETTINGS)
        assert snap_compare(app, run_before=_review("c", "right"), terminal_size=(80, 24))

    def test_empty_log(self, snap_compare, tmp_path):
        """No pairs: how to get some."""
        path = tmp_path / "calls.db"
        CallLog(path).close()
        assert snap_compare(make_app(path, settings=SETTINGS), run_before=_review(), terminal_size=(80, 24))


async def test_c_stores_a_label_and_moves_on(review_log):
    """``c`` stores "cheap" for the pair on screen, by the settings' labeller at the app's clock,
    and shows the next pair; ``←`` goes back to it and ``s`` stores a second label, which counts."""
    app = make_app(review_log, settings=SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await _review()(pilot)
        screen = app.screen
        first, second = (item.pair.request_id for item in screen.queue.items[:2])
        total = screen.queue.worth_a_look
        await pilot.press("c")
        await settle(pilot)
        assert screen.item.pair.request_id == second
        head = str(screen.query_one("#review-head").render())
        assert head.startswith(f"2 of {total}")
        assert f"Stored {first}: cheap right by alice at 12:00:00 UTC" in str(
            screen.query_one("#review-status").render()
        )
        with LogReader(review_log) as reader:
            stored = reader.human_labels()[first]
        assert (stored.label, stored.labeller, stored.ts, stored.source) == (
            "cheap",
            "alice",
            FIXED_NOW,
            "review",
        )
        await pilot.press("space", "right", "left", "left", "left")
        await settle(pilot)
        assert screen.item.pair.request_id == first and "you said: cheap right" in str(
            screen.query_one("#review-verdict").render()
        )
        await pilot.press("s")
        await settle(pilot)
        with LogReader(review_log) as reader:
            assert reader.human_labels()[first].label == "strong"
            assert len(reader.human_labels()) == 1


async def test_thresholds_screen_shows_the_judge_against_people(review_log, monkeypatch):
    from routermon.core.measure import spotcheck as judge_check_module

    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: True)
    """With labelled judged pairs, the Thresholds screen says how far the judge agrees with people
    and the corrected cheap accuracy, and what it rests on; without, the line is hidden."""
    from routermon.core.measure.review import label_pair

    async with make_app(review_log).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert not pilot.app.screen.query_one("#judge-check").display
    for request_id, label in (("req_0002", "cheap"), ("req_0005", "strong"), ("req_0008", "neither")):
        label_pair(review_log, request_id, label, labeller="alice")
    async with make_app(review_log).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        line = pilot.app.screen.query_one("#judge-check")
        text = str(line.render())
        assert line.display and text.startswith("Judge vs people: ")
        assert "agree of 3" in text and "judge on 20 pairs, corrected by 3 human labels" in text
