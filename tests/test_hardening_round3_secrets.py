"""Hardening, round three, class 7: secrets and private files.

* ``ANTHROPIC_BASE_URL``'s credentials never reach the Models API cache; everything made in the
  data folder is 0600 / 0700 whatever the umask; a cache that cannot be written is one warning.
* A PostgreSQL URL's secrets are found the way libpq reads the URL (``conninfo_to_dict``, or the
  fallback parser without psycopg), so no spelling of a secret parameter, and no scheme's case,
  brings it to ``logs path``, ``config show``, an error message or the report's ``db_path``.
"""

from __future__ import annotations

import json
import os
import stat
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


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{SECRET}@db.example/calls?sslpassword",
        f"postgresql://alice:{SECRET[:4]}@{SECRET[4:]}@db.example/calls",  # an @ not written %40
    ],
)
def test_a_url_that_cannot_be_read_is_named_without_its_query_or_password(url, url_parser):
    with pytest.raises(DatabaseError) as caught:
        PostgresLog(url)
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


# -- the Models API cache: no credentials stored, private files, an unwritable cache is no crash ---

CHEAP, STRONG = "claude-haiku-5-5", "claude-sonnet-5-5"
TOKEN = "RMBASEURLTOKEN3e8d"


def _serve_models_api(monkeypatch, userinfo: str = "") -> str:
    """The stand-in on loopback as the real API (a key set, ANTHROPIC_BASE_URL with ``userinfo``);
    returns the address the cache should keep."""
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.standin import StandInAPI, serve_in_thread

    server, stop = serve_in_thread(StandInAPI(scenario=load_scenario()))
    address = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://{userinfo}{address}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    _STOPS.append(stop)
    return f"http://{address}"


_STOPS: list = []


@pytest.fixture(autouse=True)
def _stop_stand_ins():
    yield
    while _STOPS:
        _STOPS.pop()()


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual umask, under which a plain mkdir or open makes 0755 / 0644
    yield
    os.umask(old)


@pytest.mark.parametrize("userinfo", [f"user:{TOKEN}@", f":{TOKEN}@", f"{TOKEN}@", f"user%40x:{TOKEN}%2F@"])
def test_credentials_in_the_base_url_are_never_stored_in_the_cache(userinfo, tmp_path, monkeypatch):
    from routermon.core.route.models_api import CACHE_FILE
    from routermon.core.settings import data_dir
    from routermon.core.workspace import Workspace

    address = _serve_models_api(monkeypatch, userinfo)
    Workspace.load(db=tmp_path / "calls.db").router().close()
    raw = (data_dir() / CACHE_FILE).read_text()
    assert TOKEN not in raw and "user" not in raw
    assert list(json.loads(raw)) == [address]


def test_everything_made_in_the_data_folder_is_private(tmp_path, monkeypatch, umask_022):
    from routermon.core.route.models_api import CACHE_FILE
    from routermon.core.settings import data_dir, default_db_path
    from routermon.core.workspace import Workspace

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "share"))  # two folders to make
    _serve_models_api(monkeypatch)
    Workspace.load().router().close()  # the default log, after the Models API cache was written
    assert (data_dir() / CACHE_FILE).exists() and default_db_path().exists()
    for folder in (tmp_path / "home", tmp_path / "home" / "share", data_dir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in data_dir().iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def _data_folder_blocked_by_a_file(tmp_path, monkeypatch):
    (tmp_path / "blocked").write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "blocked"))


def _cache_file_is_a_folder(tmp_path, monkeypatch):
    from routermon.core.route.models_api import CACHE_FILE
    from routermon.core.settings import data_dir

    (data_dir() / CACHE_FILE).mkdir(parents=True)


def _read_only_file_system(tmp_path, monkeypatch):
    import errno

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("routermon.core.route.models_api.tempfile.mkstemp", refuse)


@pytest.mark.parametrize(
    "unwritable", [_data_folder_blocked_by_a_file, _cache_file_is_a_folder, _read_only_file_system]
)
def test_a_cache_that_cannot_be_written_leaves_the_bundled_table_with_one_warning(
    unwritable, tmp_path, monkeypatch, caplog
):
    from routermon.core.route import models_api
    from routermon.core.route.models import BUNDLED

    monkeypatch.setattr(models_api, "_warned_unwritable", set())
    unwritable(tmp_path, monkeypatch)
    _serve_models_api(monkeypatch)
    runner = CliRunner()
    args = [
        "route",
        "some text",
        "--task",
        "classify",
        "--labels",
        "safe,unsafe",
        "--db",
        str(tmp_path / "c.db"),
    ]
    args += ["--cheap", CHEAP, "--strong", STRONG, "--json"]
    out = runner.invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "Traceback" not in out.output
    from routermon.core.workspace import Workspace

    for _ in range(2):
        router = Workspace.load(db=tmp_path / "c.db").router(cheap_model=CHEAP, strong_model=STRONG)
        assert router.models.get(STRONG) == BUNDLED.get(STRONG)
        router.close()
    warnings = [r.getMessage() for r in caplog.records if "Models API cache" in r.getMessage()]
    assert len(warnings) == 1 and "bundled model table stays in force" in warnings[0]
