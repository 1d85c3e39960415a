"""Text helpers shared by the router, the call log and the importers."""

from __future__ import annotations

import hashlib
import json
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
