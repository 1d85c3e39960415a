"""Text helpers shared by the router, the call log and the importers."""

from __future__ import annotations

import hashlib


def sha256_text(text: str) -> str:
    """Hex sha256 of the text's UTF-8 bytes (lone surrogates kept as they are, not an error)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def valid_utf8(text: str) -> str:
    """The text as valid UTF-8 (what JSON and SQLite can carry): lone surrogates become U+FFFD."""
    if text.isascii():  # the common case, checked in C without encoding
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text
