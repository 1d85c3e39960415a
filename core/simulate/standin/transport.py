"""The ``httpx2`` transport that puts a ``StandInAPI`` behind the real ``anthropic`` client, no socket.

Simulated latency advances a ``VirtualClock`` or sleeps ``latency * time_scale``; simulated network
failures become the ``httpx2`` errors a real connection would raise.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx2

from ...clock import Clock, VirtualClock
from .wire import Disconnect, TimedOut


class Served(Protocol):
    """What the transport serves (a ``StandInAPI``): named by its shape, since the API builds the
    transport (``StandInAPI.transport``) and this module stays below it."""

    clock: Clock
    timeout_s: float

    def handle(self, method: str, path: str, body: bytes, headers: Any = None) -> Any: ...


class StandInTransport(httpx2.AsyncBaseTransport, httpx2.BaseTransport):
    """Serves a ``StandInAPI`` to an ``httpx2`` client, sync or async, without a socket."""

    def __init__(self, api: Served):
        self.api = api

    def _answer(self, request: httpx2.Request) -> tuple[httpx2.Response, float]:
        try:
            # The headers carry x-routermon-task, which picks the scenario task by name.
            status, headers, body, latency = self.api.handle(
                request.method, request.url.path, request.content, request.headers
            )
        except TimedOut:
            raise httpx2.ReadTimeout("The stand-in API did not answer in time.", request=request) from None
        except Disconnect:
            raise httpx2.RemoteProtocolError(
                "The stand-in API closed the connection.", request=request
            ) from None
        return httpx2.Response(status, headers=headers, content=body, request=request), latency

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request``, waiting out its latency (or the API's timeout) on the clock."""
        await request.aread()
        try:
            response, latency = self._answer(request)
        except httpx2.ReadTimeout:
            await self._elapse(self.api.timeout_s)
            raise
        await self._elapse(latency)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request`` at once, advancing a ``VirtualClock`` by its latency."""
        request.read()
        response, latency = self._answer(request)
        if isinstance(self.api.clock, VirtualClock):
            self.api.clock.advance(latency)
        return response

    async def _elapse(self, seconds: float) -> None:
        if isinstance(self.api.clock, VirtualClock):
            self.api.clock.advance(seconds)
        elif self.api.time_scale > 0 and seconds > 0:
            await asyncio.sleep(seconds * self.api.time_scale)
