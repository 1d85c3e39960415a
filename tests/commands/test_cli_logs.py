"""`routermon logs`: filters, search, formats and bad input, on a small log built here; relative
times; the FTS migration on a log written before it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time

import pytest
from click.testing import CliRunner

from routermon.core.log.logquery import CallFilters, QueryError, fts_literal, parse_when
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.cli import main

T0 = 1773835200.0  # 2026-03-18 12:00:00 UTC
PREVIEWS = {
    "r1": ('Refund "ASAP" please — order [A-17]', '{"label": "urgent"}'),
    "r2": ("pre-order status for item*42", '{"label": "routine"}'),
    "r3": ("Le café était froid", '{"summary": "cold coffee complaint"}'),
}


@pytest.fixture
def paris(monkeypatch):
    """Local time is Paris (UTC+01:00 in March) for the test."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _rows() -> list[CallRecord]:
    out = []
    # Written out of time order, as concurrent writers do: r2 is logged first but is the newest.
    for n, (request_id, offset) in enumerate((("r2", 120.0), ("r1", 0.0), ("r3", 60.0))):
        preview, answer = PREVIEWS[request_id]
        escalated = request_id == "r1"
        out.append(
            CallRecord(
                ts=T0 + offset,
                request_id=request_id,
                task="classify" if request_id != "r3" else "summarize",
                model="claude-haiku-4-5",
                role="cheap",
                input_tokens=100 + n,
                output_tokens=10,
                cost_usd=0.000123,
                latency_ms=640.0,
                confidence=0.5 if escalated else 0.9,
                answer=answer,
                escalated=escalated,
                escalation_reason="low_confidence" if escalated else None,
                final=not escalated,
                input_sha256=request_id,
                input_preview=preview,
            )
        )
        if escalated:
            out.append(
                CallRecord(
                    ts=T0 + offset + 1.5,
                    request_id=request_id,
                    task="classify",
                    model="claude-sonnet-4-5",
                    role="strong",
                    tier=1,
                    input_tokens=100,
                    output_tokens=12,
                    cost_usd=0.0042,
                    latency_ms=1300.0,
                    confidence=0.95,
                    answer='{"label": "refund-request"}',
                    final=True,
                    input_sha256=request_id,
                    input_preview=preview,
                )
            )
    return out


@pytest.fixture
def log(log_db):
    """The three requests' log, on SQLite and on PostgreSQL (``conftest.backend``)."""
    path = log_db
    with CallLog(path) as writer:
        writer.log_many(_rows())
    return path


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def ids(result) -> list[str]:
    return [row["request_id"] + ":" + row["role"] for row in json.loads(result.stdout)]


def test_newest_first_by_time_not_id(log):
    result = run("logs", "--db", str(log), "--json")
    assert result.exit_code == 0, result.output
    assert ids(result) == ["r2:cheap", "r3:cheap", "r1:strong", "r1:cheap"]


@pytest.mark.parametrize(
    "args,expected",
    [
        (["-n", "2"], ["r2:cheap", "r3:cheap"]),
        (["-n", "0"], ["r2:cheap", "r3:cheap", "r1:strong", "r1:cheap"]),
        (["--task", "summarize"], ["r3:cheap"]),
        (["--model", "claude-sonnet-4-5"], ["r1:strong"]),
        (["--model", "sonnet-4-5"], ["r1:strong"]),  # as the table shows it
        (["--role", "strong"], ["r1:strong"]),
        (["--reason", "low_confidence"], ["r1:cheap"]),
        (["--request", "r1"], ["r1:strong", "r1:cheap"]),
        (["--since", "2026-03-18T13:01:00"], ["r2:cheap", "r3:cheap"]),  # local (Paris) time
        (["--since", "2026-03-18T12:01:00+00:00"], ["r2:cheap", "r3:cheap"]),
        (["--until", "2026-03-18T12:01:00Z"], ["r1:strong", "r1:cheap"]),
        (["--until", "2026-03-17"], []),
        (["--until", "2026-03-18"], ["r2:cheap", "r3:cheap", "r1:strong", "r1:cheap"]),  # all that day
        (["--task", "classify", "--role", "cheap"], ["r2:cheap", "r1:cheap"]),
    ],
)
def test_filters(log, paris, args, expected):
    result = run("logs", "--db", str(log), "--json", *args)
    assert result.exit_code == 0, result.output
    assert ids(result) == expected


