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
