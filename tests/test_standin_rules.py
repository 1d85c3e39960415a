"""The stand-in refuses what the real Messages API refuses (status and error body), from the same
model table the router builds its requests from; and the router's request for each model passes."""

from __future__ import annotations

import json

import anthropic
import pytest

from routermon.core.prices import PriceBook
from routermon.core.route import tasks
from routermon.core.route.models import ModelTable
from routermon.core.route.requests import resolve
from routermon.core.route.router import Router, Tier
from routermon.core.simulate.standin import StandInAPI, answer

LABELS = ["safe", "unsafe", "review-needed"]
SPEC = tasks.classify(LABELS)
USER = [{"role": "user", "content": "hello"}]
# Prices for table models genai-prices may not carry yet; the tests are about requests, not money.
PRICES = PriceBook(
    overrides={m: {"input_mtok": 1.0, "output_mtok": 5.0} for m in ("claude-opus-5-5", "claude-fable-5-1")}
)


def post(api: StandInAPI, body: dict | bytes) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _headers, payload, _latency = api.handle("POST", "/v1/messages", raw)
    return status, json.loads(payload)


def request(model: str, **fields) -> dict:
    return {"model": model, "max_tokens": 256, "messages": USER, **fields}


def forced_tool() -> dict:
    return {"tools": [SPEC.tool()], "tool_choice": {"type": "tool", "name": tasks.TOOL_NAME}}


def assert_refused(status_body, status, error_type, fragment):
    got_status, body = status_body
    assert got_status == status
    assert body["type"] == "error" and set(body) == {"type", "error", "request_id"}
    assert body["request_id"].startswith("req_")
    assert body["error"]["type"] == error_type
    assert fragment in body["error"]["message"]


@pytest.fixture
def api():
    stand_in = StandInAPI()
    stand_in.enqueue(*[answer("safe", 0.9)] * 5)
    return stand_in


# -- one test per rule: the violating request is refused ---------------------------------------


def test_unknown_model_is_a_404_not_found_error(api):
    assert_refused(post(api, request("claude-made-up-9")), 404, "not_found_error", "model: claude-made-up-9")
    assert api.pending == 5  # nothing was served


def test_missing_max_tokens_is_a_400(api):
    body = {"model": "claude-haiku-5-5", "messages": USER}
    assert_refused(post(api, body), 400, "invalid_request_error", "max_tokens: Field required")


@pytest.mark.parametrize("model", ["claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"])
def test_forced_tool_use_is_refused_where_the_model_rejects_it(api, model):
    assert_refused(
        post(api, request(model, **forced_tool())),
        400,
        "invalid_request_error",
        'tool_choice: type "tool" and "any" are not supported for this model.',
    )
    any_tool = {"tools": [SPEC.tool()], "tool_choice": {"type": "any"}}
    assert post(api, request(model, **any_tool))[0] == 400


def test_forced_tool_use_while_thinking_is_refused_and_accepted_with_thinking_off(api):
    assert_refused(
        post(api, request("claude-haiku-5-5", **forced_tool())),
        400,
        "invalid_request_error",
        "Thinking may not be enabled when tool_choice forces tool use.",
    )
    status, body = post(api, request("claude-haiku-5-5", thinking={"type": "disabled"}, **forced_tool()))
    assert status == 200 and body["content"][-1]["type"] == "tool_use"


