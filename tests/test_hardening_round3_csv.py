"""Issue 34, class 2: ``logs --csv`` is safe to open in a spreadsheet and exact for a CSV reader:
RFC 4180 quoting (a bare CR too), formula cells neutralised with a leading ``'`` (OWASP "CSV
Injection"), NUL shown as ``␀``; ``--json`` and ``--nl`` stay exact."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from routermon.core.formatting import csv_cell
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.cli import main

T0 = 1773835200.0
# (what the log holds, what a CSV reader must get back)
FORMULAS = {
    "equals": ('=HYPERLINK("https://evil.example","x")', '\'=HYPERLINK("https://evil.example","x")'),
    "plus": ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    "minus": ("-2+3", "'-2+3"),
    "at": ("@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"),
    "tab": ("\t=1+1", "'\t=1+1"),
    "carriage return": ("\r=1+1", "'\r=1+1"),
    "bare CR inside": ("one\rtwo", "one\rtwo"),
    "line feed inside": ("one\ntwo", "one\ntwo"),
    "comma and quotes": ('a, "b", c', 'a, "b", c'),
    "plain": ("safe text", "safe text"),
}


def record(request_id: str, answer: str, task: str = "classify", preview: str = "x") -> CallRecord:
    return CallRecord(
        ts=T0,
        request_id=request_id,
        task=task,
        model="claude-haiku-4-5",
        role="cheap",
        input_tokens=10,
        output_tokens=2,
        cost_usd=0.0001,
        latency_ms=100.0,
        confidence=0.9,
        answer=answer,
        final=True,
        input_sha256=request_id,
        input_preview=preview,
    )


def csv_records(log) -> list[dict]:
    out = CliRunner().invoke(main, ["logs", "--db", str(log), "--csv", "-n", "0"])
    assert out.exit_code == 0, out.output
    return list(csv.DictReader(io.StringIO(out.stdout_bytes.decode(), newline="")))


def test_formula_cells_are_neutralised_and_every_cell_reads_back_whole(log_db):
    with CallLog(log_db) as writer:
        writer.log_many(
            [record(name, stored, task=stored, preview=stored) for name, (stored, _) in FORMULAS.items()]
        )
    records = {r["request_id"]: r for r in csv_records(log_db)}
    assert set(records) == set(FORMULAS)  # no row split by a bare CR or a line feed
    for name, (_, expected) in FORMULAS.items():
        row = records[name]
        assert (row["answer"], row["task"], row["input_preview"]) == (expected,) * 3, name
        assert row["cost_usd"] == "0.0001" and row["input_tokens"] == "10"  # numbers stay numbers


def test_the_csv_quotes_a_bare_carriage_return_and_ends_rows_with_crlf(log_db):
    with CallLog(log_db) as writer:
        writer.log(record("r1", "one\rtwo"))
    out = CliRunner().invoke(main, ["logs", "--db", str(log_db), "--csv"]).stdout_bytes  # bytes: CRLF kept
    assert b'"one\rtwo"' in out
    assert out.count(b"\r\n") == 2 and out.endswith(b"\r\n")  # header and one row, RFC 4180


def test_nul_is_shown_not_written_raw(tmp_path):
    db = tmp_path / "calls.db"
    with CallLog(db) as writer:
        writer.log(record("r1", "before\x00after", task="t\x00ask"))
    out = CliRunner().invoke(main, ["logs", "--db", str(db), "--csv"]).stdout_bytes
    assert b"\x00" not in out
    row = csv_records(db)[0]
    assert (row["answer"], row["task"]) == ("before\u2400after", "t\u2400ask")


@pytest.mark.parametrize("fmt", ["--json", "--nl"])
def test_json_exports_stay_exact(log_db, fmt):
    with CallLog(log_db) as writer:
        writer.log_many([record(name, stored) for name, (stored, _) in FORMULAS.items()])
    out = CliRunner().invoke(main, ["logs", "--db", str(log_db), fmt, "-n", "0"]).stdout
    items = json.loads(out) if fmt == "--json" else [json.loads(line) for line in out.splitlines()]
    assert {item["request_id"]: item["answer"] for item in items} == {k: v for k, (v, _) in FORMULAS.items()}


def test_csv_cell_leaves_numbers_and_none_alone():
    assert [csv_cell(v) for v in (-1.5, -3, None, True)] == [-1.5, -3, None, True]
    assert csv_cell("-1.5") == "'-1.5" and csv_cell("a=b") == "a=b"


def test_the_help_says_how_cells_are_changed():
    out = CliRunner().invoke(main, ["logs", "--help"]).stdout
    assert "OWASP" in out and "RFC 4180" in out
