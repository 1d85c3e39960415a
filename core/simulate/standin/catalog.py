"""The stand-in's Models API: ``GET /v1/models/{model_id}`` and ``GET /v1/models``, answered from
the capability table, in the real response shape.

Shape (https://platform.claude.com/docs/en/api/cli/models/retrieve and
https://platform.claude.com/docs/en/api/cli/models (list); ``ModelInfo`` in the SDK's types):
``{"type": "model", "id", "display_name", "created_at", "lifecycle", "line", "max_input_tokens",
"max_tokens", "capabilities": {...}}``, each capability an object with ``supported``;
``thinking.types`` names ``adaptive``, ``enabled``, ``disabled``, ``between_tools``; ``effort``
names ``low`` .. ``max``. A list is ``{"data": [...], "first_id", "last_id", "has_more"}``.
Capabilities the table does not describe (batch, citations, PDFs...) are reported supported.
"""

from __future__ import annotations

from ...route.models import EFFORT_LEVELS, ModelCapabilities, ModelTable, bundled_models

_LINES = ("haiku", "sonnet", "opus", "fable", "mythos")
_SUPPORTED = {"supported": True}
_CONTEXT_STRATEGIES = ("clear_thinking_20251015", "clear_tool_uses_20250919", "compact_20260112")


def _yes(flag: bool) -> dict:
    return {"supported": bool(flag)}


def _display_name(model: str) -> str:
    # claude-sonnet-5-5 -> Claude Sonnet 5.5
    words = model.removeprefix("claude-").split("-")
    names = [w.capitalize() for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit() and len(w) < 8)
    return " ".join(["Claude", *names, version]).strip()


def model_info(caps: ModelCapabilities) -> dict:
    """The ``ModelInfo`` object for one model of the table."""
    thinks = bool(caps.thinking_types - {"disabled"})
    line = next((name for name in _LINES if f"-{name}-" in f"-{caps.model}-"), None)
    effort = {level: _yes(level in caps.effort_levels) for level in EFFORT_LEVELS}
    return {
        "type": "model",
        "id": caps.model,
        "display_name": _display_name(caps.model),
        "created_at": "1970-01-01T00:00:00Z",  # "an epoch value if the release date is unknown"
        "deprecated_at": None,
        "retires_at": None,
        "lifecycle": "active",
        "line": line,
        "max_input_tokens": caps.context_window,
        "max_tokens": 64_000,
        "capabilities": {
            "batch": _SUPPORTED,
            "citations": _SUPPORTED,
            "code_execution": _SUPPORTED,
            "context_management": {
                "supported": False,
                **{name: {"supported": False} for name in _CONTEXT_STRATEGIES},
            },
            "effort": {"supported": bool(caps.effort_levels), **effort},
            "image_input": _SUPPORTED,
            "pdf_input": _SUPPORTED,
            "server_tools": {
                "supported": False,
                "code_execution": {"supported": False},
                "web_search": {"supported": False},
            },
            "structured_outputs": _yes(caps.structured_outputs),
            "thinking": {
                "supported": thinks,
                "types": {
                    kind: _yes(kind in caps.thinking_types)
                    for kind in ("adaptive", "enabled", "disabled", "between_tools")
                },
            },
        },
    }


def model_list(table: ModelTable) -> dict:
    """``GET /v1/models``: every model of the bundled table, one page."""
    data = [model_info(table.get(name)) for name in bundled_models()]
    return {
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": False,
    }