@pytest.mark.parametrize("model", ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-sonnet-5"])
@pytest.mark.parametrize("param", [{"temperature": 0.0}, {"temperature": 1.0}, {"top_p": 0.9}, {"top_k": 5}])
def test_sampling_parameters_are_refused_where_the_model_rejects_them(api, model, param):
    name = next(iter(param))
    assert_refused(
        post(api, request(model, **param)),
        400,
        "invalid_request_error",
        f"{name} is deprecated for this model.",
    )


def test_haiku_4_5_takes_temperature_or_top_p_but_not_both(api):
    assert post(api, request("claude-haiku-4-5", temperature=0.2))[0] == 200
    assert_refused(
        post(api, request("claude-haiku-4-5", temperature=0.2, top_p=0.9)),
        400,
        "invalid_request_error",
        "cannot both be specified",
    )


@pytest.mark.parametrize(
    ("model", "thinking", "fragment"),
    [
        ("claude-sonnet-5-5", {"type": "disabled"}, '"thinking.type.disabled" is not supported'),
        (
            "claude-haiku-5-5",
            {"type": "enabled", "budget_tokens": 2048},
            '"thinking.type.enabled" is not supported',
        ),
        ("claude-haiku-5-5", {"type": "between_tools"}, '"thinking.type.between_tools" is not supported'),
        ("claude-opus-5-5", {"type": "disabled"}, '"thinking.type.disabled" is not supported'),
        ("claude-haiku-4-5", {"type": "adaptive"}, '"thinking.type.adaptive" is not supported'),
        ("claude-sonnet-4-6", {"type": "enabled", "budget_tokens": 512}, "greater than or equal to 1024"),
        ("claude-sonnet-4-6", {"type": "enabled", "budget_tokens": 4096}, "must be greater than"),
        ("claude-sonnet-4-6", {"type": "sometimes"}, "thinking.type: Input should be one of"),
    ],
)
def test_a_thinking_type_or_budget_the_model_does_not_take_is_refused(api, model, thinking, fragment):
    assert_refused(post(api, request(model, thinking=thinking)), 400, "invalid_request_error", fragment)


def test_sonnet_5_5_disabled_points_to_between_tools_and_between_tools_stops_at_high_effort(api):
    _, body = post(api, request("claude-sonnet-5-5", thinking={"type": "disabled"}))
    assert "between_tools" in body["error"]["message"]
    off = {"type": "between_tools"}
    assert post(api, request("claude-sonnet-5-5", thinking=off, output_config={"effort": "high"}))[0] == 200
    for level in ("xhigh", "max"):
        assert_refused(
            post(api, request("claude-sonnet-5-5", thinking=off, output_config={"effort": level})),
            400,
            "invalid_request_error",
            "cannot be used with effort",
        )


def test_effort_is_refused_where_the_model_has_no_effort_parameter(api):
    assert_refused(
        post(api, request("claude-haiku-4-5", output_config={"effort": "low"})),
        400,
        "invalid_request_error",
        "does not support the effort parameter",
    )
    assert post(api, request("claude-haiku-5-5", output_config={"effort": "ultra"}))[0] == 400


def test_structured_outputs_need_a_closed_schema_and_a_model_that_has_them(api):
    open_schema = SPEC.tool()["input_schema"]  # pydantic's schema: additionalProperties unset
    fmt = {"format": {"type": "json_schema", "schema": open_schema}}
    assert_refused(
        post(api, request("claude-haiku-5-5", output_config=fmt)),
        400,
        "invalid_request_error",
        "'additionalProperties' must be explicitly set to false",
    )
    table = ModelTable({"claude-haiku-4-5": {"structured_outputs": False}})
    strict = StandInAPI(models=table)
    closed = {"format": {"type": "json_schema", "schema": SPEC.output_schema()}}
    assert_refused(
        post(strict, request("claude-haiku-4-5", output_config=closed)),
        400,
        "invalid_request_error",
        "Structured outputs are not supported",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"model": "claude-haiku-5-5", "max_tokens": 10, "messages": [5]},
        {"model": "claude-haiku-5-5", "max_tokens": 10, "messages": USER, "tools": "zz"},
        {"model": "claude-haiku-5-5", "max_tokens": -1, "messages": USER},
        {"model": "claude-haiku-5-5", "max_tokens": 10, "messages": []},
        [1, 2],
    ],
)
def test_malformed_bodies_get_a_400_json_error(api, body):
    status, payload = post(api, body)
    assert status == 400 and payload["error"]["type"] == "invalid_request_error"
    assert post(api, b"{not json")[0] == 400


# -- what the stand-in answers ------------------------------------------------------------------


def test_structured_output_request_gets_a_json_text_block_that_matches_the_schema(api):
    fmt = {"format": {"type": "json_schema", "schema": SPEC.output_schema()}}
    status, body = post(api, request("claude-haiku-5-5", output_config=fmt, thinking={"type": "disabled"}))
    assert status == 200 and body["stop_reason"] == "end_turn"
    assert [b["type"] for b in body["content"]] == ["text"]
    assert SPEC.parse(json.loads(body["content"][0]["text"])) == ("safe", 0.9)


def test_plain_prompt_gets_a_text_reply_not_a_tool_call(api):
    status, body = post(api, request("claude-haiku-4-5"))
    assert status == 200 and body["content"] == [{"type": "text", "text": "safe"}]


def test_a_model_thinking_by_default_returns_a_thinking_block_and_its_tokens(api):
    _, body = post(api, request("claude-sonnet-5-5"))
    assert body["content"][0]["type"] == "thinking"
    thinking = body["usage"]["output_tokens_details"]["thinking_tokens"]
    assert thinking == 320 and body["usage"]["output_tokens"] > thinking  # effort high, the default
    _, low = post(api, request("claude-sonnet-5-5", output_config={"effort": "low"}))
    assert low["usage"]["output_tokens_details"]["thinking_tokens"] == 40
    _, off = post(api, request("claude-sonnet-5-5", thinking={"type": "between_tools"}))
    assert off["usage"]["output_tokens_details"]["thinking_tokens"] == 0
    assert [b["type"] for b in off["content"]] == ["text"]
    _, old = post(api, request("claude-haiku-4-5"))
    assert "output_tokens_details" not in old["usage"]


