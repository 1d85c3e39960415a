"""The gateway as a plain ASGI app: the Messages API paths, its limits and token, forwarding, and a
log row per ``/v1/messages`` call written off the request's path (the ``CallLog`` writer thread).

Served paths: ``POST /v1/messages`` (streamed or not), ``POST /v1/messages/count_tokens``,
``GET /v1/models`` and ``GET /v1/models/{id}``. Anything else is a 404: no open proxy.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2

from ..log.privacy import Keeper
from ..log.store import CallLog
from ..prices import PriceBook
from ..route.models import ModelTable
from .forward import error_body, request_headers, response_headers, upstream_client
from .record import CANCELLED, CallFacts, call_record
from .shadow import GatewayPairObserver, Shadow, ShadowConfig, ShadowWork
from .sse import Observed, StreamReader, read_message
from .taskkey import task_key

MAX_BODY_BYTES = (
    32 * 1024 * 1024
)  # the Messages API's own limit (https://docs.anthropic.com/en/api/errors: 413)
MAX_OBSERVED_BYTES = 64 * 1024 * 1024  # a whole body read for its usage; past it, forwarded unread
TOKEN_HEADER = "x-routermon-token"
_PATHS = (
    ("POST", re.compile(r"/v1/messages")),
    ("POST", re.compile(r"/v1/messages/count_tokens")),
    ("GET", re.compile(r"/v1/models")),
    ("GET", re.compile(r"/v1/models/[A-Za-z0-9._:@-]+")),
)
MESSAGES_PATH = "/v1/messages"


@dataclass
class GatewayConfig:
    """What a gateway is built from (``Workspace.gateway`` fills it from the settings)."""

    upstream_url: str
    log: CallLog | None
    keeper: Keeper
    prices: PriceBook
    preview_chars: int = 80
    token: str | None = None
    api_key: str | None = None
    transport: httpx2.AsyncBaseTransport | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    say: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    shadow: ShadowConfig | None = None  # None: no shadowing
    models: ModelTable | None = None  # the capability table shadow copies are adapted through
    pair_observer: GatewayPairObserver | None = None  # free-text pairs (the judge), in the background


class Gateway:
    """The ASGI app. ``calls_logged`` and ``log_failures`` count what it handed to the log;
    ``shadow`` (when shadowing) holds the shadow counters (``shadow.counters``)."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.client = upstream_client(config.upstream_url, config.transport)
        self.shadow: Shadow | None = None
        if config.shadow is not None:
            self.shadow = Shadow(
                config.shadow,
                models=config.models or ModelTable(),
                send=self._send_copy,
                log_copy=self._log_copy,
                observer=config.pair_observer,
                say=config.say,
            )
        self.calls_logged = 0
        self.log_failures = 0
        self._told_log_failure = False
        self._ids = random.Random()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Finish the queued shadow calls, close the upstream pool and write every queued row."""
        if self.shadow is not None:
            await self.shadow.drain()
        await self.client.aclose()
        if self.config.log is not None:
            try:
                await asyncio.to_thread(self.config.log.flush, 30.0)
            except RuntimeError:  # the interpreter is exiting (``observe``'s atexit): no more threads
                self.config.log.flush(30.0)

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(method, path, headers)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        body = await _read_body(receive, self.config.max_body_bytes)
        if body is None:
            await _respond(send, *self._too_large())
            return
        await self._forward(scope, receive, send, body, headers)

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple | None:
        token = self.config.token
        if token is not None and not hmac.compare_digest(
            headers.get(TOKEN_HEADER, "").encode(), token.encode()
        ):
            return error_body(
                401, "authentication_error", f"The gateway needs its token in the {TOKEN_HEADER} header."
            )
        if not any(method == m and pattern.fullmatch(path) for m, pattern in _PATHS):
            return error_body(
                404,
                "not_found_error",
                f"The gateway serves the Messages API only, not {method} {path[:200]}.",
            )
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.config.max_body_bytes:
            return self._too_large()
        return None

    def _too_large(self) -> tuple:
        """The 413 of a body over the limit: declared so, or found so while reading it."""
        limit = self.config.max_body_bytes
        return error_body(413, "request_too_large", f"Request exceeds the maximum size of {limit} bytes.")

    async def _forward(
        self, scope: dict, receive: Callable, send: Callable, body: bytes, headers: dict
    ) -> None:
        logged = scope["method"] == "POST" and scope["path"] == MESSAGES_PATH
        call = _Call.start(body, headers, self._new_request_id()) if logged else None
        target = scope["path"] + (
            ("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else ""
        )
        upstream_headers = request_headers(scope["headers"], self.config.api_key)
        if call is not None:
            call.upstream_headers = upstream_headers
        request = self.client.build_request(scope["method"], target, headers=upstream_headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx2.TimeoutException:
            await self._no_response(send, call, "timeout", "The upstream API did not answer in time.")
            return
        except httpx2.HTTPError as exc:
            await self._no_response(
                send,
                call,
                "connection_error",
                f"The upstream API could not be reached ({type(exc).__name__}).",
            )
            return
        try:
            await self._relay(receive, send, response, call)
        finally:
            await response.aclose()

    async def _relay(
        self, receive: Callable, send: Callable, response: httpx2.Response, call: _Call | None
    ) -> None:
        streamed = "text/event-stream" in response.headers.get("content-type", "")
        reader = StreamReader() if call is not None and streamed else None
        whole = bytearray() if call is not None and not streamed else None
        if call is not None:
            call.status = response.status_code
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response_headers(response),
                }
            )
            async for chunk in response.aiter_raw():
                if gone.done():
                    raise ConnectionResetError
                if reader is not None:
                    reader.feed(chunk)
                elif whole is not None and len(whole) < MAX_OBSERVED_BYTES:
                    whole += chunk
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, asyncio.CancelledError) as exc:
            if call is not None:
                observed = reader.finish() if reader is not None else Observed()
                self._log(call, observed, error_type=CANCELLED)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        finally:
            gone.cancel()
        if call is not None:
            observed = reader.finish() if reader is not None else read_message(bytes(whole or b""))
            self._log(call, observed)

    async def _no_response(self, send: Callable, call: _Call | None, error_type: str, message: str) -> None:
        status, headers, body = error_body(502, "api_error", message)
        if call is not None:
            call.status = None
            self._log(call, Observed(), error_type=error_type)
        await _respond(send, status, headers, body)

    def _log(self, call: _Call, observed: Observed, error_type: str | None = None) -> None:
        log = self.config.log
        if log is None:
            return
        facts = call.facts(error_type, observed)
        role = ("cheap", 0)
        if (
            self.shadow is not None
            and error_type is None
            and call.status == 200
            and observed.error_type is None
        ):
            role = (
                self.shadow.offer(call.request_id, call.task, call.body, call.upstream_headers, observed)
                or role
            )
        self._write(call.body, observed, facts, role)

    def _write(self, body: dict, observed: Observed, facts: CallFacts, role: tuple[str, int], final=None):
        """Hand one row to the log (never failing the caller); returns the row's cost in USD."""
        log = self.config.log
        if log is None:
            return None
        record = call_record(
            body,
            observed,
            facts,
            keeper=self.config.keeper,
            prices=self.config.prices,
            preview_chars=self.config.preview_chars,
            role=role,
            final=final,
        )
        try:
            log.log(record)
        except Exception as exc:  # the log never fails the client's call
            self.log_failures += 1
            if not self._told_log_failure:
                self._told_log_failure = True
                self.config.say(f"routermon gateway: calls are not being logged: {exc}")
            return record.cost_usd
        self.calls_logged += 1
        return record.cost_usd

    async def _send_copy(self, body: bytes, headers: list) -> tuple[int, bytes]:
        """A shadow copy through the same pooled client, read whole (never streamed)."""
        response = await self.client.post(MESSAGES_PATH, content=body, headers=headers)
        return response.status_code, response.content

    def _log_copy(
        self, work: ShadowWork, observed: Observed, status: int | None, latency_ms: float
    ) -> float | None:
        """The shadow copy's row: the pair's request id and task, the other model, never final."""
        facts = CallFacts(
            ts=time.time(),
            request_id=work.request_id,
            task=work.task,
            requested_model=work.other_model,
            latency_ms=latency_ms,
            ttft_ms=None,
            http_status=status,
            error_type=None,
        )
        return self._write(
            work.body | {"model": work.other_model}, observed, facts, work.copy_role, final=False
        )

    def _new_request_id(self) -> str:
        return f"gw_{(time.time_ns() // 1_000_000) << 48 | self._ids.getrandbits(48):024x}"


