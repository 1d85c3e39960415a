"""Streaming: a rendered message as the server-sent events the Messages API sends for
``"stream": true``.

The event order is the one the streaming page gives
(https://docs.anthropic.com/en/api/messages-streaming): ``message_start`` (the message
with empty ``content``), then per content block ``content_block_start``, one or more
``content_block_delta`` (``text_delta``, ``input_json_delta``, or ``thinking_delta`` followed by
``signature_delta``) and ``content_block_stop``; a ``ping`` right after the first block starts; then
``message_delta`` (stop reason and cumulative ``usage``) and ``message_stop``. A tool's input
arrives as partial JSON strings that only parse once joined.
"""

from __future__ import annotations

import json

CONTENT_TYPE = "text/event-stream; charset=utf-8"
CHUNK_CHARS = 24  # how much text or JSON one delta carries


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def _block_events(index: int, block: dict, *, ping: bool = False) -> list[bytes]:
    kind = block.get("type")
    if kind == "text":
        start, deltas = (
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": part} for part in _chunks(block["text"])],
        )
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": part} for part in _chunks(json.dumps(block["input"]))
        ]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": part} for part in _chunks(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:  # a block kind the stand-in never renders: sent whole
        start, deltas = block, []
    events = [
        _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
    ]
    if ping:  # the docs' example stream pings right after the first block starts
        events.append(_event("ping", {"type": "ping"}))
    for delta in deltas:
        events.append(
            _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        )
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def stream_body(message: dict) -> bytes:
    """The SSE body for a complete message (as ``wire.render`` builds it)."""
    usage = dict(message["usage"])
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        # message_start carries the input side of usage and a first output count.
        "usage": {**usage, "output_tokens": 1},
    }
    start.pop("stop_details", None)
    events = [_event("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events.extend(_block_events(index, block, ping=index == 0))
    if not message["content"]:
        events.append(_event("ping", {"type": "ping"}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message.get("stop_sequence")}
    if message.get("stop_details") is not None:
        delta["stop_details"] = message["stop_details"]
    # message_delta's usage is cumulative (output_tokens is the total so far).
    events.append(_event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return b"".join(events)
