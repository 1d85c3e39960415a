"""Meeting the real API: degraded results, thinking tokens from reply to log, cost and report,
the log migration, per-tier settings, and the default cascade escalating over loopback HTTP."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlite_utils

from routermon.core.errors import ConfigError, DegradedAnswerError, RouteFailedError
from routermon.core.log.db import MIGRATIONS
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.measure.report import build_report, render_json, render_markdown
from routermon.core.route.router import Router, Tier
from routermon.core.simulate.standin import StandInAPI, answer, http_error, refusal, serve_in_thread
from routermon.core.workspace import Workspace

CHEAP = "claude-haiku-5-5"
STRONG = "claude-sonnet-5-5"
LABELS = ["safe", "unsafe", "review-needed"]


def rows(db):
    with LogReader(db) as reader:
        return reader.calls_after(0)


# -- degraded -----------------------------------------------------------------------------------


async def test_a_strong_tier_failing_after_escalation_is_a_degraded_result(db):
    api = StandInAPI()
    router = Router(CHEAP, STRONG, client=api.client(max_retries=0), log=db)
    api.enqueue(answer("safe", 0.4), model=CHEAP)
    api.enqueue(http_error(400, "invalid_request_error"), model=STRONG)
    result = await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    assert (result.answer, result.model, result.escalated, result.degraded) == ("safe", CHEAP, True, True)
    assert STRONG in result.degraded_reason and "api_error" in result.degraded_reason
    strong = result.calls[1]
    assert (strong.escalation_reason, strong.error_type) == ("api_error", "http_400")
    logged = rows(db)
    assert [r.final for r in logged] == [True, False] and logged[1].error_type == "http_400"


async def test_on_degraded_raise_raises_with_the_result_and_still_logs_both_calls(db):
    api = StandInAPI()
    router = Router(CHEAP, STRONG, client=api.client(max_retries=0), log=db, on_degraded="raise")
    api.enqueue(answer("safe", 0.4), model=CHEAP)
    api.enqueue(refusal(), model=STRONG)
    with pytest.raises(DegradedAnswerError, match="degraded") as info:
        await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    assert info.value.result.degraded and info.value.result.answer == "safe"
    assert "refusal" in info.value.result.degraded_reason
    assert len(rows(db)) == 2


async def test_a_kept_answer_or_a_working_strong_tier_is_not_degraded():
    api = StandInAPI()
    router = Router(CHEAP, STRONG, client=api.client(max_retries=0))
    api.enqueue(answer("safe", 0.95), model=CHEAP)
    kept = await router.route("classify", "x", labels=LABELS)
    api.enqueue(answer("safe", 0.3), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9), model=STRONG)
    escalated = await router.route("classify", "x", labels=LABELS)
    api.enqueue(http_error(500), model=CHEAP)
    api.enqueue(http_error(500), model=STRONG)
    with pytest.raises(RouteFailedError):  # nothing answered: not degraded, failed
        await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    assert not kept.degraded and kept.degraded_reason is None
    assert escalated.escalated and not escalated.degraded


async def test_shadow_mode_marks_a_low_confidence_answer_with_a_failed_strong_call_degraded():
    api = StandInAPI()
    router = Router(CHEAP, STRONG, client=api.client(max_retries=0), mode="shadow")
    api.enqueue(answer("safe", 0.3), model=CHEAP)
    api.enqueue(http_error(400), model=STRONG)
    result = await router.route("classify", "x", labels=LABELS)
    api.enqueue(answer("safe", 0.95), model=CHEAP)
    api.enqueue(http_error(400), model=STRONG)
    confident = await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    assert result.degraded and not confident.degraded


def test_on_degraded_must_be_return_or_raise():
    with pytest.raises(ConfigError, match="on_degraded"):
        Router(CHEAP, STRONG, client=StandInAPI().client(), on_degraded="ignore")


# -- thinking tokens ----------------------------------------------------------------------------


async def test_thinking_tokens_go_from_the_reply_to_the_log_the_cost_and_the_report(db):
    api = StandInAPI()
    # The strong tier at the model's own defaults: adaptive thinking at effort high.
    tiers = [Tier(CHEAP, 0.7), Tier(STRONG, thinking="default", effort=None)]
    router = Router(tiers=tiers, client=api.client(), log=db)
    api.enqueue(answer("safe", 0.3, input_tokens=100, output_tokens=10), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9, input_tokens=100, output_tokens=10), model=STRONG)
    result = await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    cheap, strong = result.calls
    assert (cheap.thinking_tokens, cheap.output_tokens) == (0, 10)  # thinking off on the cheap tier
    assert (strong.thinking_tokens, strong.output_tokens) == (320, 330)
    assert result.thinking_tokens == 320
    # Billed as output tokens: the cost is the output price of 330 tokens.
    assert strong.cost_usd == pytest.approx(router.prices.cost(STRONG, 100, 330))
    logged = rows(db)
    assert [r.thinking_tokens for r in logged] == [0, 320]
    with LogReader(db) as reader:
        report = build_report(reader)
        assert reader.summary().thinking_tokens == 320
    assert report.traffic.thinking_tokens == 320
    assert json.loads(render_json(report))["traffic"]["thinking_tokens"] == 320
    assert "Thinking tokens: 320 of 340 output tokens" in render_markdown(report)


async def test_whatif_from_log_prices_the_thinking_tokens_of_escalations(db):
    from routermon.core.measure.whatif import from_log

    api = StandInAPI()
    tiers = [Tier(CHEAP, 0.7), Tier(STRONG, thinking="default", effort=None)]
    router = Router(tiers=tiers, client=api.client(), log=db)
    api.enqueue(answer("safe", 0.3, input_tokens=100, output_tokens=10), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9, input_tokens=100, output_tokens=10), model=STRONG)
    await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    with LogReader(db) as reader:
        inputs = from_log(reader, days=1)
    # output_tokens hold the thinking tokens, so the projection bills them at the output price.
    assert inputs.escalated_output_tokens == 330 and inputs.output_tokens == 10


async def test_effort_scales_the_stand_ins_thinking_tokens():
    api = StandInAPI()
    router = Router(
        tiers=[
            Tier(CHEAP, 0.7, thinking="default", effort="low"),
            Tier(STRONG, thinking="default", effort="max"),
        ],
        client=api.client(),
    )
    api.enqueue(answer("safe", 0.1), model=CHEAP)
    api.enqueue(answer("safe", 0.9), model=STRONG)
    result = await router.route("classify", "x", labels=LABELS)
    await router.aclose()
    assert [c.thinking_tokens for c in result.calls] == [40, 1500]
    assert api.requests[1]["output_config"]["effort"] == "max" and "thinking" not in api.requests[1]


def test_an_old_log_gains_the_thinking_tokens_column(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS.apply(db, stop_before="m002_thinking_tokens")
    db.execute(
        "INSERT INTO calls (ts, request_id, task, mode, source, model, role, tier, input_sha256) "
        "VALUES (1.0, 'r1', 'classify', 'cascade', 'live', 'claude-haiku-4-5', 'cheap', 0, 'x')"
    )
    db.conn.commit()
    db.conn.close()
    with LogReader(path) as reader:  # opening migrates
        (row,) = reader.calls_after(0)
        assert row.thinking_tokens == 0 and reader.summary().thinking_tokens == 0
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(calls)")]
    # Every migration adds its columns at the end, in the order the writer inserts them.
    assert columns[1:] == list(CALL_COLUMNS)


# -- settings -----------------------------------------------------------------------------------


def test_tier_and_model_settings_reach_the_router_and_the_stand_in(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text(
        '[tiers.strong]\nthinking = "default"\neffort = "medium"\n'
        '[models."claude-haiku-5-5"]\nstructured_outputs = false\nforced_tool_choice = true\n'
    )
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    ws = Workspace.load(db=tmp_path / "calls.db")
    router = ws.router(stand_in=True)
    assert router.tiers[1].thinking == "default" and router.tiers[1].effort == "medium"
    cheap = router._requests[0]
    assert cheap.answer_mode == "forced_tool" and cheap.thinking == {"type": "disabled"}
    result = router.route_sync("classify", "a kind message", labels=LABELS)
    router.close()
    assert result.answer in LABELS  # the stand-in took the forced tool on the overridden model


def test_a_bad_tier_setting_is_one_clear_error(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text('[tiers.strong]\nthinking = "disabled"\n')
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    with pytest.raises(ConfigError, match="does not take thinking type 'disabled'"):
        Workspace.load(db=tmp_path / "calls.db").router(stand_in=True)


# -- the default cascade over loopback HTTP -----------------------------------------------------


def test_default_cascade_escalates_end_to_end_over_loopback_http_with_a_key(tmp_path, monkeypatch):
    """The real client (ANTHROPIC_BASE_URL and a key, no transport of ours) against the stand-in's
    HTTP server: Haiku 5.5 is unsure, Sonnet 5.5 answers; both requests are ones the API accepts."""
    api = StandInAPI()
    api.enqueue(answer("safe", 0.35), model=CHEAP)
    api.enqueue(answer("unsafe", 0.92), model=STRONG)
    server, stop = serve_in_thread(api)
    try:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        router = Workspace.load(db=tmp_path / "calls.db").router()
        assert (router.cheap_model, router.strong_model) == (CHEAP, STRONG)
        result = router.route_sync("classify", "is this fine?", labels=LABELS)
        router.close()
    finally:
        stop()
    assert (result.answer, result.model, result.escalated, result.degraded) == ("unsafe", STRONG, True, False)
    assert [c.error_type for c in result.calls] == [None, None]
    cheap_request, strong_request = api.requests
    assert "tool_choice" not in strong_request and strong_request["thinking"] == {"type": "between_tools"}
    assert cheap_request["thinking"] == {"type": "disabled"}
    assert strong_request["output_config"]["format"]["type"] == "json_schema"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fake_api_command_serves_the_default_cascade_and_refuses_the_old_forced_tool(tmp_path):
    """``routermon fake-api`` (the scenario) over ANTHROPIC_BASE_URL: routed requests all answer, some
    escalate to Sonnet 5.5 without a 400, and the request the router used to send is refused."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "routermon.tui.cli", "fake-api", "--port", str(port), "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "ANTHROPIC_BASE_URL" in proc.stdout.readline()
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
            "ANTHROPIC_API_KEY": "sk-test",
            "ROUTERMON_CONFIG": os.environ["ROUTERMON_CONFIG"],
        }
        code = (
            "import json, anthropic\n"
            "from routermon.core.route.router import Router\n"
            "from routermon.core.route.tasks import classify, TOOL_NAME\n"
            "r = Router()\n"
            "labels = ['safe', 'unsafe', 'review-needed']\n"
            "out = [r.route_sync('classify', f'item number {i} ' * 3, labels=labels) for i in range(120)]\n"
            "r.close()\n"
            "c = anthropic.Anthropic(max_retries=0)\n"
            "spec = classify(labels)\n"
            "try:\n"
            "    c.messages.create(model='claude-sonnet-5-5', max_tokens=50, messages=[{'role':'user','content':'x'}],\n"
            "        tools=[spec.tool()], tool_choice={'type': 'tool', 'name': TOOL_NAME})\n"
            "    old = 'accepted'\n"
            "except anthropic.BadRequestError as e:\n"
            "    old = e.body['type'] + ':' + e.body['error']['type']\n"
            "print(json.dumps({'escalated': sum(x.escalated and x.model == 'claude-sonnet-5-5' for x in out),\n"
            "    'errors': [c.error_type for x in out for c in x.calls if c.error_type and c.error_type.startswith('http_4')],\n"
            "    'degraded': sum(x.degraded for x in out), 'old': old}))\n"
        )
        deadline = time.monotonic() + 30
        while True:
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            if out.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert out.returncode == 0, out.stderr
        figures = json.loads(out.stdout)
        assert figures["escalated"] > 0 and figures["errors"] == []
        assert figures["old"] == "error:invalid_request_error"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- the route command --------------------------------------------------------------------------


def test_route_command_says_degraded_and_exits_1(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from routermon.tui.cli import main

    api = StandInAPI()
    api.enqueue(answer("safe", 0.3), model=CHEAP)
    api.enqueue(http_error(400, "invalid_request_error"), model=STRONG)
    monkeypatch.setattr(Workspace, "stand_in_client", lambda self, **kw: api.client(max_retries=0))
    args = ["route", "some text", "--labels", "safe,unsafe", "--stand-in", "--db", str(tmp_path / "c.db")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert "degraded: answered by claude-haiku-5-5" in result.stdout
    assert "Degraded answer: claude-sonnet-5-5 failed (api_error" in result.stderr
    api.enqueue(answer("safe", 0.3), model=CHEAP)
    api.enqueue(http_error(400, "invalid_request_error"), model=STRONG)
    as_json = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["degraded"] is True
