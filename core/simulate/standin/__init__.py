"""The stand-in Anthropic Messages API, speaking its wire format.

Use it in-process as an ``httpx2`` transport behind the real ``anthropic`` client
(``StandInAPI(...).client()``), or as a loopback HTTP server (``make_server``, ``serve_in_thread``,
``routermon stand-in``) that any client reaches through ``ANTHROPIC_BASE_URL``.

Two ways to drive it:

* **Scripted**: ``api.enqueue(reply, model=None)`` queues exact replies (``answer()``, ``tool_input()``,
  ``refusal()``, ``http_error()``, ``timeout()``, ``connection_reset()``, ``broken_body()``, ``empty()``,
  ``truncated()``, ``text_only()``); queued replies are served first, in order, to the named model
  (or to any model when ``model`` is None).
* **Scenario-driven**: with a ``Scenario``, every other request is answered by a seeded model of the
  task's behaviour (``behaviour.py``).

It also serves the Models API (``GET /v1/models``, ``GET /v1/models/{id}``: ``catalog``) from the
same table, streams a reply as server-sent events when a request says ``"stream": true`` (``sse``),
and puts ``request-id`` and the ``anthropic-ratelimit-*`` headers (``ratelimits``) on every response.

Every request is first checked against the model capability table the router also reads
(``routermon.core.route.models``): what the real API refuses, the stand-in refuses with the same status and
error body (``validate``), and an unknown model is a 404.

Modules: ``replies`` (what the model answers), ``behaviour`` (a scenario's answers), ``validate``
(what is refused), ``wire`` (a reply as Messages API JSON), ``transport`` (in-process ``httpx2`` transport), ``server`` (loopback HTTP),
``api`` (``StandInAPI``, which ties them together).
"""

from .api import StandInAPI
from .behaviour import MALFORMED_KINDS
from .replies import (
    Reply,
    answer,
    broken_body,
    connection_reset,
    empty,
    http_error,
    refusal,
    text_only,
    timeout,
    tool_input,
    truncated,
)
from .server import make_server, serve_in_thread
from .transport import StandInTransport
from .wire import Disconnect, TimedOut

__all__ = [
    "MALFORMED_KINDS",
    "Disconnect",
    "Reply",
    "StandInAPI",
    "StandInTransport",
    "TimedOut",
    "answer",
    "broken_body",
    "connection_reset",
    "empty",
    "http_error",
    "make_server",
    "refusal",
    "serve_in_thread",
    "text_only",
    "timeout",
    "tool_input",
    "truncated",
]
