"""Wire rendering: a ``Reply`` as a Messages API HTTP response (status, headers, JSON body).

Network failures have no body; they are raised as ``TimedOut`` or ``Disconnect`` for the transport
or the server to act out.
"""

from __future__ import annotations

import json
import math

from . import sse
from .replies import Reply

Response = tuple[int, dict[str, str], bytes, float]
"""``(status, headers, body, latency_seconds)``."""


class Disconnect(Exception):
    """The stand-in drops the connection (the server closes the socket; the transport raises)."""


class TimedOut(Exception):
    """The stand-in never answers in time."""


def error(status: int, error_type: str, message: str) -> Response:
    """A Messages API error body, with the ``x-should-retry`` hint the SDK reads."""
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


def render(
    reply: Reply, request: dict, message_id: str, *, thinking_tokens: int = 0, report_thinking: bool = False
) -> Response:
    """The HTTP response for ``reply`` to ``request``; raises ``TimedOut`` / ``Disconnect``.

    The reply's shape follows the request: a JSON text block for a structured-output request
    (``output_config.format``), a ``tool_use`` block when tools are offered, plain text otherwise.
    ``thinking_tokens`` > 0 puts a thinking block (display omitted, the 5.x default) first and adds
    them to ``output_tokens``; ``report_thinking`` adds ``usage.output_tokens_details``.
    """
    latency = reply.latency_ms / 1000.0
    if reply.kind == "timeout":
        raise TimedOut()
    if reply.kind == "connection_reset":
        raise Disconnect()
    if reply.kind == "http_error":
        status, headers, body, _ = error(reply.status, reply.error_type, f"Stand-in {reply.error_type}.")
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
    content, stop = _content(reply, request, message_id)
    out_tokens = reply.output_tokens
    if out_tokens is None:
        out_tokens = max(1, len(json.dumps(content)) // 4)
    if thinking_tokens and reply.kind != "refusal":
        content.insert(0, {"type": "thinking", "thinking": "", "signature": f"sig_{message_id[12:]}"})
        out_tokens += thinking_tokens
    else:
        thinking_tokens = 0
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": request["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        # stop_details: set on refusals (its category may be null), null otherwise:
        # https://platform.claude.com/docs/en/api/messages (RefusalStopDetails in the SDK's types).
        "stop_details": _refusal_details(reply) if stop == "refusal" else None,
        "usage": {
            "input_tokens": in_tokens,
            "output_tokens": out_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    if report_thinking:
        # usage.output_tokens_details.thinking_tokens: part of output_tokens, billed as output.
        message["usage"]["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    if request.get("stream") is True:
        return 200, {"content-type": sse.CONTENT_TYPE}, sse.stream_body(message), latency
    return 200, {"content-type": "application/json"}, json.dumps(message).encode(), latency


def _refusal_details(reply: Reply) -> dict:
    category = reply.payload if isinstance(reply.payload, str) else None
    explanation = "The request was declined under the usage policy." if category else None
    return {"type": "refusal", "category": category, "explanation": explanation}


def reply_shape(request: dict) -> str:
    """``json`` (structured outputs), ``tool`` (tools offered) or ``text`` (a plain prompt)."""
    if ((request.get("output_config") or {}).get("format") or {}).get("type") == "json_schema":
        return "json"
    return "tool" if request.get("tools") else "text"


def _content(reply: Reply, request: dict, message_id: str) -> tuple[list[dict], str]:
    # The content blocks and stop reason of a message reply.
    shape = reply_shape(request)
    if reply.kind == "tool_input":
        if shape == "json":
            return [{"type": "text", "text": json.dumps(reply.payload)}], "end_turn"
        if shape == "text":
            return [{"type": "text", "text": _plain(reply.payload)}], "end_turn"
        return [_tool_use(request, message_id, reply.payload)], "tool_use"
    if reply.kind == "refusal":
        return [{"type": "text", "text": "I can't help with that."}], "refusal"
    if reply.kind == "empty":
        return [], "end_turn"
    if reply.kind == "truncated":
        if shape == "tool":
            return [_tool_use(request, message_id, {})], "max_tokens"
        return [{"type": "text", "text": '{"answer": '}], "max_tokens"
    if reply.kind == "text_only":
        return [{"type": "text", "text": str(reply.payload)}], "end_turn"
    return [], "tool_use"


def _plain(payload: object) -> str:
    # What a model says to a prompt with no schema and no tools: the answer, as prose.
    if isinstance(payload, dict) and "answer" in payload:
        payload = payload["answer"]
    return payload if isinstance(payload, str) else json.dumps(payload)


def _tool_use(request: dict, message_id: str, payload: object) -> dict:
    return {
        "type": "tool_use",
        "id": f"toolu_{message_id[12:]}",
        "name": _tool_name(request),
        "input": payload,
    }


def _tool_name(request: dict) -> str:
    choice = request.get("tool_choice") or {}
    if choice.get("name"):
        return choice["name"]
    tools = request.get("tools") or []
    return tools[0].get("name", "submit_answer") if tools else "submit_answer"


def _estimate_input_tokens(request: dict) -> int:
    # About four characters a token over what the model reads: system, messages and tool schemas.
    chars = len(json.dumps(request.get("system", ""))) + len(json.dumps(request.get("messages", [])))
    chars += len(json.dumps(request.get("tools", [])))
    chars += len(json.dumps(((request.get("output_config") or {}).get("format") or {}).get("schema", "")))
    return max(1, chars // 4)
