"""Hardening, round three, class 7: secrets and private files.

* A PostgreSQL URL's secrets are found the way libpq reads the URL (``conninfo_to_dict``, or the
  fallback parser without psycopg), so no spelling of a secret parameter, and no scheme's case,
  brings it to ``logs path``, ``config show``, an error message or the report's ``db_path``.
"""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner
from conftest import DATE_FILE, PG_SKIP, PG_URL, pg_admin, pg_schema_url

from routermon.core.errors import DatabaseError
from routermon.core.location import PostgresLog, secret_parameters
from routermon.tui.cli import main

SECRET = "RMPGSECRET91c4"
# Each names the same log with a secret libpq would read from it.
SECRET_URLS = (
    f"postgresql://alice:{SECRET}@db.example:5433/calls?sslmode=require",
    f"postgresql://alice@db.example:5433/calls?sslmode=require&pass%77ord={SECRET}",
    f"postgresql://alice@db.example:5433/calls?sslmode=require&%70assword={SECRET}",
    f"postgresql://alice@db.example:5433/calls?sslmode=require&sslpassword={SECRET}",
    f"postgresql://alice@db.example:5433/calls?sslmode=require&oauth_client_secret={SECRET}",
    f"POSTGRESQL://alice:{SECRET}@db.example:5433/calls?sslmode=require",
    f"Postgres://alice:{SECRET}@db.example:5433/calls?sslmode=require",
    f"postgresql://alice:{SECRET[:4]}%2F{SECRET[4:]}@db.example:5433/calls?sslmode=require",
)
SHOWN = "postgresql://alice@db.example:5433/calls?sslmode=require"


@pytest.fixture(params=["libpq", "fallback"])
def url_parser(request, monkeypatch):
    """Each test once with psycopg's parser and once with the fallback used without psycopg."""
    if request.param == "libpq":
        pytest.importorskip("psycopg")
    else:
        monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
        monkeypatch.setitem(sys.modules, "psycopg.conninfo", None)
    return request.param


def _leaks(text: str) -> bool:
    return SECRET in text or SECRET[4:] in text


@pytest.mark.parametrize("url", SECRET_URLS)
def test_a_url_is_shown_without_any_secret_libpq_reads_from_it(url, url_parser):
    log = PostgresLog(url)
    assert str(log) == SHOWN and repr(log) == f"PostgresLog({SHOWN!r})"
    assert (log.user, log.host, log.port, log.database) == ("alice", "db.example", 5433, "calls")
    assert log.url.startswith(("postgresql://", "postgres://"))  # what libpq reads as a URL


def test_without_psycopg_the_secret_names_are_libpqs(url_parser):
    assert {"password", "sslpassword", "oauth_client_secret"} <= secret_parameters()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice@h1:5432,h2:5433/calls?sslpassword=" + SECRET,
        "postgresql:///calls?host=/var/run/postgresql&password=" + SECRET,
        "postgresql://alice@[::1]:5433/calls?options=-csearch_path%3Dt_x&password=" + SECRET,
    ],
)
def test_several_hosts_a_socket_and_ipv6_keep_their_place_and_lose_the_secret(url, url_parser):
    from routermon.core.location import _parse

    log = PostgresLog(url)
    assert not _leaks(str(log))
    shown = _parse(str(log))
    assert shown == {k: v for k, v in _parse(log.url).items() if k not in secret_parameters()}


def test_a_url_that_cannot_be_read_is_named_without_its_query_or_password(url_parser):
    with pytest.raises(DatabaseError) as caught:
        PostgresLog(f"postgresql://alice:{SECRET}@db.example/calls?sslpassword")
    assert not _leaks(str(caught.value)) and "db.example" in str(caught.value)


@pytest.mark.parametrize("url", SECRET_URLS)
def test_logs_path_and_config_show_name_the_log_without_the_secret(url, monkeypatch):
    runner = CliRunner()
    out = runner.invoke(main, ["logs", "path", "--db", url])
    assert out.exit_code == 0 and out.stdout.strip() == SHOWN and not _leaks(out.output)
    monkeypatch.setenv("ROUTERMON_DB", url)
    for args in (["config", "show", "--json"], ["config", "show"]):
        out = runner.invoke(main, args)
        assert out.exit_code == 0 and not _leaks(out.output), out.output
    assert SHOWN in runner.invoke(main, ["config", "show", "--json"]).stdout


@pytest.mark.parametrize(
    "url",
    [
        f"POSTGRESQL://alice:{SECRET}@127.0.0.1:1/calls",
        f"postgresql://alice@127.0.0.1:1/calls?sslpassword={SECRET}",
        f"postgresql://alice@127.0.0.1:1/calls?pass%77ord={SECRET}",
        f"Postgres://alice:{SECRET}@127.0.0.1:1/calls?connect_timeout=x",
    ],
)
def test_a_log_that_cannot_be_reached_is_one_sentence_without_the_secret(url):
    pytest.importorskip("psycopg")
    out = CliRunner().invoke(main, ["logs", "--db", url])
    assert out.exit_code == 2 and not _leaks(out.output), out.output
    assert "127.0.0.1" in out.output and "Traceback" not in out.output


def test_the_report_names_a_postgresql_log_without_its_secrets(tmp_path):
    if not PG_URL:
        pytest.skip(PG_SKIP)
    pytest.importorskip("psycopg")
    import uuid

    schema = "t_" + uuid.uuid4().hex[:16]
    pg_admin(f"CREATE SCHEMA {schema}")
    try:
        url = pg_schema_url(schema) + f"&sslpassword={SECRET}"
        runner = CliRunner()
        assert runner.invoke(main, ["import", str(DATE_FILE), "--db", url]).exit_code == 0
        out = runner.invoke(main, ["report", "--db", url, "--format", "json"])
        assert out.exit_code == 0 and not _leaks(out.output), out.output
        assert json.loads(out.stdout)["db_path"] == str(PostgresLog(url))
        md = runner.invoke(main, ["report", "--db", url])
        assert md.exit_code == 0 and not _leaks(md.output)
    finally:
        pg_admin(f"DROP SCHEMA {schema} CASCADE")
