"""What a Messages API response says about its call, read from the bytes the gateway forwards.

``Observed`` collects the model, usage, stop reason, content (text and ``tool_use`` inputs) and an
error, from a whole JSON body (``read_message``) or from a server-sent event stream fed chunk by
chunk as it passes (``StreamReader.feed``): the bytes themselves go to the client untouched. Usage of
a stream is ``message_start``'s, updated by each ``message_delta``'s cumulative counts
(https://docs.anthropic.com/en/api/messages-streaming).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass
class Observed:
    """One call's outcome as the response told it."""

    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    thinking_tokens: int | None = None
    stop_reason: str | None = None
    error_type: str | None = None
    texts: list[str] = field(default_factory=list)
    tool_uses: list[dict] = field(default_factory=list)  # {"name", "input"}: input parsed once complete
    first_content_at: float | None = None  # perf_counter of the first content delta (a stream)

    def take_usage(self, usage: Any) -> None:
        """Counts from a ``usage`` object; a stream's later ones replace the earlier (cumulative)."""
        if not isinstance(usage, dict):
            return
        for key, attr in (
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cache_read_input_tokens", "cache_read_tokens"),
            ("cache_creation_input_tokens", "cache_write_tokens"),
        ):
            if key in usage and usage[key] is not None:
                setattr(self, attr, _count(usage[key]))
        details = usage.get("output_tokens_details")
        if isinstance(details, dict) and "thinking_tokens" in details:
            self.thinking_tokens = _count(details["thinking_tokens"])

    def take_content(self, blocks: Any) -> None:
        for block in blocks if isinstance(blocks, list) else ():
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                self.texts.append(block["text"])
            elif block.get("type") == "tool_use":
                self.tool_uses.append({"name": block.get("name"), "input": block.get("input")})

    def answer(self) -> tuple[Any, str] | None:
        """The answer as the log stores it, with its kind for the privacy rules: the text, or the
        tool calls' inputs (and any text) as fields; ``None`` when the response held neither."""
        text = "".join(self.texts)
        if self.tool_uses:
            value: dict[str, Any] = {"tool_use": self.tool_uses}
            if text:
                value["text"] = text
            return value, "fields"
        if self.texts:
            return text, "text"
        return None


def read_message(body: bytes) -> Observed:
    """A whole (not streamed) response body: a message, or an error."""
    observed = Observed()
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        observed.error_type = "invalid_response"
        return observed
    if not isinstance(message, dict):
        observed.error_type = "invalid_response"
    elif message.get("type") == "error":
        error = message.get("error")
        observed.error_type = str(error.get("type")) if isinstance(error, dict) else "error"
    else:
        observed.model = message.get("model") if isinstance(message.get("model"), str) else None
        observed.take_usage(message.get("usage"))
        observed.stop_reason = (
            message.get("stop_reason") if isinstance(message.get("stop_reason"), str) else None
        )
        observed.take_content(message.get("content"))
    return observed


class StreamReader:
    """Feeds on an SSE byte stream as it passes and fills an ``Observed``."""

    def __init__(self) -> None:
        self.observed = Observed()
        self._buffer = b""
        self._partial: dict[int, list[str]] = {}  # a tool_use block's input JSON, as it arrives
        self._blocks: dict[int, dict] = {}

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while True:
            end, size = _event_end(self._buffer)
            if end < 0:
                return
            raw, self._buffer = self._buffer[:end], self._buffer[end + size :]
            self._event(raw)

    def _event(self, raw: bytes) -> None:
        data = b"\n".join(
            line[5:].lstrip(b" ")
            for line in raw.replace(b"\r\n", b"\n").split(b"\n")
            if line.startswith(b"data:")
        )
        if not data:
            return
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            return
        if isinstance(event, dict):
            self._apply(event)

    def _apply(self, event: dict) -> None:
        kind, seen = event.get("type"), self.observed
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = event["message"]
            seen.model = message.get("model") if isinstance(message.get("model"), str) else seen.model
            seen.take_usage(message.get("usage"))
        elif kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            self._blocks[event.get("index", -1)] = dict(event["content_block"])
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict):
            self._delta(event.get("index", -1), event["delta"])
        elif kind == "content_block_stop":
            self._close_block(event.get("index", -1))
        elif kind == "message_delta":
            delta = event.get("delta") if isinstance(event.get("delta"), dict) else {}
            if isinstance(delta.get("stop_reason"), str):
                seen.stop_reason = delta["stop_reason"]
            seen.take_usage(event.get("usage"))
        elif kind == "error":
            error = event.get("error")
            seen.error_type = str(error.get("type")) if isinstance(error, dict) else "error"

    def _delta(self, index: int, delta: dict) -> None:
        if self.observed.first_content_at is None:
            self.observed.first_content_at = time.perf_counter()
        block = self._blocks.get(index)
        if block is None:
            return
        if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
            block["text"] = block.get("text", "") + delta["text"]
        elif delta.get("type") == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            self._partial.setdefault(index, []).append(delta["partial_json"])

    def _close_block(self, index: int) -> None:
        block = self._blocks.pop(index, None)
        if block is None:
            return
        if block.get("type") == "tool_use":
            joined = "".join(self._partial.pop(index, []))
            try:
                block["input"] = json.loads(joined) if joined else block.get("input", {})
            except (ValueError, RecursionError):
                block["input"] = joined
        self.observed.take_content([block])

    def finish(self) -> Observed:
        """What was seen, with blocks still open (a stream cut short) taken as they stand."""
        for index in sorted(self._blocks):
            self._close_block(index)
        return self.observed


def _event_end(buffer: bytes) -> tuple[int, int]:
    """Where the first complete event ends in ``buffer`` and the separator's size; (-1, 0) if none."""
    found = [(i, n) for i, n in ((buffer.find(b"\n\n"), 2), (buffer.find(b"\r\n\r\n"), 4)) if i >= 0]
    return min(found) if found else (-1, 0)
