"""Request validation: the stand-in refuses what the real Messages API refuses, with its status and
error body (``{"type": "error", "error": {"type": ..., "message": ...}}``,
https://platform.claude.com/docs/en/api/errors), from the same model table the router reads
(``routermon.core.route.models``).

Where the real service might accept a request we cannot be sure of, the stand-in refuses it:
any ``temperature``/``top_p``/``top_k`` on a model that refuses non-default values (the real API
accepts the default value), a structured-output schema with an object that is not closed, and forced
tool use while the model thinks.
"""

from __future__ import annotations

import math
from typing import Any

from ...route.models import (
    EFFORT_LEVELS,
    SAMPLING_PARAMS,
    STRUCTURED,
    THINKING_TYPES,
    ModelCapabilities,
    ModelTable,
)
from .wire import Response, error

# The Messages API reference, where each top-level field's type and range is given.
MESSAGES_CREATE = "https://platform.claude.com/docs/en/api/messages/create"
# Top-level fields the Messages API takes (MESSAGES_CREATE); any other is refused, as the real API
# answers "Extra inputs are not permitted".
KNOWN_FIELDS = frozenset(
    {
        "model", "max_tokens", "messages", "system", "temperature", "top_p", "top_k",
        "stop_sequences", "metadata", "service_tier", "stream", "tools", "tool_choice",
        "thinking", "output_config", "container", "context_management", "mcp_servers",
        "inference_geo", "cache_control",
    }
)  # fmt: skip
SERVICE_TIERS = ("auto", "standard_only")  # MESSAGES_CREATE: service_tier
MAX_USER_ID_CHARS = 256  # MESSAGES_CREATE: metadata.user_id, maxLength 256
# Extended thinking's budget floor: https://platform.claude.com/docs/en/build-with-claude/extended-thinking
MIN_THINKING_BUDGET = 1024


class Refused(Exception):
    """A request the API refuses; ``response`` is the error it answers with."""

    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(message)
        self.response: Response = error(status, error_type, message)


def _bad(message: str) -> Refused:
    return Refused(400, "invalid_request_error", message)


def check_shape(request: Any) -> None:
    """The fields every request needs, of the right JSON types (before the model is looked up)."""
    if not isinstance(request, dict):
        raise _bad("The request body must be a JSON object.")
    if not isinstance(request.get("model"), str) or not request["model"]:
        raise _bad("model: Field required")
    if "max_tokens" not in request:
        raise _bad("max_tokens: Field required")
    max_tokens = request["max_tokens"]
    if max_tokens.__class__ is not int or max_tokens < 1:
        raise _bad("max_tokens: Input should be a positive integer")
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages: Field required (a non-empty list of messages)")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise _bad(f"messages.{i}: Input should be an object with role 'user' or 'assistant'")
        content = message.get("content")
        if not isinstance(content, str | list):
            raise _bad(f"messages.{i}.content: Input should be a string or a list of content blocks")
        if isinstance(content, list) and not all(isinstance(b, dict) for b in content):
            raise _bad(f"messages.{i}.content: each content block must be an object")
    _check_scalars(request)
    tools = request.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(
            isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools
        ):
            raise _bad("tools: Input should be a list of tool definitions, each with a name")
    if "stream" in request and not isinstance(request["stream"], bool):
        raise _bad("stream: Input should be a valid boolean")
    for name in ("tool_choice", "thinking", "output_config"):
        if name in request and not isinstance(request[name], dict):
            raise _bad(f"{name}: Input should be an object")


def _number(value: Any) -> bool:
    """A JSON number (not a boolean) that is finite."""
    return value.__class__ in (int, float) and math.isfinite(value)


