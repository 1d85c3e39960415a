"""The gateway (``core/gateway``, ``routermon gateway``): a transparent Messages API proxy that logs
every call. Driven with the real ``anthropic`` SDK and plain HTTP clients, against the stand-in
served on loopback (or a canned upstream where the bytes must be known), the gateway served by
uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from contextlib import contextmanager

import anthropic
import httpx2
import pytest

from routermon.core.gateway.app import Gateway, GatewayConfig
from routermon.core.gateway.taskkey import task_key
from routermon.core.log.privacy import Keeper
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.core.prices import PriceBook
from routermon.core.workspace import Workspace

uvicorn = pytest.importorskip("uvicorn")
KEY = "sk-ant-test-key-0123456789"


@contextmanager
def served(app):
    """``app`` served by uvicorn on a free loopback port in a thread: yields its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def rows_of(db):
    with LogReader(db) as reader:
        return reader.calls_after(0)


@pytest.fixture
def standin_api():
    """The upstream ``loopback`` serves: the stand-in with the built-in scenario."""
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.standin import StandInAPI

    return StandInAPI(scenario=load_scenario(), seed=3)


@pytest.fixture
def gateway(tmp_path, loopback):
    """A gateway in front of the stand-in, logging to its own SQLite file: (base_url, app, db)."""
    db = tmp_path / "gw.db"
    app = Workspace.load(db=db).gateway(upstream_url=loopback.base_url)
    with served(app) as base_url:
        yield base_url, app, db


def test_the_sdk_through_the_gateway_gets_its_answers_and_every_call_is_logged(gateway):
    base_url, app, db = gateway
    client = anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0)
    plain = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": "My invoice is wrong"}],
    )
    conversation = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=100,
        system="You help with orders. Today is 2026-12-08.",
        messages=[
            {"role": "user", "content": "Where is order 1234?"},
            {"role": "assistant", "content": "Let me look."},
            {"role": "user", "content": "Thanks"},
        ],
    )
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    image = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}},
            {"type": "text", "text": "What is this?"},
        ]}],
    )  # fmt: skip
    tool = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        tools=[{"name": "get_weather", "description": "Weather", "input_schema": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )  # fmt: skip
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "Stream me"}]
    ) as stream:
        streamed_text = "".join(stream.text_stream)
        streamed = stream.get_final_message()

    async def async_call():
        async with anthropic.AsyncAnthropic(base_url=base_url, api_key=KEY, max_retries=0) as aclient:
            return await aclient.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "Async hello"}]
            )

    async_reply = asyncio.run(async_call())
    assert tool.content[0].type == "tool_use" and streamed_text
    app.config.log.flush()
    rows = rows_of(db)
    replies = [plain, conversation, image, tool, streamed, async_reply]
    assert len(rows) == len(replies)
    prices = PriceBook()
    for row, reply in zip(rows, replies, strict=True):
        assert row.mode == "gateway" and row.model == reply.model and row.requested_model == reply.model
        assert (row.input_tokens, row.output_tokens) == (reply.usage.input_tokens, reply.usage.output_tokens)
        assert row.cost_usd == pytest.approx(
            prices.cost(reply.model, reply.usage.input_tokens, reply.usage.output_tokens)
        )
        assert row.http_status == 200 and row.stop_reason == reply.stop_reason and row.error_type is None
    assert rows[4].ttft_ms is not None and 0 < rows[4].ttft_ms <= rows[4].latency_ms
    assert "user: Thanks" in rows[1].input_preview or rows[1].input_preview.startswith("system: You help")
    assert json.loads(rows[3].answer)["tool_use"][0]["name"] == "get_weather"
    assert rows[2].input_preview.startswith("user: [image]")  # an image is named, not inlined
    assert KEY.encode() not in db.read_bytes()  # the key never reaches the log


# -- the bytes, the headers and the paths, against a canned upstream -------------------------------

CANNED_JSON = (
    b'{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text",'
    b'"text":"caf\xc3\xa9  ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,'
    b'"output_tokens":7,"cache_read_input_tokens":5,"cache_creation_input_tokens":3}}'
)
CANNED_SSE = [
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_2","type":"message","role":'
    b'"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":9,'
    b'"output_tokens":1}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,',
    b'"content_block":{"type":"tool_use","id":"t1","name":"lookup","input":{}}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
    b'"partial_json":"{\\"q\\": "}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,',
    b'"delta":{"type":"input_json_delta","partial_json":"\\"x\\"}"}}\n\nevent: content_block_stop\ndata: '
    b'{"type":"content_block_stop","index":0}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":'
    b'{"stop_reason":"tool_use"},"usage":{"output_tokens":21}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
]


