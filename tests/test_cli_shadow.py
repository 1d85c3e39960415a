"""The `routermon` command side of test_shadow.py: what a user types and reads."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_shadow import LABELS, pair_counts, write_inputs

from routermon.core.errors import ImportFormatError
from routermon.core.shadowrun import read_inputs
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
