"""The model capability table and the requests the router builds from it (core/models.py, core/requests.py)."""

from __future__ import annotations

import pytest

from routermon.core.errors import ConfigError
from routermon.core.route import tasks
from routermon.core.route.models import BUNDLED, ModelCapabilities, ModelTable, capabilities
from routermon.core.route.requests import resolve
from routermon.core.route.router import Router, Tier
from routermon.core.simulate.standin import StandInAPI

LABELS = ["safe", "unsafe", "review-needed"]
TABLE_MODELS = [
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-fable-5-1",
    "claude-sonnet-5",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5",
    "claude-opus-4-5",
    "claude-haiku-4-5",
]


def test_every_entry_names_its_sources_and_unknown_models_get_the_conservative_default():
    for model in TABLE_MODELS:
        caps = capabilities(model)
        assert caps.known and caps.sources, model
        assert all(s.startswith("https://") for s in caps.sources)
    unknown = capabilities("claude-made-up-1")
    assert not unknown.known
    assert (unknown.structured_outputs, unknown.forced_tool_choice, unknown.sampling_params) == (False,) * 3
    assert unknown.effort_levels == () and unknown.thinking_default is None


def test_the_facts_the_default_cascade_depends_on():
    sonnet, haiku = capabilities("claude-sonnet-5-5"), capabilities("claude-haiku-5-5")
    assert not sonnet.forced_tool_choice and sonnet.structured_outputs
    assert sonnet.thinking_default == "adaptive" and sonnet.default_effort == "high"
    assert "disabled" not in sonnet.thinking_types and sonnet.thinking_off() == "between_tools"
    assert haiku.forced_tool_choice and haiku.default_effort == "medium"
    assert haiku.thinking_off() == "disabled"
    assert not sonnet.sampling_params and not haiku.sampling_params
    assert (sonnet.context_window, sonnet.min_cacheable_tokens) == (1_000_000, 512)


def test_a_settings_override_changes_one_field_of_one_model():
    table = ModelTable(
        {"claude-sonnet-5-5": {"structured_outputs": False}, "my-finetune": {"sampling_params": True}}
    )
    assert not table.get("claude-sonnet-5-5").structured_outputs
    assert table.get("claude-sonnet-5-5").thinking_default == "adaptive"
    assert "settings" in table.get("claude-sonnet-5-5").sources
    assert table.knows("my-finetune") and table.get("my-finetune").sampling_params
    assert BUNDLED.get("claude-sonnet-5-5").structured_outputs  # the bundled table is untouched
    with pytest.raises(ConfigError, match="unknown field"):
        ModelTable({"claude-sonnet-5-5": {"forced_tools": True}})


@pytest.mark.parametrize(
    ("model", "mode", "thinking", "effort"),
    [
        ("claude-sonnet-5-5", "json_schema", {"type": "between_tools"}, "low"),
        ("claude-haiku-5-5", "json_schema", {"type": "disabled"}, "low"),
        ("claude-opus-5-5", "json_schema", None, "low"),  # thinking cannot be turned off
        ("claude-haiku-4-5", "json_schema", None, None),  # off already; no effort parameter
        ("claude-made-up-1", "auto_tool", None, None),
    ],
)
def test_default_tier_settings_resolve_to_what_each_model_takes(model, mode, thinking, effort):
    request = resolve(BUNDLED.get(model))
    assert (request.answer_mode, request.thinking, request.effort) == (mode, thinking, effort)


def test_forced_tool_only_where_structured_outputs_are_missing_and_forcing_is_allowed():
    spec = tasks.classify(LABELS)
    table = ModelTable(
        {
            "claude-haiku-4-5": {"structured_outputs": False},
            "claude-sonnet-5-5": {"structured_outputs": False},
        }
    )
    forced = resolve(table.get("claude-haiku-4-5")).params(spec)
    assert (
        forced["tool_choice"] == {"type": "tool", "name": "submit_answer"} and "output_config" not in forced
    )
    # Sonnet 5.5 refuses forced tool use: the tool is offered, not forced.
    offered = resolve(table.get("claude-sonnet-5-5")).params(spec)
    assert offered["tool_choice"] == {"type": "auto"}
    # A thinking model cannot be forced either (thinking and forced tool use do not combine).
    always_thinking = ModelCapabilities(
        "x", forced_tool_choice=True, thinking_types=frozenset({"adaptive"}), thinking_default="adaptive"
    )
    thinking = resolve(always_thinking)
    assert thinking.answer_mode == "auto_tool"
    json_params = resolve(capabilities("claude-sonnet-5-5")).params(spec)
    assert "tools" not in json_params and "tool_choice" not in json_params
    assert json_params["output_config"]["format"]["type"] == "json_schema"
    assert json_params["output_config"]["format"]["schema"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("model", "tier", "message"),
    [
        ("claude-sonnet-5-5", {"thinking": "disabled"}, "does not take thinking type 'disabled'"),
        ("claude-sonnet-5-5", {"effort": "xhigh"}, "with thinking 'between_tools'"),
        ("claude-haiku-4-5", {"effort": "low"}, "does not take effort 'low'"),
        ("claude-haiku-4-5", {"thinking": "adaptive"}, "does not take thinking type 'adaptive'"),
        ("claude-haiku-5-5", {"thinking": "sometimes"}, "must be one of"),
    ],
)
def test_a_tier_setting_the_model_refuses_fails_when_the_router_is_built(model, tier, message):
    api = StandInAPI()
    with pytest.raises(ConfigError, match=message):
        Router(tiers=[Tier("claude-haiku-5-5", 0.7), Tier(model, **tier)], client=api.client())


def test_effort_above_high_is_fine_with_thinking_on():
    request = resolve(capabilities("claude-sonnet-5-5"), thinking="default", effort="xhigh")
    assert request.thinking is None and request.effort == "xhigh" and request.thinks


def test_extract_schema_is_closed_at_every_object():
    from pydantic import BaseModel

    class Inner(BaseModel):
        city: str

    class Person(BaseModel):
        name: str
        home: Inner | None

    schema = tasks.extract(Person).output_schema()

    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    found = list(objects(schema))
    assert len(found) >= 3 and all(o["additionalProperties"] is False for o in found)
