"""routermon demo: history backfilled through the real router, topped up when stale, live traffic."""

from __future__ import annotations

import threading

from routermon.core.log.reader import LogReader
from routermon.core.simulate.demo import CASCADE_PER_DAY, HISTORY_DAYS, live_traffic, prepare_demo
from routermon.core.workspace import Workspace

NOW = 1_790_000_000.0


def test_backfill_gives_days_of_history_with_pairs_then_tops_up_only_the_gap(tmp_path):
    db = tmp_path / "demo.db"
    first = prepare_demo(db, routers=Workspace.load(), now=NOW, seed=3)
    assert first.requests == int(CASCADE_PER_DAY * HISTORY_DAYS)
    with LogReader(db) as reader:
        summary = reader.summary()
        modes = {r.mode for r in reader.recent_calls(5000)}
        roles = {r.role for r in reader.recent_calls(5000)}
    assert summary.requests == first.requests
    assert NOW - HISTORY_DAYS * 86_400 <= summary.first_ts < NOW - 2 * 86_400
    assert NOW - 3600 < summary.last_ts <= NOW
    assert {"cascade", "shadow"} <= modes and {"cheap", "shadow", "audit"} <= roles
    assert (
        prepare_demo(db, routers=Workspace.load(), now=NOW + 60).requests == 0
    )  # fresh enough: nothing added
    later = prepare_demo(db, routers=Workspace.load(), now=NOW + 0.5 * 86_400)
    assert later.already_had == summary.requests and 0 < later.requests < first.requests
    assert prepare_demo(db, routers=Workspace.load(), now=NOW, fresh=True).already_had == 0


def test_live_traffic_writes_until_stopped(tmp_path):
    db = tmp_path / "demo.db"
    stop = threading.Event()
    worker = threading.Thread(
        target=live_traffic(db, routers=Workspace.load(), rate=40, seed=1), args=(stop,)
    )
    worker.start()
    threading.Event().wait(1.5)
    stop.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
    with LogReader(db) as reader:
        assert reader.summary().requests >= 10


def test_the_demo_judges_its_summaries_and_a_reviewer_labels_spot_checks(tmp_path):
    from routermon.core.measure.judge_check import judge_checks
    from routermon.core.measure.pairs import load_pairs
    from routermon.core.measure.quality import load_task_quality
    from routermon.core.simulate.demo import DEMO_LABELS, DEMO_REVIEWER

    db = tmp_path / "demo.db"
    backfill = prepare_demo(db, routers=Workspace.load(), now=1_750_000_000.0, seed=3)
    assert backfill.labelled == DEMO_LABELS
    with LogReader(db) as reader:
        quality = {q.task: q for q in load_task_quality(reader)}
        labels = reader.human_labels()
        checks = judge_checks(load_pairs(reader))
    # Every task shows its cheap accuracy: summaries by the judge, extractions field by field.
    assert set(quality) == {"classify", "extract", "summarize"}
    assert all(q.pairs and q.unjudged == 0 for q in quality.values())
    assert quality["summarize"].sources.startswith("judge") and quality["extract"].sources.startswith("field")
    assert {label.labeller for label in labels.values()} == {DEMO_REVIEWER}
    # The judge against people rests on the random spot checks the reviewer labelled.
    (summaries,) = [c for c in checks if c.task == "summarize"]
    assert summaries.labelled >= 5 and summaries.ppi_low is not None
