"""The `routermon` command side of test_import.py: what a user types and reads."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import DATE_FILE
from test_import import all_rows, pair, write_lines

from routermon.tui.cli import main


def test_cli_import_then_reimport(db):
    runner = CliRunner()
    first = runner.invoke(main, ["import", str(DATE_FILE), "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "Imported 369 new pairs (738 rows)" in first.stdout and "0 already present" in first.stdout
    second = runner.invoke(main, ["import", str(DATE_FILE), "--db", str(db)])
    assert second.exit_code == 0
    assert "Imported 0 new pairs" in second.stdout and "369 already present" in second.stdout


def test_cli_bad_file_exits_2_with_one_sentence(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair("a"), pair("b", confidence="high"))
    result = CliRunner().invoke(main, ["import", str(src), "--db", str(db)])
    assert result.exit_code == 2
    assert (
        result.stderr.startswith("routermon: ")
        and "line 2: cheap.confidence must be a number" in result.stderr
    )
    assert "Traceback" not in result.output


def test_cli_skip_invalid_lists_bad_lines(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair("a"), "nope", pair("b", confidence=1.7))
    result = CliRunner().invoke(main, ["import", str(src), "--skip-invalid", "--db", str(db)])
    assert result.exit_code == 0
    assert "Imported 1 new pair (2 rows)" in result.stdout
    assert (
        "line 2: not JSON" in result.stderr
        and "line 3: cheap.confidence 1.7 is outside [0, 1]" in result.stderr
    )


def test_cli_unpriced_model_is_mentioned(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair(strong_model="my-big-model"))
    result = CliRunner().invoke(main, ["import", str(src), "--db", str(db)])
    assert result.exit_code == 0 and "No price for my-big-model" in result.stdout


def test_cli_missing_file_exits_2(tmp_path, db):
    result = CliRunner().invoke(main, ["import", str(tmp_path / "nope.jsonl"), "--db", str(db)])
    assert result.exit_code == 2 and "There is no file" in result.stderr


def test_cli_db_given_before_the_command_is_used(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair("a", task="date"), pair("b", task="math"))
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(src)])
    assert result.exit_code == 0, result.output
    assert "of tasks date, math" in result.stdout and len(all_rows(db)) == 4
