"""Fixtures several test files share: the real paired-outcome file shipped in tests/data, and a log built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent / "data"
# 369 real date-arithmetic pairs (gpt-3.5-turbo vs gpt-4); see tests/data/README.md.
DATE_FILE = DATA_DIR / "date_gpt35_gpt4.jsonl"


@pytest.fixture(scope="session")
def date_db(tmp_path_factory) -> Path:
    """A call log holding the date file's pairs, imported once per session (tests only read it)."""
    from routermon.core.pairs import import_pairs

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
