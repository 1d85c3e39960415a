"""The search index's rows, the same on both backends: each call's words (``text.search_words``)
computed here, in Python, from its stored input preview and answer.

SQLite keeps them in the FTS5 table ``calls_words`` (``db``), PostgreSQL in the table
``calls_words`` under a GIN index (``pg``); each backend's writer calls ``words_after`` for the rows
it has just inserted, and migration m008 calls ``index_existing_rows`` for the rows logged before.
"""

from __future__ import annotations

from collections.abc import Callable

from ..text import search_text

SEARCH_TABLE = "calls_words"
SOURCE_COLUMNS = ("input_preview", "answer")
REBUILD_BATCH = 5000


def words_after(conn, after_id: int, limit: int | None = None) -> list[tuple[int, str]]:
    """``(id, words)`` of the calls past ``after_id``, in id order (at most ``limit`` of them)."""
    sql = f"SELECT id, {', '.join(SOURCE_COLUMNS)} FROM calls WHERE id > ? ORDER BY id"
    params: tuple = (after_id,)
    if limit is not None:
        sql += " LIMIT ?"
        params = (after_id, limit)
    return [(row[0], search_text(*row[1:])) for row in conn.execute(sql, params).fetchall()]


def index_existing_rows(conn, store: Callable[[object, list[tuple[int, str]]], None]) -> None:
    """Index the words of every call already logged (migration m008's rebuild), a batch at a time."""
    after_id = 0
    while rows := words_after(conn, after_id, REBUILD_BATCH):
        store(conn, rows)
        after_id = rows[-1][0]
