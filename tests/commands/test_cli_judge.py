"""The `routermon judge` command and `routermon shadow --judge`: what a user types and reads."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from routermon.core.log.reader import LogReader
from routermon.core.simulate.simtext import make_text
from routermon.tui.cli import main


def write_summaries(path, n: int) -> None:
    rng = random.Random(5)
    path.write_text(
        "".join(json.dumps({"text": make_text("summarize", 300, rng, f"{100 + i}")}) + "\n" for i in range(n))
    )


def shadow(runner, src, db, *extra):
    args = ["shadow", str(src), "--task", "summarize", "--stand-in", "--db", str(db), *extra]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    return result


def test_judge_command_json_then_nothing_left(tmp_path):
    """`routermon judge --json` judges every free-text pair (inputs from --inputs), then a second
    run judges none and spends nothing."""
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_summaries(src, 30)
    runner = CliRunner()
    shadow(runner, src, db)
    args = ["judge", "--stand-in", "--db", str(db), "--json"]
    preview_only = runner.invoke(main, args)
    assert preview_only.exit_code == 0
    assert json.loads(preview_only.stdout)["run"]["no_input"] == 30
    first = runner.invoke(main, [*args, "--inputs", str(src)])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert out["run"]["done"] + out["run"]["failed"] == 30 and out["run"]["spend_usd"] > 0
    assert out["judge"]["verdicts"] == out["run"]["done"]
    assert out["judge"]["first_interval"][0] <= out["judge"]["first_interval"][1]
    again = runner.invoke(main, ["judge", "--stand-in", "--db", str(db), "--inputs", str(src)])
    assert again.exit_code == 0, again.output
    assert "Judged 0 pairs" in again.stdout and "$0.00 spent on judging this run" in again.stdout
    assert "Cost of measuring" in again.stdout and "Position bias" in again.stdout


def test_shadow_judge_and_the_judge_model_setting(tmp_path, monkeypatch):
    """`routermon shadow --judge` judges as it pairs, with ROUTERMON_JUDGE_MODEL as the judge, and
    says the judging spend apart from the serving spend."""
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_summaries(src, 10)
    monkeypatch.setenv("ROUTERMON_JUDGE_MODEL", "claude-sonnet-4-6")
    result = shadow(CliRunner(), src, db, "--judge")
    assert "judged by claude-sonnet-4-6" in result.stdout and "spent on judging" in result.stdout
    with LogReader(db) as reader:
        models = {row.model for row in reader.judge_rows()}
    assert models == {"claude-sonnet-4-6"}
    assert "10 pairs judged" in result.stdout  # every call answered


def test_judge_command_errors_are_one_sentence(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["judge", "--stand-in", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.output
    assert runner.invoke(main, ["judge", "--limit", "0", "--db", str(tmp_path / "x.db")]).exit_code == 2
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_summaries(src, 3)
    shadow(runner, src, db)
    bad = runner.invoke(
        main, ["judge", "--stand-in", "--db", str(db), "--inputs", str(tmp_path / "nope.jsonl")]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.stderr
    unknown = runner.invoke(
        main, ["judge", "--stand-in", "--db", str(db), "--inputs", str(src), "--model", "gpt-nope"]
    )
    assert unknown.exit_code == 2 and len(unknown.stderr.strip().splitlines()) == 1


def test_judge_command_refuses_an_unknown_task_and_a_missing_key(tmp_path, monkeypatch):
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_summaries(src, 3)
    runner = CliRunner()
    shadow(runner, src, db)
    unknown = runner.invoke(main, ["judge", "--stand-in", "--db", str(db), "--task", "translate"])
    assert unknown.exit_code == 2 and "has no task 'translate'" in unknown.stderr
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    no_key = runner.invoke(main, ["judge", "--db", str(db), "--inputs", str(src)])
    assert no_key.exit_code == 2 and "ANTHROPIC_API_KEY is not set" in no_key.stderr


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_ctrl_c_keeps_the_finished_verdicts_and_exits_130(tmp_path):
    """The first Ctrl-C lets the call in flight finish, keeps every verdict and exits 130."""
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_summaries(src, 20)
    shadow(CliRunner(), src, db)
    exe = Path(sys.executable).with_name("routermon")
    args = [str(exe), "judge", "--stand-in", "--stand-in-latency", "0.5", "--concurrency", "1"]
    args += ["--db", str(db), "--inputs", str(src)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a verdict is committed: the run is under way
        time.sleep(0.2)
        with LogReader(db) as reader:
            if reader.judge_rows():
                break
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, (out, err)
    assert "Traceback" not in err and "run again to finish" in err
    with LogReader(db) as reader:
        kept = len(reader.judge_rows())
    assert 0 < kept < 20 and f"Judged {kept} pair" in out