def _check_scalars(request: dict) -> None:
    """Types and ranges of the top-level fields besides model, max_tokens and messages."""
    unknown = sorted(set(request) - KNOWN_FIELDS)
    if unknown:
        raise _bad(f"{unknown[0][:100]}: Extra inputs are not permitted")  # MESSAGES_CREATE
    # MESSAGES_CREATE: temperature and top_p, numbers from 0.0 to 1.0.
    for name in ("temperature", "top_p"):
        if name in request and not (_number(request[name]) and 0.0 <= request[name] <= 1.0):
            raise _bad(f"{name}: Input should be a number from 0.0 to 1.0")
    # MESSAGES_CREATE: top_k, an integer, minimum 0.
    if "top_k" in request and not (request["top_k"].__class__ is int and request["top_k"] >= 0):
        raise _bad("top_k: Input should be a non-negative integer")
    _check_system(request)
    # MESSAGES_CREATE: stop_sequences, a list of strings (stricter: each non-empty).
    stops = request.get("stop_sequences")
    if "stop_sequences" in request and not (
        isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)
    ):
        raise _bad("stop_sequences: Input should be a list of non-empty strings")
    # MESSAGES_CREATE: metadata, an object whose only field is user_id (a string up to 256, or null).
    if "metadata" in request:
        metadata = request["metadata"]
        if not isinstance(metadata, dict) or set(metadata) - {"user_id"}:
            raise _bad("metadata: Input should be an object with only a user_id")
        user_id = metadata.get("user_id")
        if user_id is not None and not (isinstance(user_id, str) and len(user_id) <= MAX_USER_ID_CHARS):
            raise _bad(
                f"metadata.user_id: Input should be a string of at most {MAX_USER_ID_CHARS} characters"
            )
    if "service_tier" in request and request["service_tier"] not in SERVICE_TIERS:
        raise _bad(f"service_tier: Input should be one of {', '.join(SERVICE_TIERS)}")


def _check_system(request: dict) -> None:
    # MESSAGES_CREATE: system, a string or a list of text blocks ({"type": "text", "text": ...}).
    if "system" not in request:
        return
    system = request["system"]
    if isinstance(system, str):
        return
    if not isinstance(system, list) or not all(
        isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str) for b in system
    ):
        raise _bad("system: Input should be a string or a list of text blocks")


def thinking_type(request: dict, caps: ModelCapabilities) -> str | None:
    """The thinking type the model runs this request with (``None``: not thinking)."""
    thinking = request.get("thinking")
    kind = thinking.get("type") if thinking else caps.thinking_default
    return kind if kind in ("adaptive", "enabled") else None


def effort(request: dict, caps: ModelCapabilities) -> str:
    """The effort level this request runs at (the model's default when the request sets none)."""
    return (request.get("output_config") or {}).get("effort") or caps.default_effort or "high"


def check(request: dict, table: ModelTable) -> ModelCapabilities:
    """Raise ``Refused`` for a request the real API refuses; returns the model's capabilities."""
    check_shape(request)
    caps = table.get(request["model"])
    if not caps.known:
        # An unknown model is a 404: https://platform.claude.com/docs/en/api/errors
        raise Refused(404, "not_found_error", f"model: {request['model']}")
    # Different models have different maximum values for max_tokens (MESSAGES_CREATE); the table
    # has no output limits, so (stricter) nothing past the model's context window is accepted.
    if request["max_tokens"] > caps.context_window:
        raise _bad(f"max_tokens: Input should be at most {caps.context_window} for this model")
    _check_sampling(request, caps)
    kind = _check_thinking(request, caps)
    _check_output_config(request, caps, kind)
    _check_tools(request, caps)
    return caps


def _check_sampling(request: dict, caps: ModelCapabilities) -> None:
    # Sonnet 5 and later refuse non-default sampling values (stricter here: any value),
    # https://platform.claude.com/docs/en/models/sonnet-5/migration-guide; Haiku 4.5 refuses temperature
    # with top_p, https://platform.claude.com/docs/en/models/haiku-4-5/migration-guide.
    given = [name for name in SAMPLING_PARAMS if name in request]
    if given and not caps.sampling_params:
        raise _bad(f"{given[0]} is deprecated for this model.")
    if caps.sampling_exclusive and "temperature" in request and "top_p" in request:
        raise _bad("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")


