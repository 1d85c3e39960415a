"""Text helpers shared by the router, the call log and the importers."""

from __future__ import annotations

import hashlib

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
