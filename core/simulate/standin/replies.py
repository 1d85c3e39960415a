"""Scripted replies: what the stand-in model answers, one ``Reply`` per request.

Queue them with ``StandInAPI.enqueue``; the scenario behaviour (``behaviour.py``) builds the same
replies from a seeded model of the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


def refusal(category: str | None = None) -> Reply:
    """A refusal: a short text block, ``stop_reason: refusal`` and ``stop_details`` naming
    ``category`` (``cyber``, ``bio``, ``frontier_llm``, ``reasoning_extraction``,
    ``general_harms``, or None for a refusal that maps to no named category)."""
    return Reply("refusal", category)


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
    """No answer in time (the client sees a read timeout)."""
    return Reply("timeout")


def connection_reset() -> Reply:
    """The connection drops before a response."""
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
