"""Fixtures several test files share: the real paired-outcome file shipped in tests/data, a log
built from it, ``backend`` / ``log_db`` / ``new_log``, which run a test on a SQLite file and on
PostgreSQL (a schema of its own in ``ROUTERMON_TEST_PG``'s database; skipped, saying why, without it),
and ``loopback``, the stand-in API served over HTTP on a loopback port (``standin_api`` chooses it)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest

TESTS_DIR = Path(__file__).resolve().parent
# Engine tests sit at the top of tests/, command and app tests in tests/commands/; the helper
# modules (tui_helpers, review_helpers) and the few names one test file takes from another are
# importable from both.
for _folder in (TESTS_DIR, TESTS_DIR / "commands"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
DATA_DIR = TESTS_DIR / "data"
# 369 real date-arithmetic pairs (gpt-3.5-turbo vs gpt-4); see tests/data/README.md.
DATE_FILE = DATA_DIR / "date_gpt35_gpt4.jsonl"


# Read before ``isolated_settings`` clears every ROUTERMON_* variable for the tests.
PG_URL = os.environ.get("ROUTERMON_TEST_PG", "").strip()
PG_SKIP = "PostgreSQL not available: set ROUTERMON_TEST_PG=postgresql://… (CI starts one)"
BACKENDS = ("sqlite", "postgresql")


def pg_schema_url(schema: str) -> str:
    """``ROUTERMON_TEST_PG`` with every table the log makes in ``schema`` (libpq's ``options``)."""
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options={quote(f'-csearch_path={schema}')}"


def pg_admin(sql: str, params: tuple = ()) -> list[tuple]:
    """Run ``sql`` on the test server outside any log (making and dropping schemas, direct counts)."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description is not None else []


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """``sqlite`` or ``postgresql``: the PostgreSQL variant is skipped, with the reason, without a server."""
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pytest.skip("PostgreSQL tests need psycopg: pip install -e '.[test]'")
    return request.param


@pytest.fixture
def new_log(backend, tmp_path):
    """A maker of fresh, empty logs on the test's backend: ``new_log("a.db")`` is a file in the
    test's folder, or a URL naming a PostgreSQL schema of its own (dropped after the test)."""
    schemas: list[str] = []
    files: list[Path] = []

    def make(name: str = "calls.db") -> Path | str:
        if backend == "sqlite":
            path = tmp_path / name  # a second log of one name (hypothesis examples) gets a folder of its own
            if path in files:
                (tmp_path / f"log{len(files)}").mkdir()
                path = tmp_path / f"log{len(files)}" / name
            files.append(path)
            return path
        schema = "t_" + uuid.uuid4().hex[:16]
        pg_admin(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return pg_schema_url(schema)

    yield make
    for schema in schemas:
        pg_admin(f"SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def log_db(new_log) -> Path | str:
    """The test's log on its backend (not created yet)."""
    return new_log()


@pytest.fixture(scope="session")
def date_db(tmp_path_factory) -> Path:
    """A call log holding the date file's pairs, imported once per session (tests only read it)."""
    from routermon.core.log.importing import import_pairs

    db = tmp_path_factory.mktemp("date") / "calls.db"
    import_pairs(DATE_FILE, db)
    return db


@pytest.fixture
def db(tmp_path) -> Path:
    """A fresh call log path in the test's own folder (not created)."""
    return tmp_path / "calls.db"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test reads an empty settings file and no ``ROUTERMON_*`` variable of the machine's user,
    and has a data folder of its own."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("ROUTERMON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the data folder (Models API cache)
    empty = tmp_path / "no-settings.toml"
    empty.touch()
    monkeypatch.setenv("ROUTERMON_CONFIG", str(empty))
    return empty


class Loopback(NamedTuple):
    """A stand-in API and the address its loopback HTTP server answers on."""

    api: Any  # a StandInAPI (imported in the fixtures, so collecting the tests stays light)
    base_url: str


@pytest.fixture
def standin_api():
    """The stand-in API that ``loopback`` serves: a plain one; a test file overrides this fixture to
    serve one of its own (a scenario, a subclass that records keys)."""
    from routermon.core.simulate.standin import StandInAPI

    return StandInAPI()


@pytest.fixture
def loopback(standin_api, monkeypatch) -> Loopback:
    """``standin_api`` served over HTTP on a free loopback port, with ``ANTHROPIC_BASE_URL`` naming it
    (as ``routermon stand-in`` is used); the server stops when the test ends."""
    from routermon.core.simulate.standin import serve_in_thread

    server, stop = serve_in_thread(standin_api)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
    try:
        yield Loopback(standin_api, base_url)
    finally:
        stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """One line saying why the PostgreSQL variants were skipped, whatever the verbosity."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if PG_SKIP in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} PostgreSQL tests skipped: {PG_SKIP}")