def _check_thinking(request: dict, caps: ModelCapabilities) -> str | None:
    # Which thinking.type values each model takes:
    # https://platform.claude.com/docs/en/build-with-claude/thinking-troubleshooting
    thinking = request.get("thinking")
    if thinking is None:
        return None
    kind = thinking.get("type")
    if kind not in THINKING_TYPES:
        raise _bad(f"thinking.type: Input should be one of {', '.join(THINKING_TYPES)}")
    if kind not in caps.thinking_types:
        hint = ""
        if kind == "disabled" and "between_tools" in caps.thinking_types:
            hint = ' Use "thinking.type.between_tools" to turn off up-front thinking.'
        elif "adaptive" in caps.thinking_types:
            hint = ' Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        raise _bad(f'"thinking.type.{kind}" is not supported for this model.{hint}')
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if budget.__class__ is not int or budget < MIN_THINKING_BUDGET:
            raise _bad(
                f"thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_THINKING_BUDGET}"
            )
        if budget >= request["max_tokens"]:
            raise _bad("`max_tokens` must be greater than `thinking.budget_tokens`.")
    return kind


def _check_output_config(request: dict, caps: ModelCapabilities, kind: str | None) -> None:
    config = request.get("output_config")
    if not config:
        return
    level = config.get("effort")
    if level is not None:
        # Effort levels per model: the model pages (e.g. https://platform.claude.com/docs/en/models/haiku-5-5/overview).
        if level not in EFFORT_LEVELS:
            raise _bad(f"output_config.effort: Input should be one of {', '.join(EFFORT_LEVELS)}")
        if not caps.effort_levels:
            raise _bad("output_config.effort: This model does not support the effort parameter.")
        if level not in caps.effort_levels:
            raise _bad(f"output_config.effort: {level!r} is not supported for this model.")
        # Sonnet 5.5's between_tools and Haiku 5.5's disabled work at low/medium/high only:
        # https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5
        if kind in ("disabled", "between_tools") and level not in caps.effort_when_off:
            raise _bad(f'"thinking.type.{kind}" cannot be used with effort {level!r} on this model.')
    fmt = config.get("format")
    if fmt is not None:
        # Structured outputs: https://platform.claude.com/docs/en/build-with-claude/structured-outputs
        if not caps.structured_outputs:
            raise _bad("output_config.format: Structured outputs are not supported for this model.")
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            raise _bad("output_config.format.type: Input should be 'json_schema'")
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise _bad("output_config.format.schema: Field required")
        open_object = _open_object(schema, "schema")
        if open_object:
            raise _bad(
                f"output_config.format.schema: For 'object' type, 'additionalProperties' must be "
                f"explicitly set to false (at {open_object}); see {STRUCTURED}"
            )


def _open_object(schema: Any, where: str) -> str | None:
    """Where the first object schema that is not closed with ``additionalProperties: false`` is."""
    if isinstance(schema, list):
        for i, sub in enumerate(schema):
            found = _open_object(sub, f"{where}[{i}]")
            if found:
                return found
        return None
    if not isinstance(schema, dict):
        return None
    is_object = schema.get("type") == "object" or "properties" in schema
    if is_object and schema.get("additionalProperties") is not False:
        return where
    for key in ("properties", "$defs"):
        for name, sub in (schema.get(key) or {}).items():
            found = _open_object(sub, f"{where}.{key}.{name}")
            if found:
                return found
    for key in ("anyOf", "allOf", "oneOf", "items", "prefixItems"):
        if key in schema:
            found = _open_object(schema[key], f"{where}.{key}")
            if found:
                return found
    return None


def _check_tools(request: dict, caps: ModelCapabilities) -> None:
    choice = request.get("tool_choice")
    if not choice:
        return
    kind = choice.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        raise _bad("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    tools = request.get("tools") or []
    if kind in ("any", "tool"):
        # Forced tool use returns an error on Sonnet 5.5:
        # https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5
        if not caps.forced_tool_choice:
            raise _bad('tool_choice: type "tool" and "any" are not supported for this model.')
        # Thinking is not compatible with forced tool use:
        # https://platform.claude.com/docs/en/build-with-claude/extended-thinking
        if thinking_type(request, caps):
            raise _bad("Thinking may not be enabled when tool_choice forces tool use.")
        if not tools:
            raise _bad("tool_choice: a forced tool choice needs tools")
        if kind == "tool" and choice.get("name") not in {t["name"] for t in tools}:
            raise _bad(f"tool_choice.name: no tool named {choice.get('name')!r} is defined")