@dataclass
class _Call:
    """One ``/v1/messages`` call in flight: its parsed body and when it started."""

    body: dict
    task: str
    request_id: str
    ts: float
    started: float
    status: int | None = None
    upstream_headers: list = field(default_factory=list)  # in memory only: they hold the key

    @classmethod
    def start(cls, raw: bytes, headers: dict[str, str], request_id: str) -> _Call:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        body = body if isinstance(body, dict) else {}
        return cls(body, task_key(body, headers), request_id, time.time(), time.perf_counter())

    def facts(self, error_type: str | None, observed: Observed) -> CallFacts:
        now = time.perf_counter()
        first = observed.first_content_at
        model = self.body.get("model")
        return CallFacts(
            ts=self.ts,
            request_id=self.request_id,
            task=self.task,
            requested_model=model if isinstance(model, str) else None,
            latency_ms=(now - self.started) * 1000,
            ttft_ms=None if first is None else (first - self.started) * 1000,
            http_status=self.status,
            error_type=error_type,
        )


async def _read_body(receive: Callable, limit: int) -> bytes | None:
    """The request body, or ``None`` once it passes ``limit`` (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _disconnected(receive: Callable) -> None:
    """Returns when the client goes away (ASGI ``http.disconnect``)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _respond(send: Callable, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