class Canned(httpx2.AsyncBaseTransport):
    """An upstream answering from fixed bytes (streamed in chunks), keeping each request it got."""

    def __init__(self, delay_s: float = 0.0):
        self.requests: list[httpx2.Request] = []
        self.delay_s = delay_s
        self.closed = threading.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        self.requests.append(request)
        body = json.loads(request.content)
        headers = {
            "request-id": "req_canned",
            "anthropic-ratelimit-requests-remaining": "41",
            "retry-after": "3",
        }
        if body.get("stream"):
            return httpx2.Response(
                200,
                headers={**headers, "content-type": "text/event-stream"},
                stream=_Chunks(CANNED_SSE, self),
            )
        headers = {**headers, "content-type": "application/json", "content-length": str(len(CANNED_JSON))}
        return httpx2.Response(
            200, headers=headers, stream=_Chunks([CANNED_JSON[:50], CANNED_JSON[50:]], self)
        )


class _Chunks(httpx2.AsyncByteStream):
    def __init__(self, chunks, canned: Canned):
        self.chunks, self.canned = chunks, canned

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk
            await asyncio.sleep(self.canned.delay_s)

    async def aclose(self) -> None:
        self.canned.closed.set()


def canned_gateway(tmp_path, canned: Canned, **config) -> Gateway:
    db = tmp_path / "canned.db"
    return Gateway(
        GatewayConfig(
            upstream_url="http://upstream.invalid",
            log=CallLog(db),
            keeper=Keeper("full", "full"),
            prices=PriceBook(),
            transport=canned,
            **config,
        )
    )


def post(base_url: str, body: dict, headers: dict | None = None) -> httpx2.Response:
    return httpx2.post(
        f"{base_url}/v1/messages", json=body, headers={"x-api-key": KEY, **(headers or {})}, timeout=30
    )


def test_bodies_streams_and_headers_pass_unchanged_and_the_key_goes_upstream(tmp_path):
    canned = Canned()
    app = canned_gateway(tmp_path, canned)
    body = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    with served(app) as base_url:
        whole = post(base_url, body, {"anthropic-beta": "b1", "x-routermon-task": "billing"})
        with httpx2.stream("POST", f"{base_url}/v1/messages", json={**body, "stream": True},
                           headers={"authorization": f"Bearer {KEY}"}, timeout=30) as response:  # fmt: skip
            streamed = b"".join(response.iter_raw())
    assert whole.content == CANNED_JSON and streamed == b"".join(CANNED_SSE)  # byte for byte
    for name, value in (
        ("request-id", "req_canned"),
        ("anthropic-ratelimit-requests-remaining", "41"),
        ("retry-after", "3"),
    ):
        assert whole.headers[name] == value
    first, second = canned.requests
    assert first.headers["x-api-key"] == KEY and first.headers["anthropic-beta"] == "b1"
    assert "x-routermon-task" not in first.headers  # routermon's own headers stay here
    assert second.headers["authorization"] == f"Bearer {KEY}" and "x-api-key" not in second.headers
    app.config.log.flush()
    plain, stream_row = rows_of(tmp_path / "canned.db")
    assert plain.task == "billing" and (plain.cache_read_tokens, plain.cache_write_tokens) == (5, 3)
    assert json.loads(plain.answer) == "café  ok"
    assert (stream_row.input_tokens, stream_row.output_tokens, stream_row.stop_reason) == (9, 21, "tool_use")
    assert json.loads(stream_row.answer) == {"tool_use": [{"name": "lookup", "input": {"q": "x"}}]}


def test_a_client_without_a_key_gets_the_gateways_own(tmp_path, monkeypatch):
    canned = Canned()
    app = canned_gateway(tmp_path, canned, api_key="sk-ant-gateway-own")
    with served(app) as base_url:
        httpx2.post(f"{base_url}/v1/messages", json={"model": "m", "messages": []}, timeout=30)
    assert canned.requests[0].headers["x-api-key"] == "sk-ant-gateway-own"


