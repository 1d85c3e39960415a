"""What ``routermon logs`` asks of the log: the filters, times typed by a person, and search text.

``CallFilters`` is what ``LogReader.search_calls`` takes. Times are epoch seconds (as stored);
``parse_when`` turns what a person types into one: an ISO date or datetime (local time unless it
names an offset) or a span back from now (``30m``, ``2h``, ``7d``, ``1w``, ``45s``). Search text is
literal by default: its words (``text.search_words``: runs of letters and digits, case and accents
folded, control sequences removed) must all be words of a call, on SQLite and PostgreSQL alike;
quotes, ``-``, ``*`` or ``[brackets]`` separate words and are never read as query syntax.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ..errors import RoutermonError
from ..text import search_words

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w|wk)s?\s*$", re.IGNORECASE)
_SPAN_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
_SPAN_SECONDS |= {"day": 86400, "w": 604800, "wk": 604800}


class QueryError(RoutermonError):
    """A filter value or search the log cannot be asked (a bad date, FTS5 syntax it rejects)."""


class CallFilters(BaseModel):
    """Which calls to list; every field left ``None`` matches every call.

    ``since`` is inclusive and ``until`` exclusive (epoch seconds). ``search`` is matched against
    the stored input preview and answer through the FTS5 index: literal words unless
    ``search_syntax`` is true, when it is FTS5 query syntax (``NEAR``, ``OR``, ``prefix*``).
    """

    model_config = ConfigDict(frozen=True)

    task: str | None = None
    model: str | None = None
    role: str | None = None
    reason: str | None = None
    request_id: str | None = None
    since: float | None = None
    until: float | None = None
    search: str | None = None
    search_syntax: bool = False

    def words(self) -> list[str] | None:
        """The words a literal ``search`` looks for (``None`` without a search, or with syntax)."""
        if self.search is None or self.search_syntax:
            return None
        return literal_words(self.search)

    def fts_query(self) -> str | None:
        """The FTS5 MATCH expression for ``search`` (``None`` without a search)."""
        if self.search is None:
            return None
        return self.search if self.search_syntax else fts_literal(self.search)


def literal_words(text: str) -> list[str]:
    """The words of a literal search (``text.search_words``); a text without one is a ``QueryError``."""
    words = search_words(text)
    if not words:
        raise QueryError(
            "The search text has no word to look for (a word is a run of letters or digits)."
            if text.strip()
            else "The search text is empty: give a word to look for."
        )
    return words


def fts_literal(text: str) -> str:
    """``text`` as an FTS5 query matching its words literally, all of them (each a quoted phrase)."""
    return " ".join('"' + word + '"' for word in literal_words(text))


def parse_when(text: str, now: float, *, end_of_day: bool = False) -> float:
    """Epoch seconds for ``text``: a span back from ``now`` (``2h``, ``30m``, ``7d``) or an ISO date
    or datetime, local time unless it carries an offset. A bare date is its local midnight, or with
    ``end_of_day`` the next midnight (so ``--until 2026-03-18`` takes in all of that day)."""
    span = _SPAN.match(text)
    if span:
        return now - float(span.group(1)) * _SPAN_SECONDS[span.group(2).lower()]
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end_of_day:
                day += timedelta(days=1)
            return datetime(day.year, day.month, day.day).astimezone().timestamp()
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise QueryError(
            f"{text!r} is not a time: give an ISO date or datetime (2026-03-18, 2026-03-18T09:30, "
            "2026-03-18T09:30+01:00) or a span back from now (30m, 2h, 7d)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive: the local time zone, as the table shows times
    return moment.timestamp()
