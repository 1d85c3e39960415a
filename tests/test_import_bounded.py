"""``routermon import`` in bounded memory (issue 33): the rows it writes are today's, column for
column; a repeated pair is found without a digest of every line in memory; the log's own unique key
(``dedup_key``) keeps a repeat from being written twice."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tracemalloc

import pytest
from conftest import DATE_FILE

from routermon.core.clock import VirtualClock
from routermon.core.errors import ImportFormatError
from routermon.core.log import importing
from routermon.core.log.importing import InvalidPairsError, import_pairs, read_pairs_file
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS

CLOCK = VirtualClock(1_767_225_600.0)  # 2026-01-01 00:00 UTC

# sha256 (first 16 hex digits) of each column's values, in id order, as the import on main at
# 24e9bed (before issue 33's changes) wrote tests/data's date file at CLOCK: "today's import".
TODAYS_COLUMNS = {
    "ts": "255f999090a96902", "request_id": "512982318d60ba50", "task": "fbc48a5e8fdf7799",
    "mode": "2e1af725c04bc896", "source": "2e1af725c04bc896", "model": "9dff6f93d8b46b04",
    "role": "c3dd0a226cfb214f", "tier": "1c18106348d870b2", "input_tokens": "58e00b6fa472a6d2",
    "output_tokens": "e620066d2c1977f6", "cache_read_tokens": "9bee5e5f128b5e2f",
    "cache_write_tokens": "9bee5e5f128b5e2f", "cost_usd": "6c11c44908269eb5",
    "latency_ms": "b8db0be25aef95b7", "confidence": "409a3092cea212e6", "answer": "cc797fabb8611939",
    "escalated": "9bee5e5f128b5e2f", "escalation_reason": "4680482c37fbecad",
    "error_type": "4680482c37fbecad", "final": "ef392cd2279f6178", "input_sha256": "10038cf7c205fc70",
    "input_preview": "349ec9034be64972", "reference": "7a0275b854fb6b76", "correct": "89c9c5820aeb42ff",
    "dedup_key": "719ddca2f6a496f1", "thinking_tokens": "9bee5e5f128b5e2f",
    "threshold": "4680482c37fbecad", "audit_share": "4680482c37fbecad",
    # The gateway's columns (m008), NULL on imported rows:
    "requested_model": "4680482c37fbecad", "ttft_ms": "4680482c37fbecad",
    "stop_reason": "4680482c37fbecad", "http_status": "4680482c37fbecad",
}  # fmt: skip


def _line(pair_id: str, *, answer: str = "a", label: str | None = None) -> str:
    side = {"model": "gpt-4", "answer": answer, "confidence": 0.5, "input_tokens": 1, "output_tokens": 1}
    obj = {"id": pair_id, "task": "t", "cheap": side, "strong": side}
    if label is not None:
        obj["label"] = label
    return json.dumps(obj)


def test_the_date_file_is_written_as_todays_import_wrote_it_column_for_column(tmp_path):
    db = tmp_path / "calls.db"
    result = import_pairs(DATE_FILE, db, clock=CLOCK)
    assert (result.pairs_read, result.imported, result.rows_written) == (369, 369, 738)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT {', '.join(CALL_COLUMNS)} FROM calls ORDER BY id").fetchall()
    columns = {
        name: hashlib.sha256(json.dumps([row[i] for row in rows]).encode()).hexdigest()[:16]
        for i, name in enumerate(CALL_COLUMNS)
    }
    assert {n: d for n, d in columns.items() if TODAYS_COLUMNS.get(n) != d} == {}


def test_a_pair_repeated_a_chunk_later_is_a_bad_line_naming_the_first(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "IMPORT_CHUNK", 2)
    monkeypatch.setattr(importing, "REPEAT_RUN_KEYS", 2)  # the keys of three runs are merged
    src = tmp_path / "p.jsonl"
    src.write_text("\n".join([_line("a"), _line("b"), _line("c"), _line("d"), _line("b", answer="z")]) + "\n")
    with pytest.raises(InvalidPairsError) as err:
        import_pairs(src, tmp_path / "calls.db")
    assert [(p.line, p.message) for p in err.value.problems] == [
        (5, "repeats the pair of line 2 (same task and id)")
    ]
    assert not (tmp_path / "calls.db").exists()
    pairs, problems = read_pairs_file(src)
    assert [p.line for p in pairs] == [1, 2, 3, 4] and [p.line for p in problems] == [5]


def test_skip_invalid_writes_a_repeated_pair_once_with_its_first_label(tmp_path, new_log, monkeypatch):
    monkeypatch.setattr(importing, "IMPORT_CHUNK", 2)
    monkeypatch.setattr(importing, "REPEAT_RUN_KEYS", 2)
    src = tmp_path / "p.jsonl"
    lines = [_line("a", label="cheap"), _line("a", answer="z", label="strong"), _line("b"), _line("c")]
    lines += [_line("b", label="both")]
    src.write_text("\n".join(lines) + "\n")
    db = new_log("calls.db")  # both backends: a repeat inside one multi-row INSERT is skipped by each
    result = import_pairs(src, db, skip_invalid=True)
    assert (result.pairs_read, result.imported, result.already_present, result.rows_written) == (3, 3, 0, 6)
    assert [p.line for p in result.skipped] == [2, 5] and result.labels_written == 1
    with LogReader(db) as reader:
        assert reader.conn.execute("SELECT DISTINCT answer FROM calls").fetchall() == [('"a"',)]
        assert reader.conn.execute("SELECT label FROM labels").fetchall() == [("cheap",)]
    again = import_pairs(src, db, skip_invalid=True)
    assert (again.imported, again.already_present, again.rows_written, again.labels_written) == (0, 3, 0, 0)


def _validation_peak(path, lines: int) -> int:
    # Ids over 64 characters: pydantic-core's JSON parser keeps shorter strings in a cache of its own
    # (bounded, 16,384 of them), which would grow between the two files here.
    path.write_text("".join(_line(f"q-{i:070d}") + "\n" for i in range(lines)))
    tracemalloc.start()
    try:
        importing._validate_pairs(path, skip_invalid=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_finding_repeated_pairs_does_not_grow_with_the_file(tmp_path, monkeypatch):
    # A digest and a line number a pair held in memory grew about 120 bytes a line (120 MB a million).
    monkeypatch.setattr(importing, "REPEAT_RUN_KEYS", 500)
    small = _validation_peak(tmp_path / "small.jsonl", 1_000)
    large = _validation_peak(tmp_path / "large.jsonl", 8_000)
    assert large - small < 250_000, (small, large)


def test_no_room_for_the_repeat_check_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "REPEAT_RUN_KEYS", 1)
    monkeypatch.setattr(importing.tempfile, "tempdir", str(tmp_path / "missing"))
    src = tmp_path / "p.jsonl"
    src.write_text(_line("a") + "\n" + _line("b") + "\n")
    with pytest.raises(ImportFormatError, match="set TMPDIR to a writable folder"):
        import_pairs(src, tmp_path / "calls.db")
    assert not (tmp_path / "calls.db").exists()