@pytest.mark.parametrize(
    "query,expected",
    [
        ("café", ["r3:cheap"]),  # in a preview
        ("cold coffee", ["r3:cheap"]),  # in an answer, every word
        ("refund-request", ["r1:strong"]),  # `-` is not FTS5's NOT here
        ('"ASAP"', ["r1:strong", "r1:cheap"]),  # quotes searched, not a broken phrase
        ("[A-17]", ["r1:strong", "r1:cheap"]),
        ("item*42", ["r2:cheap"]),  # `*` is not a prefix query
        ("AND", []),  # an FTS5 keyword alone is a word like any other
        ("urgent OR routine", []),  # literal: "OR" is a word no call holds
    ],
)
def test_search_is_literal(log, query, expected):
    result = run("logs", "--db", str(log), "--json", "-q", query)
    assert result.exit_code == 0, result.output
    assert ids(result) == expected


def test_search_fts_syntax(log, backend):
    # FTS5's syntax on SQLite, PostgreSQL's tsquery syntax there (docs/finding-a-call.md).
    query = "urgent OR rout*" if backend == "sqlite" else "urgent | rout:*"
    result = run("logs", "--db", str(log), "--json", "-q", query, "--fts")
    assert result.exit_code == 0, result.output
    assert ids(result) == ["r2:cheap", "r1:cheap"]


def test_search_sees_rows_logged_after_open(log):
    with LogReader(log) as reader:
        with CallLog(log) as writer:
            writer.log(_rows()[0].model_copy(update={"input_preview": "zebra crossing", "ts": T0 + 999}))
        found = reader.search_calls(CallFilters(search="zebra"))
    assert [r.input_preview for r in found] == ["zebra crossing"]


def test_search_index_follows_deletes(tmp_path):
    log = tmp_path / "calls.db"
    _many(log, _rows())
    conn = sqlite3.connect(log)
    conn.execute("DELETE FROM calls WHERE request_id = 'r2'")
    conn.commit()
    conn.close()
    with LogReader(log) as reader:
        assert reader.search_calls(CallFilters(search="routine")) == []
        assert [r.request_id for r in reader.search_calls(CallFilters(search="coffee"))] == ["r3"]
    conn = sqlite3.connect(log)
    conn.execute("INSERT INTO calls_words(calls_words) VALUES ('integrity-check')")  # raises if broken
    assert conn.execute("SELECT COUNT(*) FROM calls_words").fetchone()[0] == 3
    conn.close()


def test_migration_builds_index_for_existing_log(tmp_path):
    """A log written before the FTS migration is searchable once a current routermon opens it."""
    from routermon.core.log import db as dbmod

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    sdb = dbmod.sqlite_utils.Database(conn)
    dbmod.MIGRATIONS.apply(sdb, stop_before="m005_calls_fts")
    from routermon.core.log.records import CALL_COLUMNS

    # The columns a log had then (m008 added the gateway's after them).
    old = CALL_COLUMNS[: CALL_COLUMNS.index("audit_share") + 1]
    insert = f"INSERT INTO calls ({', '.join(old)}) VALUES ({', '.join('?' for _ in old)})"
    conn.executemany(insert, [r.as_row()[: len(old)] for r in _rows()])
    conn.commit()
    assert "calls_fts" not in sdb.table_names()
    conn.close()
    with LogReader(path) as reader:
        assert [r.request_id for r in reader.search_calls(CallFilters(search="froid"))] == ["r3"]
        assert len(reader.search_calls(CallFilters(search="label"))) == 3


