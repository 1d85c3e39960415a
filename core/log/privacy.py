"""What the log keeps of inputs and answers (``store_inputs``, ``store_answers``).

- ``store_inputs = "full" | "preview"``: the input (or its first ``preview_chars``) is stored, and
  ``input_sha256`` is the input's plain sha256.
- ``store_inputs = "none"``: no column holds the input, and ``input_sha256`` is an HMAC-SHA256 of
  it keyed with the log's own secret, so a short input ("yes", a customer id) cannot be found by
  hashing guesses. The secret is a file beside the log (``<log>.key``, mode 0600, made on first
  use): a copy of the log alone does not reveal it. Resuming a shadow run and deduplicating
  imports work with the same key; a log moved without its key starts new digests.
- ``store_answers = "none"``: answers that can repeat the input — free text (summaries) and
  structured answers (extractions) — are stored as keyed digests of their normalised form: a
  structured answer field by field (``{"vendor": "hmac:…", "total": "hmac:…"}``, null kept), so
  per-field agreement still works; free text as ``{"$digest": "hmac:…", "$kind": "text"}``, which
  only a judge run where the pair is made (``routermon shadow --judge``) can judge. Labels (one of
  a task's fixed labels) are kept: they never carry the input.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..compare import _is_blank, _normal_text, as_dates, as_number
from ..errors import DatabaseError
from ..location import PostgresLog, is_url
from ..text import sha256_text
from . import pg

KEY_SUFFIX = ".key"
DIGEST_KEY = "$digest"  # a free-text answer stored as a digest: {"$digest": "hmac:…", "$kind": "text"}


def key_path(db_path: Path | str) -> Path:
    return Path(str(db_path) + KEY_SUFFIX)


def has_key(db_path) -> bool:
    """Whether the log has its secret yet: ``<log>.key``, or a PostgreSQL log's ``_routermon_secret`` row."""
    if is_url(db_path):
        return pg.has_secret(PostgresLog(str(db_path)) if isinstance(db_path, str) else db_path)
    return key_path(db_path).exists()


def log_key(db_path) -> bytes:
    """The log's secret (32 random bytes), read from ``<log>.key`` or made there (0600); a
    PostgreSQL log keeps it in its database (``pg.log_secret``), for every host writing to it."""
    if is_url(db_path):
        log = db_path if isinstance(db_path, PostgresLog) else PostgresLog(str(db_path))
        return pg.log_secret(log, secrets.token_bytes(32))
    path = key_path(db_path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise DatabaseError(f"The key file {path} of the call log cannot be read ({exc}).") from None
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return log_key(db_path)
    except OSError as exc:
        raise DatabaseError(f"The key file {path} of the call log cannot be made ({exc.strerror}).") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


class Keeper:
    """Applies ``store_inputs`` / ``store_answers`` to what a writer logs.

    ``key`` is needed when either setting is ``"none"`` (``log_key``); without it the keeper
    stores as given and digests inputs with plain sha256.
    """

    def __init__(self, store_inputs: str = "preview", store_answers: str = "full", key: bytes | None = None):
        self.store_inputs = store_inputs
        self.store_answers = store_answers
        private = store_inputs == "none" or store_answers == "none"
        if private and key is None:
            raise ValueError("a key is needed to store digests")
        self._key = key if private else None

    @classmethod
    def for_log(cls, db_path: Path | str | None, store_inputs: str, store_answers: str = "full") -> Keeper:
        private = store_inputs == "none" or store_answers == "none"
        # With no log, nothing is stored: a key of this run's own keeps the digests unguessable.
        key = (
            log_key(db_path)
            if private and db_path is not None
            else (secrets.token_bytes(32) if private else None)
        )
        return cls(store_inputs, store_answers, key)

    def _hmac(self, text: str) -> str:
        assert self._key is not None
        return hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def input_digest(self, text: str, sha256: str | None = None) -> str:
        """``input_sha256`` for ``text``: its sha256, or its keyed HMAC when inputs are not stored."""
        if self.store_inputs == "none":
            return self._hmac(text)
        return sha256 or sha256_text(text)

    def answer(self, value: Any, kind: str) -> Any:
        """The answer as stored: itself, or (``store_answers = "none"``, free text and fields) digests."""
        if self.store_answers != "none" or kind == "label" or value is None:
            return value
        if kind == "text" and not isinstance(value, dict | list):
            return {DIGEST_KEY: "hmac:" + self._hmac("text:" + _normal_text(value))[:32], "$kind": "text"}
        return self._fields(value)

    def _fields(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._fields(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fields(v) for v in value]
        if _is_blank(value):
            return None
        return "hmac:" + self._hmac(canonical(value))[:32]


def canonical(value: Any) -> str:
    """A field value in the form ``compare.values_agree`` compares: two values that agree there
    give the same form here (except a date written with slashes, which may be two dates)."""
    if isinstance(value, bool):
        return f"bool:{str(value).lower()}"
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return f"bool:{value.strip().casefold()}"
    number = as_number(value)
    if number is not None:
        return f"num:{number!r}"
    dates = as_dates(value)
    if dates:
        return "date:" + ",".join(sorted(d.isoformat() for d in dates))
    if isinstance(value, str):
        return "text:" + _normal_text(value)
    return "json:" + json.dumps(value, sort_keys=True, ensure_ascii=False)


def is_digest(value: Any) -> bool:
    """Whether an answer is a free-text digest (``store_answers = "none"``)."""
    return isinstance(value, dict) and DIGEST_KEY in value
