"""The `routermon` command side of test_report.py: what a user types and reads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from routermon.core.log.store import CallLog
from routermon.tui.cli import main


def test_cli_report_markdown_to_stdout(date_db):
    result = CliRunner().invoke(main, ["report", "--db", str(date_db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# routermon audit") and "| 0.70 | 23.0% | 78.3%" in result.stdout


def test_cli_report_json_to_file(date_db, tmp_path):
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(main, ["report", "--format", "json", "--out", str(out), "--db", str(date_db)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["analysis"]["pairs"] == 369
    assert f"Wrote the json report to {out}" in result.stderr


@pytest.mark.parametrize(
    "setup,args,message",
    [
        ("none", [], "no call log"),
        ("empty", [], "no routed traffic and no paired outcomes"),
        ("date", ["--out", "/nonexistent-dir/audit.md"], "cannot be written"),
        ("date", ["--format", "pdf"], "Invalid value for '--format'"),
    ],
)
def test_cli_report_errors_exit_2(tmp_path, date_db, setup, args, message):
    db = {"none": tmp_path / "none.db", "empty": tmp_path / "empty.db", "date": date_db}[setup]
    if setup == "empty":
        CallLog(db).close()
    result = CliRunner().invoke(main, ["report", "--db", str(db), *args])
    assert result.exit_code == 2
    assert message.lower() in result.stderr.lower() and "Traceback" not in result.output
