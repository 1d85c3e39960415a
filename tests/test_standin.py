"""The stand-in Messages API: wire format, scripted and scenario modes, the loopback server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import anthropic
import pytest

from routermon.core.clock import VirtualClock
from routermon.core.route import tasks
from routermon.core.route.router import Router
from routermon.core.simulate.scenario import ErrorRates, is_ambiguous, load_scenario, true_label
from routermon.core.simulate.standin import StandInAPI, answer, http_error, serve_in_thread

LABELS = ["safe", "unsafe", "review-needed"]


def test_sync_client_gets_a_real_message():
    api = StandInAPI()
    api.enqueue(answer("safe", 0.9, input_tokens=11, output_tokens=7))
    import httpx2

    client = anthropic.Anthropic(
        api_key="k", base_url="http://x", http_client=httpx2.Client(transport=api.transport())
    )
    spec = tasks.classify(LABELS)
    msg = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        tools=[spec.tool()],
        tool_choice={"type": "tool", "name": "submit_answer"},
    )
    assert isinstance(msg, anthropic.types.Message)
    assert msg.stop_reason == "tool_use" and msg.content[0].input == {"answer": "safe", "confidence": 0.9}
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (11, 7)


def test_rate_limit_carries_retry_after_and_the_sdk_honours_it():
    api = StandInAPI()
    api.enqueue(http_error(429, retry_after=0.2), answer("safe", 0.9))
    clock = VirtualClock(1000.0)
    api.clock = clock
    router = Router("claude-haiku-4-5", "claude-sonnet-4-6", client=api.client(), clock=clock)
    result = router.route_sync("classify", "x", labels=LABELS)
    router.close()
    assert result.model == "claude-haiku-4-5" and not result.escalated
    assert result.latency_ms == pytest.approx(200.0)  # the SDK waited retry-after on the virtual clock


def test_scenario_mode_is_deterministic_and_consistent_across_models():
    scenario = load_scenario()

    async def run(seed):
        api = StandInAPI(scenario=scenario, seed=seed, clock=VirtualClock(0))
        router = Router(
            "claude-haiku-4-5", "claude-sonnet-4-6", 0.7, client=api.client(), clock=api.clock, seed=seed
        )
        out = []
        for i in range(60):
            r = await router.route("classify", f"message {i} about the weather", labels=LABELS)
            out.append((r.answer, r.confidence, r.model, r.latency_ms, r.input_tokens, r.output_tokens))
        await router.aclose()
        assert api.internal_errors == []
        return out

    first, again, other = asyncio.run(run(1)), asyncio.run(run(1)), asyncio.run(run(2))
    assert first == again
    assert first != other
    # Strong-model answers on clear items are mostly the true label.
    truths = [true_label(f"message {i} about the weather", LABELS) for i in range(60)]
    right = sum(a[0] == t for a, t in zip(first, truths, strict=True))
    assert right >= 54


def test_ambiguous_slice_is_where_the_cheap_model_is_unsure():
    scenario = load_scenario()
    task = scenario.task("classify")
    texts = [f"item {i}" for i in range(4000)]
    ambiguous = [t for t in texts if is_ambiguous(t, task)]
    assert abs(len(ambiguous) / len(texts) - task.ambiguous_share) < 0.015

    async def confidences(sample):
        api = StandInAPI(scenario=scenario, seed=3, clock=VirtualClock(0))
        router = Router("claude-haiku-4-5", "claude-sonnet-4-6", 0.0, client=api.client(), clock=api.clock)
        out = []
        for t in sample:
            try:
                out.append((await router.route("classify", t, labels=LABELS)).confidence)
            except Exception:
                pass
        await router.aclose()
        return out

    amb = asyncio.run(confidences(ambiguous[:60]))
    clear = asyncio.run(confidences([t for t in texts if not is_ambiguous(t, task)][:60]))
    assert sum(amb) / len(amb) < 0.55 < 0.85 < sum(clear) / len(clear)


def test_error_rates_produce_errors():
    scenario = load_scenario()
    for profile in scenario.models:
        profile.errors = ErrorRates(overloaded=1.0)
    api = StandInAPI(scenario=scenario, seed=0, clock=VirtualClock(0))
    router = Router(
        "claude-haiku-4-5", "claude-sonnet-4-6", client=api.client(max_retries=1), clock=api.clock
    )
    with pytest.raises(Exception, match="overloaded"):
        router.route_sync("classify", "x", labels=LABELS)
    router.close()
    assert len(api.requests) == 4  # two tiers, each tried twice


def test_loopback_server_serves_the_real_client():
    api = StandInAPI(scenario=load_scenario(), seed=0)
    server, stop = serve_in_thread(api)
    try:
        host, port = server.server_address[:2]
        client = anthropic.AsyncAnthropic(api_key="any", base_url=f"http://{host}:{port}", max_retries=0)
        router = Router("claude-haiku-4-5", "claude-sonnet-4-6", client=client)
        result = router.route_sync("classify", "hello over a socket", labels=LABELS)
        router.close()
        assert result.answer in LABELS
        assert len(api.requests) >= 1
    finally:
        stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fake_api_command_serves_requests_via_base_url():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "routermon.tui.cli", "fake-api", "--port", str(port), "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "ANTHROPIC_BASE_URL" in proc.stdout.readline()
        env = {**os.environ, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}", "ANTHROPIC_API_KEY": "sk-test"}
        code = (
            "import anthropic, json\n"
            "c = anthropic.Anthropic(max_retries=0)\n"
            "m = c.messages.create(model='claude-haiku-4-5', max_tokens=20, messages=[{'role':'user','content':'hi'}])\n"
            "print(json.dumps(m.model_dump()['usage']))\n"
        )
        deadline = time.monotonic() + 20
        while True:
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            if out.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["input_tokens"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_fake_api_rejects_non_loopback_hosts():
    from routermon.core.simulate.standin import make_server

    with pytest.raises(ValueError):
        make_server(StandInAPI(), host="0.0.0.0")
