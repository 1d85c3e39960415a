"""The `routermon` command side of test_shadow.py: what a user types and reads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_shadow import LABELS, pair_counts, write_inputs

from routermon.core.errors import ImportFormatError
from routermon.core.measure.shadowrun import read_inputs
from routermon.tui.cli import main


def test_shadow_command_with_fake_and_resume(tmp_path):
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_inputs(src, 40)
    runner = CliRunner()
    args = ["shadow", str(src), "--labels", ",".join(LABELS), "--fake", "--db", str(db)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "40 pairs logged" in first.output
    again = runner.invoke(main, [*args, "--resume"])
    assert again.exit_code == 0 and "0 pairs logged" in again.output and "40 skipped" in again.output
    assert pair_counts(db)[1] == (40, 40)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{"text": "ok"}\nnot json\n', ".jsonl", "line 2: not valid JSON"),
        ('{"text": "ok"}\n{"reference": "x"}\n', ".jsonl", "line 2: needs a non-empty 'text'"),
        ("[1, 2]\n", ".jsonl", "line 1: expected an object"),
        ("", ".jsonl", "has no inputs"),
        ("id,body\n1,hello\n", ".csv", "needs a 'text' or 'input' column"),
    ],
)
def test_bad_input_files_name_the_line(tmp_path, content, suffix, message):
    path = tmp_path / f"in{suffix}"
    path.write_text(content)
    with pytest.raises(ImportFormatError, match=message):
        read_inputs(path)
    result = CliRunner().invoke(
        main, ["shadow", str(path), "--labels", "a,b", "--fake", "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2 and message.split(":")[-1].strip()[:12] in result.output
    assert "Traceback" not in result.output


def test_resume_skips_only_inputs_paired_under_the_same_definition(tmp_path):
    """Changing the labels (the task's definition) pairs the inputs again, and says so."""
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_inputs(src, 10)
    runner = CliRunner()
    base = ["shadow", str(src), "--fake", "--db", str(db), "--resume"]
    first = runner.invoke(main, [*base, "--labels", ",".join(LABELS)])
    assert first.exit_code == 0 and "10 pairs logged" in first.output
    changed = runner.invoke(main, [*base, "--labels", ",".join([*LABELS, "other"])])
    assert changed.exit_code == 0, changed.output
    assert "10 pairs logged" in changed.output and "0 skipped" in changed.output
    assert "10 inputs of this file were paired under another definition" in changed.stderr
    again = runner.invoke(main, [*base, "--labels", ",".join([*LABELS, "other"])])
    assert "0 pairs logged" in again.output and "10 skipped" in again.output


def test_inputs_are_read_exactly(tmp_path):
    """CSV fields keep their line breaks and may be longer than the csv module's default limit; a
    BOM is accepted; JSONL lines end at \\n only; an error names the line the record starts on."""
    big = "x" * 200_000
    csv_path = tmp_path / "in.csv"
    csv_path.write_text('\ufefftext,id\n"line one\nline two",a\n' + big + ",b\n", encoding="utf-8")
    items = read_inputs(csv_path)
    assert [i.text for i in items] == ["line one\nline two", big] and items[1].line == 4
    bad = tmp_path / "bad.csv"
    bad.write_text('text\n"multi\nline"\n"unterminated\n')
    with pytest.raises(ImportFormatError, match="line 4"):
        read_inputs(bad)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('\ufeff{"text": "a\u2028b\u0085c"}\r\n{"text": "d"}\n', encoding="utf-8")
    assert [i.text for i in read_inputs(jsonl)] == ["a\u2028b\u0085c", "d"]
    deep = tmp_path / "deep.jsonl"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ImportFormatError, match="line 1: JSON nested too deeply"):
        read_inputs(deep)


def test_shadow_json_is_the_summary_on_stdout(tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"text": f"message {i}"}) + "\n" for i in range(3)))
    args = ["shadow", str(inputs), "--labels", "a,b", "--stand-in", "--db", str(tmp_path / "c.db"), "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # nothing else on stdout
    assert (data["done"], data["skipped"], data["failed"], data["left"]) == (3, 0, 0, 0)
    assert data["spend_usd"] > 0 and data["interrupted"] is False
