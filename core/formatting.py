"""How numbers look to a reader: the one place money, shares, counts and times become text.

Every command, widget and the Markdown report format through this module, so a figure reads the same
wherever it appears. The rules, chosen for a reader who thinks in money:

- **Money** (``usd``): cents from one dollar up, with thousands separators (``$1,234.56``: monthly
  figures and budgets); below a dollar three significant digits and never fewer than two decimals
  (``$0.500``, ``$0.0123``, ``$0.000123``: per-call costs are fractions of a cent, and cutting them to
  cents would show ``$0.00``). Zero is ``$0.00``; negative amounts put the sign before the dollar
  (``-$1.20``). ``usd_short`` drops the cents from $10,000 up, for tight columns; ``usd_tick`` also drops
  trailing zeros past the cents, for chart axes (``$0.063``).
- **Shares** (``pct``): a share in [0, 1] as a percentage with one decimal (``12.5%``); an interval
  in a tight column as ``pct_range`` ("81–95%"), money with its share as ``usd_with_share``. A difference
  of accuracy is in percentage points (``points``: "1.0 point", "0.4 points"); a confidence level keeps
  only the decimals it has (``level``: "95%", "97.5%").
- **Counts** (``count``): thousands separators; ``count_short`` fits six cells (``10.4k``, ``1.2M``).
  ``plural`` puts the noun in the right number ("1 call", "2 calls"; ``noun`` the word alone,
  ``day_span`` days with their fraction); ``whole`` never shortens (a number a person edits).
- **Missing** figures are an em dash (``DASH``), never ``0``.
- **Shares typed by a person** (``parse_share``): "80%", "80" and "0.8" all mean 0.8. A number
  above 1 is a percent, one at or below 1 a share, and a trailing "%" always a percent, so the
  command line and the app's fields take the same text; figures are shown as percents.
- **JSON** (``json_text``): numbers are not rounded for display, but money (a key ending in ``_usd``,
  or anything under one) is rounded to 1e-9 USD so a figure exact in cents never prints as
  ``521.9999999999999``; infinities and NaN are refused, since strict JSON parsers reject them.
- **CSV cells** (``csv_cell``, for ``logs --csv``): a text that a spreadsheet would run as a formula
  (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, OWASP's "CSV Injection"
  list) gets a leading ``'``, which spreadsheets show as text; a NUL byte becomes ``␀`` (U+2400),
  since many readers stop at it. Numbers stay numbers. Quoting (RFC 4180: any cell holding a comma,
  a quote, a line feed or a bare carriage return) is the CSV writer's, with CRLF between rows.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any

_log = logging.getLogger("routermon")

DASH = "—"
# Escalation reasons, short enough for a table column.
REASON_SHORT = {
    "low_confidence": "low",
    "invalid_output": "invalid",
    "refusal": "refusal",
    "api_error": "error",
    "cheap_error": "error",  # the name logs written before api_error use
}
MONEY_DECIMALS = 9  # JSON money precision: 1e-9 USD, far below any price step
# Dollars from here up are written in scientific notation ($1.00e+308), not as hundreds of digits.
USD_SCIENTIFIC_FROM = 1e15
# How much of a text a person typed (a search) a message quotes back.
QUOTED_CHARS = 80


def usd(value: float | None) -> str:
    """Dollars: cents from $1 up ($1,234.56), three significant digits below ($0.0123)."""
    if value is None:
        return DASH
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= USD_SCIENTIFIC_FROM and math.isfinite(size):
        return f"{sign}${size:.2e}"
    if size >= 1 or size == 0:
        return f"{sign}${size:,.2f}"
    decimals = max(2, 2 - math.floor(math.log10(size)))
    text = f"{size:.{decimals}f}"
    if text.startswith("1.") or text == "1":  # rounding reached a dollar
        return f"{sign}${size:,.2f}"
    return f"{sign}${text}"


def clip(text: str, limit: int = QUOTED_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def quoted(text: str, limit: int = QUOTED_CHARS) -> str:
    """``text`` as a message quotes it (``repr``), cut to ``limit`` characters with an ellipsis."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({count(len(text))} characters)"


def usd_short(value: float | None) -> str:
    """Dollars in a tight column: whole dollars from $10,000 up, else as ``usd``."""
    if value is not None and 10_000 <= abs(value) < USD_SCIENTIFIC_FROM:
        return f"{'-' if value < 0 else ''}${abs(value):,.0f}"
    return usd(value)


