"""How deeply JSON from outside may nest: one limit and one check for every way in.

Every reader of the log recurses through an answer (``json.loads``, the comparison of two answers,
``--json`` output, PostgreSQL's ``jsonb``), and each has its own ceiling: Python's json parser stops
near 1,000 levels and a reader that is itself a few frames deep stops earlier. A value accepted near
one ceiling would make the log unreadable for another, so every way in (``import``,
``import-labels``, the router's parsed replies, the stand-in's request bodies, the gateway) refuses
JSON nested deeper than ``MAX_JSON_DEPTH``, far below all of them and far above any real answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_JSON_DEPTH = 64  # levels of arrays and objects; a scalar is depth 0, ``[1]`` depth 1


class NestedTooDeeply(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH`` (a ``ValueError``, as any other bad JSON)."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(f"JSON nested too deeply (more than {limit} levels)")
        self.limit = limit


def json_depth(value: Any) -> int:
    """How many levels of lists and dicts ``value`` has (iteratively, so any depth can be measured)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` itself if it nests at most ``limit`` levels; raises ``NestedTooDeeply`` otherwise."""
    if json_depth(value) > limit:
        raise NestedTooDeeply(limit)
    return value


def loads_within_depth(
    text: str | bytes, loads: Callable[[Any], Any] = json.loads, limit: int = MAX_JSON_DEPTH
) -> Any:
    """``loads(text)`` if the JSON nests at most ``limit`` levels. Raises ``NestedTooDeeply`` for
    deeper JSON (even JSON too deep for the parser itself) and the parser's ``ValueError`` for bad JSON."""
    try:
        value = loads(text)
    except RecursionError:
        raise NestedTooDeeply(limit) from None
    # Fewer brackets than the limit cannot nest deeper than it: two C-speed counts skip the walk.
    opening = ("[", "{") if isinstance(text, str) else (b"[", b"{")
    if text.count(opening[0]) + text.count(opening[1]) <= limit:
        return value
    return check_depth(value, limit)
