"""Shadowing through the gateway (``core/gateway/shadow.py``): a share of the app's calls copied to
the other model in the background, logged as a linked pair that ``core/measure/pairs.py`` reads,
compared field by field or handed to the judge, within a daily budget and a bounded queue; the
client's bytes unchanged. Driven with the real ``anthropic`` SDK against the stand-in on loopback."""

from __future__ import annotations

import asyncio
import json

import anthropic
import pytest
from test_gateway import CANNED_JSON, CANNED_SSE, KEY, Canned, canned_gateway, rows_of, served

from routermon.core.gateway.shadow import Shadow, ShadowConfig, adapt, compare
from routermon.core.gateway.sse import Observed
from routermon.core.log.reader import LogReader
from routermon.core.measure.pairs import load_pairs
from routermon.core.route.models import ModelTable
from routermon.core.settings import Settings
from routermon.core.workspace import Workspace

pytest.importorskip("uvicorn")
CHEAP, STRONG = "claude-haiku-4-5", "claude-sonnet-4-6"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def standin_api():
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.standin import StandInAPI

    return StandInAPI(scenario=load_scenario(), seed=3)


def workspace(db, **gateway) -> Workspace:
    return Workspace(Settings(cheap_model=CHEAP, strong_model=STRONG, gateway=gateway), db=db)


def test_shadowed_calls_are_linked_pairs_that_pairs_reads_and_free_text_goes_to_the_judge(tmp_path, loopback):
    db, judged = tmp_path / "gw.db", []

    async def observer(request_id, task, text, digest, cheap_answer, strong_answer):
        judged.append((request_id, task, text, cheap_answer, strong_answer))

    app = workspace(db, shadow_share=1.0).gateway(upstream_url=loopback.base_url, pair_observer=observer)
    with served(app) as base_url:
        client = anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0)
        text_reply = client.messages.create(
            model=CHEAP, max_tokens=100, messages=[{"role": "user", "content": "My invoice is wrong"}]
        )
        with client.messages.stream(
            model=CHEAP, max_tokens=100, messages=[{"role": "user", "content": "Stream me"}]
        ) as stream:
            "".join(stream.text_stream)

        async def async_strong():
            async with anthropic.AsyncAnthropic(base_url=base_url, api_key=KEY, max_retries=0) as aclient:
                return await aclient.messages.create(
                    model=STRONG,
                    max_tokens=100,
                    tools=[WEATHER_TOOL],
                    tool_choice={"type": "tool", "name": "get_weather"},
                    messages=[{"role": "user", "content": "Weather in Paris?"}],
                )

        asyncio.run(async_strong())
    # Leaving ``served`` shut the gateway down: its shadow queue drained, every row written.
    counters = app.shadow.counters
    assert (counters.queued, counters.done, counters.dropped) == (3, 3, 0)
    rows = rows_of(db)
    assert len(rows) == 6 and {r.mode for r in rows} == {"gateway"}
    by_request: dict[str, list] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(row)
    for pair_rows in by_request.values():
        roles = sorted((r.role, r.tier, r.model) for r in pair_rows)
        assert roles == [("cheap", 0, CHEAP), ("shadow", 1, STRONG)]
        app_row = next(r for r in pair_rows if r.final)
        assert app_row.requested_model in (CHEAP, STRONG) and app_row.cost_usd > 0
    assert text_reply.content[0].text in [json.loads(r.answer) for r in rows if r.answer]
    with LogReader(db) as reader:
        pairs = load_pairs(reader, unjudged=True)
    assert len(pairs) == 3 and {p.cheap_model for p in pairs} == {CHEAP}
    tool_pair = next(p for p in pairs if p.kind == "fields")
    assert tool_pair.field_agreement is not None
    # Tool inputs and labels compared here; free text (more than a few words) handed to the judge.
    assert counters.compared + counters.judged == 3 and counters.judged >= 1
    assert len(judged) == counters.judged and all(j[0] in by_request for j in judged)
    text_pairs = [p for p in pairs if p.kind == "text"]
    assert {p.request_id for p in text_pairs} == {j[0] for j in judged}
    assert all(j[2].startswith("user: ") and len(j[3].split()) + len(j[4].split()) > 5 for j in judged)