def usd_tick(value: float) -> str:
    """Dollars on a chart axis: as ``usd_short`` without trailing zeros past the cents ($0.063)."""
    text = usd_short(value)
    if "." in text and len(text.split(".")[1]) > 2:
        text = text.rstrip("0")
    return text


def noun(n: float | int, word: str, plural_word: str | None = None) -> str:
    """The noun alone in the right number for ``n``: "task", "tasks"."""
    return word if n == 1 else (plural_word or word + "s")


def plural(n: float | int, word: str, plural_word: str | None = None) -> str:
    """``n`` and the noun in the right number: "1 call", "2 calls", "1,204 paired outcomes"."""
    return f"{count(n)} {noun(n, word, plural_word)}"


def day_span(days: float) -> str:
    """A number of days as given, fractions kept: "1 day", "2.5 days"."""
    return f"{days:g} {noun(days, 'day')}"


SHARE_HELP = "80, 80% and 0.8 all mean 80%"  # the rule of parse_share, for help texts


def parse_share(
    text: str | float, what: str = "The share", minimum: float = 0.0, maximum: float = 1.0
) -> float:
    """A share as a person types it: "80%" or "80" (above 1: a percent) or "0.8" (at or below 1: a
    share) all give 0.8; "1" is 100% and "1%" one percent. Raises ``ValueError`` with a sentence
    naming ``what`` when the text is not a number from ``minimum`` to ``maximum`` (shares)."""
    raw = str(text).strip().replace(",", "")
    percent = raw.endswith("%")
    try:
        number = float(raw.removesuffix("%").strip())
    except ValueError:
        raise ValueError(f"{what} must be a percent or a share ({SHARE_HELP}); got {text!r}.") from None
    share = number / 100 if percent or number > 1 else number
    if not (math.isfinite(share) and minimum <= share <= maximum):
        raise ValueError(
            f"{what} must be between {level(minimum)} and {level(maximum)} ({SHARE_HELP}); got {text!r}."
        )
    return share


def parse_number(
    text: str | float, what: str, minimum: float, maximum: float, *, above_minimum: bool = False
) -> float:
    """A finite number from ``minimum`` to ``maximum`` (above ``minimum`` with ``above_minimum``), as
    a person types it; the range keeps every figure computed from it finite. Raises ``ValueError``
    with a sentence naming ``what`` otherwise."""
    bound = "more than" if above_minimum else "from"
    rule = f"{what} must be a number {bound} {minimum:g} to {maximum:g}"
    try:
        number = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{rule}; got {str(text)[:40]!r}.") from None
    low_ok = number > minimum if above_minimum else number >= minimum
    if not (math.isfinite(number) and low_ok and number <= maximum):
        raise ValueError(f"{rule}; got {str(text)[:40]!r}.")
    return number