def test_the_sdk_raises_its_own_error_classes_for_refusals():
    api = StandInAPI()
    import httpx2

    client = anthropic.Anthropic(
        api_key="k", base_url="http://x", http_client=httpx2.Client(transport=api.transport()), max_retries=0
    )
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-made-up-9", max_tokens=10, messages=USER)
    with pytest.raises(anthropic.BadRequestError, match="not supported for this model"):
        client.messages.create(model="claude-sonnet-5-5", max_tokens=10, messages=USER, **forced_tool())


# -- and the router's request for every model in the table passes -------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "claude-haiku-5-5",
        "claude-sonnet-5-5",
        "claude-opus-5-5",
        "claude-fable-5-1",
        "claude-sonnet-5",
        "claude-sonnet-4-6",
        "claude-sonnet-4-5",
        "claude-opus-4-5",
        "claude-haiku-4-5",
    ],
)
@pytest.mark.parametrize("tier", [{}, {"thinking": "default", "effort": None}])
def test_the_routers_request_for_each_model_is_accepted(model, tier):
    api = StandInAPI()
    api.enqueue(answer("unsafe", 0.95), answer("unsafe", 0.95))
    router = Router(tiers=[Tier(model, 0.7, **tier), Tier(model, **tier)], client=api.client(), prices=PRICES)
    result = router.route_sync("classify", "some text", labels=LABELS)
    router.close()
    assert (result.answer, result.escalated, result.calls[0].error_type) == ("unsafe", False, None)
    sent = api.requests[0]
    assert "temperature" not in sent and "top_p" not in sent and "top_k" not in sent
    mode = resolve(router.models.get(model)).answer_mode
    assert mode == "json_schema" and "tool_choice" not in sent


def test_a_table_model_without_structured_outputs_gets_the_forced_tool_and_it_passes():
    table = ModelTable({"claude-haiku-4-5": {"structured_outputs": False}})
    api = StandInAPI(models=table)
    api.enqueue(answer("safe", 0.95))
    router = Router("claude-haiku-4-5", "claude-sonnet-4-6", client=api.client(), models=table)
    result = router.route_sync("classify", "x", labels=LABELS)
    router.close()
    assert result.answer == "safe"
    assert api.requests[0]["tool_choice"] == {"type": "tool", "name": "submit_answer"}


# -- the loopback server --------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_server_answers_a_bad_content_length_with_a_400_json_error(length):
    import http.client

    from routermon.core.simulate.standin import serve_in_thread

    server, stop = serve_in_thread(StandInAPI())
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.putrequest("POST", "/v1/messages")
        conn.putheader("content-length", length)
        conn.endheaders()
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
    finally:
        stop()
    assert response.status == 400
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"


def test_stand_in_command_refuses_a_port_out_of_range_in_one_sentence():
    from click.testing import CliRunner

    from routermon.tui.cli import main

    result = CliRunner().invoke(main, ["stand-in", "--port", "99999"])
    assert result.exit_code == 2
    assert "Port 99999 is not a port number" in result.stderr and "Traceback" not in result.stderr


# -- class 9: every top-level field's type and range, as the Messages API reference gives them ----


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_k": -1}, "top_k"),
        ({"system": {"a": 1}}, "system"),
        ({"system": [{"type": "image"}]}, "system"),
        ({"system": 5}, "system"),
        ({"max_tokens": 10**30}, "max_tokens"),
        ({"max_tokens": 1e30}, "max_tokens"),
        ({"max_tokens": 1_000_001}, "max_tokens"),
        ({"stop_sequences": "stop"}, "stop_sequences"),
        ({"stop_sequences": [1]}, "stop_sequences"),
        ({"metadata": "x"}, "metadata"),
        ({"metadata": {"user_id": "u" * 257}}, "metadata.user_id"),
        ({"metadata": {"other": 1}}, "metadata"),
        ({"service_tier": "fastest"}, "service_tier"),
        ({"temprature": 0.5}, "Extra inputs are not permitted"),
    ],
)
def test_a_field_of_the_wrong_type_or_out_of_range_is_a_400(api, fields, fragment):
    # claude-haiku-4-5 takes sampling parameters, so only the type and range are at stake.
    assert_refused(post(api, request("claude-haiku-4-5", **fields)), 400, "invalid_request_error", fragment)


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": 0},
        {"temperature": 1.0},
        {"top_k": 5},
        {"system": "be brief"},
        {"system": [{"type": "text", "text": "be brief"}]},
        {"stop_sequences": ["\n\nEND"]},
        {"metadata": {"user_id": "u-1"}},
        {"metadata": {"user_id": None}},
        {"service_tier": "auto"},
        {"max_tokens": 64_000},
    ],
)
def test_a_field_within_its_type_and_range_is_accepted(api, fields):
    assert post(api, request("claude-haiku-4-5", **fields))[0] == 200
