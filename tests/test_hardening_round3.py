"""Hardening, round three (issue 34), classes 4-6: numbers that would overflow into the log, dates,
spans and counts out of range, and settings whose type is wrong deep inside."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from routermon.core.log.logquery import LATEST_TIME, QueryError, parse_when
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.tui.cli import main

T0 = 1_773_000_000.0  # 2026-03-08


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_sentence(result, *words: str) -> None:
    """Exit 2, one line on stderr holding ``words``, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def _call(n: int, ts: float = T0, cost: float | None = 0.001) -> CallRecord:
    return CallRecord(
        ts=ts,
        request_id=f"r{n}",
        task="classify",
        model="claude-haiku-4-5",
        role="cheap",
        input_tokens=100,
        output_tokens=10,
        cost_usd=cost,
        latency_ms=500.0,
        confidence=0.9,
        answer='{"label": "a"}',
        final=True,
        input_sha256=f"r{n}",
        input_preview="hello",
    )


@pytest.fixture
def small_log(log_db):
    with CallLog(log_db) as writer:
        writer.log_many([_call(n, T0 + n) for n in range(3)])
    return log_db


# -- 5. dates, spans and counts out of range ---------------------------------------------------

OUT_OF_RANGE_TIMES = [
    ("--until", "9999-12-31"),
    ("--since", "0001-01-01T00:00"),
    ("--since", "0001-01-01"),
    ("--until", "9999-12-31T23:59:59+00:00"),
    ("--since", "1969-12-31"),
    ("--since", "99999999999999999999w"),
    ("--since", "1" + "0" * 400 + "d"),
]


@pytest.mark.parametrize(("option", "text"), OUT_OF_RANGE_TIMES)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_logs_times_out_of_range_are_one_sentence(small_log, monkeypatch, option, text, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        one_sentence(run("logs", "--db", small_log, option, text), "outside the times routermon handles")
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00", "0001-01-01", "99999999999999999999w", "1e400w", "9999-12-31", "1969-01-01"]
)
def test_prune_cut_offs_out_of_range_are_one_sentence(small_log, text):
    result = run("prune", "--db", small_log, "--before", text, "--yes")
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.output
    assert "routermon handles" in result.stderr or "is not a time" in result.stderr


@pytest.mark.parametrize("count", ["9223372036854775808", str(10**30), "-1"])
def test_logs_counts_out_of_range_are_one_sentence(small_log, count):
    one_sentence(run("logs", "--db", small_log, "-n", count), "-n/--count must be 0 (all) to")


def test_the_largest_count_lists_every_call(small_log):
    result = run("logs", "--db", small_log, "-n", str(2**63 - 1), "--nl")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 3


def test_times_at_the_edges_of_the_range_are_accepted():
    assert parse_when("1970-01-01T00:00+00:00", T0) == 0.0
    assert parse_when("9999-12-30T00:00+00:00", T0) == LATEST_TIME
    assert parse_when("56y".replace("y", "w"), T0) == T0 - 56 * 604800
    with pytest.raises(QueryError, match="is not a time"):
        parse_when("2026-02-30", T0)  # a real mistake is still named as one


# -- 6. settings whose type is wrong deep inside -----------------------------------------------

WRONG_MODEL_ENTRIES = [
    ("thinking_types", "5", "5", "valid list"),
    ("thinking_types", '["sometimes"]', '["sometimes"]', "adaptive"),
    ("structured_outputs", '"yes"', '"yes"', "valid boolean"),
    ("context_window", '"big"', '"big"', "valid integer"),
    ("context_window", "0", "0", "greater than or equal to 1"),
    ("effort_levels", '"high"', '"high"', "valid list"),
    ("default_effort", "7", "7", "low"),
    ("colour", '"red"', '"red"', "Extra inputs"),
]


