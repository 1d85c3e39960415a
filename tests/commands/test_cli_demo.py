"""The `routermon` command side of test_demo.py: what a user types and reads."""

from __future__ import annotations

from click.testing import CliRunner

from routermon.tui.cli import main


def test_demo_command_prepares_the_log(tmp_path):
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(main, ["demo", "--db", str(db), "--no-app"])
    assert result.exit_code == 0, result.output
    assert "added" in result.output
    bad = CliRunner().invoke(main, ["demo", "--db", str(tmp_path), "--no-app"])
    assert bad.exit_code == 2 and "is a directory" in bad.output
