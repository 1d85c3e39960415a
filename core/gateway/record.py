"""A call through the gateway as one row of the call log (mode ``gateway``).

The conversation (system prompt and messages) is the call's input, rendered as text and kept as
``store_inputs`` allows (``privacy.Keeper``); the answer (text, or the ``tool_use`` inputs) as
``store_answers`` allows. The row is the request's first call (tier 0, role ``cheap``), final when
it answered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UnknownModelError
from ..log.privacy import Keeper
from ..log.records import CallRecord
from ..prices import PriceBook
from ..text import dump_answer, sha256_text, valid_utf8
from .sse import Observed
from .taskkey import system_text

GATEWAY_MODE = "gateway"
GATEWAY_SOURCE = "gateway"
CANCELLED = "cancelled"  # error_type of a call the client abandoned


def _block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return (
            f"[tool_use {block.get('name')}: {json.dumps(block.get('input'), sort_keys=True, default=str)}]"
        )
    if kind == "tool_result":
        inner = block.get("content")
        return "[tool_result: " + (inner if isinstance(inner, str) else _content_text(inner)) + "]"
    return f"[{kind}]"  # an image, a document...: named, not inlined


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(_block_text(b) for b in content) if isinstance(content, list) else ""


def conversation_text(body: Mapping[str, Any]) -> str:
    """The request's conversation as text: the system prompt, then each message with its role."""
    parts = []
    system = system_text(body.get("system"))
    if system:
        parts.append(f"system: {system}")
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            parts.append(f"{message.get('role')}: {_content_text(message.get('content'))}")
    return valid_utf8("\n".join(parts))


@dataclass
class CallFacts:
    """What the gateway knows of one call besides the response: when and how long, and its status."""

    ts: float
    request_id: str
    task: str
    requested_model: str | None
    latency_ms: float
    ttft_ms: float | None
    http_status: int | None
    error_type: str | None = None  # set when the call failed before or outside the response


def call_record(
    body: Mapping[str, Any],
    observed: Observed,
    facts: CallFacts,
    *,
    keeper: Keeper,
    prices: PriceBook,
    preview_chars: int,
    role: tuple[str, int] = ("cheap", 0),
    final: bool | None = None,
) -> CallRecord:
    """The log row of one call: ``role`` (role, tier) and ``final`` (default: it answered) as a shadow
    pair needs them (``shadow.py``)."""
    text = conversation_text(body)
    model = observed.model or facts.requested_model or "unknown"
    error_type = facts.error_type or observed.error_type
    if error_type is None and facts.http_status is not None and facts.http_status >= 400:
        error_type = f"http_{facts.http_status}"
    try:
        cost = prices.cost(
            model,
            observed.input_tokens,
            observed.output_tokens,
            observed.cache_read_tokens,
            observed.cache_write_tokens,
        )
    except UnknownModelError:
        cost = None  # an unpriced model: no silent $0
    kept = observed.answer()
    answer = dump_answer(keeper.answer(kept[0], kept[1])) if kept is not None else None
    preview = (
        text
        if keeper.store_inputs == "full"
        else text[:preview_chars]
        if keeper.store_inputs == "preview"
        else None
    )
    return CallRecord(
        ts=facts.ts,
        request_id=facts.request_id,
        task=facts.task,
        mode=GATEWAY_MODE,
        source=GATEWAY_SOURCE,
        model=model,
        role=role[0],
        tier=role[1],
        input_tokens=observed.input_tokens,
        output_tokens=observed.output_tokens,
        cache_read_tokens=observed.cache_read_tokens,
        cache_write_tokens=observed.cache_write_tokens,
        cost_usd=cost,
        latency_ms=round(facts.latency_ms, 3),
        answer=answer,
        error_type=error_type,
        final=error_type is None if final is None else final,
        input_sha256=keeper.input_digest(text, sha256_text(text)),
        input_preview=preview,
        thinking_tokens=observed.thinking_tokens,
        requested_model=facts.requested_model,
        ttft_ms=None if facts.ttft_ms is None else round(facts.ttft_ms, 3),
        stop_reason=observed.stop_reason,
        http_status=facts.http_status,
    )