@pytest.mark.parametrize(("field", "toml", "json_value", "problem"), WRONG_MODEL_ENTRIES)
@pytest.mark.parametrize("command", [["doctor", "--stand-in"], ["route", "--stand-in", "--task", "t", "hi"]])
def test_a_wrong_model_entry_in_the_file_is_one_sentence_naming_the_file(
    isolated_settings, command, field, toml, json_value, problem
):
    isolated_settings.write_text(f'[models."claude-haiku-5-5"]\n{field} = {toml}\n')
    result = run(*command)
    one_sentence(result, str(isolated_settings), f"models.claude-haiku-5-5.{field}", problem)


@pytest.mark.parametrize(("field", "toml", "json_value", "problem"), WRONG_MODEL_ENTRIES)
def test_a_wrong_model_entry_in_the_environment_names_the_variable(
    monkeypatch, field, toml, json_value, problem
):
    monkeypatch.setenv("ROUTERMON_MODELS", f'{{"claude-haiku-5-5": {{"{field}": {json_value}}}}}')
    one_sentence(run("doctor", "--stand-in"), "The environment variable ROUTERMON_MODELS=", problem)


def test_a_right_model_entry_still_reaches_the_table(isolated_settings):
    from routermon.core.workspace import Workspace

    isolated_settings.write_text(
        '[models."claude-new-9"]\nthinking_types = ["adaptive"]\ncontext_window = 5000\n'
    )
    table = Workspace.load().model_table
    caps = table.get("claude-new-9")
    assert caps.known and caps.thinking_types == frozenset({"adaptive"}) and caps.context_window == 5000
    assert caps.structured_outputs is False  # a fact the entry does not name keeps its default


def test_the_model_entry_schema_names_every_capability():
    import dataclasses

    from routermon.core.route.models import EFFORT_LEVELS, THINKING_TYPES, ModelCapabilities
    from routermon.core.settings import EffortLevel, ModelOverride, ThinkingType

    facts = {f.name for f in dataclasses.fields(ModelCapabilities)} - {"model", "known", "sources"}
    assert set(ModelOverride.model_fields) == facts
    assert set(THINKING_TYPES) == set(ThinkingType.__args__)
    assert set(EFFORT_LEVELS) == set(EffortLevel.__args__)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ROUTERMON_MODELS", "{bad"), ("ROUTERMON_THRESHOLDS", "[1"), ("ROUTERMON_PRICES", "{'a': 1}")],
)
def test_a_json_variable_that_is_not_json_names_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = run("doctor", "--stand-in")
    one_sentence(result, f"The environment variable {variable} is not valid JSON")
    assert "settings file" not in result.stderr


def test_routermon_config_naming_a_fifo_a_device_or_a_folder_says_what_it_is(tmp_path, monkeypatch):
    import os

    fifo = tmp_path / "settings.fifo"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), ("/dev/null", "a device"), (tmp_path, "a folder")):
        monkeypatch.setenv("ROUTERMON_CONFIG", str(path))
        one_sentence(run("doctor", "--stand-in"), f"ROUTERMON_CONFIG names the settings file {path}", kind)
    monkeypatch.setenv("ROUTERMON_CONFIG", str(tmp_path / "missing.toml"))
    one_sentence(run("doctor", "--stand-in"), "does not exist")


