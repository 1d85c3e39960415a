"""Each tier's Messages API request, built from the model's capabilities (``models.py``).

How the answer comes back, by what the model takes:

* ``json_schema``: structured outputs (``output_config.format``), no tools; the reply is one JSON text.
* ``forced_tool``: the ``submit_answer`` tool with ``tool_choice: {"type": "tool"}``, for a model
  without structured outputs that allows forcing a tool (and only while it is not thinking: thinking
  and forced tool use do not go together, https://platform.claude.com/docs/en/build-with-claude/extended-thinking).
* ``auto_tool``: the tool offered with ``tool_choice: {"type": "auto"}``; the reply may be the tool
  call or a JSON text. The request for a model the table does not know.

Thinking per tier: ``"off"`` (turned off the way the model allows it: ``disabled``, or
``between_tools`` on Sonnet 5.5; left as it is where it cannot be turned off), ``"default"`` (the
field left out), or a ``thinking.type`` the model accepts. Effort per tier: ``"auto"`` (``low``
where the model takes an effort level, nothing otherwise), ``None`` (the model's default) or a level.
A setting the model refuses is a ``ConfigError`` when the router is built, never a 400 later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .models import EFFORT_LEVELS, ModelCapabilities
from .tasks import TOOL_NAME, TaskSpec

ANSWER_MODES = ("json_schema", "forced_tool", "auto_tool")
THINKING_SETTINGS = ("off", "default", "adaptive", "disabled", "between_tools")
AUTO_EFFORT = "low"  # the level "auto" picks: a label or a short extraction needs no deliberation


@dataclass(frozen=True)
class TierRequest:
    """The parts of one tier's request that depend on its model, resolved once."""

    model: str
    answer_mode: str
    thinking: dict | None  # the ``thinking`` field, or None to leave it out
    effort: str | None  # ``output_config.effort``, or None to leave it out
    thinks: bool  # whether the model will think with this request

    def params(self, spec: TaskSpec) -> dict[str, Any]:
        """``messages.create`` keyword arguments for ``spec`` besides model, messages and system."""
        params: dict[str, Any] = {}
        output_config: dict[str, Any] = {}
        if self.answer_mode == "json_schema":
            output_config["format"] = {"type": "json_schema", "schema": spec.output_schema()}
        else:
            params["tools"] = [spec.tool()]
            forced = self.answer_mode == "forced_tool"
            params["tool_choice"] = {"type": "tool", "name": TOOL_NAME} if forced else {"type": "auto"}
        if self.effort is not None:
            output_config["effort"] = self.effort
        if output_config:
            params["output_config"] = output_config
        if self.thinking is not None:
            params["thinking"] = self.thinking
        return params


def resolve(caps: ModelCapabilities, *, thinking: str = "off", effort: str | None = "auto") -> TierRequest:
    """The request parts for ``caps``' model with these settings; ``ConfigError`` when it refuses them."""
    model = caps.model
    if thinking not in THINKING_SETTINGS:
        raise ConfigError(
            f"Thinking for {model} must be one of {', '.join(THINKING_SETTINGS)}; got {thinking!r}."
        )
    if thinking == "off":
        kind = caps.thinking_off()
    elif thinking == "default":
        kind = None
    else:
        if thinking not in caps.thinking_types:
            accepted = ", ".join(sorted(caps.thinking_types)) or "none"
            raise ConfigError(f"{model} does not take thinking type {thinking!r} (it takes: {accepted}).")
        kind = thinking
    thinks = kind == "adaptive" or (kind is None and caps.thinks_by_default)
    thinking_off = kind in ("disabled", "between_tools")

    if effort == "auto":
        allowed = caps.effort_when_off if thinking_off else caps.effort_levels
        effort = AUTO_EFFORT if AUTO_EFFORT in allowed else None
    elif effort is not None:
        if effort not in EFFORT_LEVELS:
            raise ConfigError(f"Effort must be one of {', '.join(EFFORT_LEVELS)}; got {effort!r}.")
        if effort not in caps.effort_levels:
            raise ConfigError(f"{model} does not take effort {effort!r}.")
        if thinking_off and effort not in caps.effort_when_off:
            raise ConfigError(f"{model} does not take effort {effort!r} with thinking {kind!r}.")

    if caps.structured_outputs:
        mode = "json_schema"
    elif caps.forced_tool_choice and not thinks:
        mode = "forced_tool"
    else:
        mode = "auto_tool"
    return TierRequest(model, mode, {"type": kind} if kind else None, effort, thinks)
