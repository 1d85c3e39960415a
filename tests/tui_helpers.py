"""Deterministic call logs for the monitor's tests: a fixed clock, a fixed seed, no network.

``build_log`` writes routed traffic the way the router logs it (one tier-0 cheap row per request,
a tier-1 strong row when it escalated) and, optionally, imported pairs (a cheap row and a shadow
row per request, ``mode = "import"``) for the Thresholds screen.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from routermon.core.clock import VirtualClock
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.prices import PriceBook

# 2026-03-18 12:00:00 UTC, a Wednesday in the middle of a month.
FIXED_NOW = 1773835200.0
CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-5"
TASKS = {
    # task: (share of traffic, mean input tokens, mean output tokens, cheap confidence beta a, b)
    "classify": (0.5, 350, 40, 8.0, 2.0),
    "extract": (0.3, 900, 160, 5.0, 2.5),
    "summarize": (0.2, 2400, 420, 3.0, 2.5),
}
THRESHOLD = 0.7
_PRICES = PriceBook()


def fixed_clock(now: float = FIXED_NOW) -> VirtualClock:
    return VirtualClock(now)


def _pick_task(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for task, (share, *_rest) in TASKS.items():
        acc += share
        if x < acc:
            return task
    return "summarize"


def request_records(
    rng: random.Random, ts: float, n: int, *, mode: str = "cascade", source: str = "test"
) -> list[CallRecord]:
    """The rows one routed request logs (two for an escalated or paired one)."""
    task = _pick_task(rng)
    _share, tin, tout, a, b = TASKS[task]
    request_id = f"req_{n:08d}"
    digest = hashlib.sha256(f"{task}:{n}".encode()).hexdigest()
    input_tokens = max(20, int(rng.gauss(tin, tin * 0.25)))
    cheap_out = max(5, int(rng.gauss(tout, tout * 0.3)))
    confidence = round(rng.betavariate(a, b), 3)
    cheap_correct = rng.random() < min(0.995, 0.05 + confidence)
    roll = rng.random()
    reason, error = None, None
    if roll < 0.01:
        reason, error = "cheap_error", "overloaded"
    elif roll < 0.03:
        reason, error = "invalid_output", "invalid_output"
    elif confidence < THRESHOLD:
        reason = "low_confidence"
    paired = mode in ("import", "shadow")
    escalated = reason is not None
    cheap_ok = error is None
    reference = ("A" if rng.random() < 0.5 else "B") if paired else None
    cheap_answer = reference if cheap_correct else ("B" if reference == "A" else "A")
    cheap = CallRecord(
        ts=ts,
        request_id=request_id,
        task=task,
        mode=mode,
        source=source,
        model=CHEAP,
        role="cheap",
        tier=0,
        input_tokens=input_tokens if cheap_ok else 0,
        output_tokens=cheap_out if cheap_ok else 0,
        cost_usd=_PRICES.cost(CHEAP, input_tokens, cheap_out) if cheap_ok else 0.0,
        latency_ms=round(rng.lognormvariate(6.3, 0.35), 1),
        confidence=confidence if cheap_ok else None,
        answer=f'"{cheap_answer}"' if cheap_ok and paired else ('"ok"' if cheap_ok else None),
        escalated=escalated,
        escalation_reason=reason,
        error_type=error,
        final=not escalated,
        input_sha256=digest,
        reference=reference,
        correct=(cheap_correct if cheap_ok else False) if paired else None,
        dedup_key=f"{request_id}:0" if mode == "import" else None,
    )
    rows = [cheap]
    if escalated or paired:
        strong_out = max(5, int(rng.gauss(tout * 1.2, tout * 0.3)))
        strong_correct = rng.random() < 0.95
        rows.append(
            CallRecord(
                ts=ts + cheap.latency_ms / 1000,
                request_id=request_id,
                task=task,
                mode=mode,
                source=source,
                model=STRONG,
                role="shadow" if paired else "strong",
                tier=1,
                input_tokens=input_tokens,
                output_tokens=strong_out,
                cost_usd=_PRICES.cost(STRONG, input_tokens, strong_out),
                latency_ms=round(rng.lognormvariate(7.0, 0.35), 1),
                confidence=round(rng.betavariate(9, 1.5), 3),
                answer=f'"{reference if strong_correct else "C"}"' if paired else '"ok"',
                final=escalated,
                input_sha256=digest,
                reference=reference,
                correct=strong_correct if paired else None,
                dedup_key=f"{request_id}:1" if mode == "import" else None,
            )
        )
    return rows


def build_log(
    path: Path,
    *,
    now: float = FIXED_NOW,
    hours: float = 72.0,
    requests: int = 600,
    pairs: int = 0,
    shadow_share: float = 0.0,
    seed: int = 7,
) -> Path:
    """Write ``requests`` routed requests spread over the ``hours`` before ``now`` to the log at
    ``path`` (a ``shadow_share`` of them in shadow mode, so judged), and ``pairs`` imported pairs;
    returns ``path``."""
    rng = random.Random(seed)
    times = sorted(now - rng.random() * hours * 3600 for _ in range(requests))
    with CallLog(path) as log:
        for n in range(pairs):  # imported first, as if from an earlier evaluation
            ts = round(now - 40 * 86400 + n * 60.0, 3)
            log.log_many(request_records(rng, ts, requests + n, mode="import", source="import"))
        for n, ts in enumerate(times):
            mode = "shadow" if rng.random() < shadow_share else "cascade"
            log.log_many(request_records(rng, round(ts, 3), n, mode=mode))
    return path


def append_requests(
    path: Path, count: int, *, start: float, spacing: float = 1.0, seed: int = 99, first_n: int = 10**6
) -> int:
    """Log ``count`` more requests from another connection, ``spacing`` seconds apart; returns rows written."""
    rng = random.Random(seed)
    rows: list[CallRecord] = []
    for i in range(count):
        rows.extend(request_records(rng, start + i * spacing, first_n + i))
    with CallLog(path) as log:
        log.log_many(rows)
    return len(rows)


def make_app(path: Path, *, settings: dict | None = None, **kwargs):
    """The app on ``path`` with a fixed clock and no timed polling (tests poll with ``r``);
    ``settings`` are given to the workspace as if read from the settings file."""
    from routermon.core.settings import load_settings
    from routermon.core.workspace import Workspace
    from routermon.tui.app import RoutermonApp

    kwargs.setdefault("clock", fixed_clock())
    kwargs.setdefault("poll_interval", None)
    return RoutermonApp(Workspace(load_settings(**(settings or {})), db=path), **kwargs)


async def settle(pilot, rounds: int = 20) -> None:
    """Wait until no worker is running and the messages they caused are handled (cursor blink off)."""
    from textual.widgets import Input

    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


DETAIL_REQUEST = "req_detail01"


def add_detail_request(path: Path, *, ts: float = FIXED_NOW - 1.0) -> str:
    """Log one escalated shadow-judged request as the newest rows of ``path``: a stored input with
    markup-like text, a cheap and a strong answer, thinking tokens, a judge call and a human label;
    returns its request id."""
    from routermon.core.log.records import HumanLabel
    from routermon.core.log.store import add_labels

    common = dict(request_id=DETAIL_REQUEST, task="classify", source="test", input_sha256="d" * 64)
    preview = 'Customer says: [b]refund[/b] my order #A-17 now — "it arrived broken"'
    rows = [
        CallRecord(
            ts=ts,
            model=CHEAP,
            role="cheap",
            tier=0,
            input_tokens=212,
            output_tokens=18,
            cost_usd=_PRICES.cost(CHEAP, 212, 18),
            latency_ms=412.0,
            confidence=0.41,
            answer='{"label": "[red]review-needed[/red]"}',
            escalated=True,
            escalation_reason="low_confidence",
            input_preview=preview,
            **common,
        ),
        CallRecord(
            ts=ts + 0.45,
            model=STRONG,
            role="strong",
            tier=1,
            input_tokens=212,
            output_tokens=338,
            thinking_tokens=320,
            cost_usd=_PRICES.cost(STRONG, 212, 338),
            latency_ms=1840.0,
            confidence=0.93,
            answer='{"label": "unsafe"}',
            final=True,
            input_preview=preview,
            **common,
        ),
        CallRecord(
            ts=ts + 3.0,
            model=STRONG,
            role="judge",
            mode="judge",
            tier=0,
            input_tokens=400,
            output_tokens=20,
            cost_usd=_PRICES.cost(STRONG, 400, 20),
            latency_ms=900.0,
            confidence=0.8,
            answer='{"verdict": "strong_better", "cheap_first": true}',
            final=True,
            **common,
        ),
    ]
    with CallLog(path) as log:
        log.log_many(rows)
    add_labels(path, [HumanLabel(request_id=DETAIL_REQUEST, label="strong", labeller="ana", ts=ts + 60)])
    return DETAIL_REQUEST
