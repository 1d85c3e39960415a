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
    keys = {"threshold", "loss", "loss_upper", "max_loss", "confidence", "n", "escalation_share"}
    keys |= {"cost_vs_strong", "reason"}
    assert keys <= set(data["guarantee"]) and keys <= set(data["per_task"][0]["guarantee"])
    assert data["guarantee"]["threshold"] is None and data["guarantee"]["reason_code"] == "confidently_wrong"
    assert (data["guarantee"]["max_loss"], data["guarantee"]["confidence"], data["guarantee"]["n"]) == (
        0.01,
        0.95,
        369,
    )


def test_cli_thresholds_guarantee_flags(date_db):
    result = CliRunner().invoke(
        main, ["thresholds", "--json", "--db", str(date_db), "--max-loss", "0.1", "--confidence", "0.9"]
    )
    assert result.exit_code == 0, result.output
    g = json.loads(result.stdout)["guarantee"]
    assert (g["max_loss"], g["confidence"], g["reason"]) == (0.1, 0.9, None)
    assert g["threshold"] == 0.85 and g["loss_upper"] <= 0.1 < g["steps"][-1]["loss_upper"]
    assert round(g["steps"][0]["loss_upper"], 4) == 0.0446  # 11 losses at 1.00: 0.0489 at 95%
    assert 0 < g["loss"] < g["loss_upper"] and 0 < g["escalation_share"] < 1 and 0 < g["cost_vs_strong"] < 1


def test_cli_thresholds_text_puts_the_guarantee_first(date_db):
    result = CliRunner().invoke(
        main, ["thresholds", "--db", str(date_db), "--max-loss", "0.1"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    sentence = (
        "With 95% confidence, routing at 0.85 loses at most 10.0 points of accuracy against always-strong "
        "(observed 7.0 points), escalating 35.0% of requests, at 52% of the always-strong cost."
    )
    assert sentence in out and "0.85 ✓" in out
    assert (
        out.index(sentence)
        < out.index("cheap only")
        < out.index("Observed on the same pairs (not guaranteed):")
    )


def test_cli_thresholds_defaults_are_the_librarys():
    from routermon.core.measure import guarantee
    from routermon.tui import cmd_thresholds

    assert (cmd_thresholds.DEFAULT_MAX_LOSS, cmd_thresholds.DEFAULT_CONFIDENCE) == (
        guarantee.DEFAULT_MAX_LOSS,
        guarantee.DEFAULT_CONFIDENCE,
    )


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
        (["--target-accuracy", "870"], "--target-accuracy must be between 0% and 100%"),
        (["--task", "nope"], "no paired outcomes for task 'nope'"),
        (
            ["--max-loss", "1"],
            "The maximum loss must be above 0% and below 100% (e.g. 1% or 0.01 for one point)",
        ),
        (["--max-loss", "0"], "The maximum loss must be above 0% and below 100%"),
        (["--max-loss", "-0.01"], "--max-loss must be between 0% and 100%"),
        (["--confidence", "100%"], "The confidence must be above 0% and below 100% (e.g. 95% or 0.95)"),
        (["--confidence", "nan"], "--confidence must be between 0% and 100%"),
    ],
)
def test_cli_thresholds_user_errors_exit_2(date_db, args, message):
    result = CliRunner().invoke(main, ["thresholds", "--db", str(date_db), *args])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.startswith("routermon: ")


def test_cli_thresholds_without_a_log_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["thresholds", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "routermon shadow" in result.stderr and "routermon import" in result.stderr


def test_cli_thresholds_bad_guarantee_option_exits_2_before_reading_the_log(tmp_path):
    result = CliRunner().invoke(
        main, ["thresholds", "--db", str(tmp_path / "none.db"), "--confidence", "100%"]
    )
    assert (
        result.exit_code == 2
        and "The confidence must be" in result.stderr
        and "Traceback" not in result.output
    )
