"""A deterministic log of shadow pairs with judge verdicts, for the review tests: label pairs
(classify), structured pairs (extract) and free text (summarize) judged by a judge row each, written
through the CallLog writer the way the router and ``routermon judge`` write them."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tui_helpers import CHEAP, FIXED_NOW, STRONG

from routermon.core.log.records import JUDGE_MODE, CallRecord
from routermon.core.log.store import CallLog

JUDGE = "claude-sonnet-4-5"
WORDS = "invoice total paid late supplier order shipped refund customer account balance".split()


def _rows(rng: random.Random, n: int, ts: float) -> list[CallRecord]:
    task = ("classify", "extract", "summarize")[n % 3]
    request_id = f"req_{n:04d}"
    confidence = round(rng.uniform(0.3, 0.99), 3)
    right = rng.random() < 0.75
    if task == "classify":
        text = f"Ticket {n}: the [b]refund[/b] for order {100 + n} never arrived"
        strong_answer = rng.choice(["refund", "shipping", "billing"])
        cheap_answer = strong_answer if right else "other"
    elif task == "extract":
        text = f"Invoice INV-{n:03d} from ACME, total {50 + n}.00 EUR, due 2026-04-{1 + n % 28:02d}"
        strong_answer = {"invoice_id": f"INV-{n:03d}", "total": 50.0 + n, "currency": "EUR"}
        cheap_answer = dict(strong_answer) if right else {**strong_answer, "total": 5.0 + n}
    else:
        words = [rng.choice(WORDS) for _ in range(30)]
        text = " ".join(words)
        strong_answer = "The " + " ".join(words[:12]) + "."
        cheap_answer = "A " + " ".join(words[: 10 if right else 4]) + " [red]not markup[/red]."
    common = {
        "request_id": request_id,
        "task": task,
        "mode": "shadow",
        "source": "test",
        "input_preview": text,
    }
    rows = [
        CallRecord(
            ts=ts,
            **common,
            model=CHEAP,
            role="cheap",
            tier=0,
            input_tokens=300,
            output_tokens=40,
            cost_usd=0.0004,
            confidence=confidence,
            answer=json.dumps(cheap_answer),
            final=True,
        ),
        CallRecord(
            ts=ts + 0.5,
            **common,
            model=STRONG,
            role="shadow",
            tier=1,
            input_tokens=300,
            output_tokens=45,
            cost_usd=0.002,
            confidence=0.95,
            answer=json.dumps(strong_answer),
        ),
    ]
    if task == "summarize":
        verdict = "cheap_acceptable" if (right if rng.random() < 0.85 else not right) else "strong_better"
        rows.append(
            judge_row(request_id, task, verdict, round(rng.uniform(0.4, 0.98), 2), ts + 1, n % 2 == 0)
        )
    return rows


def judge_row(
    request_id: str, task: str, verdict: str, confidence: float | None, ts: float, cheap_first: bool = True
) -> CallRecord:
    """A judge's verdict on one pair, in the documented format (``records.JUDGE_ROLE``)."""
    return CallRecord(
        ts=ts,
        request_id=request_id,
        task=task,
        mode=JUDGE_MODE,
        source="test",
        model=JUDGE,
        role=JUDGE_MODE,
        tier=0,
        input_tokens=600,
        output_tokens=20,
        cost_usd=0.002,
        confidence=confidence,
        answer=json.dumps({"verdict": verdict, "cheap_first": cheap_first}, sort_keys=True),
        final=True,
    )


def build_review_log(path: Path, *, pairs: int = 60, seed: int = 3, now: float = FIXED_NOW) -> Path:
    """``pairs`` shadow pairs over the day before ``now`` (a third of them judged free text)."""
    rng = random.Random(seed)
    with CallLog(path) as log:
        for n in range(pairs):
            log.log_many(_rows(rng, n, round(now - 86400 + n * 60.0, 3)))
    return path
