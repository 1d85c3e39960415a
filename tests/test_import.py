"""Importing paired outcomes: the real date file, every kind of bad line, --skip-invalid, idempotence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import DATE_FILE

from routermon.core.clock import VirtualClock
from routermon.core.compare import answers_match
from routermon.core.errors import ImportFormatError
from routermon.core.log.importing import InvalidPairsError, import_pairs, read_pairs_file
from routermon.core.log.reader import LogReader
from routermon.core.measure.analysis import analyse
from routermon.core.measure.pairs import load_pairs
from routermon.core.prices import PriceBook

CLOCK = VirtualClock(1_767_225_600.0)  # 2026-01-01 00:00 UTC


def pair(
    pair_id="q-1",
    *,
    task="date",
    text="What day is it?",
    reference="05/01/2021",
    cheap_answer="05/01/2021",
    strong_answer="05/01/2021",
    confidence=0.9,
    cheap_model="gpt-3.5-turbo",
    strong_model="gpt-4",
    **extra,
) -> dict:
    obj = {
        "id": pair_id,
        "task": task,
        "input": text,
        "reference": reference,
        "cheap": {
            "model": cheap_model,
            "answer": cheap_answer,
            "confidence": confidence,
            "input_tokens": 17,
            "output_tokens": 100,
            "latency_ms": 900,
        },
        "strong": {
            "model": strong_model,
            "answer": strong_answer,
            "confidence": None,
            "input_tokens": 17,
            "output_tokens": 50,
        },
    }
    obj.update(extra)
    return obj


def write_lines(path: Path, *lines) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def all_rows(db):
    with LogReader(db) as reader:
        return reader.calls_after(0)


# -- the real file -------------------------------------------------------------------------------


def test_date_file_imports_as_two_rows_per_pair(db):
    result = import_pairs(DATE_FILE, db, clock=CLOCK)
    assert (result.pairs_read, result.imported, result.already_present, result.rows_written) == (
        369,
        369,
        0,
        738,
    )
    assert result.tasks == ["date"] and result.unpriced_models == [] and result.skipped == []
    rows = all_rows(db)
    assert len(rows) == 738
    cheap = [r for r in rows if r.role == "cheap"]
    strong = [r for r in rows if r.role == "shadow"]
    assert len(cheap) == len(strong) == 369
    assert {(r.tier, r.mode, r.source, r.ts) for r in cheap} == {(0, "import", "import", CLOCK.now())}
    assert {(r.tier, r.mode, r.source) for r in strong} == {(1, "import", "import")}
    first = json.loads(DATE_FILE.read_text().splitlines()[0])
    c0 = next(r for r in cheap if r.dedup_key == "import:date:date-0000:cheap")
    s0 = next(r for r in strong if r.request_id == c0.request_id)
    assert s0.dedup_key == "import:date:date-0000:shadow"
    assert json.loads(c0.answer) == first["cheap"]["answer"]
    assert c0.confidence == first["cheap"]["confidence"] and c0.correct is True
    assert c0.reference == first["reference"]
    assert c0.input_sha256 == hashlib.sha256(first["input"].encode()).hexdigest()
    assert c0.input_preview == first["input"][:80]
    prices = PriceBook()
    assert c0.cost_usd == pytest.approx(prices.cost("gpt-3.5-turbo", 17, first["cheap"]["output_tokens"]))
    assert s0.cost_usd == pytest.approx(prices.cost("gpt-4", 17, first["strong"]["output_tokens"]))
    # Imports are not routed traffic.
    with LogReader(db) as reader:
        assert reader.summary().requests == 0


def test_reimport_adds_nothing_and_says_so(db):
    import_pairs(DATE_FILE, db)
    again = import_pairs(DATE_FILE, db)
    assert (again.imported, again.already_present, again.rows_written) == (0, 369, 0)
    assert len(all_rows(db)) == 738


def test_half_written_pair_is_completed_on_reimport(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair("a"), pair("b"))
    import_pairs(src, db)
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM calls WHERE dedup_key = 'import:date:b:shadow'")  # as if interrupted mid-pair
    conn.commit()
    conn.close()
    again = import_pairs(src, db)
    assert (again.imported, again.already_present, again.rows_written) == (1, 1, 1)
    assert len(all_rows(db)) == 4


# -- bad lines -----------------------------------------------------------------------------------


def _without(obj: dict, *path: str) -> dict:
    target = obj
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return obj


def _with(obj: dict, value, *path: str) -> dict:
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


BAD_LINES = [
    ("not json", '{"id": "x", "task": "date"', "not JSON"),
    ("json array", "[1, 2]", "a JSON list, not an object"),
    ("missing cheap confidence", _without(pair("x"), "cheap", "confidence"), "cheap.confidence is missing"),
    ("null cheap confidence", _with(pair("x"), None, "cheap", "confidence"), "cheap.confidence is missing"),
    ("confidence 1.7", pair("x", confidence=1.7), "cheap.confidence 1.7 is outside [0, 1]"),
    ("confidence -0.1", pair("x", confidence=-0.1), "cheap.confidence -0.1 is outside [0, 1]"),
    ("confidence 'high'", pair("x", confidence="high"), "cheap.confidence must be a number"),
    ("confidence true", pair("x", confidence=True), "cheap.confidence must be a number"),
    (
        "strong confidence 2",
        _with(pair("x"), 2, "strong", "confidence"),
        "strong.confidence 2 is outside [0, 1]",
    ),
    ("missing task", _without(pair("x"), "task"), "task is missing"),
    ("missing cheap side", _without(pair("x"), "cheap"), "the 'cheap' object is missing"),
    ("missing strong side", _without(pair("x"), "strong"), "the 'strong' object is missing"),
    ("missing cheap answer", _without(pair("x"), "cheap", "answer"), "cheap.answer is missing"),
    ("missing strong answer", _without(pair("x"), "strong", "answer"), "strong.answer is missing"),
    ("missing strong model", _without(pair("x"), "strong", "model"), "strong.model is missing"),
    (
        "missing output tokens",
        _without(pair("x"), "cheap", "output_tokens"),
        "cheap.output_tokens is missing",
    ),
    (
        "negative tokens",
        _with(pair("x"), -3, "strong", "input_tokens"),
        "strong.input_tokens must be a whole",
    ),
    (
        "correct as text",
        _with(pair("x"), "yes", "cheap", "correct"),
        "cheap.correct must be true, false or null",
    ),
    ("input not text", pair("x", text=42), "input must be a string"),
    ("repeated id", pair("q-1"), "repeats the pair of line 1"),
]


@pytest.mark.parametrize("line,message", [b[1:] for b in BAD_LINES], ids=[b[0] for b in BAD_LINES])
def test_bad_line_is_reported_with_its_line_number_and_nothing_is_imported(tmp_path, db, line, message):
    # Line 1 good, line 2 blank (still counted), line 3 bad, line 4 good.
    src = write_lines(tmp_path / "p.jsonl", pair("q-1"), "", line, pair("q-4"))
    with pytest.raises(InvalidPairsError) as err:
        import_pairs(src, db)
    assert [p.line for p in err.value.problems] == [3]
    assert message in err.value.problems[0].message
    assert f"line 3: {message}" in str(err.value)
    assert "--skip-invalid" in str(err.value)
    assert isinstance(err.value, ImportFormatError)
    assert not db.exists() or all_rows(db) == []


def test_every_problem_of_a_line_is_listed(tmp_path):
    bad = _without(pair("x", confidence=3), "task")
    _, problems = read_pairs_file(write_lines(tmp_path / "p.jsonl", bad))
    assert problems[0].message == "task is missing, cheap.confidence 3 is outside [0, 1]"


def test_skip_invalid_imports_the_good_lines_and_lists_the_bad(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair("a"), "oops", pair("b", confidence=1.7), pair("c"))
    result = import_pairs(src, db, skip_invalid=True)
    assert (result.imported, result.rows_written) == (2, 4)
    assert [(p.line, p.message) for p in result.skipped] == [
        (2, "not JSON"),
        (3, "cheap.confidence 1.7 is outside [0, 1]"),
    ]
    assert sorted(r.dedup_key for r in all_rows(db) if r.role == "cheap") == [
        "import:date:a:cheap",
        "import:date:c:cheap",
    ]


def test_skip_invalid_with_no_good_line_is_an_error(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", "oops", "{}")
    with pytest.raises(InvalidPairsError, match="no line can be imported"):
        import_pairs(src, db, skip_invalid=True)


def test_missing_and_empty_files_are_clear_errors(tmp_path, db):
    with pytest.raises(ImportFormatError, match="There is no file"):
        import_pairs(tmp_path / "absent.jsonl", db)
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(ImportFormatError, match="empty"):
        import_pairs(tmp_path / "empty.jsonl", db)
    with pytest.raises(ImportFormatError, match="directory"):
        import_pairs(tmp_path, db)


# -- correctness, optional fields, prices, inputs --------------------------------------------------


@pytest.mark.parametrize(
    "answer,reference,same",
    [
        (" 05/01/2021 ", "05/01/2021", True),
        ("Yes", "yes", True),
        (3, "3.0", True),
        ("0.50", 0.5, True),
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}, True),
        ("05/01/2021", "5/1/2021", False),
        ("nan-ish", "3", False),
    ],
)
def test_answers_match(answer, reference, same):
    assert answers_match(answer, reference) is same


def test_correct_is_computed_from_the_reference_or_by_agreement(tmp_path, db):
    lines = [
        pair("given", cheap_answer="wrong", **{}),  # correct given below
        pair("ref", cheap_answer="  5 ", strong_answer="6", reference=5),
        pair("agree", cheap_answer="Paris", strong_answer="paris", reference=None),
        pair("disagree", cheap_answer="Lyon", strong_answer="Paris", reference=None),
    ]
    lines[0]["cheap"]["correct"] = True  # the file's judgement wins over the comparison
    import_pairs(write_lines(tmp_path / "p.jsonl", *lines), db)
    by_key = {r.dedup_key: r for r in all_rows(db)}
    assert by_key["import:date:given:cheap"].correct is True
    assert by_key["import:date:ref:cheap"].correct is True
    assert by_key["import:date:ref:shadow"].correct is False
    assert by_key["import:date:ref:cheap"].reference == "5"
    # No reference: the log says unknown, and the pair builder compares the two answers.
    assert by_key["import:date:agree:cheap"].correct is None
    assert by_key["import:date:agree:shadow"].correct is None  # unknown, assumed right later
    with LogReader(db) as reader:
        pairs = {p.request_id: p for p in load_pairs(reader)}
        result = analyse(reader)
    agree = pairs[by_key["import:date:agree:cheap"].request_id]
    disagree = pairs[by_key["import:date:disagree:cheap"].request_id]
    assert (agree.cheap_correct, agree.correct_source, agree.cheap_by_agreement) == (True, "exact", True)
    assert (disagree.cheap_correct, disagree.correct_source) == (False, "exact")
    assert pairs[by_key["import:date:ref:cheap"].request_id].correct_source == "reference"
    assert any("2 strong answers have no known correctness" in n for n in result.notes)


def test_optional_fields_may_be_missing(tmp_path, db):
    bare = pair(None, text=None, reference=None)
    for key in ("id", "input", "reference"):
        del bare[key]
    del bare["strong"]["confidence"]
    del bare["cheap"]["latency_ms"]
    src = write_lines(tmp_path / "p.jsonl", bare)
    assert import_pairs(src, db).imported == 1
    assert import_pairs(src, db).already_present == 1  # keyed by the line itself
    cheap = next(r for r in all_rows(db) if r.role == "cheap")
    assert (cheap.input_sha256, cheap.input_preview, cheap.latency_ms) == ("", None, 0.0)
    assert cheap.dedup_key.startswith("import:date:line-sha256:")


def test_pairs_without_id_are_keyed_by_their_input(tmp_path, db):
    a, b = pair(None, text="first"), pair(None, text="second")
    del a["id"], b["id"]
    import_pairs(write_lines(tmp_path / "p.jsonl", a, b), db)
    keys = sorted(r.dedup_key for r in all_rows(db) if r.role == "cheap")
    assert keys == sorted(
        f"import:date:sha256:{hashlib.sha256(t.encode()).hexdigest()}:cheap" for t in ("first", "second")
    )


@pytest.mark.parametrize("store,expected", [("full", "x" * 100), ("preview", "x" * 10), ("none", None)])
def test_inputs_are_stored_per_setting(tmp_path, db, store, expected):
    import_pairs(
        write_lines(tmp_path / "p.jsonl", pair(text="x" * 100)), db, store_inputs=store, preview_chars=10
    )
    assert {r.input_preview for r in all_rows(db)} == {expected}


def test_unpriced_models_import_with_unknown_cost_and_the_analysis_says_so(tmp_path, db):
    src = write_lines(
        tmp_path / "p.jsonl",
        pair("a", cheap_model="my-finetune", confidence=0.4),
        pair("b", confidence=0.9),
    )
    result = import_pairs(src, db)
    assert result.unpriced_models == ["my-finetune"]
    costs = {r.dedup_key: r.cost_usd for r in all_rows(db)}
    assert costs["import:date:a:cheap"] is None
    assert costs["import:date:a:shadow"] is not None and costs["import:date:b:cheap"] is not None
    with LogReader(db) as reader:
        analysis = analyse(reader)
    assert analysis.unpriced_models == ["my-finetune"] and analysis.priced_pairs == 1
    assert any("Models without a price: my-finetune" in n and "1 of 2 pairs" in n for n in analysis.notes)
    # Costs are averaged over the priced pair only.
    prices = PriceBook()
    assert analysis.cheap_only.cost_per_request_usd == pytest.approx(prices.cost("gpt-3.5-turbo", 17, 100))


def test_price_overrides_price_a_custom_model(tmp_path, db):
    src = write_lines(tmp_path / "p.jsonl", pair(cheap_model="my-finetune"))
    book = PriceBook(overrides={"my-finetune": {"input_mtok": 1.0, "output_mtok": 2.0}})
    assert import_pairs(src, db, prices=book).unpriced_models == []
    cheap = next(r for r in all_rows(db) if r.role == "cheap")
    assert cheap.cost_usd == pytest.approx((17 * 1.0 + 100 * 2.0) / 1e6)


def test_imported_pairs_load_back_in_file_order(tmp_path, db):
    import_pairs(write_lines(tmp_path / "p.jsonl", pair("z"), pair("a"), pair("m")), db)
    with LogReader(db) as reader:
        pairs = load_pairs(reader)
    assert [p.source for p in pairs] == ["import"] * 3
    assert [p.request_id for p in pairs] == [
        next(r.request_id for r in all_rows(db) if r.dedup_key == f"import:date:{k}:cheap") for k in "zam"
    ]
