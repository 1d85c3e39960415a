"""A stand-in for the Anthropic Messages API that speaks its wire format.

Use it in-process as an ``httpx2`` transport behind the real ``anthropic`` client
(``StandInAPI(...).client()``), or as a loopback HTTP server (``serve()``, ``routermon fake-api``)
that any client reaches through ``ANTHROPIC_BASE_URL``.

Two ways to drive it:

* **Scripted**: ``api.enqueue(reply, model=None)`` queues exact replies (``answer()``, ``tool_input()``,
  ``refusal()``, ``http_error()``, ``timeout()``, ``connection_reset()``, ``broken_body()``, ``empty()``,
  ``truncated()``, ``text_only()``); queued replies are served first, in order, to the named model
  (or to any model when ``model`` is None).
* **Scenario-driven**: with a ``Scenario``, every other request is answered by a seeded model of the
  task's behaviour: accuracy and confidence per clear/ambiguous slice, token counts, latency, and
  error rates (429 with retry-after, 500, 529, timeouts, connection resets, malformed replies, refusals).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2

from .clock import Clock, VirtualClock
from .scenario import Scenario, TaskProfile, is_ambiguous, item_hash, true_label

# -- scripted replies ---------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted reply. ``kind`` is answer | tool_input | refusal | http_error | timeout |
    connection_reset | broken_body | empty | truncated | text_only."""

    kind: str
    payload: Any = None
    status: int = 200
    error_type: str = ""
    retry_after: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float = 0.0


def answer(
    value: Any,
    confidence: Any,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    latency_ms: float = 0.0,
) -> Reply:
    """A well-formed ``submit_answer`` tool call."""
    return Reply(
        "tool_input",
        {"answer": value, "confidence": confidence},
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
    )


def tool_input(payload: Any, **kw: Any) -> Reply:
    """A ``submit_answer`` tool call with exactly this input (use it for malformed inputs)."""
    return Reply("tool_input", payload, **kw)


def refusal() -> Reply:
    return Reply("refusal")


def http_error(status: int, error_type: str | None = None, *, retry_after: float | None = None) -> Reply:
    """An API error response (429 rate_limit_error, 500 api_error, 529 overloaded_error, ...)."""
    default = {
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
        400: "invalid_request_error",
    }
    return Reply(
        "http_error",
        status=status,
        error_type=error_type or default.get(status, "api_error"),
        retry_after=retry_after,
    )


def timeout() -> Reply:
    return Reply("timeout")


def connection_reset() -> Reply:
    return Reply("connection_reset")


def broken_body() -> Reply:
    """A 200 response whose body is cut off mid-JSON."""
    return Reply("broken_body")


def empty() -> Reply:
    """A message with no content blocks."""
    return Reply("empty")


def truncated() -> Reply:
    """A message cut off at max_tokens, its tool input incomplete."""
    return Reply("truncated")


def text_only(text: str = "I think it is safe.") -> Reply:
    """A plain text reply with no tool call."""
    return Reply("text_only", text)


# -- the API --------------------------------------------------------------------------------------


class Disconnect(Exception):
    """The stand-in drops the connection (the server closes the socket; the transport raises)."""


class TimedOut(Exception):
    """The stand-in never answers in time."""


MALFORMED_KINDS = (
    "broken_body",
    "confidence_out_of_range",
    "missing_confidence",
    "wrong_type",
    "empty",
    "truncated",
    "text_only",
)


