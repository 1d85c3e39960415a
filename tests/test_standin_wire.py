"""What real replies carry and the stand-in now emits too: stop_details on refusals, request-id and
the rate-limit headers, retry-after, the Models API, streaming (in-process and over loopback HTTP),
and a server that holds up (bounded recording, backlog, socket timeout)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import anthropic
import pytest

from routermon.core.route import tasks
from routermon.core.route.router import Router, Tier
from routermon.core.simulate.standin import StandInAPI, answer, http_error, refusal, serve_in_thread
from routermon.core.simulate.standin.api import RECORD_LIMIT
from routermon.core.simulate.standin.server import make_server

CHEAP, STRONG = "claude-haiku-4-5", "claude-sonnet-4-6"
USER = [{"role": "user", "content": "hello"}]
SPEC = tasks.classify(["safe", "unsafe"])


def sync_client(api: StandInAPI) -> anthropic.Anthropic:
    import httpx2

    return anthropic.Anthropic(
        api_key="sk-test", http_client=httpx2.Client(transport=api.transport()), max_retries=0
    )


# -- stop_details, request-id, rate-limit headers, retry-after -------------------------------------


def test_a_refusal_carries_stop_details_and_the_router_logs_its_category():
    api = StandInAPI()
    api.enqueue(refusal("cyber"), refusal())
    message = sync_client(api).messages.create(model=CHEAP, max_tokens=20, messages=USER)
    assert message.stop_reason == "refusal"
    assert message.stop_details.type == "refusal" and message.stop_details.category == "cyber"
    plain = sync_client(api).messages.create(model=CHEAP, max_tokens=20, messages=USER)
    assert plain.stop_details.category is None

    api.enqueue(refusal("bio"), model=CHEAP)
    api.enqueue(answer("safe", 0.95), model=STRONG)
    router = Router(tiers=[Tier(CHEAP, 0.8), Tier(STRONG)], client=api.client())
    result = router.route_sync("classify", "text", labels=["safe", "unsafe"])
    cheap_call = result.calls[0]
    assert cheap_call.escalation_reason == "refusal" and cheap_call.error_detail == "the model refused (bio)"


def test_every_response_has_a_request_id_and_rate_limit_headers():
    api = StandInAPI()
    api.enqueue(answer("safe", 0.9))
    client = sync_client(api)
    raw = client.messages.with_raw_response.create(model=CHEAP, max_tokens=20, messages=USER)
    assert raw.headers["request-id"].startswith("req_")
    for name in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert int(raw.headers[f"anthropic-ratelimit-{name}-limit"]) > 0
        assert int(raw.headers[f"anthropic-ratelimit-{name}-remaining"]) >= 0
        assert raw.headers[f"anthropic-ratelimit-{name}-reset"].endswith("Z")
    first = int(raw.headers["anthropic-ratelimit-requests-remaining"])
    with pytest.raises(anthropic.NotFoundError) as refused:
        client.messages.create(model="claude-made-up-1", max_tokens=20, messages=USER)
    assert refused.value.response.headers["request-id"] != raw.headers["request-id"]
    assert refused.value.body["request_id"] == refused.value.response.headers["request-id"]
    assert int(refused.value.response.headers["anthropic-ratelimit-requests-remaining"]) == first


@pytest.mark.parametrize("status", [429, 529])
def test_429_and_529_carry_retry_after(status):
    api = StandInAPI()
    api.enqueue(http_error(status, retry_after=1.5))
    with pytest.raises(anthropic.APIStatusError) as failed:
        sync_client(api).messages.create(model=CHEAP, max_tokens=20, messages=USER)
    assert failed.value.status_code == status
    assert failed.value.response.headers["retry-after"] == "2"
    assert failed.value.response.headers["retry-after-ms"] == "1500"


# -- the Models API ----------------------------------------------------------------------------------


def test_models_api_retrieve_and_list_in_the_real_shape_in_process_and_over_http(loopback):
    _, base_url = loopback
    for client in (
        sync_client(StandInAPI()),
        anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0),
    ):
        info = client.models.retrieve("claude-sonnet-5-5")
        assert (
            info.type == "model"
            and info.id == "claude-sonnet-5-5"
            and info.display_name == "Claude Sonnet 5.5"
        )
        assert info.max_input_tokens == 1_000_000 and info.line == "sonnet"
        caps = info.capabilities
        assert caps.structured_outputs.supported is True
        assert caps.thinking.types.adaptive.supported and caps.thinking.types.between_tools.supported
        assert caps.thinking.types.disabled.supported is False
        assert caps.effort.supported and caps.effort.max.supported
        old = client.models.retrieve("claude-sonnet-4-5").capabilities
        assert old.thinking.types.adaptive.supported is False and old.effort.supported is False
        listed = [m.id for m in client.models.list()]
        assert "claude-haiku-5-5" in listed and "claude-sonnet-5-5" in listed
        with pytest.raises(anthropic.NotFoundError):
            client.models.retrieve("claude-made-up-1")


# -- streaming ---------------------------------------------------------------------------------------


def _event_types(client, **request) -> tuple[list[str], object]:
    with client.messages.stream(**request) as stream:
        kinds = [event.type for event in stream]
        return kinds, stream.get_final_message()


def test_streaming_follows_the_real_event_order_with_text_tool_and_thinking_deltas(loopback):
    api, base_url = loopback
    over_http = anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0)
    for client in (sync_client(api), over_http):
        api.enqueue(answer("safe", 0.9), answer("unsafe", 0.8), answer("safe", 0.7))
        # a plain prompt: a text reply, not a submit_answer tool call
        raw_events, message = _event_types(client, model=CHEAP, max_tokens=50, messages=USER)
        assert [e for e in raw_events if e not in ("text",)] == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        assert [b.type for b in message.content] == ["text"] and message.content[0].text == "safe"
        assert message.stop_reason == "end_turn" and message.usage.output_tokens > 1
        # tools offered: the input arrives as input_json_delta and parses once joined
        kinds, message = _event_types(
            client,
            model=CHEAP,
            max_tokens=50,
            messages=USER,
            tools=[SPEC.tool()],
            tool_choice={"type": "auto"},
        )
        assert "input_json" in kinds and message.stop_reason == "tool_use"
        assert message.content[0].input == {"answer": "unsafe", "confidence": 0.8}
        # a model thinking by default: a thinking block streamed first, its tokens in the final usage
        kinds, message = _event_types(client, model="claude-sonnet-5-5", max_tokens=500, messages=USER)
        assert [b.type for b in message.content] == ["thinking", "text"]
        assert "thinking" in kinds and "signature" in kinds
        assert message.usage.output_tokens_details.thinking_tokens > 0


def test_the_raw_event_stream_over_http_names_each_event_and_pings(loopback):
    api, base_url = loopback
    api.enqueue(answer("safe", 0.9))
    port = int(base_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = {"model": CHEAP, "max_tokens": 5, "messages": USER, "stream": True}
    conn.request("POST", "/v1/messages", body=json.dumps(body).encode())
    response = conn.getresponse()
    assert response.getheader("content-type").startswith("text/event-stream")
    text = response.read().decode()
    conn.close()
    blocks = [b for b in text.split("\n\n") if b]
    names = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    for block, name in zip(blocks, names, strict=True):
        assert json.loads(block.split("\n")[1].removeprefix("data: "))["type"] == name


def test_streaming_a_refusal_carries_stop_details_and_a_refused_stream_is_a_json_error():
    api = StandInAPI()
    api.enqueue(refusal("cyber"))
    client = sync_client(api)
    _, message = _event_types(client, model=CHEAP, max_tokens=50, messages=USER)
    assert message.stop_reason == "refusal" and message.stop_details.category == "cyber"
    with pytest.raises(anthropic.BadRequestError):
        _event_types(
            client,
            model="claude-sonnet-5-5",
            max_tokens=50,
            messages=USER,
            tools=[SPEC.tool()],
            tool_choice={"type": "tool", "name": tasks.TOOL_NAME},
        )
    status, _, body, _ = api.handle(
        "POST",
        "/v1/messages",
        json.dumps({"model": CHEAP, "max_tokens": 5, "messages": USER, "stream": "yes"}).encode(),
    )
    assert status == 400 and b"stream" in body


async def test_async_stream_through_the_in_process_transport_with_a_scenario():
    from routermon.core.simulate.scenario import load_scenario

    client = StandInAPI(scenario=load_scenario()).client()
    async with client.messages.stream(model=CHEAP, max_tokens=50, messages=USER) as stream:
        text = await stream.get_final_text()
    assert text and not text.startswith("{")  # a plain prompt gets prose, not a tool call


# -- the server holds up -----------------------------------------------------------------------------


def test_recording_is_bounded_and_off_in_the_stand_in_command(monkeypatch):
    api = StandInAPI()
    body = json.dumps({"model": "x", "messages": USER}).encode()
    for _ in range(RECORD_LIMIT + 20):
        api.handle("POST", "/v1/messages", body)
    assert len(api.requests) == RECORD_LIMIT
    quiet = StandInAPI(record_requests=False)
    quiet.handle("POST", "/v1/messages", body)
    assert len(quiet.requests) == 0

    from click.testing import CliRunner

    import routermon.core.simulate.standin as standin
    from routermon.tui.cli import main

    built = []

    class _Server:
        server_address = ("127.0.0.1", 1)

        def serve_forever(self):
            pass

        def server_close(self):
            pass

    def fake_make_server(api, **kw):
        built.append(api)
        return _Server()

    monkeypatch.setattr(standin, "make_server", fake_make_server)
    assert CliRunner().invoke(main, ["stand-in", "--port", "0"]).exit_code == 0
    assert CliRunner().invoke(main, ["stand-in", "--port", "0", "--record", "5"]).exit_code == 0
    assert built[0].record_requests is False
    assert built[1].record_requests is True and built[1].record_limit == 5


@pytest.mark.parametrize(
    "body",
    [
        {"model": CHEAP, "max_tokens": 5, "messages": [5]},
        {"model": CHEAP, "max_tokens": 5, "messages": USER, "tools": "zz"},
        b"{not json",
    ],
)
def test_malformed_bodies_over_http_get_a_400_json_error(loopback, body):
    _, base_url = loopback
    port = int(base_url.rsplit(":", 1)[1])
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/v1/messages", body=raw, headers={"content-type": "application/json"})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    assert response.status == 400 and payload["error"]["type"] == "invalid_request_error"


def test_fifty_concurrent_clients_get_no_connection_reset(loopback):
    api, base_url = loopback
    port = int(base_url.rsplit(":", 1)[1])
    api.enqueue(*[answer("safe", 0.9)] * 50)
    body = json.dumps({"model": CHEAP, "max_tokens": 5, "messages": USER}).encode()
    statuses, errors = [], []
    start = threading.Barrier(50)

    def one():
        try:
            start.wait()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/v1/messages", body=body)
            statuses.append(conn.getresponse().status)
            conn.close()
        except OSError as exc:  # ConnectionResetError, refused, timeout
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and statuses == [200] * 50


@pytest.mark.parametrize("sent", [b"", b"POST /v1/messages HTTP/1.1\r\ncontent-length: 100\r\n\r\n{"])
def test_a_slow_client_is_cut_off_by_the_socket_timeout(sent):
    server = make_server(StandInAPI(), socket_timeout=0.3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sock = socket.create_connection(server.server_address[:2], timeout=5)
        sock.sendall(sent)
        started = time.monotonic()
        assert sock.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < 3
        sock.close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_scenario_s_overloaded_and_rate_limited_replies_say_when_to_retry():
    import random

    from routermon.core.simulate.standin.behaviour import failure_reply

    for failure, status in (("overloaded", 529), ("rate_limited", 429)):
        reply = failure_reply(failure, random.Random(0), 0.0)
        assert reply.status == status and reply.retry_after is not None and reply.retry_after > 0


def test_a_client_that_resets_its_connection_prints_no_traceback(capfd):
    import socket
    import struct
    import time

    from routermon.core.simulate.standin import StandInAPI

    server, stop = serve_in_thread(StandInAPI())
    try:
        host, port = server.server_address[:2]
        for _ in range(3):
            sock = socket.create_connection((host, port))
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
            sock.close()
        time.sleep(0.5)
    finally:
        stop()
    assert "Traceback" not in capfd.readouterr().err


# -- class 9: a connection cap, a per-request deadline and a bound on body bytes in flight -------


def _served(**bounds):
    api = StandInAPI()
    server = make_server(api, **bounds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return api, server


def _post_hello(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": CHEAP, "max_tokens": 5, "messages": USER})
    conn.request("POST", "/v1/messages", body=body, headers={"content-type": "application/json"})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, payload


def _slow_client(port: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(sent)
    return sock


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connected, silent
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n",  # headers never finished
        b"POST /v1/messages HTTP/1.1\r\ncontent-length: 100\r\n\r\n{",  # body never finished
    ],
)
def test_slow_clients_at_the_connection_cap_do_not_keep_a_normal_client_out(sent):
    api, server = _served(max_connections=4, request_deadline_s=30.0)
    port = server.server_address[1]
    try:
        slow = [_slow_client(port, sent) for _ in range(10)]
        time.sleep(0.3)
        assert server.bounds.held() <= 4
        for _ in range(3):
            api.enqueue(answer("safe", 0.9))
            assert _post_hello(port)[0] == 200
        assert server.bounds.held() <= 4
        for sock in slow:
            sock.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_trickling_bytes_is_cut_off_at_the_request_deadline():
    _, server = _served(socket_timeout=5.0, request_deadline_s=0.5)
    port = server.server_address[1]
    try:
        sock = _slow_client(port, b"P")
        started = time.monotonic()
        closed = False
        for byte in b"OST /v1/messages HTTP/1.1\r\nx-a: " + b"a" * 60:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
        if not closed:
            sock.settimeout(3)
            assert sock.recv(1024) == b""
        assert time.monotonic() - started < 4.5  # each byte came well inside the socket timeout
        sock.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_past_the_bytes_in_flight_bound_gets_a_529_and_is_read_once_there_is_room():
    api, server = _served(max_bytes_in_flight=1000, request_deadline_s=30.0)
    port = server.server_address[1]
    try:
        holder = _slow_client(port, b"POST /v1/messages HTTP/1.1\r\ncontent-length: 950\r\n\r\n{")
        time.sleep(0.3)
        status, payload = _post_hello(port)
        assert status == 529 and payload["error"]["type"] == "overloaded_error"
        holder.close()
        time.sleep(0.3)
        api.enqueue(answer("safe", 0.9))
        assert _post_hello(port)[0] == 200
        # The handler gives its body's bytes back once its reply is written, which the client may
        # read a moment before: wait for it (every body is given back), without a fixed sleep.
        deadline = time.monotonic() + 10
        while server.bounds.bytes_in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.bounds.bytes_in_flight == 0
    finally:
        server.shutdown()
        server.server_close()


def test_at_the_cap_with_every_connection_being_answered_a_new_one_gets_a_529():
    api, server = _served(max_connections=1)
    api.timeout_s = 2.0
    port = server.server_address[1]
    try:
        from routermon.core.simulate.standin import timeout

        api.enqueue(timeout())
        busy = threading.Thread(target=lambda: _expect_dropped(port), daemon=True)
        busy.start()
        time.sleep(0.5)
        refused = socket.create_connection(("127.0.0.1", port), timeout=5)
        reply = b""
        while chunk := refused.recv(4096):
            reply += chunk
        refused.close()
        assert reply.startswith(b"HTTP/1.1 529 ") and b'"overloaded_error"' in reply
        busy.join(5)
    finally:
        server.shutdown()
        server.server_close()


def _expect_dropped(port: int) -> None:
    try:
        _post_hello(port)
    except (OSError, http.client.HTTPException):
        pass


def test_the_accept_loop_rests_when_descriptors_run_out(monkeypatch):
    import errno
    import socketserver

    calls = []

    def out_of_descriptors(self):
        calls.append(time.monotonic())
        raise OSError(errno.EMFILE, "Too many open files")

    server = make_server(StandInAPI())
    try:
        monkeypatch.setattr(socketserver.TCPServer, "get_request", out_of_descriptors)
        started = time.monotonic()
        for _ in range(3):
            server._handle_request_noblock()
        assert len(calls) == 3 and time.monotonic() - started >= 0.25
    finally:
        server.server_close()