def test_a_per_user_settings_file_that_is_a_folder_is_refused(tmp_path, monkeypatch):
    from routermon.core.settings import config_path

    monkeypatch.delenv("ROUTERMON_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config_path().mkdir(parents=True)
    one_sentence(run("doctor", "--stand-in"), f"The settings file {config_path()} is a folder, not a file")


# -- 4. numbers that overflow into the log -----------------------------------------------------

PRICE_TABLE = '[prices."claude-haiku-5-5"]\n'


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("input_mtok = 1e308\noutput_mtok = 1", "less than or equal to 1000000"),
        ("input_mtok = 1\noutput_mtok = inf", "finite number"),
        ("input_mtok = nan\noutput_mtok = 1", "finite number"),
        ("input_mtok = -1\noutput_mtok = 1", "greater than or equal to 0"),
        ("input_mtok = 1\noutput_mtok = 1\ncache_read_mtok = 2e6", "less than or equal to 1000000"),
        ("input_mtok = 1", "Field required"),
        ("input_mtok = 1\noutput_mtok = 1\nbonus_mtok = 1", "Extra inputs"),
    ],
)
def test_price_overrides_out_of_range_are_refused_naming_the_file(isolated_settings, entry, problem):
    isolated_settings.write_text(PRICE_TABLE + entry + "\n")
    result = run("route", "--stand-in", "--task", "classify", "--labels", "a,b", "hi")
    one_sentence(result, str(isolated_settings), "prices.claude-haiku-5-5.", problem)


def test_a_price_override_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("ROUTERMON_PRICES", '{"claude-haiku-5-5": {"input_mtok": 1e308, "output_mtok": 1}}')
    one_sentence(run("report"), "The environment variable ROUTERMON_PRICES=", "less than or equal to")


def test_the_price_book_refuses_overrides_it_is_handed_out_of_range():
    from routermon.core.errors import UnknownModelError
    from routermon.core.prices import MAX_PRICE_PER_MTOK, PriceBook

    for price in (1e308, MAX_PRICE_PER_MTOK * 2, float("inf"), -0.5):
        with pytest.raises(UnknownModelError, match="from 0 to 1,000,000"):
            PriceBook({"m": {"input_mtok": price, "output_mtok": 1.0}}).rates("m")
    # At the bound, a call of a billion tokens still costs a finite amount.
    book = PriceBook({"m": {"input_mtok": MAX_PRICE_PER_MTOK, "output_mtok": MAX_PRICE_PER_MTOK}})
    assert book.cost("m", 10**9, 10**9) == 2e9


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ROUTERMON_MONTHLY_BUDGET_USD", "1e308", "less than or equal to"),
        ("ROUTERMON_MONTHLY_BUDGET_USD", "inf", "finite number"),
        ("ROUTERMON_DRIFT_DAYS", "1e300", "less than or equal to 36500"),
        ("ROUTERMON_DRIFT_DAYS", "nan", "finite number"),
        ("ROUTERMON_DRIFT_WINDOW", "99999999999999999999", "less than or equal to"),
        ("ROUTERMON_PREVIEW_CHARS", "99999999999999999999", "less than or equal to"),
    ],
)
def test_numbers_in_the_environment_have_a_range(monkeypatch, variable, value, problem):
    monkeypatch.setenv(variable, value)
    one_sentence(run("check"), f"The environment variable {variable}=", problem)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--days", "1e308"],
        ["check", "--days", "nan"],
        ["check", "--days", "0"],
        ["whatif", "--from-log", "--days", "inf"],
        ["whatif", "--from-log", "--days", "1e300"],
        ["stand-in", "--time-scale", "1e308"],
        ["stand-in", "--time-scale", "nan"],
        ["stand-in", "--time-scale", "-1"],
    ],
)
def test_numbers_on_the_command_line_have_a_range(small_log, args):
    extra = [] if args[0] == "stand-in" else ["--db", str(small_log)]
    one_sentence(run(*args, *extra), f"{args[-2]} must be a number")


def _spend(reader) -> float:
    import json

    report = json.loads(run("report", "--format", "json", "--db", reader).stdout)
    return report["traffic"]["spend_usd"]