def test_only_the_messages_api_is_served_with_the_token_and_the_size_limit(tmp_path):
    canned = Canned()
    app = canned_gateway(tmp_path, canned, token="t0ken", max_body_bytes=1000)
    body = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    with served(app) as base_url:
        no_token = post(base_url, body)
        wrong = post(base_url, body, {"x-routermon-token": "nope"})
        right = post(base_url, body, {"x-routermon-token": "t0ken"})
        other = httpx2.get(f"{base_url}/v1/files", headers={"x-routermon-token": "t0ken"}, timeout=30)
        escape = httpx2.get(
            f"{base_url}/v1/models/../../admin", headers={"x-routermon-token": "t0ken"}, timeout=30
        )
        big = post(base_url, {**body, "pad": "x" * 2000}, {"x-routermon-token": "t0ken"})
    assert (no_token.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert no_token.json()["error"]["type"] == "authentication_error"
    assert other.status_code == 404 and other.json()["type"] == "error" and escape.status_code == 404
    assert big.status_code == 413 and big.json()["error"]["type"] == "request_too_large"
    assert len(canned.requests) == 1  # nothing refused went upstream


def test_a_dead_upstream_is_a_502_with_an_api_shaped_error_and_a_logged_row(tmp_path):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    db = tmp_path / "dead.db"
    app = Workspace.load(db=db).gateway(upstream_url=f"http://127.0.0.1:{port}")
    with served(app) as base_url:
        reply = post(base_url, {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": []})
    assert reply.status_code == 502 and reply.json()["error"]["type"] == "api_error"
    assert KEY not in reply.text
    app.config.log.flush()
    (row,) = rows_of(db)
    assert row.error_type == "connection_error" and row.final is False and row.http_status is None


def test_a_log_that_fails_never_fails_the_clients_call(tmp_path):
    canned = Canned()
    said: list[str] = []
    app = canned_gateway(tmp_path, canned, say=said.append)
    app.config.log.close()  # a log that takes no rows any more
    with served(app) as base_url:
        replies = [post(base_url, {"model": "claude-haiku-4-5", "messages": []}) for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200] and replies[0].content == CANNED_JSON
    assert app.log_failures == 3 and len(said) == 1 and "not being logged" in said[0]


def test_a_client_that_hangs_up_mid_stream_is_logged_as_cancelled_and_upstream_closed(tmp_path):
    canned = Canned(delay_s=0.5)
    app = canned_gateway(tmp_path, canned)
    with served(app) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        payload = json.dumps({"model": "claude-haiku-4-5", "stream": True, "messages": []}).encode()
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(
                b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            received = b""
            while b"message_start" not in received:  # the first event arrives, then the client goes
                chunk = conn.recv(65536)
                assert chunk, received
                received += chunk
        assert canned.closed.wait(20)
        app.config.log.flush()
        deadline = time.monotonic() + 20
        while not rows_of(tmp_path / "canned.db") and time.monotonic() < deadline:
            time.sleep(0.05)
    (row,) = rows_of(tmp_path / "canned.db")
    assert row.error_type == "cancelled" and row.input_tokens == 9 and row.final is False


def test_three_code_paths_are_three_tasks_whatever_their_users_write():
    def call(system, text, tools=()):
        return task_key({"system": system, "tools": [{"name": n} for n in tools],
                         "messages": [{"role": "user", "content": text}]}, {})  # fmt: skip

    keys = set()
    for day, text in enumerate(["Where is my parcel?", "Refund please", "hello " * 40], start=1):
        keys.add(call(f"You are a support agent. Today is 2026-12-0{day}.  Be brief.", text))
        keys.add(
            call([{"type": "text", "text": f"Summarise the ticket below. It is 2026-11-{day:02d}"}], text)
        )
        keys.add(call("", text, tools=("lookup", "refund") if day % 2 else ("refund", "lookup")))
    assert len(keys) == 3
    names = sorted(keys)
    assert any(k.startswith("auto:you are a support") for k in names)
    assert any(k.startswith("auto:summarise the ticket") for k in names)
    assert any(k.startswith("auto:tools lookup,refund") for k in names)
    assert task_key({"system": "x"}, {"x-routermon-task": "  billing  "}) == "billing"


def test_the_command_refuses_a_public_address_without_a_token(tmp_path):
    from click.testing import CliRunner

    from routermon.tui.cli import main

    result = CliRunner().invoke(main, ["gateway", "--host", "0.0.0.0", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "needs --token" in result.output and "Traceback" not in result.output