# DEL and the C1 controls, which json.dumps writes raw without ensure_ascii: outside a JSON string
# they cannot occur, so escaping them keeps the value exact and the terminal safe.
_RAW_CONTROLS = re.compile("[\x7f-\x9f]")


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as strict JSON for ``--json``: money rounded to 1e-9 USD. A number that is not finite
    (in a log written by an older routermon) is written as ``null``, with a warning saying where; every control character is escaped
    (``\\u009b``), so the text is safe to print."""
    not_finite: list[str] = []
    text = json.dumps(
        _money_rounded(data, False, "", not_finite), indent=indent, ensure_ascii=False, allow_nan=False
    )
    if not_finite:
        shown = ", ".join(not_finite[:3]) + (
            f" and {len(not_finite) - 3:,} more" if len(not_finite) > 3 else ""
        )
        _log.warning(
            "routermon: %s not finite (written by an older routermon?), written as null: %s.",
            plural(len(not_finite), "number is", "numbers are"),
            shown,
        )
    if _RAW_CONTROLS.search(text) is None:
        return text
    return _RAW_CONTROLS.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _money_rounded(value: Any, money: bool, where: str, not_finite: list[str]) -> Any:
    if isinstance(value, dict):
        # Inside a record with an id (a call), the id says which one.
        at = where
        if isinstance(value.get("id"), int | str) and not isinstance(value.get("id"), bool):
            at = f"{where} (id {value['id']})" if where else f"id {value['id']}"
        return {
            k: _money_rounded(v, money or str(k).endswith("_usd"), f"{at}.{k}" if at else str(k), not_finite)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_money_rounded(v, money, f"{where}[{i}]", not_finite) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        not_finite.append(f"{where or 'the value'} = {value}")
        return None
    if money and isinstance(value, float):
        return round(value, MONEY_DECIMALS)
    return value


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV export writes it: formula-looking text behind a ``'``, NUL as ``␀``."""
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "\u2400")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def pct(share: float | None, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    return DASH if share is None else f"{share * 100:.{decimals}f}%"


def pct_range(low: float, high: float, decimals: int = 0) -> str:
    """An interval of shares with one percent sign, for tight columns: "81–95%"."""
    return f"{low * 100:.{decimals}f}–{high * 100:.{decimals}f}%"


def usd_with_share(value: float | None, share: float | None) -> str:
    """Dollars and the share they are of something: "$410.00 (68.3%)"."""
    return f"{usd(value)} ({pct(share)})"


def given_share(value: float) -> str:
    """A share someone gave, for a message saying it is out of range: "150%", "-5%", "inf"."""
    return level(value) if math.isfinite(value) else str(value)


def points(share: float | None, decimals: int = 1) -> str:
    """A share of accuracy as percentage points: "1.0 point", "0.4 points"."""
    if share is None:
        return DASH
    text = f"{share * 100:.{decimals}f}"
    return f"{text} point" if float(text) == 1 else f"{text} points"


def level(share: float) -> str:
    """A confidence level as a percentage with only the decimals it has: "95%", "97.5%", "99.95%"."""
    return f"{share * 100:.2f}".rstrip("0").rstrip(".") + "%"


def count(value: float | int | None) -> str:
    """A count with thousands separators; millions and more shortened (1.2M)."""
    if value is None:
        return DASH
    if abs(value) >= 10_000_000:
        return f"{value / 1_000_000:.1f}M"
    return whole(value)


def whole(value: float | int) -> str:
    """A whole number with thousands separators, never shortened (a number a person edits); an int
    exactly, however large (a float would round 2**63 - 1)."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"


def count_short(value: float | int | None) -> str:
    """A count in at most six cells: 9,999 · 10.4k · 1.2M."""
    if value is None:
        return DASH
    if abs(value) < 10_000:
        return f"{value:,.0f}"
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.1f}M"


def escalation_basis(cascade_requests: int, shadow_requests: int) -> str:
    """What an escalation share rests on: "of 1,234 cascade requests; 310 shadow requests apart"."""
    text = f"of {plural(cascade_requests, 'cascade request')}"
    if shadow_requests:
        text += f"; {plural(shadow_requests, 'shadow request')} apart"
    return text


def ms(value: float | None) -> str:
    """Milliseconds, switching to seconds above ten seconds."""
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:,.0f} ms"


def ms_short(value: float | None) -> str:
    """Milliseconds in at most six cells: 637ms, 1.45s, 12.3s."""
    if value is None:
        return DASH
    if value < 1000:
        return f"{value:.0f}ms"
    if value < 10_000:
        return f"{value / 1000:.2f}s"
    return f"{value / 1000:.1f}s"


def tokens(value: float | None) -> str:
    """A token count in at most four cells below 10,000, shortened to k above."""
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}"


def short_model(model: str) -> str:
    """A model id without the vendor prefix (claude-haiku-4-5 -> haiku-4-5)."""
    return model.removeprefix("claude-")


def clock_time(ts: float) -> str:
    """HH:MM:SS in UTC."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M:%S")


def local_time(ts: float, *, utc: bool = False) -> str:
    """Epoch seconds as local time (or UTC) with its offset: ``2026-03-18 13:00:00+01:00``."""
    moment = datetime.fromtimestamp(ts, tz=UTC) if utc else datetime.fromtimestamp(ts).astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def bucket_label(ts: float, bucket_seconds: int, span_seconds: float = 0.0) -> str:
    """A chart axis label for a bucket start: the time for short buckets, the date for long ones,
    and both when the chart spans more than a day (``span_seconds``) in buckets shorter than one."""
    d = datetime.fromtimestamp(ts, tz=UTC)
    if bucket_seconds >= 86400:
        return d.strftime("%b %d")
    if span_seconds > 86400:
        return d.strftime("%b %d %H:00")
    if bucket_seconds < 3600:
        return d.strftime("%H:%M")
    return d.strftime("%H:00")
