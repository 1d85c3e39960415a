"""``routermon.core.observe``: an ``anthropic`` client (sync or async) wrapped so its calls go through
the gateway's ASGI app in-process: the same bytes as direct, logged and shadowed as the gateway does."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import anthropic
import pytest
from test_gateway import CANNED_JSON, CANNED_SSE, KEY, rows_of, served

import routermon.core as core
from routermon.core.settings import Settings
from routermon.core.workspace import Workspace

pytest.importorskip("uvicorn")
CHEAP, STRONG = "claude-haiku-4-5", "claude-sonnet-4-6"
MESSAGES = [{"role": "user", "content": "hi"}]


async def canned_upstream(scope, receive, send):
    """A Messages API answering from fixed bytes (streamed in chunks), served by uvicorn."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    streamed = json.loads(body).get("stream")
    kind = b"text/event-stream" if streamed else b"application/json"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
    for chunk in CANNED_SSE if streamed else [CANNED_JSON[:40], CANNED_JSON[40:]]:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture
def standin_api():
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.standin import StandInAPI

    return StandInAPI(scenario=load_scenario(), seed=3)


def workspace(db) -> Workspace:
    return Workspace(Settings(cheap_model=CHEAP, strong_model=STRONG), db=db)


def test_a_sync_client_gets_the_same_bytes_and_its_calls_are_logged_and_shadowed(tmp_path):
    db = tmp_path / "obs.db"
    with served(canned_upstream) as upstream:
        direct = anthropic.Anthropic(base_url=upstream, api_key=KEY, max_retries=0)
        client = core.observe(direct, shadow_share=1.0, workspace=workspace(db))
        raw = client.messages.with_raw_response.create(model=CHEAP, max_tokens=10, messages=MESSAGES)
        with client.messages.with_streaming_response.create(
            model=CHEAP, max_tokens=10, messages=MESSAGES, stream=True
        ) as response:
            streamed = b"".join(response.iter_bytes())
        with client.messages.stream(model=CHEAP, max_tokens=10, messages=MESSAGES) as stream:
            final = stream.get_final_message()
        reply = client.messages.create(model=CHEAP, max_tokens=10, messages=MESSAGES)
        client.routermon.close()
    assert raw.http_response.content == CANNED_JSON and streamed == b"".join(CANNED_SSE)
    assert reply.content[0].text == "café  ok" and final.content[0].input == {"q": "x"}
    counters = client.routermon.app.shadow.counters
    assert (counters.queued, counters.done, counters.dropped) == (4, 4, 0)
    rows = rows_of(db)
    assert len(rows) == 8 and {r.mode for r in rows} == {"gateway"}
    assert sorted(r.role for r in rows if r.final) == ["cheap"] * 4
    assert (
        sorted(r.requested_model for r in rows if r.role == "shadow") == [STRONG] * 4
    )  # canned: one model answers
    assert all(KEY not in r.model_dump_json() for r in rows)


def test_an_async_client_is_observed_on_any_event_loop_with_its_task(tmp_path, loopback):
    db = tmp_path / "obs.db"
    direct = anthropic.AsyncAnthropic(base_url=loopback.base_url, api_key=KEY, max_retries=0)
    client = core.observe(direct, shadow_share=1.0, task="support-reply", workspace=workspace(db))

    async def calls():
        reply = await client.messages.create(model=STRONG, max_tokens=50, messages=MESSAGES)
        async with client.messages.stream(model=CHEAP, max_tokens=50, messages=MESSAGES) as stream:
            text = "".join([piece async for piece in stream.text_stream])
        return reply, text

    reply, text = asyncio.run(calls())
    again, _ = asyncio.run(calls())  # a second loop: the gateway's own thread serves both
    client.routermon.close()
    assert reply.model == STRONG and text and again.content
    rows = rows_of(db)
    assert len(rows) == 8 and {r.task for r in rows} == {"support-reply"}
    strong_asked = [r for r in rows if r.requested_model == STRONG and r.final]
    assert len(strong_asked) == 2 and {r.role for r in strong_asked} == {"shadow"}
    pairs = {}
    for row in rows:
        pairs.setdefault(row.request_id, set()).add((row.role, row.model))
    assert all(roles == {("cheap", CHEAP), ("shadow", STRONG)} for roles in pairs.values())


def test_observe_refuses_what_is_not_an_anthropic_client(tmp_path):
    with pytest.raises(TypeError, match="anthropic.Anthropic"):
        core.observe(object(), workspace=workspace(tmp_path / "x.db"))


def test_importing_routermon_core_does_not_import_the_sdk():
    code = "import sys, routermon.core as c; c.observe; print('anthropic' in sys.modules)"
    lazy = "import sys, routermon.core; print('anthropic' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", lazy], capture_output=True, text=True).stdout.strip() == "False"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )
