"""Answer comparison, by the kind of answer.

- **Labels** (short strings, numbers): equal after trimming and case-folding, numbers as numbers.
- **Structured answers** (JSON objects, as ``extract`` and any pydantic task give): field by field
  (``compare_fields``), with the normalisation a person would apply: whitespace and case for
  strings, numbers as numbers (amounts in their written forms too: ``"$1,234.50"`` is 1234.5),
  dates in their common written forms (``2026-03-05``, ``5 March 2026``, ``March 5, 2026``,
  ``05.03.2026``; ``03/05/2026`` may be either day or month first), and null equal to missing. Two
  structured answers agree when every field agrees.
- **Free text** (string answers of more than ``FREE_TEXT_WORDS`` words: summaries and custom
  ``str`` tasks): no comparison can say which is right; a judge (``judge.py``) or a person does.
  ``answers_agree`` still compares them exactly, which two real models almost never are.

Used by the router to judge an answer against a reference, by the importer, and by the pair
builder to compare one model's answer with another's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any, Literal

AnswerKind = Literal["label", "fields", "text"]
FREE_TEXT_WORDS = 5  # a string answer longer than this is free text, not a label

_SPACES = re.compile(r"\s+")


def _normal_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return _SPACES.sub(" ", text.strip()).casefold()


def answer_kind(*answers: Any) -> AnswerKind:
    """What kind of answers these are: ``fields`` if any is a JSON object, ``text`` if any is a
    string of more than ``FREE_TEXT_WORDS`` words, else ``label``."""
    if any(isinstance(a, dict) and a.get("$kind") == "text" for a in answers):
        return "text"  # a free-text answer kept only as a digest (``privacy.py``)
    if any(isinstance(a, dict) for a in answers):
        return "fields"
    if any(isinstance(a, str) and len(a.split()) > FREE_TEXT_WORDS for a in answers):
        return "text"
    return "label"


def answers_match(answer: Any, reference: Any) -> bool:
    """Whether two answers are the same: field by field for JSON objects, else trimmed,
    case-folded, with numbers compared as numbers."""
    if isinstance(answer, dict) and isinstance(reference, dict):
        return all(compare_fields(answer, reference).values())
    a, b = _normal_text(answer), _normal_text(reference)
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def correct_against_reference(answer: Any, reference: Any) -> bool | None:
    """Whether ``answer`` is right by a reference answer; ``None`` for free text, which a
    reference summary cannot settle by comparison (a judge or a person must)."""
    if reference is None:
        return None
    if answer is None:
        return False
    if answer_kind(answer, reference) == "text":
        return None
    return answers_match(answer, reference)


def json_answers_match(answer_json: str | None, other_json: str | None) -> bool:
    """``answers_match`` on two answers stored as JSON text (as the log stores them)."""
    if answer_json is None or other_json is None:
        return False
    return answers_match(loads_answer(answer_json), loads_answer(other_json))


def loads_answer(text: str | None) -> Any:
    """An answer as the log stores it (JSON text), as a value; plain text stays text."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # an answer stored as plain text


# -- field by field -------------------------------------------------------------------------------


def compare_fields(answer: dict, other: dict) -> dict[str, bool]:
    """For every field either answer has, whether the two agree (a missing field is null)."""
    keys = list(dict.fromkeys([*answer, *other]))
    return {key: values_agree(answer.get(key), other.get(key)) for key in keys}


def values_agree(a: Any, b: Any) -> bool:
    """Whether two field values mean the same, normalised as the module says."""
    if _is_blank(a) or _is_blank(b):
        return _is_blank(a) and _is_blank(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return all(compare_fields(a, b).values())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_agree(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return _normal_text(a) == _normal_text(b)
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-9)
    da, db = as_dates(a), as_dates(b)
    if da and db:
        return bool(da & db)
    return _normal_text(a) == _normal_text(b)


def _is_blank(value: Any) -> bool:
    return value is None or (
        isinstance(value, str) and value.strip().casefold() in ("", "null", "none", "n/a")
    )


_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$€£¥₹])\s*|\s*(?:[A-Z]{3}|[$€£¥₹])$")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([,.' ])\d{3})+(?:([.,])\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d{1,2}$")


def as_number(value: Any) -> float | None:
    """A number, or a string that writes one (``"1,234.50"``, ``"1.234,50"``, ``"$ 12"``,
    ``"12.5 EUR"``); ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = _CURRENCY.sub("", value.strip().upper()).strip()
    if _PLAIN_NUMBER.match(text):
        return float(text)
    grouped = _GROUPED.match(text)
    if grouped:
        group, decimal = grouped.group(1), grouped.group(2)
        if decimal == group:
            return None  # "1,234,5": not a written number
        body = text.replace(group, "")
        return float(body.replace(",", ".")) if decimal else float(body)
    if _DECIMAL_COMMA.match(text):
        return float(text.replace(",", "."))
    return None


_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def as_dates(value: Any) -> set[dt.date]:
    """The dates a string may write (two for ``03/05/2026``: day or month first); empty when it
    writes none."""
    if not isinstance(value, str):
        return set()
    text = _SPACES.sub(" ", value.strip().casefold())
    candidates: list[tuple[int, int, int]] = []
    if m := _ISO.match(text):
        candidates.append((int(m[1]), int(m[2]), int(m[3])))
    elif m := _NUMERIC.match(text):
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        if m[2] == ".":
            candidates.append((year, second, first))  # 05.03.2026: day first, as written in Europe
        else:
            candidates += [(year, first, second), (year, second, first)]
    elif (m := _DAY_MONTH.match(text)) and m[2] in _MONTHS:
        candidates.append((int(m[3]), _MONTHS[m[2]], int(m[1])))
    elif (m := _MONTH_DAY.match(text)) and m[1] in _MONTHS:
        candidates.append((int(m[3]), _MONTHS[m[1]], int(m[2])))
    dates = set()
    for year, month, day in candidates:
        try:
            dates.add(dt.date(year, month, day))
        except ValueError:
            continue
    return dates
