"""Answer comparison: whether two answers are the same (trimmed, case-folded, numbers as numbers).

Used by the router to judge an answer against a reference and by the importer and the pair
builder to judge one model's answer against another's.
"""

from __future__ import annotations

import json
from typing import Any


def _normal_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text.strip().casefold()


def answers_match(answer: Any, reference: Any) -> bool:
    """Whether two answers are the same: trimmed, case-folded, numbers compared as numbers."""
    a, b = _normal_text(answer), _normal_text(reference)
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def json_answers_match(answer_json: str | None, other_json: str | None) -> bool:
    """``answers_match`` on two answers stored as JSON text (as the log stores them)."""
    if answer_json is None or other_json is None:
        return False
    return answers_match(_loads(answer_json), _loads(other_json))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # an answer stored as plain text
