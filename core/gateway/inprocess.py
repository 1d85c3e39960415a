"""The gateway in-process: HTTP transports that hand each request to the gateway's ASGI app, so an
``anthropic`` client wrapped by ``observe`` (``core/workspace.py``) goes through the very code the
served gateway runs (the same bytes, rows, task keys and shadowing).

The app runs on its own event loop in a daemon thread (``GatewayThread``): a sync client and an
async one on any loop (or several ``asyncio.run`` calls) share one upstream pool and one shadow
queue. Responses stream: each chunk the app sends is handed over as it comes (httpx2's own
``ASGITransport`` would wait for the whole body, holding a stream's first event back).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from typing import Any

import httpx2


class GatewayThread:
    """An ASGI app served on an event loop in a daemon thread; ``close`` stops it (the app's
    ``aclose``: shadow calls finished, rows written)."""

    def __init__(self, app: Any, on_close: Callable[[], Any] | None = None) -> None:
        self.app = app
        self.on_close = on_close
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="routermon-observe", daemon=True)
        self._thread.start()
        self._closed = False

    def submit(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self, timeout: float = 60.0) -> None:
        if self._closed:
            return
        self._closed = True
        if self.on_close is not None:
            self.on_close()
        aclose = getattr(self.app, "aclose", None)
        if aclose is not None:
            self.submit(aclose()).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


class _Exchange:
    """One request through the app: its ASGI messages, read on the app's loop."""

    def __init__(self, app: Any, request: httpx2.Request, body: bytes) -> None:
        self._messages: asyncio.Queue[dict] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._body = body
        self._asked = False
        self._ended = False
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": ("127.0.0.1", 0),
            "server": (url.host, url.port or 80),
        }
        self.task = asyncio.ensure_future(app(scope, self._receive, self._messages.put))

    async def _receive(self) -> dict:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def start(self) -> tuple[int, list]:
        message = await self._next()
        if message is None or message["type"] != "http.response.start":
            raise httpx2.RemoteProtocolError("The gateway ended without a response.")
        return message["status"], message.get("headers", [])

    async def _next(self) -> dict | None:
        getter = asyncio.ensure_future(self._messages.get())
        done, _ = await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task.exception() is not None:
            raise self.task.exception()
        return self._messages.get_nowait() if not self._messages.empty() else None

    async def chunk(self) -> bytes | None:
        """The next body chunk, or ``None`` at the end."""
        while not self._ended:
            message = await self._next()
            if message is None or message["type"] != "http.response.body":
                return None
            self._ended = not message.get("more_body")
            if message.get("body"):
                return message["body"]
        return None

    async def close(self) -> None:
        self._gone.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 30)
        except Exception:  # the app logs its own failures; closing never raises to the client
            pass


async def _begin(app: Any, request: httpx2.Request, body: bytes) -> tuple[_Exchange, int, list]:
    exchange = _Exchange(app, request, body)
    status, headers = await exchange.start()
    return exchange, status, headers


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, exchange: _Exchange, submit: Callable) -> None:
        self.exchange, self.submit = exchange, submit

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self.submit(self.exchange.chunk()).result()) is not None:
            yield chunk

    def close(self) -> None:
        self.submit(self.exchange.close()).result()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, exchange: _Exchange, submit: Callable) -> None:
        self.exchange, self.submit = exchange, submit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await asyncio.wrap_future(self.submit(self.exchange.chunk()))) is not None:
            yield chunk

    async def aclose(self) -> None:
        await asyncio.wrap_future(self.submit(self.exchange.close()))


class InProcessTransport(httpx2.BaseTransport):
    """A sync client's transport into the app on ``thread``."""

    def __init__(self, thread: GatewayThread) -> None:
        self.thread = thread

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        exchange, status, headers = self.thread.submit(_begin(self.thread.app, request, body)).result()
        return httpx2.Response(status, headers=headers, stream=_SyncBody(exchange, self.thread.submit))


class AsyncInProcessTransport(httpx2.AsyncBaseTransport):
    """An async client's transport into the app on ``thread`` (from any event loop)."""

    def __init__(self, thread: GatewayThread) -> None:
        self.thread = thread

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        begun = self.thread.submit(_begin(self.thread.app, request, body))
        exchange, status, headers = await asyncio.wrap_future(begun)
        return httpx2.Response(status, headers=headers, stream=_AsyncBody(exchange, self.thread.submit))
