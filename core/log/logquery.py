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
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ..errors import RoutermonError
from ..text import search_words

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w|wk)s?\s*$", re.IGNORECASE)
_SPAN_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
_SPAN_SECONDS |= {"day": 86400, "w": 604800, "wk": 604800}


# The times a person may name: a log holds no call before the epoch, and a day before the last one
# datetime can show keeps every local rendering and every next-midnight in range.
EARLIEST_TIME = 0.0
LATEST_TIME = datetime(9999, 12, 30, tzinfo=UTC).timestamp()
_RANGE_TEXT = "1970-01-01 to 9999-12-30"
MAX_COUNT = 2**63 - 1  # the largest LIMIT both backends take (a signed 64-bit integer)


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
    ``end_of_day`` the next midnight (so ``--until 2026-03-18`` takes in all of that day).
    A time outside ``EARLIEST_TIME``..``LATEST_TIME`` is a ``QueryError``."""
    span = _SPAN.match(text)
    if span:
        when = now - float(span.group(1)) * _SPAN_SECONDS[span.group(2).lower()]
    else:
        when = _moment_seconds(_moment(text), end_of_day)
    if when is None or not EARLIEST_TIME <= when <= LATEST_TIME:
        raise QueryError(
            f"{text!r} is outside the times routermon handles ({_RANGE_TEXT}): give a time in that range."
        )
    return when


def _moment(text: str) -> date | datetime:
    """The ISO date or datetime ``text`` names (a ``QueryError`` when it names none)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise QueryError(
            f"{text!r} is not a time: give an ISO date or datetime (2026-03-18, 2026-03-18T09:30, "
            "2026-03-18T09:30+01:00) or a span back from now (30m, 2h, 7d)."
        ) from None


def _moment_seconds(moment: date | datetime, end_of_day: bool) -> float | None:
    """Epoch seconds of ``moment`` (naive: local time), ``None`` past what datetime can represent."""
    try:
        if not isinstance(moment, datetime):
            day = moment + timedelta(days=1) if end_of_day else moment
            moment = datetime(day.year, day.month, day.day)
        if moment.tzinfo is None:
            moment = moment.astimezone()  # naive: the local time zone, as the table shows times
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        return None
