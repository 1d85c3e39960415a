"""Issue 34, class 3: one nesting-depth limit at every way in (import, import-labels, the router's
parsed replies, the stand-in's request bodies), far below what any reader of the log can process."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from review_helpers import build_review_log
from test_import import pair

from routermon.core.nesting import MAX_JSON_DEPTH, NestedTooDeeply, json_depth, loads_within_depth
from routermon.core.route import tasks
from routermon.core.route.router import Router
from routermon.core.route.tasks import InvalidOutput
from routermon.core.simulate.standin import StandInAPI, serve_in_thread, tool_input
from routermon.tui.cli import main

LIMIT_MESSAGE = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"


def nested_list(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def nested_mixed(depth: int) -> str:
    """Arrays and objects in turn around a string of brackets (which do not count)."""
    opening = "".join("[" if level % 2 == 0 else '{"k": ' for level in range(depth))
    closing = "".join("]" if level % 2 == 0 else "}" for level in reversed(range(depth)))
    return opening + '"]}{[[{"' + closing


def pair_line(answer_json: str, pair_id: str = "q-1") -> str:
    return json.dumps(pair(pair_id, cheap_answer="@ANSWER@")).replace('"@ANSWER@"', answer_json)


@pytest.mark.parametrize("make", [nested_list, nested_object, nested_mixed])
def test_depth_is_measured_on_the_value_not_on_brackets_in_strings(make):
    for depth in (1, MAX_JSON_DEPTH):
        text = make(depth)
        assert json_depth(loads_within_depth(text)) == json_depth(json.loads(text)) <= MAX_JSON_DEPTH
    with pytest.raises(NestedTooDeeply):
        loads_within_depth(make(MAX_JSON_DEPTH + 2))
    with pytest.raises(NestedTooDeeply):  # deeper than the parser itself can go: the same verdict
        loads_within_depth(make(5000))
    assert loads_within_depth('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]') == [
        "[" * 68
    ]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 5000])
def test_import_refuses_a_line_nested_too_deeply_and_skip_invalid_skips_it(tmp_path, log_db, depth):
    """990 levels is just under Python's json limit: it was accepted, and later readers failed."""
    src = tmp_path / "p.jsonl"
    src.write_text(pair_line(nested_list(depth)) + "\n" + json.dumps(pair("q-2")) + "\n")
    refused = CliRunner().invoke(main, ["import", str(src), "--db", str(log_db)])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert f"line 1: {LIMIT_MESSAGE}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    skipped = CliRunner().invoke(main, ["import", str(src), "--skip-invalid", "--db", str(log_db)])
    assert skipped.exit_code == 0, skipped.output
    assert "Imported 1 new pair" in skipped.stdout


def test_an_answer_at_the_limit_is_imported_and_every_reader_reads_it(tmp_path, log_db):
    """The line is an object holding the side holding the answer: two levels above it."""
    src = tmp_path / "p.jsonl"
    lines = [
        pair_line(nested_object(MAX_JSON_DEPTH - 2), "q-1"),
        pair_line(nested_list(MAX_JSON_DEPTH - 2), "q-2"),
    ]
    src.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(src), "--db", str(log_db)]).exit_code == 0
    for command in (["thresholds"], ["report"], ["report", "--format", "json"], ["logs", "--json"]):
        result = runner.invoke(main, [*command, "--db", str(log_db)])
        assert result.exit_code == 0, (command, result.output)


DEEP_LABEL_LINES = {
    "limit+1": nested_list(MAX_JSON_DEPTH + 1),
    "objects-3000": nested_object(3000),
    "lists-100000": nested_list(100_000),
}


@pytest.mark.parametrize("body", DEEP_LABEL_LINES.values(), ids=DEEP_LABEL_LINES.keys())
def test_import_labels_refuses_a_deep_line_in_one_sentence(tmp_path, body):
    db = build_review_log(tmp_path / "calls.db", pairs=2)
    src = tmp_path / "labels.jsonl"
    src.write_text('{"request_id": "req_0001", "label": "cheap", "x": ' + body + "}\n")
    result = CliRunner().invoke(main, ["import-labels", str(src), "--by", "bo", "--db", str(db)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert LIMIT_MESSAGE in result.stderr and "line 1" in result.stderr


DEEP_BODIES = {
    "limit+1": nested_list(MAX_JSON_DEPTH + 1),
    "objects-2000": nested_object(2000),
    "lists-200000": nested_list(200_000),
}


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_the_stand_in_answers_400_to_a_deeply_nested_body(body):
    api = StandInAPI()
    server, stop = serve_in_thread(api)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    try:
        request = urllib.request.Request(
            url, data=body.encode(), headers={"content-type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        payload = json.loads(info.value.read())
        assert info.value.code == 400
        assert payload["error"]["type"] == "invalid_request_error"
        assert LIMIT_MESSAGE in payload["error"]["message"]
    finally:
        stop()


async def test_the_router_treats_a_deeply_nested_tool_input_as_invalid_output(db):
    api = StandInAPI()
    cheap, strong = "claude-haiku-4-5", "claude-sonnet-4-6"
    deep = json.loads(nested_list(MAX_JSON_DEPTH + 1))
    api.enqueue(tool_input({"answer": deep, "confidence": 0.9}), model=cheap)
    api.enqueue(tool_input({"answer": "safe", "confidence": 0.9}), model=strong)
    router = Router(cheap, strong, 0.7, client=api.client(max_retries=0), log=db)
    result = await router.route("classify", "x", labels=["safe", "unsafe"])
    await router.aclose()
    assert result.escalated and result.escalation_reason == "invalid_output"
    assert result.answer == "safe"


@pytest.mark.parametrize(
    "text",
    [nested_list(MAX_JSON_DEPTH + 1), '{"answer": ' + nested_object(3000) + "}"],
    ids=["limit+1", "objects-3000"],
)
def test_a_structured_output_reply_nested_too_deeply_is_invalid_output(text):
    message = SimpleNamespace(stop_reason="end_turn", content=[SimpleNamespace(type="text", text=text)])
    with pytest.raises(InvalidOutput, match=re.escape(LIMIT_MESSAGE)):
        Router._parse(tasks.classify(["safe", "unsafe"]), message, "json_schema")