def test_table_fits_80_columns_and_cuts_nothing(log, paris):
    result = run("logs", "--db", str(log), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = result.stdout
    for whole in ("low_confidence", "haiku-4-5", "sonnet-4-5", "$0.000123", "$0.00420", "13:02:00"):
        assert whole in text
    assert "…" not in text and "claude-" not in text
    assert "times in UTC+01:00" in lines[-1]


def test_table_at_120_adds_request_and_input(log):
    result = run("logs", "--db", str(log), env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 120
    assert "Request" in result.stdout and "r3" in result.stdout and "Le café" in result.stdout
    assert "100→10" in result.stdout  # tokens


def test_table_shows_markup_literally(tmp_path):
    path = tmp_path / "calls.db"
    row = _rows()[0].model_copy(update={"task": "[bold]x[/bold]"})
    with CallLog(path) as writer:
        writer.log(row)
    result = run("logs", "--db", str(path), env={"COLUMNS": "80"})
    assert "[bold]x[/bold]" in result.stdout


def test_nl_and_csv(log, paris):
    nl = run("logs", "--db", str(log), "--nl", "-n", "2")
    lines = nl.stdout.splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == ["r2", "r3"]
    assert json.loads(lines[0])["time"] == "2026-03-18 13:02:00+01:00"
    out = run("logs", "--db", str(log), "--csv")
    records = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["request_id"] for r in records] == ["r2", "r3", "r1", "r1"]
    assert records[2]["answer"] == '{"label": "refund-request"}'
    assert records[0]["time"] == "2026-03-18 13:02:00+01:00"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--since", "yesterday"], "'yesterday' is not a time"),
        (["--until", "2026-13-01"], "is not a time"),
        (["--role", "boss"], "There is no role 'boss'"),
        (["--reason", "bored"], "There is no escalation reason 'bored'"),
        (["--task", "translate"], "No call in this log has the task 'translate'"),
        (["--model", "gpt-9"], "No call in this log has the model 'gpt-9'"),
        (["-q", "NEAR(", "--fts"], "is not valid {syntax} syntax"),
        (["-q", "   "], "The search text is empty"),
        (["-n", "-1"], "-n/--count must be 0"),
        (["--fts"], "give -q too"),
    ],
)
def test_bad_input_is_one_sentence_exit_2(log, backend, args, message):
    result = run("logs", "--db", str(log), *args)
    assert result.exit_code == 2
    assert message.format(syntax="FTS5" if backend == "sqlite" else "PostgreSQL tsquery") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_unterminated_fts5_phrase_is_one_sentence(tmp_path):
    log = tmp_path / "calls.db"
    _many(log, _rows())
    result = run("logs", "--db", str(log), "-q", '"open', "--fts")
    assert result.exit_code == 2 and "is not valid FTS5 syntax" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_log_yet(tmp_path):
    result = run("logs", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 2 and "no call log" in result.stderr


@pytest.mark.parametrize(
    "text,ago",
    [("30m", 1800), ("2h", 7200), ("7d", 7 * 86400), ("1w", 604800), ("45s", 45), ("1.5h", 5400)],
)
def test_relative_times(text, ago):
    assert parse_when(text, 1_000_000.0) == 1_000_000.0 - ago


def test_iso_times(paris):
    assert parse_when("2026-03-18", 0) == T0 - 13 * 3600  # local midnight, UTC+1
    assert parse_when("2026-03-18", 0, end_of_day=True) == T0 + 11 * 3600
    assert parse_when("2026-03-18T12:00:00Z", 0) == T0
    assert parse_when("2026-03-18 13:00", 0) == T0


def test_fts_literal_quotes_every_word():
    assert fts_literal('say "hi" -now') == '"say" "hi" "now"'
    for no_word in ("", "  ", "-- !!", "\x1b[31m"):
        with pytest.raises(QueryError):
            fts_literal(no_word)


def test_logs_path(tmp_path, monkeypatch):
    db = tmp_path / "x.db"
    assert run("logs", "path", "--db", str(db)).stdout.strip() == str(db)
    assert run("--db", str(db), "logs", "path").stdout.strip() == str(db)
    assert run("logs", "--db", str(db), "path").stdout.strip() == str(db)
    monkeypatch.setenv("ROUTERMON_DB", str(tmp_path / "env.db"))
    assert run("logs", "path").stdout.strip() == str(tmp_path / "env.db")


def _many(path, rows):
    with CallLog(path) as writer:
        writer.log_many(rows)


def _call(n: int, ts: float, text: str) -> CallRecord:
    return CallRecord(
        ts=ts, request_id=f"q{n}", task="classify", model="claude-haiku-4-5", role="cheap", input_preview=text
    )


@pytest.mark.parametrize("case", ["in_order", "imported_late", "logged_early_with_a_late_time"])
def test_search_newest_by_time_whatever_the_id_order(log_db, case):
    """Many matches: the newest by time come first even where ids and times disagree."""
    path = log_db
    rows = [_call(n, T0 + n, f"alpha {n}") for n in range(400)]
    if case == "logged_early_with_a_late_time":
        rows.insert(0, _call(9999, T0 + 10_000, "alpha future"))  # the smallest id, the newest time
    if case == "imported_late":
        rows.append(_call(8888, T0 - 40 * 86400, "alpha imported"))  # the largest id, an old time
    _many(path, rows)
    with LogReader(path) as reader:
        every = reader.search_calls(CallFilters(search="alpha"), None)
        for limit in (1, 20, 150):
            assert reader.search_calls(CallFilters(search="alpha"), limit) == every[:limit]
        assert reader.search_calls(CallFilters(search="alpha", task="classify"), 5) == every[:5]
    assert [r.ts for r in every] == sorted((r.ts for r in every), reverse=True)
    if case == "logged_early_with_a_late_time":
        assert every[0].request_id == "q9999"


@pytest.mark.parametrize("columns", [80, 100, 120, 160])
def test_table_with_long_ids_and_tiny_costs_fits(tmp_path, columns):
    """32-character request ids and Haiku 5.5 costs: ids, costs and reasons whole; only the input
    preview is cut (with …) to the width left."""
    path = tmp_path / "calls.db"
    request_id = "simb488ed7aa040_4a6c89fb564bb674"
    row = _rows()[1].model_copy(
        update={"request_id": request_id, "cost_usd": 0.0000492, "escalation_reason": "invalid_output"}
    )
    _many(path, [row.model_copy(update={"input_preview": "word " * 16})])
    result = run("logs", "--db", str(path), env={"COLUMNS": str(columns)})
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "$0.0000492" in result.stdout and "invalid_output" in result.stdout
    if columns >= 120:
        assert request_id in result.stdout  # whole, to paste into --request
    if columns == 160:
        assert "word word" in lines[2] and lines[2].endswith("…")  # at 120 no room is left for it


# -- class 10: one definition of a word, one search, both backends ------------------------------

WORD_CASES = {
    "w1": "Résumé reçu à l'ÉCOLE, grade É",
    "w2": "İstanbul office, invoice #4 of 12",
    "w3": "plain ascii: A0 B12 invoice4",
    "w4": "alert: \x1b[31mRED\x1b[0m and \x1b]8;;http://x\x07link\x1b]8;;\x07 done",
    "w5": "Straße ﬁne_print 日本語 テスト",
}


@pytest.fixture
def word_log(log_db):
    rows = [
        _rows()[0].model_copy(update={"request_id": rid, "input_preview": text, "answer": "{}", "ts": T0 + i})
        for i, (rid, text) in enumerate(WORD_CASES.items())
    ]
    with CallLog(log_db) as writer:
        writer.log_many(rows)
    return log_db


@pytest.mark.parametrize(
    "query,expected",
    [
        ("é", ["w1"]),  # accents folded: é is e, the grade É in w1
        ("e", ["w1"]),
        ("resume", ["w1"]),
        ("RÉSUMÉ", ["w1"]),
        ("ecole", ["w1"]),
        ("recu", ["w1"]),
        ("İstanbul", ["w2"]),
        ("istanbul", ["w2"]),
        ("A0", ["w3"]),
        ("a0 b12", ["w3"]),
        ("invoice 4", ["w2"]),  # two words: invoice4 in w3 is one word
        ("invoice4", ["w3"]),
        ("#4", ["w2"]),
        ("RED", ["w4"]),  # control sequences are not part of the text
        ("31m", []),
        ("link", ["w4"]),
        ("http", []),  # the hyperlink's target is inside the control sequence
        ("strasse", ["w5"]),
        ("fine print", ["w5"]),
        ("テスト", ["w5"]),
    ],
)
def test_a_literal_search_finds_the_same_calls_on_both_backends(word_log, query, expected):
    with LogReader(word_log) as reader:
        found = reader.search_calls(CallFilters(search=query), limit=None)
    assert sorted(r.request_id for r in found) == expected


def test_the_word_definition_is_in_the_search_help():
    result = run("logs", "--help")
    assert "letters and digits" in " ".join(result.stdout.split())


def test_a_search_error_quotes_a_long_query_shortened(tmp_path):
    log = tmp_path / "calls.db"
    _many(log, _rows())
    result = run("logs", "--db", str(log), "-q", '"' + "x" * 6000, "--fts")
    assert result.exit_code == 2 and "is not valid FTS5 syntax" in result.stderr
    assert len(result.stderr) < 400 and "6,001 characters" in result.stderr


def test_migration_m009_indexes_the_calls_logged_before_it(new_log):
    """A log written before m008 (words split and folded by each backend) is searched by the one
    definition once a current routermon opens it."""
    from routermon.core.log import db as dbmod
    from routermon.core.log import pg as pgmod

    location = new_log("old.db")
    if isinstance(location, str):  # PostgreSQL: the schema up to m007, rows, then the current routermon
        conn = pgmod.PgConnection(dbmod.log_location(location))
        saved = pgmod.MIGRATIONS
        pgmod.MIGRATIONS = tuple(m for m in saved if m[0] != "m009_search_words")
        try:
            pgmod._migrate(conn)
        finally:
            pgmod.MIGRATIONS = saved
        from routermon.core.log.store import INSERT_SQL

        conn.execute("BEGIN")
        conn.executemany(INSERT_SQL, [r.as_row() for r in _rows()])
        conn.execute("COMMIT")
        conn.close()
    else:
        sconn = sqlite3.connect(location)
        sdb = dbmod.sqlite_utils.Database(sconn)
        dbmod.MIGRATIONS.apply(sdb, stop_before="m009_search_words")
        from routermon.core.log.store import INSERT_SQL

        sconn.executemany(INSERT_SQL, [r.as_row() for r in _rows()])
        sconn.commit()
        sconn.close()
    with CallLog(location):
        pass  # a writer applies m009
    with LogReader(location) as reader:
        assert [r.request_id for r in reader.search_calls(CallFilters(search="cafe"))] == ["r3"]
        assert len(reader.search_calls(CallFilters(search="LABEL"), limit=None)) == 3


@pytest.mark.parametrize("command", [["logs"], ["report"], ["logs", "-q", "x"], ["thresholds"]])
def test_another_tools_sqlite_file_with_a_calls_table_is_refused_and_left_as_it_was(tmp_path, command):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, who TEXT)")
    conn.execute("INSERT INTO calls (who) VALUES ('someone')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    result = run(*command, "--db", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "has a calls table routermon did not make" in result.output
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"calls"} and path.read_bytes() == before


def test_the_ascii_shortcut_of_search_words_cuts_as_the_full_definition_does():
    import random
    import string

    from routermon.core.text import search_words

    rng = random.Random(7)
    alphabet = string.printable + "\x1b\x07\x00\x7f"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        # A non-ASCII word appended sends the text down the full path (Unicode folding and all).
        assert search_words(text) + ["e"] == search_words(text + " \u00e9"), repr(text)
