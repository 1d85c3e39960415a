"""The demo log: a few days of simulated history, topped up when it has gone stale.

``prepare_demo`` backfills through the real router, the real ``anthropic`` client and the stand-in
API (``simulator.simulate``): cascade traffic with a share audited, plus a shadow batch so the
threshold analysis has pairs (its summaries judged by the stand-in judge as they are made), and a
reviewer's labels on two dozen pairs of the review queue, so every screen shows every task's cheap
accuracy and the judge against people. ``live_traffic`` is what the demo keeps running while the
app is open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from ..compare import answers_match, loads_answer, values_agree
from ..log.db import log_exists, log_location
from ..log.reader import LogReader
from ..log.records import HumanLabel
from ..log.store import add_labels
from ..measure.analysis import DEFAULT_THRESHOLD
from ..measure.pairs import Pair
from ..measure.review import load_review_queue
from ..settings import data_dir
from .simtext import invoice_fields, keeps_facts, key_facts
from .simulator import RouterSource, SimulationProgress, simulate, simulate_live

DAY = 86_400.0
HISTORY_DAYS = 3.0
CASCADE_PER_DAY = 800  # requests a simulated day of history carries
SHADOW_SHARE = 0.15  # of backfilled requests, run in shadow mode to give the Thresholds screen pairs
AUDIT_SHARE = 0.05
STALE_AFTER = 3_600.0  # a log whose newest row is older than this gets the gap filled
DEMO_LABELS = 24  # pairs of the review queue the demo's reviewer labels
DEMO_REVIEWER = "demo-reviewer"


def demo_db_path() -> Path:
    """The demo log in the per-user data folder (kept apart from your real log)."""
    return data_dir() / "demo.db"


class DemoBackfill(BaseModel):
    """What ``prepare_demo`` added."""

    requests: int
    days: float
    already_had: int
    labelled: int = 0  # pairs the demo's reviewer labelled


def prepare_demo(
    db_path: str | Path,
    *,
    now: float | None = None,
    seed: int = 0,
    fresh: bool = False,
    progress: Callable[[SimulationProgress], None] | None = None,
    routers: RouterSource,
    label: bool = True,
) -> DemoBackfill:
    """Give the demo log ``HISTORY_DAYS`` of history ending ``now``; top up only the gap if it has some.

    ``routers`` (the ``Workspace``) builds the routers, the stand-in and the judge (its
    ``judge_model()``), so the settings apply to the demo's traffic as to any other. ``label``:
    a new log also gets the demo reviewer's labels."""
    path = log_location(db_path)
    if fresh and isinstance(path, Path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    now = time.time() if now is None else now
    had, newest = 0, None
    if log_exists(path):
        with LogReader(path) as reader:
            summary = reader.summary()
            had, newest = summary.requests, summary.last_ts
    if newest is not None and now - newest < STALE_AFTER:
        return DemoBackfill(requests=0, days=0.0, already_had=had)
    days = HISTORY_DAYS if newest is None else min(HISTORY_DAYS, (now - newest) / DAY)
    total = max(50, int(CASCADE_PER_DAY * days))
    shadow = int(total * SHADOW_SHARE)
    # Shadow batch first: it spreads over the same window; the cascade run is what the charts show.
    # Its summaries are judged as they are made (the stand-in judge), and its inputs kept whole so
    # the Review screen shows them and the demo's reviewer can label by them.
    judge_model = routers.judge_model()
    simulate(
        routers=routers,
        requests=shadow,
        db_path=path,
        mode="shadow",
        days=days,
        seed=seed + 1,
        now=now,
        progress=progress,
        judge_model=judge_model,
        store_inputs="full",
    )
    simulate(
        routers=routers,
        requests=total - shadow,
        db_path=path,
        mode="cascade",
        days=days,
        seed=seed,
        now=now,
        audit_share=AUDIT_SHARE,
        progress=progress,
        judge_model=judge_model,  # audited summaries are judged as they are made
    )
    labelled = label_demo_pairs(path, now=now) if newest is None and label else 0
    return DemoBackfill(requests=total, days=days, already_had=had, labelled=labelled)


def truth(pair: Pair, text: str | None) -> str | None:
    """What a careful reviewer says of a demo pair, from what the synthetic input states: which
    answer is right (``records.HUMAN_LABELS``), or ``None`` when the input is not known in full."""
    if text is None:
        return None
    cheap, strong = loads_answer(pair.cheap_answer), loads_answer(pair.strong_answer)
    if pair.task == "summarize":
        facts = key_facts(text)
        right = [isinstance(a, str) and keeps_facts(a, facts) for a in (cheap, strong)]
    elif pair.task == "extract":
        fields = invoice_fields(text)
        if not fields:
            return None
        right = [
            isinstance(a, dict) and all(values_agree(a.get(k), v) for k, v in fields.items())
            for a in (cheap, strong)
        ]
    elif pair.reference is not None:
        right = [answers_match(a, loads_answer(pair.reference)) for a in (cheap, strong)]
    else:
        return None
    return {(True, True): "both", (True, False): "cheap", (False, True): "strong"}.get(
        tuple(right), "neither"
    )


def label_demo_pairs(db_path: str | Path, *, now: float, count: int = DEMO_LABELS) -> int:
    """Label the first ``count`` pairs of the review queue as a careful reviewer would (``truth``),
    so the demo shows the judge against people; the number stored."""
    path = log_location(db_path)
    with LogReader(path) as reader:
        queue = load_review_queue(reader, threshold=DEFAULT_THRESHOLD, limit=count * 3)
        labels = []
        for item in queue.items:
            calls = reader.request_calls(item.pair.request_id)
            text = calls[0].input_preview if calls else None
            label = truth(item.pair, text)
            if label is not None:
                labels.append(
                    HumanLabel(
                        request_id=item.pair.request_id,
                        label=label,
                        labeller=DEMO_REVIEWER,
                        ts=now,
                        source="review",
                    )
                )
            if len(labels) >= count:
                break
    return add_labels(path, labels)


def live_traffic(
    db_path: str | Path, *, routers: RouterSource, rate: float = 2.0, seed: int | None = None
) -> Callable[[threading.Event], None]:
    """A traffic source for the app: ``rate`` requests a second through the router ``routers``
    builds (the ``Workspace``) until the event is set."""

    def run(stop: threading.Event) -> None:
        simulate_live(
            routers=routers,
            rate=rate,
            db_path=db_path,
            stop_event=stop,
            audit_share=AUDIT_SHARE,
            seed=seed,
            time_scale=1.0,
        )

    return run