def test_with_shadowing_on_the_client_gets_the_upstreams_bytes_unchanged(tmp_path):
    canned = Canned()
    shadow = ShadowConfig(cheap_model=CHEAP, strong_model=STRONG, share=1.0)
    app = canned_gateway(tmp_path, canned, shadow=shadow)
    body = {"model": CHEAP, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    import httpx2

    with served(app) as base_url:
        whole = httpx2.post(f"{base_url}/v1/messages", json=body, headers={"x-api-key": KEY}, timeout=30)
        with httpx2.stream("POST", f"{base_url}/v1/messages", json={**body, "stream": True},
                           headers={"x-api-key": KEY}, timeout=30) as response:  # fmt: skip
            streamed = b"".join(response.iter_raw())
    assert whole.content == CANNED_JSON and streamed == b"".join(CANNED_SSE)
    sent = [json.loads(r.content) for r in canned.requests]
    copies = [c for c in sent if c["model"] == STRONG]
    assert len(sent) == 4 and len(copies) == 2 and all("stream" not in c for c in copies)
    assert all(c["messages"] == body["messages"] for c in copies)
    assert all(r.headers["x-api-key"] == KEY for r in canned.requests)
    rows = rows_of(tmp_path / "canned.db")
    assert sorted(r.role for r in rows) == ["cheap", "cheap", "shadow", "shadow"]
    assert all(KEY not in (r.model_dump_json()) for r in rows)


def test_the_daily_budget_stops_shadowing_and_says_so_once(tmp_path, loopback):
    said = []
    ws = workspace(tmp_path / "gw.db", shadow_share=1.0, shadow_budget_usd=1e-9)
    app = ws.gateway(upstream_url=loopback.base_url, say=said.append)
    with served(app) as base_url:
        client = anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0)
        client.messages.create(model=CHEAP, max_tokens=50, messages=[{"role": "user", "content": "one"}])
        app_wait(app, lambda c: c.done == 1)
        for text in ("two", "three"):
            client.messages.create(model=CHEAP, max_tokens=50, messages=[{"role": "user", "content": text}])
    counters = app.shadow.counters
    assert (counters.done, counters.over_budget, counters.budget_spent) == (1, 2, True)
    assert counters.spent_usd > 1e-9
    assert len([line for line in said if "shadow budget" in line]) == 1
    assert len(rows_of(tmp_path / "gw.db")) == 4  # three calls, one copy


def app_wait(app, done, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not done(app.shadow.counters) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done(app.shadow.counters)


def test_a_full_queue_drops_shadow_work_and_counts_it():
    release, sent = asyncio.Event(), []

    async def send(body, headers):
        sent.append(json.loads(body))
        await release.wait()
        return 200, b'{"type":"message","model":"m","content":[{"type":"text","text":"x"}],"usage":{}}'

    config = ShadowConfig(cheap_model=CHEAP, strong_model=STRONG, share=1.0, max_in_flight=1, queue_size=1)
    shadow = Shadow(config, models=ModelTable(), send=send, log_copy=lambda *a: 0.0)
    body = {"model": CHEAP, "messages": []}

    async def scenario():
        taken = [shadow.offer(f"r{i}", "t", body, [], Observed(texts=["x"])) for i in range(3)]
        await asyncio.sleep(0.05)  # the worker takes the first; the queue holds one more
        taken += [shadow.offer(f"r{i}", "t", body, [], Observed(texts=["x"])) for i in range(3, 6)]
        release.set()
        assert await shadow.drain(5.0)
        return taken

    taken = asyncio.run(scenario())
    assert taken == [("cheap", 0), None, None, ("cheap", 0), None, None]
    assert (shadow.counters.queued, shadow.counters.dropped, shadow.counters.done) == (2, 4, 2)
    assert len(sent) == 2 and all(s["model"] == STRONG for s in sent)


def test_a_copy_is_adapted_to_what_the_other_model_accepts():
    body = {
        "model": CHEAP,
        "stream": True,
        "temperature": 0.2,
        "top_p": 0.9,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "output_config": {"effort": "low"},
        "messages": [{"role": "user", "content": "hi"}],
    }
    table = ModelTable()
    copy, notes = adapt(body, table.get("claude-sonnet-5-5"))
    assert copy["model"] == "claude-sonnet-5-5" and "stream" not in copy
    assert copy["thinking"] == {"type": "adaptive"} and copy["tool_choice"] == {"type": "auto"}
    assert "temperature" not in copy and "top_p" not in copy and copy["output_config"] == {"effort": "low"}
    assert len(notes) == 3 and body["stream"] is True  # the app's request is untouched
    same, none = adapt({"model": CHEAP, "messages": []}, table.get("claude-sonnet-5-5"))
    assert none == [] and same == {"model": "claude-sonnet-5-5", "messages": []}


def test_tool_inputs_and_json_answers_compare_field_by_field():
    cheap = Observed(tool_uses=[{"name": "f", "input": {"city": "Paris", "days": "3"}}])
    strong = Observed(tool_uses=[{"name": "f", "input": {"city": "paris", "days": 4}}])
    result = compare(cheap, strong)
    assert (result.kind, result.agree, result.fields) == ("fields", False, {"city": True, "days": False})
    json_pair = compare(Observed(texts=['{"total": 12.0}']), Observed(texts=['{"total": 12}']))
    assert (json_pair.kind, json_pair.agree) == ("fields", True)
    assert (
        compare(Observed(texts=["A long reply in many words."]), Observed(texts=["Another one."])).kind
        == "text"
    )
