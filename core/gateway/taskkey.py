"""A request's task: the app's ``x-routermon-task`` header, else a key from the call's shape.

The shape is what stays the same across the calls one code path makes, whatever the user wrote: the
system prompt with runs of digits and of whitespace normalised (a date or a count in it does not
make a new task), the sorted tool names, and the output format's schema. Its name is readable:
``auto:`` and the system prompt's first words (or the tool names), then a short hash of the shape so
two shapes that start alike stay two tasks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

TASK_HEADER = "x-routermon-task"
MAX_TASK_CHARS = 80
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
NAME_WORDS = 4


def system_text(system: Any) -> str:
    """The system prompt as text: a string, or the text of its blocks."""
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(
            b.get("text", "") for b in system if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""


def _shape(body: Mapping[str, Any]) -> tuple[str, list[str], Any]:
    system = _SPACE.sub(" ", _DIGITS.sub("0", system_text(body.get("system")))).strip()
    tools = sorted(t.get("name", "") for t in body.get("tools") or () if isinstance(t, dict))
    output = body.get("output_format") or (body.get("output_config") or {}).get("format")
    return system, tools, output


def task_key(body: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The task of one Messages API request (``body``: its parsed JSON)."""
    given = (headers.get(TASK_HEADER) or "").strip()
    if given:
        return given[:MAX_TASK_CHARS]
    system, tools, output = _shape(body)
    digest = hashlib.sha256(
        json.dumps([system, tools, output], sort_keys=True, default=str).encode("utf-8", "surrogatepass")
    ).hexdigest()[:6]
    words = _WORD.findall(system)[:NAME_WORDS]
    if words:
        name = " ".join(w.lower() for w in words)
    elif tools:
        name = "tools " + ",".join(tools)
    else:
        name = "no system prompt"
    return f"auto:{name[: MAX_TASK_CHARS - 14]} #{digest}"
