"""The `routermon` command side of test_analysis.py: what a user types and reads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from routermon.tui.cli import main


def test_cli_thresholds_json(date_db):
    result = CliRunner().invoke(
        main, ["thresholds", "--json", "--db", str(date_db), "--target-accuracy", "0.8"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"rows", "cheap_only", "strong_only", "recommended", "calibration", "per_task", "notes"} <= set(
        data
    )
    row = next(r for r in data["rows"] if r["threshold"] == 0.7)
    assert {"threshold", "escalation_share", "accuracy", "accuracy_low", "accuracy_high"} <= set(row)
    assert {"cost_per_request_usd", "cost_vs_strong"} <= set(row)
    assert round(row["accuracy"], 3) == 0.783 and data["recommended"]["threshold"] == 0.8


def test_cli_thresholds_table(date_db):
    result = CliRunner().invoke(
        main, ["thresholds", "--db", str(date_db), "--task", "date"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert "369 paired outcomes of task date" in result.stdout
    assert "23.0%" in result.stdout and "78.3%" in result.stdout
    assert "No threshold reaches the target accuracy" in result.stdout
    assert "expected calibration error" in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--target-accuracy", "87"], "must be a share between 0 and 1"),
        (["--task", "nope"], "no paired outcomes for task 'nope'"),
    ],
)
def test_cli_thresholds_user_errors_exit_2(date_db, args, message):
    result = CliRunner().invoke(main, ["thresholds", "--db", str(date_db), *args])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.startswith("routermon: ")


def test_cli_thresholds_without_a_log_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["thresholds", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "routermon shadow" in result.stderr and "routermon import" in result.stderr
