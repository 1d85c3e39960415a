"""The workspace: settings, --db, prices and default models decided once, and honoured by every
command (before or after its name, and through ROUTERMON_DB), the app and its screens."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from routermon.core.log.reader import LogReader
from routermon.core.settings import load_settings
from routermon.core.workspace import Workspace
from routermon.tui.cli import COMMANDS, main

FINETUNE_SETTINGS = """
threshold = 0.55

[prices."my-finetune"]
input_mtok = 1.0
output_mtok = 5.0
"""


def _requests(db: Path) -> int:
    with LogReader(db) as reader:
        return reader.summary(0, time.time() + 1).requests


def _invoke(args, **kwargs):
    result = CliRunner().invoke(main, args, catch_exceptions=False, **kwargs)
    return result


WRITERS = {
    "route": ["route", "--stand-in", "--labels", "a,b", "hello"],
    "simulate": ["simulate", "-n", "5", "--days", "1"],
    "shadow": ["shadow", "INPUTS", "--stand-in", "--labels", "a,b"],
}


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_every_writing_command_honours_db_before_or_after_its_name_and_routermon_db(
    tmp_path, monkeypatch, command, where
):
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('{"input": "first text"}\n{"input": "second text"}\n')
    default = tmp_path / "default.db"
    monkeypatch.setenv("ROUTERMON_DB", str(default)) if where != "env" else None
    target = tmp_path / "chosen.db"
    args = [str(inputs) if a == "INPUTS" else a for a in WRITERS[command]]
    if where == "before":
        args = ["--db", str(target), *args]
    elif where == "after":
        args = [*args, "--db", str(target)]
    else:
        monkeypatch.setenv("ROUTERMON_DB", str(target))
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    assert target.exists() and _requests(target) > 0
    assert not default.exists()


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_demo_honours_db_before_or_after_its_name_and_routermon_db(tmp_path, monkeypatch, where):
    target = tmp_path / "demo-here.db"
    args = ["demo", "--no-app", "--rate", "0"]
    if where == "before":
        args = ["--db", str(target), *args]
    elif where == "after":
        args = [*args, "--db", str(target)]
    else:
        monkeypatch.setenv("ROUTERMON_DB", str(target))
    monkeypatch.setattr("routermon.core.simulate.demo.demo_db_path", lambda: tmp_path / "default-demo.db")
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    assert target.exists() and _requests(target) > 0
    assert not (tmp_path / "default-demo.db").exists()


def test_readers_honour_db_before_the_command_name(tmp_path):
    db = tmp_path / "log.db"
    assert _invoke(["--db", str(db), "simulate", "-n", "20", "--days", "1"]).exit_code == 0
    result = _invoke(["--db", str(db), "whatif", "--from-log", "--days", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert '"monthly_requests"' in result.output


def test_whatif_prices_a_model_only_the_settings_know(tmp_path, isolated_settings):
    isolated_settings.write_text(FINETUNE_SETTINGS)
    args = ["whatif", "--volume", "1000", "--cheap-share", "0.9", "--input-tokens", "100"]
    result = _invoke([*args, "--output-tokens", "10", "--cheap", "my-finetune", "--json"])
    assert result.exit_code == 0, result.output
    # 1,000 requests x (100 in at $1/M + 10 out at $5/M) = $0.15 a month always-cheap
    assert '"always_cheap": 0.15' in result.output


async def test_whatif_screen_prices_a_model_only_the_settings_know(tmp_path, isolated_settings):
    from textual.widgets import Select
    from tui_helpers import append_requests, make_app, settle

    isolated_settings.write_text(FINETUNE_SETTINGS)
    db = tmp_path / "small.db"
    append_requests(db, 3, start=time.time() - 60)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        select = screen.query_one("#cheap-model", Select)
        select.set_options([("my-finetune", "my-finetune")])
        select.value = "my-finetune"
        await settle(pilot)
        screen.recompute()
        assert screen.result is not None
        assert screen.result.inputs.cheap_model == "my-finetune"


async def test_thresholds_screen_uses_the_settings_threshold(date_db):
    from tui_helpers import make_app, settle

    app = make_app(date_db, settings={"threshold": 0.42})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        for _ in range(100):
            await settle(pilot)
            if app.screen.result is not None:
                break
        result = app.screen.result
        assert result is not None
        if result.recommended.threshold is None:
            assert result.chosen_threshold == 0.42
    assert app.workspace.threshold == 0.42


def test_the_default_models_are_chosen_in_one_place(monkeypatch):
    import routermon.core.route.catalog as catalog
    from routermon.core.route.router import Router
    from routermon.core.simulate.simulator import resolve_models

    monkeypatch.setattr(catalog, "newest", lambda family, prices=None: f"claude-{family}-4-5")
    ws = Workspace(load_settings())
    assert ws.models() == ("claude-haiku-4-5", "claude-sonnet-4-5")
    assert resolve_models(None, None, ws.prices) == ("claude-haiku-4-5", "claude-sonnet-4-5")
    router = Router(client=object())
    assert [t.model for t in router.tiers] == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    here = Path(__file__).resolve().parents[1]
    callers = [
        str(p.relative_to(here))
        for p in [*here.glob("core/**/*.py"), *here.glob("tui/**/*.py")]
        if "newest(" in p.read_text() and p.name != "catalog.py"
    ]
    assert callers == []


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("ROUTERMON_THRESHOLD", "abc")
    result = CliRunner().invoke(main, ["simulate", "-n", "1"])
    assert result.exit_code == 2
    assert "ROUTERMON_THRESHOLD" in result.output and "settings file" not in result.output


def test_a_bad_value_in_the_settings_file_names_the_file(isolated_settings):
    isolated_settings.write_text("threshold = 7\n")
    result = CliRunner().invoke(main, ["simulate", "-n", "1"])
    assert result.exit_code == 2
    assert str(isolated_settings) in result.output and "'threshold'" in result.output


def test_a_missing_config_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ROUTERMON_CONFIG", str(tmp_path / "missing.toml"))
    result = CliRunner().invoke(main, ["simulate", "-n", "1", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "ROUTERMON_CONFIG" in result.output and "missing.toml" in result.output
    assert not (tmp_path / "x.db").exists()


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys; from routermon.tui.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in sys.modules if m.startswith(('routermon.tui.cmd_', 'anthropic', 'textual',"
        " 'genai_prices', 'pydantic'))]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout
    for entry in COMMANDS:
        assert entry.name in done.stdout and entry.short_help in done.stdout


def test_command_modules_do_not_import_the_group():
    # No cycle: a command module imports the shared options, never the group that loads it.
    for entry in COMMANDS:
        module = entry.target.split(":")[0]
        code = f"import sys, routermon.tui.{module}; print('routermon.tui.cli' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "False", module


def test_old_names_still_work():
    assert _invoke(["fake-api", "--help"]).exit_code == 0
    assert "--fake" in _invoke(["route", "--help"]).output


# The console script's own body, with a line on stderr when the interpreter has started: site and
# the .pth files of an editable install run before any routermon code can catch a signal, and so
# does the script's own ``from routermon.tui import run`` (a few milliseconds); from ``run()`` on,
# which loads click, the SDK and Textual, every moment is routermon's to handle.
_SCRIPT = (
    "import sys; sys.stderr.write('started\\n'); sys.stderr.flush(); "
    "from routermon.tui import run; sys.argv[0] = 'routermon'; sys.exit(run())"
)


def _wait_for_first_row(child: subprocess.Popen, db: Path, deadline_s: float = 120.0) -> None:
    """Wait until the simulation has written a call to ``db`` (read-only, so the wait creates
    nothing), failing if the child ends first or nothing arrives within the generous deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert child.poll() is None, f"simulate ended before writing a row: {child.communicate()}"
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                if conn.execute("SELECT EXISTS (SELECT 1 FROM calls)").fetchone()[0]:
                    return
        except sqlite3.OperationalError:  # no file or no table yet, or a writer holds the lock
            pass
        time.sleep(0.05)
    child.kill()
    pytest.fail(f"simulate wrote no row within {deadline_s:.0f} s")


# The moments: while the interpreter loads routermon (fixed short delays after "started": any
# moment there must end cleanly), and while the simulation writes rows (observed in the log, not
# guessed from a sleep, so a loaded machine moves the signal no earlier).
@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("moment", [0.02, 0.05, 0.3, "writing rows"])
def test_ctrl_c_at_any_moment_ends_in_one_line_and_exit_130(tmp_path, moment):
    db = tmp_path / "c.db"
    args = [sys.executable, "-c", _SCRIPT, "simulate", "-n", "200000", "--days", "1", "--db", str(db)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr.readline() == "started\n"  # from here on every moment is routermon's
    if moment == "writing rows":
        _wait_for_first_row(child, db)
    else:
        time.sleep(moment)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and "simulate" not in line]
    assert len(lines) <= 1, err
