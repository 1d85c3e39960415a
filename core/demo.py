"""The demo log: a few days of simulated history, topped up when it has gone stale.

``prepare_demo`` backfills through the real router, the real ``anthropic`` client and the stand-in
API (``simulator.simulate``): cascade traffic with a share audited, plus a shadow batch so the
threshold analysis has pairs. ``live_traffic`` is what the demo keeps running while the app is open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from .reader import LogReader
from .settings import data_dir
from .simulator import SimulationProgress, simulate, simulate_live

DAY = 86_400.0
HISTORY_DAYS = 3.0
CASCADE_PER_DAY = 800  # requests a simulated day of history carries
SHADOW_SHARE = 0.15  # of backfilled requests, run in shadow mode to give the Thresholds screen pairs
AUDIT_SHARE = 0.05
STALE_AFTER = 3_600.0  # a log whose newest row is older than this gets the gap filled


def demo_db_path() -> Path:
    """The demo log in the per-user data folder (kept apart from your real log)."""
    return data_dir() / "demo.db"


class DemoBackfill(BaseModel):
    """What ``prepare_demo`` added."""

    requests: int
    days: float
    already_had: int


def prepare_demo(
    db_path: str | Path,
    *,
    now: float | None = None,
    seed: int = 0,
    fresh: bool = False,
    progress: Callable[[SimulationProgress], None] | None = None,
) -> DemoBackfill:
    """Give the demo log ``HISTORY_DAYS`` of history ending ``now``; top up only the gap if it has some."""
    path = Path(db_path)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    now = time.time() if now is None else now
    had, newest = 0, None
    if path.exists():
        with LogReader(path) as reader:
            summary = reader.summary()
            had, newest = summary.requests, summary.last_ts
    if newest is not None and now - newest < STALE_AFTER:
        return DemoBackfill(requests=0, days=0.0, already_had=had)
    days = HISTORY_DAYS if newest is None else min(HISTORY_DAYS, (now - newest) / DAY)
    total = max(50, int(CASCADE_PER_DAY * days))
    shadow = int(total * SHADOW_SHARE)
    # Shadow batch first: it spreads over the same window; the cascade run is what the charts show.
    simulate(
        requests=shadow, db_path=path, mode="shadow", days=days, seed=seed + 1, now=now, progress=progress
    )
    simulate(
        requests=total - shadow,
        db_path=path,
        mode="cascade",
        days=days,
        seed=seed,
        now=now,
        audit_share=AUDIT_SHARE,
        progress=progress,
    )
    return DemoBackfill(requests=total, days=days, already_had=had)


def live_traffic(
    db_path: str | Path, *, rate: float = 2.0, seed: int | None = None
) -> Callable[[threading.Event], None]:
    """A traffic source for the app: ``rate`` requests a second through the router until the event is set."""

    def run(stop: threading.Event) -> None:
        simulate_live(
            rate=rate, db_path=db_path, stop_event=stop, audit_share=AUDIT_SHARE, seed=seed, time_scale=1.0
        )

    return run
