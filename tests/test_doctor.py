"""``routermon doctor``: every tier, one request of each task's shape, against the stand-in (in
process and over loopback HTTP via ANTHROPIC_BASE_URL, as ``routermon stand-in`` serves it); the
real-key path asks first and reads the Models API; exit 0 / 1 / 2; nothing logged as traffic."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import anthropic
import pytest
from click.testing import CliRunner

from routermon.core.simulate.standin import StandInAPI
from routermon.tui.cli import main

CHEAP, STRONG = "claude-haiku-5-5", "claude-sonnet-5-5"
TASKS = ["classify", "extract", "summarize"]


def doctor(*args, input=None):
    return CliRunner().invoke(main, ["doctor", *args], input=input)


def settings(tmp_path, monkeypatch, text: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(text)
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


@pytest.fixture
def standin_api():
    """What ``loopback`` (tests/conftest.py) serves here: the stand-in answering from its scenario."""
    from routermon.core.simulate.scenario import load_scenario

    return StandInAPI(scenario=load_scenario())


def test_doctor_in_process_checks_each_tier_and_task_and_logs_nothing(tmp_path):
    db = tmp_path / "calls.db"
    result = doctor("--stand-in", "--db", str(db))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "the stand-in (in-process)" in lines[0]
    for model in (CHEAP, STRONG):
        for task in TASKS:
            assert any(model in line and task in line and "accepted" in line for line in lines)
    assert "Every tier accepts" in result.stdout and "requests" in result.stdout
    assert not db.exists()  # not traffic: nothing written to the call log

    report = json.loads(doctor("--fake", "--json").stdout)
    assert report["ok"] is True and len(report["checks"]) == 6
    assert {(c["model"], c["task"]) for c in report["checks"]} == {
        (m, t) for m in (CHEAP, STRONG) for t in TASKS
    }
    assert all(c["accepted"] and c["answer_valid"] and c["cost_usd"] > 0 for c in report["checks"])
    assert report["rate_limits"]["anthropic-ratelimit-requests-limit"]
    assert report["total_cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in report["checks"]))


def test_doctor_reports_thinking_tokens_when_a_tier_thinks(tmp_path, monkeypatch):
    settings(tmp_path, monkeypatch, '[tiers.strong]\nthinking = "default"\n')
    report = json.loads(doctor("--stand-in", "--json").stdout)
    strong = [c for c in report["checks"] if c["model"] == STRONG]
    assert all(c["thinking_tokens"] > 0 and c["output_tokens"] > c["thinking_tokens"] for c in strong)


def test_doctor_says_which_tier_refuses_with_the_apis_message_and_exits_1(tmp_path, monkeypatch, loopback):
    # The settings claim Sonnet 5.5 takes a forced tool; the API (the stand-in's bundled table) refuses it.
    settings(
        tmp_path,
        monkeypatch,
        f'[models."{STRONG}"]\nstructured_outputs = false\nforced_tool_choice = true\n',
    )
    result = doctor("--stand-in")
    assert result.exit_code == 1, result.output
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "refused" in result.stdout and "400 invalid_request_error" in result.stdout
    flat = " ".join(result.stdout.split())  # the messages are wrapped to 80 columns
    assert "tool_choice" in flat and f"by {STRONG} (strong)" in flat
    report = json.loads(doctor("--stand-in", "--json").stdout)
    refused = [c for c in report["checks"] if not c["accepted"]]
    assert {c["model"] for c in refused} == {STRONG} and all(c["status"] == 400 for c in refused)
    assert report["ok"] is False


def test_doctor_user_errors_exit_2_in_one_sentence(tmp_path, monkeypatch):
    result = doctor()
    assert result.exit_code == 2 and "ANTHROPIC_API_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    settings(tmp_path, monkeypatch, '[prices."claude-made-up-1"]\ninput_mtok = 1.0\noutput_mtok = 5.0\n')
    result = doctor("--stand-in", "--strong", "claude-made-up-1")
    assert result.exit_code == 2 and "Unknown model 'claude-made-up-1'" in result.stderr


def test_with_a_key_doctor_says_the_cost_and_asks_first(loopback, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    declined = doctor(input="n\n")
    assert declined.exit_code == 1 and "Nothing sent" in declined.stderr
    assert "they cost at most $0.0" in declined.stdout  # a fraction of a cent... or a few
    assert len(loopback.api.requests) == 0  # no message was sent
    no_answer = doctor(input="")
    assert no_answer.exit_code == 1 and "Nothing sent" in no_answer.stderr and len(loopback.api.requests) == 0
    sent = doctor("--yes")
    assert sent.exit_code == 0, sent.output
    assert len(loopback.api.requests) == 6 and "Every tier accepts" in sent.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_doctor_and_streaming_against_the_routermon_stand_in_command(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "routermon.tui.cli", "stand-in", "--port", str(port), "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "ANTHROPIC_BASE_URL" in server.stdout.readline()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ANTHROPIC_BASE_URL": base_url}
        env.pop("ANTHROPIC_API_KEY", None)
        deadline = time.monotonic() + 20
        while True:
            run = subprocess.run(
                [sys.executable, "-m", "routermon.tui.cli", "doctor", "--stand-in", "--json"],
                env=env,
                capture_output=True,
                text=True,
            )
            if run.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["api"] == f"the stand-in at {base_url}" and report["ok"]
        assert report["rate_limits"]["anthropic-ratelimit-requests-remaining"]

        client = anthropic.Anthropic(api_key="sk-test", base_url=base_url, max_retries=0)
        with client.messages.stream(
            model=CHEAP, max_tokens=64, messages=[{"role": "user", "content": "Say hello."}]
        ) as stream:
            kinds = [event.type for event in stream]
            message = stream.get_final_message()
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
        # a plain prompt: a text reply (after Haiku 5.5's default thinking), not a submit_answer call
        assert [b.type for b in message.content] == ["thinking", "text"]
        assert message.content[1].text and "content_block_delta" in kinds
    finally:
        server.terminate()
        server.wait(timeout=10)