@pytest.mark.parametrize(
    ("field", "value"), [("cost_usd", float("inf")), ("cost_usd", float("nan")), ("latency_ms", float("inf"))]
)
def test_the_writer_never_stores_a_number_that_is_not_finite(log_db, caplog, field, value):
    import logging

    from routermon.core.log.reader import LogReader

    bad = _call(9, T0 + 9).model_copy(update={field: value, "confidence": float("nan")})
    with caplog.at_level(logging.WARNING, logger="routermon"), CallLog(log_db) as writer:
        writer.log_many([_call(1, T0), bad])
    assert any("not finite" in r.getMessage() for r in caplog.records)
    with LogReader(log_db) as reader:
        rows = {row.request_id: row for row in reader.search_calls(_filters(), None)}
    assert set(rows) == {"r1", "r9"}  # the call is kept, its number made unknown
    assert rows["r9"].confidence is None
    assert rows["r9"].cost_usd is None if field == "cost_usd" else rows["r9"].latency_ms == 0.0
    result = run("report", "--format", "json", "--db", log_db)
    assert result.exit_code == 0, result.output
    assert "not finite" not in result.stderr and _spend(log_db) == pytest.approx(
        0.002 if field != "cost_usd" else 0.001
    )


def test_an_import_never_stores_a_number_that_is_not_finite(log_db):
    from routermon.core.log.reader import LogReader
    from routermon.core.log.store import ExactInserter

    rows = [_call(1).as_row(), _call(2).model_copy(update={"cost_usd": float("inf")}).as_row()]
    with ExactInserter(log_db) as inserter:
        assert sorted(inserter.insert(rows)) == ["r1", "r2"]
    with LogReader(log_db) as reader:
        costs = {row.request_id: row.cost_usd for row in reader.search_calls(_filters(), None)}
    assert costs == {"r1": 0.001, "r2": None}


def _filters():
    from routermon.core.log.logquery import CallFilters

    return CallFilters()


def _store_infinity(log_db, backend) -> None:
    """What an older routermon wrote after a price of 1e308: an infinite cost in a row and its rollup."""
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(log_db)
        conn.execute("UPDATE calls SET cost_usd = 9e999 WHERE request_id = 'r1'")
        conn.execute("UPDATE rollups SET spend_usd = 9e999")
        conn.commit()
        conn.close()
        return
    import psycopg

    with psycopg.connect(str(log_db), autocommit=True) as conn:
        conn.execute("UPDATE calls SET cost_usd = 'Infinity' WHERE request_id = 'r1'")
        conn.execute("UPDATE rollups SET spend_usd = 'Infinity'")


@pytest.mark.parametrize(
    ("command", "where"),
    [
        (["logs", "--json"], "(id "),
        (["logs", "--nl"], "id "),
        (["report", "--format", "json"], "traffic.spend_usd"),
    ],
)
def test_a_log_an_older_version_left_with_infinity_is_still_read_and_says_where(
    small_log, backend, caplog, command, where
):
    import json
    import logging

    _store_infinity(small_log, backend)
    with caplog.at_level(logging.WARNING, logger="routermon"):
        result = run(*command, "--db", small_log)
    assert result.exit_code == 0, (result.output, result.exception)
    said = " ".join(r.getMessage() for r in caplog.records)  # on stderr, through the CLI's handler
    assert "not finite" in said and where in said and "= inf" in said
    text = result.stdout
    parsed = [json.loads(line) for line in text.splitlines()] if "--nl" in command else json.loads(text)
    assert "Infinity" not in text and parsed  # strict JSON: null where the number was


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["check", "--window", "99999999999999999999"], "--window"),
        (["check", "--window", "0"], "--window"),
        (["judge", "--stand-in", "--limit", "9223372036854775808"], "--limit"),
        (["simulate", "--requests", "99999999999999999999"], "--requests"),
        (["simulate", "--requests", "0"], "--requests"),
        (["simulate", "--requests", "many"], "--requests"),
    ],
)
def test_counts_on_the_command_line_have_a_range(small_log, args, flag):
    one_sentence(run(*args, "--db", small_log), f"{flag} must be a whole number of at least 1 and at most")


def test_the_largest_window_reads_every_audit(small_log):
    result = run("check", "--window", str(2**63 - 1), "--db", small_log)
    assert result.exit_code == 0, result.output
