"""``StandInAPI``: the stand-in Messages API's state (queue, seed, clock, recorded requests) and its
one entry point, ``handle``, which the transport and the server both call.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ...clock import Clock
from ...nesting import NestedTooDeeply, loads_within_depth
from ...route.models import BUNDLED, ModelTable
from ..scenario import Scenario
from .behaviour import scenario_reply
from .catalog import model_info, model_list
from .ratelimits import RateLimits
from .replies import Reply
from .transport import StandInTransport
from .validate import Refused, check, effort, thinking_type
from .wire import Response, error, render

# Thinking tokens a thinking model spends on one short task, by effort: the stand-in's model of
# "effort controls thinking depth" (https://platform.claude.com/docs/en/build-with-claude/effort),
# not a measurement.
RECORD_LIMIT = (
    200  # request bodies kept when recording: 2,000 bodies of 100 KB held 101 MB at 1,000, 20 MB at 200
)

THINKING_TOKENS = {"low": 40, "medium": 120, "high": 320, "xhigh": 700, "max": 1500}


@dataclass
class StandInAPI:
    """The stand-in Messages API. Thread-safe; deterministic for a given seed and call order.

    Args:
        scenario: answers requests nothing is queued for; without one, such a request gets a 500.
        seed: seeds every random draw.
        clock: a ``VirtualClock`` is advanced by each reply's latency instead of sleeping.
        time_scale: real sleeps are ``latency * time_scale`` (0 answers at once).
        timeout_s: how long a simulated timeout takes.
        models: the model table it answers from (the router's table); a model it lacks gets a 404.
        record_requests: keep each request body in ``requests`` (the last ``record_limit`` only,
            so a long run stays bounded); ``routermon stand-in`` turns it off unless ``--record``.
    """

    scenario: Scenario | None = None
    seed: int = 0
    clock: Clock | None = None
    time_scale: float = 0.0
    timeout_s: float = 60.0
    requests: list[dict] = field(default_factory=list)
    internal_errors: list[BaseException] = field(default_factory=list)
    record_requests: bool = True
    record_limit: int = RECORD_LIMIT
    models: ModelTable = field(default_factory=lambda: BUNDLED)
    _queue: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(init=False)
    _counter: int = 0

    rate_limits: RateLimits = field(default_factory=lambda: RateLimits())

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
        """How many queued replies have not been served yet."""
        return len(self._queue)

    def _next_scripted(self, model: str) -> Reply | None:
        for i, (want, reply) in enumerate(self._queue):
            if want is None or want == model:
                del self._queue[i]
                return reply
        return None

    # the wire protocol
    def handle(self, method: str, path: str, body: bytes, headers: Any = None) -> Response:
        """Answer one HTTP request: ``(status, headers, body, latency_seconds)``.

        Serves ``POST /v1/messages`` and the Models API (``GET /v1/models``, ``GET /v1/models/{id}``).
        Every response carries ``request-id`` and the ``anthropic-ratelimit-*`` headers.
        Raises ``TimedOut`` or ``Disconnect`` for simulated network failures.
        """
        route = path.split("?", 1)[0].rstrip("/")
        if method == "POST" and route.endswith("/v1/messages"):
            status, out_headers, payload, latency = self._messages(body, headers)
        elif method == "GET" and "/v1/models" in route:
            status, out_headers, payload, latency = self._models_api(route)
        else:
            status, out_headers, payload, latency = error(
                404,
                "not_found_error",
                f"The stand-in serves POST /v1/messages and GET /v1/models, not {method} {path[:80]}.",
            )
        with self._lock:
            self._counter += 1
            request_id = f"req_standin_{self._counter:012d}"
        # request-id and the rate-limit headers are on every real response:
        # https://docs.anthropic.com/en/api/rate-limits (response headers).
        out_headers = {**out_headers, "request-id": request_id, **self.rate_limits.headers(self._now())}
        if status >= 400 and payload[:1] == b"{":
            # An error body names the request too: {"type": "error", "error": {...}, "request_id": ...},
            # https://platform.claude.com/docs/en/api/errors
            payload = payload[:-1] + f', "request_id": "{request_id}"}}'.encode()
        return status, out_headers, payload, latency

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else time.time()

    def _models_api(self, route: str) -> Response:
        tail = route.split("/v1/models", 1)[1].strip("/")
        if not tail:
            return (
                200,
                {"content-type": "application/json"},
                json.dumps(model_list(self.models)).encode(),
                0.0,
            )
        caps = self.models.get(tail)
        if not caps.known:
            return error(404, "not_found_error", f"model: {tail}")
        return 200, {"content-type": "application/json"}, json.dumps(model_info(caps)).encode(), 0.0

    def _messages(self, body: bytes, headers: Any) -> Response:
        try:
            request = loads_within_depth(body)
            task_header = (headers or {}).get("x-routermon-task")
        except NestedTooDeeply as exc:
            return error(400, "invalid_request_error", f"The request body is {exc}.")
        except (ValueError, TypeError):
            return error(400, "invalid_request_error", "The request body is not valid JSON.")
        if self.record_requests:
            with self._lock:
                self.requests.append(request)
                if len(self.requests) > self.record_limit:  # the oldest goes: ~1 µs at 200 kept
                    del self.requests[0]
        try:
            check(request, self.models)
        except Refused as refused:
            return refused.response
        model = request["model"]
        with self._lock:
            reply = self._next_scripted(model)
            if reply is None:
                if self.scenario is None:
                    return error(
                        500, "api_error", "Nothing is queued for this request and no scenario is set."
                    )
                reply = scenario_reply(self.scenario, request, task_header, self._rng)
            message_id = f"msg_standin_{self._rng.getrandbits(48):012x}"
        response = self._render(reply, request, message_id)
        if response[0] == 200:
            self.rate_limits.spend(self._now(), response[2])
        return response

    def _render(self, reply: Reply, request: dict, message_id: str) -> Response:
        # A method, so a test's subclass can serve reply kinds of its own.
        caps = self.models.get(request["model"])  # cached by the table
        thinks = thinking_type(request, caps) is not None
        return render(
            reply,
            request,
            message_id,
            thinking_tokens=THINKING_TOKENS.get(effort(request, caps), 0) if thinks else 0,
            report_thinking=caps.thinks_by_default,
        )

    # adapters
    def transport(self) -> StandInTransport:
        """An ``httpx2`` transport serving this API in-process."""
        return StandInTransport(self)

    def client(self, *, max_retries: int = 2, timeout: float = 60.0):
        """The real ``anthropic.AsyncAnthropic`` client, talking to this stand-in."""
        from ...route.client import stand_in_client

        return stand_in_client(
            self.transport(),
            clock=self.clock,
            time_scale=self.time_scale,
            max_retries=max_retries,
            timeout=timeout,
            jitter_seed=self.seed,
        )