@dataclass
class StandInAPI:
    """The stand-in Messages API. Thread-safe; deterministic for a given seed and call order.

    Args:
        scenario: answers requests nothing is queued for; without one, such a request gets a 500.
        seed: seeds every random draw.
        clock: a ``VirtualClock`` is advanced by each reply's latency instead of sleeping.
        time_scale: real sleeps are ``latency * time_scale`` (0 answers at once).
        timeout_s: how long a simulated timeout takes.
    """

    scenario: Scenario | None = None
    seed: int = 0
    clock: Clock | None = None
    time_scale: float = 0.0
    timeout_s: float = 60.0
    requests: list[dict] = field(default_factory=list)
    internal_errors: list[BaseException] = field(default_factory=list)
    record_requests: bool = True
    _queue: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(init=False)
    _counter: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # scripted mode
    def enqueue(self, *replies: Reply, model: str | None = None) -> None:
        """Queue replies, served in order to ``model`` (or to any model when None)."""
        with self._lock:
            for reply in replies:
                self._queue.append((model, reply))

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _next_scripted(self, model: str) -> Reply | None:
        for i, (want, reply) in enumerate(self._queue):
            if want is None or want == model:
                del self._queue[i]
                return reply
        return None

    # the wire protocol
    def handle(
        self, method: str, path: str, body: bytes, headers: Any = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        """Answer one HTTP request: ``(status, headers, body, latency_seconds)``.

        Raises ``TimedOut`` or ``Disconnect`` for simulated network failures.
        """
        if method != "POST" or not path.rstrip("/").endswith("/v1/messages"):
            return _error(
                404, "not_found_error", f"The stand-in serves POST /v1/messages, not {method} {path}."
            )
        try:
            request = json.loads(body)
            model = request["model"]
            request["messages"]  # noqa: B018 - a required field
            task_header = (headers or {}).get("x-routermon-task")
        except (ValueError, KeyError, TypeError):
            return _error(400, "invalid_request_error", "The request body is not a Messages API request.")
        with self._lock:
            if self.record_requests:
                self.requests.append(request)
            self._counter += 1
            reply = self._next_scripted(model)
            if reply is None:
                if self.scenario is None:
                    return _error(
                        500, "api_error", "Nothing is queued for this request and no scenario is set."
                    )
                reply = self._scenario_reply(request, task_header)
            message_id = f"msg_standin_{self._rng.getrandbits(48):012x}"
        return self._render(reply, request, message_id)

    def _render(
        self, reply: Reply, request: dict, message_id: str
    ) -> tuple[int, dict[str, str], bytes, float]:
        latency = reply.latency_ms / 1000.0
        if reply.kind == "timeout":
            raise TimedOut()
        if reply.kind == "connection_reset":
            raise Disconnect()
        if reply.kind == "http_error":
            status, headers, body, _ = _error(reply.status, reply.error_type, f"Stand-in {reply.error_type}.")
            if reply.retry_after is not None:
                headers["retry-after"] = str(max(0, math.ceil(reply.retry_after)))
                headers["retry-after-ms"] = str(int(reply.retry_after * 1000))
            return status, headers, body, latency
        if reply.kind == "broken_body":
            return (
                200,
                {"content-type": "application/json"},
                b'{"id": "msg_broken", "type": "message", "con',
                latency,
            )
        in_tokens = reply.input_tokens if reply.input_tokens is not None else _estimate_input_tokens(request)
        content: list[dict] = []
        stop = "tool_use"
        if reply.kind == "tool_input":
            content = [
                {
                    "type": "tool_use",
                    "id": f"toolu_{message_id[12:]}",
                    "name": _tool_name(request),
                    "input": reply.payload,
                }
            ]
        elif reply.kind == "refusal":
            content, stop = [{"type": "text", "text": "I can't help with that."}], "refusal"
        elif reply.kind == "empty":
            content, stop = [], "end_turn"
        elif reply.kind == "truncated":
            content = [
                {
                    "type": "tool_use",
                    "id": f"toolu_{message_id[12:]}",
                    "name": _tool_name(request),
                    "input": {},
                }
            ]
            stop = "max_tokens"
        elif reply.kind == "text_only":
            content, stop = [{"type": "text", "text": str(reply.payload)}], "end_turn"
        out_tokens = reply.output_tokens
        if out_tokens is None:
            out_tokens = max(1, len(json.dumps(content)) // 4)
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": request["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": in_tokens,
                "output_tokens": out_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        headers = {"content-type": "application/json", "request-id": f"req_standin_{message_id[12:]}"}
        return 200, headers, json.dumps(message).encode(), latency

    # scenario mode
    def _scenario_reply(self, request: dict, task_name: str | None) -> Reply:
        scenario = self.scenario
        assert scenario is not None
        rng = self._rng
        model = request["model"]
        profile = scenario.model_profile(model)
        latency_ms = profile.latency_ms.sample(rng)
        failure = _pick_failure(profile.errors, rng.random())
        if failure is not None:
            return self._failure_reply(failure, rng, latency_ms)
        schema = _answer_schema(request)
        text = _user_text(request)
        task = _task_for(scenario, task_name, schema)
        behaviour = task.cheap if profile.tier == "cheap" else task.strong
        ambiguous = is_ambiguous(text, task)
        p_right = behaviour.ambiguous_accuracy if ambiguous else behaviour.accuracy
        right = rng.random() < p_right
        if ambiguous:
            confidence = behaviour.confidence_ambiguous.sample(rng)
        else:
            confidence = (behaviour.confidence_right if right else behaviour.confidence_wrong).sample(rng)
        value = _make_answer(schema, text, right, rng)
        out_tokens = max(1, round(task.output_tokens.sample(rng)))
        return answer(value, round(confidence, 4), output_tokens=out_tokens, latency_ms=latency_ms)

    def _failure_reply(self, failure: str, rng: random.Random, latency_ms: float) -> Reply:
        if failure == "rate_limited":
            reply = http_error(429, retry_after=round(rng.uniform(0.2, 2.0), 3))
        elif failure == "server_error":
            reply = http_error(500)
        elif failure == "overloaded":
            reply = http_error(529)
        elif failure == "timeout":
            reply = timeout()
        elif failure == "connection_reset":
            reply = connection_reset()
        elif failure == "refusal":
            reply = refusal()
        else:
            kind = MALFORMED_KINDS[rng.randrange(len(MALFORMED_KINDS))]
            reply = {
                "broken_body": broken_body,
                "empty": empty,
                "truncated": truncated,
                "text_only": text_only,
            }.get(kind, lambda: None)()
            if reply is None:
                payload = {
                    "confidence_out_of_range": {"answer": "safe", "confidence": 1.7},
                    "missing_confidence": {"answer": "safe"},
                    "wrong_type": {"answer": 123, "confidence": "high"},
                }[kind]
                reply = tool_input(payload)
        reply.latency_ms = latency_ms if failure not in ("timeout",) else 0.0
        return reply

    # adapters
    def transport(self) -> StandInTransport:
        """An ``httpx2`` transport serving this API in-process."""
        return StandInTransport(self)

    def client(self, *, max_retries: int = 2, timeout: float = 60.0):
        """The real ``anthropic.AsyncAnthropic`` client, talking to this stand-in."""
        from .client import stand_in_client

        return stand_in_client(
            self.transport(),
            clock=self.clock,
            time_scale=self.time_scale,
            max_retries=max_retries,
            timeout=timeout,
            jitter_seed=self.seed,
        )


def _error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], bytes, float]:
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()
    return (
        status,
        {
            "content-type": "application/json",
            "x-should-retry": "true" if status >= 500 or status == 429 else "false",
        },
        body,
        0.0,
    )


