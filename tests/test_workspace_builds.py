"""Every router, stand-in, judge and price book is built by the workspace (issue 30, "decisions
still made twice"): what the settings say reaches simulated traffic, the demo and ``whatif``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from routermon.core.log.privacy import is_digest
from routermon.core.log.reader import LogReader
from routermon.core.settings import Settings
from routermon.core.simulate.demo import prepare_demo
from routermon.core.workspace import Workspace
from routermon.tui.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_750_000_000.0
PRIVATE = 'store_answers = "none"\npreview_chars = 5\n'


def _settings_file(tmp_path, monkeypatch, text: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    monkeypatch.setenv("ROUTERMON_CONFIG", str(path))
    monkeypatch.delenv("ROUTERMON_DB", raising=False)


def _rows(path):
    with LogReader(path) as reader:
        return list(reader.iter_calls())


def _summaries(rows):
    return [r for r in rows if r.task == "summarize" and r.answer is not None and r.error_type is None]


def test_simulate_keeps_what_the_settings_say_as_route_does(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, PRIVATE)
    simulated, routed = tmp_path / "a.db", tmp_path / "b.db"
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(simulated), "simulate", "-n", "40", "--seed", "1"])
    assert result.exit_code == 0, result.output
    text = "Please summarize: the delivery was late again and the customer wants a refund now."
    result = runner.invoke(
        main, ["--db", str(routed), "route", "--stand-in", "--task", "summarize", "--json", text]
    )
    assert result.exit_code == 0, result.output
    for path in (simulated, routed):
        rows = _rows(path)
        assert rows and [r.input_preview for r in rows if len(r.input_preview or "") > 5] == []
    summaries = _summaries(_rows(simulated))
    assert summaries and all(is_digest(json.loads(r.answer)) for r in summaries)


def test_simulate_takes_the_settings_models_and_thresholds(tmp_path, monkeypatch):
    _settings_file(
        tmp_path,
        monkeypatch,
        'cheap_model = "claude-3-5-haiku-latest"\n[thresholds]\nclassify = 0.95\n',
    )
    path = tmp_path / "calls.db"
    result = CliRunner().invoke(main, ["--db", str(path), "simulate", "-n", "30", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cheap_model"] == "claude-3-5-haiku-latest"
    first = [r for r in _rows(path) if r.tier == 0]
    assert {r.model for r in first} == {"claude-3-5-haiku-latest"}
    assert {r.threshold for r in first if r.task == "classify"} == {0.95}


def test_the_demo_keeps_what_the_settings_say(tmp_path):
    ws = Workspace(Settings(store_answers="none", preview_chars=5), db=tmp_path / "demo.db")
    prepare_demo(tmp_path / "demo.db", now=NOW, seed=3, routers=ws, label=False)
    rows = _rows(tmp_path / "demo.db")
    cascade = [r for r in rows if r.mode == "cascade" and r.role != "judge"]  # its shadow batch keeps inputs
    assert cascade and all(len(r.input_preview or "") <= 5 for r in cascade)
    summaries = _summaries([r for r in rows if r.role != "judge"])
    assert summaries and all(is_digest(json.loads(r.answer)) for r in summaries)


def test_the_demo_judges_with_the_settings_judge_model(tmp_path):
    ws = Workspace(Settings(judge_model="claude-3-5-haiku-latest"), db=tmp_path / "demo.db")
    prepare_demo(tmp_path / "demo.db", now=NOW, seed=3, routers=ws, label=False)
    judged = {r.model for r in _rows(tmp_path / "demo.db") if r.role == "judge"}
    assert judged == {"claude-3-5-haiku-latest"}


def test_route_stand_in_logs_the_stand_in_as_its_source(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, "")
    path = tmp_path / "calls.db"
    result = CliRunner().invoke(
        main, ["--db", str(path), "route", "--stand-in", "--task", "summarize", "the order is late"]
    )
    assert result.exit_code == 0, result.output
    assert {r.source for r in _rows(path)} == {"stand-in"}


def test_the_no_key_message_names_the_stand_in_option(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, "")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "c.db"), "route", "--task", "summarize", "late"]
    )
    assert result.exit_code == 2
    assert "--stand-in" in result.stderr and "--fake" not in result.stderr


# -- one builder -----------------------------------------------------------------------------------

# Where each constructor may be called outside core/workspace.py, and why.
ALLOWED = {
    # The stand-in's own modules build what they serve; the bench measures the bare stand-in.
    "StandInAPI(": {"core/simulate/standin/__init__.py"},
    "Router(": set(),
    "Judge(": set(),
    # whatif prices the batch discount from the price book it is given (a variant of it); the
    # others are defaults for library callers without a workspace (commands pass the workspace's).
    "PriceBook(": {
        "core/measure/whatif.py",
        "core/prices.py",
        "core/route/router.py",
        "core/route/catalog.py",
        "core/log/importing.py",
    },
}
CONSTRUCTED = re.compile(r"(?<![\w.])(StandInAPI|Router|Judge|PriceBook)\(")


def _constructions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in ("core", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "core/workspace.py":
                continue
            for line in path.read_text().splitlines():
                for constructor in _constructed_in(line):
                    found.setdefault(constructor, set()).add(rel)
    return found


def _constructed_in(line: str) -> list[str]:
    code = line.split("#", 1)[0]
    if code.lstrip().startswith(("class ", "def ")):
        return []
    return [f"{name}(" for name in CONSTRUCTED.findall(code)]


def test_only_the_workspace_builds_routers_stand_ins_judges_and_price_books():
    for constructor, places in _constructions().items():
        stray = places - ALLOWED.get(constructor, set())
        assert not stray, f"{constructor} is built outside the workspace in {sorted(stray)}"


def test_the_one_builder_check_sees_a_second_builder():
    assert _constructed_in("    router = Router(cheap, strong)") == ["Router("]
    assert _constructed_in("    prices = prices or PriceBook()") == ["PriceBook("]
    assert _constructed_in("    api = standin.StandInAPI(seed=1)") == []  # qualified: seen by its module
    assert _constructed_in("    router = ws.router(stand_in=True)  # not Router(") == []


def test_whatif_from_log_prices_the_settings_strong_model_when_the_log_names_none(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, 'strong_model = "claude-3-opus-latest"\n')
    path = tmp_path / "calls.db"
    runner = CliRunner()
    args = ["--db", str(path), "simulate", "-n", "20", "--threshold", "0", "--audit-share", "0"]
    assert runner.invoke(main, args).exit_code == 0
    assert {r.tier for r in _rows(path)} == {0}  # nothing escalated: the log names no strong model
    result = runner.invoke(main, ["--db", str(path), "whatif", "--from-log", "--days", "30", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"]["strong_model"] == "claude-3-opus-latest"
