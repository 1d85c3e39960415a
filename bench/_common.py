"""Shared plumbing for the benchmarks: arguments, realistic log rows, and the closing JSON line.

Every benchmark prints a few readable lines (unless ``--json``) and, last, one JSON object with its
figures, so a script can read ``tail -n 1``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import sys
from collections.abc import Iterator

from routermon.core.log.records import CALL_COLUMNS
from routermon.core.route.catalog import default_models

LABELS = ("safe", "unsafe", "review-needed")
# Values of the columns after ``dedup_key`` (added by later migrations); absent ones are NULL.
LATER_COLUMNS = {"thinking_tokens": 0}
CHEAP_MODEL, STRONG_MODEL = default_models()

_WORDS = (
    "account order refund shipping password login invoice broken screen delivery late charge card "
    "upgrade cancel subscription help please thanks urgent weird message link click free prize "
    "angry manager review policy violation spam offer discount verify identity bank transfer"
).split()


def parse_args(description: str, argv: list[str] | None = None, **extra: dict) -> argparse.Namespace:
    """``--quick`` and ``--json``, plus benchmark-specific options given as ``name=argparse kwargs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a shorter run (under 30 s on 2 cores)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line of figures")
    for name, kwargs in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, **kwargs)
    return parser.parse_args(argv)


def say(args: argparse.Namespace, text: str) -> None:
    """A readable progress line, left out with ``--json``."""
    if not args.json:
        print(text, flush=True)


def machine() -> dict:
    """Where the figures were measured."""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "platform": sys.platform,
    }


def emit(figures: dict) -> None:
    """The closing line: one JSON object with the figures."""
    print(json.dumps(figures, sort_keys=True), flush=True)


def message_text(rng: random.Random, index: int) -> str:
    """A distinct, plausible user message of 20-60 words."""
    words = [rng.choice(_WORDS) for _ in range(rng.randint(20, 60))]
    return f"#{index} " + " ".join(words)


def realistic_rows(count: int, *, seed: int = 0, time_ordered_ids: bool = True) -> Iterator[tuple]:
    """Rows in ``CALL_COLUMNS`` order shaped like the router's: ~8% of requests escalate (two rows).

    ``time_ordered_ids`` matches the router's unseeded request ids; ``False`` gives random ids,
    like seeded simulations and imports.
    """
    assert CALL_COLUMNS[0] == "ts" and CALL_COLUMNS[24] == "dedup_key"
    later = tuple(LATER_COLUMNS.get(name) for name in CALL_COLUMNS[25:])  # columns added by migrations
    rng = random.Random(seed)
    ts = 1_750_000_000.0
    made = 0
    request = 0
    while made < count:
        request += 1
        ts += rng.expovariate(50.0)
        if time_ordered_ids:
            request_id = f"req_{int(ts * 1000):012x}{rng.getrandbits(48):012x}"
        else:
            request_id = f"req_{rng.getrandbits(64):016x}"
        text = message_text(rng, request)
        sha = hashlib.sha256(text.encode()).hexdigest()
        preview = text[:80]
        label = LABELS[request % 3]
        confidence = round(rng.betavariate(30, 1.2), 4)
        escalate = rng.random() < 0.08 and made + 2 <= count
        in_tokens, out_tokens = rng.randint(120, 400), rng.randint(20, 40)
        cheap_latency = round(rng.lognormvariate(6.1, 0.35), 3)
        cheap_cost = (in_tokens * 1.0 + out_tokens * 5.0) / 1e6
        yield (
            ts, request_id, "classify", "cascade", "live", CHEAP_MODEL, "cheap", 0,
            in_tokens, out_tokens, 0, 0, cheap_cost, cheap_latency,
            confidence * (0.6 if escalate else 1.0), json.dumps(label),
            int(escalate), "low_confidence" if escalate else None, None, int(not escalate),
            sha, preview, None, None, None, *later,
        )  # fmt: skip
        made += 1
        if escalate:
            strong_cost = (in_tokens * 3.0 + out_tokens * 15.0) / 1e6
            yield (
                ts + cheap_latency / 1000, request_id, "classify", "cascade", "live", STRONG_MODEL,
                "strong", 1, in_tokens, out_tokens, 0, 0, strong_cost,
                round(rng.lognormvariate(7.2, 0.4), 3), round(rng.betavariate(20, 1), 4),
                json.dumps(label), 0, None, None, 1, sha, preview, None, None, None, *later,
            )  # fmt: skip
            made += 1


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
