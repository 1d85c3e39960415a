"""The stand-in's rate-limit headers: a per-minute window of requests and tokens, reported as the
real API reports it (https://docs.anthropic.com/en/api/rate-limits, "Response headers"):
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``,
the reset as an RFC 3339 time, token counts remaining rounded down to the thousand.

The stand-in never refuses for them (429s come from the scenario or the queue); they are there so
a client that reads them, ``routermon doctor`` among them, has them to read.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

WINDOW_S = 60.0


@dataclass
class RateLimits:
    """A fixed one-minute window; the defaults are those of a mid-size tier (made up, not a tier's)."""

    requests_limit: int = 4000
    input_tokens_limit: int = 2_000_000
    output_tokens_limit: int = 400_000
    _window: float = -1.0
    _requests: int = 0
    _input: int = 0
    _output: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _roll(self, now: float) -> None:
        window = now - now % WINDOW_S
        if window != self._window:
            self._window, self._requests, self._input, self._output = window, 0, 0, 0

    def spend(self, now: float, body: bytes) -> None:
        """Count one answered request and the tokens its ``usage`` reports (a stream or a broken body: the request only)."""
        tokens_in = tokens_out = 0
        try:
            usage = json.loads(body).get("usage") or {}
            tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        except (ValueError, TypeError, AttributeError):  # a stream, or a body cut off on purpose
            pass
        with self._lock:
            self._roll(now)
            self._requests += 1
            self._input += tokens_in
            self._output += tokens_out

    def headers(self, now: float) -> dict[str, str]:
        """The ``anthropic-ratelimit-*`` headers at ``now``."""
        with self._lock:
            self._roll(now)
            used = {"requests": self._requests, "input-tokens": self._input, "output-tokens": self._output}
            reset = datetime.fromtimestamp(self._window + WINDOW_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        limits = {
            "requests": self.requests_limit,
            "input-tokens": self.input_tokens_limit,
            "output-tokens": self.output_tokens_limit,
        }
        used["tokens"] = used["input-tokens"] + used["output-tokens"]
        limits["tokens"] = limits["input-tokens"] + limits["output-tokens"]
        out = {}
        for name, limit in limits.items():
            remaining = max(0, limit - used[name])
            if name != "requests":
                remaining -= remaining % 1000
            out[f"anthropic-ratelimit-{name}-limit"] = str(limit)
            out[f"anthropic-ratelimit-{name}-remaining"] = str(remaining)
            out[f"anthropic-ratelimit-{name}-reset"] = reset
        return out
