"""Issue 34, class 1: control characters from data are shown, never obeyed, in commands, messages
and the app (``routermon.core.text.visible``, used at every edge); tabs and newlines stay."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from click.testing import CliRunner
from tui_helpers import fixed_clock, make_app, settle

from routermon.core.formatting import json_text
from routermon.core.log.importing import import_pairs
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.text import visible
from routermon.tui.cli import main

# The members of the class: each would act on a terminal if written through.
MEMBERS = {
    "clear screen": "\x1b[2J\x1b[H",
    "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "OSC 8 hyperlink": "\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\",
    "window title": "\x1b]0;pwned\x07",
    "one-byte CSI": "\x9b2J\x9b31m",
    "carriage return": "shown\roverwritten",
    "NUL": "nul\x00byte",
    "DEL and C1 OSC": "del\x7f osc\x9d0;t\x9c",
}
# Any C0 but tab and newline, DEL, any C1: none may reach a terminal.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
T0 = 1773835200.0


@pytest.mark.parametrize("text", MEMBERS.values(), ids=MEMBERS.keys())
def test_visible_shows_every_control_character_and_keeps_the_rest(text):
    shown = visible(text)
    assert RAW_CONTROL.search(shown) is None
    assert len(shown) >= len(text) and shown.replace("\u241b", "") != shown or "\x1b" not in text
    assert visible("tab\there\nnext line é漢🙂") == "tab\there\nnext line é漢🙂"
    assert visible("a\nb", newlines=False) == "a\u240ab"
    assert visible("\x1b[31m\x9b\r\x00") == "\u241b[31m\\x9b\u240d\u2400"


def _record(n: int, task: str, text: str) -> CallRecord:
    return CallRecord(
        ts=T0 + n,
        request_id=f"r{n}",
        task=task,
        model="claude-haiku-4-5",
        role="cheap",
        input_tokens=10,
        output_tokens=2,
        cost_usd=0.0001,
        latency_ms=100.0,
        confidence=0.9,
        answer=json.dumps(text),
        final=True,
        input_sha256=f"s{n}",
        input_preview=text,
        error_detail=text,
    )


def _members_for(backend: str) -> dict[str, str]:
    # PostgreSQL text cannot hold NUL at all; the log's writer handles that apart.
    return {k: v for k, v in MEMBERS.items() if backend == "sqlite" or "\x00" not in v}


def test_logs_table_and_messages_show_control_characters(log_db, backend):
    members = _members_for(backend)
    with CallLog(log_db) as writer:
        writer.log_many([_record(n, "t" + text, text) for n, text in enumerate(members.values())])
    runner = CliRunner()
    table = runner.invoke(main, ["logs", "--db", str(log_db), "-n", "0"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert RAW_CONTROL.search(table.output) is None
    assert "\u241b[2J" in table.output and "\\x9b2J" in table.output  # shown, as written
    for what in ("--task", "--model"):  # a message quoting what the user typed
        result = runner.invoke(main, ["logs", "--db", str(log_db), what, "\x1b]0;pwned\x07"])
        assert RAW_CONTROL.search(result.output) is None, result.output
    for fmt in ("--json", "--nl"):  # exact JSON: every control escaped, values unchanged
        out = runner.invoke(main, ["logs", "--db", str(log_db), fmt, "-n", "0"]).output
        assert RAW_CONTROL.search(out) is None
        items = json.loads(out) if fmt == "--json" else [json.loads(line) for line in out.splitlines()]
        assert {item["input_preview"] for item in items} == set(members.values())


ARGV_MEMBERS = {k: v for k, v in MEMBERS.items() if "\x00" not in v}  # argv cannot carry a NUL


@pytest.mark.parametrize("text", ARGV_MEMBERS.values(), ids=ARGV_MEMBERS.keys())
def test_an_error_quoting_user_text_shows_its_control_characters(tmp_path, text):
    result = CliRunner().invoke(
        main, ["import", str(tmp_path / f"x{text}y.jsonl"), "--db", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 2 and result.stderr.startswith("routermon: ")
    assert RAW_CONTROL.search(result.stderr) is None


def test_json_text_escapes_del_and_c1_and_stays_exact():
    data = {"answer": "\x7f\x9b\x1b[2J", "ok": "é"}
    text = json_text(data)
    assert RAW_CONTROL.search(text) is None and json.loads(text) == data


def _pairs_file(path, members: dict[str, str] = MEMBERS):
    lines = []
    for n, text in enumerate(members.values()):
        side = {"input_tokens": 10, "output_tokens": 2, "confidence": 0.5}
        lines.append(
            {
                "id": f"p{n}",
                "task": "task" + text,
                "input": "input " + text,
                "cheap": {**side, "model": "claude-haiku-4-5", "answer": "cheap " + text},
                "strong": {
                    **side,
                    "model": "claude-sonnet-4-6",
                    "answer": "strong " + text,
                    "confidence": 0.9,
                },
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_the_app_shows_control_characters_in_live_detail_and_review(tmp_path):
    db = tmp_path / "calls.db"
    import_pairs(_pairs_file(tmp_path / "pairs.jsonl"), db, clock=fixed_clock())
    with CallLog(db) as writer:
        writer.log_many([_record(n, "t" + text, text) for n, text in enumerate(MEMBERS.values())])

    async def run() -> dict[str, str]:
        from routermon.tui.widgets.calls_table import CallsTable

        app = make_app(db)
        seen = {}
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(CallsTable)
            seen["live"] = " ".join(
                getattr(c, "plain", str(c)) for i in range(table.row_count) for c in table.get_row_at(i)
            )
            seen["live screenshot"] = app.export_screenshot()
            await pilot.press("enter")
            await settle(pilot)
            seen["detail"] = " ".join(str(w.render()) for w in app.screen.query("Static"))
            seen["detail screenshot"] = app.export_screenshot()
            await pilot.press("escape", "6")
            await settle(pilot)
            seen["review"] = " ".join(str(w.render()) for w in app.screen.query("Static"))
            seen["review screenshot"] = app.export_screenshot()
        return seen

    seen = asyncio.run(run())
    for where, text in seen.items():
        assert RAW_CONTROL.search(text) is None, (where, RAW_CONTROL.findall(text))
    assert "\u241b[2J" in seen["live"] and "\\x9b2J" in seen["live"]  # ESC as ␛, the CSI as written
    assert "task\u241b[2J\u241b[H" in seen["review"] and "cheap \u241b[2J" in seen["review"]  # the first pair
    assert "del\u2421 osc\\x9d0;t\\x9c" in seen["detail"]  # the newest request: DEL and C1 OSC


@pytest.mark.parametrize(
    "command", [["thresholds"], ["report"], ["report", "--format", "markdown"], ["whatif"]]
)
def test_tables_and_reports_show_control_characters_in_task_names(tmp_path, log_db, backend, command):
    import_pairs(_pairs_file(tmp_path / "pairs.jsonl", _members_for(backend)), log_db, clock=fixed_clock())
    result = CliRunner().invoke(main, [*command, "--db", str(log_db)], env={"COLUMNS": "200"})
    assert result.exit_code in (0, 2), result.output
    assert RAW_CONTROL.search(result.output) is None, RAW_CONTROL.findall(result.output)


def test_every_command_writes_lines_through_echo():
    """The class, not the examples: no command writes with ``click.echo`` directly, so every line
    passes ``visible`` (``tui/echo.py``), and every console is the one of ``text.console()``."""
    from pathlib import Path

    tui = Path(__file__).resolve().parent.parent / "tui"
    direct = [
        f"{path.name}:{n}"
        for path in sorted(tui.rglob("*.py"))
        if path.name != "echo.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "click.echo(" in line or "click.secho(" in line
    ]
    assert direct == []
