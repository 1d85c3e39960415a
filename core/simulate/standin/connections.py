"""The stand-in server's bounds: how many connections it holds, how long one may take to send a
request, and how many request-body bytes are in memory at once.

- A connection cap: at the cap, a new connection takes the place of the connection that has been
  sending its request longest (a slow client), so well-behaved clients keep being served; when every
  held connection is being answered, the new one gets a 529 ``overloaded_error`` and is closed.
- A per-request deadline: a connection that has not finished sending a request (headers and body)
  within ``deadline_s`` of starting it, or of its previous answer, is closed by one reaper thread,
  however slowly it trickles bytes.
- A bound on body bytes in flight: a body is read only when its length fits in what is left of the
  budget, else the request gets a 529 ``overloaded_error`` (the real API's answer under load,
  https://platform.claude.com/docs/en/api/errors) and its body is never read.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class _Connection:
    sock: socket.socket
    reading_since: float | None = field(default_factory=time.monotonic)  # None: being answered


class ConnectionBounds:
    """The bookkeeping behind the cap, the deadline and the body budget (thread-safe)."""

    def __init__(self, max_connections: int, deadline_s: float, max_bytes_in_flight: int):
        self.max_connections = max_connections
        self.deadline_s = deadline_s
        self.max_bytes_in_flight = max_bytes_in_flight
        self.bytes_in_flight = 0
        self._held: dict[int, _Connection] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._reap, daemon=True, name="routermon-stand-in-reaper")
        self._reaper.start()

    def admit(self, sock: socket.socket) -> bool:
        """Hold ``sock`` (``False``: at the cap with every held connection being answered)."""
        with self._lock:
            if len(self._held) >= self.max_connections:
                reading = [c for c in self._held.values() if c.reading_since is not None]
                if not reading:
                    return False
                slowest = min(reading, key=lambda c: c.reading_since or 0.0)
                self._close(slowest)
            self._held[id(sock)] = _Connection(sock)
            return True

    def release(self, sock: socket.socket) -> None:
        with self._lock:
            held = self._held.get(id(sock))
            if held is not None and held.sock is sock:
                del self._held[id(sock)]

    def reading(self, sock: socket.socket) -> None:
        """``sock`` starts waiting for (or sending) its next request: its deadline starts now."""
        self._mark(sock, time.monotonic())

    def answering(self, sock: socket.socket) -> None:
        """``sock`` has sent its whole request: no deadline while the stand-in answers it."""
        self._mark(sock, None)

    def reserve(self, size: int) -> bool:
        """Count ``size`` body bytes in flight if they fit in the budget (``False``: they do not)."""
        with self._lock:
            if self.bytes_in_flight + size > self.max_bytes_in_flight:
                return False
            self.bytes_in_flight += size
            return True

    def free(self, size: int) -> None:
        with self._lock:
            self.bytes_in_flight -= size

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def stop(self) -> None:
        self._stopped.set()

    def _mark(self, sock: socket.socket, reading_since: float | None) -> None:
        with self._lock:
            held = self._held.get(id(sock))
            if held is not None and held.sock is sock:
                held.reading_since = reading_since

    def _close(self, held: _Connection) -> None:
        """Cut ``held`` off: its handler's blocked read returns, and its thread ends (lock held)."""
        self._held.pop(id(held.sock), None)
        try:
            held.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by its client

    def _reap(self) -> None:
        interval = min(1.0, max(self.deadline_s / 4, 0.05))
        while not self._stopped.wait(interval):
            now = time.monotonic()
            with self._lock:
                late = [
                    c
                    for c in self._held.values()
                    if c.reading_since is not None and now - c.reading_since > self.deadline_s
                ]
                for held in late:
                    self._close(held)
