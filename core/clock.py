"""Clocks: the real one, and a virtual one for simulations and deterministic tests."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""

    def perf(self) -> float:
        """A monotonic reading in seconds, for measuring latency."""

    def lane(self) -> contextlib.AbstractContextManager:
        """A scope for work that runs concurrently with other lanes (see ``VirtualClock``)."""


class SystemClock:
    """Wall time and ``perf_counter``."""

    # The C functions themselves, not methods wrapping them: the router reads the clock on every call.
    now = staticmethod(time.time)
    perf = staticmethod(time.perf_counter)

    def lane(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


class VirtualClock:
    """A clock that moves only when told to; the stand-in API advances it by simulated latency.

    Concurrent work (shadow mode's two calls) runs in ``lane()`` scopes: each lane sees only its own
    advances, so each call's latency is its own, and the shared time ends at the slowest lane.
    """

    def __init__(self, start: float):
        self._t = float(start)
        self._lane: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("lane", default=None)

    def now(self) -> float:
        lane = self._lane.get()
        return lane[0] if lane is not None else self._t

    def perf(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        lane = self._lane.get()
        if lane is None:
            self._t += seconds
        else:
            lane[0] += seconds
            self._t = max(self._t, lane[0])

    @contextlib.contextmanager
    def lane(self) -> Iterator[None]:
        token = self._lane.set([self.now()])
        try:
            yield
        finally:
            self._lane.reset(token)

    def set(self, t: float) -> None:
        self._t = float(t)


SYSTEM_CLOCK = SystemClock()
