"""routermon demo: history backfilled through the real router, topped up when stale, live traffic."""

from __future__ import annotations

import threading

from routermon.core.demo import CASCADE_PER_DAY, HISTORY_DAYS, live_traffic, prepare_demo
from routermon.core.reader import LogReader

NOW = 1_790_000_000.0


def test_backfill_gives_days_of_history_with_pairs_then_tops_up_only_the_gap(tmp_path):
    db = tmp_path / "demo.db"
    first = prepare_demo(db, now=NOW, seed=3)
    assert first.requests == int(CASCADE_PER_DAY * HISTORY_DAYS)
    with LogReader(db) as reader:
        summary = reader.summary()
        modes = {r.mode for r in reader.recent_calls(5000)}
        roles = {r.role for r in reader.recent_calls(5000)}
    assert summary.requests == first.requests
    assert NOW - HISTORY_DAYS * 86_400 <= summary.first_ts < NOW - 2 * 86_400
    assert NOW - 3600 < summary.last_ts <= NOW
    assert {"cascade", "shadow"} <= modes and {"cheap", "shadow", "audit"} <= roles
    assert prepare_demo(db, now=NOW + 60).requests == 0  # fresh enough: nothing added
    later = prepare_demo(db, now=NOW + 0.5 * 86_400)
    assert later.already_had == summary.requests and 0 < later.requests < first.requests
    assert prepare_demo(db, now=NOW, fresh=True).already_had == 0


def test_live_traffic_writes_until_stopped(tmp_path):
    db = tmp_path / "demo.db"
    stop = threading.Event()
    worker = threading.Thread(target=live_traffic(db, rate=40, seed=1), args=(stop,))
    worker.start()
    threading.Event().wait(1.5)
    stop.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
    with LogReader(db) as reader:
        assert reader.summary().requests >= 10
