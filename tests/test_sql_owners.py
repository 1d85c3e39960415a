"""All SQL lives in the store, the reader and the database module (issue 11: "All SQL in the store").

A static check over the source: outside ``core/store.py``, ``core/reader.py``, ``core/db.py`` and
``core/pg.py`` (the database module's PostgreSQL half: its connection, errors and migrations) no module of ``core`` or ``tui`` holds an SQL statement, calls ``execute``, imports ``sqlite3`` or
reaches into a reader's private connection (``_query``, ``conn``, ``_closed``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL_OWNERS = {
    "core/log/store.py",
    "core/log/reader.py",
    "core/log/db.py",
    "core/log/pg.py",
    "core/log/rollups.py",
    "core/log/search_index.py",  # the search index's rows, for both backends (as rollups.py)
}
# A string that starts like an SQL statement (the statements this project writes).
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK)\b")
EXECUTE_NAMES = {"execute", "executemany", "executescript"}
READER_PRIVATES = {"_query", "conn", "_closed"}


def _sources() -> list[Path]:
    files = sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "tui").rglob("*.py"))
    return [f for f in files if f.relative_to(ROOT).as_posix() not in SQL_OWNERS]


def _string_parts(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):  # an f-string: its literal text
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    return []


def sql_violations(source: str) -> list[str]:
    """What in one module's source breaks the rule, one line each (empty when it keeps it)."""
    tree = ast.parse(source)
    skipped = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    # An f-string's literal pieces are read through the f-string, not one by one.
    skipped |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if id(node) not in skipped:
            for text in _string_parts(node):
                if SQL_START.match(text):
                    found.append(f"line {node.lineno}: SQL statement {text.strip()[:40]!r}")
        if isinstance(node, ast.Attribute):
            if node.attr in EXECUTE_NAMES:
                found.append(f"line {node.lineno}: calls .{node.attr}()")
            elif node.attr in READER_PRIVATES and not (
                isinstance(node.value, ast.Name) and node.value.id == "self"
            ):
                found.append(f"line {node.lineno}: reaches into .{node.attr}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if "sqlite3" in names:
                found.append(f"line {node.lineno}: imports sqlite3")
    return found


def test_the_check_sees_what_it_must():
    bad = (
        "import sqlite3\n"
        "SQL = f\"SELECT id FROM calls WHERE x IN ({', '.join('?')})\"\n"
        "def f(reader, conn):\n"
        "    reader._query('BEGIN')\n"
        "    conn.execute('COMMIT')\n"
    )
    found = sql_violations(bad)
    assert len(found) == 6, found
    good = '"""SELECT is a word a docstring may use."""\nlabel = "Select a task"\nself_conn = 1\n'
    assert sql_violations(good) == []


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_sql_outside_store_reader_and_db(path: Path):
    assert sql_violations(path.read_text(encoding="utf-8")) == []
