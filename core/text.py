"""Text helpers shared by the router, the call log and the importers."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

# A fresh sha256 to copy: hashlib.sha256() looks its digest up by name in OpenSSL 3 on every call,
# which costs more than hashing a prompt; copying an existing context skips the lookup.
_SHA256 = hashlib.sha256()


def sha256_text(text: str) -> str:
    """Hex sha256 of the text's UTF-8 bytes (lone surrogates kept as they are, not an error)."""
    digest = _SHA256.copy()
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def valid_utf8(text: str) -> str:
    """The text as valid UTF-8 (what JSON and SQLite can carry): lone surrogates become U+FFFD."""
    if text.isascii():  # the common case, checked in C without encoding
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


# Answers are stored as JSON text; one encoder, since json.dumps with options builds a new one per call.
_ANSWER_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_json_str = json.encoder.encode_basestring  # what _ANSWER_JSON.encode does with a str


def dump_answer(answer: Any) -> str:
    """An answer as the log stores it: JSON text, keys sorted, non-ASCII kept as it is, except that a
    lone surrogate (valid JSON, invalid UTF-8) stays escaped."""
    # A label or a summary (a str) is most answers: the encoder's C string quoting, without its Python frame.
    text = _json_str(answer) if answer.__class__ is str else _ANSWER_JSON.encode(answer)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(answer, sort_keys=True)
    return text


# Control characters shown as what they are: C0 as their Unicode control pictures (ESC as ␛, CR as ␍,
# NUL as ␀), DEL as ␡, C1 (one-byte CSI \x9b, OSC \x9d…) as their Python escape, since they have none.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PICTURES = {
    **{code: chr(0x2400 + code) for code in range(0x20)},
    0x7F: "\u2421",
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},
}


def _picture(found: re.Match) -> str:
    return _PICTURES[ord(found.group())]


def visible(text: str, *, newlines: bool = True) -> str:
    """``text`` with every C0 and C1 control character shown instead of obeyed (ESC as ␛, CR as ␍,
    the one-byte CSI as ``\\x9b``), so text from data can never move the cursor, clear the screen,
    set a window title, write the clipboard (OSC 52) or hide a link (OSC 8). Tabs stay; newlines
    stay unless ``newlines`` is false (a one-line cell), then they show as ␊."""
    if (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).search(text) is None:  # most text: one C scan
        return text
    # Only the matches are replaced: str.translate with a dict maps every character (10x slower).
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_picture, text)


# Terminal control sequences, removed whole before a text is cut into words: CSI (ESC [ or the
# one-byte 0x9b, parameters, a final byte), OSC/DCS/APC/PM/SOS strings with their terminator (an
# unterminated one loses only its introducer, not the rest of the text), and any other ESC with the
# one character after it.
_CONTROL_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P_^X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\s\S]?"
)
_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def search_words(text: str | None) -> list[str]:
    """The words of ``text`` as the log's search sees them (``routermon logs -q``), on every backend.

    A word is a run of letters and digits (Unicode letters, marks dropped, and digits); anything
    else separates words. Before cutting: terminal control sequences are removed whole (so
    ``\\x1b[31mRED`` holds the word ``red``), the text is NFKC-normalised and case-folded, and
    accents are dropped (``É`` and ``e`` are one letter; ``İ`` is ``i``). ``invoice #4`` holds the
    words ``invoice`` and ``4``; ``A0`` is the one word ``a0``.
    """
    if not text:
        return []
    plain = _CONTROL_SEQUENCE.sub(" ", text) if "\x1b" in text or not text.isascii() else text
    if plain.isascii():  # the common case, the same words as below at a fraction of the cost
        return _ASCII_WORD.findall(plain.lower())
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", plain).casefold())
    unaccented = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(unicodedata.normalize("NFKC", unaccented))


def search_text(*texts: str | None) -> str:
    """The words of ``texts`` (``search_words``), space-separated: what the search index holds."""
    return " ".join(word for text in texts for word in search_words(text))