def _pick_failure(errors, draw: float) -> str | None:
    edge = 0.0
    for name in type(errors).model_fields:
        edge += getattr(errors, name)
        if draw < edge:
            return name
    return None


def _tool_name(request: dict) -> str:
    choice = request.get("tool_choice") or {}
    if choice.get("name"):
        return choice["name"]
    tools = request.get("tools") or []
    return tools[0].get("name", "submit_answer") if tools else "submit_answer"


def _answer_schema(request: dict) -> dict:
    tools = request.get("tools") or []
    schema = tools[0].get("input_schema", {}) if tools else {}
    answer_schema = schema.get("properties", {}).get("answer", {"type": "string"})
    return _resolve(answer_schema, schema.get("$defs", {}))


def _resolve(schema: dict, defs: dict) -> dict:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(defs.get(ref.rsplit("/", 1)[1], {}), defs)
    if "properties" in schema:
        schema = {**schema, "properties": {k: _resolve(v, defs) for k, v in schema["properties"].items()}}
    if "anyOf" in schema:
        schema = {**schema, "anyOf": [_resolve(s, defs) for s in schema["anyOf"]]}
    return schema


def _user_text(request: dict) -> str:
    content = request["messages"][-1].get("content", "") if request["messages"] else ""
    if isinstance(content, list):
        content = "".join(block.get("text", "") for block in content if isinstance(block, dict))
    lines = str(content).split("\n")
    if len(lines) >= 3 and lines[0].startswith("<input-") and lines[-1].startswith("</input-"):
        return "\n".join(lines[1:-1])
    return str(content)


