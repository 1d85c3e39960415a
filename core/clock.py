"""Clocks: the real one, and a virtual one for simulations and deterministic tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""

    def perf(self) -> float:
        """A monotonic reading in seconds, for measuring latency."""


class SystemClock:
    """Wall time and ``perf_counter``."""

    def now(self) -> float:
        return time.time()

    def perf(self) -> float:
        return time.perf_counter()


class VirtualClock:
    """A clock that moves only when told to; the stand-in API advances it by simulated latency."""

    def __init__(self, start: float):
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def perf(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._t += seconds

    def set(self, t: float) -> None:
        self._t = float(t)


SYSTEM_CLOCK = SystemClock()