def _task_for(scenario: Scenario, name: str | None, schema: dict) -> TaskProfile:
    task = scenario.task(name) if name else None
    if task is None:
        kind = (
            "classify" if "enum" in schema else ("extract" if schema.get("type") == "object" else "summarize")
        )
        task = scenario.task_of_kind(kind) or scenario.tasks[0]
    return task


def _make_answer(schema: dict, text: str, right: bool, rng: random.Random) -> Any:
    if "enum" in schema:
        labels = list(schema["enum"])
        truth = true_label(text, labels)
        if right or len(labels) == 1:
            return truth
        return rng.choice([label for label in labels if label != truth])
    if schema.get("type") == "object":
        return {
            name: _field_value(sub, text, name, right, rng)
            for name, sub in schema.get("properties", {}).items()
        }
    words = text.split()
    if right:
        return " ".join(words[:24]) or "(empty)"
    return " ".join(words[-6:]) or "(empty)"


def _field_value(schema: dict, text: str, name: str, right: bool, rng: random.Random) -> Any:
    options = schema.get("anyOf")
    if options:
        non_null = [s for s in options if s.get("type") != "null"]
        schema = non_null[0] if non_null else {"type": "null"}
    kind = schema.get("type", "string")
    h = item_hash(f"{name}:{text}") + (0 if right else rng.randrange(1, 1000))
    if "enum" in schema:
        return schema["enum"][h % len(schema["enum"])]
    if kind == "integer":
        return h % 1000
    if kind == "number":
        return round((h % 100000) / 100, 2)
    if kind == "boolean":
        return bool(h % 2)
    if kind == "null":
        return None
    if kind == "array":
        return [w for w in text.split()[: 1 + h % 3]]
    words = text.split() or ["unknown"]
    return words[h % len(words)]


def _estimate_input_tokens(request: dict) -> int:
    # About four characters a token over what the model reads: system, messages and tool schemas.
    chars = len(json.dumps(request.get("system", ""))) + len(json.dumps(request.get("messages", [])))
    chars += len(json.dumps(request.get("tools", [])))
    return max(1, chars // 4)


# -- adapters --------------------------------------------------------------------------------------


class StandInTransport(httpx2.AsyncBaseTransport, httpx2.BaseTransport):
    """Serves a ``StandInAPI`` to an ``httpx2`` client, sync or async, without a socket."""

    def __init__(self, api: StandInAPI):
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
        await request.aread()
        try:
            response, latency = self._answer(request)
        except httpx2.ReadTimeout:
            await self._elapse(self.api.timeout_s)
            raise
        await self._elapse(latency)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
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


class _Handler(BaseHTTPRequestHandler):
    api: StandInAPI
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        try:
            status, headers, payload, latency = self.api.handle("POST", self.path, body, self.headers)
        except TimedOut:
            threading.Event().wait(self.api.timeout_s)
            self.close_connection = True
            return
        except Disconnect:
            self.close_connection = True
            self.connection.close()
            return
        if latency > 0 and self.api.time_scale > 0:
            threading.Event().wait(latency * self.api.time_scale)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        status, headers, payload, _ = _error(
            404, "not_found_error", "The stand-in serves POST /v1/messages only."
        )
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(
    api: StandInAPI, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> ThreadingHTTPServer:
    """A loopback HTTP server for ``api`` (``port=0`` picks a free port: see ``server.server_address``)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the stand-in API only listens on loopback")
    handler = type("StandInHandler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


def serve_in_thread(api: StandInAPI, port: int = 0) -> tuple[ThreadingHTTPServer, Callable[[], None]]:
    """Start a loopback server in a daemon thread; returns it and a function that stops it."""
    server = make_server(api, port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="routermon-stand-in")
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return server, stop
